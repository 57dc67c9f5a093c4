"""The comparison report's content as HTML fragments, built from a :class:`~evaluation.years.compare.Comparison`.

Same conventions as :mod:`evaluation.report.present` (whose table and badge helpers
it uses): every text from an input is escaped, numbers are written the
Vietnamese way.  Wherever the rules of two compared years differ, the numbers
that depend on them carry a mark (†) and the note says what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import pandas as pd

from .. import __version__
from ..fmt import count, number
from ..inputs.rules import Rules
from ..report.present import _e, _table, tier_badge
from .compare import CHANGE_WORDS, GONE, NEW, Comparison, YearPair, year_label

__all__ = ["title_block", "years_table", "comparability", "change_tables", "transition_tables",
           "gap_table", "unit_changes_list", "notes", "provenance", "MARK", "CHANGE_NAMES"]

MARK = "†"
CHANGE_NAMES = CHANGE_WORDS
_NOT_COMPARABLE = "Quy định hai năm khác nhau: điểm và xếp loại không hoàn toàn so sánh được"


def _mark(pair: YearPair) -> str:
    return "" if pair.comparable else f'<sup class="unconfirmed" title="{_NOT_COMPARABLE}">{MARK}</sup>'


def _pair_title(pair: YearPair) -> str:
    a, b = pair.labels
    return f"Năm {_e(a)} so với năm {_e(b)}"


def _group_name(pair: YearPair, group: str) -> str:
    for rules in (pair.b.rules, pair.a.rules):
        if group in rules.group_ids:
            g = rules.group(group)
            return f"{_e(g.numeral)}. {_e(g.name)}"
    return _e(group)


def _tier(rules: Rules, tier: object) -> str:
    if tier is None or tier is pd.NA or (isinstance(tier, float) and tier != tier):
        return ""
    return tier_badge(rules.tier(str(tier)), short=True)


# -- title -------------------------------------------------------------------------------------


def illustrative_banner(cmp: Comparison) -> str:
    shown = [year_label(ev) for ev in cmp.years if ev.params.params.illustrative]
    if not shown:
        return ""
    return ('<div class="illustrative-banner">DỮ LIỆU MINH HỌA — năm ' + _e(", ".join(shown))
            + " không phải kết quả đánh giá thật; chỉ dùng để thử và hướng dẫn sử dụng công cụ.</div>")


def title_block(cmp: Comparison) -> str:
    """The heading, as the yearly report's: issuing body (of the latest year), motto, title."""
    r = cmp.years[-1].params.params.report
    years = ", ".join(_e(label) for label in cmp.labels)
    return f"""{illustrative_banner(cmp)}<header class="doc-header">
<table class="doc-head"><tr>
<td class="issuer"><div>{_e(r.issuer_parent)}</div><div class="strong underline">{_e(r.issuer)}</div></td>
<td class="motto"><div class="strong">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</div>
<div class="strong underline">Độc lập - Tự do - Hạnh phúc</div></td>
</tr></table>
<h1 class="doc-title">SO SÁNH QUA CÁC NĂM</h1>
<p class="doc-subtitle">Kết quả đánh giá, xếp loại mức độ hoàn thành nhiệm vụ các năm {years}</p>
</header>"""


# -- the years and their rules -----------------------------------------------------------------


def years_table(cmp: Comparison) -> str:
    """One row per year: its data, its rules, how many units, how many in each tier."""
    rows = []
    for ev in cmp.years:
        counts = ev.counts["total"]
        tiers = "<br>".join(f"{tier_badge(t, short=True)} {count(counts[t.id])}" for t in ev.rules.tiers)
        data = "minh họa" if ev.params.params.illustrative else "thật"
        rows.append([_e(year_label(ev)), data, f"{_e(ev.rules.name)} <code>{_e(ev.rules.id)}</code>",
                     count(len(ev.ranked)), tiers])
    return _table(["Năm", "Dữ liệu", "Quy định áp dụng", "Số đơn vị", "Xếp loại"], rows, cls="years",
                  numeric=(3,), widths=(14, 10, 40, 10, 26), caption="Các năm được so sánh")


def comparability(cmp: Comparison) -> str:
    """For each pair of years: whether their rules match, and if not, what differs."""
    parts = []
    for pair in cmp.pairs:
        a, b = pair.labels
        if pair.comparable:
            parts.append(f"<p>Năm {_e(a)} và năm {_e(b)} áp dụng cùng các mức xếp loại, ngưỡng, thang "
                         "điểm và cách làm tròn: điểm và xếp loại so sánh trực tiếp được.</p>")
            continue
        items = "".join(f"<li>{_e(d)}</li>" for d in pair.differences)
        parts.append(f'<div class="caution"><p><strong>{MARK} Quy định năm {_e(a)} và năm {_e(b)} khác nhau'
                     f"</strong> — điểm và xếp loại của hai năm không hoàn toàn so sánh được; các số liệu "
                     f"liên quan được đánh dấu {MARK}:</p><ul>{items}</ul></div>")
    return "\n".join(parts)


# -- per unit ----------------------------------------------------------------------------------


