"""The report's content as HTML fragments, built from an :class:`~evaluation.engine.pipeline.Evaluation`.

The report notebook displays these fragments; nbconvert places them in the
page.  Every piece of text that comes from an input (unit names, notes,
rules) is escaped here, so a name such as ``<script>`` is printed, never run.
Numbers are written the Vietnamese way (decimal comma) through :mod:`evaluation.fmt`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

import pandas as pd

from .. import __version__
from ..engine.pipeline import Evaluation
from ..engine.summarise import group_gaps, near_bounds, unit_gaps
from ..fmt import count, fmt_bound, number, numbers, tint
from ..inputs.rules import Rules, Tier

__all__ = [
    "title_block", "illustrative_banner", "method", "summary", "group_tables", "gap_table",
    "group_gap_table", "near_bound_table", "notes", "provenance", "closing", "tier_badge",
]

UNCONFIRMED_MARK = "*"
UNCONFIRMED_NOTE = ("Giá trị chưa được xác nhận bằng văn bản gốc (giá trị mặc định, ghi "
                    "<code>confirmed: false</code> trong tệp quy định).")


def _e(value: object) -> str:
    return escape("" if value is None or (isinstance(value, float) and value != value) else str(value))


def tier_badge(tier: Tier, *, short: bool = False, mark: str = "") -> str:
    """A tier as coloured text: the colour helps, the words carry the meaning."""
    label = tier.short if short else tier.name
    return (f'<span class="tier" style="background:{tint(tier.color)};border-left-color:{tier.color}">'
            f"{_e(label)}{mark}</span>")


def _mark(confirmed: bool) -> str:
    return "" if confirmed else f'<sup class="unconfirmed">{UNCONFIRMED_MARK}</sup>'


def _table(header: Iterable[str], rows: Iterable[Iterable[str] | str], *, cls: str = "",
           caption: str = "", numeric: Iterable[int] = (), widths: Iterable[int] = ()) -> str:
    """A table whose cells are already HTML.

    ``numeric`` columns are right-aligned; ``widths`` are percentages (fixed layout);
    a row given as a string is inserted as is (e.g. a group heading spanning columns).
    """
    numeric = set(numeric)
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{h}</th>' for i, h in enumerate(header))
    body = "".join(
        r if isinstance(r, str) else
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(r))
        + "</tr>" for r in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    widths = list(widths)
    cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>" if widths else ""
    fixed = " fixed" if widths else ""
    return (f'<div class="table-wrap"><table class="{cls}{fixed}">{cap}{cols}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


# -- title and closing ---------------------------------------------------------------------


def illustrative_banner(ev: Evaluation) -> str:
    if not ev.params.params.illustrative:
        return ""
    return ('<div class="illustrative-banner">DỮ LIỆU MINH HỌA — không phải kết quả đánh giá thật; '
            "chỉ dùng để thử và hướng dẫn sử dụng công cụ.</div>")


def title_block(ev: Evaluation) -> str:
    """The heading of an administrative report: issuing body, national motto, place and date, title."""
    r = ev.params.params.report
    return f"""{illustrative_banner(ev)}<header class="doc-header">
<table class="doc-head"><tr>
<td class="issuer"><div>{_e(r.issuer_parent)}</div><div class="strong underline">{_e(r.issuer)}</div></td>
<td class="motto"><div class="strong">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</div>
<div class="strong underline">Độc lập - Tự do - Hạnh phúc</div>
<div class="place-date">{_e(r.place_date)}</div></td>
</tr></table>
<h1 class="doc-title">BÁO CÁO</h1>
<p class="doc-subtitle">{_e(r.title)}{(" " + _e(r.subtitle)) if r.subtitle else ""}</p>
<p class="doc-basis">Căn cứ: {"; ".join(_regulation(reg) for reg in ev.rules.regulations)}.</p>
</header>"""


def _regulation(reg) -> str:
    return f"{_e(reg.citation)} ({_e(reg.title)}){_mark(reg.confirmed)}"


def closing(ev: Evaluation) -> str:
    """Recipients and signature, as the seed report ends."""
    r = ev.params.params.report
    if not (r.recipients or r.signer_title):
        return ""
    recipients = "".join(f"<li>{_e(x)};</li>" for x in r.recipients)
    return f"""<table class="doc-close"><tr>
