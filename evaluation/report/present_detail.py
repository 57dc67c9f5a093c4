"""The report's sections for years scored from their parts (criteria, surveys, bonus and penalty).

Every function returns an HTML fragment, or ``""`` when the year publishes
totals only (``ev.detail is None``), so the same notebook serves both kinds of
year.  Each prepares plain data (numbers written the Vietnamese way) and renders
``templates/fragments/present_detail/<function>.html.j2``, which escapes every value.
"""

from __future__ import annotations

import functools

import pandas as pd

from ..engine.criteria import criterion_gaps
from ..engine.pipeline import Evaluation
from ..engine.sensitivity import survey_intervals
from ..fmt import fmt_bound, number
from ..inputs.catalogue import scope_text
from ..inputs.rules import ROUNDING_WORDS, Rules
from .present import tier_data
from .present_collect import card_sources
from .render import render

__all__ = ["method", "items_table", "components", "bodies", "surveys", "adjustments", "criteria_chart_intro",
           "criterion_gaps_table", "notes", "score_cards", "stage_names"]


def _points(rules: Rules):
    """How points are printed: at the precision of the rules' sums, the same digits in every column.

    Every stage's values are no finer than the sums (the rules check it), so nothing is lost.
    """
    decimals = rules.precision.stages.total.decimals
    # Cached: a year's cards print the same few values thousands of times (babel formats each anew).
    return functools.lru_cache(maxsize=4096)(lambda value: number(value, decimals))


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
    # Criteria × sets: the maxima side by side.
    sets = rules.criteria_sets
    codes: dict[str, tuple[str, str]] = {}
    for cs in sets:
        for c in cs.criteria:
            codes.setdefault(c.code, (c.name, c.body))
    maxima = {(cs.id, c.code): c for cs in sets for c in cs.criteria}
    criteria = [{"code": code, "name": name, "body": rules.body(body).label,
                 "maxima": ["" if (cs.id, code) not in maxima else fmt_bound(maxima[(cs.id, code)].max)
                            for cs in sets]}
                for code, (name, body) in codes.items()]
    share = 48 // len(sets)
    units = ev.registry.units["short_name"]
    kinds = {r.id: r.name for r in rules.rater_kinds}
    formula = {"mean_over_max": "TB ÷ {hi} × điểm tối đa", "mean_min_max": "(TB − {lo}) ÷ ({hi} − {lo}) × điểm tối đa"}
    below = {"not_applicable": "không tính, quy đổi như tiêu chí không áp dụng", "zero": "0 điểm",
             "score": "vẫn tính, có đánh dấu"}
    stages = rules.precision.stages
    return render(
        "present_detail/method.html.j2",
        scale={"appraisal_max": s.appraisal_max, "adjustment_max": s.adjustment_max, "score_min": s.score_min,
               "score_max": s.score_max},
        stages={k: getattr(stages, k).decimals for k in ("criterion", "survey", "adjustment", "total")},
        decimals=rules.precision.decimals,
        sets=[{"name": cs.name, "total": cs.total,
               "units": ", ".join(units.get(u, u) for u in
                                  ev.detail.sets.loc[ev.detail.sets["criteria_set"] == cs.id, "unit_id"])}
              for cs in sets],
        set_labels=[cs.label for cs in sets],
        criteria=criteria,
        numeric=list(range(3, 3 + len(sets))),
        widths=(10, 100 - 10 - 12 - share * len(sets), 12, *[share] * len(sets)),
        bodies=", ".join(f"{b.label} = {b.name}" for b in rules.bodies if b.short),
        surveys=[{"name": sv.name, "criterion": sv.criterion,
                  "raters": "; ".join(kinds.get(r, r) for r in sv.raters),
                  "scale": f"{fmt_bound(sv.scale_min)}–{fmt_bound(sv.scale_max)}",
                  "formula": formula[sv.formula].format(lo=fmt_bound(sv.scale_min), hi=fmt_bound(sv.scale_max)),
                  "minimum": f"{sv.min_responses}; dưới mức: {below[sv.below_minimum]}"} for sv in rules.surveys])


