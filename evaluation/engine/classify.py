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
from ..inputs.rules import Precision, Rules

__all__ = ["publish", "tier_by_score", "classify", "SNAP_DECIMALS"]

SNAP_DECIMALS = 9
_SNAP = 10**SNAP_DECIMALS


def _units(values: pd.Series) -> np.ndarray:
    """Scores as int64 multiples of 10⁻⁹ (NaN is not allowed here)."""
    arr = values.to_numpy(dtype="float64")
    return np.rint(arr * _SNAP).astype(np.int64)


def _round_units(units: np.ndarray, precision: Precision) -> np.ndarray:
    """Round 10⁻⁹ units to multiples of 10^-decimals (returned in those coarser units)."""
    q = 10 ** (SNAP_DECIMALS - precision.decimals)
    sign = np.sign(units)
    mag = np.abs(units)
    whole, rem = np.divmod(mag, q)
    if precision.rounding == "down":
        bump = np.zeros_like(whole)
    elif precision.rounding == "up":
        bump = (rem > 0).astype(np.int64)
    elif precision.rounding == "half_up":
        bump = (2 * rem >= q).astype(np.int64)
    else:  # half_even
        bump = ((2 * rem > q) | ((2 * rem == q) & (whole % 2 == 1))).astype(np.int64)
    return sign * (whole + bump)


def publish(scores: pd.Series, precision: Precision) -> pd.Series:
    """The score as published: rounded to the rules' precision.

    Parameters
    ----------
    scores : pandas.Series of float
    precision : Precision

    Returns
    -------
    pandas.Series of float
        Exact decimal values at the given precision (as the nearest floats).

    Examples
    --------
    >>> from evaluation.inputs.rules import Precision
    >>> p = Precision(decimals=1, rounding="down")
    >>> publish(pd.Series([89.99999999, 89.99999999999999, 87.45]), p).tolist()
    [89.9, 90.0, 87.4]
    """
    rounded = _round_units(_units(scores), precision)
    return pd.Series(rounded / 10**precision.decimals, index=scores.index, dtype="float64")


def _bound_units(bound: Decimal) -> int:
    scaled = bound * _SNAP
    if scaled != scaled.to_integral_value():
        raise ValueError(f"tier bound {bound} has more than {SNAP_DECIMALS} decimals")
    return int(scaled)


def tier_by_score(published: pd.Series, rules: Rules, mins: np.ndarray | None = None) -> pd.Series:
    """Tier id of each published score: the best tier whose lower bound it reaches.

    A bound is inclusive: with ``min: 90``, 90.0 is in the tier and 89.9 is not.

    Parameters
    ----------
    published : pandas.Series of float
    rules : Rules
    mins : numpy.ndarray, optional
        Lower bounds row by row (rows × tiers, best tier first), instead of the rules' own: the
        sensitivity analysis classifies many scenarios, each with its bounds, in one call.  Values
        lie on the published grid and are snapped like scores.
    """
    level = _levels(published, rules, mins)
    ids = np.array([*rules.tier_ids, None], dtype=object)   # level −1 (below every bound): missing
    return pd.Series(ids[level], index=published.index, dtype="string")


def _levels(published: pd.Series, rules: Rules, mins: np.ndarray | None = None) -> np.ndarray:
    """Position of the best tier each published score reaches (0 = best), −1 when it reaches none."""
    units = _units(published)
    if mins is None:
        conditions = [units >= _bound_units(t.min) for t in rules.tiers]
    else:
        snapped = np.rint(np.asarray(mins, dtype="float64") * _SNAP).astype(np.int64)
        conditions = [units >= snapped[:, i] for i in range(len(rules.tiers))]
    return np.select(conditions, np.arange(len(rules.tiers)), default=-1)


def _tier_index(rules: Rules) -> dict[str, int]:
    return {t.id: i for i, t in enumerate(rules.tiers)}


