"""Every year in one batch: what is up to date kept, inputs checked, the years built in parallel, the index.

0. A year whose report in place is up to date (nothing it was made from has changed, every output
   still there: :func:`evaluation.files.reusable`, from the report's ``build.json``) is kept as it
   is, without reading more than the files its record lists: no evaluation, no kernel.  So is the
   comparison, and the index when nothing else was built.  ``force`` builds everything.
1. Every other year's inputs are checked here, in this process, before any kernel
   starts.  A year with bad input is reported with all its messages and left
   out; the others go on.
2. Each good year is built by :func:`evaluation.report.build.build_report` in a fresh
   process of its own (``max_tasks_per_child=1``), at most ``jobs`` at a time —
   one per core by default.  Each process starts its own kernel, which talks over
   private Unix sockets (:class:`~evaluation.report.build.IsolatedKernelManager`), so kernels started together
   cannot race for a TCP port (papermill issue 511).  Processes come from a
   fork server that has already imported the heavy libraries, so a year does not
   pay for importing pandas and papermill again.
3. When two or more years are valid, the comparison of all of them
   (:func:`evaluation.years.build_compare.build_comparison`) runs as one more task.
4. The index page lists every year and the comparisons on disk.

Progress goes to ``stream`` (standard error): when a year starts, finishes or
fails, with its duration.  A failing year never stops the others.  Durations
are printed, never written into any output.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from ..errors import InputError, Interrupted, ReportError, describe_os_error, shown_path
from ..files import reusable, write_record
from ..report.build import NOTEBOOK, SUMMARY, Built, build_report, build_sources
from ..report.charts import WORKERS_ENV, available_cores
from .build_compare import COMPARE_DIR, COMPARE_NOTEBOOK, build_comparison, compare_sources, comparison_name
from .index import INDEX

if TYPE_CHECKING:
    from ..engine.pipeline import Evaluation

__all__ = ["Outcome", "BatchResult", "KeptYear", "run_batch", "choose_comparison", "default_jobs", "INDEX_RECORD"]

T = TypeVar("T")
# Imported once by the fork server, inherited by every year's process.
_PRELOAD = ["evaluation.engine.pipeline", "evaluation.report.build", "jupyter_client",
            "evaluation.years.compare", "papermill", "nbconvert", "nbformat", "weasyprint"]
# The comparison's niceness while years are built beside it: a few hundredths of a core's time when
# a year wants it (Linux CFS weights), all of what the years leave.
_YIELD = 19
# What the index page was made from, beside it (its record covers index.html only).
INDEX_RECORD = "index.build.json"


@dataclass(frozen=True)
class Outcome:
    """What happened to one task of the batch (a year, or the comparison)."""

    name: str
    ok: bool
    message: str = ""
    seconds: float = 0.0
    folder: Path | None = None
    input_error: bool = False
    comparison: bool = False
    reused: bool = False


@dataclass
class BatchResult:
    """Every task's outcome, and the index page written."""

    outcomes: list[Outcome] = field(default_factory=list)
    index: Path | None = None
    skipped_comparison: str = ""
    index_reused: bool = False

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def exit_status(self) -> int:
        """0 when all went well; 2 when only bad input failed; 1 when a report could not be built."""
        if not self.failed:
            return 0
        return InputError.exit_status if all(o.input_error for o in self.failed) else ReportError.exit_status


def default_jobs() -> int:
    """The cores this process may use."""
    return available_cores()


def _seconds(value: float) -> str:
    from ..fmt import number  # brings pandas: only once something was built

    return f"{number(value, 1)} s"


