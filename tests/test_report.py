"""The yearly report end to end: papermill, nbconvert, WeasyPrint, exports, atomic replacement."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from evaluation.errors import ReportError
from evaluation.report.build import EXPECTED_FILES, build_report
from tests.conftest import PARAMS_2020, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return build_report(PARAMS_2020, out)


@pytest.fixture(scope="module")
def html(built) -> str:
    return built.html.read_text(encoding="utf-8")


def test_every_file_is_written(built):
    for name in EXPECTED_FILES:
        assert (built.folder / name).exists(), name
    figures = sorted(p.name for p in (built.folder / "figures").iterdir())
    assert "phan-bo-diem.svg" in figures and "phan-bo-diem.png" in figures
    assert sum(name.endswith(".svg") for name in figures) == 7  # 3 + 3 per group, 1 distribution
    assert not list(built.folder.parent.glob(".*building*")), "no temporary folder left behind"


def test_results_csv_equals_the_seed_table(built, seed_table):
    raw = (built.folder / "results.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM so that Excel shows Vietnamese"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 61
    numerals = [r["Nhóm"].split(".")[0] for r in rows]
    assert numerals == seed_table["numeral"].tolist()
    assert [int(r["TT"]) for r in rows] == seed_table["tt"].tolist()
    assert [float(r["Điểm tự chấm"]) for r in rows] == seed_table["self_score"].tolist()
    assert [float(r["Điểm đánh giá"]) for r in rows] == seed_table["score"].tolist()
    assert [r["Xếp loại"].lower() for r in rows] == seed_table["tier_name"].str.lower().tolist()
    assert rows[10]["Thứ hạng"] == "10" and rows[9]["Thứ hạng"] == "10"   # tie: Công Thương, GD&ĐT


def test_html_has_all_units_sentences_and_nothing_external(built, html, evaluation_2020):
    for unit in evaluation_2020.ranked["unit"]:
        assert f">{unit}<" in html.replace("&amp;", "&"), unit
    for sentence in evaluation_2020.sentences:
        assert sentence in html
    assert "Hoằng Hóa" in html and "Hoàng Hoá" in html   # registry name and the printed misprint
    # Self-contained: no script, no stylesheet or image fetched from anywhere.
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "mathjax" not in html.lower() and "require.js" not in html.lower()
    assert "font-family" in html and "DejaVu Sans Mono" in html.split("--mono")[1][:80]
    assert "In&nbsp;[" not in html and "jp-InputArea-editor" not in html   # no code, no prompts


def test_unconfirmed_values_are_footnoted(html):
    assert 'class="unconfirmed"' in html
    assert "chưa được xác nhận bằng văn bản gốc" in html
    assert "ngưỡng «Hoàn thành nhiệm vụ» từ 50 điểm" in html


def test_pdf_text_keeps_every_diacritic(built):
    from pypdf import PdfReader

    reader = PdfReader(built.pdf)
    text = "\n".join(page.extract_text() for page in reader.pages)
    compact = " ".join(text.split())
    for name in ["Sở Kế hoạch và Đầu tư", "Hoằng Hóa", "Hoàng Hoá", "Trường Đại học Hồng Đức",
                 "Hoàn thành xuất sắc nhiệm vụ", "Thường Xuân", "Quảng Xương", "Mường Lát"]:
        assert name in compact, name
    assert f"Trang 1/{len(reader.pages)}" in compact
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)   # A4
    assert reader.pages[0].mediabox.height == pytest.approx(841.89, abs=0.5)


def test_executed_notebook_is_the_audit_log(built):
    nb = nbformat.read(built.folder / "report.ipynb", as_version=4)
    ids = [c.id for c in nb.cells]
    assert "injected-parameters" in ids
    assert "papermill" not in nb.metadata
    assert all("execution" not in c.metadata for c in nb.cells)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_two_runs_give_identical_results_and_html(built, html, tmp_path, monkeypatch):
    # Run again from another current folder, into another output folder: neither may show.
    monkeypatch.chdir(tmp_path)
    again = build_report(PARAMS_2020, tmp_path / "elsewhere")
    for name in ["results.csv", "results.xlsx", "report.pdf"]:
        assert (again.folder / name).read_bytes() == (built.folder / name).read_bytes(), name
    assert again.html.read_text(encoding="utf-8") == html
    figures = sorted((built.folder / "figures").iterdir())
    assert [f.name for f in figures] == sorted(f.name for f in (again.folder / "figures").iterdir())
    for figure in figures:   # SVG and PNG
        assert (again.folder / "figures" / figure.name).read_bytes() == figure.read_bytes(), figure.name
    # The executed notebook (the audit log) names the final folder, never the temporary one; apart
    # from that one parameter, the two runs' notebooks are the same bytes.
    first, second = (f.joinpath("report.ipynb").read_text(encoding="utf-8") for f in (built.folder, again.folder))
    assert ".building-" not in first and ".building-" not in second
    rel = lambda f: os.path.relpath(f, ROOT / "notebooks")  # noqa: E731
    assert first.replace(rel(built.folder), "OUT") == second.replace(rel(again.folder), "OUT")


def _broken_notebook(tmp_path: Path) -> Path:
    nb = nbformat.read(ROOT / "notebooks" / "report.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.id == "summary")
    cell.source = "raise ValueError('hỏng có chủ ý')\n" + cell.source
    target = ROOT / "notebooks" / f".broken-{tmp_path.name}.ipynb"
    nbformat.write(nb, target)
    return target


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_broken_cell_fails_with_its_name_and_keeps_the_previous_report(built, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built.folder, out / "2020")
    before = _snapshot(out / "2020")
    notebook = _broken_notebook(tmp_path)
    try:
        with pytest.raises(ReportError) as info:
            build_report(PARAMS_2020, out, notebook=notebook)
    finally:
        notebook.unlink()
    message = str(info.value)
    assert "«summary»" in message and "ValueError: hỏng có chủ ý" in message
    assert _snapshot(out / "2020") == before, "the previous good report must stay byte-identical"
    assert (out / "2020.failed.ipynb").exists(), "the failed run is kept for inspection"
    assert not list(out.glob(".*building*")), "no temporary folder left behind"
