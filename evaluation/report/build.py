"""Build a year's report: check inputs, run the notebook with papermill, render HTML, PDF and Word.

The PDF's parts (the report, and each annex that starts on a page of its own) and the Word
document are made in parallel by :class:`Renderers`, whose fork server imports WeasyPrint while
the notebook runs (:func:`write_documents`; the parts: :mod:`.publish`).

The notebook runs in a kernel of its own on private Unix sockets (:class:`IsolatedKernelManager`),
so several years built at once never race for a TCP port.

Everything is written into a temporary folder beside the destination and moved
into place only when every step has succeeded, so a failed run never touches
the previous good report (one build of a folder at a time, an atomic swap, and
the leftovers of killed runs removed: :mod:`evaluation.files`).  Nothing here depends on the wall clock: the executed
notebook is stripped of timings, cell ids are fixed, and the HTML of two runs on
the same inputs is identical.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import json
import keyword
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .. import __version__
from ..errors import Interrupted, ReportError, describe_os_error, shown_path
from ..files import (
    BUILDING,
    RECORD,
    build_lock,
    environment,
    fingerprint,
    remove_leftovers,
    reusable,
    swap_into_place,
    write_record,
)
from .charts import die_with, workers_wanted
from .publish import docx_bytes, join_pdfs, pdf_bytes, require_font, split_annexes

# Imported where used: deciding that a report is up to date needs neither pandas nor a kernel.
if TYPE_CHECKING:
    import nbformat

    from ..engine.pipeline import Evaluation

__all__ = ["build_report", "build_notebook", "build_sources", "input_folders", "render_html", "write_pdf",
           "write_documents", "Renderers", "write_json", "Built", "NOTEBOOK",
           "TEMPLATES", "EXPECTED_FILES", "SUMMARY", "ROOT", "TRANSPORT", "kernel_manager_class"]

PACKAGE = Path(__file__).resolve().parent  # evaluation/report
ROOT = PACKAGE.parents[1]  # the project: notebooks/ beside evaluation/
NOTEBOOK = ROOT / "notebooks" / "report.ipynb"
TEMPLATES = PACKAGE / "templates"
SUMMARY = "summary.json"
EXPECTED_FILES = ("report.ipynb", "report.html", "report.pdf", "report.docx", "results.csv", "results.xlsx", "figures",
                  SUMMARY, RECORD)
# What the builder itself writes, whatever the notebook: a province's own report notebook need not
# write the exports and figures of ours.
BUILDER_FILES = ("report.ipynb", "report.html", "report.pdf", "report.docx", SUMMARY, RECORD)
INJECTED_ID = "injected-parameters"

log = logging.getLogger("evaluation.report.build")
T = TypeVar("T")


# -- the kernel papermill starts ----------------------------------------------------------------
#
# No TCP port to race for when several years start at once: jupyter_client picks a kernel's five TCP
# ports by binding to port 0 and releasing them before the kernel binds them itself; two kernels
# started at the same moment can be handed the same port (papermill issue 511, jupyter_client's
# "handshaking" proposal, JEP 66).  On POSIX systems the kernel here talks over Unix domain sockets
# instead (``transport = "ipc"``), placed in a private temporary folder of its own, so no two kernels
# can ever share an address.  Windows has no such sockets: there the default TCP transport is kept.

TRANSPORT = "ipc" if os.name == "posix" else "tcp"


@functools.cache
def kernel_manager_class() -> type:
    """:class:`IsolatedKernelManager`, defined on first use: deciding that a report is up to date
    (or reading this module) must not import jupyter_client."""
    from jupyter_client import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IsolatedKernelManager(AsyncKernelManager):
        """A kernel whose connection file and sockets live in a fresh private folder.

        The folder (mode 0700, from :func:`tempfile.mkdtemp`) is removed when the
        kernel shuts down.  The socket paths are short (``/tmp/evaluation-kernel-…/
        kernel-ipc-1``), well under the 104-byte limit of a Unix socket path.
        """

        transport = CaselessStrEnum(["tcp", "ipc"], default_value=TRANSPORT, config=True)

        @default("connection_file")
        def _private_connection_file(self) -> str:
            # The ipc socket paths derive from this name (``kernel-ipc-<n>`` beside it); a
            # folder per kernel keeps them apart without relying on a check-then-create.
            return os.path.join(tempfile.mkdtemp(prefix="evaluation-kernel-"), "kernel.json")

        def cleanup_connection_file(self) -> None:
            written = self._connection_file_written  # else reading connection_file would make a folder
            super().cleanup_connection_file()
            if written:
                folder = os.path.dirname(self.connection_file)
                if os.path.basename(folder).startswith("evaluation-kernel-"):
                    shutil.rmtree(folder, ignore_errors=True)

    return IsolatedKernelManager


def __getattr__(name: str) -> object:
    # ``from evaluation.report.build import IsolatedKernelManager`` still works (PEP 562).
    if name == "IsolatedKernelManager":
        return kernel_manager_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Built:
    """Where a report was written; ``reused`` when the one in place was up to date and kept.

    ``why``: what made a build necessary (a changed input, a missing output, ``--force``…).
    """

    year: str
    folder: Path
    stem: str = "report"
    reused: bool = False
    why: str = ""

    @property
    def html(self) -> Path:
        return self.folder / f"{self.stem}.html"

    @property
    def pdf(self) -> Path:
        return self.folder / f"{self.stem}.pdf"


_PLAIN = (str, bool, int, float)


def _plain(value: object) -> bool:
    # Exact types: a subclass of str (numpy.str_, or one with its own encode/__repr__) decides
    # itself how papermill writes it into code.
    if value is None or type(value) in _PLAIN:
        return True
    return type(value) in (list, tuple) and all(v is None or type(v) in _PLAIN for v in value)


def _name_ok(name: object) -> bool:
    return (type(name) is str and name.isidentifier() and not keyword.iskeyword(name)
            and not name.startswith("_"))


def check_parameters(parameters: dict[str, object], declared: Iterable[str] | None = None) -> None:
    """Refuse any parameter that is not plain data before papermill writes it into code.

    Parameters
    ----------
    parameters : dict
        Name → value.  Values: ``str``, ``int``, ``float``, ``bool``, ``None`` or a list of them
        (exact types).  Names: identifiers, not keywords, not ``_private`` or ``__dunder__``.
    declared : iterable of str, optional
        The names the notebook's ``parameters`` cell declares; any other name is refused
        (papermill would inject it anyway, with only a warning).

    Raises
    ------
    ReportError
    """
    bad = {str(k): type(v).__name__ for k, v in parameters.items() if not _plain(v) or not _name_ok(k)}
    if bad:
        raise ReportError("tham số không phải dữ liệu thuần (chuỗi, số, đúng/sai hoặc danh sách của chúng): "
                          + ", ".join(f"{k} ({t})" for k, t in bad.items()))
    if declared is not None:
        unknown = sorted(set(parameters) - set(declared))
        if unknown:
            raise ReportError("tham số không có trong ô «parameters» của sổ tay: " + ", ".join(unknown))


def declared_parameters(notebook: nbformat.NotebookNode) -> set[str]:
    """Names assigned in the cell tagged ``parameters`` (a ReportError if there is none)."""
    cell = next((c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        raise ReportError("sổ tay không có ô gắn thẻ «parameters»: papermill sẽ chèn tham số vào đầu sổ tay")
    names: set[str] = set()
    for node in ast.walk(ast.parse(cell.source)):
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove run timings and random ids so the executed notebook is reproducible."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if INJECTED_ID in cell.metadata.get("tags", []):
            cell.id = INJECTED_ID
    return nb


# The kernel's own start-up notices are not the report's business.
_KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR",)


def start_kernel(kernel_name: str, cwd: Path, startup: Sequence[str] = ()):
    """A kernel started now, for :func:`execute` to run a notebook in later (``kernel=``).

    A report's command starts it before checking the inputs: the kernel starts, and runs the lines
    of Python ``startup`` (:func:`kernel_startup`: the notebook's imports), while the command reads
    them, instead of after.  Those lines leave the namespace as a fresh kernel's: the notebook
    imports what it uses, as it must when an analyst opens it.  Stop the kernel with
    :func:`stop_kernel` if it is not given to :func:`execute` (which stops it at the end).
    """
    from jupyter_core.utils import run_sync

    km = kernel_manager_class()(kernel_name=kernel_name)
    arguments = [*_KERNEL_ARGUMENTS, *(f"--IPKernelApp.exec_lines={line}" for line in startup)]
    run_sync(km.start_kernel)(cwd=str(cwd), extra_arguments=arguments)
    return km


def kernel_startup(notebook: Path) -> list[str]:
    """What a kernel can do for ``notebook`` before its cells run (:func:`start_kernel`): import the
    modules its code cells import (their top-level ``import`` statements), and start the chart
    workers' fork server when it imports :mod:`.charts`.

    One line of Python, which leaves no name behind; a module that cannot be imported is passed
    over (the cell that imports it will say why).
    """
    import nbformat

    modules: list[str] = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", ()):
            continue
        try:
            body = ast.parse(cell.source).body
        except SyntaxError:  # IPython syntax (magics): nothing to learn from it
            continue
        for node in body:
            if isinstance(node, ast.Import):
                modules += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # ``from package import module`` imports a submodule: tried, as the cell would
                modules += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    if not modules:
        return []
    charts = "evaluation.report.charts"
    return ["import importlib as _i\n"
            f"for _m in {list(dict.fromkeys(modules))!r}:\n"
            "    try:\n        _i.import_module(_m)\n    except Exception:\n        pass\n"
            + (f"_i.import_module({charts!r}).start_fork_server()\n" if charts in modules else "")
            + "del _i, _m"]


def stop_kernel(km) -> None:
    """Stop a kernel of :func:`start_kernel` at once, unless :func:`execute` has stopped it already."""
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):  # already gone: nothing to stop
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)


def _adopting(km) -> type:
    """A kernel manager class whose only instance is ``km``, a kernel already started.

    nbclient makes its kernel manager from a class (papermill passes no manager through), then
    sees that it has a kernel, connects to it, and stops it at the end as one it had started.
    """
    class Adopting(type(km)):
        def __new__(cls, *args: object, **kwargs: object):
            return km   # not an instance of this class: __init__ is not called again

    return Adopting


def execute(notebook: Path, output: Path, parameters: dict[str, object], *,
            kernel_name: str = "python3", kernel=None) -> nbformat.NotebookNode:
    """Run ``notebook`` with papermill into ``output``; a failing cell becomes a ReportError.

    The error names the cell (its index and id, and the first line of its source) and
    the exception raised inside it.  ``kernel``: one of :func:`start_kernel` to run it in
    (stopped at the end); else papermill starts one.
    """
    import nbformat
    import papermill as pm


    check_parameters(parameters, declared_parameters(nbformat.read(notebook, as_version=4)))
    try:
        pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name=kernel_name,
                            cwd=str(notebook.parent), progress_bar=False, log_output=False,
                            extra_arguments=list(_KERNEL_ARGUMENTS),
                            # sockets in a private folder, not TCP ports: kernels started together
                            # in a batch cannot race for a port (papermill issue 511)
                            kernel_manager_class=kernel_manager_class() if kernel is None else _adopting(kernel),
                            # every output is collected when the last cell ends: stop the kernel at
                            # once rather than wait for a graceful exit (which sometimes took 2-3 s)
                            shutdown_kernel="immediate",
                            # written once at the end (and on failure), not after every cell
                            request_save_on_cell_execute=False)
    except pm.PapermillExecutionError as exc:
        # papermill adds marker cells to the failed notebook: find the cell by its source.
        source = nbformat.read(notebook, as_version=4)
        cell_id = next((c.id for c in source.cells if c.source.strip() == (exc.source or "").strip()), "?")
        first = (exc.source or "").strip().splitlines()[0] if exc.source else ""
        raise ReportError(
            f"ô «{cell_id}» (ô số {exc.cell_index}, dòng đầu: {first!r}) của {notebook.name} gặp lỗi "
            f"{exc.ename}: {exc.evalue}",
            cell=exc.cell_index, source=first, error=f"{exc.ename}: {exc.evalue}") from None
    nb = _strip_volatile(nbformat.read(output, as_version=4))
    nbformat.write(nb, output)
    return nb


def _for_readers(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """A copy without stderr streams (warnings go to the log, not into the report)."""
    import nbformat

    nb = nbformat.from_dict(nb)
    messages = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                messages.append(out.get("text", "").strip())
            else:
                kept.append(out)
        cell.outputs = kept
    return nb, messages


_BEYOND_ASCII = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")


def _letter(m: re.Match[str]) -> str | None:
    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    # 128–159 are read as Windows-1252 letters by an HTML parser, and surrogates as U+FFFD: kept as written
    return chr(code) if 159 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


@functools.cache
def _exporter_class() -> type:
    """nbconvert's HTML exporter without its last pass over the page.

    ``HTMLExporter.from_notebook_node`` ends by parsing the whole page with BeautifulSoup to give
    images without alternative text an English one and JupyterLab's cells a ``tabindex``, and writes
    the page out again: 1.3 s for a province's page of 23,000 elements, while the report waits.  Here
    every chart has its Vietnamese alternative text and no element is a JupyterLab cell of that kind:
    the pass changes nothing but how the markup is written (``tests/test_build.py`` checks that the
    page written again by that pass is nbconvert's page).  Everything before it is nbconvert's own.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.html import Highlight2HTML, WidgetsDataTypeFilter
    from nbconvert.exporters.templateexporter import TemplateExporter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            # The headings of markdown cells come out of nbconvert's anchor filter as ASCII, every
            # Vietnamese letter a character reference (B&#225;o c&#225;o); the pass wrote them as
            # letters.  A reference to a character beyond ASCII means nothing else in HTML.
            return _BEYOND_ASCII.sub(lambda m: _letter(m) or m.group(0), html), resources

    return ReportExporter


def render_html(nb: nbformat.NotebookNode, *, illustrative: bool = False, title: str = "") -> str:
    """HTML of an executed notebook with the report template: no code, no prompts, nothing external."""
    readable, messages = _for_readers(nb)
    if title:
        readable.metadata["title"] = title
    for m in messages:
        log.warning("notebook stderr: %s", m)
    exporter = _exporter_class()(template_name="report", extra_template_basedirs=[str(TEMPLATES)],
                                 exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                                 embed_images=True)
    body, _ = exporter.from_notebook_node(
        readable, resources={"illustrative": illustrative, "evaluation_version": __version__})
    return body


def write_pdf(html: str, target: Path, *, base_url: Path) -> None:
    """Paged PDF (A4, page numbers, repeated table headers) from the report HTML, by WeasyPrint.

    One document, laid out in this process; :func:`write_documents` is what the builder uses.
    """
    Path(target).write_bytes(pdf_bytes(html, str(base_url)))


# -- the PDF and the Word document, in parallel (the parts: :mod:`.publish`) -----------------------


def _here(jobs: Sequence[Callable[[], T]]) -> list[T]:
    """Every job's result, made in this process: the later ones in a thread beside the first.

    The Word document's job waits mostly on pandoc, another program: it runs while WeasyPrint
    lays the PDF out here (the Python parts of both share this process).
    """
    if len(jobs) < 2:
        return [job() for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="documents") as pool:
        later = pool.submit(lambda: [job() for job in jobs[1:]])
        return [jobs[0](), *later.result()]


class Renderers:
    """Processes that make the PDF's parts and the Word document while this one makes the report's part.

    Made when a build starts: the fork server imports WeasyPrint while the notebook runs.  As many
    as the cores this build may use (``EVALUATION_CHART_WORKERS``, set by the batch, counts them:
    :func:`.charts.workers_wanted`), this process working too: on two cores the report's part here,
    the score cards and the Word document in two workers, so that a busy machine still gives the
    build its share; none with one core.  Workers end with the process that made them
    (:func:`.charts.die_with`).
    """

    def __init__(self, workers: int | None = None) -> None:
        wanted = workers_wanted() if workers is None else workers
        self.workers = wanted if wanted > 1 else 0
        self._pool: ProcessPoolExecutor | None = None
        if self.workers and "forkserver" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["weasyprint", "bs4", "evaluation.report.publish"])
            try:
                multiprocessing.forkserver.ensure_running()
                self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=die_with,
                                                 initargs=(os.getpid(),))
            except OSError as exc:
                log.warning("không khởi động được tiến trình lập PDF (%s): lập trong tiến trình này", exc)

    def run(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        """Every job's result, in order: the first made here, the next ones given to the workers.

        A worker is given one job at a time; when this process is free it takes the last job no
        worker has been given.  Should the workers die, what they had not finished is done here.
        """
        if self._pool is None or len(jobs) < 2:
            return _here(jobs)
        results: dict[int, T] = {}
        pending = list(range(1, len(jobs)))
        running: dict[int, Future[T]] = {}
        mine: int | None = 0
        while mine is not None:
            for i in [i for i, future in running.items() if future.done()]:
                results[i] = self._collect(jobs[i], running.pop(i))
            while pending and len(running) < self.workers:
                i = pending.pop(0)
                try:
                    running[i] = self._pool.submit(jobs[i])
                except BrokenProcessPool:
                    pending.insert(0, i)
                    break
            results[mine] = jobs[mine]()
            mine = pending.pop() if pending else None
        for i, future in running.items():
            results[i] = self._collect(jobs[i], future)
        return [results[i] for i in range(len(jobs))]

    @staticmethod
    def _collect(job: Callable[[], T], future: Future[T]) -> T:
        try:
            return future.result()
        except BrokenProcessPool:
            log.warning("một tiến trình lập PDF đã dừng bất thường: phần của nó được lập trong tiến trình này")
            return job()

    def close(self) -> None:
        """Stop the workers (a build that failed or was interrupted does not wait for them)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError, AttributeError):
                    process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)


def write_documents(html: str, work: Path, stem: str, *, docx: bool, renderers: Renderers | None = None) -> None:
    """``<stem>.pdf`` (and, with ``docx``, ``<stem>.docx``) in ``work`` from the report page.

    The parts of :func:`split_annexes` are laid out in parallel where cores allow, then joined
    (:func:`join_pdfs`); the Word document is made at the same time.  Same bytes with any number
    of workers.

    Raises
    ------
    ReportError
        WeasyPrint or pandoc failed.
    OSError
        A file could not be written.
    """
    parts = split_annexes(html)
    jobs = [functools.partial(pdf_bytes, part, str(work)) for part in parts]
    if docx:
        jobs.append(functools.partial(docx_bytes, html, figures=work / "figures"))
    results = (renderers or Renderers(workers=1)).run(jobs)
    (work / f"{stem}.pdf").write_bytes(join_pdfs(results[:len(parts)]))
    if docx:
        (work / f"{stem}.docx").write_bytes(results[-1])


def _name_final_folder(nb: nbformat.NotebookNode, work: Path, final: Path, notebook: Path, saved: Path) -> None:
    """In the audit log, say where the outputs end up, not the temporary folder they were made in.

    The temporary folder's name is random: left in the injected parameters it would make two
    runs' ``report.ipynb`` differ.  The path is written relative to the notebook's folder, as the
    other paths of the parameters are.
    """
    import nbformat

    shown = os.path.relpath(final, notebook.parent)
    for cell in nb.cells:
        if cell.get("id") == INJECTED_ID:
            cell.source = cell.source.replace(str(work), shown)
    nbformat.write(nb, saved)


def build_notebook(final: Path, stem: str, notebook: Path, parameters: Callable[[Path], dict[str, object]], *,
           expected: Sequence[str], title: str, illustrative: bool, kernel_name: str,
           before_swap: Callable[[Path], None] | None = None, docx: bool = False,
           font: Future[str] | None = None, parallel: bool = False, kernel=None) -> None:
    """Run ``notebook`` into a temporary folder beside ``final``, render it, then swap it into place.

    ``parameters`` receives the temporary folder (the notebook's ``output_dir``).

    One build of ``final`` at a time (a second one waits, saying which process holds the
    lock); what killed builds left beside it is removed first; the swap never leaves
    ``final`` missing (:mod:`evaluation.files`).  On any failure, interruption included,
    the temporary folder is removed, the executed notebook is kept as
    ``<final>.failed.ipynb`` beside it, and ``final`` is left as it was.
    ``docx``: also write ``<stem>.docx`` (the Word document, :func:`.publish.write_docx`).
    ``font``: the typeface check already started (:func:`font_check`), else it is made here.
    ``parallel``: the PDF has annexes worth laying out in worker processes (:class:`Renderers`);
    otherwise everything is made here, the Word document's pandoc running beside WeasyPrint.
    ``kernel``: a kernel already started (:func:`start_kernel`) to run the notebook in.

    Raises
    ------
    ReportError
        A cell or a renderer failed, or the output folder cannot hold the report (a file
        where a folder should be).
    OSError
        The output folder cannot be written (read-only, full, no permission).
    """
    _check_destination(final)
    # Before any work: a missing font is said plainly, never a silent fallback.
    font.result() if font is not None else require_font()
    final.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(final):
        remove_leftovers(final)
        work = Path(tempfile.mkdtemp(prefix=f".{final.name}.{BUILDING}-", dir=final.parent))
        failed_copy = final.parent / f"{final.name}.failed.ipynb"
        renderers = None
        try:
            # Their fork server imports WeasyPrint while the notebook runs; for a page without annexes
            # it would cost more (0.5 s of 3.5 for an empty notebook) than it saves.
            renderers = Renderers() if parallel else Renderers(workers=1)
            nb = execute(notebook, work / f"{stem}.ipynb", parameters(work), kernel_name=kernel_name,
                         kernel=kernel)
            _name_final_folder(nb, work, final, notebook, work / f"{stem}.ipynb")
            html = render_html(nb, illustrative=illustrative, title=title)
            (work / f"{stem}.html").write_text(html, encoding="utf-8")
            write_documents(html, work, stem, docx=docx, renderers=renderers)
            if before_swap is not None:
                before_swap(work)
            missing = [f for f in expected if not (work / f).exists()]
            if missing:
                raise ReportError("báo cáo thiếu tệp: " + ", ".join(missing))
            work.chmod(0o755)  # mkdtemp makes it private; a report folder is for readers
            swap_into_place(work, final)
            failed_copy.unlink(missing_ok=True)
        except OSError as exc:
            _clean_up(work, None)
            # Named where the user will look for it, not by the temporary folder's random name.
            # A failed write() names no file: then the report folder is the place to look at.
            raise OSError(exc.errno, exc.strerror, _as_final(exc.filename, work, final) or str(final),
                          None, _as_final(exc.filename2, work, final)) from exc
        except (KeyboardInterrupt, Interrupted):
            _clean_up(work, None)  # stopped on purpose: a half-run notebook is not worth keeping
            raise
        except BaseException:
            _clean_up(work, (work / f"{stem}.ipynb", failed_copy))
            raise
        finally:
            if renderers is not None:
                renderers.close()


def _clean_up(work: Path, keep: tuple[Path, Path] | None) -> None:
    if keep is not None:
        _keep_failed(*keep)
    shutil.rmtree(work, ignore_errors=True)


def _as_final(filename: object, work: Path, final: Path) -> object:
    """A path inside the temporary folder, as the same path inside the final one."""
    if filename is None:
        return None
    path = Path(os.fsdecode(filename))
    return str(final / path.relative_to(work)) if path.is_relative_to(work) else filename


def _check_destination(final: Path) -> None:
    """Refuse, before anything runs, a destination that cannot become a report folder."""
    for folder in (final.parent, *final.parent.parents):
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise ReportError(f"«{shown_path(folder)}» là một tệp, không phải thư mục: không ghi được "
                                  f"báo cáo vào «{shown_path(final)}»; chọn thư mục khác (--out) hoặc đổi tên "
                                  "tệp đó")
            break
    if (final.exists() or final.is_symlink()) and not final.is_dir():
        raise ReportError(f"«{shown_path(final)}» là một tệp, không phải thư mục báo cáo: đổi tên hoặc xóa tệp "
                          "đó rồi chạy lại (công cụ không xóa tệp của người dùng)")


def _keep_failed(executed: Path, failed_copy: Path) -> None:
    """Keep the executed notebook of a failed build as ``<final>.failed.ipynb``, if there is one.

    Moved, not copied: it needs no disk space (the disk may be full), and it is complete or absent.
    """
    try:
        if executed.is_file() and executed.stat().st_size > 0:
            os.replace(executed, failed_copy)
            log.error("sổ tay đã chạy (có lỗi) được giữ tại %s", shown_path(failed_copy))
    except OSError as exc:
        log.error("không giữ được sổ tay đã chạy: %s", describe_os_error(exc))


def year_summary(ev: Evaluation) -> dict[str, object]:
    """What the index page shows of a year: title, data kind, tiers and counts by group.

    Written beside the report as ``summary.json``, so the index describes the
    reports that are on disk, including an older one kept after a failed run.
    """
    counts = ev.counts
    return {
        "id": ev.params.id,
        "year": ev.params.year,
        "title": ev.params.params.report.title,
        "issuer": [ev.params.params.report.issuer_parent, ev.params.params.report.issuer],
        "illustrative": ev.params.params.illustrative,
        "rules": {"id": ev.rules.id, "name": ev.rules.name},
        "tiers": [{"id": t.id, "name": t.name, "short": t.short, "color": t.color} for t in ev.rules.tiers],
        "groups": [{"id": g.id, "numeral": g.numeral, "name": g.name} for g in ev.rules.groups],
        "counts": {t: {g: int(counts.at[t, g]) for g in counts.columns} for t in counts.index},
        "units": int(counts.at["total", "total"]),
        "inputs": {f: h for f, h in zip(ev.provenance["file"], ev.provenance["sha256"], strict=True)},
        "evaluation_version": __version__,
    }


def write_json(data: object, path: Path) -> None:
    """JSON as people and diff tools read it: UTF-8, sorted keys, indented, newline at the end."""
    Path(path).write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n",
                          encoding="utf-8")


def font_check() -> Future[str]:
    """:func:`.publish.require_font` in a thread: fontconfig loads its fonts (0.4 s) while the inputs are read."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="font")
    try:
        return pool.submit(require_font)
    finally:
        pool.shutdown(wait=False)  # its thread ends with its one task


def build_sources(kind: str, folder: Path, notebook: Path, kernel_name: str, **settings: object) -> dict:
    """What a build of ``folder`` depends on besides the input files it reads (recorded in ``build.json``).

    ``settings`` (the year, a data folder given on the command line…), the notebook and kernel, one
    SHA-256 of the package's code and templates and of the notebook, the package version, the Python
    version and the installed libraries (:func:`evaluation.files.environment`).  Paths are relative
    to ``folder``.
    """
    notebook = Path(notebook).resolve()
    return {"kind": kind, **settings, "notebook": os.path.relpath(notebook, folder), "kernel": kernel_name,
            "code": _code(notebook), "version": __version__, **environment()}


@functools.cache
def _code(notebook: Path) -> str:
    """One SHA-256 of the package (code, templates, styles) and the notebook; once per process."""
    return fingerprint([PACKAGE.parent, notebook], ROOT)


def input_folders(ev: Evaluation) -> list[Path]:
    """Where a year's inputs are looked for: its data folder and the registry's folders."""
    return sorted({Path(ev.params.data_dir), *(Path(p).parent for p in ev.params.registry_paths)})


def build_report(params_path: Path | str, out_root: Path | str = "outputs", *,
                 notebook: Path = NOTEBOOK, kernel_name: str = "python3",
                 data_dir: Path | str | None = None, force: bool = False) -> Built:
    """Build ``out_root/<year>/`` for one params file, unless it is up to date.

    The report in place is kept as it is (``Built.reused``) when its ``build.json`` shows that
    nothing it was made from has changed (:func:`build_sources`, every input file's SHA-256) and
    that every output is still there, byte for byte (:func:`evaluation.files.reusable`): a build
    would give the same bytes.  ``force`` builds it anyway.

    Otherwise the inputs are checked first, in this process, while the notebook's kernel starts:
    bad input raises :class:`~evaluation.errors.InputError` before any cell runs (the kernel is
    stopped at once) and nothing is written.

    Raises
    ------
    InputError
        Bad input (every problem listed).
    ReportError
        A notebook cell or a renderer failed; the previous report is untouched.
    """
    params_path = Path(params_path).resolve()
    out_root = Path(out_root).resolve()
    year = params_path.stem  # the params id, as the evaluation names it
    final = out_root / year
    sources = build_sources("report", final, notebook, kernel_name, id=year,
                            data_dir=os.path.relpath(Path(data_dir).resolve(), final) if data_dir else "")
    why = "--force" if force else reusable(final, sources)
    if why is None:
        return Built(year, final, reused=True)

    from ..engine.pipeline import evaluate, handing_down_later

    font = font_check()
    _check_destination(final)

    def parameters(work: Path) -> dict[str, object]:
        return {
            "year": year,
            "params_file": os.path.relpath(params_path, notebook.parent),
            "data_dir": os.path.relpath(Path(data_dir).resolve(), notebook.parent) if data_dir else "",
            "output_dir": str(work),
        }

    def before_swap(work: Path) -> None:
        write_json(year_summary(ev), work / SUMMARY)
        write_record(work, sources, ev.inputs.read, digests={p: d for p, (_, d) in ev.inputs.read.items()},
                     folders=input_folders(ev))

    expected = EXPECTED_FILES if Path(notebook).resolve() == NOTEBOOK.resolve() else BUILDER_FILES
    # The kernel takes the evaluation made here (it checks that the files still have the bytes it
    # was made from); should one have changed, it reads the inputs again, and must then read the
    # bytes checked here, whose checksums summary.json and the report's annex give (a file replaced
    # meanwhile fails the build).  It starts before they are checked, and imports what the notebook
    # needs meanwhile; no cell runs before it is given the evaluation.
    with handing_down_later() as give:
        kernel = start_kernel(kernel_name, notebook.parent, kernel_startup(notebook))
        try:
            ev = evaluate(params_path, data_dir=data_dir)
            give(ev)
            build_notebook(final, "report", notebook, parameters, expected=expected,
                   title=ev.params.params.report.title, illustrative=ev.params.params.illustrative,
                   kernel_name=kernel_name, before_swap=before_swap, docx=True, font=font,
                   parallel=ev.detail is not None,  # score cards: an annex of a page per few units
                   kernel=kernel)
        finally:
            stop_kernel(kernel)   # bad input, a failure before the notebook ran: not left running
    return Built(year, final, why=why)
