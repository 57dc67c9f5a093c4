"""What the rules allow in an input cell: named number ranges and code lists.

The input schemas (:mod:`evaluation.schemas`) name their ranges (``bounds="score"``)
and code lists (``codes={"condition": "conditions"}``) instead of holding numbers;
this module resolves those names from a year's rules.  Checking the inputs
(:mod:`evaluation.pipeline`) and writing the Excel forms (:mod:`evaluation.forms`)
both read them from here, so a form never allows what the checks refuse, nor the
reverse.
"""

from __future__ import annotations

from decimal import Decimal

from .rules import Rules
from .schemas import TABLES, TableSpec

__all__ = ["value_bounds", "code_lists", "code_sets"]


def value_bounds(rules: Rules) -> dict[str, tuple[Decimal, Decimal]]:
    """Named ranges of numbers, inclusive: ``{"score": (0, 100)}``."""
    return {"score": (rules.scale.score_min, rules.scale.score_max)}


def code_lists(rules: Rules, tables: dict[str, TableSpec] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Every code list the tables refer to, as ``(code, Vietnamese name)`` in the rules' order.

    A table's ``codes`` maps a column to a list of the rules file (``"conditions"``
    → ``rules.conditions``); every item of that list has an ``id`` (the code) and a
    ``name``.

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
            if key not in type(rules).model_fields:
                raise KeyError(f"table {spec.name!r} takes codes from rules.{key}, which does not exist")
            out[key] = [(item.id, getattr(item, "name", item.id)) for item in getattr(rules, key)]
    return out


def code_sets(rules: Rules, tables: dict[str, TableSpec] | None = None) -> dict[str, set[str]]:
    """:func:`code_lists` as sets of codes, the form :func:`evaluation.validate.check_table` takes."""
    return {key: {code for code, _ in items} for key, items in code_lists(rules, tables).items()}
