"""Building a report, without running it: what reaches papermill, and when nothing must; the kernel it starts."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from pathlib import Path

import nbformat
import numpy as np
import pytest

from evaluation.errors import ReportError
from evaluation.report import build
from evaluation.report.build import TRANSPORT, IsolatedKernelManager, check_parameters, declared_parameters
from tests.conftest import PARAMS_2020, ROOT

GOOD = {"year": "2020", "params_file": "../params/2020.yaml", "data_dir": "", "output_dir": "/tmp/x",
        "near_bound": 1.0, "top_gaps": 10}


class Sneaky(str):
    def encode(self, *args, **kwargs):  # what papermill calls to write a string into code
        return b'"; import os; os.system("touch pwned"); "'


def test_plain_parameters_pass():
    check_parameters(GOOD, declared_parameters(nbformat.read(build.NOTEBOOK, as_version=4)))
    check_parameters({"a": None, "b": [1, 2.5, "x", True, None], "c": (1, 2), "d": float("nan")})


@pytest.mark.parametrize("value", [
    {"k": "v"}, {1, 2}, b"bytes", object(), [[1]], [{"k": 1}], Sneaky("x"), np.float64(1.0), np.str_("x"),
    print, ROOT,
], ids=["dict", "set", "bytes", "object", "nested-list", "list-of-dict", "str-subclass", "numpy-float",
        "numpy-str", "function", "path"])
def test_values_that_are_not_plain_data_are_refused(value):
    with pytest.raises(ReportError, match="tham số không phải dữ liệu thuần"):
        check_parameters({"year": value})


@pytest.mark.parametrize("name", ["class", "__builtins__", "_private", "a-b", "1x", "", 3])
def test_names_that_are_not_plain_variables_are_refused(name):
    # "__builtins__ = ..." or "class = ..." injected into the kernel would be code, not data.
    with pytest.raises(ReportError):
        check_parameters({name: "x"})


def test_names_the_notebook_does_not_declare_are_refused():
    declared = declared_parameters(nbformat.read(build.NOTEBOOK, as_version=4))
    assert declared == set(GOOD)
    with pytest.raises(ReportError, match="không có trong ô «parameters» của sổ tay: ev"):
        check_parameters({**GOOD, "ev": "x"}, declared)


def test_a_notebook_without_a_parameters_cell_is_refused(tmp_path, monkeypatch):
    import papermill

    nb = nbformat.read(build.NOTEBOOK, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    path = tmp_path / "report.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("papermill was called"))
    with pytest.raises(ReportError, match="không có ô gắn thẻ «parameters»"):
        build.execute(path, tmp_path / "out.ipynb", {"year": "2020"})


def test_bad_parameters_never_reach_papermill(tmp_path, monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("papermill was called"))
    with pytest.raises(ReportError):
        build.execute(build.NOTEBOOK, tmp_path / "out.ipynb", {**GOOD, "year": Sneaky("2020")})
    assert not (tmp_path / "out.ipynb").exists()


def test_every_build_checks_exactly_what_papermill_receives(tmp_path, monkeypatch):
    import papermill

    calls = []
    real_check = build.check_parameters

    def spy_check(parameters, declared=None):
        calls.append(("check", dict(parameters), declared))
        real_check(parameters, declared)

    def fake_papermill(notebook, output, parameters, **kwargs):
        calls.append(("papermill", dict(parameters), None))
        raise RuntimeError("stop here: only the order of calls matters")

    monkeypatch.setattr(build, "check_parameters", spy_check)
    monkeypatch.setattr(papermill, "execute_notebook", fake_papermill)
    with pytest.raises(RuntimeError, match="stop here"):
        build.build_report(PARAMS_2020, tmp_path)
    assert [c[0] for c in calls] == ["check", "papermill"]
    assert calls[0][1] == calls[1][1]
    assert calls[0][2] == set(GOOD)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "the failed build left nothing behind"


@pytest.mark.slow
def test_a_province_s_own_notebook_builds_with_the_builders_files_only(tmp_path, capsys):
    """--notebook: another report notebook; the builder checks only what it writes itself."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from evaluation.cli import main

    report = nbformat.read(build.NOTEBOOK, as_version=4)
    params = next(c for c in report.cells if "parameters" in c.metadata.get("tags", []))
    nb = new_notebook(cells=[new_code_cell(params.source, id="parameters", metadata={"tags": ["parameters"]}),
                             new_markdown_cell("## Báo cáo rút gọn của tỉnh", id="own")],
                      metadata=report.metadata)
    own = tmp_path / "rut-gon.ipynb"
    nbformat.write(nb, own)
    out = tmp_path / "out"
    assert main(["--params-dir", str(ROOT / "params"), "report", "--year", "2020", "--out", str(out),
                 "--notebook", str(own)]) == 0
    folder = out / "2020"
    assert "Báo cáo rút gọn của tỉnh" in (folder / "report.html").read_text(encoding="utf-8")
    assert {p.name for p in folder.iterdir()} == {"report.ipynb", "report.html", "report.pdf", "report.docx",
                                                   "summary.json", "build.json"}


