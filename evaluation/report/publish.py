"""The report as the files readers receive: the typeface checked, the PDF and the Word document.

The administrative form (Nghị định 30/2020/NĐ-CP) asks for Times New Roman or a font with its
metrics, 13–14 pt.  :func:`require_font` asks fontconfig — the lookup WeasyPrint itself uses —
whether such a font with Vietnamese letters is installed, and stops the build with a Vietnamese
message when it is not, rather than let the PDF fall back silently to another serif.

:func:`write_docx` makes ``report.docx`` from the report's own HTML with pandoc (the binary comes
with the ``pypandoc-binary`` wheel; nothing is downloaded): the same content, real Word tables
whose header rows repeat on every page, charts as the PNG files beside the report (a paragraph at
the text's width, its caption under it).  The look
(Times New Roman 14 pt, A4 with the document's margins, page number at the top from page 2, the
title block and "Nơi nhận" styles) is the reference document made by :func:`reference_docx` from
``templates/docx/``.  Same HTML, same bytes: zip entries and document dates are fixed.

:func:`pdf_bytes` lays a document out with WeasyPrint; :func:`split_annexes` cuts the report page
into the report and its annexes that start on a page of their own, laid out in parallel by the
builder (:mod:`evaluation.report.build`) and joined by :func:`join_pdfs`.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import re
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import ReportError
from ..files import deterministic_zip

__all__ = ["TIMES_METRIC", "find_font", "require_font", "docx_html", "reference_docx", "write_docx", "docx_bytes",
           "DOCX_STYLES", "ANNEX", "split_annexes", "pdf_bytes", "join_pdfs"]

# Fonts with the metrics of Times New Roman (line breaks and page count as in Word).
TIMES_METRIC = ("Liberation Serif", "Tinos", "Times New Roman", "TeX Gyre Termes")
DOCX = Path(__file__).resolve().parent / "templates" / "docx"
# The HTML's classes → the Word styles of templates/docx/styles.xml (pandoc's custom-style).
DOCX_STYLES = {
    "issuer-parent": "Issuer", "issuer-name": "Issuer", "doc-number": "Issuer",
    "motto-line": "Motto", "motto-sub": "MottoSub", "place-date": "PlaceDate",
    "doc-subtitle": "DocSubtitle", "recipients-head": "RecipientsHead", "recipients-list": "Recipients",
    "signer-title": "Signer", "signer-name": "Signer", "signature-space": "SignatureSpace",
    "legend": "Small", "illustrative-banner": "Banner", "appendix-sub": "Center",
}
_LETTERS = "ẮẶẦỆỞƯỢđ"  # a few letters only fonts made for Vietnamese have


def find_font(families: tuple[str, ...] = TIMES_METRIC) -> str | None:
    """The first of ``families`` that fontconfig resolves to itself with Vietnamese letters, or None.

    Asked through WeasyPrint's own fontconfig binding (what the PDF will use); ``fc-match`` when
    that is not available.
    """
    for family in families:
        try:
            found = _fontconfig_match(family)
        except Exception:  # noqa: BLE001 - no binding: ask the command-line tool instead
            found = _fc_match(family)
        if found and found.lower() == family.lower():
            return family
    return None


def _fontconfig_match(family: str) -> str | None:
    from weasyprint.text.ffi import ffi, fontconfig

    config = fontconfig.FcInitLoadConfigAndFonts()
    try:
        pattern = fontconfig.FcPatternCreate()
        fontconfig.FcPatternAddString(pattern, b"family", family.encode())
        fontconfig.FcPatternAddString(pattern, b"lang", b"vi")
        fontconfig.FcConfigSubstitute(config, pattern, fontconfig.FcMatchPattern)
        fontconfig.FcDefaultSubstitute(pattern)
        result = ffi.new("FcResult *")
        match = fontconfig.FcFontMatch(config, pattern, result)
        fontconfig.FcPatternDestroy(pattern)
        if match == ffi.NULL:
            return None
        out = ffi.new("FcChar8 **")
        fontconfig.FcPatternGetString(match, b"family", 0, out)
        name = ffi.string(out[0]).decode()
        fontconfig.FcPatternDestroy(match)
        return name
    finally:
        fontconfig.FcConfigDestroy(config)


def _fc_match(family: str) -> str | None:
    try:
        done = subprocess.run(["fc-match", "-f", "%{family[0]}", f"{family}:lang=vi"], capture_output=True,
                              text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def require_font() -> str:
    """The Times-metric font the report will be set in.

    Raises
    ------
    ReportError
        When none is installed: the PDF would otherwise be set in another serif, the motto would
        wrap and the pages would not be those of the Word file.
    """
    found = find_font()
    if found is None:
        raise ReportError(
            "Không tìm thấy phông chữ cỡ chữ tương đương Times New Roman có đủ dấu tiếng Việt ("
            + ", ".join(TIMES_METRIC) + "): văn bản hành chính phải in bằng phông này. Hãy cài gói "
            "fonts-liberation2 (Debian, Ubuntu: apt-get install fonts-liberation2) rồi lập lại báo cáo.")
    return found


# -- the PDF, in parts -------------------------------------------------------------------------------
#
# WeasyPrint lays a page out in Python, about 0.4 ms per element: the 180 score cards of a
# province-sized year are 30,000 elements, half the PDF's time.  A section that opens an annex of its
# own (``<h3 class="cards">``: the score cards, the status board of the forms) starts on a new page,
# so nothing before it depends on it: it is laid out as a document of its own, in another process,
# while this one lays out the report, and the parts are joined into one PDF (pypdf).  Each annex's
# pages are numbered from its own first page (an annex of several pages is numbered on its own, as
# Nghị định 30/2020/NĐ-CP asks).  The Word document is made at the same time.  With one core the
# same parts are made one after another: the same bytes either way.

_CELL = re.compile(r'<div [^>]*\bclass="jp-Cell ')  # a cell's opening tag, whatever its attributes' order
ANNEX = '<h3 class="cards">'


def split_annexes(html: str) -> list[str]:
    """The report page as documents to lay out: the report, then each annex in its order.

    An annex is a notebook cell whose output opens with :data:`ANNEX`; the report keeps every
    other cell, in order.  A page without annexes is returned whole, as it is.
    """
    opening = html.find("<main")
    closing = html.rfind("</main>")
    if opening < 0 or closing < 0:
        return [html]
    starts = [m.start() for m in _CELL.finditer(html, opening, closing)]
    cells = list(zip(starts, [*starts[1:], closing], strict=True))

    def opens_annex(a: int, b: int) -> bool:
        at = html.find(ANNEX, a, b)
        return at >= 0 and not re.sub(r"<[^>]*>", "", html[a:at]).strip()

    annexes = [(a, b) for a, b in cells if opens_annex(a, b)]
    if not annexes:
        return [html]
    head = html[:html.index(">", opening) + 1]  # up to and with <main …>
    report, kept = [], 0
    for a, b in annexes:
        report.append(html[kept:a])
        kept = b
    report.append(html[kept:])
    return ["".join(report)] + [head + "\n" + html[a:b] + html[closing:] for a, b in annexes]


_LIGHT = None  # the HTML class, made once per process


def _lighter_html():
    """WeasyPrint's ``HTML`` without the user-agent rules that give every element five note pseudo-elements.

    WeasyPrint's own stylesheet styles ``::footnote-call``, ``::footnote-marker``, ``::note-call``,
    ``::note-marker`` and ``::note-callback`` of every element, and ``::marker`` of every element:
    six computed styles per element, a seventh of the PDF's time.  The report has no footnote or note
    areas and only list items have markers, so they are left out (``li::marker`` kept): the PDF is the
    same, byte for byte (``tests/test_publish.py``).  Any other WeasyPrint keeps its own stylesheet.
    """
    from weasyprint import CSS, HTML
    from weasyprint.html import UA, UA_COUNTER_STYLE

    global _LIGHT
    if _LIGHT is None:
        lighter = re.sub(r"^::(?:footnote|note)-[a-z]+ \{[^}]*\}\n", "", UA, flags=re.M)
        lighter = lighter.replace("\n::marker {", "\nli::marker {")
        if lighter.count("::") != UA.count("::") - 5 or not hasattr(HTML, "_ua_stylesheets"):
            _LIGHT = HTML  # not the stylesheet this was written for: keep it whole
        else:
            sheet = CSS(string=lighter, counter_style=UA_COUNTER_STYLE)

            class LighterHTML(HTML):
                def _ua_stylesheets(self, forms=False):
                    return [sheet] if not forms else [sheet, *super()._ua_stylesheets(forms)[1:]]

            _LIGHT = LighterHTML
    return _LIGHT


def pdf_bytes(html: str, base_url: str) -> bytes:
    """The PDF of one HTML document (A4, page numbers, repeated table headers), by WeasyPrint.

    A renderer failure is a :class:`ReportError` (a full disk stays an OSError).
    """
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        return _lighter_html()(string=html, base_url=base_url).write_pdf()
    except OSError:
        raise
    except Exception as exc:  # a renderer failure is a report failure, not a crash
        raise ReportError(f"không tạo được PDF: {type(exc).__name__}: {exc}") from exc


def join_pdfs(parts: Sequence[bytes]) -> bytes:
    """One PDF of ``parts`` in order, with the first part's title and metadata (same parts, same bytes)."""
    if len(parts) == 1:
        return parts[0]
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in parts:
        writer.append(PdfReader(io.BytesIO(data)))
    writer.add_metadata(PdfReader(io.BytesIO(parts[0])).metadata or {})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# -- the Word document --------------------------------------------------------------------------


