"""Stage: score. The final score of each unit.

For a year that publishes totals only (2020), the final score is the one the
appraisal bodies gave, read from the ``scores`` input.
"""

from __future__ import annotations

import pandas as pd

from .registry import Registry

__all__ = ["score_from_totals"]


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
        ``final_score`` and ``input_order`` (row in the input file: ties keep it).
    """
    units = registry.units
    return pd.DataFrame({
        "unit_id": scores["unit_id"].astype("string").to_numpy(),
        "unit": scores["unit_id"].map(units["short_name"]).astype("string").to_numpy(),
        "group": scores["unit_id"].map(units["group"]).astype("string").to_numpy(),
        "self_score": scores["self_score"].astype("float64").to_numpy(),
        "final_score": scores["final_score"].astype("float64").to_numpy(),
        "input_order": scores["_row"].astype("int64").to_numpy(),
    })
