"""The report's section «Độ tin cậy của kết quả xếp loại»: how sure each tier is (:mod:`evaluation.engine.sensitivity`).

Python prepares plain data (text and numbers already formatted the Vietnamese way, tier badges
as markup) and renders the fragment ``templates/fragments/present_sensitivity/reliability.html.j2``
with Jinja2, autoescape on: a unit's name is printed as text, never as markup.
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from ..engine.pipeline import Evaluation
from ..engine.sensitivity import Sensitivity, analyse
from ..fmt import number, percent
from .present import tier_badge

__all__ = ["reliability"]

_FRAGMENTS = jinja2.Environment(
    loader=jinja2.PackageLoader("evaluation.report", "templates/fragments"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _render(name: str, **data: object) -> str:
    return _FRAGMENTS.get_template(name).render(**data).removesuffix("\n")


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
    if result is None and ev.inputs.uncertainty is None:
        return _render("present_sensitivity/reliability.html.j2", declared=False)
    s = result if result is not None else analyse(ev)
    rules = ev.rules
    tiers = {t.id: t for t in rules.tiers}
    numerals = {g.id: g.numeral for g in rules.groups}
    factors = [{"label": f.label, "span": f.span, "note": f.note, "moved": f.units_moved}
               for f in s.factors.itertuples(index=False)]
    unstable = []
    for u in s.unstable.itertuples(index=False):
        shares = [{"badge": Markup(tier_badge(t, short=True)), "share": percent(getattr(u, f"share_{t.id}"), 1)}
                  for t in rules.tiers if getattr(u, f"share_{t.id}") > 0]
        unstable.append({"unit": u.unit, "group": numerals[u.group], "score": number(u.score, rules.precision.decimals),
                         "badge": Markup(tier_badge(tiers[u.tier], short=True)), "shares": shares,
                         "rank": u.rank, "ranks": f"{u.rank_low}–{u.rank_high}" if u.rank_low != u.rank_high
                         else str(u.rank_low), "driver": _driver(u)})
    reasons = list(dict.fromkeys(s.skipped["reason"]))
    return _render("present_sensitivity/reliability.html.j2", declared=True, draws=f"{s.draws:,}".replace(",", "."),
                   seed=s.seed, factors=factors, skipped="; ".join(s.skipped["label"]),
                   skipped_reason="; ".join(reasons), stable=s.stable, total=s.total, unstable=unstable,
                   ranks_vary=bool((s.units["rank_low"] != s.units["rank_high"]).any()))
