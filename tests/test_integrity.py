"""Integrity of real runs: inputs never touched, each input's SHA-256 in the report, and every bad
input of the corpus refused without touching a fully built previous report."""

from __future__ import annotations

import shutil

import pytest

from evaluation.inputs.provenance import sha256
from evaluation.report.build import build_report
from tests.corpus import cases, check_run, good_year, prepare, run_cli, snapshot

pytestmark = pytest.mark.slow

INPUTS = ["params/2020.yaml", "params/rules/thanh-hoa-2016.yaml", "data/units.csv", "data/abbreviations.csv",
          "data/2020/scores.csv"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    good_year("2020", root)
    return root


@pytest.fixture(scope="module")
def first_run(project):
    before = snapshot(project)
    built = build_report(project / "params" / "2020.yaml", project / "outputs")
    return built, before, snapshot(project, skip="outputs")


def test_a_run_never_modifies_its_inputs(first_run):
    _, before, after = first_run
    assert after == before, "every input file byte-identical, none added or removed"


def test_provenance_lists_every_input_with_its_sha256(first_run, project):
    built, _, _ = first_run
    html = built.html.read_text(encoding="utf-8")
    for rel in INPUTS:
        assert f"<code>{rel}</code>" in html, rel
        assert sha256(project / rel) in html, rel


def test_one_changed_input_byte_changes_its_checksum_in_the_report(first_run, project, tmp_path):
    built, _, _ = first_run
    other = tmp_path / "project"
    shutil.copytree(project, other, ignore=shutil.ignore_patterns("outputs"))
    scores = other / "data" / "2020" / "scores.csv"
    raw = scores.read_bytes()
    changed = raw.replace(b"TT,", b"tT,", 1)   # headers are read case-blind: same data, one byte off
    assert len(changed) == len(raw) and sum(a != b for a, b in zip(raw, changed, strict=True)) == 1
    scores.write_bytes(changed)
    again = build_report(other / "params" / "2020.yaml", other / "outputs")
    old, new = sha256(project / "data" / "2020" / "scores.csv"), sha256(scores)
    assert old != new
    first_html, second_html = built.html.read_text(encoding="utf-8"), again.html.read_text(encoding="utf-8")
    assert old in first_html and old not in second_html
    assert new in second_html and new not in first_html
    # The byte changed no value: the results are the same, only the provenance tells the files apart.
    for name in ["results.csv", "results.xlsx"]:
        assert (again.folder / name).read_bytes() == (built.folder / name).read_bytes(), name
    for rel in INPUTS[:-1]:
        assert sha256(project / rel) in second_html, rel


CASES_2020 = [c for c in cases() if c.base == "2020"]


@pytest.mark.parametrize("case", CASES_2020, ids=[c.name for c in CASES_2020])
def test_a_bad_input_leaves_a_real_previous_report_byte_identical(first_run, case, tmp_path, capsys, monkeypatch):
    built, _, _ = first_run
    prepare(case, tmp_path)
    shutil.copytree(built.folder, tmp_path / "outputs" / "2020")
    before_outputs, before_inputs = snapshot(tmp_path / "outputs"), snapshot(tmp_path, skip="outputs")
    run = run_cli(case.args, tmp_path, capsys, monkeypatch, measure=case.max_peak_mb is not None)
    check_run(case, run, tmp_path)
    assert snapshot(tmp_path / "outputs") == before_outputs
    assert snapshot(tmp_path, skip="outputs") == before_inputs
