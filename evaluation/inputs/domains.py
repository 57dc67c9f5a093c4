"""What the rules allow in an input cell: named number ranges and code lists.

The input schemas (:mod:`evaluation.inputs.schemas`) name their ranges (``bounds="score"``)
and code lists (``codes={"condition": "conditions"}``) instead of holding numbers;
this module resolves those names from a year's rules.  Checking the inputs
(:mod:`evaluation.engine.pipeline`) and writing the Excel forms (:mod:`evaluation.forms.forms`)
both read them from here, so a form never allows what the checks refuse, nor the
reverse.
"""

from __future__ import annotations

from decimal import Decimal

from .rules import Rules
from .schemas import TABLES, TableSpec

__all__ = ["value_bounds", "code_lists", "code_sets"]


def value_bounds(rules: Rules) -> dict[str, tuple[Decimal, Decimal | None]]:
    """Named ranges of numbers, inclusive; ``None`` as the upper end means "no upper limit".

    ``points`` is the widest a criterion's points can be (each criterion's own maximum is
    checked row by row against the unit's criteria set).
    """
    return {"score": (rules.scale.score_min, rules.scale.score_max),
            "points": (Decimal(0), rules.scale.appraisal_max),
            "count": (Decimal(0), None),
            "amount": (Decimal(0), None)}


def _unique(pairs) -> list[tuple[str, str]]:
    return list(dict((code, name) for code, name in pairs).items())


# The code lists the schemas name, each made from the rules as (code, Vietnamese name).
_LISTS = {
    "conditions": lambda r: [(c.id, c.name) for c in r.conditions],
    "criteria": lambda r: _unique((c.code, c.name) for cs in r.criteria_sets for c in cs.criteria),
    "rater_kinds": lambda r: [(k.id, k.name) for k in r.rater_kinds],
    "questions": lambda r: _unique((q.code, q.text) for s in r.surveys for q in s.questions),
    "items": lambda r: [(it.code, it.name) for it in r.adjustments.items],
    "periods": lambda r: [(p.code, p.name) for p in (r.periods.items if r.periods else [])],
}


def code_lists(rules: Rules, tables: dict[str, TableSpec] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Every code list the tables refer to, as ``(code, Vietnamese name)`` in the rules' order.

    A table's ``codes`` maps a column to a named list (``"conditions"``,
    ``"criteria"``, ``"rater_kinds"``, ``"questions"``, ``"items"``, ``"periods"``), each
    made from the rules.

    Raises
    ------
    KeyError
        When a table names a list the rules model does not have (a schema error,
        not a user's).
    """
    tables = TABLES if tables is None else tables
    out: dict[str, list[tuple[str, str]]] = {}
    for spec in tables.values():
        for key in spec.codes.values():
            if key in out:
                continue
            if key not in _LISTS:
                raise KeyError(f"table {spec.name!r} takes codes from a list {key!r} that no rule makes")
            out[key] = _LISTS[key](rules)
    return out


def code_sets(rules: Rules, tables: dict[str, TableSpec] | None = None) -> dict[str, set[str]]:
    """:func:`code_lists` as sets of codes, the form :func:`evaluation.inputs.validate.check_table` takes."""
    return {key: {code for code, _ in items} for key, items in code_lists(rules, tables).items()}
