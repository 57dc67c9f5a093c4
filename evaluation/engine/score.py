"""Stage: score. The final score of each unit.

For a year that publishes totals only (2020), the final score is the one the
appraisal bodies gave, read from the ``scores`` input (:func:`score_from_totals`).

For a year given per period (quarters, months), the final score is the rules'
aggregate of the unit's period scores — the weighted mean of the periods it has
(:func:`score_from_periods`); the self score likewise.

For a year with detailed inputs, the final score is built from its parts
(:func:`score_from_components`)::

    final = clamp(appraisal + bound(bonus − penalty), score_min, score_max)

with the appraisal (criteria, prorated) at most ``appraisal_max`` and the
adjustment within ±``adjustment_max``.  Each bound that bites is logged, in
the shape of :data:`evaluation.engine.adjust.LOG_COLUMNS`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..inputs.registry import Registry
from ..inputs.rules import Rules
from .adjust import LOG_COLUMNS, empty_log
from .precision import round_values

__all__ = ["score_from_totals", "score_from_periods", "score_from_components", "final_scores"]


def score_from_totals(scores: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Scores table from a checked ``scores`` input.

    Parameters
    ----------
    scores : pandas.DataFrame
        Checked rows with ``unit_id``, ``self_score``, ``final_score`` and ``_row``.
    registry : Registry

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``unit`` (short name), ``group``, ``self_score``,
        ``final_score``, ``input_order`` (row in the input file: ties keep it) and
        ``note`` (the input's «Ghi chú», kept for the results; empty when none).
    """
    units = registry.units
    note = scores["note"] if "note" in scores else pd.Series(pd.NA, index=scores.index)
    return pd.DataFrame({
        "unit_id": scores["unit_id"].astype("string").to_numpy(),
        "unit": scores["unit_id"].map(units["short_name"]).astype("string").to_numpy(),
        "group": scores["unit_id"].map(units["group"]).astype("string").to_numpy(),
        "self_score": scores["self_score"].astype("float64").to_numpy(),
        "final_score": scores["final_score"].astype("float64").to_numpy(),
        "input_order": scores["_row"].astype("int64").to_numpy(),
        "note": note.astype("string").fillna("").to_numpy(),
    })


def score_from_periods(periods: pd.DataFrame, registry: Registry, rules: Rules) -> pd.DataFrame:
    """Scores table from a checked ``periods`` input: one row per unit, the periods aggregated.

    Parameters
    ----------
    periods : pandas.DataFrame
        Checked rows with ``unit_id``, ``period``, ``self_score``, ``final_score`` and ``_row``.
    registry : Registry
    rules : Rules
        ``rules.periods``: the periods, their weights and the aggregate (``mean``: the
        weighted mean over the periods a unit has; the coverage was checked on input).

    Returns
    -------
    pandas.DataFrame
        As :func:`score_from_totals` (``final_score`` and ``self_score`` are the
        aggregates, unrounded; the self score only when given for every period the unit
        has), plus ``periods_given`` (how many), ``periods_missing`` (codes, ``|``-joined,
        empty when none) and ``period_flag`` (Vietnamese, empty when complete).
        ``input_order`` is the unit's first row.
    """
    spec = rules.periods
    weight = pd.Series({p.code: float(p.weight) for p in spec.items})
    names = {p.code: p.name for p in spec.items}
    rows = periods.assign(_w=periods["period"].map(weight).astype("float64"),
                          unit_id=periods["unit_id"].astype("string"))
    rows = rows.assign(_wf=rows["_w"] * rows["final_score"], _ws=rows["_w"] * rows["self_score"],
                       _self_missing=rows["self_score"].isna())
    g = rows.groupby("unit_id", sort=False)
    agg = pd.DataFrame({"w": g["_w"].sum(), "wf": g["_wf"].sum(), "ws": g["_ws"].sum(min_count=1),
                        "self_missing": g["_self_missing"].any(), "n": g["period"].nunique(),
                        "have": g["period"].agg(set), "first_row": g["_row"].min()})
    order = [p.code for p in spec.items]
    missing = agg["have"].map(lambda have: [c for c in order if c not in have])
    flag = missing.map(lambda m: "" if not m else
                       f"chấm trên {len(order) - len(m)}/{len(order)} kỳ (thiếu: {', '.join(names[c] for c in m)})")
    units = registry.units
    ids = agg.index.to_series().astype("string")
    return pd.DataFrame({
        "unit_id": ids.to_numpy(),
        "unit": ids.map(units["short_name"]).astype("string").to_numpy(),
        "group": ids.map(units["group"]).astype("string").to_numpy(),
        "self_score": (agg["ws"] / agg["w"]).where(~agg["self_missing"]).astype("float64").to_numpy(),
        "final_score": (agg["wf"] / agg["w"]).astype("float64").to_numpy(),
        "input_order": agg["first_row"].astype("int64").to_numpy(),
        "periods_given": agg["n"].astype("int64").to_numpy(),
        "periods_missing": missing.map("|".join).astype("string").to_numpy(),
        "period_flag": flag.astype("string").to_numpy(),
    })


