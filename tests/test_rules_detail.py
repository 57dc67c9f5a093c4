"""The detailed part of the rules: criteria sets, surveys, bonus/penalty items (seed sections 1 and 2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.inputs.catalogue import item_scope, items_frame, rules_registry_problems, unit_sets
from evaluation.inputs.registry import load_registry
from evaluation.inputs.rules import load_rules
from tests.conftest import ROOT
from tests.test_rules import variant

THANH_HOA = ROOT / "params" / "rules" / "thanh-hoa-2016.yaml"


@pytest.fixture(scope="module")
def rules():
    return load_rules(THANH_HOA)


@pytest.fixture(scope="module")
def units():
    registry = load_registry(ROOT / "data" / "units.csv")
    return registry.units[registry.valid_in(2021)]


def test_every_criteria_set_sums_to_the_appraisal_maximum_with_the_seeds_bodies(rules):
    assert [cs.id for cs in rules.criteria_sets] == [
        "so-kinh-te-tong-hop", "so-ky-thuat", "so-van-hoa-xa-hoi", "ubnd-huyen", "ubnd-thi-xa-thanh-pho",
        "don-vi-su-nghiep"]
    for cs in rules.criteria_sets:
        assert cs.total == Decimal(90), cs.id
        assert {c.body for c in cs.criteria} <= {"so-noi-vu", "so-ke-hoach-dau-tu", "thanh-tra-tinh",
                                                 "van-phong-ubnd-tinh"}
        assert not any(c.confirmed for c in cs.criteria), "the seed gives no point split: placeholders"
    # Section 1: Thanh tra tỉnh appraises inspection; Văn phòng UBND tỉnh the business-support criterion.
    by_code = {c.code: c.body for c in rules.criteria_set("ubnd-huyen").criteria}
    assert by_code["TTRA"] == "thanh-tra-tinh" and by_code["MTDT"] == "van-phong-ubnd-tinh"
    assert by_code["KTXH"] == by_code["KHDT"] == "so-ke-hoach-dau-tu" and by_code["CCHC"] == "so-noi-vu"


def test_each_unit_of_2021_uses_exactly_one_set(rules, units):
    sets = unit_sets(units, rules)
    assert (sets["matches"] == 1).all()
    counts = sets["criteria_set"].value_counts().to_dict()
    assert counts == {"ubnd-huyen": 23, "don-vi-su-nghiep": 14, "so-ky-thuat": 8, "so-kinh-te-tong-hop": 7,
                      "so-van-hoa-xa-hoi": 5, "ubnd-thi-xa-thanh-pho": 4}
    assert not rules_registry_problems(rules, units, "rules")


def test_the_surveys_of_section_1(rules):
    raters = {s.criterion: s.raters for s in rules.surveys}
    assert raters == {"QLNN": ["ubnd-cap-huyen"], "QLDB": ["so-nganh"],
                      "HTDN": ["doanh-nghiep", "co-quan-khac"], "MTDT": ["doanh-nghiep", "co-quan-khac"]}


def test_every_item_of_section_2_with_its_rate_and_cap(rules):
    items = items_frame(rules).set_index("item")
    assert (items["kind"] == "bonus").sum() == 13 and (items["kind"] == "penalty").sum() == 25
    # "mỗi thành tích được thưởng 0,5 điểm, tối đa không quá 02 điểm"
    assert items.loc["TH02", ["points", "cap", "rate"]].tolist() == [0.5, 2.0, "points"]
    # "mỗi cơ chế, chính sách, chương trình, đề án được 01 điểm" (no cap of its own)
    assert items.loc["TH01", "points"] == 1.0 and items["cap"].isna()["TH01"]
    # "mỗi văn bản trừ tối đa 01 điểm": up to 1 per document, no cap
    assert items.loc["TR05", ["up_to", "rate"]].tolist() == [1.0, "up_to"] and items["cap"].isna()["TR05"]
    # "trừ tối đa 01 điểm" (once)
    assert items.loc["TR01", ["up_to", "cap"]].tolist() == [1.0, 1.0]
    assert items.loc["TR13", ["points", "cap"]].tolist() == [1.0, 1.0]
    assert items.loc["TH13", "rate"] == items.loc["TR25", "rate"] == "amount"


def test_item_scopes_districts_only_and_named_departments(rules, units):
    scope = item_scope(units, rules)
    where = scope.groupby("item")["unit_id"].apply(set)
    districts = set(units.index[units["group"] == "ubnd_huyen"])
    assert where["TH04"] == where["TH06"] == where["TR06"] == districts
    assert where["TR13"] == {"so-nong-nghiep-ptnt", "so-cong-thuong", "so-y-te"}
    assert where["TR15"] == {"so-lao-dong-tbxh"}
    assert where["TR19"] == where["TR20"] == {"so-giao-thong-van-tai"}
    assert where["TH01"] == districts | set(units.index[units["group"] == "so_nganh"])
    assert len(where["TH02"]) == 61


def test_detailed_values_are_footnoted_apart_from_the_totals_only_ones(rules):
    assert [p for p, _ in rules.unconfirmed()] == ["precision", "tiers[2]", "tiers[3]"]
    places = [p for p, _ in rules.unconfirmed_detail()]
    assert "criteria_sets[0]" in places and "criteria_sets[3]" not in places   # districts by kind: the seed
    assert "criteria_sets[3].criteria" in places and "surveys[0]" in places and "adjustments.bound" in places


def test_a_set_that_does_not_sum_to_90_is_refused(tmp_path):
    def edit(d):
        d["criteria_sets"][1]["criteria"][0]["max"] = 16
    msgs = variant(tmp_path, edit)
    assert msgs == ["rules.yaml, khóa «criteria_sets[1]» — tổng điểm tối đa các tiêu chí là 91, phải bằng "
                    "scale.appraisal_max (90)"]


def test_cross_references_are_checked(tmp_path):
    def edit(d):
        d["criteria_sets"][0]["criteria"][0]["body"] = "so-xay-dung"
        d["surveys"][0]["sets"].append("khong-co")
        d["surveys"][1]["raters"] = ["ai-do"]
        d["adjustments"]["items"][3]["scope"]["groups"] = ["huyen"]
        d["rater_kinds"][0]["groups"] = ["ubnd_xa"]
    text = "\n".join(variant(tmp_path, edit))
    # Each cross-reference is its own problem, placed at its key.
    assert "khóa «criteria_sets[0].criteria[0].body» — «so-xay-dung» không có trong bodies" in text
    assert "khóa «surveys[0].sets» — «khong-co» không có trong criteria_sets" in text
    assert "khóa «surveys[1].raters» — «ai-do» không có trong rater_kinds" in text
    assert "khóa «adjustments.items[3].scope.groups» — «huyen» không có trong groups" in text
    assert "khóa «rater_kinds[0].groups» — «ubnd_xa» không có trong groups" in text


def test_an_item_is_either_fixed_or_up_to(tmp_path):
    def edit(d):
        d["adjustments"]["items"][1]["up_to"] = 1
    assert variant(tmp_path, edit) == ["rules.yaml, khóa «adjustments.items[1]» — chỉ ghi một trong hai khóa "
                                       "«points» (điểm cố định) hoặc «up_to» (tối đa)"]


def test_unit_ids_named_in_the_rules_must_be_in_the_registry(rules, units):
    data = rules.model_copy(update={"criteria_sets": [
        rules.criteria_sets[0].model_copy(update={"units": ["so-ke-hoach-dau-tu", "so-khong-co"]})]})
    problems = rules_registry_problems(data, units, "rules.yaml")
    assert [str(p) for p in problems] == [
        "rules.yaml, khóa «criteria_sets[0].units[1]»: giá trị «so-khong-co» — mã đơn vị không có trong danh mục đơn vị"]