def _signed(value: object, decimals: int) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    text = number(value, decimals)
    return ("+" + text) if float(value) > 0 else text


def _rank_text(row: pd.Series) -> str:
    ra, rb = row["rank_a"], row["rank_b"]
    shown = [("" if pd.isna(r) else str(int(r))) for r in (ra, rb)]
    if pd.isna(row["delta_rank"]):
        return "&nbsp;→ ".join(s or "–" for s in shown)
    delta = int(row["delta_rank"])
    moved = f" (+{delta})" if delta > 0 else (f" ({delta})" if delta < 0 else "")
    return f"{shown[0]}&nbsp;→ {shown[1]}{moved}"


def _lineage_note(row: pd.Series, pair: YearPair) -> str:
    change = row["change"]
    if change == "same":
        return ""
    if change == "renamed":
        return f"đổi tên, năm {_e(pair.labels[0])} là {_e(row['unit_a'])}"
    if change in ("merged", "split"):
        return f"{CHANGE_NAMES[change]}: {_e(row['unit_a'])} → {_e(row['unit_b'])}"
    if change in ("absorbed", "dissolved", "formed"):
        return _e(row["note"])
    return f"{CHANGE_NAMES[change]} năm {_e(pair.labels[1] if change == NEW else pair.labels[0])}"


def _tier_text(row: pd.Series, pair: YearPair, mark: str) -> str:
    """Both years' tiers; a tier that did not change (same tiers in both years) is shown once."""
    a, b = _tier(pair.a.rules, row["tier_a"]), _tier(pair.b.rules, row["tier_b"])
    if row["change"] not in ("same", "renamed"):
        return f"{a} → {b}" if a and b else (a or b)
    if row["tier_move"] == "same":
        return b + mark
    arrow = {"up": " ↑", "down": " ↓"}.get(str(row["tier_move"]), "")  # none when the tiers differ
    return f"{a} → {b}{arrow}{mark}"


def change_tables(cmp: Comparison) -> str:
    """Each pair of years: per group, every unit's scores, rank and tier in both years."""
    out = []
    for pair in cmp.pairs:
        a, b = pair.labels
        da, db = pair.a.rules.precision.decimals, pair.b.rules.precision.decimals
        mark = _mark(pair)
        out.append(f"<h3>{_pair_title(pair)}</h3>")
        changes = pair.changes
        for group in pd.unique(changes["group"]):
            part = changes[changes["group"] == group]
            rows = []
            for _, row in part.iterrows():  # presentation of at most a few dozen rows
                followed = row["change"] in ("same", "renamed")
                delta = _signed(row["delta_score"], max(da, db))
                note = _lineage_note(row, pair)
                rows.append([
                    _e(row["unit"]) + (f'<br><span class="muted italic">{note}</span>' if note else ""),
                    number(row["score_a"], da), number(row["score_b"], db),
                    (delta + mark) if followed and delta else delta,
                    _rank_text(row),
                    _tier_text(row, pair, mark),
                ])
            out.append(_table(["Đơn vị", f"Điểm {_e(a)}", f"Điểm {_e(b)}", "Thay đổi", "Thứ hạng",
                               "Xếp loại"], rows, cls="changes", numeric=(1, 2, 3),
                              widths=(31, 11, 11, 11, 15, 21),
                              caption=f"{_group_name(pair, group)} — năm {_e(a)} → năm {_e(b)}"
                              + (f" ({MARK} {_NOT_COMPARABLE.lower()})" if not pair.comparable else "")))
    return "\n".join(out)


def transition_tables(cmp: Comparison) -> str:
    """Tier transition counts (from × to) per group and in total, for each pair of years."""
    out = []
    for pair in cmp.pairs:
        a, b = pair.labels
        ra, rb = pair.a.rules, pair.b.rules
        out.append(f"<h3>{_pair_title(pair)}</h3>")
        header = [f"Năm {_e(a)} \\ năm {_e(b)}", *[tier_badge(t, short=True) for t in rb.tiers],
                  "Không còn", "Tổng"]
        for key, table in pair.transitions.items():
            rows = []
            for tier_id in table.index:
                label = "<em>Mới</em>" if tier_id == NEW else tier_badge(ra.tier(tier_id), short=True)
                values = table.loc[tier_id]
                cells = [f"<strong>{v}</strong>" if (tier_id == col and v) else str(v)
                         for col, v in values.items()]
                rows.append([label, *cells, str(int(values.sum()))])
            totals = table.sum(axis=0)
            rows.append(["<strong>Tổng</strong>", *[f"<strong>{v}</strong>" for v in totals],
                         f"<strong>{int(totals.sum())}</strong>"])
            name = "Tất cả các nhóm" if key == "total" else _group_name(pair, key)
            n = len(table.columns) + 2
            rest = 78 // (n - 1)
            out.append(_table(header, rows, cls="transitions", numeric=range(1, n),
                              widths=[100 - rest * (n - 1)] + [rest] * (n - 1),
                              caption=f"{name}: số đơn vị theo mức xếp loại năm {_e(a)} (dòng) và năm {_e(b)} "
                              f"(cột){' ' + _mark(pair) if not pair.comparable else ''}"))
        excluded = pair.changes[pair.changes["change"].isin(["merged", "split"])]
        if len(excluded):
            out.append(f"<p class='muted'>Không tính vào bảng: {count(excluded['id_a'].nunique())} đơn vị "
                       "năm trước sáp nhập hoặc chia tách (xem mục 5).</p>")
    return "\n".join(out)