def _bite_log(unit_id: np.ndarray, stage: str, kind: str | None, before: np.ndarray, limit: np.ndarray,
              after: np.ndarray, precision=None) -> pd.DataFrame:
    """Log rows where ``after`` differs from ``before`` (effect = after − before on the final score)."""
    bit = ~np.isclose(before, after, rtol=0.0, atol=1e-12) & ~np.isnan(before)
    if kind == "bonus":
        effect = after - before          # a bonus cut lowers the final score
    elif kind == "penalty":
        effect = before - after          # a penalty cut raises it
    else:
        effect = after - before
    effect = round_values(effect, precision)
    frame = pd.DataFrame({
        "unit_id": unit_id[bit], "stage": stage, "item": pd.NA, "kind": kind if kind else pd.NA,
        "before": before[bit], "limit": limit[bit], "after": after[bit],
        "removed": round_values(np.abs(before - after), precision)[bit], "effect": effect[bit], "row": pd.NA,
    }, columns=LOG_COLUMNS)
    return frame.astype({"unit_id": "string", "stage": "string", "item": "string", "kind": "string",
                         "row": "Int64"})


def final_scores(appraisal: np.ndarray, bonus: np.ndarray, penalty: np.ndarray, *, appraisal_max: float,
                 adjustment_max: float, score_min: float, score_max: float,
                 bound: Literal["net", "each"] = "net",
                 total=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arithmetic of the final score, on arrays of any shape (units, or units × scenarios).

    One implementation for the published year (:func:`score_from_components`) and for the
    scenarios of the sensitivity analysis, so both round every sum alike.

    Parameters
    ----------
    total : Rounding, optional
        The rules' ``precision.stages.total``: the appraisal, bonus, penalty, bonus − penalty and
        their sum are each rounded as it says (None: as they are).

    Returns
    -------
    appraisal, adjustment, final_raw, final : numpy.ndarray
        The appraisal at most ``appraisal_max``; bonus − penalty bounded (``net``: within
        ±adjustment_max; ``each``: bonus and penalty each at most adjustment_max); their sum; and
        the sum within [score_min, score_max].
    """
    r = lambda values: round_values(values, total)  # noqa: E731
    appraisal = np.minimum(r(appraisal), appraisal_max)
    bonus, penalty = r(bonus), r(penalty)
    m = float(adjustment_max)
    if bound == "each":
        adjustment = r(np.minimum(bonus, m) - np.minimum(penalty, m))
    else:
        adjustment = np.clip(r(bonus - penalty), -m, m)
    final_raw = r(appraisal + adjustment)
    return appraisal, adjustment, final_raw, np.clip(final_raw, score_min, score_max)


def score_from_components(totals: pd.DataFrame, adjustments: pd.DataFrame, units: pd.DataFrame, *,
                          appraisal_max: float, adjustment_max: float, score_min: float, score_max: float,
                          bound: Literal["net", "each"] = "net",
                          precision=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Final scores from the appraisal and the bonus/penalty totals.

    Parameters
    ----------
    totals : pandas.DataFrame
        :func:`evaluation.engine.criteria.unit_totals` (indexed by ``unit_id``):
        ``appraisal``, ``self_appraisal``, ``criteria_set``.
    adjustments : pandas.DataFrame
        :func:`evaluation.engine.adjust.unit_adjustments` (indexed by ``unit_id``);
        units absent have no bonus and no penalty.
    units : pandas.DataFrame
        ``unit_id``, ``unit`` (short name), ``group``, ``input_order``: the
        units scored, in this order.
    appraisal_max, adjustment_max, score_min, score_max : float
        From the rules' ``scale``.
    bound : {"net", "each"}
        ``net``: bonus − penalty within ±adjustment_max; ``each``: bonus and
        penalty each at most adjustment_max.
    precision : Stages, optional
        The rules' ``precision.stages``: every sum is rounded as ``total`` says.  The parts are
        no finer (the rules check it), so ``appraisal + adjustment = final_raw`` exactly, and
        ``final_score`` differs from it only where the score range bites (logged).

    Returns
    -------
    scores : pandas.DataFrame
        One row per unit: ``unit_id``, ``unit``, ``group``, ``criteria_set``,
        ``self_appraisal``, ``appraisal``, ``bonus_raw``, ``bonus``,
        ``penalty_raw``, ``penalty``, ``adjustment`` (after the bound),
        ``final_raw``, ``final_score``, ``self_score`` and ``input_order``.
        ``self_score`` is the unit's own criteria total with the council's
        adjustment added, so that self and final differ only by the appraisal.
    log : pandas.DataFrame
        Bounds that bit: stages ``appraisal_max``, ``total`` (net),
        ``total_bonus`` / ``total_penalty`` (each) and ``clamp``.
    """
    ids = units["unit_id"].astype("string")
    t = totals.reindex(ids.to_numpy())
    a = adjustments.reindex(ids.to_numpy()).fillna(0.0)
    uid = ids.to_numpy(dtype=object)
    total = precision.total if precision is not None else None
    r = lambda values: round_values(values, total)  # noqa: E731
    appraisal_in = r(t["appraisal"].to_numpy(dtype="float64"))
    bonus, penalty = r(a["bonus"].to_numpy(dtype="float64")), r(a["penalty"].to_numpy(dtype="float64"))
    appraisal, adjustment, final_raw, final = final_scores(
        appraisal_in, bonus, penalty, appraisal_max=appraisal_max, adjustment_max=adjustment_max,
        score_min=score_min, score_max=score_max, bound=bound, total=total)
    logs = [_bite_log(uid, "appraisal_max", None, appraisal_in, np.full(len(uid), appraisal_max), appraisal, total)]
    m = float(adjustment_max)
    if bound == "each":
        logs.append(_bite_log(uid, "total_bonus", "bonus", bonus, np.full(len(uid), m), np.minimum(bonus, m), total))
        logs.append(_bite_log(uid, "total_penalty", "penalty", penalty, np.full(len(uid), m), np.minimum(penalty, m),
                              total))
    else:
        net = r(bonus - penalty)
        logs.append(_bite_log(uid, "total", None, net, np.where(net < 0, -m, m), adjustment, total))
    logs.append(_bite_log(uid, "clamp", None, final_raw, np.where(final_raw < score_min, score_min, score_max),
                          final, total))
    self_appraisal = np.minimum(r(t["self_appraisal"].to_numpy(dtype="float64")), appraisal_max)
    self_score = np.clip(r(self_appraisal + adjustment), score_min, score_max)
    scores = pd.DataFrame({
        "unit_id": ids.to_numpy(),
        "unit": units["unit"].astype("string").to_numpy(),
        "group": units["group"].astype("string").to_numpy(),
        "criteria_set": t["criteria_set"].astype("string").to_numpy(),
        "self_appraisal": self_appraisal, "appraisal": appraisal,
        "bonus_raw": r(a["bonus_raw"].to_numpy(dtype="float64")), "bonus": bonus,
        "penalty_raw": r(a["penalty_raw"].to_numpy(dtype="float64")), "penalty": penalty,
        "adjustment": adjustment, "final_raw": final_raw, "final_score": final,
        "self_score": self_score,
        "input_order": units["input_order"].astype("int64").to_numpy(),
    })
    kept = [x for x in logs if len(x)]
    log = pd.concat(kept, ignore_index=True) if kept else empty_log()
    return scores, log