def _pandoc() -> str:
    try:
        import pypandoc
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ReportError("thiếu thư viện pypandoc-binary (chương trình pandoc) để tạo tệp Word: "
                          "chạy lại «make setup»") from exc
    return pypandoc.get_pandoc_path()


def reference_docx() -> bytes:
    """The reference document: pandoc's own, with our styles, page, margins and page-number header."""
    default = subprocess.run([_pandoc(), "--print-default-data-file", "reference.docx"], capture_output=True,
                             check=True).stdout
    section = (DOCX / "section.xml").read_text(encoding="utf-8").strip()
    src = zipfile.ZipFile(io.BytesIO(default))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/styles.xml":
                data = (DOCX / "styles.xml").read_bytes()
            elif info.filename == "word/document.xml":
                text = data.decode("utf-8")
                text = re.sub(r"<w:body>.*</w:body>", f"<w:body><w:p/>{section}</w:body>", text, flags=re.S)
                data = text.encode("utf-8")
            elif info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", (
                    b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"'
                    b' Id="rIdPageNumber" Target="header1.xml" /></Relationships>'))
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", (
                    b'<Override PartName="/word/header1.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.wordprocessingml.header+xml" /></Types>'))
            dst.writestr(info, data)
        dst.writestr("word/header1.xml", (DOCX / "header.xml").read_bytes())
    return deterministic_zip(out.getvalue())