# -- the kernel: kernels started at the same moment each get private sockets (papermill #511) ---------


async def _start_run_stop(n: int) -> list[tuple[dict, str, str, bool]]:
    managers = [IsolatedKernelManager(kernel_name="python3") for _ in range(n)]
    await asyncio.gather(*(km.start_kernel(extra_arguments=["--IPKernelApp.log_level=ERROR"]) for km in managers))
    seen = []
    try:
        for km in managers:
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive("import os; print(os.getpid())", timeout=60)
            kc.stop_channels()
            folder = Path(km.connection_file).parent
            private = stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0   # no access for group or others
            seen.append((km.get_connection_info(), reply["content"]["status"], str(folder), private))
    finally:
        await asyncio.gather(*(km.shutdown_kernel(now=True) for km in managers))
    return seen


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="Unix domain sockets")
def test_kernels_started_together_use_private_sockets_and_clean_up():
    assert TRANSPORT == "ipc"
    seen = asyncio.run(_start_run_stop(4))
    assert [status for _, status, _, _ in seen] == ["ok"] * 4
    assert all(info["transport"] == "ipc" for info, _, _, _ in seen)
    folders = [folder for _, _, folder, _ in seen]
    assert len(set(folders)) == 4 and all(Path(f).name.startswith("evaluation-kernel-") for f in folders)
    assert all(private for *_, private in seen), "only this user can reach the sockets"
    assert all(info["ip"].startswith(folder) for (info, _, folder, _) in seen)
    assert not any(Path(f).exists() for f in folders), "socket folders removed at shutdown"


def test_the_page_writes_vietnamese_letters_as_letters_not_character_references():
    """nbconvert's anchor filter writes a heading's letters as references (B&#225;o); the page has
    them as letters again, and keeps every reference that means something else."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Báo cáo rút gọn"), nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": "<p>a &#60;b&#62; &#150; &#x1EA1; &amp;</p>"})])]
    html = build.render_html(nb, title="Thử")
    assert re.search(r"<h2 [^>]*>Báo cáo rút gọn<", html)
    assert "&#" not in html.split("<p>a ")[0]                 # no reference before the output's own
    assert "<p>a &#60;b&#62; &#150; ạ &amp;</p>" in html      # markup and Windows-1252 references kept


@pytest.mark.slow
def test_a_kernel_started_early_has_imported_the_report_s_modules_runs_the_notebook_and_stops(tmp_path):
    """The command starts the kernel before checking the inputs; the notebook then runs in it."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell("year = ''", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    "import sys, multiprocessing.forkserver as fs\n"
                    "print(sorted(m for m in sys.modules if m.startswith('evaluation.report.present')),\n"
                    "      [n for n in ('IPython', 'evaluation') if n in dir()], fs._forkserver._forkserver_pid is not None)")]
    notebook = tmp_path / "early.ipynb"
    nbformat.write(nb, notebook)
    env = {"EVALUATION_CHART_WORKERS": "2"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        km = build.start_kernel("python3", tmp_path, build.kernel_startup(build.NOTEBOOK))
        try:
            out = build.execute(notebook, tmp_path / "out.ipynb", {"year": "2026"}, kernel=km)
        finally:
            build.stop_kernel(km)
    text = out.cells[-1].outputs[0]["text"]
    assert ("['evaluation.report.present', 'evaluation.report.present_collect', 'evaluation.report.present_detail', "
            "'evaluation.report.present_sensitivity'] [] True") in text     # imported; no name left bound
    assert not km.has_kernel                                                 # stopped when the notebook ended


@pytest.mark.slow
def test_bad_input_stops_the_kernel_started_meanwhile(tmp_path, monkeypatch):
    from evaluation.errors import InputError
    from tests.conftest import copy_year

    params = copy_year(tmp_path, scores="tt,ten,diem\n1,x,abc\n")
    started = []
    real = build.start_kernel
    monkeypatch.setattr(build, "start_kernel", lambda *a, **k: started.append(real(*a, **k)) or started[-1])
    monkeypatch.setattr(build, "execute", lambda *a, **k: pytest.fail("no notebook may run"))
    with pytest.raises(InputError):
        build.build_report(params, tmp_path / "outputs")
    assert len(started) == 1 and not started[0].has_kernel
    assert not (tmp_path / "outputs" / "2020").exists()