# -- across all years --------------------------------------------------------------------------


def gap_table(cmp: Comparison, top: int) -> str:
    """The units whose self score exceeded the appraisal most, year after year."""
    gaps = cmp.gaps
    if gaps.empty:
        return "<p>Không có điểm tự chấm để so sánh.</p>"
    head = gaps.head(top)
    labels = cmp.labels
    names = {}
    for ev in cmp.years:
        names.update({g.id: g.numeral for g in ev.rules.groups})
    rows = [[str(n), _e(row["unit"]), _e(names.get(row["group"], row["group"])),
             *[number(row[label], 1, max_decimals=2) for label in labels],
             number(row["mean_gap"], 1, max_decimals=2), f"{row['years_in_top']}/{row['years']}"]
            for n, (_, row) in enumerate(head.iterrows(), start=1)]
    n = len(labels)
    return _table(["#", "Đơn vị", "Nhóm", *[_e(label) for label in labels], "Trung bình", "Số năm ở nhóm đầu"],
                  rows, cls="gaps", numeric=range(3, 5 + n),
                  widths=[6, 100 - 6 - 8 - 10 * n - 11 - 12, 8, *[10] * n, 11, 12],
                  caption=f"Điểm tự chấm trừ điểm đánh giá, từng năm và trung bình: {count(len(head))} đơn vị "
                  f"chênh lệch trung bình lớn nhất. Nhóm đầu: {count(top)} đơn vị chênh lệch lớn nhất của "
                  "một năm.")


def unit_changes_list(cmp: Comparison) -> str:
    """Units renamed, merged, split, new or gone between each pair of years (from the registry)."""
    out = []
    for pair in cmp.pairs:
        changes = pair.changes[pair.changes["change"] != "same"]
        if changes.empty:
            out.append(f"<p>{_pair_title(pair)}: không có đơn vị nào đổi tên, sáp nhập, chia tách, thêm mới "
                       "hay không còn.</p>")
            continue
        items = []
        for _, row in changes.iterrows():
            kind = CHANGE_NAMES[row["change"]]
            if row["change"] == NEW:
                items.append(f"<li>{_e(row['unit_b'])}: {kind} (chỉ có năm {_e(pair.labels[1])})</li>")
            elif row["change"] == GONE:
                items.append(f"<li>{_e(row['unit_a'])}: {kind} (chỉ có năm {_e(pair.labels[0])})</li>")
            else:
                items.append(f"<li>{_e(row['unit_a'])} → {_e(row['unit_b'])}: {kind}</li>")
        out.append(f"<p>{_pair_title(pair)}:</p><ul>{''.join(items)}</ul>")
    out.append("<p class='muted'>Đơn vị đổi tên được theo dõi liên tục (điểm, thứ hạng, xếp loại so sánh "
               "trực tiếp); đơn vị sáp nhập, chia tách được nêu cả hai phía nhưng không tính chênh lệch.</p>")
    return "\n".join(out)


def notes(cmp: Comparison) -> str:
    """What the reader should know: illustrative years, unconfirmed rule values, each year's source."""
    parts = []
    for ev in cmp.years:
        items = []
        if ev.params.params.illustrative:
            items.append("dữ liệu minh họa, không phải kết quả đánh giá thật")
        unconfirmed = ev.rules.unconfirmed()
        if unconfirmed:
            items.append(f"quy định có {count(len(unconfirmed))} giá trị chưa được xác nhận bằng văn bản gốc "
                         "(xem báo cáo của năm)")
        if ev.params.params.report.source_note:
            items.append(_e(ev.params.params.report.source_note))
        if items:
            parts.append(f"<li>Năm {_e(year_label(ev))}: {'; '.join(items)}.</li>")
    return f"<ul>{''.join(parts)}</ul>" if parts else "<p>Không có ghi chú.</p>"


def provenance(cmp: Comparison, parameters: Mapping[str, object]) -> str:
    """SHA-256 of every input of every year, the package version and the run's parameters."""
    rows = []
    for ev in cmp.years:
        prov = ev.provenance
        rows += [[_e(year_label(ev)), _e(r), f"<code>{_e(f)}</code>", f'<code class="hash">{_e(h)}</code>']
                 for r, f, h in zip(prov["role"], prov["file"], prov["sha256"], strict=True)]
    params = "".join(f"<li><code>{_e(k)}</code> = <code>{_e(v)}</code></li>" for k, v in parameters.items())
    return (_table(["Năm", "Vai trò", "Tệp", "SHA-256"], rows, cls="provenance", widths=(10, 12, 34, 44))
            + f"<p>Phiên bản công cụ: <code>evaluation {escape(__version__)}</code>.</p>"
            + f"<p>Tham số lần chạy:</p><ul>{params}</ul>")
