"""Every year in one batch: parallel kernels, a broken year failing alone, the index, the comparison."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from evaluation.cli import main
from evaluation.engine.pipeline import evaluate
from evaluation.report.build import NOTEBOOK, SUMMARY
from evaluation.years.batch import BatchResult, _run_tasks, _year_task, choose_comparison, run_batch
from evaluation.years.build_compare import build_comparison
from tests.conftest import FIXTURES, ROOT, copy_year

BROKEN_SCORES = "TT,Đơn vị,Điểm tự chấm,Điểm đánh giá\n1,A1,99,120\n2,Không có đơn vị này,90,80\n"


def _series_with_a_broken_year(root: Path) -> Path:
    """The fixture series 2031–2033 and a year 2034 whose scores are wrong."""
    shutil.copytree(FIXTURES, root / "fixtures")
    params = root / "fixtures" / "years" / "series" / "params"
    (params.parent / "data" / "2034").mkdir()
    (params.parent / "data" / "2034" / "scores.csv").write_text(BROKEN_SCORES, encoding="utf-8")
    text = (params / "2033.yaml").read_text(encoding="utf-8")
    text = text.replace("year: 2033", "year: 2034").replace("data/2033", "data/2034")
    (params / "2034.yaml").write_text(text, encoding="utf-8")
    return params


def _kernel_folders() -> set[str]:
    """The kernel folders in the temporary folder, but those a live process is using.

    The machine is shared: another developer's report may be running a kernel right now, in a
    folder of its own that this run did not make (its kernel's command line names it).
    """
    found = {p.name for p in Path(tempfile.gettempdir()).glob("evaluation-kernel-*")}
    in_use = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            in_use |= set(re.findall(r"evaluation-kernel-[A-Za-z0-9_]+", cmdline.read_bytes().decode(errors="replace")))
        except OSError:  # the process ended meanwhile
            continue
    return found - in_use


def _left_behind(before: set[str]) -> set[str]:
    """Kernel folders made since ``before`` that no live process uses (other developers' kernels share /tmp)."""
    import time

    for _ in range(10):
        in_use = set()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                in_use |= {part for part in cmdline.read_bytes().decode(errors="replace").split("/")
                           if part.startswith("evaluation-kernel-")}
            except OSError:
                continue
        left = _kernel_folders() - before - in_use
        if not left:
            return left
        time.sleep(1)  # a kernel starting or ending right now: look again
    return left


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    params = _series_with_a_broken_year(root)
    out = root / "out"
    previous = out / "2034"          # an earlier good report of 2034 must survive the failed run
    previous.mkdir(parents=True)
    (previous / "report.html").write_text("<p>báo cáo cũ</p>", encoding="utf-8")
    shutil.copyfile(params.parent / "data" / "units.csv", previous / "units.csv")
    before = _snapshot(previous)
    kernels_before = _kernel_folders()
    stream = io.StringIO()
    result = run_batch(sorted(params.glob("*.yaml")), out, jobs=3, stream=stream)
    return {"result": result, "log": stream.getvalue(), "out": out, "params": params,
            "previous_before": before, "kernels_before": kernels_before}


@pytest.mark.slow
def test_the_broken_year_fails_alone_with_its_name(batch):
    result, log = batch["result"], batch["log"]
    outcomes = {o.name: o for o in result.outcomes}
    assert set(outcomes) == {"2031", "2032", "2033", "2034", "so sánh 2031-2033"}
    assert [n for n, o in outcomes.items() if not o.ok] == ["2034"]
    broken = outcomes["2034"]
    assert broken.input_error
    assert "scores.csv, dòng 2, cột «Điểm đánh giá»: giá trị «120»" in broken.message
    assert "Không có đơn vị này" in broken.message, "every problem of the year, together"
    assert "[2034] LỖI — không lập báo cáo:" in log
    assert log.rstrip().endswith("Các năm không lập được báo cáo: 2034")
    assert result.exit_status == 2
    for year in ("2031", "2032", "2033"):
        assert (batch["out"] / year / "report.html").is_file() and (batch["out"] / year / "report.pdf").is_file()
        assert (batch["out"] / year / SUMMARY).is_file()
    assert _snapshot(batch["out"] / "2034") == batch["previous_before"], "the earlier report is untouched"


@pytest.mark.slow
def test_years_run_at_the_same_time_each_with_its_own_kernel(batch):
    log = batch["log"]
    assert "Lập 4 báo cáo, 3 tiến trình song song." in log
    events = re.findall(r"^\[([^\]]+)\] (bắt đầu|xong sau [\d,]+ s)", log, flags=re.M)
    first_done = next(i for i, (_, what) in enumerate(events) if what.startswith("xong"))
    assert sum(what == "bắt đầu" for _, what in events[:first_done]) == 3, "three kernels started together"
    assert sum(what.startswith("xong") for _, what in events) == 4
    # Kernels spoke over private sockets in folders of their own, all removed afterwards.
    assert _left_behind(batch["kernels_before"]) == set()
    assert not list(batch["out"].rglob(".*building*"))


@pytest.mark.slow
def test_the_index_lists_every_year_and_the_comparison(batch):
    page = (batch["out"] / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    for year in ("2031", "2032", "2033"):
        assert f'href="{year}/report.html"' in page and f'href="{year}/report.pdf"' in page
    assert "2033 Báo cáo thử nghiệm năm 2033 HTML · PDF · Word · CSV · Excel 1 5 4 0 10" in text
    # 2034 failed, and its earlier report (made before summaries existed) is still linked, with a note.
    assert 'href="2034/report.html"' in page
    assert ("2034 báo cáo lập bằng phiên bản trước, không có số liệu tổng hợp HTML · PDF · Word · CSV · Excel "
            "Lần lập gần nhất bị lỗi") in text
    assert text.index("2031 Báo cáo") < text.index("2034 báo cáo"), "in the order of the years"
    assert 'href="compare/2031-2033/compare.html"' in page
    assert "Các năm 2031, 2032, 2033: HTML · PDF · CSV (quy định khác nhau giữa năm 2032 và 2033)" in text


@pytest.mark.slow
def test_the_comparison_report(batch):
    folder = batch["out"] / "compare" / "2031-2033"
    for name in ("compare.html", "compare.pdf", "compare.ipynb", "changes.csv", "figures/so-sanh-a.svg",
                 "figures/so-sanh-b.svg", SUMMARY):
        assert (folder / name).exists(), name
    html = (folder / "compare.html").read_text(encoding="utf-8")
    assert "Quy định năm 2032 và năm 2033 khác nhau" in html
    assert "Quy định năm 2031 và năm 2032 khác nhau" not in html
    assert "đổi tên, năm 2031 là A5" in html
    assert "mới năm 2032" in html and "không còn năm 2031" in html
    assert "<script" not in html.lower()
    nb = nbformat.read(folder / "compare.ipynb", as_version=4)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    from pypdf import PdfReader

    text = " ".join(" ".join(page.extract_text() for page in PdfReader(folder / "compare.pdf").pages).split())
    assert "Quy định năm 2032 và năm 2033 khác nhau" in text
    assert "Ngưỡng xếp loại khác nhau: «Tốt» từ 70 (năm 2032) và từ 75 (năm 2033)." in text


@pytest.mark.slow
def test_the_comparison_is_reproducible(batch, tmp_path):
    params = batch["params"]
    again = build_comparison([params / f"{y}.yaml" for y in (2033, 2031, 2032)], tmp_path)
    first = batch["out"] / "compare" / "2031-2033"
    assert again.folder.name == "2031-2033", "years are put in order whatever order they are given in"
    assert again.html.read_text(encoding="utf-8") == (first / "compare.html").read_text(encoding="utf-8")
    assert (again.folder / "changes.csv").read_bytes() == (first / "changes.csv").read_bytes()
    for svg in (first / "figures").glob("*.svg"):
        assert (again.folder / "figures" / svg.name).read_bytes() == svg.read_bytes(), svg.name


@pytest.mark.slow
def test_a_year_failing_in_its_notebook_does_not_stop_the_other(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.id == "summary")
    cell.source = "raise ValueError('hỏng có chủ ý')\n" + cell.source
    broken = ROOT / "notebooks" / f".broken-batch-{tmp_path.name}.ipynb"
    nbformat.write(nb, broken)
    series = FIXTURES / "years" / "series" / "params"
    stream = io.StringIO()
    try:
        outcomes = _run_tasks([("2031", _year_task, (str(series / "2031.yaml"), str(tmp_path), str(broken))),
                               ("2032", _year_task, (str(series / "2032.yaml"), str(tmp_path), str(NOTEBOOK)))],
                              2, stream)
    finally:
        broken.unlink()
    result = {o.name: o for o in outcomes}
    assert not result["2031"].ok and not result["2031"].input_error
    assert "«summary»" in result["2031"].message and "hỏng có chủ ý" in result["2031"].message
    assert result["2032"].ok and (tmp_path / "2032" / "report.pdf").is_file()
    assert not (tmp_path / "2031").exists() and (tmp_path / "2031.failed.ipynb").exists()
    assert "[2031] LỖI sau" in stream.getvalue()


@pytest.mark.slow
def test_a_fresh_clone_with_one_year_builds_it_and_skips_the_comparison(tmp_path, capsys):
    params = copy_year(tmp_path).parent
    for other in params.glob("*.yaml"):
        if other.stem != "2020":
            other.unlink()   # a clone with one year of data (the illustrative year is a second one)
    assert main(["--params-dir", str(params), "report", "--all", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "So sánh qua các năm: bỏ qua — cần ít nhất hai năm có dữ liệu hợp lệ (hiện có: 2020)." in err
    assert (tmp_path / "out" / "2020" / "report.pdf").is_file()
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="2020/report.html"' in page and "Chưa có báo cáo so sánh" in page
    assert not (tmp_path / "out" / "compare").exists()


def test_the_command_line_names_a_broken_year_and_fails(tmp_path, capsys):
    params = _series_with_a_broken_year(tmp_path)
    for year in ("2031", "2032", "2033"):
        (params / f"{year}.yaml").unlink()   # only the broken year: no kernel needed to see it fail
    status = main(["--params-dir", str(params), "report", "--all", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert "Các năm không lập được báo cáo: 2034" in err and "giá trị «120»" in err
    assert (tmp_path / "out" / "index.html").is_file()


def test_the_comparison_prefers_real_data_to_illustrative_for_the_same_year(tmp_path):
    params = _series_with_a_broken_year(tmp_path)
    text = (params / "2032.yaml").read_text(encoding="utf-8")
    (params / "example-2032.yaml").write_text(text + "illustrative: true\n", encoding="utf-8")
    years = [evaluate(params / name) for name in ("example-2032.yaml", "2031.yaml", "2032.yaml")]
    chosen, notes = choose_comparison(years)
    assert [ev.params.id for ev in chosen] == ["2031", "2032"]
    assert notes == ["example-2032: không đưa vào so sánh — đã có 2032 cho năm 2032 "
                     "(dữ liệu thật được ưu tiên hơn dữ liệu minh họa)"]


# -- rebuilding only what changed ------------------------------------------------------------------


def _state(out: Path) -> dict[str, tuple[int, dict[str, bytes]]]:
    """Each built folder (a year, the comparison, the index) as its inode and its files' bytes.

    A folder built again is swapped into place whole: a new inode, even when its bytes are the same.
    """
    folders = {"2031": out / "2031", "2032": out / "2032", "compare": out / "compare" / "2031-2032"}
    state = {name: (folder.stat().st_ino, _snapshot(folder)) for name, folder in folders.items()}
    index = out / "index.html"
    state["index"] = (index.stat().st_ino, {"index.html": index.read_bytes()})
    return state


def _rebuilt(before: dict, after: dict) -> set[str]:
    return {name for name in before if before[name][0] != after[name][0]}


@pytest.mark.slow
def test_only_what_changed_is_built_again_and_every_way_gives_the_same_bytes(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    params = tmp_path / "fixtures" / "years" / "series" / "params"
    (params / "2033.yaml").unlink()
    out = tmp_path / "out"

    def run(*extra: str) -> tuple[BatchResult, str]:
        stream = io.StringIO()
        result = run_batch(sorted(params.glob("*.yaml")), out, jobs=2, stream=stream, force="--force" in extra)
        assert result.exit_status == 0, stream.getvalue()
        return result, stream.getvalue()

    run()
    first = _state(out)
    assert (out / "2031" / "build.json").is_file() and (out / "index.build.json").is_file()

    # Nothing changed: nothing is built, nothing evaluated, no kernel, not a byte touched.
    import evaluation.engine.pipeline as pipeline

    with monkeypatch.context() as m:
        m.setattr(pipeline, "evaluate", lambda *a, **k: pytest.fail("an unchanged year was evaluated"))
        result, log = run()
    assert all(o.reused for o in result.outcomes) and result.index_reused
    assert "[2031] không có gì thay đổi: giữ báo cáo đã lập" in log and "bắt đầu" not in log
    assert _state(out) == first

    # An output deleted: that year is built again, to the same bytes; its comparison's inputs did not change.
    (out / "2031" / "report.docx").unlink()
    result, log = run()
    assert "[2031] lập báo cáo: tệp kết quả đã bị sửa, xóa hoặc thêm" in log
    assert {o.name for o in result.outcomes if not o.reused} == {"2031"}
    after = _state(out)
    assert _rebuilt(first, after) == {"2031", "index"}
    assert after["2031"][1] == first["2031"][1] and after["index"][1] == first["index"][1]

    # One input of 2032 changed (a header's case: the same values, another checksum): 2032 and the
    # comparison that uses it are built again, 2031 is kept.
    scores = params.parent / "data" / "2032" / "scores.csv"
    scores.write_bytes(scores.read_bytes().replace(b"TT,", b"tT,", 1))
    result, log = run()
    assert re.search(r"\[2032\] lập báo cáo: tệp đầu vào .*2032/scores.csv đã đổi", log)
    assert {o.name for o in result.outcomes if not o.reused} == {"2032", "so sánh 2031-2032"}
    changed = _state(out)
    assert _rebuilt(after, changed) == {"2032", "compare", "index"}
    assert changed["2031"] == after["2031"]
    assert changed["2032"][1]["results.csv"] == after["2032"][1]["results.csv"]   # the same values…
    assert changed["2032"][1]["report.html"] != after["2032"][1]["report.html"]   # …another checksum printed

    # --force: everything built again, to exactly the bytes that were kept.
    result, log = run("--force")
    assert not any(o.reused for o in result.outcomes) and not result.index_reused
    forced = _state(out)
    assert _rebuilt(changed, forced) == {"2031", "2032", "compare", "index"}
    assert {k: v[1] for k, v in forced.items()} == {k: v[1] for k, v in changed.items()}


@pytest.mark.slow
def test_the_command_keeps_an_unchanged_report_and_force_builds_it(tmp_path, capsys, monkeypatch):
    params = copy_year(tmp_path).parent
    out = tmp_path / "out"
    args = ["--params-dir", str(params), "report", "--year", "2020", "--out", str(out)]
    assert main(args) == 0
    first = (out / "2020").stat().st_ino, _snapshot(out / "2020")
    capsys.readouterr()
    import papermill

    with monkeypatch.context() as m:
        m.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("a kernel was started"))
        assert main(args) == 0
    assert "không có gì thay đổi: giữ báo cáo đã lập" in capsys.readouterr().out
    assert ((out / "2020").stat().st_ino, _snapshot(out / "2020")) == first
    assert main([*args, "--force"]) == 0
    assert (out / "2020").stat().st_ino != first[0] and _snapshot(out / "2020") == first[1]


def test_the_comparison_leaves_the_cores_to_the_years_built_beside_it(tmp_path, monkeypatch):
    # The years take longer than the comparison: given the cores first, they end about as soon as
    # alone, and the comparison takes what they leave (make reports after one year's input changed).
    import evaluation.years.batch as batch
    from evaluation.report.build import Built

    niced: list[int] = []
    monkeypatch.setattr(batch.os, "nice", lambda n: niced.append(n) or n)
    monkeypatch.setattr(batch, "build_comparison", lambda *a, **k: Built("so sánh", tmp_path))
    assert batch._compare_task("so sánh", [], str(tmp_path), "compare.ipynb", True).ok and niced == []
    assert batch._compare_task("so sánh", [], str(tmp_path), "compare.ipynb", True, True).ok
    assert niced == [batch._YIELD] and batch._YIELD >= 10

    planned: list[list] = []
    monkeypatch.setattr(batch, "_run_tasks", lambda tasks, workers, stream: planned.append(tasks) or [])
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    params = sorted((tmp_path / "fixtures" / "years" / "series" / "params").glob("*.yaml"))
    run_batch(params, tmp_path / "out", jobs=2, stream=io.StringIO())
    (tasks,) = planned
    assert [name for name, _, _ in tasks] == ["2031", "2032", "2033", "so sánh 2031-2033"]
    assert tasks[-1][2][-1] is True   # years built in the same run: the comparison yields
