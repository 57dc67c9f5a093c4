"""The detailed rules as tables: criteria, survey questions, bonus/penalty items, and who uses what.

The stages of the detailed scoring (:mod:`~evaluation.engine.criteria`,
:mod:`~evaluation.engine.survey`, :mod:`~evaluation.engine.adjust`) work on DataFrames, not
on the rules objects, so that they can run on generated data of any size.
This module turns a :class:`~evaluation.inputs.rules.Rules` into those frames, and
matches the registry's units to criteria sets and item scopes.  Loops here run
over rules entries (a few dozen), never over input rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import Problem
from .rules import Rules, Scope

__all__ = ["criteria_frame", "questions_frame", "items_frame", "unit_sets", "item_scope",
           "rules_registry_problems", "unit_set_problems", "scope_text"]


def criteria_frame(rules: Rules) -> pd.DataFrame:
    """One row per (criteria set, criterion).

    Columns: ``criteria_set``, ``criterion``, ``name``, ``max_points`` (float),
    ``body``, ``survey`` (id of the survey that scores it, or missing),
    ``position`` (order in the set), ``confirmed``.
    """
    scored = {(s, sv.criterion): sv.id for sv in rules.surveys for s in sv.sets}
    rows = [{"criteria_set": cs.id, "criterion": c.code, "name": c.name, "max_points": float(c.max),
             "body": c.body, "survey": scored.get((cs.id, c.code)), "position": j,
             "confirmed": c.confirmed and cs.confirmed}
            for cs in rules.criteria_sets for j, c in enumerate(cs.criteria)]
    frame = pd.DataFrame(rows, columns=["criteria_set", "criterion", "name", "max_points", "body", "survey",
                                        "position", "confirmed"])
    return frame.astype({"criteria_set": "string", "criterion": "string", "name": "string",
                         "body": "string", "survey": "string", "position": "int64", "max_points": "float64"})


def questions_frame(rules: Rules) -> pd.DataFrame:
    """One row per survey question, with its survey's scale, formula and minimum.

    Columns: ``question``, ``text``, ``survey``, ``criterion``, ``scale_min``,
    ``scale_max``, ``formula``, ``min_responses``, ``below_minimum``.
    """
    rows = [{"question": q.code, "text": q.text, "survey": s.id, "criterion": s.criterion,
             "scale_min": float(s.scale_min), "scale_max": float(s.scale_max), "formula": s.formula,
             "min_responses": s.min_responses, "below_minimum": s.below_minimum}
            for s in rules.surveys for q in s.questions]
    return pd.DataFrame(rows, columns=["question", "text", "survey", "criterion", "scale_min", "scale_max",
                                       "formula", "min_responses", "below_minimum"])


def surveys_frame(rules: Rules) -> pd.DataFrame:
    """One row per (survey, criteria set it scores): what :func:`evaluation.engine.survey.score_survey` needs."""
    rows = [{"survey": s.id, "criteria_set": cs, "criterion": s.criterion, "scale_min": float(s.scale_min),
             "scale_max": float(s.scale_max), "formula": s.formula, "min_responses": s.min_responses,
             "below_minimum": s.below_minimum}
            for s in rules.surveys for cs in s.sets]
    return pd.DataFrame(rows, columns=["survey", "criteria_set", "criterion", "scale_min", "scale_max", "formula",
                                       "min_responses", "below_minimum"])


def items_frame(rules: Rules) -> pd.DataFrame:
    """One row per bonus/penalty item.

    Columns: ``item``, ``kind`` (bonus/penalty), ``name``, ``text``, ``points``,
    ``up_to``, ``cap`` (float, NaN when absent), ``rate`` (``points``,
    ``up_to`` or ``amount``), ``position``, ``confirmed``.
    """
    rows = []
    for j, it in enumerate(rules.adjustments.items):
        rate = "points" if it.points is not None else "up_to" if it.up_to is not None else "amount"
        rows.append({"item": it.code, "kind": it.kind, "name": it.name, "text": it.text,
                     "points": float(it.points) if it.points is not None else np.nan,
                     "up_to": float(it.up_to) if it.up_to is not None else np.nan,
                     "cap": float(it.cap) if it.cap is not None else np.nan,
                     "rate": rate, "position": j, "confirmed": it.confirmed})
    return pd.DataFrame(rows, columns=["item", "kind", "name", "text", "points", "up_to", "cap", "rate",
                                       "position", "confirmed"])


def _units_frame(units: pd.DataFrame) -> pd.DataFrame:
    """``unit_id``, ``group``, ``kind`` from the registry's units (or any frame with those columns)."""
    ids = units["id"] if "id" in units else units["unit_id"]
    return pd.DataFrame({"unit_id": ids.astype("string").to_numpy(),
                         "group": units["group"].astype("string").to_numpy(),
                         "kind": units["kind"].astype("string").fillna("").to_numpy()})