def items_table(ev: Evaluation) -> str:
    """The bonus and penalty items with their codes, rates, caps and scopes (annex of a detailed year)."""
    if ev.detail is None or not ev.rules.adjustments.items:
        return ""
    rules = ev.rules
    names = ev.registry.units["short_name"]
    items = rules.adjustments.items
    return render("present_detail/items_table.html.j2",
                  items=[{"title": title,
                          "rows": [{"code": it.code, "name": it.name, "rate": _rate_text(it),
                                    "cap": "" if it.cap is None else fmt_bound(it.cap),
                                    "scope": scope_text(it.scope, rules, names)} for it in items if it.kind == kind]}
                         for kind, title in (("bonus", "Điểm thưởng"), ("penalty", "Điểm trừ"))])


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
    pts = _points(ev.rules)
    rules = ev.rules
    d = ev.detail
    log = d.log
    bound_bit = set(log.loc[log["stage"].isin(["total", "total_bonus", "total_penalty", "clamp"]), "unit_id"])
    by_body = d.bodies.pivot(index="unit_id", columns="body", values="final_points")
    order = [b.id for b in rules.bodies if b.id in by_body.columns]
    n = len(order)
    groups = []
    for g, sel in _by_group(ev):
        rows = [{"order": str(r.order), "unit": r.unit,
                 "bodies": [pts(by_body.at[r.unit_id, b]) if pd.notna(by_body.at[r.unit_id, b]) else "" for b in order],
                 "appraisal": pts(r.appraisal), "bonus": pts(r.bonus), "penalty": pts(r.penalty),
                 "adjustment": pts(r.adjustment) + (" ‡" if r.unit_id in bound_bit else ""),
                 "total": pts(r.final_score), "score": number(r.score, rules.precision.decimals)}
                for r in sel.itertuples(index=False)]
        groups.append({"numeral": g.numeral, "name": g.name, "rows": rows})
    return render(
        "present_detail/components.html.j2", groups=groups, bodies=[rules.body(b).label for b in order],
        head=["TT", "Đơn vị", *[rules.body(b).label for b in order], "Thẩm định", "Thưởng", "Trừ", "Điều chỉnh",
              "Tổng", "Công bố"],
        numeric=list(range(2, n + 8)),
        widths=(),
        decimals=rules.precision.decimals, rounding=ROUNDING_WORDS[rules.precision.rounding],
        adjustment_max=rules.scale.adjustment_max,
        names="; ".join(f"{rules.body(b).label}: {rules.body(b).name}" for b in order
                        if rules.body(b).label != rules.body(b).name))


def bodies(ev: Evaluation) -> str:
    """Appraising bodies per group: mean points against the mean maximum (share of the maximum)."""
    if ev.detail is None:
        return ""
    rules = ev.rules
    table = ev.detail.bodies.merge(ev.ranked[["unit_id", "group"]], on="unit_id")
    per = table.groupby(["group", "body"], sort=False).agg(points=("final_points", "sum"), top=("max_points", "sum"),
                                                           units=("unit_id", "nunique"))
    order = [b.id for b in rules.bodies if b.id in set(table["body"])]
    groups = []
    for g in rules.groups:
        if g.id not in set(table["group"]):
            continue
        cells = []
        for b in order:
            if (g.id, b) in per.index:
                x = per.loc[(g.id, b)]
                cells.append({"points": number(x["points"] / x["units"], 1), "top": number(x["top"] / x["units"], 1),
                              "share": number(x["points"] / x["top"] * 100, 0)})
            else:
                cells.append(None)
        groups.append({"name": f"{g.numeral}. {g.name}", "cells": cells})
    share = (100 - 28) // len(order)
    return render("present_detail/bodies.html.j2", groups=groups, bodies=[rules.body(b).label for b in order],
                  numeric=list(range(1, len(order) + 1)),
                  widths=(100 - share * len(order), *[share] * len(order)))


