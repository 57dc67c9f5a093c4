"""Stage: rank within group, and the display order of the report's tables."""

from __future__ import annotations

import pandas as pd

from ..inputs.rules import Rules

__all__ = ["rank"]


def rank(classified: pd.DataFrame, rules: Rules, within: str | None = None) -> pd.DataFrame:
    """Rank units within their group.

    Parameters
    ----------
    classified : pandas.DataFrame
        Output of :func:`evaluation.engine.classify.classify`, with ``group``,
        ``score``, ``tier`` and ``input_order`` (position of the unit in its input file).
    rules : Rules
        Gives the order of the groups and, in ``ranking.by``, what a rank follows:
        ``score`` (the published score only) or ``tier_then_score`` (the final tier
        first, so a unit moved down by a condition or a quota ranks below every unit
        of a better tier, then the score).
    within : str, optional
        A column that splits the table into separate years (the scenarios of the sensitivity
        analysis): units are ranked within each value and group, exactly as in one year, and
        the table is ordered by it first.  One year is the case of one value.

    Returns
    -------
    pandas.DataFrame
        A new table in display order (groups as in the rules; within a group,
        by what the ranks follow, ties kept in input order), with ``rank`` (ties
        share the best place: 1, 2, 2, 4) and ``order`` (the TT column: 1, 2, 3, 4).
    """
    out = classified.copy()
    out["_group_pos"] = out["group"].map({g: i for i, g in enumerate(rules.group_ids)})
    tier_first = rules.ranking.by == "tier_then_score"
    # Lower is better for both keys; tier-blind ranking sees every unit at level 0.
    out["_level"] = out["tier"].map({t: i for i, t in enumerate(rules.tier_ids)}) if tier_first else 0
    first = [within] if within else []
    out = out.sort_values([*first, "_group_pos", "_level", "score", "input_order"],
                          ascending=[*[True] * len(first), True, True, False, True], kind="stable")
    # Rank = 1 + units strictly before (better tier, or same tier and higher score) in the same year and group.
    years = [out[within]] if within else []
    position = out.groupby([*years, out["group"]], sort=False, observed=True).cumcount() + 1
    same = position.groupby([*years, out["group"], out["_level"], out["score"]], sort=False, observed=True)
    out["rank"] = same.transform("min").astype("int64")
    out["order"] = position.astype("int64")
    return out.drop(columns=["_group_pos", "_level"]).reset_index(drop=True)
