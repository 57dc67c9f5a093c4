"""A second regime end to end (fixture year 2031): other tiers, bounds, precision, a quota and a condition."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaluation.engine.pipeline import evaluate
from evaluation.engine.rank import rank
from evaluation.inputs.rules import load_rules
from tests.conftest import FIXTURES, ROOT

PARAMS = FIXTURES / "years" / "regime2" / "params" / "2031.yaml"


def test_second_regime_by_hand():
    ev = evaluate(PARAMS)
    got = ev.ranked.set_index("unit_id")
    # Published at 2 decimals, half up: 84.995 → 85.00 (xs by score), 69.994 → 69.99 (kha).
    assert got.loc["a3", "score"] == 85.0 and got.loc["b6", "score"] == 69.99
    assert got["tier_by_score"].to_dict() == {
        "a1": "xs", "a2": "xs", "a3": "xs", "a4": "kha", "a5": "tb",
        "b1": "xs", "b2": "tot", "b3": "tot", "b4": "tot", "b5": "tot", "b6": "kha"}
    # B1 is capped at "kha" by its condition; then 3 xs vs 4 tot counted before anyone is moved
    # down: floor(0,2 × 4) = 0 "xs" allowed, so all three move to "tot".
    # (Was: k ≤ 0.2·(4 + 3 − k) → k = 1, a limit counted on the tốt after demotion.)
    assert got["tier"].to_dict() == {
        "a1": "tot", "a2": "tot", "a3": "tot", "a4": "kha", "a5": "tb",
        "b1": "kha", "b2": "tot", "b3": "tot", "b4": "tot", "b5": "tot", "b6": "kha"}
    limits = ev.quotas.limits
    assert limits[["partition", "base", "limit", "in_tier", "demoted"]].to_dict("records") == [
        {"partition": "all", "base": 4, "limit": 0, "in_tier": 3, "demoted": 3}]
    # A2 and A3 tie at 85.00: same rank, printed order kept.
    assert got.loc[["a2", "a3"], "rank"].tolist() == [2, 2]
    assert got.loc[["a2", "a3"], "order"].tolist() == [2, 3]
    assert ev.counts.loc["total"].tolist() == [5, 6, 11]
    assert ev.counts["total"].tolist() == [0, 7, 3, 1, 11]
    assert ev.sentences[1] == "Không có cơ quan, đơn vị nào dự kiến xếp loại xuất sắc."
    assert ev.sentences[2] == "07 cơ quan, đơn vị dự kiến xếp loại tốt gồm: 03 đơn vị A và 04 đơn vị B."


def test_rank_ties_min_method_and_stable_display_order():
    rules = load_rules(FIXTURES / "rules" / "four-tiers-quota.yaml")
    classified = pd.DataFrame({
        "unit_id": list("pqrstu"), "group": ["a", "a", "a", "a", "b", "a"],
        "score": [80.0, 90.0, 80.0, 70.0, 50.0, 80.0], "input_order": [1, 2, 3, 4, 5, 6],
    })
    out = rank(classified, rules)
    assert out["unit_id"].tolist() == ["q", "p", "r", "u", "s", "t"]
    assert out["rank"].tolist() == [1, 2, 2, 2, 5, 1]
    assert out["order"].tolist() == [1, 2, 3, 4, 5, 1]


def test_a_conditions_file_with_no_rows_means_no_unit_is_under_a_condition(tmp_path):
    # Was: refused as "only a header, no data", so a year without conditions could not keep its file.
    import shutil

    shutil.copytree(FIXTURES / "years" / "regime2", tmp_path / "years" / "regime2")
    shutil.copytree(FIXTURES / "rules", tmp_path / "rules")
    (tmp_path / "years" / "regime2" / "data" / "2031" / "conditions.csv").write_text(
        "Đơn vị,Mã điều kiện,Ghi chú\n", encoding="utf-8")
    ev = evaluate(tmp_path / "years" / "regime2" / "params" / "2031.yaml")
    assert ev.inputs.tables["conditions"].rows_in == 0
    got = ev.ranked.set_index("unit_id")
    # B1 is no longer capped at "kha" by its condition; only the quota moves it (to "tot").
    assert got.loc["b1", "tier"] == "tot" and "kỷ luật" not in got.loc["b1", "tier_reason"]


def _regime2_copy(tmp_path, extra_units: str, rules_edit=None):
    import shutil

    import yaml

    shutil.copytree(FIXTURES / "years" / "regime2", tmp_path / "years" / "regime2")
    shutil.copytree(FIXTURES / "rules", tmp_path / "rules")
    units = tmp_path / "years" / "regime2" / "data" / "units.csv"
    units.write_text(units.read_text(encoding="utf-8") + extra_units, encoding="utf-8")
    if rules_edit:
        path = tmp_path / "rules" / "four-tiers-quota.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules_edit(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return tmp_path / "years" / "regime2" / "params" / "2031.yaml"


def test_only_units_valid_in_the_year_are_checked_against_its_groups(tmp_path):
    from evaluation.errors import InputError

    # Was: every registry row's group was checked, so communes from 2035 broke this 2031 year.
    params = _regime2_copy(tmp_path, "x1,Xã Một,xã Một,ubnd_xa,xã,01/07/2035,,,\n")
    assert len(evaluate(params).ranked) == 11
    params = _regime2_copy(tmp_path / "valid", "x1,Xã Một,xã Một,ubnd_xa,xã,2030,,,\n")
    with pytest.raises(InputError, match="nhóm không có trong quy định; các nhóm: a, b"):
        evaluate(params)


def test_a_group_the_rules_do_not_evaluate_is_left_out_with_its_reason(tmp_path):
    from evaluation.errors import InputError

    not_evaluated = lambda d: d.update(not_evaluated=[{"group": "c", "reason": "nhóm C đánh giá riêng"}])  # noqa: E731
    params = _regime2_copy(tmp_path, "c1,Đơn vị C1,C1,c,,,,,\n", not_evaluated)
    ev = evaluate(params)
    assert "c1" not in set(ev.ranked["unit_id"]) and list(ev.counts.columns) == ["a", "b", "total"]
    assert ev.left_out.to_dict("records") == [{"unit_id": "c1", "unit": "C1", "group": "c",
                                               "reason": "nhóm C đánh giá riêng"}]
    scores = params.parent.parent / "data" / "2031" / "scores.csv"
    scores.write_text(scores.read_text(encoding="utf-8") + "7,C1,,80\n", encoding="utf-8")
    with pytest.raises(InputError, match="nhóm không được đánh giá theo quy định năm 2031: nhóm C đánh giá riêng"):
        evaluate(params)


def test_a_real_year_refuses_units_with_illustrative_names(tmp_path):
    from evaluation.errors import InputError

    params = _regime2_copy(tmp_path, "")
    units = params.parent.parent / "data" / "units.csv"
    lines = units.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",illustrative"] + [line + (",có" if line.startswith("b6,") else ",") for line in lines[1:]]
    text = "\n".join(lines) + "\n"
    units.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="đơn vị có tên minh họa, không dùng được cho năm 2031 thật"):
        evaluate(params)


def test_an_evaluation_handed_down_is_taken_as_made_while_its_files_are_unchanged(tmp_path, monkeypatch):
    # The report's kernel takes the command's evaluation instead of reading and computing it again.
    import os
    import shutil

    from evaluation.engine import pipeline

    shutil.copytree(FIXTURES / "years" / "regime2", tmp_path / "years" / "regime2")
    shutil.copytree(FIXTURES / "rules", tmp_path / "rules")
    params = tmp_path / "years" / "regime2" / "params" / "2031.yaml"
    ev = evaluate(params)
    monkeypatch.chdir(tmp_path / "years")  # the kernel runs elsewhere and names the file otherwise
    given = os.path.relpath(params)
    assert pipeline._handed_down(given, None) is None  # nothing handed down
    with pipeline.handing_down([ev]):
        folder = os.environ[pipeline.HANDED_DOWN_ENV]
        taken = pipeline._handed_down(given, None)
        assert taken is not None and taken is not ev
        pd.testing.assert_frame_equal(taken.ranked, ev.ranked)
        assert taken.inputs.read == ev.inputs.read and taken.sentences == ev.sentences
        assert pipeline._handed_down(given, tmp_path / "elsewhere") is None  # another data folder
        # A file changed since: computed again, from the new bytes.
        scores = next(p for p in ev.inputs.read if p.name == "scores.csv")
        scores.write_bytes(scores.read_bytes().replace(b"\n", b"\r\n"))
        assert pipeline._handed_down(given, None) is None
        again = evaluate(given)
        assert again.inputs.read[scores][1] != ev.inputs.read[scores][1]
    assert pipeline.HANDED_DOWN_ENV not in os.environ and not os.path.exists(folder)


def test_a_handed_down_evaluation_reports_what_one_made_in_the_kernels_folder_reports(monkeypatch):
    # Made by the command in the project's folder, used by the kernel in notebooks/: what the report
    # shows of it must not depend on where it was made (only error messages name paths that way).
    from evaluation.report import present, present_detail
    from tests.conftest import ROOT

    made_here = evaluate(ROOT / "params" / "example-2021.yaml")
    monkeypatch.chdir(ROOT / "notebooks")
    in_kernel = evaluate("../params/example-2021.yaml")
    for show in (present.title_block, present.method, present.summary, present.group_tables, present.notes,
                 present.organisation, present.annex, present_detail.method, present_detail.notes,
                 present_detail.score_cards):
        assert show(made_here) == show(in_kernel), show.__name__
    assert present.provenance(made_here, {}) == present.provenance(in_kernel, {})
    assert made_here.params.data_override is None and made_here.params.path == in_kernel.params.path


def test_the_hand_off_folder_of_a_killed_build_is_removed_by_the_next(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys
    import tempfile

    from evaluation.engine import pipeline

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = tmp_path / f"evaluation-handed-down-{gone}-abc"
    live = tmp_path / f"evaluation-handed-down-{os.getpid()}-def"
    other = tmp_path / "evaluation-handed-down-notapid-x"
    for folder in (stale, live, other):
        folder.mkdir()
        (folder / "x.pickle").write_bytes(b"")
    with pipeline.handing_down([]):
        mine = os.environ[pipeline.HANDED_DOWN_ENV]
        assert os.path.basename(mine).startswith(f"evaluation-handed-down-{os.getpid()}-")
    assert not stale.exists() and live.exists() and other.exists() and not os.path.exists(mine)


def test_a_process_started_before_the_evaluation_takes_it_and_its_pins_once_given(tmp_path, monkeypatch):
    """handing_down_later: a report's kernel starts while the command checks the inputs.  What it
    inherited then names the folder and the pins' file; both are filled by give(ev), before it reads."""
    import os
    import shutil
    import subprocess
    import sys

    from evaluation.engine import pipeline
    from evaluation.inputs.provenance import PIN_ENV, changed_inputs

    shutil.copytree(FIXTURES / "years" / "regime2", tmp_path / "years" / "regime2")
    shutil.copytree(FIXTURES / "rules", tmp_path / "rules")
    params = tmp_path / "years" / "regime2" / "params" / "2031.yaml"
    child = ("import sys; from evaluation.engine import pipeline; from evaluation.inputs.provenance import changed_inputs;"
             "sys.stdin.readline(); ev = pipeline._handed_down(sys.argv[1], None);"
             "print(ev is not None, ev is not None and len(ev.ranked))")
    with pytest.MonkeyPatch.context() as outer:
        outer.setenv(PIN_ENV, '{"/somewhere/else.csv": "abc"}')      # a batch's pins, kept
        with pipeline.handing_down_later() as give:
            started = subprocess.Popen([sys.executable, "-c", child, str(params)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            folder = os.environ[pipeline.HANDED_DOWN_ENV]
            assert os.environ[PIN_ENV] == f"@{folder}/pins.json"
            assert pipeline._handed_down(params, None) is None and changed_inputs({}) == []  # nothing yet
            ev = evaluate(params)
            give(ev)
            out, _ = started.communicate("go\n", timeout=120)
            assert out.split() == ["True", str(len(ev.ranked))]            # taken as made, in the child
            scores = next(p for p in ev.inputs.read if p.name == "scores.csv")
            size, digest = ev.inputs.read[scores]
            assert changed_inputs({scores: (size, "0" * 64)}) == [(scores, digest, "0" * 64)]
            assert changed_inputs({Path("/somewhere/else.csv"): (1, "def")}) == [
                (Path("/somewhere/else.csv"), "abc", "def")]
        assert os.environ[PIN_ENV] == '{"/somewhere/else.csv": "abc"}' and not os.path.exists(folder)
