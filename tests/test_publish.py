"""The typeface check and the Word document's pieces (the whole report.docx is tested in test_report.py)."""

from __future__ import annotations

import io
import zipfile

import pytest

from evaluation.errors import ReportError
from evaluation.report import publish


def test_the_times_metric_font_is_found_here_and_its_absence_is_said_plainly(monkeypatch):
    assert publish.find_font() in publish.TIMES_METRIC          # .ci/run installs fonts-liberation2
    assert publish.find_font(("Phông Không Có Thật",)) is None  # no silent fallback to another family
    monkeypatch.setattr(publish, "find_font", lambda families=publish.TIMES_METRIC: None)
    with pytest.raises(ReportError, match="fonts-liberation2"):
        publish.require_font()


def test_the_reference_document_sets_the_page_and_the_page_number():
    ref = publish.reference_docx()
    assert ref == publish.reference_docx()                       # same bytes every time
    with zipfile.ZipFile(io.BytesIO(ref)) as z:
        document = z.read("word/document.xml").decode()
        assert "<w:titlePg/>" in document and 'w:left="1701"' in document   # no number on page 1; 30 mm
        assert "PAGE" in z.read("word/header1.xml").decode()
        assert b'w:ascii="Times New Roman"' in z.read("word/styles.xml")


def test_the_html_given_to_pandoc_names_the_word_styles_and_keeps_text_as_text():
    html = ('<html><head><title>T</title><style>p{}</style></head><body><main>'
            '<table class="doc-head"><tr><td><div class="issuer-name"><strong>SỞ</strong></div></td></tr></table>'
            '<ul class="dashes"><li>một</li><li>&lt;script&gt;</li></ul>'
            '<h3>Tiêu đề<a class="anchor-link" href="#x">¶</a></h3>'
            '<img src="data:image/svg+xml;base64,PHN2Zy8+"><td class=num>1</td></main></body></html>')
    out = publish.docx_html(html)
    assert 'data-custom-style="Borderless"' in out
    assert 'data-custom-style="Issuer"><p><strong>SỞ</strong></p></div>' in out
    assert "<p>- một</p>" in out and "<p>- &lt;script&gt;</p>" in out      # "- " items; text stays text
    assert "¶" not in out and "<title>" not in out and "<style>" not in out
    assert "<img" not in out            # a chart without its PNG is left out, never a broken picture


