"""Rules files: what they may say, and every mistake reported with its place."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from evaluation.errors import InputError
from evaluation.inputs.rules import load_rules
from tests.conftest import FIXTURES, ROOT

THANH_HOA = ROOT / "params" / "rules" / "thanh-hoa-2016.yaml"


def variant(tmp_path, edit, source=THANH_HOA) -> list[str]:
    """The problems of a rules file made by ``edit``-ing a copy of ``source``."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_rules(path, "rules.yaml")
    return [str(p) for p in info.value.problems]


def test_thanh_hoa_rules_say_what_the_seed_says():
    rules = load_rules(THANH_HOA)
    assert rules.scale.appraisal_max == 90 and rules.scale.adjustment_max == 10
    assert [(t.id, t.min, t.confirmed) for t in rules.tiers] == [
        ("xuat_sac", 90, True), ("tot", 80, True), ("hoan_thanh", 50, False), ("khong_hoan_thanh", 0, False)]
    assert [r.number for r in rules.regulations] == ["221/2016/QĐ-UBND", "4129/2014/QĐ-UBND"]
    places = [p for p, _ in rules.unconfirmed()]
    assert places == ["precision", "tiers[2]", "tiers[3]"]


def test_vietnamese_decimal_comma_in_rules():
    rules = load_rules(FIXTURES / "rules" / "four-tiers-quota.yaml")
    assert rules.tier("kha").min == Decimal("60.5")


def test_overlapping_tiers_are_refused(tmp_path):
    def edit(d):
        d["tiers"][2]["max"] = 85   # "hoàn thành" up to 85 overlaps "tốt" from 80
    msgs = variant(tmp_path, edit)
    assert any("tiers[2].max" in m and "chồng lên" in m for m in msgs), msgs


def test_gap_between_tiers_is_refused(tmp_path):
    def edit(d):
        d["tiers"][2]["max"] = 75
    msgs = variant(tmp_path, edit)
    assert any("khoảng trống giữa 75 và 80" in m for m in msgs), msgs


def test_gap_at_the_bottom_and_disorder_are_refused(tmp_path):
    def edit(d):
        d["tiers"][3]["min"] = 10
        d["tiers"][3].pop("max")
        d["tiers"][1]["min"] = 95
    msgs = variant(tmp_path, edit)
    assert any("khóa «tiers[1].min» — 95 phải nhỏ hơn ngưỡng của bậc trên" in m for m in msgs), msgs
    assert any("bậc thấp nhất phải bắt đầu từ 0" in m for m in msgs), msgs


def test_every_mistake_is_reported_with_its_place(tmp_path):
    def edit(d):
        d["tiers"][0]["colour"] = "#000000"     # misspelt key
        d["tiers"][1]["color"] = "blue"
        del d["scale"]["appraisal_max"]
        d["groups"][0]["regulation"] = "qd-999"
        d["precision"]["rounding"] = "nearest"
    msgs = variant(tmp_path, edit)
    text = "\n".join(msgs)
    assert "rules.yaml, khóa «tiers[0].colour»: giá trị «#000000» — khóa không được biết đến" in text
    assert "rules.yaml, khóa «tiers[1].color»: giá trị «blue» — sai dạng" in text
    assert "rules.yaml, khóa «scale.appraisal_max» — thiếu khóa bắt buộc" in text
    assert "rules.yaml, khóa «precision.rounding»: giá trị «nearest» — cần một trong các giá trị: " \
        "«down», «half_up», «half_even» hoặc «up»" in text
    # Cross-checks run once the shape is right; shape errors come first, all together.
    assert len(msgs) == 4


