"""Stage: classify. Published score, tier by score, conditions, quotas.

Tiers are decided on the score *as published*: the final score is brought to
the rules' precision (``decimals`` and ``rounding``) and compared with the
tier bounds, inclusively.  All of it is integer arithmetic on numpy arrays:

* a float score is first snapped to units of 10⁻⁹ — far finer than any
  published precision and far coarser than float error at 100 — so
  ``89.99999999999999`` (a sum that is really 90) is 90 while
  ``89.99999999`` (a real value) stays below 90;
* rounding to the published precision then works on integers, exactly as
  :class:`decimal.Decimal` would, and bounds are compared as integers.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from ..fmt import fmt_bound
from ..inputs.rules import Rules
from .precision import SNAP_DECIMALS, publish, snap_units

__all__ = ["publish", "tier_by_score", "classify", "SNAP_DECIMALS"]



def _units(values: pd.Series) -> np.ndarray:
    """Scores as int64 multiples of 10⁻⁹ (NaN is not allowed here)."""
    return snap_units(values.to_numpy(dtype="float64"))


def _bound_units(bound: Decimal) -> int:
    scaled = bound * 10**SNAP_DECIMALS
    if scaled != scaled.to_integral_value():
        raise ValueError(f"tier bound {bound} has more than {SNAP_DECIMALS} decimals")
    return int(scaled)


def tier_by_score(published: pd.Series, rules: Rules) -> pd.Series:
    """Tier id of each published score: the best tier whose lower bound it reaches.

    A bound is inclusive: with ``min: 90``, 90.0 is in the tier and 89.9 is not.
    """
    units = _units(published)
    conditions = [units >= _bound_units(t.min) for t in rules.tiers]
    ids = np.select(conditions, [t.id for t in rules.tiers], default="")
    out = pd.Series(ids, index=published.index, dtype="string")
    return out.mask(out == "")


def _tier_index(rules: Rules) -> dict[str, int]:
    return {t.id: i for i, t in enumerate(rules.tiers)}


def classify(scored: pd.DataFrame, rules: Rules, conditions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Classify every unit.

    Parameters
    ----------
    scored : pandas.DataFrame
        One row per unit with ``unit_id``, ``group`` and ``final_score``.
    rules : Rules
    conditions : pandas.DataFrame, optional
        ``unit_id`` and ``condition`` (ids from ``rules.conditions``).

    Returns
    -------
    pandas.DataFrame
        A new table: the input columns plus ``score`` (published),
        ``tier_by_score``, ``tier`` (after conditions and quotas) and
        ``tier_reason`` (Vietnamese, empty when the tier is the score's).
    """
    out = scored.copy()
    out["score"] = publish(out["final_score"], rules.precision)
    out["tier_by_score"] = tier_by_score(out["score"], rules)
    index = _tier_index(rules)
    ids = np.array(rules.tier_ids, dtype=object)
    level = out["tier_by_score"].map(index).astype("int64")
    reason = pd.Series("", index=out.index, dtype="string")

    if conditions is not None and len(conditions) and rules.conditions:
        caps = {c.id: index[c.max_tier] for c in rules.conditions}
        names = {c.id: c.name for c in rules.conditions}
        order = {c.id: i for i, c in enumerate(rules.conditions)}
        # Reasons listed in the rules' order, not the file's: the same conditions, the same text.
        cond = conditions.assign(cap=conditions["condition"].map(caps),
                                 label=conditions["condition"].map(names),
                                 _order=conditions["condition"].map(order)).sort_values("_order", kind="stable")
        per_unit = cond.groupby("unit_id").agg(cap=("cap", "max"), label=("label", "; ".join))
        cap = out["unit_id"].map(per_unit["cap"])
        capped = cap.notna() & (cap > level)
        level = level.where(~capped, cap).astype("int64")
        shorts = np.array([t.short for t in rules.tiers], dtype=object)
        reason = reason.mask(capped, "Không được xếp cao hơn «" + pd.Series(shorts[level], index=out.index)
                             + "» do: " + out["unit_id"].map(per_unit["label"]).astype("string"))

    # Quotas are applied until none demotes anyone: a later quota can shrink the tier an
    # earlier one counts (or fill the tier it caps), so one pass could leave a quota exceeded.
    # Demotion only moves units down, so this ends (at most once per unit and tier).
    changed = bool(rules.quotas)
    while changed:
        changed = False
        for quota in rules.quotas:
            new_level, reason = _apply_quota(out, level, reason, quota, rules)
            changed |= bool((new_level != level).any())
            level = new_level

    out["tier"] = pd.Series(ids[level.to_numpy()], index=out.index, dtype="string")
    out["tier_reason"] = reason
    return out


def _apply_quota(out: pd.DataFrame, level: pd.Series, reason: pd.Series, quota, rules: Rules):
    """Keep at most the allowed number of units in ``quota.tier``; demote the rest.

    The allowance counts the units of ``quota.of`` *after* demotion when the
    demoted units join that tier (``xuất sắc ≤ 20% of tốt``: k ≤ r·(n_tốt + n_xs − k)).
    Units tied at the cut are demoted together, so the quota is never exceeded.
    """
    index = _tier_index(rules)
    tier_level = index[quota.tier]
    demote = index[quota.demote_to] if quota.demote_to else tier_level + 1
    ratio = Fraction(str(quota.max_ratio))
    parts = out["group"] if quota.scope == "group" else pd.Series("all", index=out.index)
    in_tier = level == tier_level
    # Counted per partition (one group, or the whole province): a loop over partitions, not rows.
    n_tier = in_tier.groupby(parts).sum()
    size = parts.groupby(parts).size()
    n_of = (level == index[quota.of]).groupby(parts).sum() if quota.of != "all" else size
    if quota.of == "all":
        allowed_p = {p: int(ratio * int(size[p])) for p in size.index}
    elif demote == index[quota.of]:
        allowed_p = {p: int(ratio * int(n_of[p] + n_tier[p]) / (1 + ratio)) for p in size.index}
    else:
        allowed_p = {p: int(ratio * int(n_of[p])) for p in size.index}
    allowed = parts.map(allowed_p)
    # Rank by score within the partition; ties take the worst place ("max").
    place = out["score"].where(in_tier).groupby(parts).rank(method="max", ascending=False)
    over = in_tier & (place > allowed)
    level = level.mask(over, demote).astype("int64")
    tier = rules.tier(quota.tier)
    basis = "tổng số đơn vị" if quota.of == "all" else f"số đơn vị «{rules.tier(quota.of).short}»"
    said = (f"Vượt hạn mức «{tier.short}» (tối đa {fmt_bound(quota.max_ratio * 100)}% "
            f"{basis}): xếp «{rules.tiers[demote].short}»")
    # A unit demoted again keeps the earlier reason too.
    reason = reason.mask(over, reason.where(reason == "", reason + "; ").fillna("") + said)
    return level, reason