def test_a_numbered_chart_becomes_a_picture_paragraph_and_its_caption(tmp_path):
    # pandoc puts a <figure> in a one-cell table narrower than the text: Word and LibreOffice cut the
    # picture's right side off. A paragraph of its own is fitted to the text's width.
    (tmp_path / "a.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "a.png").write_bytes(b"png")
    html = ('<html><body><main><figure class="chart"><div class="chart-wrap">'
            '<img alt="Hình 1. A" src="data:image/svg+xml;base64,PHN2Zy8+"></div>'
            '<figcaption>Hình 1. Điểm &lt;nhóm&gt;.</figcaption></figure>'
            '<figure class="chart"><div class="chart-wrap"><img src="data:image/svg+xml;base64,PGcvPg=="></div>'
            '<figcaption>Hình 2. Không có PNG.</figcaption></figure></main></body></html>')
    out = publish.docx_html(html, tmp_path)
    assert "<figure" not in out and "<figcaption" not in out
    assert ('<div data-custom-style="Figure"><p><img alt="Hình 1. A" src="figures/a.png"/></p></div>'
            '<div data-custom-style="ImageCaption"><p>Hình 1. Điểm &lt;nhóm&gt;.</p></div>') in out
    assert "Hình 2" not in out        # a chart without its PNG goes, caption and all


# -- the PDF in parts ------------------------------------------------------------------------------

_STYLE = ("<style>@page { size: A5; margin: 15mm; @top-center { content: counter(page) } }"
          "@page :first { @top-center { content: none } } h3.cards { break-before: page }"
          "ul.dashes { list-style: none } ul.dashes > li::before { content: '- ' }</style>")


def _cell(cell_id: str, body: str) -> str:
    """A cell as nbconvert's report template writes it."""
    return (f'<div class="jp-Cell jp-CodeCell jp-Notebook-cell jp-mod-noInput" id="cell-id={cell_id}">\n'
            '<div class="jp-Cell-outputWrapper">\n<div class="jp-OutputArea jp-Cell-outputArea">\n'
            f'<div class="jp-RenderedHTMLCommon jp-RenderedHTML jp-OutputArea-output">\n{body}\n</div>\n</div>\n'
            '</div>\n</div>')


def _page(*cells: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>Báo cáo</title>{_STYLE}</head>'
            f'<body>\n<main class="report">\n{"".join(cells)}\n</main>\n</body>\n</html>\n')


def test_annexes_that_start_on_a_page_of_their_own_are_cut_out_in_order():
    body = _cell("a", "<p>Thân báo cáo</p>")
    cards = _cell("cards", '<h3 class="cards">Phiếu điểm</h3><p>phiếu 1</p>')
    mixed = _cell("mixed", '<p>trước</p><h3 class="cards">Không phải phụ lục riêng</h3>')
    status = _cell("status", '<h3 class="cards">Tình hình nộp biểu mẫu</h3>')
    html = _page(body, cards, mixed, status)
    report, first, second = publish.split_annexes(html)
    assert report == html.replace(cards, "").replace(status + "\n", "")   # every other cell, in order, as it was
    assert "Phiếu điểm" in first and "Tình hình" not in first and "Thân báo cáo" not in first
    assert first.startswith(html[:html.index('<main class="report">')]) and first.endswith("</main>\n</body>\n</html>\n")
    assert "Tình hình nộp biểu mẫu" in second
    assert publish.split_annexes(_page(body, mixed)) == [_page(body, mixed)]   # no annex: the page whole


def test_the_lighter_user_agent_stylesheet_gives_the_same_pdf_bytes(tmp_path):
    from weasyprint import HTML

    html = _page(_cell("a", '<ul class="dashes"><li>một</li></ul><ol><li>hai</li><li>ba</li></ol>'
                            '<ul><li>bốn</li></ul><table><tr><td>5</td><td class="num">6,00</td></tr></table>'
                            '<p>Đánh giá, xếp loại<sup>p</sup></p>'))
    assert publish._lighter_html() is not HTML                  # this WeasyPrint's stylesheet was trimmed
    assert publish.pdf_bytes(html, str(tmp_path)) == HTML(string=html, base_url=str(tmp_path)).write_pdf()


def _texts(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def test_the_annex_is_joined_after_the_report_and_numbered_from_its_own_first_page(tmp_path):
    from evaluation.report.build import Renderers, write_documents

    long = "".join(f"<p>Phiếu điểm của đơn vị số {i}.</p>" for i in range(1, 60))
    html = _page(_cell("a", "<h1>BÁO CÁO</h1>" + "".join(f"<p>Đoạn {i}.</p>" for i in range(1, 40))),
                 _cell("cards", f'<h3 class="cards">Phiếu điểm</h3>{long}'))
    serial = tmp_path / "serial"
    parallel = tmp_path / "parallel"
    for folder, renderers in ((serial, None), (parallel, Renderers(workers=2))):
        folder.mkdir()
        try:
            write_documents(html, folder, "report", docx=False, renderers=renderers)
        finally:
            if renderers is not None:
                renderers.close()
    pdf = (serial / "report.pdf").read_bytes()
    assert pdf == (parallel / "report.pdf").read_bytes()       # same bytes with one process or two
    pages = _texts(pdf)
    start = next(i for i, t in enumerate(pages) if t.startswith("Phiếu điểm Phiếu"))
    report_pages, annex_pages = pages[:start], pages[start:]
    assert len(report_pages) >= 2 and len(annex_pages) >= 2
    assert [t.split()[-1] for t in report_pages[1:]] == [str(n) for n in range(2, start + 1)]
    assert [t.split()[-1] for t in annex_pages[1:]] == [str(n) for n in range(2, len(annex_pages) + 1)]
    from pypdf import PdfReader

    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Báo cáo"   # the report's own title
    # Without an annex, the one document as WeasyPrint lays it out.
    alone = _page(_cell("a", "<p>Chỉ có thân báo cáo.</p>"))
    write_documents(alone, serial, "alone", docx=False)
    assert (serial / "alone.pdf").read_bytes() == publish.pdf_bytes(alone, str(serial))


def test_the_word_html_finds_each_element_as_its_css_selector_did():
    """One walk over the page instead of a CSS select per step: renamed, removed and nested elements."""
    html = ('<html><body><main>'
            '<div class="assessment-text"><ul class="dashes"><li>một<ul><li>hai</li></ul></li></ul></div>'
            '<table><tr><td class="num legend">1</td><td class="num">2</td></tr></table>'
            '<h3 class="cards">Phiếu<a class="anchor-link legend" href="#p">¶</a></h3>'
            '<div class="signature-space"><span class="legend">x</span></div></main></body></html>')
    out = publish.docx_html(html)
    # Each list once, its items as "- " paragraphs, the inner one too.
    assert out.count("- một") == 1 and out.count("- hai") == 1 and "<ul" not in out and "<li" not in out
    # A numeric cell that is also a legend became a styled div: no longer a cell to right-align.
    assert '<div class="num legend" data-custom-style="Small"><p>1</p></div>' in out
    assert '<td align="right" class="num">2</td>' in out
    assert "¶" not in out and 'data-custom-style="AppendixTitle"' in out
    # The signature space was emptied before its old content could be styled.
    assert 'data-custom-style="SignatureSpace"><p>\u00a0</p></div>' in out and ">x<" not in out