def classify(scored: pd.DataFrame, rules: Rules, conditions: pd.DataFrame | None = None, *,
             within: str | None = None, mins: np.ndarray | None = None) -> pd.DataFrame:
    """Classify every unit.

    Parameters
    ----------
    scored : pandas.DataFrame
        One row per unit with ``unit_id``, ``group`` and ``final_score``.
    rules : Rules
    conditions : pandas.DataFrame, optional
        ``unit_id`` and ``condition`` (ids from ``rules.conditions``).
    within : str, optional
        A column of ``scored`` that splits it into separate years (the scenarios of the
        sensitivity analysis: one row per unit × scenario): quotas are counted within each.
    mins : numpy.ndarray, optional
        Tier lower bounds row by row (:func:`tier_by_score`).

    Returns
    -------
    pandas.DataFrame
        A new table: the input columns plus ``score`` (published),
        ``tier_by_score``, ``tier`` (after conditions and quotas) and
        ``tier_reason`` (Vietnamese, empty when the tier is the score's).
    """
    out = scored.copy()
    out["score"] = publish(out["final_score"], rules.precision)
    by_score = _levels(out["score"], rules, mins)
    if (by_score < 0).any():
        raise ValueError("a published score is below the lowest tier's bound (rules.tiers[-1].min)")
    index = _tier_index(rules)
    ids = np.array(rules.tier_ids, dtype=object)
    out["tier_by_score"] = pd.Series(ids[by_score], index=out.index, dtype="string")
    level = pd.Series(by_score, index=out.index, dtype="int64")
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
            new_level, reason = _apply_quota(out, level, reason, quota, rules, within)
            changed |= bool((new_level != level).any())
            level = new_level

    out["tier"] = pd.Series(ids[level.to_numpy()], index=out.index, dtype="string")
    out["tier_reason"] = reason
    return out


def _apply_quota(out: pd.DataFrame, level: pd.Series, reason: pd.Series, quota, rules: Rules,
                 within: str | None = None):
    """Keep at most the allowed number of units in ``quota.tier``; demote the rest.

    The allowance counts the units of ``quota.of`` *after* demotion when the
    demoted units join that tier (``xuất sắc ≤ 20% of tốt``: k ≤ r·(n_tốt + n_xs − k)).
    Units tied at the cut are demoted together, so the quota is never exceeded.
    Counted per partition: one group or the whole province, within each ``within`` value.
    """
    index = _tier_index(rules)
    tier_level = index[quota.tier]
    demote = index[quota.demote_to] if quota.demote_to else tier_level + 1
    ratio = Fraction(str(quota.max_ratio))
    keys = ([out[within]] if within else []) + ([out["group"]] if quota.scope == "group" else [])
    # Partitions as integer codes: counts and allowances are array arithmetic, whatever their number.
    parts = (pd.Series(out.groupby(keys, sort=False, observed=True, dropna=False).ngroup().to_numpy(), index=out.index)
             if keys else pd.Series(0, index=out.index))
    codes = parts.to_numpy()
    in_tier = (level == tier_level).to_numpy()
    n_tier = np.bincount(codes, weights=in_tier).astype(np.int64)
    size = np.bincount(codes).astype(np.int64)
    n_of = np.bincount(codes, weights=(level == index[quota.of]).to_numpy()).astype(np.int64) \
        if quota.of != "all" else size
    p, q = ratio.numerator, ratio.denominator
    # Exact floors of r·n, and of r·(n_of + n_tier)/(1 + r) = p·m/(q + p): integers, as Fraction gives them.
    if quota.of == "all":
        allowed_p = p * size // q
    elif demote == index[quota.of]:
        allowed_p = p * (n_of + n_tier) // (q + p)
    else:
        allowed_p = p * n_of // q
    allowed = allowed_p[codes]
    # Rank by score within the partition; ties take the worst place ("max").
    place = out["score"].where(in_tier).groupby(parts).rank(method="max", ascending=False).to_numpy()
    over = pd.Series(in_tier & (place > allowed), index=out.index)
    level = level.mask(over, demote).astype("int64")
    tier = rules.tier(quota.tier)
    basis = "tổng số đơn vị" if quota.of == "all" else f"số đơn vị «{rules.tier(quota.of).short}»"
    said = (f"Vượt hạn mức «{tier.short}» (tối đa {fmt_bound(quota.max_ratio * 100)}% "
            f"{basis}): xếp «{rules.tiers[demote].short}»")
    # A unit demoted again keeps the earlier reason too.
    reason = reason.mask(over, reason.where(reason == "", reason + "; ").fillna("") + said)
    return level, reason
