"""Stage: plot, in parallel. The report's charts drawn by worker processes while the notebook goes on.

Drawing and saving the charts (SVG for the report, PNG for documents) is most of
the report notebook's own time, and it does not need the kernel: the workers
draw them while the kernel reads the data and lays out the tables, each chart
kind on its own core.  The workers come from a fork server that imports the
plotting libraries as soon as :class:`Charts` is made, in parallel with the
kernel's own imports; the kernel itself never imports matplotlib.

The charts are the same bytes however they are drawn (see :mod:`~evaluation.report.plot`).
``EVALUATION_CHART_WORKERS=1`` draws them in the calling process (the batch sets
it when it already runs a year on every core); when the workers cannot start or
die, the charts are drawn in the calling process too.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import select
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the kernel needs no pandas or matplotlib to start the workers
    from ..engine.pipeline import Evaluation
    from ..engine.sensitivity import Sensitivity

__all__ = ["Charts", "KINDS", "WORKERS_ENV", "available_cores", "captions", "die_with", "draw_kind",
           "start_fork_server", "workers_wanted"]

# In the order the report shows them; the detailed kinds give nothing for a totals-only year.
KINDS = ("scores", "answers", "criteria", "dumbbell", "ranks")
_DETAIL_KINDS = ("answers", "criteria")
_PER_GROUP = ("scores", "criteria", "dumbbell")  # one chart per group: one task per group
WORKERS_ENV = "EVALUATION_CHART_WORKERS"
_PRELOAD = ["evaluation.report.plot", "evaluation.report.plot_detail"]

log = logging.getLogger("evaluation.report.charts")


def draw_kind(ev: Evaluation, kind: str, folder: Path | str, groups: list[str] | None = None, *,
              sensitivity: Sensitivity | None = None) -> list[str]:
    """Draw and save one chart kind of a year; return its SVGs in display order.

    Parameters
    ----------
    ev : Evaluation
    kind : {"scores", "answers", "criteria", "dumbbell", "ranks"}
        See :func:`evaluation.report.plot.draw` and :func:`evaluation.report.plot_detail.draw`;
        ``ranks``: the rank intervals of the sensitivity analysis (:func:`evaluation.report.plot.draw_ranks`).
    folder : Path
        Where ``<name>.svg`` and ``<name>.png`` are written.
    groups : list of str, optional
        For the kinds drawn per group, only these groups.
    sensitivity : Sensitivity, optional
        For ``ranks``: the year's analysis, if made already (else it is made here: same declaration
        and seed, same result).

    Notes
    -----
    A chart of an illustrative year is stamped "DỮ LIỆU MINH HỌA".
    """
    if kind not in KINDS:
        raise ValueError(f"unknown chart kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind in _DETAIL_KINDS:
        if ev.detail is None:
            return []
        from . import plot_detail

        return plot_detail.draw(ev, kind, Path(folder), groups=groups)
    from . import plot
    from .export import ILLUSTRATIVE

    stamp = ILLUSTRATIVE if ev.params.params.illustrative else None
    if kind == "ranks":
        if sensitivity is None:
            from ..engine.sensitivity import analyse

            sensitivity = analyse(ev)
        return plot.draw_ranks(sensitivity.units, ev.rules, Path(folder), stamp=stamp, groups=groups)
    return plot.draw(ev.ranked, ev.rules, kind, Path(folder), stamp=stamp, groups=groups)


def captions(ev: Evaluation, kind: str, count: int, groups: list[str] | None = None) -> list[str]:
    """The captions of the ``count`` charts :func:`draw_kind` drew of ``kind`` (and ``groups``), in order.

    Made where the charts are drawn: the captions of large groups depend on how they were drawn
    (:func:`.plot.caption`), and the kernel never imports matplotlib.
    """
    from . import plot, plot_detail

    rules, ranked = ev.rules, ev.ranked
    drawn = plot.groups_drawn(ranked, rules, kind, groups)
    out = []
    for i in range(count):
        # "ranks" is drawn in one task (one analysis) but, like the per-group kinds, one chart per group.
        group = drawn[i] if kind in (*_PER_GROUP, "ranks") and i < len(drawn) else None
        # A large group is drawn otherwise: its own caption.
        out.append(plot.caption(kind, ranked, rules, group) if kind in plot.CAPTIONS and group is not None
                   else plot_detail.caption(kind, ranked, rules, group))
    return out


def _draw_in_worker(ev: Evaluation, kind: str, folder: Path, groups: list[str] | None,
                    sensitivity: Sensitivity | None = None) -> tuple[list[str], list[str], str]:
    """:func:`draw_kind` in a worker: the SVGs, their :func:`captions`, and what it wrote to stderr.

    A worker's stderr is the kernel's: written there, a warning would land in whichever
    cell the kernel is running at that moment.  It is returned instead, and written by
    the cell that shows the chart, as if the chart had been drawn there.
    """
    err = io.StringIO()
    with contextlib.redirect_stderr(err), warnings.catch_warnings(record=True) as caught:
        svgs = draw_kind(ev, kind, folder, groups, sensitivity=sensitivity)
        texts = captions(ev, kind, len(svgs), groups)
    text = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in caught)
    return svgs, texts, text + err.getvalue()


def die_with(parent: int) -> None:
    """In a worker: end this process as soon as ``parent`` (the kernel that made the pool) ends.

    A worker's parent is the fork server, not the kernel, and it holds the pool's pipes open
    itself: when the kernel is killed (SIGKILL, a crash, the command interrupted) nothing else
    would tell the workers, and each would live on for minutes with its ~100 MB.  A thread
    waits on the kernel's process descriptor (``pidfd``: readable when it ends; polled once a
    second where there is none) and exits the worker at once.  With the workers gone, the fork
    server's last client is gone too, and it exits.  The report builder's PDF and Word workers
    watch their builder the same way (:mod:`evaluation.report.build`).
    """
    try:
        fd = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(0)  # already gone
    except (AttributeError, OSError):
        fd = None

    def watch() -> None:
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                time.sleep(1)
                try:
                    os.kill(parent, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    continue
        os._exit(0)

    threading.Thread(target=watch, name="die-with-kernel", daemon=True).start()
    # A task's error comes back through its future. What a worker would print itself is noise on the
    # user's terminal: a library's warning, or, when its parent is stopped (SIGTERM, Ctrl-C) while the
    # worker reads its queue, multiprocessing's "Process ForkServerProcess-1:" before the one-line message.
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 — for the worker's whole life


def available_cores() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def workers_wanted(environ: dict[str, str] | None = None) -> int:
    """Worker processes to draw with: ``EVALUATION_CHART_WORKERS`` if set, else the cores available.

    Raises
    ------
    ReportError
        The variable is set to anything but a whole number ≥ 1.
    """
    value = (os.environ if environ is None else environ).get(WORKERS_ENV, "").strip()
    if not value:
        return available_cores()
    if not value.isdigit() or int(value) < 1:
        from ..errors import ReportError  # imports pandas: not before the workers have started

        raise ReportError(f"biến môi trường {WORKERS_ENV} phải là số nguyên ≥ 1 (số tiến trình vẽ biểu đồ; "
                          f"1 = vẽ ngay trong tiến trình này), không phải {value!r}")
    return int(value)


def _fork_server() -> multiprocessing.context.BaseContext | None:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def start_fork_server() -> None:
    """Start the workers' fork server now: it imports the plotting libraries (a second) before a
    :class:`Charts` needs it (a report's kernel calls this as it starts).  Nothing with one worker."""
    if workers_wanted() > 1 and _fork_server() is not None:
        with contextlib.suppress(OSError):  # Charts says so, and draws here
            multiprocessing.forkserver.ensure_running()


class Charts:
    """The charts of one report, drawn in worker processes.

    Make it first (the workers start importing at once), then :meth:`draw` the
    year once its data are read, then :meth:`show` each kind where the report
    places it.  A year that declares uncertain values has its rank intervals drawn
    from the analysis the report makes anyway (:meth:`draw_ranks`), rather than a
    worker making it a second time.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default :func:`workers_wanted`).  ``1`` draws every
        chart in this process, when it is shown.

    Examples
    --------
    >>> charts = Charts()                                  # doctest: +SKIP
    >>> charts.draw(ev, "outputs/2020/figures")            # doctest: +SKIP
    >>> svgs = charts.show("scores")                       # doctest: +SKIP
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers_wanted() if workers is None else workers
        if self.workers < 1:
            raise ValueError(f"workers must be ≥ 1, not {self.workers}")
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[str, list[Future[tuple[list[str], list[str], str]]]] = {}
        self._ev: Evaluation | None = None
        self._folder: Path | None = None
        self._numbered = 0
        self._ranks_wait = False  # the rank intervals wait for draw_ranks(analysis)
        self._sensitivity: Sensitivity | None = None
        if self.workers > 1:
            self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor | None:
        ctx = _fork_server()
        if ctx is None:
            return None  # a spawned worker would import everything again: slower than drawing here
        try:
            # Start the fork server now: it imports the plotting libraries while this process
            # reads the data (starting a worker would wait here until it has).
            multiprocessing.forkserver.ensure_running()
            pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=die_with,
                                       initargs=(os.getpid(),))
        except OSError as exc:
            log.warning("không khởi động được tiến trình vẽ biểu đồ (%s): vẽ trong tiến trình này", exc)
            return None
        return pool

    @property
    def parallel(self) -> bool:
        """Whether the charts are drawn by worker processes."""
        return self._pool is not None

    def draw(self, ev: Evaluation, folder: Path | str, kinds: Sequence[str] = KINDS) -> None:
        """Start drawing ``kinds`` of ``ev`` into ``folder`` (the workers' results come with :meth:`show`)."""
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown chart kind(s) {', '.join(map(repr, unknown))}; expected {', '.join(KINDS)}")
        self._ev, self._folder = ev, Path(folder)
        self._pending = {}
        self._sensitivity = None
        # Nothing declared, nothing varies: the worker's "analysis" of it is immediate.
        self._ranks_wait = "ranks" in kinds and ev.inputs.uncertainty is not None
        for kind in kinds:
            if not ((kind in _DETAIL_KINDS and ev.detail is None) or (kind == "ranks" and self._ranks_wait)):
                self._submit(kind)

    def _submit(self, kind: str, sensitivity: Sensitivity | None = None) -> None:
        """Give ``kind`` to the workers, one task per group for the kinds drawn per group."""
        if self._pool is None:
            return
        parts = [[g] for g in self._ev.rules.group_ids] if kind in _PER_GROUP else [None]
        try:
            self._pending[kind] = [self._pool.submit(_draw_in_worker, self._ev, kind, self._folder, p, sensitivity)
                                   for p in parts]
        except BrokenProcessPool:
            self._give_up("các tiến trình vẽ biểu đồ đã dừng")

    def draw_ranks(self, sensitivity: Sensitivity | None) -> None:
        """Start drawing the rank intervals from the year's analysis (:func:`.present_sensitivity.analysis`).

        ``None`` (the year declares nothing that varies): there are none to draw.  Without this
        call, :meth:`show` has them drawn with an analysis of their own, as :func:`draw_kind` does.
        """
        if self._ev is None or self._folder is None:
            raise RuntimeError("Charts.draw(ev, folder) must come before Charts.draw_ranks(analysis)")
        if not self._ranks_wait:
            return
        self._ranks_wait = False
        if sensitivity is None:
            self._pending["ranks"] = []
            return
        self._sensitivity = sensitivity
        self._submit("ranks", sensitivity)

    def show(self, kind: str) -> list[str]:
        """The SVGs of ``kind`` in display order, waiting for its worker if need be.

        A chart that fails raises its own error here, in the cell that shows it.
        """
        return [svg for svg, _ in self._drawn(kind)]

    def _drawn(self, kind: str) -> list[tuple[str, str]]:
        """Each chart of ``kind`` with its caption (:meth:`show`)."""
        if self._ev is None or self._folder is None:
            raise RuntimeError("Charts.draw(ev, folder) must come before Charts.show(kind)")
        if kind not in KINDS:
            raise ValueError(f"unknown chart kind {kind!r}; expected one of {', '.join(KINDS)}")
        if kind == "ranks" and self._ranks_wait:
            self._ranks_wait = False  # never given the analysis: drawn with one of its own, as before
            self._submit("ranks")
        futures = self._pending.pop(kind, None)
        drawn = None
        if futures is not None:
            try:
                done = [future.result() for future in futures]
                drawn = [pair for svgs, texts, _ in done for pair in zip(svgs, texts, strict=True)]
                sys.stderr.write("".join(messages for _, _, messages in done))
            except BrokenProcessPool:
                self._give_up("một tiến trình vẽ biểu đồ đã dừng bất thường")
        if drawn is None:
            svgs = draw_kind(self._ev, kind, self._folder,
                             sensitivity=self._sensitivity if kind == "ranks" else None)
            drawn = list(zip(svgs, captions(self._ev, kind, len(svgs)), strict=True))
        if not self._pending and not self._ranks_wait:
            self.close()
        return drawn

    def figures(self, kind: str) -> list[str]:
        """The charts of ``kind`` as numbered figures with their Vietnamese captions ("Hình 1. …").

        Figures are numbered in the order the report shows them, across kinds.
        """
        from .render import render

        out = []
        for svg, caption in self._drawn(kind):
            self._numbered += 1
            out.append(render("figure.html.j2", number=self._numbered, caption=caption,
                              svg=base64.b64encode(svg.encode("utf-8")).decode("ascii")))
        return out

    def _give_up(self, why: str) -> None:
        log.warning("%s: các biểu đồ còn lại được vẽ trong tiến trình này", why)
        self._pending = {}
        self.close()

    def close(self) -> None:
        """Stop the workers (called by :meth:`show` once every kind has been shown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
