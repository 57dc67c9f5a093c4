"""Checking the detailed inputs (points by criterion, survey answers, bonus/penalty items, periods).

What :mod:`evaluation.inputs.validate` cannot know from a column alone needs the rules
and the registry: a criterion's maximum depends on the unit's criteria set, an
answer's scale on the question's survey, an item's scope on the unit's group.
These checks run row-wise but vectorised (merges), and reject only the rows
concerned: every other row is kept, and every rejected row is reported with
its file, row and column.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import Problem
from ..fmt import numbers
from .catalogue import (
    criteria_frame,
    item_scope,
    items_frame,
    questions_frame,
    rules_registry_problems,
    scope_text,
    surveys_frame,
    unit_set_problems,
    unit_sets,
)
from .registry import Registry
from .rules import Rules
from .validate import Checked, RowCheck

__all__ = ["DETAIL_TABLES", "DetailChecks", "detail_checks", "criteria_coverage", "period_coverage"]

DETAIL_TABLES = ("criteria", "survey", "adjustments")


@dataclass(frozen=True)
class DetailChecks:
    """What :func:`evaluation.inputs.validate.check_table` needs for the detailed tables."""

    row_checks: dict[str, RowCheck]
    sets: pd.DataFrame
    problems: list[Problem]


def _aligned(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Left merge that keeps ``left``'s index and length (``right`` is unique on ``on``)."""
    out = left[on].merge(right, on=on, how="left", sort=False)
    out.index = left.index
    return out


def _criteria_checks(rules: Rules, sets: pd.DataFrame, survey_given: bool) -> RowCheck:
    catalogue = criteria_frame(rules)
    set_of = sets.dropna(subset=["criteria_set"]).set_index("unit_id")["criteria_set"]
    set_names = {cs.id: cs.name for cs in rules.criteria_sets}
    set_codes = {cs.id: ", ".join(c.code for c in cs.criteria) for cs in rules.criteria_sets}
    survey_names = {s.id: s.name for s in rules.surveys}
    known = set(catalogue["criterion"])

    def check(typed: pd.DataFrame):
        frame = typed.assign(criteria_set=typed["unit_id"].map(set_of).astype("string"),
                             criterion=typed["criterion"].astype("string"))
        m = _aligned(frame, catalogue[["criteria_set", "criterion", "max_points", "survey"]],
                     ["criteria_set", "criterion"])
        in_set = m["max_points"].notna()
        valid = frame["criteria_set"].notna() & frame["criterion"].isin(known)
        yield (valid & ~in_set, "criterion",
               "tiêu chí không có trong bộ tiêu chí «" + frame["criteria_set"].map(set_names).fillna("")
               + "» của đơn vị; các mã của bộ: " + frame["criteria_set"].map(set_codes).fillna(""))
        top = numbers(m["max_points"], 0, max_decimals=2)
        for col in ("self_points", "points"):
            over = (typed[col] > m["max_points"]).fillna(False)
            yield over, col, "vượt điểm tối đa của tiêu chí: cần từ 0 đến " + top
        self_na, na = typed["self_points_na"].astype(bool), typed["points_na"].astype(bool)
        yield (na & typed["self_points"].notna(), "self_points",
               "cơ quan thẩm định ghi «không áp dụng» cho tiêu chí này: để trống hoặc ghi «không áp dụng»")
        yield (self_na & typed["points"].notna(), "self_points",
               "đơn vị ghi «không áp dụng» nhưng cơ quan thẩm định đã chấm điểm tiêu chí này")
        by_survey = in_set & m["survey"].notna() & survey_given
        yield (in_set & ~by_survey & ~na & typed["points"].isna(), "points",
               "không được để trống: ghi điểm thẩm định hoặc «không áp dụng»")
        yield (by_survey & typed["points"].notna(), "points",
               "tiêu chí được chấm qua «" + m["survey"].map(survey_names).fillna("")
               + "»: để trống (điểm tính từ phiếu) hoặc ghi «không áp dụng»")

    return check


