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

One implementation for one year and for many: the sensitivity analysis classifies
every scenario of a year at once (``within``: a column splitting the table into
separate years, whose quotas are counted each on its own; ``mins``: tier bounds row by
row).  A single year is the case of one scenario, and only it gets the
:class:`QuotaLog` that explains the quotas in words.  Nothing loops over rows,
groups or scenarios: partitions are integer codes, counts and limits array arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from ..fmt import fmt_bound
from ..inputs.rules import TIE_KEYS, Quota, Rules
from .precision import SNAP_DECIMALS, publish, snap_units

__all__ = ["publish", "tier_by_score", "classify", "classify_explained", "QuotaLog", "SNAP_DECIMALS"]



def _units(values: pd.Series) -> np.ndarray:
    """Scores as int64 multiples of 10⁻⁹ (NaN is not allowed here)."""
    return snap_units(values.to_numpy(dtype="float64"))


def _bound_units(bound: Decimal) -> int:
    scaled = bound * 10**SNAP_DECIMALS
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
        snapped = snap_units(mins)
        conditions = [units >= snapped[:, i] for i in range(len(rules.tiers))]
    return np.select(conditions, np.arange(len(rules.tiers)), default=-1)


def _tier_index(rules: Rules) -> dict[str, int]:
    return {t.id: i for i, t in enumerate(rules.tiers)}


@dataclass(frozen=True)
class QuotaLog:
    """How the quotas were applied, for the report to say in plain words.

    Attributes
    ----------
    limits : pandas.DataFrame
        One row per quota × partition (group, or ``all``) × pass where the quota's
        tier had units: ``quota`` (position in the rules), ``pass``, ``partition``,
        ``tier``, ``of`` (tier id or ``all``), ``in_tier`` (units in the tier before
        the quota), ``base`` (units counted: in ``of`` before the quota moved anyone),
        ``ratio``, ``limit_exact`` (ratio × base, exact), ``rounding``, ``limit``,
        ``kept``, ``demoted``, ``tie`` (units tied on the published score across the
        limit), ``tie_rule`` (how that tie was settled, Vietnamese; empty without a
        tie) and ``sentence`` (the whole line in Vietnamese).  Later passes appear
        only when they moved someone.
    moves : pandas.DataFrame
        One row per unit moved down: ``quota``, ``pass``, ``partition``, ``unit_id``,
        ``unit``, ``score``, ``self_score``, ``from_tier``, ``to_tier``, ``order``
        (1 = first moved down: the lowest by the quota's order) and ``why``
        (Vietnamese).
    """

    limits: pd.DataFrame
    moves: pd.DataFrame


LIMIT_COLUMNS = ["quota", "pass", "partition", "tier", "of", "in_tier", "base", "ratio", "limit_exact",
                 "rounding", "limit", "kept", "demoted", "tie", "tie_rule", "sentence"]
MOVE_COLUMNS = ["quota", "pass", "partition", "unit_id", "unit", "score", "self_score", "from_tier", "to_tier",
                "order", "why"]
_ROUNDING_WORDS = {"floor": "làm tròn xuống", "ceil": "làm tròn lên", "half_up": "làm tròn (từ 0,5 lên)"}


def classify(scored: pd.DataFrame, rules: Rules, conditions: pd.DataFrame | None = None, *,
             within: str | None = None, mins: np.ndarray | None = None) -> pd.DataFrame:
    """Classify every unit.

    Parameters
    ----------
    scored : pandas.DataFrame
        One row per unit with ``unit_id``, ``group`` and ``final_score`` (and
        ``self_score`` when a quota breaks ties by it).
    rules : Rules
    conditions : pandas.DataFrame, optional
        ``unit_id`` and ``condition`` (ids from ``rules.conditions``).
    within : str, optional
        A column of ``scored`` that splits it into separate years (the scenarios of the
        sensitivity analysis: one row per unit × scenario): quotas are counted within each,
        exactly as in one year.
    mins : numpy.ndarray, optional
        Tier lower bounds row by row (:func:`tier_by_score`).

    Returns
    -------
    pandas.DataFrame
        A new table: the input columns plus ``score`` (published),
        ``tier_by_score``, ``tier`` (after conditions and quotas) and
        ``tier_reason`` (Vietnamese, empty when the tier is the score's).
        :func:`classify_explained` also returns how the quotas were applied.
    """
    return _classify(scored, rules, conditions, within=within, mins=mins, explain=False)[0]


