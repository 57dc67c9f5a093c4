"""The report's content as HTML fragments, built from an :class:`~evaluation.engine.pipeline.Evaluation`.

The report notebook displays these fragments; nbconvert places them in the
page.  Each function prepares plain data (text, numbers written the Vietnamese
way through :mod:`evaluation.fmt`) and renders its template,
``templates/fragments/present/<function>.html.j2`` (see :mod:`.render`).  The
templates escape every value, so a unit named ``<script>`` is printed, never run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from markupsafe import Markup

from .. import __version__
from ..engine.pipeline import Evaluation
from ..engine.summarise import findings, group_gaps, near_bounds, unit_gaps
from ..fmt import BLANK, doc_date, fmt_bound, number, numbers
from ..inputs.rules import ROUNDING_WORDS, Rules, Tier
from .render import render

__all__ = [
    "title_block", "illustrative_banner", "method", "adjustments_content", "summary", "group_tables",
    "count_table", "assessment", "closing", "annex", "gap_table", "group_gap_table", "near_bound_table",
    "notes", "provenance", "tier_badge", "tier_legend", "self_decimals",
]

ROUNDING = ROUNDING_WORDS
# How the annex names the inputs and the run's parameters (plain words, not file roles or code names).
ROLES = {"params": "tham số của năm", "rules": "quy định (tiêu chí, mức xếp loại)", "registry": "danh mục đơn vị",
         "scores": "điểm tổng hợp", "criteria": "điểm theo tiêu chí", "survey": "phiếu đánh giá",
         "adjustments": "điểm thưởng, điểm trừ", "conditions": "điều kiện xếp loại", "text": "phần chữ «Đánh giá chung»"}
PARAMETERS = {"year": "năm", "params_file": "tệp tham số", "data_dir": "thư mục số liệu (khi khác tệp tham số)",
              "near_bound": "khoảng cách «sát ngưỡng» (điểm)",
              "top_gaps": "số đơn vị chênh lệch lớn nhất được liệt kê"}


def self_decimals(rules: Rules) -> int:
    """Decimals of every self score and sum printed (the rules' ``precision.stages.total``)."""
    return rules.precision.stages.total.decimals


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


def _document(kind: str | None, number: str, date: str | None, issuer: str, title: str) -> str:
    """"Quyết định số 221/2016/QĐ-UBND ngày 18/01/2016 của UBND tỉnh quy định về việc …"."""
    return " ".join(x for x in (f"{kind} số {number}" if kind else number, f"ngày {date}" if date else "",
                                f"của {issuer}" if issuer else "", title) if x)


def title_block(ev: Evaluation) -> str:
    """The heading of an administrative report (Nghị định 30/2020/NĐ-CP) and its opening paragraphs.

    Issuing body, national motto, "Số: …/BC-…", place and date (a blank day is a draft), "BÁO CÁO"
    and the summary line; then "Thực hiện …" citing every basis document (the rules' regulations,
    then the year's own) and the Sở's introduction.
    """
    r = ev.params.params.report
    docs = [_document(reg.kind, reg.number, reg.date, reg.issuer, reg.title) for reg in ev.rules.regulations]
    docs += [_document(b.kind, b.number, b.date, b.issuer, b.title) for b in r.basis]
    place_date = doc_date(r.place, r.date.day, r.date.month, r.date.year) if r.date else r.place_date
    return render("present/title_block.html.j2", illustrative=ev.params.params.illustrative,
                  report={"issuer_parent": r.issuer_parent, "issuer": r.issuer, "symbol": r.symbol,
                          "number": r.number or BLANK, "place_date": place_date, "title": r.title, "subtitle": r.subtitle,
                          "intro": r.intro},
                  basis="; ".join(docs))


def closing(ev: Evaluation) -> str:
    """The closing formula, recipients ("Lưu: …" last) and signature, as the seed report ends."""
    r = ev.params.params.report
    return render("present/closing.html.j2", closing=r.closing, recipients=list(r.recipients), archive=r.archive,
                  signer_title=r.signer_title, signer_name=r.signer_name)


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


def tier_legend(rules: Rules) -> list[dict[str, object]]:
    """Each tier with its short label (as the tables print it) and its score range."""
    return [{"tier": tier_data(t), "bounds": _bounds_text(rules, i)} for i, t in enumerate(rules.tiers)]


def method(ev: Evaluation) -> str:
    """Section 1 as the seed writes it: the appraising bodies and what each scores, then the tiers.

    Nothing here is starred: what the source does not confirm is said in the annex.
    """
    rules = ev.rules
    s = rules.scale
    p = rules.precision
    return render(
        "present/method.html.j2",
        scale={"score_max": s.score_max, "appraisal_max": s.appraisal_max, "adjustment_max": s.adjustment_max},
        bodies=[{"name": b.name, "role": b.role} for b in rules.bodies],
        notes=list(rules.method_notes),
        appraisal_note=ev.params.params.report.appraisal_note,
        precision={"decimals": p.decimals, "rounding": ROUNDING[p.rounding]},
        tiers=tier_legend(rules),
        conditions=[{"name": c.name, "max_tier": rules.tier(c.max_tier).name} for c in rules.conditions],
        quotas=[{"tier": rules.tier(q.tier).name, "percent": q.max_ratio * 100,
                 "of": None if q.of == "all" else rules.tier(q.of).name, "by_group": q.scope == "group"}
                for q in rules.quotas])


def adjustments_content(ev: Evaluation) -> str:
    """Section 2: the content and points of each bonus and penalty, as the rules (the regulation) say."""
    rules = ev.rules
    items = rules.adjustments.items
    return render("present/adjustments_content.html.j2", adjustment_max=rules.scale.adjustment_max,
                  intro=ev.params.params.report.adjustments_intro,
                  bonus=[it.text for it in items if it.kind == "bonus"],
                  penalty=[it.text for it in items if it.kind == "penalty"])


# -- results --------------------------------------------------------------------------------


def summary(ev: Evaluation) -> str:
    """Section 3's opening: the seed's sentence counting the units, and one sentence per tier."""
    return render("present/summary.html.j2", year=ev.params.year, sentences=list(ev.sentences))


def count_table(ev: Evaluation) -> str:
    """Units by tier and group, with totals."""
    rules = ev.rules
    counts = ev.counts
    groups = [rules.group(g) for g in ev.groups]  # the groups the year evaluates, no empty column
    share = (60 // (len(groups) + 1))
    return render(
        "present/count_table.html.j2",
        groups=[f"{g.numeral}. {g.name}" for g in groups],
        tiers=[{"tier": tier_data(t), "counts": [str(counts.at[t.id, g.id]) for g in groups],
                "total": str(counts.at[t.id, "total"])} for t in rules.tiers],
        totals=[str(counts.at["total", g.id]) for g in groups] + [str(counts.at["total", "total"])],
        numeric=list(range(1, len(groups) + 2)),
        widths=[100 - share * (len(groups) + 1)] + [share] * (len(groups) + 1))


def _score_cells(frame: pd.DataFrame, rules: Rules) -> tuple[pd.Series, pd.Series]:
    """Self scores at the precision of totals, published scores at theirs: one precision per column."""
    self_text = numbers(frame["self_score"], self_decimals(rules))
    score_text = numbers(frame["score"], rules.precision.decimals)
    return self_text, score_text


def group_tables(ev: Evaluation) -> str:
    """One table per group, as in the seed: TT, rank, unit, self score, score, tier (short, with a legend)."""
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
            rows.append({"order": str(ranked.at[i, "order"]), "rank": str(ranked.at[i, "rank"]),
                         "unit": ranked.at[i, "unit"], "self_score": self_text[i], "score": score_text[i],
                         "tier": tiers[ranked.at[i, "tier"]], "note": note})
        groups.append({"numeral": g.numeral, "name": g.name, "rows": rows})
    return render("present/group_tables.html.j2", groups=groups, footnotes=footnotes,
                  tier_head=rules.wording.classification_heading, legend=tier_legend(rules))


def assessment(ev: Evaluation, within: float, also: Sequence[str] = ()) -> str:
    """Section 4 "Đánh giá chung": what the numbers show (computed), then the Sở's own text for the year.

    The text is Markdown written by the Sở (``report.assessment``); any HTML in it is shown as text.
    ``also``: further findings made elsewhere, after the computed ones (how sure the tiers are:
    :func:`evaluation.report.present_sensitivity.statement`).
    """
    import mistune

    text = ev.inputs.assessment     # read once with the other inputs (its checksum is in the annex)
    to_html = mistune.create_markdown(escape=True)
    return render("present/assessment.html.j2",
                  findings=[*findings(ev.ranked, ev.rules, within=within, decimals=self_decimals(ev.rules)), *also],
                  text=Markup(to_html(text)) if text.strip() else "")


def gap_table(ev: Evaluation, top: int) -> str:
    """The units whose self score exceeds the appraisal most."""
    rules = ev.rules
    gaps = unit_gaps(ev.ranked)
    head = gaps.head(top)
    self_text, score_text = _score_cells(head, rules)
    names = {g.id: g.numeral for g in rules.groups}
    rows = [[str(n), head.at[i, "unit"], names[head.at[i, "group"]], self_text[i], score_text[i],
             number(head.at[i, "gap"], self_decimals(rules))]
            for n, i in enumerate(head.index, start=1)]
    return render("present/gap_table.html.j2", rows=rows, empty=gaps.empty)


def group_gap_table(ev: Evaluation) -> str:
    """Mean, median and largest gap per group; how many units scored themselves higher."""
    rules = ev.rules
    table = group_gaps(ev.ranked, rules)
    if table.empty:
        return ""
    d = self_decimals(rules)
    rows = [[f"{rules.group(g).numeral}. {rules.group(g).name}",
             f"{int(table.at[g, 'above'])}/{int(table.at[g, 'units'])}",
             number(table.at[g, "mean_gap"], d), number(table.at[g, "median_gap"], d),
             number(table.at[g, "max_gap"], d)] for g in table.index]
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


def annex(ev: Evaluation) -> str:
    """The heading of the annex that follows the signature (analysis, notes on the data, provenance)."""
    return render("present/annex.html.j2", year=ev.params.year)


def notes(ev: Evaluation) -> str:
    """In plain words: the rule values the source does not confirm, the names normalised, the data's source."""
    return render("present/notes.html.j2",
                  loose=[what for _, what in ev.rules.unconfirmed()],
                  renamed=[[a, b] for a, b in zip(ev.renamed["input"], ev.renamed["unit"], strict=True)],
                  source_note=ev.params.params.report.source_note)


def provenance(ev: Evaluation, parameters: Mapping[str, object]) -> str:
    """SHA-256 of each input, the rules applied, the package version and the run's parameters, in words."""
    prov = ev.provenance
    files = [{"role": ROLES.get(r, r), "file": f, "bytes": str(b), "sha256": h}
             for r, f, b, h in zip(prov["role"], prov["file"], prov["bytes"], prov["sha256"], strict=True)]
    shown = [(PARAMETERS.get(k, k), _plain_value(v)) for k, v in parameters.items() if v not in ("", None)]
    return render("present/provenance.html.j2", files=files, rules_name=ev.rules.name,
                  version=__version__, parameters=shown)


def _plain_value(value: object) -> str:
    if isinstance(value, float):
        return number(value, 0, max_decimals=6)
    return str(value)
