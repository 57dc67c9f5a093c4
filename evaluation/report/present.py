"""The report's content as HTML fragments, built from an :class:`~evaluation.engine.pipeline.Evaluation`.

The report notebook displays these fragments; nbconvert places them in the
page.  Each function prepares plain data (text, numbers written the Vietnamese
way through :mod:`evaluation.fmt`) and renders its template,
``templates/fragments/present/<function>.html.j2`` (see :mod:`.render`).  The
templates escape every value, so a unit named ``<script>`` is printed, never run.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from markupsafe import Markup

from .. import __version__
from ..engine.pipeline import Evaluation
from ..engine.summarise import group_gaps, near_bounds, unit_gaps
from ..fmt import fmt_bound, number, numbers
from ..inputs.rules import Rules, Tier
from .render import render

__all__ = [
    "title_block", "illustrative_banner", "method", "summary", "group_tables", "gap_table",
    "group_gap_table", "near_bound_table", "notes", "provenance", "closing", "tier_badge",
]

ROUNDING = {"down": "bỏ phần lẻ (không làm tròn lên)", "up": "làm tròn lên",
            "half_up": "làm tròn (từ 5 trở lên làm tròn lên)",
            "half_even": "làm tròn về số chẵn gần nhất"}


def tier_data(tier: Tier) -> dict[str, str]:
    """What the ``badge`` macro shows of a tier."""
    return {"name": tier.name, "short": tier.short, "color": tier.color}


def tier_badge(tier: Tier, *, short: bool = False, mark: str = "") -> str:
    """A tier as coloured text: the colour helps, the words carry the meaning.

    ``mark`` is HTML placed after the label (a footnote number, ``<sup>1</sup>``), as
    this function has always taken it; the templates use the ``badge`` macro instead.
    """
    return render("present/tier_badge.html.j2", tier=tier_data(tier), short=short, mark=Markup(mark))


# -- title and closing ---------------------------------------------------------------------


def illustrative_banner(ev: Evaluation) -> str:
    return render("present/illustrative_banner.html.j2", illustrative=ev.params.params.illustrative)


def title_block(ev: Evaluation) -> str:
    """The heading of an administrative report: issuing body, national motto, place and date, title."""
    r = ev.params.params.report
    return render("present/title_block.html.j2", illustrative=ev.params.params.illustrative,
                  report={"issuer_parent": r.issuer_parent, "issuer": r.issuer, "place_date": r.place_date,
                          "title": r.title, "subtitle": r.subtitle},
                  regulations=[{"citation": reg.citation, "title": reg.title,
                                "confirmed": reg.confirmed} for reg in ev.rules.regulations])


def closing(ev: Evaluation) -> str:
    """Recipients and signature, as the seed report ends."""
    r = ev.params.params.report
    if not (r.recipients or r.signer_title):
        return ""
    return render("present/closing.html.j2", recipients=list(r.recipients), signer_title=r.signer_title,
                  signer_name=r.signer_name)


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
    return render(
        "present/method.html.j2",
        scale={"score_max": s.score_max, "appraisal_max": s.appraisal_max, "adjustment_max": s.adjustment_max,
               "confirmed": s.confirmed},
        bodies=[{"name": b.name, "role": b.role, "confirmed": b.confirmed} for b in rules.bodies],
        notes=list(rules.method_notes),
        precision={"decimals": p.decimals, "rounding": ROUNDING[p.rounding], "confirmed": p.confirmed},
        tiers=[{"tier": tier_data(t), "bounds": _bounds_text(rules, i), "confirmed": t.confirmed}
               for i, t in enumerate(rules.tiers)],
        conditions=[{"name": c.name, "max_tier": rules.tier(c.max_tier).short, "confirmed": c.confirmed}
                    for c in rules.conditions],
        quotas=[{"tier": rules.tier(q.tier).short, "percent": q.max_ratio * 100,
                 "of": None if q.of == "all" else rules.tier(q.of).short, "by_group": q.scope == "group",
                 "confirmed": q.confirmed} for q in rules.quotas])


# -- results --------------------------------------------------------------------------------


def summary(ev: Evaluation) -> str:
    """The summary sentences and the count of units by tier and group."""
    rules = ev.rules
    counts = ev.counts
    groups = [rules.group(g) for g in ev.groups]  # the groups the year evaluates, no empty column
    share = (60 // (len(groups) + 1))
    return render(
        "present/summary.html.j2",
        sentences=list(ev.sentences),
        groups=[f"{g.numeral}. {g.name}" for g in groups],
        tiers=[{"tier": tier_data(t), "counts": [str(counts.at[t.id, g.id]) for g in groups],
                "total": str(counts.at[t.id, "total"])} for t in rules.tiers],
        totals=[str(counts.at["total", g.id]) for g in groups] + [str(counts.at["total", "total"])],
        numeric=list(range(1, len(groups) + 2)),
        widths=[100 - share * (len(groups) + 1)] + [share] * (len(groups) + 1))


def _score_cells(frame: pd.DataFrame, rules: Rules) -> tuple[pd.Series, pd.Series]:
    self_text = numbers(frame["self_score"], 1, max_decimals=2)
    score_text = numbers(frame["score"], rules.precision.decimals)
    return self_text, score_text


def group_tables(ev: Evaluation) -> str:
    """One table per group, laid out as in the seed: TT, Đơn vị, Điểm tự chấm, Điểm đánh giá, xếp loại."""
    rules = ev.rules
    ranked = ev.ranked
    self_text, score_text = _score_cells(ranked, rules)
    tiers = {t.id: tier_data(t) for t in rules.tiers}
    groups = []
    footnotes = []
    for g in rules.groups:
        sel = ranked["group"] == g.id
        if not sel.any():
            continue
        rows = []
        for i in ranked.index[sel]:
            note = ""
            reason = ranked.at[i, "tier_reason"]
            if reason:
                footnotes.append(f"{ranked.at[i, 'unit']}: {reason}")
                note = str(len(footnotes))
            rows.append({"order": str(ranked.at[i, "order"]), "unit": ranked.at[i, "unit"],
                         "self_score": self_text[i], "score": score_text[i], "tier": tiers[ranked.at[i, "tier"]],
                         "note": note})
        groups.append({"numeral": g.numeral, "name": g.name, "rows": rows})
    return render("present/group_tables.html.j2", groups=groups, footnotes=footnotes,
                  heading=rules.wording.classification_heading)


def gap_table(ev: Evaluation, top: int) -> str:
    """The units whose self score exceeds the appraisal most."""
    rules = ev.rules
    gaps = unit_gaps(ev.ranked)
    head = gaps.head(top)
    self_text, score_text = _score_cells(head, rules)
    names = {g.id: g.numeral for g in rules.groups}
    rows = [[str(n), head.at[i, "unit"], names[head.at[i, "group"]], self_text[i], score_text[i],
             number(head.at[i, "gap"], 1, max_decimals=2)]
            for n, i in enumerate(head.index, start=1)]
    return render("present/gap_table.html.j2", rows=rows, empty=gaps.empty)


def group_gap_table(ev: Evaluation) -> str:
    """Mean, median and largest gap per group; how many units scored themselves higher."""
    rules = ev.rules
    table = group_gaps(ev.ranked, rules)
    if table.empty:
        return ""
    rows = [[f"{rules.group(g).numeral}. {rules.group(g).name}",
             f"{int(table.at[g, 'above'])}/{int(table.at[g, 'units'])}",
             number(table.at[g, "mean_gap"], 1, max_decimals=2),
             number(table.at[g, "median_gap"], 1, max_decimals=2),
             number(table.at[g, "max_gap"], 1, max_decimals=2)] for g in table.index]
    return render("present/group_gap_table.html.j2", rows=rows)


def near_bound_table(ev: Evaluation, within: float) -> str:
    """Units within ``within`` points of a tier bound, for the council's attention."""
    rules = ev.rules
    near = near_bounds(ev.ranked, rules, within)
    tiers = {t.id: t for t in rules.tiers}
    _, score_text = _score_cells(near, rules)
    rows = []
    for i in near.index:
        d = near.at[i, "distance"]
        side = "trên" if d >= 0 else "dưới"
        rows.append({"unit": near.at[i, "unit"], "group": rules.group(near.at[i, "group"]).numeral,
                     "score": score_text[i],
                     "bound": f"{fmt_bound(near.at[i, 'bound'])} ({tiers[near.at[i, 'bound_tier']].short})",
                     "distance": f"{number(abs(d), rules.precision.decimals)} điểm {side} ngưỡng",
                     "tier": tier_data(tiers[near.at[i, "tier"]])})
    return render("present/near_bound_table.html.j2", rows=rows, within=within)


# -- notes and provenance ------------------------------------------------------------------


def notes(ev: Evaluation) -> str:
    """Unconfirmed rule values and the names normalised from the inputs."""
    return render("present/notes.html.j2",
                  loose=[{"where": where, "what": what} for where, what in ev.rules.unconfirmed()],
                  renamed=[[a, b] for a, b in zip(ev.renamed["input"], ev.renamed["unit"], strict=True)],
                  source_note=ev.params.params.report.source_note)


def provenance(ev: Evaluation, parameters: Mapping[str, object]) -> str:
    """SHA-256 of each input, the rules applied, the package version and the run's parameters."""
    prov = ev.provenance
    files = [{"role": r, "file": f, "bytes": str(b), "sha256": h}
             for r, f, b, h in zip(prov["role"], prov["file"], prov["bytes"], prov["sha256"], strict=True)]
    return render("present/provenance.html.j2", files=files, rules_id=ev.rules.id, rules_name=ev.rules.name,
                  version=__version__, parameters=list(parameters.items()))