<td class="recipients"><div class="strong italic">Nơi nhận:</div><ul>{recipients}<li>Lưu: VT.</li></ul></td>
<td class="signer"><div class="strong">{_e(r.signer_title)}</div><div class="signature-space"></div>
<div class="strong">{_e(r.signer_name)}</div></td></tr></table>"""


# -- method ---------------------------------------------------------------------------------


def _bounds_text(rules: Rules, i: int) -> str:
    tier = rules.tiers[i]
    lo = fmt_bound(tier.min)
    if i == 0:
        return f"từ {lo} điểm trở lên"
    hi = fmt_bound(rules.tiers[i - 1].min)
    if tier.min == rules.scale.score_min:
        return f"dưới {hi} điểm"
    return f"từ {lo} đến dưới {hi} điểm"


def method(ev: Evaluation) -> str:
    """How the score is made and how tiers are decided, from the rules file."""
    rules = ev.rules
    s = rules.scale
    p = rules.precision
    parts = [f"<p>Tổng điểm tối đa {fmt_bound(s.score_max)}{_mark(s.confirmed)}, gồm "
             f"{fmt_bound(s.appraisal_max)} điểm do các cơ quan thẩm định chấm theo tiêu chí và tối đa "
             f"{fmt_bound(s.adjustment_max)} điểm thưởng, điểm trừ do Hội đồng đánh giá quyết định.</p>"]
    if rules.bodies:
        items = "".join(f"<li><strong>{_e(b.name)}</strong>{_mark(b.confirmed)}: {_e(b.role)}</li>"
                        for b in rules.bodies)
        parts.append(f"<p>Các cơ quan thẩm định:</p><ul>{items}</ul>")
    parts += [f"<p>{_e(n)}</p>" for n in rules.method_notes]
    rounding = {"down": "bỏ phần lẻ (không làm tròn lên)", "up": "làm tròn lên",
                "half_up": "làm tròn (từ 5 trở lên làm tròn lên)",
                "half_even": "làm tròn về số chẵn gần nhất"}[p.rounding]
    parts.append(f"<p>Điểm đánh giá được tính đến {p.decimals} chữ số thập phân, {rounding}"
                 f"{_mark(p.confirmed)}; mức xếp loại xác định trên điểm đã công bố, tính cả ngưỡng.</p>")
    rows = [[tier_badge(t), _bounds_text(rules, i) + _mark(t.confirmed)] for i, t in enumerate(rules.tiers)]
    parts.append(_table(["Mức xếp loại", "Điểm"], rows, cls="tiers"))
    for c in rules.conditions:
        parts.append(f"<p>Điều kiện: {_e(c.name)}{_mark(c.confirmed)} — không được xếp cao hơn "
                     f"«{_e(rules.tier(c.max_tier).short)}».</p>")
    for q in rules.quotas:
        base = "tổng số đơn vị" if q.of == "all" else f"số đơn vị xếp loại «{_e(rules.tier(q.of).short)}»"
        scope = "trong từng nhóm" if q.scope == "group" else "trong toàn tỉnh"
        parts.append(f"<p>Hạn mức: số đơn vị «{_e(rules.tier(q.tier).short)}» không quá "
                     f"{fmt_bound(q.max_ratio * 100)}% {base} {scope}{_mark(q.confirmed)}.</p>")
    return "\n".join(parts)


# -- results --------------------------------------------------------------------------------


def summary(ev: Evaluation) -> str:
    """The summary sentences and the count of units by tier and group."""
    rules = ev.rules
    sentences = "".join(f"<li>{_e(s)}</li>" for s in ev.sentences)
    counts = ev.counts
    groups = [rules.group(g) for g in ev.groups]  # the groups the year evaluates, no empty column
    header = ["Mức xếp loại", *[f"{_e(g.numeral)}. {_e(g.name)}" for g in groups], "Tổng"]
    share = (60 // (len(groups) + 1))
    rows = []
    for t in rules.tiers:
        rows.append([tier_badge(t), *[str(counts.at[t.id, g.id]) for g in groups],
                     f"<strong>{counts.at[t.id, 'total']}</strong>"])
    rows.append(["<strong>Tổng số</strong>", *[f"<strong>{counts.at['total', g.id]}</strong>" for g in groups],
                 f"<strong>{counts.at['total', 'total']}</strong>"])
    return (f'<ul class="sentences">{sentences}</ul>'
            + _table(header, rows, cls="counts", numeric=range(1, len(groups) + 2),
                     widths=[100 - share * (len(groups) + 1)] + [share] * (len(groups) + 1),
                     caption="Số cơ quan, đơn vị theo mức xếp loại và nhóm"))


def _score_cells(frame: pd.DataFrame, rules: Rules) -> tuple[pd.Series, pd.Series]:
    self_text = numbers(frame["self_score"], 1, max_decimals=2)
    score_text = numbers(frame["score"], rules.precision.decimals)
    return self_text, score_text


def group_tables(ev: Evaluation) -> str:
    """One table per group, laid out as in the seed: TT, Đơn vị, Điểm tự chấm, Điểm đánh giá, xếp loại."""
    rules = ev.rules
    ranked = ev.ranked
    self_text, score_text = _score_cells(ranked, rules)
    tiers = {t.id: t for t in rules.tiers}
    out = []
    footnotes = []
    for g in rules.groups:
        sel = ranked["group"] == g.id
        if not sel.any():
            continue
        rows: list = [f'<tr class="group-row"><td>{_e(g.numeral)}</td><td colspan="4">{_e(g.name)}</td></tr>']
        for i in ranked.index[sel]:
            mark = ""
            reason = ranked.at[i, "tier_reason"]
            if reason:
                footnotes.append(f"{_e(ranked.at[i, 'unit'])}: {_e(reason)}")
                mark = f"<sup>{len(footnotes)}</sup>"
            rows.append([str(ranked.at[i, "order"]), _e(ranked.at[i, "unit"]), self_text[i], score_text[i],
                         tier_badge(tiers[ranked.at[i, "tier"]], mark=mark)])
        out.append(_table(["TT", "Đơn vị", "Điểm tự chấm", "Điểm đánh giá", _e(rules.wording.classification_heading)],
                          rows,
                          cls="results", numeric=(2, 3), widths=(7, 39, 14, 14, 26)))
    if footnotes:
        out.append('<ol class="footnotes">' + "".join(f"<li>{f}</li>" for f in footnotes) + "</ol>")
    return "\n".join(out)


def gap_table(ev: Evaluation, top: int) -> str:
    """The units whose self score exceeds the appraisal most."""
    rules = ev.rules
    gaps = unit_gaps(ev.ranked)
    if gaps.empty:
        return "<p>Không có điểm tự chấm để so sánh.</p>"
    head = gaps.head(top)
    self_text, score_text = _score_cells(head, rules)
    names = {g.id: g.numeral for g in rules.groups}
    rows = [[str(n), _e(head.at[i, "unit"]), _e(names[head.at[i, "group"]]), self_text[i], score_text[i],
             number(head.at[i, "gap"], 1, max_decimals=2)]
            for n, i in enumerate(head.index, start=1)]
    return _table(["#", "Đơn vị", "Nhóm", "Điểm tự chấm", "Điểm đánh giá", "Chênh lệch"], rows,
                  cls="gaps", numeric=(3, 4, 5), widths=(6, 40, 10, 15, 15, 14),
                  caption=f"{count(len(head))} đơn vị tự chấm cao hơn điểm đánh giá nhiều nhất")


def group_gap_table(ev: Evaluation) -> str:
    """Mean, median and largest gap per group; how many units scored themselves higher."""
    rules = ev.rules
    table = group_gaps(ev.ranked, rules)
    if table.empty:
        return ""
    rows = [[f"{_e(rules.group(g).numeral)}. {_e(rules.group(g).name)}",
             f"{int(table.at[g, 'above'])}/{int(table.at[g, 'units'])}",
             number(table.at[g, "mean_gap"], 1, max_decimals=2),
             number(table.at[g, "median_gap"], 1, max_decimals=2),
             number(table.at[g, "max_gap"], 1, max_decimals=2)] for g in table.index]
    return _table(["Nhóm", "Số đơn vị tự chấm cao hơn", "Chênh lệch trung bình", "Trung vị", "Lớn nhất"],
                  rows, cls="group-gaps", numeric=(1, 2, 3, 4), widths=(36, 16, 16, 16, 16),
                  caption="Chênh lệch giữa điểm tự chấm và điểm đánh giá theo nhóm")


def near_bound_table(ev: Evaluation, within: float) -> str:
    """Units within ``within`` points of a tier bound, for the council's attention."""
    rules = ev.rules
    near = near_bounds(ev.ranked, rules, within)
    if near.empty:
        return f"<p>Không có đơn vị nào cách ngưỡng xếp loại trong phạm vi {fmt_bound(within)} điểm.</p>"
    tiers = {t.id: t for t in rules.tiers}
    _, score_text = _score_cells(near, rules)
    rows = []
    for i in near.index:
        d = near.at[i, "distance"]
        side = "trên" if d >= 0 else "dưới"
        rows.append([_e(near.at[i, "unit"]), _e(rules.group(near.at[i, "group"]).numeral), score_text[i],
                     f"{fmt_bound(near.at[i, 'bound'])} ({_e(tiers[near.at[i, 'bound_tier']].short)})",
                     f"{number(abs(d), rules.precision.decimals)} điểm {side} ngưỡng",
                     tier_badge(tiers[near.at[i, "tier"]], short=True)])
    return _table(["Đơn vị", "Nhóm", "Điểm đánh giá", "Ngưỡng", "Khoảng cách", "Xếp loại"], rows,
                  cls="near", numeric=(2,), widths=(32, 10, 14, 16, 14, 14),
                  caption=f"Đơn vị cách ngưỡng xếp loại không quá {fmt_bound(within)} điểm")