def _survey_checks(rules: Rules, sets: pd.DataFrame) -> RowCheck:
    questions = questions_frame(rules)
    allowed_raters = pd.DataFrame([(s.id, r) for s in rules.surveys for r in s.raters],
                                  columns=["survey", "rater_kind"]).assign(_rater_ok=True)
    targets = surveys_frame(rules)[["survey", "criteria_set"]].assign(_target_ok=True)
    set_of = sets.dropna(subset=["criteria_set"]).set_index("unit_id")["criteria_set"]
    kinds = {r.id: r.name for r in rules.rater_kinds}
    survey_names = {s.id: s.name for s in rules.surveys}
    raters_text = {s.id: "; ".join(kinds.get(r, r) for r in s.raters) for s in rules.surveys}
    set_names = {cs.id: cs.name for cs in rules.criteria_sets}
    targets_text = {s.id: "; ".join(set_names.get(x, x) for x in s.sets) for s in rules.surveys}

    def check(typed: pd.DataFrame):
        frame = typed.assign(question=typed["question"].astype("string"),
                             rater_kind=typed["rater_kind"].astype("string"),
                             criteria_set=typed["unit_id"].map(set_of).astype("string"))
        q = _aligned(frame, questions[["question", "survey", "scale_min", "scale_max"]].astype(
            {"question": "string", "survey": "string"}), ["question"])
        known = q["survey"].notna()
        name = q["survey"].map(survey_names).fillna("")
        outside = known & ((typed["answer"] < q["scale_min"]) | (typed["answer"] > q["scale_max"])).fillna(False)
        yield (outside, "answer", "ngoài thang điểm của «" + name + "»: cần từ "
               + numbers(q["scale_min"], 0, max_decimals=2) + " đến " + numbers(q["scale_max"], 0, max_decimals=2))
        pairs = frame[["rater_kind"]].assign(survey=q["survey"])
        ok = _aligned(pairs, allowed_raters.astype({"survey": "string", "rater_kind": "string"}),
                      ["survey", "rater_kind"])["_rater_ok"].fillna(False).astype(bool)
        yield (known & frame["rater_kind"].isin(list(kinds)) & ~ok, "rater_kind",
               "loại người đánh giá này không chấm «" + name + "»; người chấm: "
               + q["survey"].map(raters_text).fillna(""))
        pairs = frame[["criteria_set"]].assign(survey=q["survey"])
        ok = _aligned(pairs, targets.astype({"survey": "string", "criteria_set": "string"}),
                      ["survey", "criteria_set"])["_target_ok"].fillna(False).astype(bool)
        yield (known & frame["criteria_set"].notna() & ~ok, "unit",
               "đơn vị không được đánh giá bằng «" + name + "» (phiếu dành cho: "
               + q["survey"].map(targets_text).fillna("") + ")")

    return check


def _adjustment_checks(rules: Rules, units: pd.DataFrame) -> RowCheck:
    items = items_frame(rules)
    scope = item_scope(units, rules).assign(_in_scope=True)
    where = {it.code: scope_text(it.scope, rules, units["short_name"]) for it in rules.adjustments.items}

    def _rate(row_points: pd.Series) -> pd.Series:
        return numbers(row_points, 0, max_decimals=2)

    def check(typed: pd.DataFrame):
        frame = typed.assign(item=typed["item"].astype("string"), unit_id=typed["unit_id"].astype("string"))
        m = _aligned(frame, items[["item", "rate", "points", "up_to"]].astype({"item": "string"}), ["item"])
        known = m["rate"].notna()
        ok = _aligned(frame, scope, ["unit_id", "item"])["_in_scope"].fillna(False).astype(bool)
        yield (known & frame["unit_id"].notna() & ~ok, "item",
               "nội dung " + frame["item"].fillna("") + " chỉ áp dụng cho: " + frame["item"].map(where).fillna(""))
        fixed = known & (m["rate"] == "points")
        yield (fixed & typed["amount"].notna(), "amount",
               "nội dung có mức điểm cố định (" + _rate(m["points"]) + " điểm mỗi lần): ghi số lần ở cột "
               "«Số lần» và để trống cột này")
        limit = ("tối đa " + _rate(m["up_to"]) + " điểm mỗi lần").where(m["rate"] == "up_to",
                                                                          "số điểm do Hội đồng quyết định")
        yield (known & ~fixed & typed["amount"].isna(), "amount",
               "cần ghi số điểm Hội đồng cho (" + limit + ")")

    return check


