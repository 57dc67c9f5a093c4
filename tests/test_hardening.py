"""Hardening, round two (issue 17): the cases found by trying the tool as an attacker and as an
unlucky user would, each reproduced here, beside the bad-input corpus (``tests/badinputs/``, which
holds those that are plain files: paths out of the project, a link out of ``data/``, a hidden
sheet, an uncached formula beside an extra column, damaged XML, YAML in Vietnamese, a missing
unit beside an unmatched name).

Each run asserts its exit status, one message without a traceback, nothing quoted from a file it
must not read, and outputs left byte-identical.  Faults of the file system (read-only, full) are
injected where the first write or the clean-up meets them; the signals are real.  No test is
timed: the figures of the 20-million-row workbook are in the benchmark (``make bench``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from bench.huge import empty_rows_workbook
from evaluation.errors import InputError
from evaluation.files import build_lock, swap_into_place
from evaluation.report import build
from tests.conftest import ROOT, copy_year
from tests.corpus import run_cli, snapshot

REPORT = ["report", "--year", "2020", "--out", "outputs"]


@pytest.fixture
def project(tmp_path) -> Path:
    """A good year in ``tmp_path`` with a previous report in ``outputs/2020``."""
    copy_year(tmp_path)
    previous = tmp_path / "outputs" / "2020"
    (previous / "figures").mkdir(parents=True)
    (previous / "report.html").write_text("<p>Báo cáo lần trước</p>\n", encoding="utf-8")
    (previous / "results.csv").write_bytes(b"\xef\xbb\xbfTT,\xc4\x90\xc6\xa1n v\xe1\xbb\x8b\n1,x\n")
    (previous / "figures" / "a.svg").write_text("<svg/>", encoding="utf-8")
    return tmp_path


def one_line(run, status: int, *fragments: str) -> str:
    """The run failed with ``status`` and said so in one line holding every fragment."""
    assert run.status == status, run.stderr
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if ".building-" in p.name or ".old-" in p.name
                  or p.name.endswith(".lock"))


def failing_execute(error: BaseException):
    """A stand-in for the notebook run: writes a partly executed notebook, then fails with ``error``."""
    def execute(notebook, output, parameters, *, kernel_name="python3", **_started):
        output.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', encoding="utf-8")
        (output.parent / "figures").mkdir(exist_ok=True)
        raise error(output.parent) if callable(error) and not isinstance(error, BaseException) else error
    return execute


# -- 1. inputs that point anywhere --------------------------------------------------------------

def test_an_input_outside_the_project_is_refused_without_reading_it(project, capsys, monkeypatch):
    """``scores: ../../../etc/passwd`` (relative), beside the corpus's absolute and symlinked cases."""
    params = project / "params" / "2020.yaml"
    depth = "../" * (len(project.parts) + 3)
    params.write_text(params.read_text(encoding="utf-8").replace("scores: scores.csv",
                                                                 f"scores: {depth}etc/passwd"), encoding="utf-8")
    opened = []
    real_open = open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spy)
    before = snapshot(project / "outputs")
    run = run_cli(REPORT, project, capsys, monkeypatch)
    assert run.status == 2
    assert "Traceback" not in run.stderr and "root:" not in run.stderr
    assert run.problems == [f"params/2020.yaml, khóa «inputs.scores»: giá trị «{depth}etc/passwd» — dẫn ra ngoài "
                            f"thư mục dự án {project.resolve()} (kể cả qua liên kết tượng trưng): tệp không được đọc; "
                            "chỉ đọc tệp trong dự án hoặc trong các thư mục khai báo ở khóa «allowed_folders»"]
    assert not [f for f in opened if "passwd" in f], "not a byte of the file is read"
    assert snapshot(project / "outputs") == before


def test_a_folder_the_params_declare_may_hold_inputs(project, tmp_path_factory):
    from evaluation.engine.pipeline import load_inputs

    shared = tmp_path_factory.mktemp("shared-rules")
    shutil.move(project / "params" / "rules" / "thanh-hoa-2016.yaml", shared / "thanh-hoa-2016.yaml")
    params = project / "params" / "2020.yaml"
    text = params.read_text(encoding="utf-8").replace("rules: rules/thanh-hoa-2016.yaml",
                                                      f"rules: {shared}/thanh-hoa-2016.yaml")
    params.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="khóa «rules»: .* dẫn ra ngoài thư mục dự án"):
        load_inputs(params)
    params.write_text(text + f"allowed_folders: [{shared}]\n", encoding="utf-8")
    assert load_inputs(params).rules.id == "thanh-hoa-2016"