# -- notes and provenance ------------------------------------------------------------------


def notes(ev: Evaluation) -> str:
    """Unconfirmed rule values and the names normalised from the inputs."""
    parts = []
    unconfirmed = ev.rules.unconfirmed()
    if unconfirmed:
        items = "".join(f"<li>{_e(what)} <span class='muted'>(<code>{_e(where)}</code>)</span></li>"
                        for where, what in unconfirmed)
        parts.append(f'<p><sup class="unconfirmed">{UNCONFIRMED_MARK}</sup> {UNCONFIRMED_NOTE}</p>'
                     f"<ul>{items}</ul>")
    if len(ev.renamed):
        rows = [[_e(a), _e(b)] for a, b in zip(ev.renamed["input"], ev.renamed["unit"], strict=True)]
        parts.append("<p>Tên đơn vị trong dữ liệu vào được đối chiếu với danh mục đơn vị; các tên sau "
                     "được chuẩn hóa (lỗi in, viết tắt):</p>"
                     + _table(["Tên trong dữ liệu", "Tên chuẩn"], rows, cls="renamed"))
    note = ev.params.params.report.source_note
    if note:
        parts.append(f"<p>{_e(note)}</p>")
    return "\n".join(parts) or "<p>Không có ghi chú.</p>"


def provenance(ev: Evaluation, parameters: Mapping[str, object]) -> str:
    """SHA-256 of each input, the rules applied, the package version and the run's parameters."""
    prov = ev.provenance
    rows = [[_e(r), f"<code>{_e(f)}</code>", str(b), f'<code class="hash">{_e(h)}</code>']
            for r, f, b, h in zip(prov["role"], prov["file"], prov["bytes"], prov["sha256"], strict=True)]
    params = "".join(f"<li><code>{_e(k)}</code> = <code>{_e(v)}</code></li>" for k, v in parameters.items())
    return (_table(["Vai trò", "Tệp", "Byte", "SHA-256"], rows, cls="provenance", numeric=(2,),
                   widths=(12, 34, 10, 44))
            + f"<p>Quy định áp dụng: <code>{_e(ev.rules.id)}</code> — {_e(ev.rules.name)}. "
            f"Phiên bản công cụ: <code>evaluation {_e(__version__)}</code>.</p>"
            + f"<p>Tham số lần chạy:</p><ul>{params}</ul>")
