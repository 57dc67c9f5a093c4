"""Charts drawn by worker processes: the same bytes as drawn here, errors where they belong."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from evaluation.errors import ReportError
from evaluation.report import charts
from evaluation.report.charts import KINDS, WORKERS_ENV, Charts, draw_kind, workers_wanted

from .conftest import ROOT


@pytest.fixture(scope="module")
def example_year():
    from evaluation.engine.pipeline import evaluate

    return evaluate(ROOT / "params" / "example-2021.yaml")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _show_all(c: Charts) -> dict[str, list[str]]:
    return {kind: c.show(kind) for kind in KINDS}


@pytest.mark.parametrize("which", ["2020", "example-2021"])
def test_workers_draw_the_same_charts_as_this_process(which, evaluation_2020, example_year, tmp_path):
    ev = evaluation_2020 if which == "2020" else example_year
    here = Charts(workers=1)
    assert not here.parallel
    here.draw(ev, tmp_path / "here")
    there = Charts(workers=2)
    assert there.parallel
    there.draw(ev, tmp_path / "there")
    assert _show_all(there) == _show_all(here)
    assert not there.parallel  # every kind shown: the workers are stopped
    assert _files(tmp_path / "there") == _files(tmp_path / "here")
    names = set(_files(tmp_path / "here"))
    groups = [g for g in ev.rules.group_ids if (ev.ranked["group"] == g).any()]
    # every group's charts, each as SVG and PNG, in the report's order within a kind
    assert {f"diem-theo-nhom-{g}.svg" for g in groups} <= names
    assert {f"tu-cham-va-danh-gia-{g}.png" for g in groups} <= names
    assert not any(n.startswith("phan-bo-diem") for n in names)   # the box plot repeated the dots: gone
    assert ("phan-bo-tra-loi.svg" in names) == (ev.detail is not None)
    assert ({f"diem-theo-tieu-chi-{g}.svg" for g in groups} <= names) == (ev.detail is not None)


def test_each_kind_in_display_order(evaluation_2020, tmp_path):
    c = Charts(workers=2)
    c.draw(evaluation_2020, tmp_path)
    scores = c.show("scores")
    titles = [g.name for g in evaluation_2020.rules.groups]
    # one chart per group, in the order of the rules' groups, whichever worker finished first
    assert len(scores) == 3
    assert [next(t for t in titles if t in svg) for svg in scores] == titles
    assert c.show("answers") == [] and c.show("criteria") == []  # a totals-only year
    c.close()


def test_a_failing_chart_raises_its_own_error_where_it_is_shown(evaluation_2020, tmp_path):
    broken = dataclasses.replace(evaluation_2020, ranked=evaluation_2020.ranked.drop(columns="score"))
    c = Charts(workers=2)
    c.draw(broken, tmp_path)
    with pytest.raises(KeyError, match="score"):
        c.show("scores")
    c.close()


class _KillsTheWorker:
    """Unpickled in a worker, it ends that process at once (as an out-of-memory kill would)."""

    def __reduce__(self):
        return os._exit, (3,)


def test_dead_workers_mean_drawing_here_not_a_failed_report(evaluation_2020, tmp_path, caplog):
    doomed = dataclasses.replace(evaluation_2020, sentences=_KillsTheWorker())
    c = Charts(workers=2)
    c.draw(doomed, tmp_path / "doomed")
    with caplog.at_level("WARNING", logger="evaluation.report.charts"):
        svgs = c.show("scores")
    assert "vẽ trong tiến trình này" in caplog.text
    assert not c.parallel
    assert svgs == draw_kind(evaluation_2020, "scores", tmp_path / "here")
    assert c.show("dumbbell") == draw_kind(evaluation_2020, "dumbbell", tmp_path / "here")


def test_workers_wanted_from_the_environment():
    assert workers_wanted({WORKERS_ENV: "3"}) == 3
    assert workers_wanted({WORKERS_ENV: " 1 "}) == 1
    assert workers_wanted({}) == charts.available_cores() >= 1
    for bad in ("0", "-2", "hai", "1.5"):
        with pytest.raises(ReportError, match=WORKERS_ENV) as caught:
            workers_wanted({WORKERS_ENV: bad})
        assert repr(bad) in str(caught.value)


def test_one_worker_draws_here_without_starting_processes(evaluation_2020, tmp_path, monkeypatch):
    monkeypatch.setenv(WORKERS_ENV, "1")
    c = Charts()
    assert c.workers == 1 and not c.parallel
    c.draw(evaluation_2020, tmp_path)
    assert len(c.show("dumbbell")) == 3
    assert (tmp_path / "tu-cham-va-danh-gia-so_nganh.png").exists()


def test_misuse_is_a_clear_error(evaluation_2020, tmp_path):
    c = Charts(workers=1)
    with pytest.raises(RuntimeError, match="draw"):
        c.show("scores")
    with pytest.raises(ValueError, match="pie"):
        c.draw(evaluation_2020, tmp_path, kinds=["scores", "pie"])
    c.draw(evaluation_2020, tmp_path, kinds=["scores"])
    with pytest.raises(ValueError, match="pie"):
        c.show("pie")
    with pytest.raises(ValueError):
        Charts(workers=0)


def test_the_report_kernel_never_imports_matplotlib():
    # The notebook's first cell starts the workers before anything heavy is imported.
    import subprocess
    import sys

    code = ("import sys; from evaluation.report.charts import Charts; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'seaborn', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_showing_the_figures_does_not_import_matplotlib_in_the_kernel(tmp_path):
    # The captions of large groups depend on how the chart was drawn: they come from the worker,
    # else showing a figure would import matplotlib and seaborn here (a second of the kernel's time).
    import subprocess
    import sys

    code = ("import sys; from evaluation.report.charts import Charts, KINDS; "
            "from evaluation.engine.pipeline import evaluate; "
            f"c = Charts(workers=2); c.draw(evaluate({str(ROOT / 'params' / 'example-2021.yaml')!r}), "
            f"{str(tmp_path)!r}); n = sum(len(c.figures(k)) for k in KINDS); "
            "print(n, sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'seaborn')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    count, modules = out.stdout.strip().split(" ", 1)
    assert int(count) >= 8 and modules == "[]"


@pytest.mark.parametrize("which", ["2020", "example-2021"])
def test_figures_and_captions_are_the_same_drawn_here_or_by_workers(which, evaluation_2020, example_year, tmp_path):
    ev = evaluation_2020 if which == "2020" else example_year
    made = {}
    for workers in (1, 2):
        c = Charts(workers=workers)
        c.draw(ev, tmp_path / str(workers))
        made[workers] = [f for kind in KINDS for f in c.figures(kind)]
    assert made[1] == made[2]
    assert [f.count("<figcaption>Hình ") for f in made[2]] == [1] * len(made[2])
    assert "<figcaption>Hình 1. Điểm đánh giá của các cơ quan, đơn vị nhóm I." in made[2][0]


def test_a_workers_warnings_are_written_by_the_cell_that_shows_the_chart(evaluation_2020, tmp_path, capsys):
    # A unit name with a letter no font has: matplotlib warns of the missing glyph.
    ranked = evaluation_2020.ranked.copy()
    ranked.loc[0, "unit"] = "Sở \U000F0000 thử"
    odd = dataclasses.replace(evaluation_2020, ranked=ranked)
    c = Charts(workers=2)
    c.draw(odd, tmp_path, kinds=["scores", "answers"])
    capsys.readouterr()
    c.show("answers")
    assert "Glyph" not in capsys.readouterr().err  # not the scores chart's warning
    c.show("scores")
    assert "Glyph" in capsys.readouterr().err


def test_a_charts_object_dropped_unfinished_stops_its_workers(evaluation_2020, tmp_path):
    # As when an analyst runs the notebook's first cell again: the old object goes, so do its workers
    # (the pool stops itself when collected; nothing else may hold it).
    import gc

    c = Charts(workers=2)
    c.draw(evaluation_2020, tmp_path, kinds=["dumbbell", "scores"])
    c.show("dumbbell")
    processes = list(c._pool._processes.values())
    assert processes
    del c
    gc.collect()
    for p in processes:
        p.join(timeout=30)
    assert not any(p.is_alive() for p in processes)


def test_rank_intervals_drawn_from_the_reports_own_analysis_are_the_ones_drawn_with_their_own(tmp_path):
    # The worker used to analyse the year a second time (2.3 s of a 180-unit report) for this chart.
    from evaluation.engine.pipeline import evaluate
    from evaluation.engine.sensitivity import analyse

    ev = evaluate(ROOT / "params" / "example-2026.yaml")
    assert ev.inputs.uncertainty is not None
    alone = Charts(workers=2)
    alone.draw(ev, tmp_path / "alone", kinds=["ranks"])
    assert alone.parallel and alone._ranks_wait  # kept open for the analysis
    own = alone.figures("ranks")
    assert not alone.parallel
    given = Charts(workers=2)
    given.draw(ev, tmp_path / "given", kinds=["ranks"])
    result = analyse(ev)
    given.draw_ranks(result)
    assert given.figures("ranks") == own and len(own) >= 1
    assert _files(tmp_path / "given") == _files(tmp_path / "alone")
    here = Charts(workers=1)
    here.draw(ev, tmp_path / "here", kinds=["ranks"])
    here.draw_ranks(result)
    assert here.figures("ranks") == own
