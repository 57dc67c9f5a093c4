"""How sure each tier is (:mod:`evaluation.engine.sensitivity`), said in the report.

Two places, as an administrative report divides its content: one finding in the body's
"Đánh giá chung" (:func:`statement`: how many units keep their tier in at least 95 % of the
scenarios, the others named), in plain words for the People's Committee; and the annex's
section «Độ tin cậy của kết quả xếp loại» (:func:`reliability`: what varies and how, the
unstable units with their shares, rank intervals and what moves them), for the council.

Python prepares plain data (text and numbers already formatted the Vietnamese way) and renders
``present_sensitivity/reliability.html.j2`` (:func:`evaluation.report.render.render`: escaped text).
"""

from __future__ import annotations

from ..engine.pipeline import Evaluation
from ..engine.sensitivity import LEVEL, Sensitivity, analyse
from ..engine.summarise import join_vi
from ..fmt import number, percent
from .present import tier_data
from .render import render

__all__ = ["analysis", "statement", "reliability"]

# What each kind of declared value is, for the body of the report (no codes, no labels from the file).
_KIND_WORDS = {"criterion_max": "điểm tối đa của một số tiêu chí", "rounding": "cách làm tròn điểm đánh giá",
               "tier_min": "ngưỡng điểm của mức xếp loại", "survey": "điểm chấm bằng phiếu đánh giá (lấy mẫu)",
               "up_to": "mức điểm thưởng, điểm trừ do Hội đồng quyết định"}


def analysis(ev: Evaluation) -> Sensitivity | None:
    """The year's analysis under its own declaration, once for the body and the annex; None when it declares none."""
    return analyse(ev) if ev.inputs.uncertainty is not None else None


def statement(ev: Evaluation, result: Sensitivity | None) -> list[str]:
    """The finding for "Đánh giá chung": how many units are tier-stable at 95 %, the others named.

    Empty when the year declares nothing or nothing it declares applies to it (the annex says so).
    The words are plain: what varied by kind, never a value's code or the declaration's file.
    """
    if result is None or not result.varies:
        return []
    words = ev.rules.wording.units
    kinds = join_vi(list(dict.fromkeys(_KIND_WORDS[k] for k in result.factors["kind"])))
    text = (f"Khi cho các giá trị chưa chắc chắn ({kinds}) thay đổi trong phạm vi có thể và tính lại điểm, "
            f"xếp loại trong {_thousands(result.draws)} kịch bản, {result.stable}/{result.total} {words} "
            f"giữ nguyên mức xếp loại ở ít nhất {percent(LEVEL, 0)} số kịch bản")
    unstable = result.unstable
    if len(unstable):
        names = [f"{u.unit} {percent(u.stability, 1)}" for u in unstable.itertuples(index=False)]
        text += (f"; {len(unstable)} {words} có thể đổi mức xếp loại (tỷ lệ kịch bản giữ nguyên mức): "
                 f"{join_vi(names)}")
    return [text + " (chi tiết tại Phụ lục, phần «Độ tin cậy của kết quả xếp loại»)."]


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


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
    return render("present_sensitivity/reliability.html.j2", declared=True, draws=_thousands(s.draws),
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
