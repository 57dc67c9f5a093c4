"""Stage: rank within group, and the display order of the report's tables."""

from __future__ import annotations

import pandas as pd

from ..inputs.rules import Rules

__all__ = ["rank"]


def rank(classified: pd.DataFrame, rules: Rules, within: str | None = None) -> pd.DataFrame:
    """Rank units within their group by published score.

    Parameters
    ----------
    classified : pandas.DataFrame
        Output of :func:`evaluation.engine.classify.classify`, with ``group``,
        ``score`` and ``input_order`` (position of the unit in its input file).
    rules : Rules
        Gives the order of the groups.
    within : str, optional
        A column that splits the table into separate years (the scenarios of the sensitivity
        analysis): units are ranked within each value and group, and the table is ordered by it first.

    Returns
    -------
    pandas.DataFrame
        A new table in display order (groups as in the rules; within a group,
        score descending, ties kept in input order), with ``rank`` (ties share
        the best place: 1, 2, 2, 4) and ``order`` (the TT column: 1, 2, 3, 4).
    """
    out = classified.copy()
    out["_group_pos"] = out["group"].map({g: i for i, g in enumerate(rules.group_ids)})
    first = [within] if within else []
    out = out.sort_values([*first, "_group_pos", "score", "input_order"],
                          ascending=[*[True] * len(first), True, False, True], kind="stable")
    by = out.groupby([*first, "group"], sort=False, observed=True)
    out["rank"] = by["score"].rank(method="min", ascending=False).astype("int64")
    out["order"] = by.cumcount().astype("int64") + 1
    return out.drop(columns="_group_pos").reset_index(drop=True)