def classify_explained(scored: pd.DataFrame, rules: Rules,
                       conditions: pd.DataFrame | None = None) -> tuple[pd.DataFrame, QuotaLog]:
    """:func:`classify` of one year, with the :class:`QuotaLog` of every quota applied."""
    return _classify(scored, rules, conditions, within=None, mins=None, explain=True)


def _classify(scored: pd.DataFrame, rules: Rules, conditions: pd.DataFrame | None, *, within: str | None,
              mins: np.ndarray | None, explain: bool) -> tuple[pd.DataFrame, QuotaLog | None]:
    """The one classification: :func:`classify` and :func:`classify_explained` are this, with or without words."""
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
        shorts = pd.Series(np.array([t.short for t in rules.tiers], dtype=object)[level], index=out.index)
        # A cap at the lowest tier (an override, Nghị định 335) places the unit there whatever its score.
        lead = pd.Series(np.where(level == len(rules.tiers) - 1, "Xếp «" + shorts + "» bất kể điểm do: ",
                                  "Không được xếp cao hơn «" + shorts + "» do: "), index=out.index)
        reason = reason.mask(capped, lead + out["unit_id"].map(per_unit["label"]).astype("string"))

    # Quotas are applied until none demotes anyone: a later quota can shrink the tier an
    # earlier one counts (or fill the tier it caps), so one pass could leave a quota exceeded.
    # Demotion only moves units down, so this ends (at most once per unit and tier).
    limits: list[pd.DataFrame] = []
    moves: list[pd.DataFrame] = []
    changed, pass_no = bool(rules.quotas), 0
    while changed:
        changed, pass_no = False, pass_no + 1
        for q_no, quota in enumerate(rules.quotas):
            new_level, reason, lim, mv = _apply_quota(out, level, reason, q_no, quota, rules, within, explain)
            moved = bool((new_level != level).any())
            changed |= moved
            level = new_level
            if explain and (pass_no == 1 or moved):
                limits.append(lim.assign(**{"pass": pass_no}))
                moves.append(mv.assign(**{"pass": pass_no}))

    out["tier"] = pd.Series(ids[level.to_numpy()], index=out.index, dtype="string")
    out["tier_reason"] = reason
    if not explain:
        return out, None
    log = QuotaLog(
        pd.concat(limits, ignore_index=True)[LIMIT_COLUMNS] if limits else pd.DataFrame(columns=LIMIT_COLUMNS),
        pd.concat(moves, ignore_index=True)[MOVE_COLUMNS] if moves else pd.DataFrame(columns=MOVE_COLUMNS))
    return out, log