def docx_html(html: str, figures: Path | None = None) -> str:
    """The report page as pandoc should read it for Word.

    Only the report's content (no stylesheet); each chart's SVG replaced by its PNG from
    ``figures`` (found by content: the SVG shown is the file saved); the title block, signature
    and legends marked with their Word styles; anchors and the screen-only wrappers dropped;
    each numbered chart a picture paragraph and a caption paragraph; numbers right-aligned.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup.body or soup
    # Every element once, in document order: a CSS select walks the whole tree each time (twenty
    # walks of 40,000 elements for a province's score cards, 5 s).  Each step below finds what the
    # select it replaces found then: the element's name as it is at that step, still in the page.
    elements = main.find_all(True)

    def attached(el) -> bool:
        while el is not None and el is not main:
            el = el.parent
        return el is main

    def having(names: tuple[str, ...] | None, *classes: str) -> list:
        wanted = set(classes)
        # A decomposed element's name is "" (and its other attributes gone).
        return [el for el in elements if el.name and (names is None or el.name in names)
                and not wanted.isdisjoint(el.get("class") or ()) and attached(el)]

    def within(el, cls: str) -> bool:
        return any(cls in (up.get("class") or ()) for up in el.parents)

    pngs = {}
    if figures is not None and Path(figures).is_dir():
        for svg in sorted(Path(figures).glob("*.svg")):
            pngs[svg.read_bytes()] = svg.with_suffix(".png")
    for img in [el for el in elements if el.name == "img"]:
        src = img.get("src", "")
        if src.startswith("data:image/svg+xml;base64,"):
            png = pngs.get(base64.b64decode(src.split(",", 1)[1]))
            if png is None:
                img.decompose()     # a chart without its PNG: better absent than a broken image
                continue
            img["src"] = f"figures/{png.name}"   # relative: the document must not hold the build folder
    for a in having(("a",), "anchor-link"):
        a.decompose()
    # A chart as a paragraph of its own, then its caption: pandoc would put a <figure> in a one-cell
    # table narrower than the text, and Word and LibreOffice cut the picture's right side off.
    for fig in main.select("figure.chart"):
        img, caption = fig.find("img"), fig.find("figcaption")
        if img is None:
            fig.decompose()
            continue
        picture = soup.new_tag("div", attrs={"data-custom-style": "Figure"})
        para = soup.new_tag("p")
        para.append(img.extract())
        picture.append(para)
        parts = [picture]
        if caption is not None:
            text = soup.new_tag("div", attrs={"data-custom-style": "ImageCaption"})
            line = soup.new_tag("p")
            for child in list(caption.contents):
                line.append(child.extract())
            text.append(line)
            parts.append(text)
        fig.replace_with(*parts)
    for cls, style in DOCX_STYLES.items():
        for el in having(None, cls):
            if cls == "signature-space":
                el.string = "\u00a0"
            el.name = "div"
            el["data-custom-style"] = style
            # pandoc styles paragraphs, not loose text (which becomes "Compact" in a table cell)
            if not el.find(["p", "div", "ul", "ol", "table"]):
                para = soup.new_tag("p")
                for child in list(el.contents):
                    para.append(child.extract())
                el.append(para)
    # "- " items as the document writes them, not Word bullets
    for ul in [el for el in elements if el.name == "ul" and attached(el)
               and ("dashes" in (el.get("class") or ()) or within(el, "assessment-text"))]:
        for li in ul.find_all("li", recursive=False):
            li.name = "p"
            li.insert(0, "- ")
        ul.unwrap()
    for h in [*having(("h2",), "appendix"), *having(("h3",), "cards")]:
        h.name = "div"
        h["data-custom-style"] = "AppendixTitle"
    for table in having(("table",), "doc-head", "doc-close"):
        table["data-custom-style"] = "Borderless"
    for cell in having(("td", "th"), "num"):
        cell["align"] = "right"
    # No <title>: pandoc would print it as a title above the document's own heading.
    return "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"></head><body>" \
        + main.decode_contents() + "</body></html>"


def write_docx(html: str, target: Path, *, figures: Path | None = None) -> None:
    """``report.docx`` from the report's HTML (see :func:`docx_bytes`)."""
    Path(target).write_bytes(docx_bytes(html, figures=figures))


