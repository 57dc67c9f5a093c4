"""Every case of the bad-input corpus (tests/badinputs/, see tests/corpus.py) through the command line.

Each case must end with exit status 2 and one message naming every problem with its file, row and
column; the previous good outputs and every input must stay byte-identical.  The same cases run
against a real built report in tests/test_integrity.py (slow).
"""

from __future__ import annotations

import shutil

import pytest

from tests.corpus import BASES, cases, check_run, good_year, prepare, run_cli, snapshot

CASES = cases()


@pytest.fixture(scope="session")
def previous_reports(tmp_path_factory):
    """A previous good output folder per base: the real results.csv/xlsx of the good year and a page.

    (The report page itself needs a kernel; tests/test_integrity.py uses a fully built one.)
    """
    from evaluation.engine.pipeline import evaluate
    from evaluation.report.export import write_results

    folders = {}
    for base, info in BASES.items():
        project = tmp_path_factory.mktemp(f"good-{base}")
        good_year(base, project)
        params = next(project.rglob(f"params/{info['year']}.yaml"))
        folder = project / "previous" / info["year"]
        write_results(evaluate(params), folder)
        (folder / "report.html").write_text("<p>Báo cáo lần trước</p>\n", encoding="utf-8")
        folders[base] = folder
    return folders


def test_the_corpus_is_there_and_every_case_changes_something():
    assert len(CASES) >= 40
    for case in CASES:
        assert case.expected, f"{case.name}: expected.txt says nothing"
        assert case.files() or case.sparse or case.remove or case.symlinks or case.args != BASES[case.base]["args"], \
            case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_with_one_message_and_nothing_changes(case, tmp_path, capsys, monkeypatch,
                                                                   previous_reports):
    prepare(case, tmp_path)
    out = tmp_path / "outputs"
    shutil.copytree(previous_reports[case.base], out / case.year)
    before_outputs, before_inputs = snapshot(out), snapshot(tmp_path, skip="outputs")
    run = run_cli(case.args, tmp_path, capsys, monkeypatch, measure=case.max_peak_mb is not None)
    check_run(case, run, tmp_path)
    assert snapshot(out) == before_outputs, "the previous outputs must stay byte-identical"
    assert snapshot(tmp_path, skip="outputs") == before_inputs, "the inputs must not be touched"
