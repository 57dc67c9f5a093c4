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
