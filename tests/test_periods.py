"""Scores per period (quarters, half-years) aggregated into the year, as the rules say."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from evaluation.engine.pipeline import evaluate
from evaluation.engine.score import score_from_periods
from evaluation.errors import InputError
from evaluation.inputs.registry import load_registry
from evaluation.inputs.rules import load_rules
from tests.conftest import FIXTURES

PROVINCE = FIXTURES / "years" / "province-b"


def test_the_years_score_is_the_weighted_mean_of_the_periods_it_has():
    rules = load_rules(PROVINCE / "rules" / "kha-70.yaml")   # H1 weight 1, H2 weight 2
    registry = load_registry(PROVINCE / "data" / "units.csv")
    periods = pd.DataFrame({"unit_id": ["vp", "vp", "so-c", "xa-1"], "period": ["H1", "H2", "H1", "H2"],
                            "self_score": [95.0, None, 90.0, 80.0], "final_score": [92.0, 93.5, 80.0, 70.0],
                            "_row": [2, 3, 4, 5]})
    got = score_from_periods(periods, registry, rules).set_index("unit_id")
    assert got.at["vp", "final_score"] == pytest.approx((92 + 2 * 93.5) / 3)
    assert pd.isna(got.at["vp", "self_score"]), "a self score missing in a period leaves the year's blank"
    assert got.at["so-c", "final_score"] == 80.0 and got.at["so-c", "period_flag"] == \
        "chấm trên 1/2 kỳ (thiếu: 6 tháng cuối năm)"
    assert (got.at["vp", "periods_given"], got.at["vp", "periods_missing"], got.at["vp", "period_flag"]) == (2, "", "")
    assert got.at["xa-1", "periods_missing"] == "H1" and got.at["xa-1", "input_order"] == 5


def _province(tmp_path, *, drop: str | None = None, rules_edit=None, params_edit=None):
    shutil.copytree(PROVINCE, tmp_path / "p")
    root = tmp_path / "p"
    if drop:
        path = root / "data" / "2031" / "periods.csv"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(line for line in lines if not line.startswith(drop)), encoding="utf-8")
    for name, edit in (("rules/kha-70.yaml", rules_edit), ("params/2031.yaml", params_edit)):
        if edit:
            data = yaml.safe_load((root / name).read_text(encoding="utf-8"))
            edit(data)
            (root / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root / "params" / "2031.yaml"


def test_a_missing_period_is_an_error_when_the_rules_say_so(tmp_path):
    with pytest.raises(InputError) as info:
        evaluate(_province(tmp_path, drop="xã Hai,H2"))
    (problem,) = info.value.problems
    assert problem.column == "Mã kỳ" and problem.value == "UBND xã Hai"
    assert problem.expected.startswith("thiếu điểm các kỳ: 6 tháng cuối năm (H2)")


def test_a_missing_period_is_scored_on_the_others_and_flagged_when_the_rules_say_so(tmp_path):
    params = _province(tmp_path, drop="xã Hai,H2", rules_edit=lambda d: d["periods"].update(missing="partial"))
    ev = evaluate(params)
    row = ev.ranked.set_index("unit_id").loc["xa-2"]
    assert row["final_score"] == 91.5 and row["period_flag"] == "chấm trên 1/2 kỳ (thiếu: 6 tháng cuối năm)"
    # … unless it has fewer periods than the rules' minimum.
    params = _province(tmp_path / "min", drop="xã Hai,H2",
                       rules_edit=lambda d: d["periods"].update(missing="partial", min_periods=2))
    with pytest.raises(InputError, match="chỉ có điểm 1 kỳ, quy định cần ít nhất 2"):
        evaluate(params)


def test_a_unit_without_any_period_and_a_wrong_period_code_are_reported(tmp_path):
    params = _province(tmp_path, drop="xã Bốn")
    path = params.parent.parent / "data" / "2031" / "periods.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Văn phòng,H1", "Văn phòng,Q1"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        evaluate(params)
    said = [str(p) for p in info.value.problems]
    assert any("cột «Mã kỳ»: giá trị «Q1» — mã không có trong quy định; các mã hợp lệ: H1, H2" in m for m in said), said
    assert any("UBND xã Bốn" in m and "không có điểm kỳ nào" in m for m in said), said


def test_periods_need_rules_that_declare_them_and_exclude_the_other_score_inputs(tmp_path):
    with pytest.raises(InputError, match="quy định không khai báo các kỳ"):
        evaluate(_province(tmp_path, rules_edit=lambda d: d.pop("periods")))
    params = _province(tmp_path / "both", params_edit=lambda d: d["inputs"].update(scores="periods.csv"))
    with pytest.raises(InputError, match="chỉ ghi một trong ba"):
        evaluate(params)
