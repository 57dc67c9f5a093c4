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
    assert "diem-theo-nhom-so_nganh.svg" in figures and "diem-theo-nhom-so_nganh.png" in figures
    # One dot plot and one self-versus-appraised chart per group; no box plot repeating the dots.
    assert sum(name.endswith(".svg") for name in figures) == 6
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


def test_unconfirmed_values_are_said_in_the_annex_not_starred_in_the_body(html):
    body, annex = html.split("<main", 1)[1].split("Nơi nhận:", 1)
    assert 'class="unconfirmed"' not in body and "confirmed" not in body
    assert "chưa có trong văn bản gốc" in annex
    assert "ngưỡng «Hoàn thành nhiệm vụ» từ 50 điểm" in annex
    assert "ngưỡng «Không hoàn thành nhiệm vụ» dưới 50 điểm" in annex and "từ 0 điểm" not in annex


def _pdf_pages(path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


def test_pdf_text_keeps_every_diacritic(built):
    from pypdf import PdfReader

    reader = PdfReader(built.pdf)
    texts = _pdf_pages(built.pdf)
    compact = " ".join(" ".join(texts).split())
    for name in ["Sở Kế hoạch và Đầu tư", "Hoằng Hóa", "Hoàng Hoá", "Trường Đại học Hồng Đức",
                 "Hoàn thành xuất sắc nhiệm vụ", "Thường Xuân", "Quảng Xương", "Mường Lát"]:
        assert name in compact, name
    # The page number (a margin box at the top centre, Nghị định 30/2020/NĐ-CP) from page 2 on, none on
    # page 1; pypdf reads the margin box after the page's content.
    assert [t.split()[-1] for t in texts[1:4]] == ["2", "3", "4"]
    assert texts[0].split()[-1] != "1" and "Trang" not in compact
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)   # A4
    assert reader.pages[0].mediabox.height == pytest.approx(841.89, abs=0.5)


# What readers must never see in the body of the report: key names, file names, code values.
_TECHNICAL = re.compile(r"confirmed|\.ya?ml\b|\.csv\b|\.md\b|\.py\b|\w\[\d+\]|\b[a-z]+_[a-z_]+\b|\bparams\b|"
                        r"\brules\b|\bregistry\b|\bcriteria\b|\bprecision\b|\btiers\b|near_bound|top_gaps")


def test_the_pdf_is_an_administrative_document(built):
    from pypdf import PdfReader

    texts = _pdf_pages(built.pdf)
    first = texts[0].splitlines()
    # The national motto on one line, the number and symbol, the date (day left blank: a draft).
    assert any("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in line for line in first)
    assert any("Số:" in line and "/BC-SNV" in line for line in first)
    assert any("ngày" in line and "tháng 02 năm 2021" in line for line in first)
    whole = " ".join(" ".join(texts).split())
    for phrase in ("Thực hiện Quyết định số 221/2016/QĐ-UBND", "Công văn số 558/UBND-THKH",
                   "1. Kết quả thẩm định, cho điểm của các cơ quan thẩm định (90 điểm)",
                   "2. Về nội dung và mức điểm thưởng, điểm trừ (tối đa 10 điểm)",
                   "3. Kết quả đánh giá, xếp loại mức độ hoàn thành nhiệm vụ năm 2020", "4. Đánh giá chung",
                   "61/61 cơ quan, đơn vị tự chấm cao hơn điểm đánh giá", "c) Đề xuất, kiến nghị",
                   "Trên đây là tổng hợp kết quả", "xem xét, quyết định./.", "Nơi nhận:", "Lưu: VT, TCBC.",
                   "GIÁM ĐỐC", "Trần Quốc Huy", "PHỤ LỤC"):
        assert phrase in whole, phrase
    signed = next(i for i, t in enumerate(texts) if "Nơi nhận:" in t)
    assert "Trần Quốc Huy" in texts[signed] and signed < 10, "the signature within the first 10 pages"
    body = " ".join(texts[:signed] + [texts[signed].split("Nơi nhận:")[0]])
    assert _TECHNICAL.findall(body) == []
    # Set in a Times-metric serif, never a silent fallback to another serif.
    reader = PdfReader(built.pdf)
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages[:signed + 1]
             for f in p["/Resources"]["/Font"].values()}
    assert any("LiberationSerif" in f.replace("-", "") for f in fonts), fonts
    assert not any("DejaVuSerif" in f.replace("-", "") for f in fonts), fonts