def surveys(ev: Evaluation) -> str:
    """Forms received per survey and rater kind, and the units flagged for too few forms."""
    d = ev.detail
    if d is None or d.survey is None:
        return ""
    rules = ev.rules
    kinds = {r.id: r.name for r in rules.rater_kinds}
    names = {s.id: s.name for s in rules.surveys}
    counts = [[names.get(r.survey, r.survey), kinds.get(r.rater_kind, r.rater_kind), str(r.raters), str(r.forms),
               str(r.answers), str(r.units)] for r in d.survey_counts.itertuples(index=False)]
    unit = ev.registry.units["short_name"]
    what = {"not_applicable": "không tính; quy đổi như tiêu chí không áp dụng", "zero": "tính 0 điểm",
            "score": "vẫn tính điểm"}
    below = {s.id: s.below_minimum for s in rules.surveys}
    flagged = [[unit[r.unit_id], names.get(r.survey, r.survey), r.criterion, f"{r.forms}/{r.min_responses}",
                what[below[r.survey]]] for r in d.survey[d.survey["flag"]].itertuples(index=False)]
    return render("present_detail/surveys.html.j2", counts=counts, flagged=flagged)


def adjustments(ev: Evaluation) -> str:
    """Bonus and penalty items used, and every cap or bound that bit with the points it removed."""
    d = ev.detail
    if d is None:
        return ""
    pts = _points(ev.rules)
    rules = ev.rules
    items = {it.code: it for it in rules.adjustments.items}
    per = d.adjustment_items
    used = []
    if len(per):
        summary = per.groupby("item", sort=False).agg(units=("unit_id", "nunique"), raw=("raw", "sum"),
                                                      points=("points", "sum"))
        order = [c for c in items if c in summary.index]
        used = [{"title": title,
                 "rows": [{"code": c, "name": items[c].name, "units": str(int(summary.at[c, "units"])),
                           "raw": pts(summary.at[c, "raw"]), "points": pts(summary.at[c, "points"])}
                          for c in order if items[c].kind == kind]}
                for kind, title in (("bonus", "Điểm thưởng"), ("penalty", "Điểm trừ"))]
    stage = stage_names(rules)
    unit = ev.registry.units["short_name"]
    caps = [[unit[r.unit_id], stage.get(r.stage, r.stage), "" if pd.isna(r.item) else r.item, pts(r.before),
             pts(r.limit), pts(r.after), pts(r.removed)] for r in d.log.itertuples(index=False)]
    return render("present_detail/adjustments.html.j2", items=used, caps=caps)


def criteria_chart_intro(ev: Evaluation) -> str:
    """Heading and reading guide of the points-by-criterion charts."""
    if ev.detail is None:
        return ""
    return render("present_detail/criteria_chart_intro.html.j2", appraisal_max=ev.rules.scale.appraisal_max)


def criterion_gaps_table(ev: Evaluation, top: int) -> str:
    """Where self points exceed the appraisal most, criterion by criterion, and per criterion overall."""
    d = ev.detail
    if d is None:
        return ""
    pts = _points(ev.rules)
    gaps = criterion_gaps(d.lines)
    if gaps.empty:
        return ""
    unit = ev.registry.units["short_name"]
    head = gaps.head(top)
    rows = [[str(n), unit[r.unit_id], r.criterion, fmt_bound(r.max_points), pts(r.self_points),
             pts(r.points), pts(r.gap), number(r.share * 100, 0) + "%"]
            for n, r in enumerate(head.itertuples(index=False), start=1)]
    per = gaps.groupby("criterion", sort=False).agg(
        units=("gap", "size"), above=("gap", lambda g: int((g > 0).sum())), mean=("gap", "mean"),
        largest=("gap", "max"), share=("share", "mean"))
    per = per.sort_values(["share", "mean"], ascending=False, kind="stable")
    names = d.catalogue.drop_duplicates("criterion").set_index("criterion")["name"]
    criteria = [{"code": c, "name": names.get(c, ""), "above": f"{int(r.above)}/{int(r.units)}", "mean": pts(r.mean),
                 "largest": pts(r.largest), "share": number(r.share * 100, 1) + "%"}
                for c, r in zip(per.index, per.itertuples(), strict=True)]
    return render("present_detail/criterion_gaps_table.html.j2", top=rows, criteria=criteria)


