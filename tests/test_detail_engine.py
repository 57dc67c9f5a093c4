"""The detailed-scoring engine on small hand-computed cases: proration, surveys, caps, bounds, clamp.

Every expected number below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.engine.adjust import adjust, unit_adjustments
from evaluation.engine.criteria import appraise, body_totals, criterion_gaps, gap_summary, unevidenced, unit_totals
from evaluation.engine.detail import score_detail
from evaluation.engine.score import score_from_components
from evaluation.engine.survey import answer_distribution, response_counts, score_survey, survey_forms


def catalogue(rows: list[tuple[str, str, float, str, str | None]]) -> pd.DataFrame:
    """(set, criterion, max, body, survey) rows as a criteria catalogue."""
    frame = pd.DataFrame(rows, columns=["criteria_set", "criterion", "max_points", "body", "survey"])
    frame["position"] = frame.groupby("criteria_set").cumcount()
    return frame.astype({"criteria_set": "string", "criterion": "string", "body": "string", "survey": "string"})


def points(rows: list[tuple[str, str, float | None, float | None, bool]]) -> pd.DataFrame:
    """(unit, criterion, self points, appraised points, appraised "không áp dụng") rows."""
    frame = pd.DataFrame(rows, columns=["unit_id", "criterion", "self_points", "points", "points_na"])
    return frame.astype({"unit_id": "string", "criterion": "string", "self_points": "float64",
                         "points": "float64", "points_na": bool})


SETS = pd.DataFrame({"unit_id": ["u"], "criteria_set": ["s"]}).astype("string")
THREE = catalogue([("s", "A", 30, "b1", None), ("s", "B", 30, "b1", None), ("s", "C", 30, "b2", None)])


# -- proration ------------------------------------------------------------------------------------


def test_a_criterion_that_does_not_apply_is_credited_the_ratio_on_the_others():
    # A 27/30 and B 27/30 apply: 54 of 60 = 90 %; C (30) does not apply → credited 27; appraisal 81.
    # Self: 30 + 28,5 = 58,5 of 60 = 97,5 % → C credited 29,25; self appraisal 87,75.
    lines = appraise(points([("u", "A", 30, 27, False), ("u", "B", 28.5, 27, False),
                             ("u", "C", None, None, True)]), THREE, SETS)
    c = lines.set_index("criterion").loc["C"]
    assert not c["applicable"] and c["credited"] == pytest.approx(27.0) and c["self_credited"] == pytest.approx(29.25)
    totals = unit_totals(lines).loc["u"]
    assert totals["applicable_max"] == 60 and totals["earned"] == 54 and totals["ratio"] == pytest.approx(0.9)
    assert totals["appraisal"] == pytest.approx(81.0) and totals["self_appraisal"] == pytest.approx(87.75)
    assert totals["not_applicable"] == 1 and totals["missing"] == 0
    # By body: b1 holds A and B (54 of 60), b2 holds the credited C (27 of 30).
    bodies = body_totals(lines).set_index("body")
    assert bodies.loc["b1", "final_points"] == 54 and bodies.loc["b2", "final_points"] == pytest.approx(27)
    # Self above appraisal: A by 3 (10 % of its maximum), B by 1,5; C does not apply and is left out.
    gaps = criterion_gaps(lines)
    assert gaps["criterion"].tolist() == ["A", "B"] and gaps["gap"].tolist() == [3.0, 1.5]
    assert gaps["share"].tolist() == [0.1, 0.05]


def test_gaps_per_criterion_and_per_body_and_claims_without_evidence():
    # Two units on A (30, body b1), B (30, b1), C (30, b2, scored by a survey).
    cat = catalogue([("s", "A", 30, "b1", None), ("s", "B", 30, "b1", None), ("s", "C", 30, "b2", "sv")])
    sets = pd.DataFrame({"unit_id": ["u", "v"], "criteria_set": ["s", "s"]}).astype("string")
    pts = points([("u", "A", 30, 27, False), ("u", "B", 20, 24, False), ("u", "C", 30, 20, False),
                  ("v", "A", 28, 28, False), ("v", "B", 30, 25, False), ("v", "C", None, None, True)])
    pts["evidence"] = ["QĐ 1", "", "", "", "QĐ 5", ""]
    pts["explanation"] = ["", "", "", "hồ sơ đang trình ký", "", ""]
    survey = pd.DataFrame({"unit_id": ["u"], "criterion": ["C"], "points": [20.0], "applicable": [True],
                           "flag": [False]}).astype({"unit_id": "string", "criterion": "string"})
    lines = appraise(pts, cat, sets, survey)
    lines = lines.merge(pts[["unit_id", "criterion", "evidence", "explanation"]], on=["unit_id", "criterion"])
    by_criterion = gap_summary(lines, "criterion")
    # A: u +3, v 0 → 3 over 60 (5 %); B: u −4, v +5 → 1 over 60; C: u +10 over 30 (v does not apply).
    assert by_criterion.index.tolist() == ["C", "A", "B"]
    assert by_criterion["gap"].tolist() == [10.0, 3.0, 1.0] and by_criterion["above"].tolist() == [1, 1, 1]
    assert by_criterion.loc["A", "units"] == 2 and by_criterion.loc["A", "share"] == 0.05
    by_body = gap_summary(lines, "body")
    assert by_body.loc["b1", "gap"] == 4.0 and by_body.loc["b1", "max_points"] == 120
    assert by_body.loc["b2", "gap"] == 10.0 and by_body.loc["b1", "self_points"] == 108
    # Claimed without evidence: u's B (20 points) and v's A (explained); not u's C (scored by the survey).
    missing = unevidenced(lines)
    assert list(zip(missing["unit_id"], missing["criterion"], missing["explanation"], strict=True)) == [
        ("u", "B", ""), ("v", "A", "hồ sơ đang trình ký")]
    assert missing["gap"].tolist() == [-4.0, 0.0]
    assert unevidenced(lines.drop(columns="evidence")).empty


def test_the_issue_example_300_of_330():
    # 300 of 330 applicable points = 90,9 %: a 30-point criterion that does not apply is credited
    # 30 × 300/330 = 27,27 (the issue rounds the ratio to "90 %", i.e. 27 points).
    cat = catalogue([("s", "X", 330, "b", None), ("s", "Y", 30, "b", None)])
    lines = appraise(points([("u", "X", 300, 300, False), ("u", "Y", None, None, True)]), cat, SETS)
    assert lines.set_index("criterion").at["Y", "credited"] == pytest.approx(30 * 300 / 330)
    assert unit_totals(lines).at["u", "appraisal"] == pytest.approx(360 * 300 / 330)


def test_nothing_applicable_gives_no_total_and_missing_rows_count_zero_and_are_flagged():
    cat = catalogue([("s", "A", 50, "b", None), ("s", "B", 40, "b", None)])
    sets = pd.DataFrame({"unit_id": ["u", "v"], "criteria_set": ["s", "s"]}).astype("string")
    lines = appraise(points([("u", "A", None, None, True), ("u", "B", None, None, True),
                             ("v", "A", 50, 45, False)]), cat, sets)
    totals = unit_totals(lines)
    assert np.isnan(totals.at["u", "appraisal"])
    # v has no row for B: it counts 0 (45 of 90) and is flagged missing, for the loader to report.
    assert totals.at["v", "appraisal"] == 45 and totals.at["v", "missing"] == 1
    assert np.isnan(totals.at["v", "self_appraisal"]), "a self total needs every applicable criterion"


# -- surveys --------------------------------------------------------------------------------------

QUESTIONS = pd.DataFrame({"question": ["Q1", "Q2", "Q3"], "survey": ["sv", "sv", "sv"]})


def surveys(formula="mean_over_max", below="not_applicable", minimum=3) -> pd.DataFrame:
    return pd.DataFrame([("sv", "s", "S", 1.0, 5.0, formula, minimum, below)],
                        columns=["survey", "criteria_set", "criterion", "scale_min", "scale_max", "formula",
                                 "min_responses", "below_minimum"])


SURVEY_CAT = catalogue([("s", "A", 80, "b", None), ("s", "S", 10, "b", "sv")])
SURVEY_SETS = pd.DataFrame({"unit_id": ["u", "v", "w"], "criteria_set": ["s", "s", "s"]}).astype("string")
# u: r1 answers 5 and 4 (form mean 4,5), r2 answers 3 (3), r3 answers 4, 4, 4 (4) → 3 forms.
# v: two forms only (below the minimum of 3). w: no form at all.
ANSWERS = pd.DataFrame([
    ("u", "k1", "r1", "Q1", 5), ("u", "k1", "r1", "Q2", 4), ("u", "k2", "r2", "Q1", 3),
    ("u", "k1", "r3", "Q1", 4), ("u", "k1", "r3", "Q2", 4), ("u", "k1", "r3", "Q3", 4),
    ("v", "k1", "r1", "Q1", 5), ("v", "k1", "r2", "Q1", 5),
], columns=["unit_id", "rater_kind", "rater", "question", "answer"]).astype({"answer": "float64"})


def survey_result(**kw) -> pd.DataFrame:
    forms = survey_forms(ANSWERS, QUESTIONS)
    return score_survey(forms, surveys(**kw), SURVEY_SETS, SURVEY_CAT).set_index("unit_id")


def test_survey_formula_averages_forms_then_scales_to_the_criterion():
    got = survey_result()
    # Forms weigh the same: (4,5 + 3 + 4) / 3 = 3,8333 (the pooled mean of the 6 answers would be 4,0).
    assert got.at["u", "forms"] == 3 and got.at["u", "answers"] == 6
    assert got.at["u", "mean"] == pytest.approx(11.5 / 3)
    # mean_over_max: 3,8333 / 5 × 10 = 7,6667.
    assert got.at["u", "points"] == pytest.approx(11.5 / 3 / 5 * 10) and not got.at["u", "flag"]
    # mean_min_max: (3,8333 − 1) / (5 − 1) × 10 = 7,0833.
    assert survey_result(formula="mean_min_max").at["u", "points"] == pytest.approx((11.5 / 3 - 1) / 4 * 10)


def test_below_the_minimum_the_criterion_is_flagged_not_silently_scored():
    got = survey_result()
    assert got.at["v", "forms"] == 2 and got.at["v", "flag"] and not got.at["v", "applicable"]
    assert np.isnan(got.at["v", "points"])
    assert got.at["w", "forms"] == 0 and got.at["w", "flag"], "a unit nobody rated is flagged too"
    assert survey_result(below="zero").at["v", "points"] == 0
    scored = survey_result(below="score")
    assert scored.at["v", "flag"] and scored.at["v", "points"] == pytest.approx(10.0)   # 5/5 × 10
    assert survey_result(minimum=2).at["v", "flag"] == False  # noqa: E712  (exactly the minimum is enough)


def test_a_flagged_survey_criterion_is_prorated_like_one_that_does_not_apply():
    survey = survey_result().reset_index()
    pts = points([("u", "A", 80, 72, False), ("u", "S", 9, None, False),
                  ("v", "A", 80, 72, False), ("v", "S", 9, None, False),
                  ("w", "A", 80, 60, False), ("w", "S", None, None, False)])
    totals = unit_totals(appraise(pts, SURVEY_CAT, SURVEY_SETS, survey))
    assert totals.at["u", "appraisal"] == pytest.approx(72 + 11.5 / 3 / 5 * 10)
    # v: S flagged → 72 of 80 = 90 % → S credited 9 → 81.
    assert totals.at["v", "appraisal"] == pytest.approx(81.0) and totals.at["v", "flagged"] == 1
    assert totals.at["w", "appraisal"] == pytest.approx(60 / 80 * 90)


def test_response_counts_and_answer_distribution():
    forms = survey_forms(ANSWERS, QUESTIONS)
    counts = response_counts(forms).set_index("rater_kind")
    # k1: forms u·r1, u·r3, v·r1, v·r2 by raters r1, r2, r3; answers 2 + 3 + 1 + 1.
    assert counts.at["k1", "forms"] == 4 and counts.at["k1", "raters"] == 3 and counts.at["k1", "answers"] == 7
    assert counts.at["k2", "forms"] == 1 and counts.at["k1", "units"] == 2
    dist = answer_distribution(ANSWERS, QUESTIONS)
    got = {(k, a): n for k, a, n in zip(dist["rater_kind"], dist["answer"], dist["count"], strict=True)}
    assert got == {("k1", 4.0): 4, ("k1", 5.0): 3, ("k2", 3.0): 1}


def test_categorical_keys_give_the_same_result():
    as_cat = ANSWERS.astype({c: "category" for c in ("unit_id", "rater_kind", "rater", "question")})
    a = score_survey(survey_forms(ANSWERS, QUESTIONS), surveys(), SURVEY_SETS, SURVEY_CAT)
    b = score_survey(survey_forms(as_cat, QUESTIONS), surveys(), SURVEY_SETS, SURVEY_CAT)
    pd.testing.assert_frame_equal(a, b)


# -- bonus, penalty and their caps ----------------------------------------------------------------

ITEMS = pd.DataFrame([
    # item, kind, points, up_to, cap, rate
    ("K05", "bonus", 0.5, np.nan, 2.0, "points"),      # "mỗi thành tích 0,5 điểm, tối đa không quá 02 điểm"
    ("K1", "bonus", 1.0, np.nan, np.nan, "points"),    # 1 point each, no cap of its own
    ("ONCE", "bonus", 2.0, np.nan, 2.0, "points"),     # "được thưởng 02 điểm" (once)
    ("UP1", "penalty", np.nan, 1.0, np.nan, "up_to"),  # "mỗi văn bản trừ tối đa 01 điểm"
    ("UP1X", "penalty", np.nan, 1.0, 1.0, "up_to"),    # "trừ tối đa 01 điểm" (once)
    ("OPEN", "penalty", np.nan, np.nan, np.nan, "amount"),
], columns=["item", "kind", "points", "up_to", "cap", "rate"])


def rows(data: list[tuple[str, str, float | None, float | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(data, columns=["unit_id", "item", "count", "amount"]).astype(
        {"count": "float64", "amount": "float64"})
    frame["_row"] = range(2, len(frame) + 2)
    return frame


def test_per_item_cap_applies_to_the_sum_of_a_units_rows():
    # 3 + 2 commendations from two agencies: 5 × 0,5 = 2,5 → capped at 2 (0,5 removed, final −0,5).
    lines, per_item, log = adjust(rows([("u", "K05", 3, None), ("u", "K05", 2, None)]), ITEMS)
    assert lines["raw"].tolist() == [1.5, 1.0] and lines["points"].tolist() == [1.5, 1.0]
    item = per_item.set_index("item").loc["K05"]
    assert item["raw"] == 2.5 and item["points"] == 2.0 and item["rows"] == 2
    assert log[["stage", "item", "before", "limit", "after", "removed", "effect"]].values.tolist() == [
        ["item_cap", "K05", 2.5, 2.0, 2.0, 0.5, -0.5]]


def test_up_to_bounds_the_amount_per_occurrence():
    lines, per_item, log = adjust(rows([("u", "UP1", 1, 1.5),     # 1,5 given, at most 1 → 1 (penalty cut: +0,5)
                                        ("v", "UP1", 3, 2.5),     # 3 documents: at most 3 → 2,5 stands
                                        ("w", "UP1X", 2, 2.0),    # once: up to 1 × 2 = 2, then cap 1
                                        ("x", "OPEN", None, 3.0)]), ITEMS)   # no bound of its own
    assert lines["points"].tolist() == [1.0, 2.5, 2.0, 3.0]
    assert per_item.set_index("unit_id")["points"].to_dict() == {"u": 1.0, "v": 2.5, "w": 1.0, "x": 3.0}
    got = log[["unit_id", "stage", "removed", "effect", "row"]].values.tolist()
    assert got == [["u", "up_to", 0.5, 0.5, 2], ["w", "item_cap", 1.0, 1.0, pd.NA]]
    assert log["row"].isna().tolist() == [False, True]


def test_a_once_item_entered_twice_is_capped():
    _, per_item, log = adjust(rows([("u", "ONCE", 2, None)]), ITEMS)
    assert per_item.at[0, "points"] == 2.0 and log.at[0, "removed"] == 2.0


UNITS = pd.DataFrame({"unit_id": ["hi", "lo", "mid"], "unit": ["Hi", "Lo", "Mid"], "group": ["g", "g", "g"],
                      "input_order": [1, 2, 3]})


def totals_frame(appraisals: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"appraisal": appraisals, "self_appraisal": appraisals,
                         "criteria_set": dict.fromkeys(appraisals, "s")})


def test_total_adjustment_is_bounded_to_plus_minus_ten_and_logged():
    items = rows([("hi", "K1", 12, None), ("hi", "K05", 1, None),          # bonus 12,5
                  ("lo", "OPEN", None, 14.0),                              # penalty 14
                  ("mid", "K1", 3, None), ("mid", "OPEN", None, 1.0)])     # +2 net: untouched
    _, per_item, log = adjust(items, ITEMS)
    scores, score_log = score_from_components(
        totals_frame({"hi": 85.0, "lo": 80.0, "mid": 70.0}), unit_adjustments(per_item), UNITS,
        appraisal_max=90, adjustment_max=10, score_min=0, score_max=100)
    s = scores.set_index("unit_id")
    assert s["adjustment"].to_dict() == {"hi": 10.0, "lo": -10.0, "mid": 2.0}
    assert s["final_score"].to_dict() == {"hi": 95.0, "lo": 70.0, "mid": 72.0}
    assert score_log[["unit_id", "stage", "before", "after", "removed", "effect"]].values.tolist() == [
        ["hi", "total", 12.5, 10.0, 2.5, -2.5], ["lo", "total", -14.0, -10.0, 4.0, 4.0]]


def test_each_bound_caps_bonus_and_penalty_separately():
    _, per_item, _ = adjust(rows([("hi", "K1", 12, None), ("hi", "OPEN", None, 11.0)]), ITEMS)
    scores, log = score_from_components(totals_frame({"hi": 80.0}), unit_adjustments(per_item), UNITS.iloc[:1],
                                        appraisal_max=90, adjustment_max=10, score_min=0, score_max=100,
                                        bound="each")
    # bonus 12 → 10, penalty 11 → 10: adjustment 0 (with "net" it would be +1).
    assert scores.at[0, "adjustment"] == 0.0
    assert log[["stage", "kind", "removed", "effect"]].values.tolist() == [
        ["total_bonus", "bonus", 2.0, -2.0], ["total_penalty", "penalty", 1.0, 1.0]]


def test_final_score_is_clamped_to_the_scale():
    # A scale whose parts can leave [0, 100]: adjustment up to 15. 90 + 12 = 102 → 100; 5 − 12 = −7 → 0.
    _, per_item, _ = adjust(rows([("hi", "K1", 12, None), ("lo", "OPEN", None, 12.0)]), ITEMS)
    scores, log = score_from_components(
        totals_frame({"hi": 90.0, "lo": 5.0, "mid": 50.0}), unit_adjustments(per_item), UNITS,
        appraisal_max=90, adjustment_max=15, score_min=0, score_max=100)
    assert scores.set_index("unit_id")["final_score"].to_dict() == {"hi": 100.0, "lo": 0.0, "mid": 50.0}
    assert log[["unit_id", "stage", "before", "limit", "after", "effect"]].values.tolist() == [
        ["hi", "clamp", 102.0, 100.0, 100.0, -2.0], ["lo", "clamp", -7.0, 0.0, 0.0, 7.0]]


def test_score_detail_end_to_end_and_the_log_explains_every_difference():
    pts = points([("u", "A", 30, 27, False), ("u", "B", 30, 27, False), ("u", "C", None, None, True)])
    items = rows([("u", "K05", 5, None), ("u", "UP1", 1, 1.5)])
    d = score_detail(units=UNITS.iloc[:1].assign(unit_id="u"), sets=SETS, catalogue=THREE, points=pts,
                     items=items, item_catalogue=ITEMS, appraisal_max=90, adjustment_max=10, score_min=0,
                     score_max=100)
    s = d.scores.iloc[0]
    # 81 (prorated) + 2 (K05 capped) − 1 (UP1 bounded) = 82.
    assert s["appraisal"] == pytest.approx(81) and s["bonus"] == 2 and s["penalty"] == 1
    assert s["final_score"] == pytest.approx(82)
    assert s["final_score"] == pytest.approx(s["appraisal"] + s["bonus_raw"] - s["penalty_raw"] + d.log["effect"].sum())


# -- properties -----------------------------------------------------------------------------------

ROW = st.tuples(st.sampled_from(["hi", "lo", "mid"]), st.sampled_from(ITEMS["item"].tolist()),
                st.integers(0, 6), st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.5]))


@settings(max_examples=60, deadline=None)
@given(st.lists(ROW, max_size=25), st.lists(st.floats(0, 90, allow_nan=False), min_size=3, max_size=3),
       st.sampled_from(["net", "each"]))
def test_every_difference_from_the_raw_arithmetic_is_a_logged_cap(data, appraisals, bound):
    fixed = ITEMS.set_index("item")["rate"].eq("points")
    items = rows([(u, it, float(c), None if fixed[it] else a) for u, it, c, a in data])
    _, per_item, log = adjust(items, ITEMS)
    scores, score_log = score_from_components(
        totals_frame(dict(zip(["hi", "lo", "mid"], appraisals, strict=True))), unit_adjustments(per_item), UNITS,
        appraisal_max=90, adjustment_max=10, score_min=0, score_max=100, bound=bound)
    effects = pd.concat([log, score_log]).groupby("unit_id")["effect"].sum()
    s = scores.set_index("unit_id")
    rebuilt = s["appraisal"] + s["bonus_raw"] - s["penalty_raw"] + effects.reindex(s.index).fillna(0.0)
    assert np.allclose(rebuilt, s["final_score"], atol=1e-9)
    assert (s["adjustment"].abs() <= 10 + 1e-12).all()
    assert ((s["final_score"] >= 0) & (s["final_score"] <= 100)).all()
    caps = per_item.merge(ITEMS[["item", "cap"]], on="item", suffixes=("", "_rule"))
    assert (caps["points"] <= caps["cap_rule"].fillna(np.inf) + 1e-12).all()
    assert (pd.concat([log, score_log])["removed"] > 0).all(), "only caps that bite are logged"