def test_the_word_document_opens_in_libreoffice_with_the_same_content_and_form(built, evaluation_2020, tmp_path):
    import subprocess
    import zipfile
    from xml.etree import ElementTree

    from evaluation.report.publish import TIMES_METRIC

    docx = built.folder / "report.docx"
    with zipfile.ZipFile(docx) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    for name, data in parts.items():          # every part well-formed: nothing for Word to repair
        if name.endswith((".xml", ".rels")):
            ElementTree.fromstring(data)
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    doc = ElementTree.fromstring(parts["word/document.xml"])
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{w}t")) for p in doc.iter(f"{w}p")]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in paragraphs and "BÁO CÁO" in paragraphs
    assert any(p.startswith("Tổng hợp kết quả đánh giá, xếp loại mức độ hoàn thành nhiệm vụ năm 2020")
               for p in paragraphs)
    assert "Nơi nhận:" in paragraphs and "- Lưu: VT, TCBC." in paragraphs
    for unit in evaluation_2020.ranked["unit"]:
        assert unit in paragraphs, unit
    # Real Word tables whose header row repeats on every page.
    assert parts["word/document.xml"].count(b"<w:tblHeader") >= 3
    # Times New Roman (or its metric twin) at 13-14 pt, A4 with the document's margins.
    styles = ElementTree.fromstring(parts["word/styles.xml"])
    default = styles.find(f"{w}docDefaults/{w}rPrDefault/{w}rPr")
    assert default.find(f"{w}rFonts").get(f"{w}ascii") in TIMES_METRIC
    assert 26 <= int(default.find(f"{w}sz").get(f"{w}val")) <= 28
    section = doc.find(f"{w}body/{w}sectPr")
    assert section.find(f"{w}pgSz").get(f"{w}w") == "11906" and section.find(f"{w}titlePg") is not None
    assert section.find(f"{w}pgMar").get(f"{w}left") == "1701"
    # LibreOffice opens it headless (no repair prompt can be answered there) and prints it.
    profile = tmp_path / "lo-profile"
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(tmp_path), str(docx)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = " ".join(" ".join(_pdf_pages(tmp_path / "report.pdf")).split())
    for phrase in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO", "Nơi nhận:", "Sở Kế hoạch và Đầu tư",
                   "Hoằng Hóa", "Trường Đại học Hồng Đức"):
        assert phrase in printed, phrase


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
    for name in ["results.csv", "results.xlsx", "report.pdf", "report.docx"]:
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


def test_the_page_is_nbconverts_page_without_its_last_pass(built, html):
    """render_html skips HTMLExporter's BeautifulSoup pass (1.3 s at province size): written again by
    that pass, the page is nbconvert's page, character for character; the pass had nothing to add."""
    from html import unescape

    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from evaluation import __version__
    from evaluation.report.build import TEMPLATES, _for_readers

    nb = nbformat.read(built.folder / "report.ipynb", as_version=4)
    readable, _ = _for_readers(nb)
    readable.metadata["title"] = unescape(re.search(r"<title>(.*?)</title>", html).group(1))
    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATES)], exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
    theirs, _ = exporter.from_notebook_node(readable, resources={"illustrative": False,
                                                                 "evaluation_version": __version__})
    assert html != theirs                                     # not the same markup: the pass was skipped
    assert str(BeautifulSoup(html, features="html.parser")) == theirs
    assert "No description has been provided" not in theirs  # every image has its own alternative text
    assert 'tabindex="0"' not in theirs


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