def docx_bytes(html: str, *, figures: Path | None = None) -> bytes:
    """The Word document of the report's HTML (see :func:`docx_html`), deterministic bytes.

    Raises
    ------
    ReportError
        When pandoc fails (its message is kept).
    """
    with tempfile.TemporaryDirectory(prefix="docx-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "reference.docx").write_bytes(reference_docx())
        (tmp_path / "report.html").write_text(docx_html(html, figures), encoding="utf-8")
        if figures is not None and Path(figures).is_dir():
            (tmp_path / "figures").mkdir()
            for png in Path(figures).glob("*.png"):
                (tmp_path / "figures" / png.name).write_bytes(png.read_bytes())
        env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
        done = subprocess.run([_pandoc(), "report.html", "-f", "html", "-t", "docx", "--reference-doc",
                               "reference.docx", "-o", "report.docx"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise ReportError(f"không tạo được tệp Word (pandoc): {done.stderr.strip()[-500:]}")
        data = _rows_kept_whole((tmp_path / "report.docx").read_bytes())
    return deterministic_zip(data)


def _rows_kept_whole(docx: bytes) -> bytes:
    """Every table row on one page (``w:cantSplit``): the signature block is a borderless table row,
    and a unit's row must not be cut in two.  pandoc does not write it; the XML gets it here."""
    src = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                text = re.sub(r"<w:tr>(?!<w:trPr>)", "<w:tr><w:trPr><w:cantSplit /></w:trPr>", text)
                text = text.replace("<w:tr><w:trPr>", "<w:tr><w:trPr><w:cantSplit />").replace(
                    "<w:cantSplit /><w:cantSplit />", "<w:cantSplit />")
                data = text.encode("utf-8")
            dst.writestr(info, data)
    return out.getvalue()