def detail_checks(rules: Rules, registry: Registry, year: int, rules_label: str,
                  inputs: set[str]) -> DetailChecks:
    """Bounds, codes and row checks of the detailed tables, and problems of the rules against the registry.

    Parameters
    ----------
    inputs : set of str
        The input names the params list (which detailed tables are given).
    """
    units = registry.units
    problems = rules_registry_problems(rules, units, rules_label)
    evaluated = units[registry.valid_in(year) & units["group"].isin(rules.group_ids)]
    sets = unit_sets(evaluated, rules)
    if "criteria" in inputs:
        if not rules.detailed:
            problems.append(Problem(rules_label, None, "criteria_sets", None,
                                    "dữ liệu có điểm theo tiêu chí nhưng quy định không có bộ tiêu chí nào"))
        else:
            problems += unit_set_problems(sets, units, registry.source)
    # Number ranges and code lists come from evaluation.inputs.domains (shared with the Excel forms);
    # what depends on the unit (its criteria set, a survey's scale, an item's scope) is checked here.
    row_checks = {"criteria": _criteria_checks(rules, sets, "survey" in inputs),
                  "survey": _survey_checks(rules, sets),
                  "adjustments": _adjustment_checks(rules, evaluated)}
    return DetailChecks(row_checks, sets, problems)


def criteria_coverage(checked: Checked, sets: pd.DataFrame, rules: Rules, registry: Registry, *,
                      survey_given: bool, label: str, year: int) -> list[Problem]:
    """Units with no points by criterion, and criteria missing for a unit.

    Criteria scored by a survey need no row when the survey answers are given.
    A unit with a rejected row is skipped (its rows are reported already), and
    nothing is said when a unit name could not be read at all.
    """
    names = checked.names
    if names is None or names.loc[checked.rejected.index, "unit_id"].isna().any():
        return []
    skip = set(names.loc[checked.rejected.index, "unit_id"])
    catalogue = criteria_frame(rules)
    if survey_given:
        catalogue = catalogue[catalogue["survey"].isna()]
    expected = sets.dropna(subset=["criteria_set"]).merge(catalogue[["criteria_set", "criterion", "position"]],
                                                          on="criteria_set")
    given = checked.table[["unit_id", "criterion"]].astype("string").assign(_given=True)
    expected = expected.merge(given, on=["unit_id", "criterion"], how="left")
    missing = expected[expected["_given"].isna() & ~expected["unit_id"].isin(skip)]
    present = set(checked.table["unit_id"]) | skip
    short = registry.units["name"]
    problems = []
    absent = missing[~missing["unit_id"].isin(present)]["unit_id"].drop_duplicates()
    problems += [Problem(label, None, "Đơn vị", short[u],
                         f"đơn vị có trong danh mục (hiệu lực năm {year}) nhưng không có điểm theo tiêu chí")
                 for u in absent]
    partial = missing[missing["unit_id"].isin(present)]
    problems += [Problem(label, None, "Mã tiêu chí", c, f"đơn vị «{short[u]}» thiếu dòng cho tiêu chí {c}")
                 for u, c in zip(partial["unit_id"], partial["criterion"], strict=True)]
    return problems


def period_coverage(checked: Checked, rules: Rules, registry: Registry, *, label: str, year: int,
                    evaluated: pd.Index) -> list[Problem]:
    """Units with no period score at all, and units missing periods, as the rules say.

    With ``periods.missing: error`` every missing (unit, period) is a problem; with
    ``partial`` only a unit with fewer than ``periods.min_periods`` periods is (the
    others are scored on the periods they have and flagged by the score stage).  A unit
    with a rejected row is skipped (its rows are reported already), and nothing is said
    when a unit name could not be read at all.
    """
    names = checked.names
    if rules.periods is None or names is None or names.loc[checked.rejected.index, "unit_id"].isna().any():
        return []
    skip = set(names.loc[checked.rejected.index, "unit_id"])
    spec = rules.periods
    given = checked.table.groupby("unit_id")["period"].agg(set)
    units = registry.units
    problems = [Problem(label, None, "Đơn vị", units.at[u, "name"],
                        f"đơn vị có trong danh mục (hiệu lực năm {year}) nhưng không có điểm kỳ nào")
                for u in evaluated if u not in given.index and u not in skip]
    period_names = {p.code: p.name for p in spec.items}
    for u, have in given.items():
        missing = [p.code for p in spec.items if p.code not in have]
        if not missing:
            continue
        listed = ", ".join(f"{period_names[c]} ({c})" for c in missing)
        if spec.missing == "error":
            problems.append(Problem(label, None, "Mã kỳ", units.at[u, "name"],
                                    f"thiếu điểm các kỳ: {listed} — quy định yêu cầu điểm mọi kỳ "
                                    "(periods.missing: error)"))
        elif len(have) < spec.min_periods:
            problems.append(Problem(label, None, "Mã kỳ", units.at[u, "name"],
                                    f"chỉ có điểm {len(have)} kỳ, quy định cần ít nhất {spec.min_periods} "
                                    f"(thiếu: {listed})"))
    return problems
