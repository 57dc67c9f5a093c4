"""The sensitivity analysis: declared uncertainty as data, scenarios scored and classified by the engine.

Expected values are worked out by hand in the comments (bounds), computed directly (bootstrap), or
obtained by running the engine's own stages on one scenario materialised as rules and inputs.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from itertools import product

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.engine.classify import classify
from evaluation.engine.detail import score_detail
from evaluation.engine.pipeline import evaluate
from evaluation.engine.rank import rank
from evaluation.engine.sensitivity import analyse, bootstrap_means, survey_intervals
from evaluation.engine.whatif import checked, with_tier_min
from evaluation.errors import InputError
from evaluation.inputs.catalogue import criteria_frame, items_frame, questions_frame, surveys_frame
from evaluation.inputs.rules import (
    Uncertainty,
    VaryCriterionMax,
    VaryRounding,
    VaryTierMin,
    VaryUpTo,
    checked_uncertainty,
    derive_uncertainty,
    load_uncertainty,
)
from tests.conftest import FIXTURES, ROOT

EXAMPLE = ROOT / "params" / "example-2021.yaml"
DECLARED = ROOT / "params" / "uncertainty" / "thanh-hoa-2016.yaml"


@pytest.fixture(scope="module")
def example():
    return evaluate(EXAMPLE)


@pytest.fixture(scope="module")
def example_analysis(example):
    return analyse(example)


def declare(*vary, draws: int = 1000, seed: int = 7) -> Uncertainty:
    return Uncertainty(name="thử", draws=draws, seed=seed, vary=list(vary))


def bound(tier: str, lo: str, hi: str) -> VaryTierMin:
    return VaryTierMin(kind="tier_min", tier=tier, min=Decimal(lo), max=Decimal(hi))


# -- nothing declared ---------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["2020", "example-2021", "example-2026", "regime2"])
def test_with_nothing_declared_every_unit_keeps_its_tier_and_rank_in_every_scenario(year, request):
    # regime2 has a quota (xuất sắc ≤ 20 % of tốt) and a condition: both counted within each scenario.
    # example-2026: 166 communes in one group, quotas binding with ties, overrides, tier-first ranks.
    ev = {"2020": lambda: request.getfixturevalue("evaluation_2020"),
          "example-2021": lambda: request.getfixturevalue("example"),
          "example-2026": lambda: request.getfixturevalue("example_2026"),
          "regime2": lambda: evaluate(FIXTURES / "years" / "regime2" / "params" / "2031.yaml")}[year]()
    s = analyse(ev, declare(draws=50))
    assert not s.varies and s.total == len(ev.ranked) and s.stable == s.total
    u = s.units.set_index("unit_id")
    published = ev.ranked.set_index("unit_id")
    assert (u["stability"] == 1.0).all()
    assert (u["rank_low"] == published.loc[u.index, "rank"]).all() and (u["rank_high"] == u["rank"]).all()
    assert (u["score_low"] == u["score"]).all() and (u["score_high"] == u["score"]).all()
    assert u["driver"].isna().all()
    # Every scenario is the published year, unit by unit: final score, published score, tier and rank.
    for k in (0, 49):
        got = s.scenarios[s.scenarios["scenario"] == k].set_index("unit_id").loc[published.index]
        assert (got["final_score"] == published["final_score"]).all()
        assert (got["score"] == published["score"]).all()
        assert (got["tier"] == published["tier"]).all()
        assert (got["rank"] == published["rank"]).all()


def test_with_nothing_declared_the_scenarios_round_every_stage_as_the_year_does(example):
    # A year scored from its parts: the scenarios rescore it with their own arithmetic, which must round a
    # survey's mean, each criterion's points and credit, each bonus and penalty and every sum as
    # precision.stages say.  Unrounded, these four units' sums fall a hair below the published value
    # and "bỏ phần lẻ" cuts them a tenth lower (Thạch Thành 81,9 instead of 82,0).
    ev = example
    assert ev.rules.precision.rounding == "down" and ev.rules.precision.stages.total.decimals == 2
    s = analyse(ev, declare(draws=10))
    got = s.scenarios[s.scenarios["scenario"] == 3].set_index("unit_id")["score"]
    published = ev.ranked.set_index("unit")
    by_name = got.rename(ev.ranked.set_index("unit_id")["unit"])
    expected = {"Thạch Thành": 82.0, "Sở Xây dựng": 86.5, "Sở Nội vụ": 83.2, "Như Xuân": 81.8}
    assert {n: published.at[n, "score"] for n in expected} == expected
    assert {n: by_name[n] for n in expected} == expected
    # Scenarios that rescore (a bonus drawn from 0 to its maximum) keep every sum on the stages' grid.
    s = analyse(ev, declare(VaryUpTo(kind="up_to", items=["TR01"]), draws=20, seed=1))
    assert s.varies and s.scenarios.groupby("unit_id")["final_score"].nunique().max() > 1
    finals = s.scenarios["final_score"].to_numpy()
    assert np.allclose(finals, np.round(finals, 2), rtol=0, atol=1e-12)


def test_a_year_without_a_declaration_varies_nothing(evaluation_2020):
    ev = dataclasses.replace(evaluation_2020, inputs=dataclasses.replace(evaluation_2020.inputs, uncertainty=None))
    s = analyse(ev, draws=20)
    assert not s.varies and s.stable == s.total == 61


# -- tier bounds, by hand -------------------------------------------------------------------------------


def test_a_unit_exactly_at_a_bound_is_split_as_computed_by_hand(evaluation_2020):
    # «Xuất sắc» from 89,5 to 90,5: 11 bounds on the published grid (89,5; 89,6; …; 90,5), each in exactly
    # 100 of 1,100 scenarios. A unit at 90,0 reaches 6 of them (89,5…90,0): xuất sắc in 6/11 of them.
    s = analyse(evaluation_2020, declare(bound("xuat_sac", "89.5", "90.5"), draws=1100))
    u = s.units.set_index("unit")
    at_bound = u.loc["Trường ĐH Văn hóa, TT&DL"]
    assert at_bound["score"] == 90.0 and at_bound["tier"] == "xuat_sac"
    assert at_bound["share_xuat_sac"] == 600 / 1100 and at_bound["share_tot"] == 500 / 1100
    assert at_bound["stability"] == 6 / 11 and not at_bound["stable"]
    # 90,3 reaches 9 bounds, 90,5 all 11; 88,6 none of them (and was tốt already).
    assert u.loc["Cẩm Thủy", "share_xuat_sac"] == 900 / 1100
    assert u.loc["Sở Y tế", "share_xuat_sac"] == 1.0 and u.loc["Sở Y tế", "stable"]
    below = u[u["score"] < 89.5]
    assert (below["share_xuat_sac"] == 0).all() and below["stable"].all()
    # Bounds do not move scores: ranks stay; the bound is what moves the unit, alone in 5/11 of its scenarios.
    assert (u["rank_low"] == u["rank"]).all() and (u["rank_high"] == u["rank"]).all()
    assert at_bound["driver_label"] == "Ngưỡng «Xuất sắc»" and at_bound["driver_flips"] == 500 / 1100
    assert s.stable == 61 - int(((u["score"] >= 89.5) & (u["score"] < 90.5)).sum())


@settings(max_examples=25, deadline=None)
@given(lo=st.integers(850, 900), hi=st.integers(900, 950), m=st.integers(1, 4), scores=st.data())
def test_any_bound_range_splits_every_unit_by_the_share_of_bounds_it_reaches(evaluation_2020, lo, hi, m, scores):
    # Scores in tenths; the bound of «xuất sắc» anywhere from lo to hi tenths: K values, each m times.
    ev = evaluation_2020
    tenths = scores.draw(st.lists(st.integers(800, 999), min_size=len(ev.scores), max_size=len(ev.scores)))
    scored = ev.scores.assign(final_score=np.array(tenths) / 10)
    ranked = rank(classify(scored, ev.rules), ev.rules)
    year = dataclasses.replace(ev, scores=scored, classified=ranked, ranked=ranked)
    k = hi - lo + 1
    s = analyse(year, declare(bound("xuat_sac", f"{lo / 10:.1f}", f"{hi / 10:.1f}"), draws=k * m, seed=lo))
    got = s.units.set_index("unit_id")["share_xuat_sac"]
    reached = np.clip(np.array(tenths) - lo + 1, 0, k)        # bounds ≤ the score
    expected = pd.Series(reached / k, index=scored["unit_id"].to_numpy())
    assert got.loc[expected.index].to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-12)


def test_the_rounding_rule_changes_tiers_only_where_the_digits_say_so():
    # A unit at 89,96 is 89,9 cut (tốt) and 90,0 rounded (xuất sắc): half of the scenarios each.
    ev = evaluate(ROOT / "params" / "2020.yaml")
    scored = ev.scores.assign(final_score=ev.scores["final_score"].where(ev.scores.index != 0, 89.96))
    ranked = rank(classify(scored, ev.rules), ev.rules)
    year = dataclasses.replace(ev, scores=scored, classified=ranked, ranked=ranked)
    rounding = VaryRounding(kind="rounding", alternatives=["down", "half_up"])
    s = analyse(year, declare(rounding, draws=200))
    u = s.units.set_index("unit_id")
    first = scored.at[0, "unit_id"]
    assert u.at[first, "score"] == 89.9 and u.at[first, "share_xuat_sac"] == 0.5
    assert u.at[first, "score_low"] == 89.9 and u.at[first, "score_high"] == 90.0
    # The published scores of 2020 have one decimal already: no rounding changes them.
    others = u.drop(index=first)
    assert (others["stability"] == 1).all()


# -- the bootstrap of survey forms ------------------------------------------------------------------------


def test_bootstrap_means_are_the_direct_computation_with_the_same_random_numbers():
    # A hand-made survey: unit A has 3 forms from kind X and 2 from kind Y; unit B has 4 from kind X.
    values = np.array([2.0, 3.0, 5.0, 4.0, 4.5, 1.0, 2.0, 3.0, 4.0])
    cells = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    got = bootstrap_means(values, cells, groups, 600, np.random.default_rng(11))
    # Directly: for each draw, each form slot takes a form of its own cell (start + ⌊u × size⌋).
    u = np.random.default_rng(11).random((600, len(values)))
    start = {0: 0, 1: 3, 2: 5}
    size = {0: 3, 1: 2, 2: 4}
    expected = np.zeros((600, 2))
    for d in range(600):
        picked = [values[start[c] + int(u[d, i] * size[c])] for i, c in enumerate(cells)]
        expected[d, 0] = sum(picked[:5]) / 5
        expected[d, 1] = sum(picked[5:]) / 4
    assert np.array_equal(got, expected)


def test_bootstrap_intervals_match_the_exact_distribution_of_a_small_survey():
    # Five forms 1…5 of one kind: the resampled mean takes 5⁵ equally likely values (direct enumeration).
    values = np.arange(1.0, 6.0)
    exact = np.sort([sum(c) / 5 for c in product(values, repeat=5)])
    got = bootstrap_means(values, np.zeros(5, int), np.zeros(5, int), 40_000, np.random.default_rng(3))[:, 0]
    for q in (0.025, 0.5, 0.975):
        assert np.quantile(got, q) == pytest.approx(np.quantile(exact, q), abs=0.2 + 1e-9)  # one step of 0,2
    assert got.mean() == pytest.approx(3.0, abs=0.02)
    assert got.std() == pytest.approx(np.sqrt(2.0 / 5), rel=0.02)   # plug-in: σ² = 2, n = 5


def test_survey_intervals_on_the_score_cards(example):
    si = survey_intervals(example)
    assert si is not None and len(si) > 0
    # Every interval holds the unit's points, within the criterion's maximum; more forms, narrower.
    assert (si["low"] <= si["points"] + 1e-9).all() and (si["points"] <= si["high"] + 1e-9).all()
    lines = example.detail.lines.set_index(["unit_id", "criterion"])
    top = lines.loc[pd.MultiIndex.from_frame(si[["unit_id", "criterion"]]), "max_points"].to_numpy()
    assert (si["high"].to_numpy() <= top + 1e-9).all()
    counted = example.detail.survey[example.detail.survey["applicable"] & ~example.detail.survey["flag"]]
    assert len(si) == len(counted)
    # The same forms, the same seed: the same intervals.
    pd.testing.assert_frame_equal(si, survey_intervals(example))
    # Directly for one unit: its forms of the survey, resampled within each kind of rater.
    row = si.iloc[0]
    assert row["points"] == pytest.approx(lines.at[(row["unit_id"], row["criterion"]), "points"])
    # Bounds are points as the engine gives them: rounded as precision.stages.criterion says (2 decimals).
    decimals = example.rules.precision.stages.criterion.decimals
    for col in ("low", "high", "points"):
        assert np.allclose(si[col], si[col].round(decimals), rtol=0, atol=1e-12), col


def test_a_unit_whose_forms_all_agree_has_no_sampling_uncertainty():
    values = np.full(7, 4.0)
    means = bootstrap_means(values, np.zeros(7, int), np.zeros(7, int), 100, np.random.default_rng(0))
    assert (means == 4.0).all()


# -- the shipped declaration --------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_shares_and_another_seed_other_scenarios(example, example_analysis):
    again = analyse(example)
    pd.testing.assert_frame_equal(again.units, example_analysis.units)
    pd.testing.assert_frame_equal(again.scenarios, example_analysis.scenarios)
    other = analyse(example, seed=example_analysis.seed + 1)
    assert not other.scenarios["final_score"].equals(example_analysis.scenarios["final_score"])


def test_the_illustrative_year_under_its_declaration(example, example_analysis):
    s = example_analysis
    assert s.draws == 1000 and s.seed == 2016 and s.varies and s.skipped.empty
    assert list(s.factors["kind"]) == ["rounding", "tier_min", "tier_min", "criterion_max", "criterion_max",
                                       "survey", "survey", "up_to"]
    u = s.units.set_index("unit")
    tiers = [c for c in s.units.columns if c.startswith("share_")]
    assert np.allclose(s.units[tiers].sum(axis=1), 1.0)
    assert ((u["rank_low"] <= u["rank_median"]) & (u["rank_median"] <= u["rank_high"])).all()
    assert s.stable == int((u["stability"] >= 0.95).sum()) and 0 < s.stable < s.total
    # Sở Khoa học và Công nghệ: 80,04 → 80,0, tốt only if the bound of tốt is 80,0: one of the 8 bounds
    # from 80,0 to 80,7, so the bound alone keeps it tốt in 125 of 1,000 scenarios.
    khcn = u.loc["Sở Khoa học và Công nghệ"]
    assert khcn["score"] == 80.0 and khcn["driver_label"] == "Ngưỡng «Tốt»" and khcn["driver_flips"] == 0.875
    assert s.flips.loc[khcn["unit_id"], "f3"] == 0.875
    # A unit's published rank lies in its interval unless it is unstable… and the unstable come first.
    assert list(s.unstable["stability"]) == sorted(s.unstable["stability"])
    # The rounding alone moves nobody here (every score's second decimal keeps its tier), bounds do.
    f = s.factors.set_index("kind")
    assert f.loc["rounding", "units_moved"] == 0 and f.loc["rounding", "score_sd"] == 0
    assert (s.factors.loc[s.factors["kind"] == "tier_min", "units_moved"] > 0).all()


def test_a_totals_only_year_gets_the_rounding_and_the_bounds_and_says_what_it_leaves_out(evaluation_2020):
    s = analyse(evaluation_2020)
    assert list(s.factors["kind"]) == ["rounding", "tier_min", "tier_min"]
    assert len(s.skipped) == 5 and s.skipped["reason"].str.contains("chỉ có điểm cuối cùng").all()
    # The 2020 table itself keeps the bounds declared (88,7–90 and 80–80,7) clear of every score.
    assert s.stable == s.total == 61


def test_one_scenario_is_what_the_engine_gives_on_its_rules_and_inputs(example):
    # Criterion maxima, bounds, rounding and "up to" penalties drawn; scenario k materialised as a
    # catalogue, scaled points, amounts, rounding and bounds, then scored by score_detail and classify.
    decl = declare(VaryCriterionMax(kind="criterion_max", criterion="KTXH", spread=Decimal("0.3")),
                   VaryCriterionMax(kind="criterion_max", criterion="CCHC", min=Decimal(6), max=Decimal(14),
                                    sets=["ubnd-huyen"]),
                   VaryRounding(kind="rounding", alternatives=["down", "half_up", "up"]),
                   bound("xuat_sac", "89", "90.5"),
                   VaryUpTo(kind="up_to", items=["TR01", "TR05", "TR07"]), draws=40, seed=5)
    s = analyse(example, decl)
    for k in (0, 17, 39):
        check_scenario(example, s, k)


def test_a_survey_criterion_whose_maximum_varies_is_what_the_engine_gives(example):
    # QLNN and HTDN are scored by surveys: points = (mean rounded to 2 decimals) ÷ scale × maximum, rounded to
    # 2 decimals — from the survey's ratio, not from the published points ÷ maximum (a rounded ratio).
    decl = declare(VaryCriterionMax(kind="criterion_max", criterion="QLNN", spread=Decimal("0.3")),
                   VaryCriterionMax(kind="criterion_max", criterion="HTDN", spread=Decimal("0.2")), draws=30, seed=3)
    s = analyse(example, decl)
    for k in range(0, 30, 3):
        check_scenario(example, s, k)


@settings(max_examples=8, deadline=None)
@given(spread=st.sampled_from(["0.1", "0.25", "0.4"]), lo=st.integers(880, 900), k=st.integers(0, 19),
       seed=st.integers(0, 2**16))
def test_any_scenario_is_what_the_engine_gives(example, spread, lo, k, seed):
    decl = declare(VaryCriterionMax(kind="criterion_max", criterion="NVTT", spread=Decimal(spread)),
                   bound("xuat_sac", f"{lo / 10:.1f}", "90"),
                   VaryUpTo(kind="up_to", items=["TR04", "TR09", "TR12"]), draws=20, seed=seed)
    check_scenario(example, analyse(example, decl), k)


def check_scenario(ev, s, k):
    sc = s.scenario(k)
    rules = ev.rules
    d = ev.detail
    cat = criteria_frame(rules)
    if sc["maxima"]:
        key = list(zip(cat["criteria_set"], cat["criterion"], strict=True))
        cat["max_points"] = [sc["maxima"].get(x, m) for x, m in zip(key, cat["max_points"], strict=True)]
        sums = cat.groupby("criteria_set")["max_points"].sum()
        assert np.allclose(sums, float(rules.scale.appraisal_max))   # every set still totals 90
    points = ev.inputs.tables["criteria"].table.copy().astype({"unit_id": "string", "criterion": "string"})
    points["points_na"] = points["points_na"].astype(bool)
    new_max = points.merge(d.sets, on="unit_id").merge(cat, on=["criteria_set", "criterion"])["max_points"]
    old_max = points.merge(d.sets, on="unit_id").merge(criteria_frame(rules), on=["criteria_set", "criterion"])[
        "max_points"]
    points["points"] = points["points"] * (new_max / old_max).to_numpy()       # achievement kept
    items = ev.inputs.tables["adjustments"].table.astype({"unit_id": "string", "item": "string"}).copy()
    items["amount"] = [sc["amounts"].get(int(r), a) for r, a in zip(items["_row"], items["amount"], strict=True)]
    st_ = rules.scale
    scores = score_detail(units=ev.scores[["unit_id", "unit", "group", "input_order"]], sets=d.sets, catalogue=cat,
                          points=points, appraisal_max=float(st_.appraisal_max),
                          adjustment_max=float(st_.adjustment_max), score_min=float(st_.score_min),
                          score_max=float(st_.score_max), bound=rules.adjustments.bound,
                          responses=ev.inputs.tables["survey"].table, questions=questions_frame(rules),
                          surveys=surveys_frame(rules), items=items, item_catalogue=items_frame(rules),
                          precision=rules.precision.stages).scores
    mine = rules
    for tier, value in sc["mins"].items():
        mine = with_tier_min(mine, tier, Decimal(str(value)).quantize(Decimal("0.1")))
    if sc["precision"] is not None:
        mine = checked(mine.model_copy(update={"precision": sc["precision"]}))
    engine = rank(classify(scores, mine), mine).set_index("unit_id")
    got = s.scenarios[s.scenarios["scenario"] == k].set_index("unit_id").loc[engine.index]
    assert got["final_score"].to_numpy() == pytest.approx(engine["final_score"].to_numpy(), abs=1e-9)
    assert (got["score"].to_numpy() == engine["score"].to_numpy()).all()
    assert (got["tier"].to_numpy() == engine["tier"].to_numpy()).all()
    assert (got["rank"].to_numpy() == engine["rank"].to_numpy()).all()


# -- the declaration as data ---------------------------------------------------------------------------------


def test_the_shipped_declaration_loads_and_fits_the_rules(example):
    u = load_uncertainty(DECLARED, example.rules)
    assert u.draws == 1000 and u.seed == 2016 and len(u.vary) == 8
    assert example.inputs.uncertainty == u
    assert "uncertainty" in set(example.provenance["role"])


@pytest.mark.parametrize(("entry", "place", "fragment"), [
    ({"kind": "tier_min", "tier": "tot", "min": 79, "max": 90}, "vary[0].max", "mức trên «Xuất sắc» (90)"),
    ({"kind": "tier_min", "tier": "khong_hoan_thanh", "min": 0, "max": 1}, "vary[0].tier", "mức thấp nhất"),
    ({"kind": "tier_min", "tier": "xuat_sac", "min": "89.55", "max": 90}, "vary[0].min", "nhiều chữ số thập phân"),
    ({"kind": "criterion_max", "criterion": "KTXH", "min": 10, "max": 95}, "vary[0].max", "không để lại điểm"),
    ({"kind": "criterion_max", "criterion": "XYZ", "spread": 0.2}, "vary[0].criterion", "không có trong bộ tiêu chí"),
    ({"kind": "criterion_max", "criterion": "KTXH", "sets": ["don-vi-su-nghiep"], "spread": 0.2}, "vary[0].sets",
     "không có tiêu chí «KTXH»"),
    ({"kind": "criterion_max", "criterion": "KTXH", "spread": 1.5}, "vary[0].spread", "nhỏ hơn 1"),
    ({"kind": "survey", "surveys": ["phieu-khong-co"]}, "vary[0].surveys[0]", "không có trong surveys"),
    ({"kind": "up_to", "items": ["TH13"]}, "vary[0].items[0]", "không có mức tối đa"),
    ({"kind": "rounding", "alternatives": ["down", "sideways"]}, "vary[0].alternatives[1]",
     "một trong các giá trị"),
    ({"kind": "rounding", "alternatives": ["down", {"rounding": "half_up", "decimals": 0}, "down"]},
     "vary[0].alternatives[2]", "bị lặp"),
    ({"kind": "tier_min", "tier": "xuat_sac", "min": 89, "max": 91, "colour": "x"}, "vary[0].colour",
     "khóa không được biết đến"),
])
def test_a_wrong_declaration_says_where_and_what(tmp_path, example, entry, place, fragment):
    import yaml

    path = tmp_path / "u.yaml"
    path.write_text(yaml.safe_dump({"name": "thử", "vary": [entry]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_uncertainty(path, example.rules, "u.yaml")
    problems = caught.value.problems
    assert any(p.column == place and fragment in p.expected for p in problems), [str(p) for p in problems]


def test_two_declarations_of_one_value_and_overlapping_bounds_are_refused(example):
    decl = declare(bound("xuat_sac", "88.5", "90"), bound("tot", "80", "88.5"), bound("xuat_sac", "89", "90"))
    with pytest.raises(InputError) as caught:
        checked_uncertainty(decl, example.rules)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "vary[2].tier" in text and "đã được khai báo ở vary[0]" in text
    assert "vary[0].min" in text and "mức dưới «Tốt»" in text


def test_a_params_file_naming_a_missing_declaration_is_refused(tmp_path):
    import shutil

    shutil.copytree(ROOT / "params", tmp_path / "params")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "params" / "uncertainty" / "thanh-hoa-2016.yaml").unlink()
    with pytest.raises(InputError, match="uncertainty"):
        evaluate(tmp_path / "params" / "2020.yaml")


def test_a_declaration_derived_from_the_unconfirmed_values_only_when_asked(example):
    u = derive_uncertainty(example.rules)
    kinds = [v.kind for v in u.vary]
    # Every criterion maximum is unconfirmed (one entry per code), the rounding is, «hoàn thành» from 50 is.
    assert kinds.count("criterion_max") == len({c.code for cs in example.rules.criteria_sets for c in cs.criteria})
    assert "rounding" in kinds and "survey" in kinds
    tiers = [v for v in u.vary if v.kind == "tier_min"]
    assert [(v.tier, v.min, v.max) for v in tiers] == [("hoan_thanh", 49, 51)]
    s = analyse(example, u, draws=100)
    assert s.varies and len(s.factors) == len(u.vary)


# -- a year under Nghị định 335/2025: scores per quarter, quotas that bind with a tie, overrides -----

EXAMPLE_2026 = ROOT / "params" / "example-2026.yaml"


@pytest.fixture(scope="module")
def example_2026():
    return evaluate(EXAMPLE_2026)


def test_with_nothing_declared_the_2026_example_is_its_published_tiers_and_ranks(example_2026):
    ev = example_2026
    # What makes the year hard: 166 communes in one group, the quota binding in every group with a tie
    # at the communes' edge (settled by the self-score gap, the rest demoted), overrides, tier-first ranks.
    assert (ev.ranked["group"] == "ubnd_xa").sum() == 166 and len(ev.ranked) == 195
    assert (ev.quotas.limits["demoted"] > 0).all() and ev.quotas.limits["tie"].max() >= 2
    capped = set(ev.inputs.tables["conditions"].table["unit_id"])
    assert capped and (ev.ranked.loc[ev.ranked["unit_id"].isin(capped), "tier"] == "khong_hoan_thanh").all()
    assert ev.rules.ranking.by == "tier_then_score"
    s = analyse(ev, declare(draws=30))
    assert not s.varies and s.stable == s.total == 195
    published = ev.ranked.set_index("unit_id")
    for k in (0, 29):
        got = s.scenarios[s.scenarios["scenario"] == k].set_index("unit_id").loc[published.index]
        assert (got["score"] == published["score"]).all()
        assert (got["tier"] == published["tier"]).all()
        assert (got["rank"] == published["rank"]).all()
    u = s.units.set_index("unit_id").loc[published.index]
    assert (u["rank_low"] == published["rank"]).all() and (u["rank_high"] == published["rank"]).all()


def test_the_2026_example_under_its_declaration_is_what_the_engine_gives_in_each_scenario(example_2026):
    ev = example_2026
    s = analyse(ev)
    assert s.draws == 1000 and s.seed == 2026 and list(s.factors["kind"]) == ["rounding"] and s.skipped.empty
    # Each of the four roundings in a quarter of the scenarios (Latin hypercube over the alternatives).
    assert np.bincount(s.values["f1"].astype(int)).tolist() == [250] * 4
    conditions = ev.inputs.tables["conditions"].table
    seen = set()
    for k in range(s.draws):
        precision = s.scenario(k)["precision"]
        if precision.rounding in seen:
            continue
        seen.add(precision.rounding)
        rules = checked(ev.rules.model_copy(update={"precision": precision}))
        engine = rank(classify(ev.scores, rules, conditions), rules).set_index("unit_id")
        got = s.scenarios[s.scenarios["scenario"] == k].set_index("unit_id").loc[engine.index]
        assert (got["score"].to_numpy() == engine["score"].to_numpy()).all(), precision.rounding
        assert (got["tier"].to_numpy() == engine["tier"].to_numpy()).all(), precision.rounding
        assert (got["rank"].to_numpy() == engine["rank"].to_numpy()).all(), precision.rounding
    assert seen == {"down", "half_up", "half_even", "up"}
    # Quarterly scores on a half-point grid: no rounding carries a mean across 90, 70 or 50, but rounding
    # up breaks ties the published rounding makes, so ranks move while every tier holds.
    assert s.stable == s.total == 195
    assert (s.units["rank_low"] != s.units["rank_high"]).any()


def test_the_declaration_is_confined_and_hashed_from_the_bytes_read(example_2026, tmp_path):
    import hashlib
    import shutil

    path = ROOT / "params" / "uncertainty" / "nd-335-2025.yaml"
    row = example_2026.provenance.set_index("role").loc["uncertainty"]
    assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and row["bytes"] == path.stat().st_size
    # Out of the project (a path or a link) it is refused by its key, before a byte is read.
    shutil.copytree(ROOT / "params", tmp_path / "params")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text("name: bí mật\n", encoding="utf-8")
    params = tmp_path / "params" / "example-2026.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("uncertainty/nd-335-2025.yaml", str(outside)),
                      encoding="utf-8")
    with pytest.raises(InputError) as caught:
        evaluate(params)
    text = str(caught.value)
    assert "khóa «uncertainty»" in text and "dẫn ra ngoài thư mục dự án" in text and "bí mật" not in text
    linked = tmp_path / "params" / "uncertainty" / "nd-335-2025.yaml"
    linked.unlink()
    linked.symlink_to(outside)
    params.write_text(params.read_text(encoding="utf-8").replace(str(outside), "uncertainty/nd-335-2025.yaml"),
                      encoding="utf-8")
    with pytest.raises(InputError, match="khóa «uncertainty».*dẫn ra ngoài"):
        evaluate(params)
