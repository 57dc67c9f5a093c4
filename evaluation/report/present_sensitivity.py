"""The report's section «Độ tin cậy của kết quả xếp loại»: how sure each tier is (:mod:`evaluation.engine.sensitivity`).

Python prepares plain data (text and numbers already formatted the Vietnamese way) and renders
``present_sensitivity/reliability.html.j2`` (:func:`evaluation.report.render.render`: escaped text).
"""

from __future__ import annotations

from ..engine.pipeline import Evaluation
from ..engine.sensitivity import Sensitivity, analyse
from ..fmt import number, percent
from .present import tier_data
from .render import render

__all__ = ["reliability"]


def _driver(u) -> str:
    if u.driver_flips > 0:
        return f"{u.driver_label} ({percent(u.driver_flips, 1)})"
    if isinstance(u.driver_label, str):
        return f"nhiều yếu tố cùng lúc; riêng lẻ, {u.driver_label} làm điểm dao động nhiều nhất"
    return "—"


def reliability(ev: Evaluation, result: Sensitivity | None = None) -> str:
    """The section: what varies, how many units keep their tier in ≥ 95 % of the scenarios, the others and why.

    Parameters
    ----------
    ev : Evaluation
    result : Sensitivity, optional
        Default: :func:`~evaluation.engine.sensitivity.analyse` of ``ev`` under the year's declaration.
        A year that declares nothing gets a sentence saying so.
    """
    rules = ev.rules
    words = {"units": rules.wording.units, "heading": rules.wording.classification_heading,
             "tier_first": rules.ranking.by == "tier_then_score"}
    if result is None and ev.inputs.uncertainty is None:
        return render("present_sensitivity/reliability.html.j2", declared=False, **words)
    s = result if result is not None else analyse(ev)
    tiers = {t.id: t for t in rules.tiers}
    numerals = {g.id: g.numeral for g in rules.groups}
    factors = [{"label": f.label, "span": f.span, "note": f.note, "moved": f.units_moved}
               for f in s.factors.itertuples(index=False)]
    unstable = []
    for u in s.unstable.itertuples(index=False):
        shares = [{"tier": tier_data(t), "share": percent(getattr(u, f"share_{t.id}"), 1)}
                  for t in rules.tiers if getattr(u, f"share_{t.id}") > 0]
        unstable.append({"unit": u.unit, "group": numerals[u.group], "score": number(u.score, rules.precision.decimals),
                         "tier": tier_data(tiers[u.tier]), "shares": shares,
                         "rank": f"{u.rank} ({u.rank_low}–{u.rank_high})" if u.rank_low != u.rank_high
                         else f"{u.rank} ({u.rank_low})", "driver": _driver(u)})
    reasons = list(dict.fromkeys(s.skipped["reason"]))
    return render("present_sensitivity/reliability.html.j2", declared=True, draws=f"{s.draws:,}".replace(",", "."),
                   seed=s.seed, factors=factors, skipped="; ".join(s.skipped["label"]),
                   skipped_reason="; ".join(reasons), stable=s.stable, total=s.total, unstable=unstable,
                   ranks_vary=bool((s.units["rank_low"] != s.units["rank_high"]).any()),
                   fixed=_fixed(ev) if s.skipped.empty else "", **words)


def _fixed(ev: Evaluation) -> str:
    """What cannot vary in a year without points by criterion, said plainly ("" for a detailed year)."""
    if ev.detail is not None:
        return ""
    given = ("điểm theo kỳ, tổng hợp thành điểm năm theo quy định (cách tổng hợp giữ nguyên trong mọi kịch bản)"
             if "periods" in ev.inputs.tables else "điểm cuối cùng đã công bố")
    return (f"Năm này chỉ có {given}, nên chỉ cách làm tròn điểm công bố và ngưỡng xếp loại có thể thay đổi; "
            "điểm tối đa tiêu chí, phiếu đánh giá và điểm thưởng, điểm trừ không tính lại được.")
