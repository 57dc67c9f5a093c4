"""What-if: re-classify a year under modified rules; hand-computed on the 2020 table of the seed."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from evaluation.engine.whatif import (
    checked,
    reclassify,
    rescore,
    scoring_changes,
    tier_changes,
    tier_counts,
    with_adjustment_max,
    with_item_cap,
    with_quota,
    with_tier_min,
)
from evaluation.errors import InputError


def test_unchanged_rules_change_nothing(evaluation_2020):
    ev = evaluation_2020
    assert tier_changes(ev, ev.rules).empty
    pd.testing.assert_frame_equal(reclassify(ev, ev.rules), ev.ranked)


def test_raising_the_top_bound_to_91(evaluation_2020, seed_table):
    ev = evaluation_2020
    before = ev.ranked.copy()
    rules = with_tier_min(ev.rules, "xuat_sac", 91)
    assert rules.tier("xuat_sac").min == Decimal(91) and rules.tier("tot").max == Decimal(91)
    changes = tier_changes(ev, rules)
    # From the seed: the excellent units scoring 90.0–90.9 are Sở Y tế 90.5, Trường ĐH Văn hoá 90,
    # Hoằng Hóa 90.6 and Cẩm Thủy 90.3.
    expected = seed_table[(seed_table["score"] >= 90) & (seed_table["score"] < 91)]
    assert len(expected) == 4
    assert changes["unit_id"].tolist() == ["so-y-te", "dh-van-hoa-the-thao-du-lich", "huyen-hoang-hoa",
                                           "huyen-cam-thuy"]
    assert changes["score"].tolist() == [90.5, 90.0, 90.6, 90.3]
    assert set(changes["tier_before"]) == {"xuat_sac"} and set(changes["tier_after"]) == {"tot"}
    assert changes["move"].tolist() == [-1] * 4
    assert tier_counts(ev, rules).loc[["xuat_sac", "tot"], ["before", "after", "change"]].values.tolist() == [
        [11, 7, -4], [50, 54, 4]]
    pd.testing.assert_frame_equal(ev.ranked, before)   # the evaluation itself is not touched


def test_lowering_the_top_bound_to_88_point_2(evaluation_2020):
    changes = tier_changes(evaluation_2020, with_tier_min(evaluation_2020.rules, "xuat_sac", "88,2"))
    # The bound is inclusive: Khoa học và Công nghệ 88.3, Ngoại vụ 88.2 and Yên Định 88.6 move up;
    # Lao động, TB và XH (88.1) and Đài Phát thanh truyền hình (88.0) do not.
    assert changes["unit"].tolist() == ["Sở Khoa học và Công nghệ", "Sở Ngoại vụ", "Yên Định"]
    assert changes["move"].tolist() == [1, 1, 1]


def test_a_cap_of_20_percent_of_good_province_wide(evaluation_2020):
    # 11 xuất sắc, 50 tốt: k ≤ 0.2·(50 + 11 − k) → k ≤ 10.17 → 10; the lowest (ĐH Văn hoá, 90.0) moves down.
    rules = with_quota(evaluation_2020.rules, "xuat_sac", 0.2, of="tot")
    changes = tier_changes(evaluation_2020, rules)
    assert changes["unit_id"].tolist() == ["dh-van-hoa-the-thao-du-lich"]
    assert changes["reason"].iloc[0] == "Vượt hạn mức «Xuất sắc» (tối đa 20% số đơn vị «Tốt»): xếp «Tốt»"


def test_a_cap_of_20_percent_of_good_per_group(evaluation_2020):
    # I: 5 vs 15 → 3 allowed (Văn phòng UBND tỉnh 91.9 and Sở Y tế 90.5 move down);
    # II: 1 vs 13 → 2 allowed (nobody moves); III: 5 vs 22 → 4 allowed (Cẩm Thủy 90.3 moves down).
    rules = with_quota(evaluation_2020.rules, "xuat_sac", "0,2", of="tot", scope="group")
    changes = tier_changes(evaluation_2020, rules)
    assert changes["unit_id"].tolist() == ["van-phong-ubnd-tinh", "so-y-te", "huyen-cam-thuy"]
    assert tier_counts(evaluation_2020, rules).at["xuat_sac", "after"] == 8


def test_rules_made_with_model_copy_are_checked(evaluation_2020):
    rules = evaluation_2020.rules
    overlapping = rules.model_copy(update={"tiers": [rules.tiers[0], rules.tiers[1].model_copy(
        update={"min": Decimal(95)}), *rules.tiers[2:]]})
    with pytest.raises(InputError) as info:
        tier_changes(evaluation_2020, overlapping)
    assert "tiers[1].min: 95 phải nhỏ hơn ngưỡng của bậc trên" in str(info.value)
    with pytest.raises(InputError):
        with_quota(rules, "gioi", 0.2)
    with pytest.raises(KeyError):
        with_tier_min(rules, "gioi", 90)
    assert checked(rules) == rules


@pytest.fixture(scope="module")
def example_year():
    from evaluation.engine.pipeline import evaluate

    from .conftest import ROOT

    return evaluate(ROOT / "params" / "example-2021.yaml")


def test_a_smaller_bound_on_bonus_and_penalty_rescores_the_year(example_year):
    # Bonus and penalty (after each item's cap) net to at most ±1 instead of ±10.
    ev = example_year
    rules = with_adjustment_max(ev.rules, "1")
    assert scoring_changes(ev, rules) == ["thang điểm"]
    d = ev.detail.scores.set_index("unit_id")
    expected = (d["appraisal"] + (d["bonus"] - d["penalty"]).clip(-1, 1)).clip(0, 100)
    got = rescore(ev, rules).set_index("unit_id")["final_score"]
    assert got.reindex(expected.index).to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-9)
    changes = tier_changes(ev, rules).set_index("unit_id")
    # By hand, Thọ Xuân: appraised 82.47, bonus 12.5 and penalty 0.5 net +12, bounded to +10: 92.4
    # (one decimal, cut), xuất sắc; bounded to +1: 83.47 → 83.4, tốt.
    tho_xuan = changes.loc["huyen-tho-xuan"]
    assert (tho_xuan["score_before"], tho_xuan["score"]) == (92.4, 83.4)
    assert (tho_xuan["tier_before"], tho_xuan["tier_after"], tho_xuan["move"]) == ("xuat_sac", "tot", -1)
    moved = d[(d["bonus"] - d["penalty"]).abs() > 1]
    assert set(changes.index) <= set(moved.index)
    assert not changes.empty
    for unit_id, row in changes.iterrows():
        assert row["score_before"] != row["score"]
        assert row["move"] == (1 if d.at[unit_id, "adjustment"] < -1 else -1)
    assert ev.ranked is not None and ev.rules.scale.adjustment_max == 10  # the year itself is untouched


def test_a_lower_cap_on_one_item_rescores_only_the_units_that_reach_it(example_year):
    ev = example_year
    items = ev.detail.adjustment_items
    th02 = items[items["item"] == "TH02"].set_index("unit_id")["points"]
    rules = with_item_cap(ev.rules, "TH02", "1,0")
    after = rescore(ev, rules).set_index("unit_id")
    before = ev.detail.scores.set_index("unit_id")
    # TH02: 0.5 a time, capped at 2; capped at 1 instead, a unit loses what TH02 gave above 1.
    lost = (th02 - 1.0).clip(lower=0).reindex(before.index, fill_value=0)
    untouched = lost == 0
    assert (after.loc[untouched[untouched].index, "final_score"]
            == before.loc[untouched[untouched].index, "final_score"]).all()
    reached = lost[lost > 0].index
    assert len(reached) > 0
    expected_bonus = before.loc[reached, "bonus"] - lost[reached]
    assert after.loc[reached, "bonus"].to_numpy() == pytest.approx(expected_bonus.to_numpy(), abs=1e-9)
    with pytest.raises(KeyError, match="TH99"):
        with_item_cap(ev.rules, "TH99", 1)


def test_a_totals_only_year_refuses_a_scoring_what_if_instead_of_ignoring_it(evaluation_2020):
    rules = with_adjustment_max(evaluation_2020.rules, 5)
    with pytest.raises(InputError, match="chỉ có điểm cuối cùng đã công bố") as caught:
        tier_changes(evaluation_2020, rules)
    assert "thang điểm" in str(caught.value)
    # tiers, conditions and quotas still work on the published scores
    assert rescore(evaluation_2020, with_tier_min(evaluation_2020.rules, "xuat_sac", 91)) is evaluation_2020.scores


@pytest.mark.parametrize("make", [lambda r: with_adjustment_max(r, "1"), lambda r: with_item_cap(r, "TH02", 1),
                                  lambda r: r.model_copy(update={"adjustments": r.adjustments.model_copy(
                                      update={"bound": "each"})})])
def test_a_what_if_on_bonus_and_penalty_only_gives_what_scoring_everything_again_gives(example_year, make):
    # Such a what-if reuses the appraisal by criterion and survey; the result must be the full rescoring's.
    from evaluation.engine.detail import evaluate_detail

    ev = example_year
    rules = checked(make(ev.rules))
    full = evaluate_detail(ev.inputs.tables, rules, ev.inputs.registry, ev.inputs.sets).scores
    pd.testing.assert_frame_equal(rescore(ev, rules), full)


def test_a_what_if_on_criteria_scores_everything_again(example_year):
    ev = example_year
    sets = list(ev.rules.criteria_sets)
    first = sets[0]
    crit = list(first.criteria)
    # Move 2 points from KTXH to QLNN, scored by a survey (mean ÷ scale × maximum): the set's units move.
    i, j = [c.code for c in crit].index("KTXH"), [c.code for c in crit].index("QLNN")
    crit[i] = crit[i].model_copy(update={"max": crit[i].max - 2})
    crit[j] = crit[j].model_copy(update={"max": crit[j].max + 2})
    sets[0] = first.model_copy(update={"criteria": crit})
    rules = checked(ev.rules.model_copy(update={"criteria_sets": sets}))
    assert scoring_changes(ev, rules) == ["bộ tiêu chí"]
    after = rescore(ev, rules).set_index("unit_id")
    before = ev.detail.scores.set_index("unit_id")
    members = ev.detail.sets.loc[ev.detail.sets["criteria_set"] == first.id, "unit_id"]
    others = before.index.difference(pd.Index(members))
    assert (after.loc[others, "final_score"] == before.loc[others, "final_score"]).all()
    qlnn = ev.detail.survey.set_index(["unit_id", "criterion"])["ratio"].xs("QLNN", level="criterion")
    counted = [u for u in members if u in qlnn.index and not ev.detail.survey.set_index("unit_id").loc[u].query(
        "criterion == 'QLNN'")["flag"].any()]
    assert counted
    # A survey criterion earns ratio × maximum, rounded as precision.stages.criterion says: 2 more points of
    # maximum, about 2 × ratio more points — exactly the difference of the two rounded products.
    from evaluation.engine.precision import round_values

    stage = ev.rules.precision.stages.criterion
    new_max = float(crit[j].max)
    ratio = qlnn[counted].to_numpy()
    gained = (after.loc[counted, "appraisal"] - before.loc[counted, "appraisal"]).to_numpy()
    expected = round_values(ratio * new_max, stage) - round_values(ratio * (new_max - 2), stage)
    assert gained == pytest.approx(expected, abs=1e-9)
    assert gained == pytest.approx(2 * ratio, abs=2 * 10 ** -stage.decimals)


def test_a_year_given_per_period_is_scored_again_when_the_periods_weigh_differently():
    from evaluation.engine.pipeline import evaluate
    from evaluation.engine.whatif import rescore, tier_changes
    from tests.conftest import ROOT

    ev = evaluate(ROOT / "params" / "example-2026.yaml")
    items = [p.model_copy(update={"weight": Decimal(3) if p.code == "Q4" else Decimal(1)})
             for p in ev.rules.periods.items]
    rules = ev.rules.model_copy(update={"periods": ev.rules.periods.model_copy(update={"items": items})})
    scores = rescore(ev, rules).set_index("unit_id")
    rows = ev.inputs.tables["periods"].table
    one = rows[rows["unit_id"] == "so-tu-phap"].set_index("period")["final_score"]
    assert scores.at["so-tu-phap", "final_score"] == pytest.approx(
        (one["Q1"] + one["Q2"] + one["Q3"] + 3 * one["Q4"]) / 6)
    assert len(tier_changes(ev, rules)) > 0