def _limit(ratio: Fraction, base: np.ndarray, rounding: str) -> np.ndarray:
    """ratio × base, rounded as declared: exact integer arithmetic on arrays (ratio = p/q)."""
    p, q = ratio.numerator, ratio.denominator
    b = np.asarray(base, dtype=np.int64)
    if rounding == "ceil":
        return -((-p * b) // q)
    if rounding == "half_up":  # floor(p·b/q + 1/2)
        return (2 * p * b + q) // (2 * q)
    return (p * b) // q


def _partitions(out: pd.DataFrame, quota: Quota, within: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The partition of each row as an integer code, and the label of each code (group id or ``all``).

    A partition is one group (``scope: group``) or the whole province, within each value of
    ``within`` (a scenario).  Codes follow the sorted labels, as a groupby would list them.
    """
    keys = ([within] if within else []) + (["group"] if quota.scope == "group" else [])
    if not keys:
        return np.zeros(len(out), dtype=np.int64), np.array(["all"], dtype=object)
    codes = out.groupby(keys, sort=True, observed=True, dropna=False).ngroup().to_numpy(dtype=np.int64)
    if quota.scope != "group":
        return codes, np.full(int(codes.max(initial=-1)) + 1, "all", dtype=object)
    _, first = np.unique(codes, return_index=True)
    return codes, out["group"].astype("string").to_numpy(dtype=object)[first]


def _tie_keys(frame: pd.DataFrame, quota: Quota) -> list[str]:
    """Columns of ``frame`` to sort by, best first (smaller is better, missing last)."""
    snap = lambda col: pd.Series(_units(frame[col].fillna(0.0)), index=frame.index,  # noqa: E731
                                 dtype="Int64").mask(frame[col].isna())
    keys = ["_k_score"]
    frame["_k_score"] = -snap("score")
    for key in quota.ties.break_by:
        col = f"_k_{key}"
        if key == "raw_score":
            frame[col] = -snap("final_score")
        elif key == "self_score":
            frame[col] = -snap("self_score") if "self_score" in frame else pd.NA
        else:  # gap: the self score's excess over the published score, smaller first
            frame[col] = (snap("self_score") - snap("score")) if "self_score" in frame else pd.NA
        keys.append(col)
    return keys


def _apply_quota(out: pd.DataFrame, level: pd.Series, reason: pd.Series, q_no: int, quota: Quota,
                 rules: Rules, within: str | None = None, explain: bool = True):
    """Keep at most the allowed number of units in ``quota.tier``; move the rest down.

    The base is counted before this quota moves anyone (``xuất sắc ≤ 20% of tốt``: 14
    units «tốt» allow floor(2,8) = 2 units «xuất sắc»).  Units are taken best first by
    published score, then by the quota's tie-break keys; units still equal across the
    limit are all kept or all moved down, as the rules say.  Counted per partition: a
    group or the whole province, within each value of ``within``.
    """
    index = _tier_index(rules)
    tier_level = index[quota.tier]
    demote = index[quota.demote_to] if quota.demote_to else tier_level + 1
    ratio = Fraction(str(quota.max_ratio))
    codes, labels = _partitions(out, quota, within)
    lv = level.to_numpy()
    in_tier = lv == tier_level
    n_tier = np.bincount(codes, weights=in_tier, minlength=len(labels)).astype(np.int64)
    base = (np.bincount(codes, weights=lv == index[quota.of], minlength=len(labels)).astype(np.int64)
            if quota.of != "all" else np.bincount(codes, minlength=len(labels)).astype(np.int64))
    allowed = _limit(ratio, base, quota.limit.rounding)

    cand = out.loc[in_tier].copy()
    cand["_part"] = codes[in_tier]
    keys = _tie_keys(cand, quota)
    cand = cand.sort_values(["_part", *keys], kind="stable", na_position="last")
    cand["_pos"] = cand.groupby("_part").cumcount() + 1
    same = cand.groupby(["_part", *keys], dropna=False, sort=False)["_pos"]
    cand["_first"], cand["_last"] = same.transform("min"), same.transform("max")
    by_score = cand.groupby(["_part", "_k_score"], sort=False)["_pos"]
    cand["_score_first"], cand["_score_last"] = by_score.transform("min"), by_score.transform("max")
    cand["_limit"] = allowed[cand["_part"].to_numpy()]
    straddle = (cand["_first"] <= cand["_limit"]) & (cand["_last"] > cand["_limit"])
    over = (cand["_first"] > cand["_limit"]) | (straddle & (quota.ties.otherwise == "demote_all"))
    score_tie = (cand["_score_first"] <= cand["_limit"]) & (cand["_score_last"] > cand["_limit"])

    tier, to = rules.tier(quota.tier), rules.tiers[demote]
    moved_ids = cand.index[over]
    level = level.copy()
    level.loc[moved_ids] = demote
    basis = "tổng số đơn vị" if quota.of == "all" else f"số đơn vị «{rules.tier(quota.of).short}»"
    said = f"Vượt hạn mức «{tier.short}» (tối đa {fmt_bound(quota.max_ratio * 100)}% {basis}): xếp «{to.short}»"
    tied_text = _tie_text(quota)
    unit_said = pd.Series(said, index=moved_ids, dtype="string")
    unit_said = unit_said.mask(score_tie[over], said + " — " + tied_text)
    # A unit demoted again keeps the earlier reason too.
    before = reason.loc[moved_ids]
    reason = reason.copy()
    reason.loc[moved_ids] = before.where(before == "", before + "; ").fillna("") + unit_said

    if not explain:  # many scenarios at once: the tiers and reasons, not the words of each quota
        return level.astype("int64"), reason, None, None
    limits = _limits_table(q_no, quota, rules, labels, n_tier, base, allowed, cand, over, score_tie, tied_text)
    moved = cand.loc[over].sort_values(["_part", "_first"], ascending=[True, False], kind="stable")
    # Lowest first; units the rules cannot tell apart are moved together and share their place.
    moved["order"] = moved.groupby("_part")["_first"].rank(method="min", ascending=False)
    why = np.where(score_tie[moved.index], "bằng điểm ở giới hạn của hạn mức — " + tied_text,
                   "điểm thấp hơn các đơn vị được giữ trong hạn mức")
    moves = pd.DataFrame({
        "quota": q_no, "pass": 1, "partition": pd.array(labels[moved["_part"].to_numpy()], dtype="string"),
        "unit_id": moved["unit_id"],
        "unit": moved["unit"] if "unit" in moved else moved["unit_id"], "score": moved["score"],
        "self_score": moved["self_score"] if "self_score" in moved else np.nan,
        "from_tier": quota.tier, "to_tier": to.id, "order": moved["order"].astype("int64"), "why": why,
    }, index=moved.index)
    return level.astype("int64"), reason, limits, moves.reset_index(drop=True)


def _tie_text(quota: Quota) -> str:
    keys = [TIE_KEYS[k] for k in quota.ties.break_by]
    rest = ("các đơn vị vẫn bằng nhau đều bị hạ" if quota.ties.otherwise == "demote_all"
            else "các đơn vị vẫn bằng nhau đều được giữ")
    if not keys:
        return "theo quy định, " + rest.replace("vẫn bằng nhau", "bằng điểm")
    return "ưu tiên đơn vị có " + "; rồi ".join(keys) + "; " + rest


def _limits_table(q_no: int, quota: Quota, rules: Rules, labels: np.ndarray, n_tier: np.ndarray,
                  base: np.ndarray, allowed: np.ndarray, cand: pd.DataFrame, over: pd.Series, score_tie: pd.Series,
                  tied_text: str) -> pd.DataFrame:
    """One sentence per partition of one year where the quota's tier has units (the year's groups: a few)."""
    ratio = Decimal(str(quota.max_ratio))
    codes = np.flatnonzero(n_tier)
    demoted = np.bincount(cand["_part"].to_numpy(), weights=over.to_numpy(), minlength=len(labels))
    tie = np.bincount(cand["_part"].to_numpy(), weights=score_tie.to_numpy(), minlength=len(labels))
    tier, to = rules.tier(quota.tier), rules.tiers[(rules.tier_ids.index(quota.demote_to) if quota.demote_to
                                                    else rules.tier_ids.index(quota.tier) + 1)]
    of = "tổng số đơn vị" if quota.of == "all" else f"số đơn vị «{rules.tier(quota.of).name}»"
    rows = []
    for c in codes:
        p = labels[c]
        n, b, lim = int(n_tier[c]), int(base[c]), int(allowed[c])
        d, t = int(demoted[c]), int(tie[c])
        exact = ratio * b
        where = "" if quota.scope == "all" else f"Nhóm {rules.group(p).numeral}. {rules.group(p).name}: "
        sentence = (f"{where}{of} (đếm trước khi hạ): {b}; tối đa {fmt_bound(ratio * 100)}% × {b} = "
                    f"{fmt_bound(exact)}, {_ROUNDING_WORDS[quota.limit.rounding]}: {lim} đơn vị «{tier.name}»; "
                    f"xếp «{tier.name}» trước khi áp dụng hạn mức: {n}")
        if d:
            sentence += f"; giữ {n - d}, hạ {d} xuống «{to.name}» (điểm thấp nhất hạ trước)"
        else:
            sentence += "; không đơn vị nào bị hạ"
        if t:
            sentence += f"; {t} đơn vị bằng điểm ở giới hạn: {tied_text}"
        rows.append({"quota": q_no, "pass": 1, "partition": p, "tier": quota.tier, "of": quota.of, "in_tier": n,
                     "base": b, "ratio": float(ratio), "limit_exact": float(exact), "rounding": quota.limit.rounding,
                     "limit": lim, "kept": n - d, "demoted": d, "tie": t, "tie_rule": tied_text if t else "",
                     "sentence": sentence + "."})
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS)
