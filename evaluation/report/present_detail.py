"""The report's sections for years scored from their parts (criteria, surveys, bonus and penalty).

Every function returns an HTML fragment, or ``""`` when the year publishes
totals only (``ev.detail is None``), so the same notebook serves both kinds of
year.  Text from inputs and rules is escaped; numbers are written the
Vietnamese way.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from ..engine.criteria import criterion_gaps
from ..engine.pipeline import Evaluation
from ..engine.sensitivity import survey_intervals
from ..fmt import count, fmt_bound, number
from ..inputs.catalogue import scope_text
from ..inputs.rules import Rules
from .present import UNCONFIRMED_MARK, UNCONFIRMED_NOTE, _mark, _table, tier_badge

__all__ = ["method", "components", "bodies", "surveys", "adjustments", "criteria_chart_intro",
           "criterion_gaps_table", "notes", "score_cards", "stage_names"]


def _e(value: object) -> str:
    return escape("" if value is None or (isinstance(value, float) and value != value) else str(value))


def _pts(value: object) -> str:
    """Points as the cards and tables show them: 1 decimal, 2 when the value has them."""
    return number(value, 1, max_decimals=2)


def _h3(text: str) -> str:
    return f"<h3>{_e(text)}</h3>"


def _keep(*parts: str) -> str:
    """Parts that must stay on one page (a heading with the start of what it introduces)."""
    return '<div class="keep-together">' + "".join(parts) + "</div>"


def stage_names(rules: Rules) -> dict[str, str]:
    """Vietnamese names of the caps and bounds of :data:`evaluation.engine.adjust.LOG_COLUMNS` stages."""
    s = rules.scale
    return {
        "up_to": "mức tối đa mỗi lần",
        "item_cap": "mức tối đa của nội dung",
        "total": f"giới hạn thưởng − trừ trong ±{fmt_bound(s.adjustment_max)} điểm",
        "total_bonus": f"điểm thưởng tối đa {fmt_bound(s.adjustment_max)}",
        "total_penalty": f"điểm trừ tối đa {fmt_bound(s.adjustment_max)}",
        "clamp": f"điểm trong khoảng {fmt_bound(s.score_min)}–{fmt_bound(s.score_max)}",
        "appraisal_max": f"điểm thẩm định tối đa {fmt_bound(s.appraisal_max)}",
    }


def _rate_text(it) -> str:
    if it.points is not None:
        return f"{fmt_bound(it.points)} điểm/lần"
    if it.up_to is not None:
        return f"tối đa {fmt_bound(it.up_to)} điểm/lần"
    return "Hội đồng quyết định"


# -- method ---------------------------------------------------------------------------------------


def method(ev: Evaluation) -> str:
    """Criteria sets, survey forms and bonus/penalty items, as the rules define them."""
    if ev.detail is None:
        return ""
    rules = ev.rules
    s = rules.scale
    parts = [f"<p>Điểm đánh giá = điểm thẩm định theo tiêu chí (tối đa {fmt_bound(s.appraisal_max)}) + điểm "
             f"thưởng − điểm trừ; hiệu số thưởng − trừ được giới hạn trong ±{fmt_bound(s.adjustment_max)} điểm"
             f"{_mark(rules.adjustments.confirmed)} và điểm đánh giá trong khoảng {fmt_bound(s.score_min)}–"
             f"{fmt_bound(s.score_max)}. Tiêu chí không áp dụng với một đơn vị được quy đổi: điểm các tiêu chí "
             f"áp dụng được nhân lên theo tỷ lệ (ví dụ đạt 54/60 điểm áp dụng = 90%, tiêu chí 30 điểm không áp "
             f"dụng được tính 27 điểm). Mỗi mức tối đa, giới hạn đã áp dụng được ghi lại cùng số điểm bị loại. "
             f"Điểm tự chấm trong các bảng là tổng điểm đơn vị tự chấm theo tiêu chí (quy đổi như trên) cộng "
             f"điều chỉnh thưởng, trừ của Hội đồng, nên chênh lệch với điểm đánh giá chỉ do thẩm định.</p>"]
    # Criteria × sets: the maxima side by side.
    sets = rules.criteria_sets
    codes: dict[str, tuple[str, str]] = {}
    for cs in sets:
        for c in cs.criteria:
            codes.setdefault(c.code, (c.name, c.body))
    maxima = {(cs.id, c.code): c for cs in sets for c in cs.criteria}
    rows = []
    for code, (name, body) in codes.items():
        cells = ["" if (cs.id, code) not in maxima else fmt_bound(maxima[(cs.id, code)].max) for cs in sets]
        rows.append([f"<strong>{_e(code)}</strong>", _e(name), _e(rules.body(body).label), *cells])
    rows.append("<tr class='total'><td></td><td>Tổng</td><td></td>"
                + "".join(f"<td class=num>{fmt_bound(cs.total)}</td>" for cs in sets) + "</tr>")
    loose = any(not c.confirmed for cs in sets for c in cs.criteria)
    head = ["Mã", "Tiêu chí", "Thẩm định", *[_e(cs.label) + _mark(cs.confirmed) for cs in sets]]
    share = 48 // len(sets)
    parts.append(_keep(_h3("Bộ tiêu chí và điểm tối đa"),
                       _table(head, rows, cls="criteria-sets dense codes", numeric=range(3, 3 + len(sets)),
                              widths=(10, 100 - 10 - 12 - share * len(sets), 12, *[share] * len(sets)),
                              caption="Điểm tối đa của từng tiêu chí theo bộ tiêu chí; «Thẩm định»: cơ quan chấm"
                                      + (f" (điểm tối đa là giá trị tạm{_mark(False)})" if loose else ""))))
    bodies = ", ".join(f"{_e(b.label)} = {_e(b.name)}" for b in rules.bodies if b.short)
    units = ev.registry.units["short_name"]
    members = [f"<li><strong>{_e(cs.name)}</strong>{_mark(cs.confirmed)}: "
               + _e(", ".join(units.get(u, u) for u in ev.detail.sets.loc[ev.detail.sets["criteria_set"] == cs.id,
                                                                            "unit_id"])) + "</li>"
               for cs in sets]
    parts.append(f"<p class='small'>{bodies}. Đơn vị theo bộ tiêu chí:</p><ul class='small'>{''.join(members)}</ul>")
    if rules.surveys:
        kinds = {r.id: r.name for r in rules.rater_kinds}
        formula = {"mean_over_max": "TB ÷ {hi} × điểm tối đa", "mean_min_max": "(TB − {lo}) ÷ ({hi} − {lo}) × điểm tối đa"}
        below = {"not_applicable": "không tính, quy đổi như tiêu chí không áp dụng", "zero": "0 điểm",
                 "score": "vẫn tính, có đánh dấu"}
        rows = [[_e(sv.name) + _mark(sv.confirmed), _e(sv.criterion), _e("; ".join(kinds.get(r, r) for r in sv.raters)),
                 f"{fmt_bound(sv.scale_min)}–{fmt_bound(sv.scale_max)}",
                 _e(formula[sv.formula].format(lo=fmt_bound(sv.scale_min), hi=fmt_bound(sv.scale_max))),
                 f"{sv.min_responses}; dưới mức: {_e(below[sv.below_minimum])}"] for sv in rules.surveys]
        parts.append(_keep(
            _h3("Phiếu đánh giá"),
            "<p>Mỗi phiếu là câu trả lời của một người đánh giá về một đơn vị; điểm trung bình (TB) của đơn vị là "
            "trung bình các phiếu (mỗi phiếu lấy trung bình các câu trả lời của nó).</p>",
            _table(["Phiếu", "Tiêu chí", "Người chấm", "Thang", "Điểm tiêu chí", "Số phiếu tối thiểu"],
                   rows, cls="surveys dense", widths=(33, 9, 17, 7, 16, 18))))
    items = rules.adjustments.items
    if items:
        names = ev.registry.units["short_name"]
        rows = []
        for kind, title in (("bonus", "Điểm thưởng"), ("penalty", "Điểm trừ")):
            rows.append(f'<tr class="group-row"><td colspan="5">{title}</td></tr>')
            rows += [[f"<strong>{_e(it.code)}</strong>", _e(it.name) + _mark(it.confirmed), _e(_rate_text(it)),
                      "" if it.cap is None else fmt_bound(it.cap), _e(scope_text(it.scope, rules, names))]
                     for it in items if it.kind == kind]
        parts.append(_h3("Nội dung và mức điểm thưởng, điểm trừ"))
        parts.append(_table(["Mã", "Nội dung", "Mức điểm", "Tối đa", "Áp dụng cho"], rows, cls="items dense codes",
                            numeric=(3,), widths=(8, 49, 16, 6, 21)))
    return "\n".join(parts)


# -- results ---------------------------------------------------------------------------------------


def _by_group(ev: Evaluation):
    ranked = ev.ranked
    for g in ev.rules.groups:
        sel = ranked[ranked["group"] == g.id]
        if len(sel):
            yield g, sel


def components(ev: Evaluation) -> str:
    """Per group: points by appraising body, appraisal + bonus − penalty (bounded) = final score."""
    if ev.detail is None:
        return ""
    rules = ev.rules
    d = ev.detail
    log = d.log
    bound_bit = set(log.loc[log["stage"].isin(["total", "total_bonus", "total_penalty", "clamp"]), "unit_id"])
    pts = d.bodies.pivot(index="unit_id", columns="body", values="final_points")
    order = [b.id for b in rules.bodies if b.id in pts.columns]
    intro = [_h3("3.1. Thành phần điểm: cơ quan thẩm định, điểm thưởng, điểm trừ"),
             f"<p>Điểm mỗi cơ quan thẩm định chấm (đã quy đổi khi có tiêu chí không áp dụng; điểm tối đa theo bộ "
           f"tiêu chí ở mục 1), cộng lại thành điểm thẩm định; điểm thưởng, điểm trừ đã áp dụng mức tối đa của "
           f"từng nội dung; «Điều chỉnh» là thưởng − trừ sau giới hạn ±{fmt_bound(rules.scale.adjustment_max)} "
           f"điểm (‡: giới hạn đã được áp dụng).</p>"]
    out: list[str] = []
    n = len(order)
    head = ["TT", "Đơn vị", *[_e(rules.body(b).label) for b in order], "Thẩm định", "Thưởng", "Trừ", "Điều chỉnh",
            "Điểm đánh giá"]
    body_w = 7
    widths = (4, 100 - 4 - body_w * n - 10 - 9 - 7 - 8 - 10, *[body_w] * n, 10, 9, 7, 8, 10)
    for g, sel in _by_group(ev):
        rows = [f'<tr class="group-row"><td>{_e(g.numeral)}</td><td colspan="{n + 6}">{_e(g.name)}</td></tr>']
        for r in sel.itertuples(index=False):
            mark = " ‡" if r.unit_id in bound_bit else ""
            rows.append([str(r.order), _e(r.unit), *[_pts(pts.at[r.unit_id, b]) if pd.notna(pts.at[r.unit_id, b])
                                                      else "" for b in order],
                         f"<strong>{_pts(r.appraisal)}</strong>", _pts(r.bonus), _pts(r.penalty),
                         _pts(r.adjustment) + mark, f"<strong>{number(r.score, rules.precision.decimals)}</strong>"])
        table = _table(head, rows, cls="components dense keep", numeric=range(2, n + 7), widths=widths)
        out.append(_keep(*intro, table) if not out else table)
    names = "; ".join(f"{_e(rules.body(b).label)}: {_e(rules.body(b).name)}" for b in order
                      if rules.body(b).label != rules.body(b).name)
    if names:
        out.append(f"<p class='small muted'>{names}.</p>")
    return "\n".join(out)


def bodies(ev: Evaluation) -> str:
    """Appraising bodies per group: mean points against the mean maximum (share of the maximum)."""
    if ev.detail is None:
        return ""
    rules = ev.rules
    table = ev.detail.bodies.merge(ev.ranked[["unit_id", "group"]], on="unit_id")
    per = table.groupby(["group", "body"], sort=False).agg(points=("final_points", "sum"), top=("max_points", "sum"),
                                                           units=("unit_id", "nunique"))
    order = [b.id for b in rules.bodies if b.id in set(table["body"])]
    groups = [g for g in rules.groups if g.id in set(table["group"])]
    rows = []
    for g in groups:
        cells = []
        for b in order:
            if (g.id, b) in per.index:
                x = per.loc[(g.id, b)]
                cells.append(f"{number(x['points'] / x['units'], 1)}<span class='muted'>/"
                             f"{number(x['top'] / x['units'], 1)}</span> ({number(x['points'] / x['top'] * 100, 0)}%)")
            else:
                cells.append("")
        rows.append([f"{_e(g.numeral)}. {_e(g.name)}", *cells])
    share = (100 - 28) // len(order)
    return _keep(_h3("3.2. Điểm theo cơ quan thẩm định"),
                 _table(["Nhóm", *[_e(rules.body(b).label) for b in order]], rows, cls="bodies dense",
                        numeric=range(1, len(order) + 1), widths=(100 - share * len(order), *[share] * len(order)),
                        caption="Điểm trung bình mỗi cơ quan thẩm định chấm / điểm tối đa trung bình (tỷ lệ đạt), "
                                "theo nhóm"))


def surveys(ev: Evaluation) -> str:
    """Forms received per survey and rater kind, and the units flagged for too few forms."""
    d = ev.detail
    if d is None or d.survey is None:
        return ""
    rules = ev.rules
    kinds = {r.id: r.name for r in rules.rater_kinds}
    names = {s.id: s.name for s in rules.surveys}
    rows = [[_e(names.get(r.survey, r.survey)), _e(kinds.get(r.rater_kind, r.rater_kind)), str(r.raters),
             str(r.forms), str(r.answers), str(r.units)] for r in d.survey_counts.itertuples(index=False)]
    out = [_keep(_h3("3.3. Phiếu đánh giá"),
           _table(["Phiếu", "Người chấm", "Số người chấm", "Số phiếu", "Số câu trả lời", "Số đơn vị được chấm"], rows,
                  cls="survey-counts dense", numeric=(2, 3, 4, 5), widths=(40, 20, 10, 10, 10, 10),
                  caption="Số phiếu nhận được theo phiếu và loại người chấm"))]
    flagged = d.survey[d.survey["flag"]]
    if len(flagged):
        unit = ev.registry.units["short_name"]
        what = {"not_applicable": "không tính; quy đổi như tiêu chí không áp dụng", "zero": "tính 0 điểm",
                "score": "vẫn tính điểm"}
        below = {s.id: s.below_minimum for s in rules.surveys}
        rows = [[_e(unit[r.unit_id]), _e(names.get(r.survey, r.survey)), _e(r.criterion),
                 f"{r.forms}/{r.min_responses}", _e(what[below[r.survey]])] for r in flagged.itertuples(index=False)]
        out.append(_table(["Đơn vị", "Phiếu", "Tiêu chí", "Số phiếu / tối thiểu", "Xử lý"], rows, cls="flagged dense keep",
                          widths=(20, 38, 9, 12, 21),
                          caption="Đơn vị nhận ít phiếu hơn mức tối thiểu (không tự động cho điểm)"))
    else:
        out.append("<p>Mọi đơn vị đều nhận đủ số phiếu tối thiểu.</p>")
    return "\n".join(out)


def adjustments(ev: Evaluation) -> str:
    """Bonus and penalty items used, and every cap or bound that bit with the points it removed."""
    d = ev.detail
    if d is None:
        return ""
    rules = ev.rules
    items = {it.code: it for it in rules.adjustments.items}
    per = d.adjustment_items
    out = [_h3("3.4. Điểm thưởng, điểm trừ và các giới hạn đã áp dụng")]
    if len(per):
        summary = per.groupby("item", sort=False).agg(units=("unit_id", "nunique"), raw=("raw", "sum"),
                                                      points=("points", "sum"))
        order = [c for c in items if c in summary.index]
        rows = []
        for kind, title in (("bonus", "Điểm thưởng"), ("penalty", "Điểm trừ")):
            rows.append(f'<tr class="group-row"><td colspan="5">{title}</td></tr>')
            rows += [[f"<strong>{_e(c)}</strong>", _e(items[c].name), str(int(summary.at[c, "units"])),
                      _pts(summary.at[c, "raw"]), _pts(summary.at[c, "points"])]
                     for c in order if items[c].kind == kind]
        out.append(_table(["Mã", "Nội dung", "Số đơn vị", "Điểm đề nghị", "Điểm tính"], rows,
                          cls="item-summary dense codes", numeric=(2, 3, 4), widths=(8, 59, 10, 11, 12),
                          caption="Các nội dung thưởng, trừ trong năm (điểm tính: sau mức tối đa từng lần và "
                                  "từng nội dung)"))
    log = d.log
    if len(log):
        stage = stage_names(rules)
        unit = ev.registry.units["short_name"]
        rows = [[_e(unit[r.unit_id]), _e(stage.get(r.stage, r.stage)),
                 _e("" if pd.isna(r.item) else r.item), _pts(r.before), _pts(r.limit), _pts(r.after), _pts(r.removed)]
                for r in log.itertuples(index=False)]
        out.append(_table(["Đơn vị", "Giới hạn", "Nội dung", "Trước", "Mức", "Sau", "Bị loại"], rows,
                          cls="caps dense", numeric=(3, 4, 5, 6), widths=(22, 34, 9, 9, 8, 9, 9),
                          caption=f"{count(len(log))} lần áp dụng mức tối đa, giới hạn (điểm bị loại khỏi điểm "
                                  "thưởng hoặc điểm trừ)"))
    else:
        out.append("<p>Không có mức tối đa hay giới hạn nào phải áp dụng.</p>")
    return "\n".join(out)


def criteria_chart_intro(ev: Evaluation) -> str:
    """Heading and reading guide of the points-by-criterion charts."""
    if ev.detail is None:
        return ""
    return (_h3("4.3. Điểm thẩm định theo tiêu chí")
            + f"<p>Mỗi thanh là điểm thẩm định của một đơn vị, chia theo tiêu chí; nền xám đến "
              f"{fmt_bound(ev.rules.scale.appraisal_max)} điểm là điểm tối đa. Phần gạch chéo là tiêu chí không "
              "áp dụng (hoặc không đủ phiếu), tính bằng điểm quy đổi.</p>")


def criterion_gaps_table(ev: Evaluation, top: int) -> str:
    """Where self points exceed the appraisal most, criterion by criterion, and per criterion overall."""
    d = ev.detail
    if d is None:
        return ""
    gaps = criterion_gaps(d.lines)
    if gaps.empty:
        return ""
    unit = ev.registry.units["short_name"]
    head = gaps.head(top)
    rows = [[str(n), _e(unit[r.unit_id]), _e(r.criterion), fmt_bound(r.max_points), _pts(r.self_points),
             _pts(r.points), _pts(r.gap), number(r.share * 100, 0) + "%"]
            for n, r in enumerate(head.itertuples(index=False), start=1)]
    out = [_keep(_h3("5.1. Chênh lệch theo tiêu chí"),
           _table(["#", "Đơn vị", "Tiêu chí", "Tối đa", "Tự chấm", "Thẩm định", "Chênh lệch", "% tối đa"], rows,
                  cls="criterion-gaps dense", numeric=(3, 4, 5, 6, 7), widths=(5, 37, 10, 8, 10, 10, 10, 10),
                  caption=f"{count(len(head))} tiêu chí có điểm tự chấm cao hơn điểm thẩm định nhiều nhất"))]
    per = gaps.groupby("criterion", sort=False).agg(
        units=("gap", "size"), above=("gap", lambda g: int((g > 0).sum())), mean=("gap", "mean"),
        largest=("gap", "max"), share=("share", "mean"))
    per = per.sort_values(["share", "mean"], ascending=False, kind="stable")
    names = d.catalogue.drop_duplicates("criterion").set_index("criterion")["name"]
    rows = [[f"<strong>{_e(c)}</strong>", _e(names.get(c, "")), f"{int(r.above)}/{int(r.units)}", _pts(r.mean),
             _pts(r.largest), number(r.share * 100, 1) + "%"] for c, r in zip(per.index, per.itertuples(), strict=True)]
    out.append(_table(["Mã", "Tiêu chí", "Số đơn vị tự chấm cao hơn", "Chênh lệch TB", "Lớn nhất", "TB % tối đa"],
                      rows, cls="criterion-summary dense keep codes", numeric=(2, 3, 4, 5), widths=(9, 45, 13, 11, 10, 12),
                      caption="Chênh lệch tự chấm − thẩm định theo tiêu chí (các tiêu chí áp dụng)"))
    return "\n".join(out)


def notes(ev: Evaluation) -> str:
    """Unconfirmed values of the detailed rules (criteria maxima, sets, surveys, items)."""
    if ev.detail is None:
        return ""
    loose = ev.rules.unconfirmed_detail()
    if not loose:
        return ""
    items = "".join(f"<li>{_e(what)} <span class='muted'>(<code>{_e(where)}</code>)</span></li>" for where, what in loose)
    return (f'<p><sup class="unconfirmed">{UNCONFIRMED_MARK}</sup> Chấm điểm theo tiêu chí — {UNCONFIRMED_NOTE}</p>'
            f"<ul class='small'>{items}</ul>")


# -- score cards -------------------------------------------------------------------------------------


def _card_notes(lines: pd.DataFrame, survey: pd.DataFrame | None, unit_id: str,
                intervals: pd.DataFrame | None = None) -> str:
    """Survey results (with the sampling interval of the points) and criteria that do not apply, as a short
    paragraph under the card's table."""
    notes, not_applicable = [], []
    for ln in lines.itertuples(index=False):
        sv = None
        if survey is not None and ln.survey is not None and (unit_id, ln.criterion) in survey.index:
            sv = survey.loc[(unit_id, ln.criterion)]
        if sv is not None:
            text = (f"{_e(ln.criterion)}: {sv['forms']} phiếu, TB {_pts(sv['mean'])}/{fmt_bound(sv['scale_max'])}")
            if ln.flag:
                text += (f" — <span class='warn'>dưới mức tối thiểu {sv['min_responses']} phiếu</span>"
                         + (f", không tính, quy đổi {_pts(ln.credited)}" if not ln.applicable else ""))
            elif ln.applicable:
                text += f" → {_pts(ln.points)} điểm"
                if intervals is not None and (unit_id, ln.criterion) in intervals.index:
                    iv = intervals.loc[(unit_id, ln.criterion)]
                    text += f" (khoảng 95%: {_pts(iv['low'])}–{_pts(iv['high'])})"
            notes.append(text)
        elif not ln.applicable:
            not_applicable.append(f"{_e(ln.criterion)} không áp dụng, quy đổi {number(ln.ratio * 100, 1)}% × "
                                  f"{fmt_bound(ln.max_points)} = {_pts(ln.credited)}")
    parts = []
    if notes:
        parts.append("<sup>p</sup> Phiếu đánh giá: " + "; ".join(notes) + ".")
    if not_applicable:
        parts.append("; ".join(not_applicable).capitalize() + ".")
    return f"<p class='card-notes'>{' '.join(parts)}</p>" if parts else ""


