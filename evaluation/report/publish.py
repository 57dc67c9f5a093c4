"""The report as the files readers receive: the typeface checked, and the Word document.

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
"""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

from ..errors import ReportError
from ..files import deterministic_zip

__all__ = ["TIMES_METRIC", "find_font", "require_font", "docx_html", "reference_docx", "write_docx",
           "DOCX_STYLES"]

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
    pngs = {}
    if figures is not None and Path(figures).is_dir():
        for svg in sorted(Path(figures).glob("*.svg")):
            pngs[svg.read_bytes()] = svg.with_suffix(".png")
    for img in main.find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:image/svg+xml;base64,"):
            png = pngs.get(base64.b64decode(src.split(",", 1)[1]))
            if png is None:
                img.decompose()     # a chart without its PNG: better absent than a broken image
                continue
            img["src"] = f"figures/{png.name}"   # relative: the document must not hold the build folder
    for a in main.select("a.anchor-link"):
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
        for el in main.select(f".{cls}"):
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
    for ul in main.select("ul.dashes, .assessment-text ul"):
        for li in ul.find_all("li", recursive=False):
            li.name = "p"
            li.insert(0, "- ")
        ul.unwrap()
    for h in main.select("h2.appendix, h3.cards"):
        h.name = "div"
        h["data-custom-style"] = "AppendixTitle"
    for table in main.select("table.doc-head, table.doc-close"):
        table["data-custom-style"] = "Borderless"
    for cell in main.select("td.num, th.num"):
        cell["align"] = "right"
    # No <title>: pandoc would print it as a title above the document's own heading.
    return "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"></head><body>" \
        + main.decode_contents() + "</body></html>"


def write_docx(html: str, target: Path, *, figures: Path | None = None) -> None:
    """``report.docx`` from the report's HTML (see :func:`docx_html`), deterministic bytes.

    Raises
    ------
    ReportError
        When pandoc fails (its message is kept).
    """
    target = Path(target)
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
    target.write_bytes(deterministic_zip(data))


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
