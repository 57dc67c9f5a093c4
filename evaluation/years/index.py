"""The index page ``outputs/index.html``: every year with its tier counts and links, and the comparisons.

It describes what is on disk: each year's numbers come from the
``summary.json`` written beside its report, so a year whose last run failed
shows its previous report, with a note saying so.  The page is self-contained
(the report's stylesheet inlined, no script) and written atomically.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..fmt import count
from ..inputs.rules import Tier
from ..report.build import SUMMARY, TEMPLATES
from ..report.present import _e, _table, tier_badge
from .build_compare import COMPARE_DIR

__all__ = ["YearEntry", "read_entries", "index_html", "write_index", "INDEX"]

INDEX = "index.html"
STYLESHEET = TEMPLATES / "report" / "static" / "report.css"


@dataclass(frozen=True)
class YearEntry:
    """One year on the index: its params id, its summary and this run's outcome.

    ``summary`` is None when the folder has no ``summary.json`` (no report, or one
    made before summaries existed: ``has_report`` tells).  ``failed`` holds the
    message of this run's failure, empty when it succeeded or did not run.
    """

    id: str
    summary: dict | None
    failed: str = ""
    has_report: bool = False

    @property
    def sort_key(self) -> tuple[int, str]:
        if self.summary:
            return int(self.summary["year"]), self.id
        digits = re.search(r"\d{4}", self.id)   # a year with no summary: its year from its name
        return (int(digits.group()) if digits else 0), self.id


def read_entries(out_root: Path, ids: Sequence[str],
                 failed: Mapping[str, str] | None = None) -> list[YearEntry]:
    """The entries of ``ids`` with the summaries found in ``out_root/<id>/summary.json``."""
    failed = failed or {}
    entries = []
    for year_id in ids:
        path = Path(out_root) / year_id / SUMMARY
        summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        has_report = (Path(out_root) / year_id / "report.html").is_file()
        entries.append(YearEntry(year_id, summary, failed.get(year_id, ""), has_report))
    return sorted(entries, key=lambda e: e.sort_key)


def _badge(tier: Mapping[str, str]) -> str:
    model = Tier(id=tier["id"], name=tier["name"], short=tier["short"], color=tier["color"], min=0)
    return tier_badge(model, short=True)


def _links(entry: YearEntry) -> str:
    files = [("report.html", "HTML"), ("report.pdf", "PDF"), ("results.csv", "CSV"), ("results.xlsx", "Excel")]
    return " · ".join(f'<a href="{_e(entry.id)}/{name}">{label}</a>' for name, label in files)


def _year_cell(entry: YearEntry) -> str:
    s = entry.summary or {}
    text = f"<strong>{_e(s.get('year', entry.id))}</strong>"
    if s.get("illustrative"):
        text += '<br><span class="muted">(minh họa)</span>'
    return text


def _status(entry: YearEntry) -> str:
    if entry.failed and entry.has_report:
        return ('<br><span class="unconfirmed">Lần lập gần nhất bị lỗi; đây là báo cáo lập trước đó.</span>')
    if entry.failed:
        return '<br><span class="unconfirmed">Chưa lập được báo cáo (xem thông báo lỗi).</span>'
    return ""


def _same_tiers(entries: list[YearEntry]) -> list[dict] | None:
    tiers = [[(t["id"], t["short"]) for t in e.summary["tiers"]] for e in entries if e.summary]
    if tiers and all(t == tiers[0] for t in tiers):
        return next(e.summary["tiers"] for e in entries if e.summary)
    return None


def _years_table(entries: list[YearEntry]) -> str:
    common = _same_tiers(entries)
    rows = []
    for e in entries:
        s = e.summary
        if s is None:
            blank = [""] * (len(common) if common else 1)
            if e.has_report:
                rows.append([_year_cell(e), f"<em>báo cáo lập bằng phiên bản trước, không có số liệu tổng hợp</em>"
                             f"{_status(e)}", *blank, "", _links(e)])
            else:
                rows.append([_year_cell(e), f"<em>chưa có báo cáo</em>{_status(e)}", *blank, "", ""])
            continue
        totals = {t: c["total"] for t, c in s["counts"].items()}
        title = f"{_e(s['title'])}{_status(e)}"
        if common:
            cells = [count(totals[t["id"]]) for t in common]
        else:
            cells = ["<br>".join(f"{_badge(t)} {count(totals[t['id']])}" for t in s["tiers"])]
        rows.append([_year_cell(e), title, *cells, f"<strong>{count(s['units'])}</strong>", _links(e)])
    if common:
        tier_heads = [_badge(t) for t in common]
        widths = [9, 100 - 9 - 9 * len(common) - 8 - 20, *[9] * len(common), 8, 20]
    else:
        tier_heads = ["Xếp loại"]
        widths = [9, 36, 27, 8, 20]
    numeric = range(2, 3 + len(tier_heads))
    note = "" if common else " (các năm áp dụng các mức xếp loại khác nhau)"
    return _table(["Năm", "Báo cáo", *tier_heads, "Số đơn vị", "Tệp"], rows, cls="index-years",
                  numeric=numeric, widths=widths,
                  caption=f"Số cơ quan, đơn vị theo mức xếp loại của từng năm{note}")


def _comparisons(out_root: Path, failed: str) -> str:
    folder = Path(out_root) / COMPARE_DIR
    found = sorted(p.parent.name for p in folder.glob("*/compare.html")) if folder.is_dir() else []
    parts = []
    if failed:
        parts.append(f'<p class="unconfirmed">Lần lập báo cáo so sánh gần nhất bị lỗi: {_e(failed)}</p>')
    if not found:
        parts.append("<p>Chưa có báo cáo so sánh: cần ít nhất hai năm có dữ liệu hợp lệ.</p>")
        return "\n".join(parts)
    items = []
    for name in found:
        path = folder / name / SUMMARY
        about = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        years = ", ".join(about.get("labels", [])) or name
        differ = "; ".join(f"{a} và {b}" for a, b in about.get("rules_differ", []))
        note = f' <span class="muted">(quy định khác nhau giữa năm {_e(differ)})</span>' if differ else ""
        links = " · ".join(f'<a href="{COMPARE_DIR}/{_e(name)}/{f}">{label}</a>'
                           for f, label in (("compare.html", "HTML"), ("compare.pdf", "PDF"), ("changes.csv", "CSV")))
        items.append(f"<li>Các năm {_e(years)}: {links}{note}</li>")
    items = "".join(items)
    parts.append(f"<ul>{items}</ul>")
    return "\n".join(parts)


def index_html(out_root: Path, entries: list[YearEntry], *, compare_failed: str = "") -> str:
    """The whole page as text (deterministic for the same entries and folders).

    The issuing body is the latest year's (from its summary).
    """
    css = STYLESHEET.read_text(encoding="utf-8")
    latest = [e.summary for e in entries if e.summary and e.summary.get("issuer")]
    parent, body = latest[-1]["issuer"] if latest else ("", "")
    head = ""
    if parent or body:
        head = (f'<table class="doc-head"><tr><td class="issuer"><div>{_e(parent)}</div>'
                f'<div class="strong underline">{_e(body)}</div></td><td></td></tr></table>')
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="evaluation {_e(__version__)}">
<title>Kết quả đánh giá, xếp loại mức độ hoàn thành nhiệm vụ qua các năm</title>
<style>
{css}
</style>
</head>
<body>
<main class="report">
{head}
<h1 class="doc-title">KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI MỨC ĐỘ HOÀN THÀNH NHIỆM VỤ QUA CÁC NĂM</h1>
<h2>Báo cáo từng năm</h2>
{_years_table(entries)}
<p class="muted">Mỗi báo cáo có bản HTML (xem trên máy tính, điện thoại), bản PDF (khổ A4, để in) và bảng kết quả
(CSV, Excel). Năm ghi «minh họa» dùng dữ liệu minh họa, không phải kết quả đánh giá thật.</p>
<h2>So sánh qua các năm</h2>
{_comparisons(out_root, compare_failed)}
<p class="muted">Lập bằng công cụ <code>evaluation {_e(__version__)}</code>.</p>
</main>
</body>
</html>
"""


def write_index(out_root: Path | str, ids: Sequence[str], *, failed: Mapping[str, str] | None = None,
                compare_failed: str = "") -> Path:
    """Write ``out_root/index.html`` atomically (a temporary file renamed over the old page).

    Parameters
    ----------
    ids : sequence of str
        The params ids of the years to list (sorted by year on the page).
    failed : mapping of str to str, optional
        Years whose build failed in this run, with the message.
    compare_failed : str
        The message when the comparison failed in this run.
    """
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    html = index_html(out_root, read_entries(out_root, ids, failed), compare_failed=compare_failed)
    fd, tmp = tempfile.mkstemp(prefix=".index.", suffix=".html", dir=out_root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_root / INDEX)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_root / INDEX