def _say(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


# -- the tasks, run in their own processes ------------------------------------------------------


def _attempt(name: str, run: Callable[[], T], *, comparison: bool = False) -> tuple[T | None, Outcome]:
    """Run ``run()``; any failure becomes an Outcome (exceptions do not cross processes well)."""
    try:
        value = run()
    except InputError as exc:
        return None, Outcome(name, False, exc.message(), input_error=True, comparison=comparison)
    except ReportError as exc:
        return None, Outcome(name, False, str(exc), comparison=comparison)
    except OSError as exc:  # a full or read-only disk: said as the command line says it
        return None, Outcome(name, False, describe_os_error(exc), comparison=comparison)
    except Exception as exc:  # noqa: BLE001 - one year's unexpected failure must not stop the batch
        return None, Outcome(name, False, f"lỗi không lường trước ({type(exc).__name__}: {exc})", comparison=comparison)
    return value, Outcome(name, True, comparison=comparison)


def _built(name: str, run: Callable[[], Built], *, comparison: bool = False) -> Outcome:
    built, outcome = _attempt(name, run, comparison=comparison)
    return replace(outcome, folder=built.folder, reused=built.reused) if built is not None else outcome


def _share_cores(chart_workers: int, handed_down: str = "") -> None:
    """In a year's process: how many processes its kernel may draw charts with (unless the user said).

    ``handed_down``: where the years this batch evaluated wait for it (:func:`.pipeline.handing_down`):
    a year checked here is not read and computed again by its report's process.  Also: SIGTERM and
    SIGINT stop the year as they stop the command (its temporary folder removed, its kernel shut
    down), rather than killing the process where it stands.
    """
    os.environ.setdefault(WORKERS_ENV, str(chart_workers))
    if handed_down:
        from ..engine.pipeline import HANDED_DOWN_ENV

        os.environ[HANDED_DOWN_ENV] = handed_down

    def stop(signum, _frame):
        raise Interrupted(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


def _year_task(params_path: str, out_root: str, notebook: str, force: bool = True) -> Outcome:
    return _built(Path(params_path).stem, lambda: build_report(params_path, out_root, notebook=Path(notebook),
                                                               force=force))


def _compare_task(name: str, params_paths: list[str], out_root: str, notebook: str, force: bool = True,
                  yield_to_years: bool = False) -> Outcome:
    """The comparison, in its process.  ``yield_to_years``: years are built at the same time; they
    get the cores first (a lower priority, which its kernel and workers inherit): each year takes
    longer than the comparison, which then takes the cores they leave, and the batch ends sooner."""
    if yield_to_years and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(_YIELD)
    return _built(name, lambda: build_comparison(params_paths, out_root, notebook=Path(notebook), force=force),
                  comparison=True)


# -- the batch ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeptYear:
    """A year whose report in place is kept: what the batch needs of it, read from its ``summary.json``."""

    id: str
    year: int
    illustrative: bool
    path: Path


def _about(y: Evaluation | KeptYear) -> tuple[str, int, bool, Path]:
    if isinstance(y, KeptYear):
        return y.id, y.year, y.illustrative, y.path
    return y.params.id, y.params.year, y.params.params.illustrative, y.params.path


def choose_comparison(years: Sequence[Evaluation | KeptYear]) -> tuple[list[Evaluation | KeptYear], list[str]]:
    """The years the batch compares: one per calendar year, real data preferred to illustrative.

    Returns the chosen years (oldest first) and a note for each year left out.
    """
    chosen: dict[int, Evaluation | KeptYear] = {}
    notes = []
    for y in sorted(years, key=lambda y: (_about(y)[1], _about(y)[2], _about(y)[0])):
        year_id, year, illustrative, _ = _about(y)
        kept = chosen.get(year)
        if kept is None:
            chosen[year] = y
        else:
            kept_id, _, kept_illustrative, _ = _about(kept)
            notes.append(f"{year_id}: không đưa vào so sánh — đã có {kept_id} cho năm {year}"
                         + (" (dữ liệu thật được ưu tiên hơn dữ liệu minh họa)"
                            if illustrative and not kept_illustrative else ""))
    return [chosen[y] for y in sorted(chosen)], notes


def _kept_year(path: Path, out_root: Path, notebook: Path) -> tuple[KeptYear | None, str]:
    """The year of ``path`` if its report in place is up to date, else why it is not.

    The same test as :func:`evaluation.report.build.build_report` makes (same sources).
    """
    folder = out_root / path.stem
    why = reusable(folder, build_sources("report", folder, notebook, "python3", id=path.stem, data_dir=""))
    if why is not None:
        return None, why
    try:
        about = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
        return KeptYear(path.stem, int(about["year"]), bool(about["illustrative"]), path), ""
    except (OSError, ValueError, KeyError, TypeError):
        return None, "không đọc được summary.json"


def _index_sources(out_root: Path, ids: Sequence[str], failed: dict[str, str], compare_failed: str) -> dict:
    """What the index page shows besides the summaries it reads: the years, failures, what is on disk."""
    compare = out_root / COMPARE_DIR
    return {"kind": "index", "ids": list(ids), "failed": failed, "compare_failed": compare_failed,
            "reports": [i for i in ids if (out_root / i / "report.html").is_file()],
            "comparisons": sorted(p.parent.name for p in compare.glob("*/compare.html")) if compare.is_dir() else [],
            **{k: v for k, v in build_sources("index", out_root, NOTEBOOK, "").items() if k in (
                "code", "version", "python", "libraries")}}


def _index_inputs(out_root: Path, ids: Sequence[str]) -> list[Path]:
    found = [out_root / i / SUMMARY for i in ids]
    found += sorted((out_root / COMPARE_DIR).glob(f"*/{SUMMARY}"))
    return [p for p in found if p.is_file()]


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _start_fork_server() -> None:
    """Start the fork server now: it imports :data:`_PRELOAD` (2 s) while this process checks the inputs,
    rather than after, when the first report waits for it."""
    if isinstance(_context(), multiprocessing.context.ForkServerContext):
        with contextlib.suppress(OSError):  # then the pool starts it, or says why it cannot
            multiprocessing.forkserver.ensure_running()


def run_batch(params_paths: Sequence[Path | str], out_root: Path | str = "outputs", *, jobs: int | None = None,
              compare: bool = True, notebook: Path = NOTEBOOK, compare_notebook: Path = COMPARE_NOTEBOOK,
              stream: TextIO | None = None, force: bool = False) -> BatchResult:
    """Keep what is up to date, check every other year, build the good ones in parallel, compare them, write the index.

    Parameters
    ----------
    params_paths : sequence of Path or str
        ``params/<year>.yaml`` files.
    out_root : Path or str
        ``<out_root>/<year>/``, ``<out_root>/compare/<first>-<last>/`` and ``<out_root>/index.html``.
    jobs : int, optional
        Years built at the same time (default: the cores available).  ``1`` builds
        them one after another (still each in its own process).
    compare : bool
        Also build the comparison of the valid years (when there are two or more).
    stream : text stream, optional
        Where progress goes (default: standard error).
    force : bool
        Build every year, the comparison and the index even if they are up to date.

    Returns
    -------
    BatchResult
        Never raises for a failing year: every failure is an :class:`Outcome`.  A year, comparison
        or index kept as it was has ``reused`` set.

    Notes
    -----
    The years' processes are started by a fork server (or spawned on systems
    without one), which imports the main module again: a script that calls this
    function must do so under ``if __name__ == "__main__":``, as
    :mod:`multiprocessing` requires.  ``python -m evaluation`` needs nothing.
    """
    stream = stream if stream is not None else sys.stderr
    paths = [Path(p).resolve() for p in params_paths]
    out_root = Path(out_root).resolve()
    result = BatchResult()

    # 0. What is up to date is kept; 1. the inputs of every other year, here, before any kernel.
    good: list[Evaluation | KeptYear] = []
    built: list[Evaluation] = []
    for path in paths:
        kept, why = (None, "--force") if force else _kept_year(path, out_root, notebook)
        if kept is not None:
            good.append(kept)
            result.outcomes.append(Outcome(kept.id, True, folder=out_root / kept.id, reused=True))
            _say(stream, f"[{kept.id}] không có gì thay đổi: giữ báo cáo đã lập ({shown_path(out_root / kept.id)})")
            continue
        _say(stream, f"[{path.stem}] lập báo cáo: {why}")
        _start_fork_server()
        from ..engine.pipeline import evaluate

        ev, outcome = _attempt(path.stem, lambda p=path: evaluate(p))
        if ev is not None:
            good.append(ev)
            built.append(ev)
            _say(stream, f"[{ev.params.id}] dữ liệu hợp lệ: {ev.counts.loc['total', 'total']} đơn vị")
        else:
            result.outcomes.append(outcome)
            _say(stream, f"[{outcome.name}] LỖI — không lập báo cáo:\n{outcome.message}")

    # 2. The tasks: every good year not kept, and the comparison of all of them unless it is up to date.
    tasks: list[tuple[str, object, tuple]] = [
        (ev.params.id, _year_task, (str(ev.params.path), str(out_root), str(notebook))) for ev in built]
    compared, notes = choose_comparison(good)
    for note in notes:
        _say(stream, note)
    compare_name = ""
    if compare and len(compared) >= 2:
        ids = [_about(y)[0] for y in compared]
        compare_paths = [_about(y)[3] for y in compared]
        compare_name = f"so sánh {comparison_name(ids)}"
        folder = out_root / COMPARE_DIR / comparison_name(ids)
        if not force and reusable(folder, compare_sources(compare_paths, folder, notebook=compare_notebook)) is None:
            result.outcomes.append(Outcome(compare_name, True, folder=folder, comparison=True, reused=True))
            _say(stream, f"[{compare_name}] không có gì thay đổi: giữ báo cáo đã lập ({shown_path(folder)})")
        else:
            tasks.append((compare_name, _compare_task,
                          (compare_name, [str(p) for p in compare_paths], str(out_root), str(compare_notebook), True,
                           bool(tasks))))
    elif compare:
        have = ", ".join(_about(y)[0] for y in compared) or "không có"
        result.skipped_comparison = (f"So sánh qua các năm: bỏ qua — cần ít nhất hai năm có dữ liệu hợp lệ "
                                     f"(hiện có: {have}).")
        _say(stream, result.skipped_comparison)

    # 3. Run them, at most `jobs` at a time, each in a fresh process.
    if tasks:
        from ..engine.pipeline import handing_down

        workers = max(1, min(jobs or default_jobs(), len(tasks)))
        _say(stream, f"Lập {len(tasks)} báo cáo, {workers} tiến trình song song.")
        with handing_down(built):  # the years checked above, as they were evaluated here
            result.outcomes += _run_tasks(tasks, workers, stream)

    # 4. The index: every year that has a params file, as the reports on disk show them; written
    # again unless nothing was built and the page in place is the one these reports give.
    failed = {o.name: o.message for o in result.outcomes if not o.ok and not o.comparison}
    compare_failed = next((o.message for o in result.outcomes if o.comparison and not o.ok), "")
    ids = [p.stem for p in paths]
    sources = _index_sources(out_root, ids, failed, compare_failed)
    index = out_root / INDEX
    if force or tasks or result.failed or reusable(out_root, sources, record=INDEX_RECORD) is not None:
        from .index import write_index

        result.index = write_index(out_root, ids, failed=failed, compare_failed=compare_failed)
        write_record(out_root, sources, _index_inputs(out_root, ids), record=INDEX_RECORD, outputs=[INDEX])
        _say(stream, f"Trang mục lục: {shown_path(result.index)}")
    else:
        result.index = index
        result.index_reused = True
        _say(stream, f"Trang mục lục không đổi: {shown_path(index)}")
    if result.failed:
        _say(stream, "Các năm không lập được báo cáo: " + ", ".join(o.name for o in result.failed))
    return result


def _run_tasks(tasks: list[tuple[str, object, tuple]], workers: int, stream: TextIO) -> list[Outcome]:
    """Submit at most ``workers`` tasks at a time so that a task starts when it is submitted."""
    outcomes: list[Outcome] = []
    pending = list(tasks)
    running: dict[Future, tuple[str, float]] = {}
    # The cores left to each year draw its charts and lay out its PDF (evaluation.report.charts, .build):
    # none left when every core runs a year and more years wait.  When every task starts at once (a
    # rebuild of the one year that changed and its comparison), each may use every core: they share
    # them while they run together, and the last one still running gets them all.
    share = default_jobs() if len(tasks) <= workers else max(1, default_jobs() // workers)
    from ..engine.pipeline import HANDED_DOWN_ENV

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), max_tasks_per_child=1,
                               initializer=_share_cores, initargs=(share, os.environ.get(HANDED_DOWN_ENV, "")))
    try:
        while pending or running:
            while pending and len(running) < workers:
                name, func, args = pending.pop(0)
                running[pool.submit(func, *args)] = (name, time.perf_counter())
                _say(stream, f"[{name}] bắt đầu")
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f][0]):
                name, started = running.pop(future)
                elapsed = time.perf_counter() - started
                try:
                    outcome = replace(future.result(), seconds=elapsed)
                except BrokenProcessPool:
                    outcome = Outcome(name, False, "tiến trình lập báo cáo này dừng bất thường (bị buộc dừng hoặc "
                                      "hết bộ nhớ); báo cáo trước đó giữ nguyên", elapsed,
                                      comparison=name.startswith("so sánh"))
                except Exception as exc:  # noqa: BLE001 - e.g. the process died
                    outcome = Outcome(name, False, f"lỗi không lường trước ({type(exc).__name__}: {exc})", elapsed,
                                      comparison=name.startswith("so sánh"))
                outcomes.append(outcome)
                if outcome.ok:
                    _say(stream, f"[{name}] xong sau {_seconds(elapsed)}: {shown_path(outcome.folder)}")
                else:
                    _say(stream, f"[{name}] LỖI sau {_seconds(elapsed)}:\n{outcome.message}")
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): the years being built stop too, each cleaning up after itself.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, AttributeError):
                process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcomes
