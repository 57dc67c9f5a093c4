"""The benchmark's own machinery, at a tiny size (its figures are never asserted: no timed tests)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from bench.bench import KEYS, TARGETS, detailed_child, national_child, write
from bench.national import generate
from evaluation.engine.detail import score_detail
from evaluation.inputs.rules import load_rules
from tests.conftest import ROOT

RULES = ROOT / "params" / "rules" / "thanh-hoa-2016.yaml"


def test_generated_national_inputs_have_the_asked_shape_and_score_consistently():
    rules = load_rules(RULES)
    data = generate(rules, scale=0.005)
    assert data.rows == {"units": 60, "criteria_rows": 3600, "responses": 15000, "items": 250}
    detail = score_detail(**data.kwargs)
    scores = detail.scores
    assert len(scores) == 60
    # Every final score is its parts' arithmetic, within the scale and the adjustment bound.
    assert np.allclose(scores["final_raw"], scores["appraisal"] + scores["adjustment"])
    assert (scores["appraisal"] <= float(rules.scale.appraisal_max) + 1e-9).all()
    assert (scores["adjustment"].abs() <= float(rules.scale.adjustment_max) + 1e-9).all()
    assert scores["final_score"].between(0, 100).all()


def test_national_child_reports_time_and_peak(tmp_path):
    got = national_child(0.005)
    assert got["units"] == 60 and got["seconds"] > 0 and got["peak_mb"] > 0


def test_bench_json_has_exactly_the_keys(tmp_path):
    results = {k: float(i + 1) for i, k in enumerate(KEYS)} | {"_runs": {"x": [1.0]}}
    write(results, tmp_path, runs=1)
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert list(data) == KEYS
    assert "| report_ratio | 3.0 | ≤ 1.5 | no |" in (tmp_path / "bench.md").read_text(encoding="utf-8")


def test_the_benchmark_reports_every_figure_of_both_lines_of_work():
    # The engine's, the report's and the batch's; the sensitivity analysis and what-if (issue 16); the
    # hostile workbook (issue 17); the province-sized report and the rebuilds (issue 18). Each once, and
    # every target is a figure.
    assert sorted(KEYS) == sorted(["report_seconds", "floor_seconds", "report_ratio", "batch_seconds",
                                   "serial_seconds", "parallel_speedup", "national_seconds", "national_peak_mb",
                                   "growth", "sensitivity_seconds", "whatif_seconds", "huge_workbook_seconds",
                                   "huge_workbook_peak_mb", "province_report_seconds", "province_growth",
                                   "rebuild_seconds", "rebuild_one_seconds"])
    assert len(set(KEYS)) == len(KEYS) and set(TARGETS) <= set(KEYS)
    assert TARGETS["huge_workbook_seconds"] == ("≤", 10.0) and TARGETS["huge_workbook_peak_mb"] == ("≤", 500.0)
    assert TARGETS["sensitivity_seconds"] == ("≤", 10.0) and TARGETS["whatif_seconds"] == ("≤", 0.2)


def test_detailed_child_builds_a_year_of_the_asked_size_and_times_it():
    # The benchmark's year at a small size: the illustrative year's 61 units and 9 synthetic ones.
    got = detailed_child(70, draws=20, runs=1)
    assert got["units"] == 70 and got["draws"] == 20 and got["factors"] == 8
    assert got["sensitivity_seconds"] > 0 and got["whatif_seconds"] > 0 and got["whatif_criteria_seconds"] > 0
    assert 0 < got["stable"] <= 70


def test_each_child_process_measures_its_part_and_returns(monkeypatch, capsys):
    # A child that fell through would run the whole benchmark inside the benchmark (found: it did).
    import bench.bench as b

    def whole(*_args, **_kwargs):
        raise AssertionError("a child process must not run the whole benchmark")

    for name in ("measure_national", "measure_detailed", "measure_report", "measure_batch", "measure_huge"):
        monkeypatch.setattr(b, name, whole)
    monkeypatch.setattr(b, "SENSITIVITY_DRAWS", 20)
    assert b.main(["--detailed-child", "62", "--runs", "1"]) == 0
    got = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert got["units"] == 62 and got["draws"] == 20


def test_a_target_relative_to_another_figure_is_written_with_its_value(tmp_path):
    results = {k: 1.0 for k in KEYS} | {"rebuild_one_seconds": 2.5, "_year_report_seconds": 1.25, "_runs": {},
                                        "_load": {"rebuild": ("1", "2")}}
    write(results, tmp_path, runs=1)
    text = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert "| rebuild_one_seconds | 2.5 | ≤ example-2026 built alone + 1.0 (2.25) | no |" in text
    assert list(json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))) == KEYS
    assert "- rebuild: 1 → 2" in text


def test_the_province_sized_year_has_the_units_asked_and_the_same_bytes_every_time(tmp_path):
    from bench.province import make_province
    from evaluation.engine.pipeline import evaluate

    first = make_province(tmp_path / "a", 75)
    second = make_province(tmp_path / "b", 75)
    ev = evaluate(first)
    assert int(ev.counts.loc["total", "total"]) == 75 and ev.detail is not None
    assert ev.params.params.illustrative
    for name in ("criteria.csv", "survey.csv", "adjustments.csv"):
        assert (first.parent.parent / "data" / "province-75" / name).read_bytes() == \
               (second.parent.parent / "data" / "province-75" / name).read_bytes(), name
    # The units added receive the forms a year asks for: only the plan's two units get too few.
    survey = ev.detail.survey
    assert set(survey.loc[survey["flag"], "unit_id"]) == {"so-ngoai-vu", "huyen-muong-lat"}


def test_each_timed_run_can_say_the_cpu_seconds_it_took():
    # The wall time of the same build varies by a third on this shared machine; its CPU time does not.
    from bench.bench import _busy_seconds, _median_time

    if _busy_seconds() is None:
        pytest.skip("no /proc/stat")

    def burn() -> None:
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass

    cpu: list[float] = []
    median, runs = _median_time(burn, 2, cpu)
    assert len(runs) == len(cpu) == 2 and median >= 0.29
    assert all(c >= 0.2 for c in cpu)  # this process's 0.3 s at least (other work may add to it)
