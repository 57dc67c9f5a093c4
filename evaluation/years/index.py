"""The index page ``outputs/index.html``: every year with its tier counts and links, and the comparisons.

It describes what is on disk: each year's numbers come from the
``summary.json`` written beside its report, so a year whose last run failed
shows its previous report, with a note saying so.  The page is self-contained
(the report's stylesheet inlined, no script) and written atomically; its
template is ``report/templates/fragments/index/page.html.j2``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..files import write_whole
from ..report.build import SUMMARY, TEMPLATES
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


def _tier(tier: Mapping[str, str]) -> dict[str, str]:
    """A tier of a summary, checked as the rules check it, for the ``badge`` macro."""
    from ..inputs.rules import Tier
    from ..report.present import tier_data

    return tier_data(Tier(id=tier["id"], name=tier["name"], short=tier["short"], color=tier["color"], min=0))


def _same_tiers(entries: list[YearEntry]) -> list[dict] | None:
    tiers = [[(t["id"], t["short"]) for t in e.summary["tiers"]] for e in entries if e.summary]
    if tiers and all(t == tiers[0] for t in tiers):
        return next(e.summary["tiers"] for e in entries if e.summary)
    return None


def _year(entry: YearEntry, common: list[dict] | None) -> dict[str, object]:
    """One row of the years' table: the year, its report's title and state, its counts."""
    s = entry.summary
    row = {"id": entry.id, "year": (s or {}).get("year", entry.id), "illustrative": bool((s or {}).get("illustrative")),
           "failed": bool(entry.failed), "has_report": entry.has_report, "summary": s is not None}
    if s is not None:
        totals = {t: c["total"] for t, c in s["counts"].items()}
        row.update(title=s["title"], units=s["units"], counts=[totals[t["id"]] for t in common or []],
                   tiers=[{**_tier(t), "count": totals[t["id"]]} for t in s["tiers"]])
    return row


def _comparisons(out_root: Path) -> list[dict[str, str]]:
    """The comparisons on disk, with their years and the pairs of years whose rules differ."""
    folder = Path(out_root) / COMPARE_DIR
    found = sorted(p.parent.name for p in folder.glob("*/compare.html")) if folder.is_dir() else []
    out = []
    for name in found:
        path = folder / name / SUMMARY
        about = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        out.append({"name": name, "years": ", ".join(about.get("labels", [])) or name,
                    "differ": "; ".join(f"{a} và {b}" for a, b in about.get("rules_differ", []))})
    return out


def index_html(out_root: Path, entries: list[YearEntry], *, compare_failed: str = "") -> str:
    """The whole page as text (deterministic for the same entries and folders).

    The issuing body is the latest year's (from its summary).
    """
    from markupsafe import Markup

    from ..report.render import render

    latest = [e.summary for e in entries if e.summary and e.summary.get("issuer")]
    parent, body = latest[-1]["issuer"] if latest else ("", "")
    common = _same_tiers(entries)
    if common:
        widths = [9, 100 - 9 - 9 * len(common) - 8, *[9] * len(common), 8]
    else:
        widths = [9, 56, 27, 8]
    page = render("index/page.html.j2", version=__version__,
                  # Our own stylesheet, not data: inlined as it is (escaping would break its selectors).
                  css=Markup(STYLESHEET.read_text(encoding="utf-8")),
                  issuer_parent=parent, issuer=body,
                  common=[_tier(t) for t in common or []],
                  numeric=list(range(2, 3 + (len(common) if common else 1))), widths=widths,
                  years=[_year(e, common) for e in entries],
                  compare_failed=compare_failed, compare_dir=COMPARE_DIR, comparisons=_comparisons(out_root))
    return page + "\n"   # a text file ends with a line break


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
    write_whole(out_root / INDEX, html.encode("utf-8"), mode=0o644)
    return out_root / INDEX