def test_unsafe_yaml_is_not_executed(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("id: !!python/object/apply:os.system ['touch pwned']\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_rules(path, "rules.yaml")
    assert "YAML không hợp lệ" in str(info.value)
    assert not (tmp_path / "pwned").exists()


def test_missing_rules_file():
    with pytest.raises(InputError, match="không tìm thấy tệp"):
        load_rules(ROOT / "params" / "rules" / "nope.yaml", "params/rules/nope.yaml")


# -- regressions found by the adversarial tests (issue 6) ---------------------------------

REGIME2 = FIXTURES / "rules" / "four-tiers-quota.yaml"


def regime2_variant(tmp_path, edit) -> list[str]:
    return variant(tmp_path, edit, REGIME2)


@pytest.mark.parametrize(("quota", "expected"), [
    # Was: IndexError in classify (no tier below the lowest).
    ({"tier": "tb", "max_ratio": 0.1, "of": "all"},
     "rules.yaml, khóa «quotas[1].tier» — «tb» là bậc thấp nhất, không có bậc nào để hạ xuống"),
    # Was: accepted, and the "demotion" promoted units to a better tier.
    ({"tier": "tot", "max_ratio": 0.1, "of": "all", "demote_to": "xs"},
     "rules.yaml, khóa «quotas[1].demote_to» — «xs» phải là bậc thấp hơn «tot»"),
    ({"tier": "kha", "max_ratio": 0.1, "of": "all", "demote_to": "kha"},
     "rules.yaml, khóa «quotas[1].demote_to» — «kha» phải là bậc thấp hơn «kha»"),
    # Was: accepted; a quota counted against itself demotes nearly everyone.
    ({"tier": "xs", "max_ratio": 0.5, "of": "xs"},
     "rules.yaml, khóa «quotas[1].of» — hạn mức của «xs» không thể tính theo chính số đơn vị «xs»"),
], ids=["lowest-tier", "demote-up", "demote-same", "of-itself"])
def test_impossible_quotas_are_refused(tmp_path, quota, expected):
    msgs = regime2_variant(tmp_path, lambda d: d["quotas"].append(quota))
    assert msgs == [expected]


def test_bounds_finer_than_the_published_precision_are_refused(tmp_path):
    # Was: 10 decimals crashed classify (ValueError); 3 decimals at 2-decimal precision was a bound
    # no published score can equal, printed as if it were one.
    def edit(d):
        d["tiers"][1]["min"] = "70.0000000001"
        d["tiers"][2]["max"] = "70.0000000001"
        d["tiers"][2]["min"] = "60.505"
    msgs = regime2_variant(tmp_path, edit)
    assert msgs == [
        "rules.yaml, khóa «tiers[1].min» — 70.0000000001 có nhiều chữ số thập phân hơn điểm công bố "
        "(2 chữ số, precision.decimals)",
        "rules.yaml, khóa «tiers[2].min» — 60.505 có nhiều chữ số thập phân hơn điểm công bố "
        "(2 chữ số, precision.decimals)",
        "rules.yaml, khóa «tiers[2].max» — 70.0000000001 có nhiều chữ số thập phân hơn điểm công bố "
        "(2 chữ số, precision.decimals)",
    ]


def test_a_scale_beyond_exact_arithmetic_is_refused(tmp_path):
    # Was: accepted; a score of 10²⁵ overflowed int64 and was published as 9223372036.85.
    msgs = regime2_variant(tmp_path, lambda d: d["scale"].update(score_max=10**30))
    assert msgs == ["rules.yaml, khóa «scale» — thang điểm phải nằm trong khoảng ±1.000.000"]


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_bounds_are_refused_in_vietnamese(tmp_path, value):
    text = REGIME2.read_text(encoding="utf-8").replace("min: 85", f"min: {value}")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_rules(path, "rules.yaml")
    assert [p.expected for p in info.value.problems] == ["cần một số hữu hạn"]


def _load_text(tmp_path, text: str) -> list[str]:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_rules(path, "rules.yaml")
    return [str(p) for p in info.value.problems]


def test_a_key_written_twice_is_refused_with_its_line(tmp_path):
    # Was: PyYAML kept the last value silently (here: decimals 2 replaced by 3 without a word).
    text = REGIME2.read_text(encoding="utf-8").replace("precision:\n", "precision:\n  decimals: 3\n")
    assert _load_text(tmp_path, text) == [
        "rules.yaml, dòng 17 — YAML không hợp lệ: khóa «decimals» bị lặp trong cùng một bảng "
        "(giá trị trước sẽ bị bỏ mất)"]


def test_merge_keys_may_still_be_overridden(tmp_path):
    text = REGIME2.read_text(encoding="utf-8").replace(
        "  - {id: tot, name: Tốt, short: Tốt, color: \"#1f78b4\", min: 70, max: 85}",
        "  - &tot {id: tot, name: Tốt, short: Tốt, color: \"#1f78b4\", min: 70, max: 85}")
    text = text.replace("  - {id: kha, name: Khá, short: Khá, color: \"#ff7f00\", min: \"60,5\", max: 70}",
                        "  - {<<: *tot, id: kha, name: Khá, short: Khá, color: \"#ff7f00\", min: \"60,5\", max: 70}")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_rules(path).tier("kha").min == Decimal("60.5")


def test_control_characters_in_rules_text_are_refused(tmp_path):
    text = REGIME2.read_text(encoding="utf-8").replace(
        "name: Quy định thử nghiệm (bốn bậc, có hạn mức)", 'name: "Quy định\\x07 thử"')
    assert _load_text(tmp_path, text) == [
        "rules.yaml, khóa «name»: giá trị «Quy định? thử» — ký tự điều khiển không in được: hãy xóa ký tự này"]


def test_rules_text_is_nfc_whatever_the_file_holds(tmp_path):
    import unicodedata

    text = unicodedata.normalize("NFD", REGIME2.read_text(encoding="utf-8"))
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    rules = load_rules(path)
    assert rules.tier("xs").name == "Xuất sắc" and unicodedata.is_normalized("NFC", rules.tier("xs").name)
    assert rules.conditions[0].name == "Người đứng đầu bị kỷ luật"


def test_deep_nesting_and_alias_bombs_are_refused_quickly(tmp_path):
    import tracemalloc

    base = REGIME2.read_text(encoding="utf-8")
    deep = base + "method_notes: " + "[" * 5000 + "]" * 5000 + "\n"
    assert _load_text(tmp_path, deep) == ["rules.yaml — YAML không hợp lệ: các mục lồng nhau quá sâu"]
    # "Billion laughs": 9 levels of 9 aliases = 387 420 489 strings if expanded.
    bomb = base + 'lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"lol{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10))
    tracemalloc.start()
    try:
        msgs = _load_text(tmp_path, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(msgs) == 10 and all("khóa không được biết đến" in m for m in msgs)
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB: the aliases were expanded"


def test_an_oversized_yaml_file_is_refused_without_reading_it(tmp_path):
    from evaluation.inputs.rules import MAX_YAML_BYTES

    path = tmp_path / "rules.yaml"
    with open(path, "wb") as fh:
        fh.truncate(100 * 1024 * 1024)   # sparse: 100 MB that take no disk
    with pytest.raises(InputError) as info:
        load_rules(path, "rules.yaml")
    assert [str(p) for p in info.value.problems] == [
        f"rules.yaml: giá trị «100 MB» — tệp quá lớn (giới hạn {MAX_YAML_BYTES // 1024 // 1024} MB): "
        "có lẽ nhầm tệp"]


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch pwned']",
    "!!python/object/new:os.system ['touch pwned']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!binary aGVsbG8=",   # plain data, but not text: refused by the model, not executed
])
def test_yaml_is_loaded_safely_in_rules_and_params(tmp_path, monkeypatch, tag):
    from evaluation.inputs.params import load_params

    monkeypatch.chdir(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(REGIME2.read_text(encoding="utf-8") + f"evil: {tag}\n", encoding="utf-8")
    params = tmp_path / "2031.yaml"
    params.write_text(f"year: 2031\nrules: {tag}\n", encoding="utf-8")
    for load in (lambda: load_rules(rules, "rules.yaml"), lambda: load_params(params)):
        with pytest.raises(InputError):
            load()
    assert not (tmp_path / "pwned").exists()


def test_every_yaml_file_goes_through_the_safe_loader():
    import re

    from evaluation.inputs import rules as rules_module

    assert issubclass(rules_module._StrictLoader, yaml.SafeLoader)
    risky = re.compile(r"yaml\.(load|unsafe_load|full_load|load_all)\(|Loader=yaml\.|FullLoader|UnsafeLoader")
    for source in (ROOT / "evaluation").rglob("*.py"):
        for n, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
            if risky.search(line):
                assert "Loader=_StrictLoader" in line, f"{source.name}:{n}: {line.strip()}"


def test_a_code_tag_is_refused_in_vietnamese_naming_the_tag(tmp_path):
    text = REGIME2.read_text(encoding="utf-8") + "evil: !!python/object/apply:os.system ['touch pwned']\n"
    assert _load_text(tmp_path, text) == [
        "rules.yaml, dòng 33 — YAML không hợp lệ: thẻ «!!python/object/apply:os.system» không được phép: "
        "tệp chỉ chứa dữ liệu thuần (chữ, số, đúng/sai, danh sách, bảng khóa: giá trị)"]
    assert not (tmp_path / "pwned").exists()


def test_stage_precision_is_declared_and_a_sum_is_never_coarser_than_its_parts(tmp_path):
    stages = load_rules(THANH_HOA).precision.stages
    assert [(s.decimals, s.rounding) for s in (stages.criterion, stages.survey, stages.adjustment, stages.total)] \
        == [(2, "half_up")] * 4

    def edit(d):
        d["precision"]["stages"]["total"]["decimals"] = 1          # sums coarser than criteria, amounts
        d["precision"]["stages"]["adjustment"]["decimals"] = 0     # TH02 gives 0,5 a time
    msgs = variant(tmp_path, edit)
    assert msgs[:2] == [
        "rules.yaml, khóa «precision.stages.criterion.decimals» — 2 chữ số thập phân, nhiều hơn tổng "
        "(precision.stages.total: 1): các phần in ra sẽ không cộng đúng tổng",
        "rules.yaml, khóa «adjustments.items[1].points» — 0.5 có nhiều chữ số thập phân hơn quy định làm tròn "
        "của bước này (0 chữ số, precision.stages.adjustment)",
    ]


# -- Nghị định 335/2025 and what a regime may say since (issue 14) ---------------------------

ND335 = ROOT / "params" / "rules" / "nd-335-2025.yaml"


def test_nd_335_says_what_the_decree_says_and_marks_what_we_infer():
    rules = load_rules(ND335)
    assert [(t.name, t.min, t.confirmed) for t in rules.tiers] == [
        ("Hoàn thành xuất sắc nhiệm vụ", 90, True), ("Hoàn thành tốt nhiệm vụ", 70, True),
        ("Hoàn thành nhiệm vụ", 50, True), ("Không hoàn thành nhiệm vụ", 0, True)]
    (quota,) = rules.quotas
    assert (quota.tier, quota.of, quota.max_ratio, quota.scope, quota.confirmed) == (
        "xuat_sac", "tot", Decimal("0.2"), "group", True)
    assert quota.limit.rounding == "floor" and quota.ties.break_by == ["gap"]
    assert quota.ties.otherwise == "demote_all" and not quota.ties.confirmed
    # The overrides: «không hoàn thành» whatever the score (their application to agencies inferred).
    assert {c.max_tier for c in rules.conditions} == {"khong_hoan_thanh"} and len(rules.conditions) == 3
    assert rules.regulations[0].citation == "Nghị định số 335/2025/NĐ-CP ngày 21/12/2025"
    assert rules.ranking.by == "tier_then_score" and not rules.has_adjustments
    assert [p.code for p in rules.periods.items] == ["Q1", "Q2", "Q3", "Q4"]
    # Everything inferred is listed for the report, said in words (tier names, never ids or codes).
    said = dict(rules.unconfirmed())
    assert set(said) == {"scale", "precision", "groups[1]", "conditions[0]", "conditions[1]", "conditions[2]",
                         "quotas[0].ties", "ranking", "periods"}
    assert said["quotas[0].ties"].endswith("hạn mức «Hoàn thành xuất sắc nhiệm vụ»")
    assert said["precision"] == "làm tròn 1 chữ số thập phân (bỏ phần lẻ)"
    assert all("xuat_sac" not in text and "(down)" not in text for text in said.values())
    for item in (*rules.tiers, *rules.conditions, quota, quota.ties, rules.ranking, rules.periods):
        assert item.source, item


def test_a_lowest_tier_above_zero_needs_a_declared_not_classified_outcome(tmp_path):
    def lowest_from_70(d):
        d["tiers"] = d["tiers"][:3]
        d["tiers"][2]["min"] = 70
    msgs = variant(tmp_path, lowest_from_70, ND335)
    assert any("tiers[2].min" in m and "classified: false" in m for m in msgs), msgs

    def with_outcome(d):
        lowest_from_70(d)
        d["tiers"][2]["max"] = 90
        d["tiers"][1]["min"], d["tiers"][1]["max"] = 80, 90
        d["tiers"][2]["max"] = 80
        d["tiers"].append({"id": "kxl", "name": "Không xếp loại", "short": "Không xếp loại",
                           "color": "#999999", "min": 0, "max": 70, "classified": False})
        d["conditions"] = []
    data = yaml.safe_load(ND335.read_text(encoding="utf-8"))
    with_outcome(data)
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rules = load_rules(path)
    assert [t.id for t in rules.classified_tiers] == ["xuat_sac", "tot", "hoan_thanh"]

    def outcome_not_last(d):
        d["tiers"][1]["classified"] = False
    assert any("tiers[1].classified" in m for m in variant(tmp_path, outcome_not_last, ND335))

    def quota_on_the_outcome(d):
        with_outcome(d)
        d["quotas"] = [{"tier": "kxl", "max_ratio": 0.5, "of": "all", "demote_to": "kxl"}]
    msgs = variant(tmp_path, quota_on_the_outcome, ND335)
    assert any("quotas[0].tier" in m and "không xếp loại" in m for m in msgs), msgs


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["not_evaluated"].append({"group": "so_nganh", "reason": "x"}),
     "«not_evaluated[1].group» — «so_nganh» là một nhóm được đánh giá"),
    (lambda d: d["periods"].update(min_periods=5), "«periods.min_periods» — 5 lớn hơn số kỳ (4)"),
    (lambda d: d["periods"]["items"].append({"code": "Q1", "name": "Lặp"}), "«periods.items» — mã kỳ: mã «Q1» bị lặp"),
    (lambda d: d["quotas"][0]["ties"].update(otherwise="random"), "quotas[0].ties.otherwise"),
    (lambda d: d["quotas"][0]["ties"].update(break_by=["row_order"]), "quotas[0].ties.break_by[0]"),
    (lambda d: d["quotas"][0]["limit"].update(rounding="nearest"), "quotas[0].limit.rounding"),
    (lambda d: d["ranking"].update(by="name"), "ranking.by"),
    (lambda d: d["wording"].update(verb="x"), "wording.verb"),
], ids=["not-evaluated-evaluated", "min-periods", "period-twice", "tie-rule", "tie-key", "limit-rounding",
        "ranking", "wording-key"])
def test_the_new_keys_are_checked(tmp_path, edit, expected):
    msgs = variant(tmp_path, edit, ND335)
    assert any(expected in m for m in msgs), msgs


def test_no_bonus_or_penalty_means_no_items(tmp_path):
    # adjustment_max: 0 is a regime without bonus and penalty (Nghị định 335 as read): items contradict it.
    msgs = variant(tmp_path, lambda d: d["scale"].update(adjustment_max=0))
    assert msgs == ["rules.yaml, khóa «adjustments.items» — 38 nội dung thưởng, trừ nhưng quy định không có điểm "
                    "thưởng, điểm trừ (scale.adjustment_max: 0)"]