def _matches(frame: pd.DataFrame, groups: list[str], kinds: list[str], units: list[str]) -> pd.Series:
    """Vectorised: which rows of ``frame`` (unit_id, group, kind) a scope-like clause selects."""
    out = pd.Series(True, index=frame.index)
    if groups:
        out &= frame["group"].isin(groups)
    if kinds:
        out &= frame["kind"].isin(kinds)
    if units:
        out &= frame["unit_id"].isin(units)
    return out


def unit_sets(units: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The criteria set of every unit.

    Parameters
    ----------
    units : pandas.DataFrame
        ``id`` (or ``unit_id``), ``group`` and ``kind`` — the registry's units.
    rules : Rules

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``criteria_set`` (missing when no set or several sets
        match) and ``matches`` (how many sets matched).
    """
    frame = _units_frame(units)
    hits = pd.DataFrame({cs.id: _matches(frame, [cs.group], cs.kinds, cs.units) for cs in rules.criteria_sets},
                        index=frame.index, dtype=bool)
    n = hits.sum(axis=1).astype("int64") if len(hits.columns) else pd.Series(0, index=frame.index, dtype="int64")
    chosen = hits.idxmax(axis=1).astype("string") if len(hits.columns) else pd.Series(pd.NA, index=frame.index,
                                                                                       dtype="string")
    return pd.DataFrame({"unit_id": frame["unit_id"], "criteria_set": chosen.where(n == 1),
                         "matches": n})


def _in_scope(frame: pd.DataFrame, scope: Scope) -> pd.Series:
    if scope.everyone:
        return pd.Series(True, index=frame.index)
    by_class = (_matches(frame, scope.groups, scope.kinds, []) if (scope.groups or scope.kinds)
                else pd.Series(False, index=frame.index))
    return by_class | frame["unit_id"].isin(scope.units)


def item_scope(units: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Every (unit, item) pair the rules allow: ``unit_id``, ``item``."""
    frame = _units_frame(units)
    parts = [pd.DataFrame({"unit_id": frame.loc[_in_scope(frame, it.scope), "unit_id"], "item": it.code})
             for it in rules.adjustments.items]
    if not parts:
        return pd.DataFrame({"unit_id": pd.Series(dtype="string"), "item": pd.Series(dtype="string")})
    return pd.concat(parts, ignore_index=True).astype({"unit_id": "string", "item": "string"})


def scope_text(scope: Scope, rules: Rules, names: pd.Series | None = None) -> str:
    """Vietnamese description of a scope: "UBND cấp huyện", "Sở Y tế; Sở Công Thương", "mọi đơn vị"."""
    if scope.everyone:
        return "mọi cơ quan, đơn vị"
    parts = []
    if scope.groups or scope.kinds:
        label = "; ".join(rules.group(g).name for g in scope.groups if g in rules.group_ids) or "mọi nhóm"
        if scope.kinds:
            label += " (" + ", ".join(scope.kinds) + ")"
        parts.append(label)
    if scope.units:
        shown = [str(names.get(u, u)) if names is not None else u for u in scope.units]
        parts.append("; ".join(shown))
    return "; ".join(parts)


def rules_registry_problems(rules: Rules, units: pd.DataFrame, label: str) -> list[Problem]:
    """Unit ids named in the rules (criteria sets, item scopes) that the registry does not know."""
    known = set(units["id"]) if "id" in units else set(units["unit_id"])
    problems = []
    places = [(f"criteria_sets[{i}].units", cs.units) for i, cs in enumerate(rules.criteria_sets)]
    places += [(f"adjustments.items[{i}].scope.units", it.scope.units)
               for i, it in enumerate(rules.adjustments.items)]
    for where, ids in places:
        problems += [Problem(label, None, f"{where}[{j}]", u, "mã đơn vị không có trong danh mục đơn vị")
                     for j, u in enumerate(ids) if u not in known]
    return problems


def unit_set_problems(sets: pd.DataFrame, units: pd.DataFrame, label: str) -> list[Problem]:
    """Registry units that match no criteria set, or several.

    Parameters
    ----------
    sets : pandas.DataFrame
        Output of :func:`unit_sets` for the units concerned.
    units : pandas.DataFrame
        The registry's units (indexed by id, with ``name`` and ``_row``).
    """
    bad = sets[sets["matches"] != 1]
    return [Problem(units.at[u, "_file"] if "_file" in units else label, int(units.at[u, "_row"]), "group",
                    units.at[u, "name"],
                    "đơn vị không thuộc bộ tiêu chí nào của quy định (criteria_sets)" if n == 0 else
                    f"đơn vị thuộc {n} bộ tiêu chí cùng lúc; mỗi đơn vị chỉ thuộc một bộ (criteria_sets)")
            for u, n in zip(bad["unit_id"], bad["matches"], strict=True)]