# -- 2. file-system faults, interruptions ------------------------------------------------------

def test_a_read_only_output_folder_is_one_line_naming_it(project, capsys, monkeypatch):
    out = project / "outputs"
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):  # what a read-only mount answers to the first write
        if str(path).startswith(str(out)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    before = snapshot(out)
    run = run_cli(REPORT, project, capsys, monkeypatch)
    one_line(run, 1, "Không lập báo cáo được", "outputs/", "ổ đĩa chỉ cho đọc, không ghi được (EROFS)")
    assert snapshot(out) == before


def test_a_full_disk_leaves_no_temporary_folder_and_no_empty_notebook(project, capsys, monkeypatch):
    """ENOSPC while building, and again in the clean-up code (copying the failed notebook)."""
    def full(work):
        return OSError(errno.ENOSPC, "No space left on device", str(work / "figures" / "diem-nhom-i.png"))

    monkeypatch.setattr(build, "execute", failing_execute(full))
    monkeypatch.setattr(shutil, "copyfile", lambda *a, **k: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    out = project / "outputs"
    before = snapshot(out / "2020")
    run = run_cli(REPORT, project, capsys, monkeypatch)
    one_line(run, 1, "«outputs/2020/figures/diem-nhom-i.png»", "hết chỗ trống trên đĩa (ENOSPC)")
    assert snapshot(out / "2020") == before
    assert leftovers(out) == []
    failed = out / "2020.failed.ipynb"
    assert not failed.exists() or failed.stat().st_size > 0, "never a 0-byte notebook"


def test_out_that_is_a_file_is_refused_and_left_alone(project, capsys, monkeypatch):
    target = project / "not-a-folder"
    target.write_bytes(b"tep cua nguoi dung\n")
    run = run_cli(["report", "--year", "2020", "--out", "not-a-folder"], project, capsys, monkeypatch)
    one_line(run, 1, "«not-a-folder» là một tệp, không phải thư mục")
    assert target.read_bytes() == b"tep cua nguoi dung\n"


def test_a_file_where_the_year_folder_goes_is_refused_not_moved_aside(project, capsys, monkeypatch):
    out = project / "outputs"
    shutil.rmtree(out / "2020")
    (out / "2020").write_bytes(b"ghi chu cua nguoi dung\n")
    monkeypatch.setattr(build, "execute", lambda *a, **k: pytest.fail("no kernel may start"))
    run = run_cli(REPORT, project, capsys, monkeypatch)
    one_line(run, 1, "«outputs/2020» là một tệp, không phải thư mục báo cáo", "không xóa tệp của người dùng")
    assert (out / "2020").read_bytes() == b"ghi chu cua nguoi dung\n"
    assert sorted(p.name for p in out.iterdir()) == ["2020"]


def test_ctrl_c_is_one_line_exit_3_and_nothing_half_written(project, capsys, monkeypatch):
    monkeypatch.setattr(build, "execute", failing_execute(KeyboardInterrupt()))
    out = project / "outputs"
    before = snapshot(out)
    run = run_cli(REPORT, project, capsys, monkeypatch)
    one_line(run, 3, "Đã dừng (Ctrl-C) khi đang lập báo cáo", "báo cáo trước đó giữ nguyên")
    assert snapshot(out) == before


def test_debug_shows_the_traceback(project, capsys, monkeypatch):
    monkeypatch.setattr(build, "execute", failing_execute(KeyboardInterrupt()))
    run = run_cli(["--debug", *REPORT], project, capsys, monkeypatch)
    assert run.status == 3
    assert "Traceback" in run.stderr and "KeyboardInterrupt" in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("Đã dừng (Ctrl-C)")


def test_leftovers_of_killed_runs_are_removed_by_the_next_run(project, capsys, monkeypatch):
    out = project / "outputs"
    (out / ".2020.building-k1ll3d" / "figures").mkdir(parents=True)
    (out / ".2020.building-k1ll3d" / "report.ipynb").write_text("{}", encoding="utf-8")
    (out / ".2020.old-4242").mkdir()
    (out / ".2020.lock").write_text("4242", encoding="utf-8")  # a killed holder's file: its flock went with it
    (out / ".2021.building-other").mkdir()  # another year's: not this run's business
    monkeypatch.setattr(build, "execute", failing_execute(KeyboardInterrupt()))
    run_cli(REPORT, project, capsys, monkeypatch)
    assert sorted(p.name for p in out.iterdir()) == [".2021.building-other", "2020"]


# -- 3. one build at a time, and a swap that never leaves the folder missing --------------------

def test_a_second_build_says_who_holds_the_lock_and_waits(tmp_path):
    final = tmp_path / "2020"
    script = ("import sys; from pathlib import Path; from evaluation.files import build_lock\n"
              "with build_lock(Path(sys.argv[1])):\n    print('got it', flush=True)\n")
    with build_lock(final):
        child = subprocess.Popen([sys.executable, "-c", script, str(final)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, cwd=ROOT)
        said = child.stderr.readline()
        assert said == f"«2020» đang được một lần chạy khác lập (tiến trình {os.getpid()}): chờ lần chạy đó xong…\n"
        time.sleep(0.5)
        assert child.poll() is None, "it waits"
    out, _ = child.communicate(timeout=60)
    assert out == "got it\n" and child.returncode == 0
    assert list(tmp_path.iterdir()) == []


def test_the_swap_never_leaves_the_final_folder_missing(tmp_path):
    final = tmp_path / "2020"
    final.mkdir()
    (final / "report.html").write_text("0", encoding="utf-8")
    missing = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            if not (final / "report.html").exists():
                missing.append(time.perf_counter())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(1, 201):
            new = tmp_path / f".2020.building-{i}"
            new.mkdir()
            (new / "report.html").write_text(str(i), encoding="utf-8")
            swap_into_place(new, final)
    finally:
        done.set()
        watcher.join()
    assert missing == []
    assert (final / "report.html").read_text(encoding="utf-8") == "200"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2020"]


def _tiny_notebook(folder: Path) -> Path:
    """The report notebook's parameters cell and one line: a real kernel, in a few seconds."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    report = nbformat.read(build.NOTEBOOK, as_version=4)
    params = next(c for c in report.cells if "parameters" in c.metadata.get("tags", []))
    nb = new_notebook(cells=[new_code_cell(params.source, id="parameters", metadata={"tags": ["parameters"]}),
                             new_code_cell("import time; time.sleep(1)", id="wait"),
                             new_markdown_cell("## Báo cáo rút gọn", id="own")], metadata=report.metadata)
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def _cli(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "evaluation", *args], cwd=project, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            # two chart workers, whatever the machine: the signal tests wait for them
                            env={**os.environ, "PYTHONPATH": str(ROOT), "EVALUATION_CHART_WORKERS": "2"})


@pytest.mark.slow
def test_two_reports_of_one_year_at_once(project):
    out = project / "outputs"
    notebook = _tiny_notebook(project)
    missing = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            if not (out / "2020" / "report.html").exists():
                missing.append(time.perf_counter())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        first = _cli(project, *REPORT, "--notebook", str(notebook))
        time.sleep(0.3)
        second = _cli(project, *REPORT, "--notebook", str(notebook))
        results = [p.communicate(timeout=300) for p in (first, second)]
    finally:
        done.set()
        watcher.join()
    assert [p.returncode for p in (first, second)] == [0, 0], results
    assert "đang được một lần chạy khác lập" in results[0][1] + results[1][1], "the later one waited"
    assert all("Traceback" not in err for _, err in results)
    assert missing == [], "the year folder was never missing"
    assert leftovers(out) == []
    assert "Báo cáo rút gọn" in (out / "2020" / "report.html").read_text(encoding="utf-8")


# -- 4. signals on a real run: nothing left behind, chart workers included ---------------------------

def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def _cmdline(pid: int) -> bytes:
    """A process's command line, or nothing when it ended between listing and reading."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _started_charts(process: subprocess.Popen, out: Path, timeout: float = 120) -> set[int]:
    """Wait until the run's kernel draws charts (its worker processes exist); return every descendant."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = _descendants(process.pid)
        workers = [p for p in tree if b"forkserver" in _cmdline(p)]
        if len(workers) >= 2 and list(out.glob(".2020.building-*")):
            folders = set()
            for pid in tree:
                with contextlib.suppress(OSError):
                    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    folders |= {Path(os.fsdecode(a)).parent for a in args if a.endswith(b"/kernel.json")
                                and b"evaluation-kernel-" in a}
            _KERNEL_FOLDERS[frozenset(tree)] = folders
            return tree
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    pytest.fail("the report never started drawing its charts")


def _kernel_folders(pids: set[int]) -> set[Path]:
    """The private folders (``evaluation-kernel-*``) of the kernels among ``pids``, read before they ended."""
    return _KERNEL_FOLDERS.get(frozenset(pids), set())


_KERNEL_FOLDERS: dict[frozenset[int], set[Path]] = {}


def _gone(pids: set[int], timeout: float = 20) -> set[int]:
    deadline = time.monotonic() + timeout
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _alive(pids)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_sigterm_is_a_clean_stop(project):
    out = project / "outputs"
    before = snapshot(out)
    process = _cli(project, *REPORT)
    tree = _started_charts(process, out)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 3, err
    assert err.strip() == ("Đã dừng (tín hiệu SIGTERM) khi đang lập báo cáo: không có gì được ghi dở dang, "
                           "báo cáo trước đó giữ nguyên.")
    assert _gone(tree) == set(), "the kernel and the chart workers stop with the command"
    assert snapshot(out) == before


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_after_sigkill_the_workers_die_and_the_next_run_cleans_up(project, capsys, monkeypatch):
    out = project / "outputs"
    before = snapshot(out / "2020")
    process = _cli(project, *REPORT)
    tree = _started_charts(process, out)
    process.kill()
    process.communicate(timeout=60)
    # The kernel notices its parent is gone (ipykernel polls every second); its chart workers and
    # their fork server follow at once (they were living on for minutes, ~400 MB).
    assert _gone(tree) == set()
    # The killed command could not remove its kernel's private socket folder: the test does.
    for folder in _kernel_folders(tree):
        shutil.rmtree(folder, ignore_errors=True)
    assert snapshot(out / "2020") == before
    assert list(out.glob(".2020.building-*")), "a killed run cannot clean up"
    monkeypatch.setattr(build, "execute", failing_execute(KeyboardInterrupt()))
    run_cli(REPORT, project, capsys, monkeypatch)
    assert leftovers(out) == [], "the next run removes what the killed one left"
    assert snapshot(out / "2020") == before


# -- 5. provenance from the bytes that were read -------------------------------------------------

def test_provenance_is_the_checksum_of_the_bytes_parsed_not_a_second_read(project, monkeypatch):
    from evaluation.engine.pipeline import evaluate
    from evaluation.inputs import provenance
    from evaluation.inputs.provenance import sha256

    expected = sha256(project / "data" / "2020" / "scores.csv")
    monkeypatch.setattr(provenance, "sha256", lambda path: pytest.fail(f"{path} read again to hash it"))
    ev = evaluate(project / "params" / "2020.yaml")
    row = ev.provenance.set_index("file").loc["data/2020/scores.csv"]
    assert row["sha256"] == expected


def test_a_kernel_refuses_inputs_that_changed_since_the_command_checked_them(project, monkeypatch):
    from evaluation.engine.pipeline import load_inputs
    from evaluation.inputs.provenance import pinned

    monkeypatch.chdir(project)
    params = project / "params" / "2020.yaml"
    checked = load_inputs(params)
    scores = project / "data" / "2020" / "scores.csv"
    scores.write_text(scores.read_text(encoding="utf-8").replace("2,Sở Tài chính,98,92.9", "2,Sở Tài chính,98,99.9"),
                      encoding="utf-8")
    with pinned(checked.read), pytest.raises(InputError) as info:
        load_inputs(params)
    assert [str(p).split(" (")[0] for p in info.value.problems] == [
        "data/2020/scores.csv — tệp đã bị thay đổi trong khi lập báo cáo"]
    assert load_inputs(params).tables["scores"].rows_used == 61, "without pins: the new file, read as such"


@pytest.mark.slow
def test_an_input_replaced_while_the_report_runs_fails_the_build(project, capsys, monkeypatch):
    """Was: the data and the HTML used the new file, summary.json kept the old SHA-256."""
    scores = project / "data" / "2020" / "scores.csv"
    real_execute = build.execute

    def replace_then_execute(*args, **kwargs):
        scores.write_text(scores.read_text(encoding="utf-8").replace("2,Sở Tài chính,98,92.9",
                                                                     "2,Sở Tài chính,98,99.9"), encoding="utf-8")
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(build, "execute", replace_then_execute)
    out = project / "outputs"
    before = snapshot(out / "2020")
    run = run_cli(REPORT, project, capsys, monkeypatch)
    one_line(run, 1, "Không lập được báo cáo", "data/2020/scores.csv", "tệp đã bị thay đổi trong khi lập báo cáo")
    assert snapshot(out / "2020") == before
    assert leftovers(out) == []


# -- 6. limits that bound memory and time ----------------------------------------------------------

def test_a_workbook_of_20_million_empty_rows_is_refused(project, capsys, monkeypatch):
    """182 KB zipped; once 124 s and 6.5 GB.  Its time and memory are measured by ``make bench``."""
    empty_rows_workbook(project / "data" / "2020" / "scores.xlsx")
    params = project / "params" / "2020.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("scores: scores.csv", "scores: scores.xlsx"),
                      encoding="utf-8")
    before = snapshot(project / "outputs")
    run = run_cli(REPORT, project, capsys, monkeypatch)
    assert run.status == 2 and "Traceback" not in run.stderr
    assert run.problems == ["data/2020/scores.xlsx: giá trị «Điểm» — bảng có 19.999.999 dòng (giới hạn 500.000 dòng "
                            "số liệu mỗi tệp hoặc mỗi trang tính): có lẽ nhầm tệp, hoặc cần tách theo năm/nhóm"]
    assert snapshot(project / "outputs") == before


def test_200000_bad_rows_print_50_lines_and_a_count(project, capsys, monkeypatch):
    lines = ["TT,Đơn vị,Điểm tự chấm,Điểm đánh giá"] + [f"{i},Sở Tài chính,98,{i}x" for i in range(200_000)]
    (project / "data" / "2020" / "scores.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = run_cli(["validate", "--year", "2020"], project, capsys, monkeypatch)
    assert run.status == 2 and "Traceback" not in run.stderr
    err = run.stderr.splitlines()
    # Each row: not a number, and (but the first) a duplicate of row 2; plus the 60 units without a row.
    assert err[0] == "Dữ liệu vào có 400.059 lỗi:"
    assert len(run.problems) == 50
    assert err[51] == "  … và 400.009 lỗi khác trong data/2020/scores.csv (chỉ in 50 lỗi đầu của mỗi tệp)"
    assert err[52:] == ["data/2020/scores.csv: 200000 dòng dữ liệu — 0 dòng hợp lệ được giữ, 200000 dòng bị loại "
                        "(xem các lỗi ở trên)"]


def test_a_csv_wider_than_the_limit_stops_at_its_first_wide_row(project, capsys, monkeypatch):
    rows = "TT,Đơn vị,Điểm tự chấm,Điểm đánh giá\n1,Sở Tài chính,98,92.9" + ",x" * 200_000 + "\n"
    (project / "data" / "2020" / "scores.csv").write_text(rows, encoding="utf-8")
    run = run_cli(["validate", "--year", "2020"], project, capsys, monkeypatch)
    assert run.status == 2
    assert run.problems == ["data/2020/scores.csv, dòng 2 — bảng có 200.004 cột (giới hạn 100 cột): có lẽ nhầm tệp, "
                            "hoặc các cột thừa ở bên phải cần được xóa"]


# -- 7. every message in Vietnamese -----------------------------------------------------------------

@pytest.mark.parametrize(("change", "expected"), [
    ({"max_ratio": -0.2}, "giả định (what-if), cột «max_ratio»: giá trị «-0.2» — cần lớn hơn 0"),
    ({"max_ratio": "hai mươi"}, "giả định (what-if), cột «max_ratio»: giá trị «hai mươi» — cần một số"),
    ({"max_ratio": 0.2, "scope": "tinh"}, "giả định (what-if), cột «scope»: giá trị «tinh» — cần một trong các "
                                          "giá trị: «all» hoặc «group»"),
])
def test_a_bad_what_if_quota_is_said_in_vietnamese(evaluation_2020, change, expected):
    from evaluation.engine.whatif import with_quota

    with pytest.raises(InputError) as info:
        with_quota(evaluation_2020.rules, "xuat_sac", **change)
    assert len(info.value.problems) == 1 and str(info.value.problems[0]).startswith(expected)