def notes(ev: Evaluation) -> str:
    """Unconfirmed values of the detailed rules (criteria maxima, sets, surveys, items)."""
    if ev.detail is None:
        return ""
    loose = ev.rules.unconfirmed_detail()
    if not loose:
        return ""
    return render("present_detail/notes.html.j2", loose=[{"where": where, "what": what} for where, what in loose])


# -- score cards -------------------------------------------------------------------------------------


def _with_surveys(lines: pd.DataFrame, survey: pd.DataFrame | None, intervals: pd.DataFrame | None) -> pd.DataFrame:
    """The criterion lines with, where a survey scored them, its result (``sv_*``) and the 95 % sampling
    interval of the points (``iv_low``, ``iv_high``; none for a criterion that does not count): joined
    once for every card, not looked up line by line."""
    keys = ["unit_id", "criterion"]
    # Only what a card prints: itertuples reads every column of every unit's lines.
    out = lines[[*keys, "max_points", "self_final_points", "final_points", "applicable", "source", "flag",
                 "credited", "points", "ratio"]].copy()
    out["sv_found"] = False
    if survey is not None:
        sv = survey[[*keys, "forms", "mean", "scale_max", "min_responses"]].add_prefix("sv_").rename(
            columns={"sv_unit_id": "unit_id", "sv_criterion": "criterion"}).assign(sv_found=True)
        out = out.drop(columns="sv_found").merge(sv, on=keys, how="left", validate="many_to_one")
        out["sv_found"] = out["sv_found"].fillna(False).astype(bool)
        out[["sv_forms", "sv_min_responses"]] = out[["sv_forms", "sv_min_responses"]].astype("Int64")  # counts
    if intervals is not None:
        out = out.merge(intervals[[*keys, "low", "high"]].rename(columns={"low": "iv_low", "high": "iv_high"}),
                        on=keys, how="left", validate="many_to_one")
    else:
        out = out.assign(iv_low=float("nan"), iv_high=float("nan"))
    return out


def _card_notes(mine: list, pts) -> tuple[list[dict], str]:
    """Survey results (with the sampling interval of the points), and the sentence on criteria that do not
    apply, for the paragraph under a card's table (``mine``: a unit's lines as tuples, :func:`_with_surveys`)."""
    notes, not_applicable = [], []
    for ln in mine:
        if ln.sv_found:
            notes.append({"criterion": ln.criterion, "forms": ln.sv_forms, "mean": pts(ln.sv_mean),
                          "scale_max": fmt_bound(ln.sv_scale_max), "flag": bool(ln.flag),
                          "min_responses": ln.sv_min_responses,
                          "credited": pts(ln.credited) if ln.flag and not ln.applicable else None,
                          "points": pts(ln.points) if not ln.flag and ln.applicable else None,
                          "interval": None if pd.isna(ln.iv_low) else f"{pts(ln.iv_low)}–{pts(ln.iv_high)}"})
        elif not ln.applicable:
            not_applicable.append(f"{ln.criterion} không áp dụng, quy đổi {number(ln.ratio * 100, 1)}% × "
                                  f"{fmt_bound(ln.max_points)} = {pts(ln.credited)}")
    return notes, ("; ".join(not_applicable).capitalize() + ".") if not_applicable else ""


def _arithmetic(r, rules: Rules) -> dict[str, object]:
    """The numbers of the card's last line: appraisal + bonus − penalty (bounded) = final score."""
    pts = _points(rules)
    s = rules.scale
    net = r.bonus - r.penalty
    return {"appraisal": pts(r.appraisal), "bonus": pts(r.bonus), "penalty": pts(r.penalty),
            "net": pts(net) if abs(r.adjustment - net) > 1e-9 else None,
            "adjustment_max": s.adjustment_max, "adjustment": pts(r.adjustment), "final_raw": pts(r.final_raw),
            "final_score": pts(r.final_score) if abs(r.final_score - r.final_raw) > 1e-9 else None,
            "score_min": s.score_min, "score_max": s.score_max,
            "score": number(r.score, rules.precision.decimals), "decimals": rules.precision.decimals,
            "rounding": ROUNDING_WORDS[rules.precision.rounding],
            "self_appraisal": pts(r.self_appraisal), "self_score": pts(r.self_score)}