def _arithmetic(r, rules: Rules) -> str:
    s = rules.scale
    net = r.bonus - r.penalty
    text = (f"Điểm đánh giá = thẩm định <strong>{_pts(r.appraisal)}</strong> + thưởng {_pts(r.bonus)} − trừ "
            f"{_pts(r.penalty)}")
    if abs(r.adjustment - net) > 1e-9:
        text += (f" (thưởng − trừ = {_pts(net)}, giới hạn ±{fmt_bound(s.adjustment_max)}: "
                 f"{_pts(r.adjustment)})")
    text += f" = {_pts(r.final_raw)}"
    if abs(r.final_score - r.final_raw) > 1e-9:
        text += f" → {_pts(r.final_score)} (trong khoảng {fmt_bound(s.score_min)}–{fmt_bound(s.score_max)})"
    text += (f"; công bố <strong>{number(r.score, rules.precision.decimals)}</strong> "
             f"({rules.precision.decimals} chữ số thập phân).")
    return text


def score_cards(ev: Evaluation) -> str:
    """One compact card per unit (phiếu điểm), in report order.

    A card holds the criteria as columns (maximum, self and appraised points;
    a criterion that does not apply shows its prorated credit in grey), the
    survey results, each bonus and penalty row with its proposing agency,
    evidence and any cap applied, and the arithmetic to the final score.
    """
    d = ev.detail
    if d is None:
        return ""
    rules = ev.rules
    tiers = {t.id: t for t in rules.tiers}
    sets = {cs.id: cs for cs in rules.criteria_sets}
    items = {it.code: it for it in rules.adjustments.items}
    stage = stage_names(rules)
    lines = d.lines.groupby("unit_id", sort=False)
    # itertuples cannot name a field "_row": call it "row".
    adj_lines = d.adjustment_lines.rename(columns={"_row": "row"})
    adj = adj_lines.groupby("unit_id", sort=False) if len(adj_lines) else None
    log = d.log
    survey = d.survey.set_index(["unit_id", "criterion"]).sort_index() if d.survey is not None else None
    intervals = survey_intervals(ev)
    if intervals is not None:
        intervals = intervals.set_index(["unit_id", "criterion"]).sort_index()
    groups = {g.id: g for g in rules.groups}
    cards = ['<h2 class="appendix">PHỤ LỤC. PHIẾU ĐIỂM TỪNG CƠ QUAN, ĐƠN VỊ</h2>',
             "<p class='small'>Mỗi phiếu điểm ghi điểm tối đa, điểm tự chấm và điểm thẩm định của từng tiêu chí "
             "(mã tiêu chí: xem bảng bộ tiêu chí ở mục 1; số in nghiêng màu xám là điểm quy đổi của tiêu chí không "
             "áp dụng), kết quả phiếu đánh giá, từng nội dung thưởng, trừ với cơ quan đề nghị, minh chứng và mức "
             "tối đa đã áp dụng, và phép tính đến điểm đánh giá. Điểm một tiêu chí chấm bằng phiếu đánh giá kèm "
             "khoảng 95% của nó: khoảng điểm mà tiêu chí nhận được khi chọn lại ngẫu nhiên, có hoàn lại, các phiếu "
             "của đơn vị (giữ số phiếu của từng loại người chấm) — số phiếu càng ít, khoảng càng rộng.</p>"]
    for r in ev.ranked.itertuples(index=False):
        cs = sets[r.criteria_set]
        mine = lines.get_group(r.unit_id)
        head = ["", *[_e(c) for c in mine["criterion"]], "Cộng"]
        def cell(ln, value):
            return _pts(value) if ln.applicable else f"<span class='credited'>{_pts(value)}</span>"
        rows = [["Tối đa", *[fmt_bound(m) for m in mine["max_points"]], fmt_bound(cs.total)],
                ["Tự chấm", *[cell(ln, ln.self_final_points) for ln in mine.itertuples(index=False)],
                 _pts(r.self_appraisal)],
                ["Thẩm định", *[cell(ln, ln.final_points) + ("<sup>p</sup>" if ln.source == "survey" else "")
                                for ln in mine.itertuples(index=False)], f"<strong>{_pts(r.appraisal)}</strong>"]]
        n = len(mine)
        crit = _table(head, rows, cls="card-criteria", numeric=range(1, n + 2),
                      widths=(13, *[(100 - 13 - 9) / n] * n, 9))
        notes_html = _card_notes(mine, survey, r.unit_id, intervals)
        adj_html = "<p class='card-none'>Không có điểm thưởng, điểm trừ.</p>"
        if adj is not None and r.unit_id in adj.groups:
            caps_of_unit = log[(log["unit_id"] == r.unit_id) & log["item"].notna()]
            group_rows = adj.get_group(r.unit_id)
            # An item cap concerns all the unit's rows of the item: said once, on its last row.
            last_of_item = set(group_rows.drop_duplicates("item", keep="last")["row"])
            arows = []
            for a in group_rows.itertuples(index=False):
                it = items[a.item]
                how = (f"{int(a.count)} lần" if it.points is not None else
                       f"{_pts(a.amount)} điểm" + (f" ({int(a.count)} lần)" if it.up_to is not None and a.count != 1
                                                    else ""))
                caps = caps_of_unit[((caps_of_unit["stage"] == "up_to") & (caps_of_unit["row"] == a.row))
                                    | ((caps_of_unit["stage"] == "item_cap") & (caps_of_unit["item"] == a.item)
                                       & (a.row in last_of_item))]
                cap_text = "; ".join(f"{stage[c.stage]} {fmt_bound(c.limit)}: −{_pts(c.removed)}"
                                     for c in caps.itertuples(index=False))
                sign = "+" if it.kind == "bonus" else "−"
                evidence = _e(a.evidence) if isinstance(a.evidence, str) and a.evidence else \
                    "<span class='warn'>thiếu minh chứng</span>"
                arows.append([f"<strong>{_e(a.item)}</strong> {_e(it.name)}", _e(a.source), evidence, _e(how),
                              f"{sign}{_pts(a.points)}", _e(cap_text)])
            adj_html = _table(["Thưởng, trừ", "Cơ quan đề nghị", "Minh chứng", "Số lần / điểm", "Điểm", "Mức tối đa"],
                              arows, cls="card-items", numeric=(4,), widths=(36, 19, 14, 10, 7, 14))
        badge = tier_badge(tiers[r.tier], short=True)
        cards.append(f"""<section class="scorecard">
<div class="card-head"><span class="card-meta">{_e(cs.name)} · hạng {r.rank} · {badge}
<strong>{number(r.score, rules.precision.decimals)}</strong></span>
<span class="card-title">{_e(groups[r.group].numeral)}.{r.order}. {_e(r.unit)}</span></div>
{crit}{notes_html}{adj_html}<p class="card-sum">{_arithmetic(r, rules)}</p></section>""")
    return "\n".join(cards)
