"""Stage: adjust. Bonus and penalty items with their caps, and a log of every cap that bites.

Each input row gives a unit, an item, a count (default 1) and, for items the
council sets itself, an amount.  In order:

1. the row's points: ``points × count`` for fixed-rate items, the amount otherwise;
2. "up to" (``up_to``): the amount is at most ``up_to × count`` — a cap that
   bites is logged (stage ``up_to``);
3. per item (``cap``): a unit's rows of one item together are at most ``cap``
   ("mỗi thành tích 0,5 điểm, tối đa không quá 02 điểm") — logged as ``item_cap``.

The total bound (±adjustment_max) and the clamp of the final score belong to
the score stage (:func:`evaluation.engine.score.score_from_components`), which logs its
own caps in the same shape.  Every log row says how many points the cap removed
(``removed`` ≥ 0) and what that did to the final score (``effect``: negative
when a bonus was cut, positive when a penalty was).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .precision import round_values

__all__ = ["adjust", "unit_adjustments", "LOG_COLUMNS", "empty_log"]

LOG_COLUMNS = ["unit_id", "stage", "item", "kind", "before", "limit", "after", "removed", "effect", "row"]


def empty_log() -> pd.DataFrame:
    """A cap log with no rows (the columns of :data:`LOG_COLUMNS`)."""
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("before", "limit", "after", "removed", "effect")
                                       else "string") for c in LOG_COLUMNS}).astype({"row": "Int64"})


def _log(frame: pd.DataFrame, stage: str, before: str, limit: str, after: str, precision=None) -> pd.DataFrame:
    removed = pd.Series(round_values(frame[before] - frame[after], precision), index=frame.index)
    sign = np.where(frame["kind"].to_numpy() == "penalty", 1.0, -1.0)
    out = pd.DataFrame({
        "unit_id": frame["unit_id"].astype("string").to_numpy(),
        "stage": stage,
        "item": frame["item"].astype("string").to_numpy(),
        "kind": frame["kind"].astype("string").to_numpy(),
        "before": frame[before].to_numpy(dtype="float64"),
        "limit": frame[limit].to_numpy(dtype="float64"),
        "after": frame[after].to_numpy(dtype="float64"),
        "removed": removed.to_numpy(dtype="float64"),
        "effect": sign * removed.to_numpy(dtype="float64"),
        "row": frame["_row"].to_numpy() if "_row" in frame else pd.NA,
    })
    return out.astype({"stage": "string", "row": "Int64"})


def adjust(items: pd.DataFrame, catalogue: pd.DataFrame,
           precision=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Points of every bonus/penalty row, capped.

    Parameters
    ----------
    items : pandas.DataFrame
        Checked input: ``unit_id``, ``item``, ``count`` (float, NaN = 1),
        ``amount`` (float, NaN for fixed-rate items); other columns
        (``source``, ``evidence``, ``note``, ``_row``) are carried along.
    catalogue : pandas.DataFrame
        :func:`evaluation.inputs.catalogue.items_frame`: ``item``, ``kind``,
        ``points``, ``up_to``, ``cap``, ``rate``.
    precision : Stages, optional
        The rules' ``precision.stages``: every amount is rounded as ``adjustment`` says.

    Returns
    -------
    lines : pandas.DataFrame
        The input rows (new table) plus ``kind``, ``count`` (filled),
        ``raw`` (points before any cap), ``limit`` (the "up to" bound or NaN)
        and ``points`` (after the "up to" bound).
    per_item : pandas.DataFrame
        One row per unit × item: ``kind``, ``rows``, ``raw``, ``total``
        (after "up to"), ``cap`` and ``points`` (after the item cap).
    log : pandas.DataFrame
        Every cap that bites (:data:`LOG_COLUMNS`), stages ``up_to`` and ``item_cap``.
    """
    cat = catalogue[["item", "kind", "points", "up_to", "cap", "rate"]].rename(columns={"points": "rate_points"})
    lines = items.merge(cat, on="item", how="left", sort=False)
    count = lines["count"].astype("float64").fillna(1.0).to_numpy()
    amount = lines["amount"].astype("float64").to_numpy()
    fixed = (lines["rate"] == "points").to_numpy()
    raw = np.where(fixed, lines["rate_points"].to_numpy(dtype="float64") * count, amount)
    step = precision.adjustment if precision is not None else None
    raw = round_values(np.nan_to_num(raw, nan=0.0), step)
    limit = round_values(lines["up_to"].to_numpy(dtype="float64") * count, step)
    points = np.where(np.isnan(limit), raw, np.minimum(raw, limit))
    lines = lines.assign(count=count, raw=raw, limit=limit, points=points).drop(columns=["rate_points"])

    bites = lines[lines["points"] < lines["raw"]]
    log_up_to = _log(bites, "up_to", "raw", "limit", "points", step)

    per_item = lines.groupby(["unit_id", "item"], sort=False, observed=True).agg(
        kind=("kind", "first"), rows=("raw", "size"), raw=("raw", "sum"), total=("points", "sum"),
        cap=("cap", "first")).reset_index()
    per_item["raw"] = round_values(per_item["raw"], step)
    per_item["total"] = round_values(per_item["total"], step)
    capped = np.where(per_item["cap"].isna(), per_item["total"], np.minimum(per_item["total"], per_item["cap"]))
    per_item["points"] = capped
    log_cap = _log(per_item[per_item["points"] < per_item["total"]], "item_cap", "total", "cap", "points", step)

    log = pd.concat([x for x in (log_up_to, log_cap) if len(x)], ignore_index=True) \
        if len(log_up_to) or len(log_cap) else empty_log()
    return lines.drop(columns=["up_to", "cap", "rate"]), per_item, log


def unit_adjustments(per_item: pd.DataFrame, precision=None) -> pd.DataFrame:
    """Per unit: ``bonus_raw``, ``bonus`` (after item caps), ``penalty_raw``, ``penalty``.

    Indexed by ``unit_id``; units without items are absent (the score stage fills zeros).
    Sums are rounded as ``precision.total`` says (exact: it removes float noise only).
    """
    bonus = per_item["kind"].to_numpy() == "bonus"
    frame = pd.DataFrame({
        "unit_id": per_item["unit_id"].to_numpy(),
        "bonus_raw": np.where(bonus, per_item["raw"], 0.0),
        "bonus": np.where(bonus, per_item["points"], 0.0),
        "penalty_raw": np.where(bonus, 0.0, per_item["raw"]),
        "penalty": np.where(bonus, 0.0, per_item["points"]),
    })
    out = frame.groupby("unit_id", sort=False).sum()
    total = precision.total if precision is not None else None
    return out.apply(lambda col: pd.Series(round_values(col, total), index=col.index))
