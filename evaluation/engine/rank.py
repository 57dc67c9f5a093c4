"""Stage: rank within group, and the display order of the report's tables."""

from __future__ import annotations

import pandas as pd

from ..inputs.rules import Rules

__all__ = ["rank"]


def rank(classified: pd.DataFrame, rules: Rules) -> pd.DataFrame:
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
    out = out.sort_values(["_group_pos", "_level", "score", "input_order"], ascending=[True, True, False, True],
                          kind="stable")
    # Rank = 1 + units strictly before (better tier, or same tier and higher score).
    key = pd.MultiIndex.from_arrays([out["_level"], -out["score"]])
    position = out.groupby("group").cumcount() + 1
    first = position.groupby([out["group"], key.get_level_values(0), key.get_level_values(1)]).transform("min")
    out["rank"] = first.astype("int64")
    out["order"] = position.astype("int64")
    return out.drop(columns=["_group_pos", "_level"]).reset_index(drop=True)