def _card_items(group_rows: pd.DataFrame, caps_of_unit: pd.DataFrame, items: dict, stage: dict[str, str],
                pts) -> list:
    """The bonus and penalty rows of one unit, each with the caps applied to it."""
    # An item cap concerns all the unit's rows of the item: said once, on its last row.
    last_of_item = set(group_rows.drop_duplicates("item", keep="last")["row"])
    out = []
    for a in group_rows.itertuples(index=False):
        it = items[a.item]
        how = (f"{int(a.count)} lần" if it.points is not None else
               f"{pts(a.amount)} điểm" + (f" ({int(a.count)} lần)" if it.up_to is not None and a.count != 1
                                            else ""))
        caps = caps_of_unit[((caps_of_unit["stage"] == "up_to") & (caps_of_unit["row"] == a.row))
                            | ((caps_of_unit["stage"] == "item_cap") & (caps_of_unit["item"] == a.item)
                               & (a.row in last_of_item))]
        out.append({"code": a.item, "name": it.name, "source": a.source,
                    "evidence": a.evidence if isinstance(a.evidence, str) and a.evidence else None,
                    "how": how, "points": ("+" if it.kind == "bonus" else "−") + pts(a.points),
                    "caps": "; ".join(f"{stage[c.stage]} {fmt_bound(c.limit)}: −{pts(c.removed)}"
                                      for c in caps.itertuples(index=False))})
    return out


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
    pts = _points(rules)
    tiers = {t.id: tier_data(t) for t in rules.tiers}
    sets = {cs.id: cs for cs in rules.criteria_sets}
    items = {it.code: it for it in rules.adjustments.items}
    stage = stage_names(rules)
    lines = _with_surveys(d.lines, d.survey, survey_intervals(ev)).groupby("unit_id", sort=False)
    # itertuples cannot name a field "_row": call it "row".
    adj_lines = d.adjustment_lines.rename(columns={"_row": "row"})
    adj = adj_lines.groupby("unit_id", sort=False) if len(adj_lines) else None
    caps = d.log[d.log["item"].notna()]
    caps_of = dict(tuple(caps.groupby("unit_id", sort=False)))
    groups = {g.id: g for g in rules.groups}
    sources = card_sources(ev)   # a year collected from the parties' forms: the cell of each figure
    cards = []
    for r in ev.ranked.itertuples(index=False):
        cs = sets[r.criteria_set]
        mine = list(lines.get_group(r.unit_id).itertuples(index=False))
        n = len(mine)
        rows = [{"label": "Tối đa", "cells": [{"value": fmt_bound(ln.max_points), "applicable": True, "survey": False}
                                              for ln in mine],
                 "total": fmt_bound(cs.total), "strong": False},
                {"label": "Tự chấm", "cells": [{"value": pts(ln.self_final_points), "applicable": ln.applicable,
                                               "survey": False} for ln in mine],
                 "total": pts(r.self_appraisal), "strong": False},
                {"label": "Thẩm định", "cells": [{"value": pts(ln.final_points), "applicable": ln.applicable,
                                                  "survey": ln.source == "survey"} for ln in mine],
                 "total": pts(r.appraisal), "strong": True}]
        surveys, not_applicable = _card_notes(mine, pts)
        card_items = None
        if adj is not None and r.unit_id in adj.groups:
            card_items = _card_items(adj.get_group(r.unit_id), caps_of.get(r.unit_id, caps.iloc[:0]), items, stage, pts)
        cards.append({"set_name": cs.name, "rank": r.rank, "tier": tiers[r.tier],
                      "score": number(r.score, rules.precision.decimals), "numeral": groups[r.group].numeral,
                      "order": r.order, "unit": r.unit,
                      "criteria": {"codes": [ln.criterion for ln in mine], "rows": rows, "numeric": list(range(1, n + 2)),
                                   "widths": (13, *[(100 - 13 - 9) / n] * n, 9)},
                      "surveys": surveys, "not_applicable": not_applicable, "adjustments": card_items,
                      "arithmetic": _arithmetic(r, rules), "sources": sources.get(r.unit_id, [])})
    return render("present_detail/score_cards.html.j2", cards=cards, sourced=bool(sources))
