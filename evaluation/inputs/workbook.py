"""Reading one sheet of an Excel workbook (.xlsx) as text, as the user sees it.

Same contract as :func:`evaluation.inputs.tables.read_csv_text`: a table of cleaned
strings with ``_row`` (the row number Excel shows; the header is row 1) and a
list of problems with the file itself.  Typing and checking the values stays
the job of :mod:`evaluation.inputs.validate`, so a workbook and a CSV file with the
same content give the same results and the same messages.

What a workbook adds, and how it is handled:

* Excel stores numbers as numbers and dates as dates.  Numbers become their
  shortest exact text (``98.4``, ``87``); a cell formatted as a percentage or
  with leading zeros becomes the text shown (``90%``, ``007``) so that it is
  never silently read as another value; dates become ``dd/mm/yyyy``.
* Formulas: the value Excel computed and saved is read.  A formula without a
  saved value (a file written by a program and never opened in Excel) and a
  cell showing an error (``#DIV/0!``) are reported, cell by cell.
* Merged cells break the one-value-per-cell table: each merged range is
  reported once, by its address.
* Every problem names the sheet and the cell (``Điểm!C14``).  The table
  carries the sheet name and the column letters in ``DataFrame.attrs`` so that
  :mod:`evaluation.inputs.validate` can do the same for the values it checks.

The workbook is read in openpyxl's read-only (streaming) mode; merged ranges
and formulas are found by one streaming pass over the sheet's XML.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import iterparse

import pandas as pd

from ..errors import Problem, os_error_text, parser_text
from ..text import clean, name_key
from .limits import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_INPUT_BYTES,
    MAX_ROWS,
    MAX_UNZIPPED_RATIO,
    ROW,
    columns_problem_text,
    count_text,
    rows_problem_text,
)
from .provenance import TooLarge, read_input

__all__ = ["read_sheet_text", "sheet_ref", "SHEET_ATTR", "COLUMNS_ATTR", "MAX_UNZIPPED_RATIO", "WorkbookInfo",
           "workbook_info"]

SHEET_ATTR = "sheet"
COLUMNS_ATTR = "column_letters"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS = "mở bằng Excel (hoặc LibreOffice) và lưu lại dạng «Sổ làm việc Excel (.xlsx)»"
_PLAIN_SHEET_NAME = re.compile(r"^[^\W\d][\w.]*$")


def sheet_ref(sheet: str, ref: str) -> str:
    """A cell or range address as Excel writes it: ``Điểm!C14``, ``'Điều kiện'!B3``.

    The sheet name is quoted only when Excel would quote it, so the address can
    be pasted into Excel's Name Box to jump to the cell.
    """
    if _PLAIN_SHEET_NAME.match(sheet):
        return f"{sheet}!{ref}"
    return "'" + sheet.replace("'", "''") + f"'!{ref}"


def read_sheet_text(path: Path, label: str | None = None, *, sheet: str | None = None,
                    max_bytes: int = MAX_INPUT_BYTES, hidden: bool = False) -> tuple[pd.DataFrame, list[Problem]]:
    """Read one sheet of a workbook as a table of cleaned strings.

    Parameters
    ----------
    path : Path
        An ``.xlsx`` (or ``.xlsm``) file.
    label : str, optional
        The name used in messages (default ``str(path)``).
    sheet : str, optional
        The sheet to read, matched as names are (case, tone placement and spacing
        do not matter).  When no sheet has that name and the workbook has a single
        visible sheet, that sheet is read.  Default: the first visible sheet.
    max_bytes : int
        Files larger than this are refused without being read.
    hidden : bool
        Read the sheet even if it is hidden (a form's metadata sheet, hidden on purpose).
        By default a hidden sheet is refused: users edit what they see.

    Returns
    -------
    table : pandas.DataFrame
        Columns as in the header row (row 1, cleaned), all values ``str``
        (NFC, trimmed), plus ``_row`` (the row number Excel shows).  Blank rows
        are dropped without shifting row numbers.  ``table.attrs["sheet"]`` is
        the sheet's name and ``table.attrs["column_letters"]`` maps each header
        to its column letter.
    problems : list of Problem
        Empty when the sheet could be read; otherwise every problem found, each
        with its cell address in ``Problem.cell``.  When only some cells cannot be
        read (a formula error, a formula without a saved value) the table comes
        back too, so that the rest of it is checked in the same run; a hidden
        sheet is refused (its visible copy is what the user edited).
    """
    label = label or str(path)
    path = Path(path)
    data, scans, problems = _container(path, label, max_bytes)
    if problems:
        return pd.DataFrame(), problems
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged files
        return pd.DataFrame(), [_damaged(label, exc)]
    try:
        ws, problems = _pick_sheet(wb, sheet, label, hidden=hidden)
        if ws is None:
            return pd.DataFrame(), problems
        rows = scans.get(ws._worksheet_path) or _scan(wb._archive, ws._worksheet_path)
        merged, uncached = _structure(wb, ws) if rows.structure else ([], set())
        return _read(ws, label, merged, uncached)
    except MemoryError:
        raise
    except Exception as exc:  # a part damaged beyond what load_workbook looked at
        return pd.DataFrame(), [_damaged(label, exc)]
    finally:
        wb.close()


@dataclass(frozen=True)
class WorkbookInfo:
    """What a workbook says about itself, without reading its cells.

    Attributes
    ----------
    sheets : dict
        Sheet name → state (``visible``, ``hidden`` or ``veryHidden``), in workbook order.
    saved : datetime or None
        When the workbook was last saved, as Excel and LibreOffice record it in the
        document properties (``dcterms:modified``, UTC); None when absent.
    """

    sheets: dict[str, str]
    saved: dt.datetime | None


def workbook_info(path: Path, label: str | None = None, *,
                  max_bytes: int = MAX_INPUT_BYTES) -> tuple[WorkbookInfo | None, list[Problem]]:
    """The sheets (and whether each is hidden) and the last saved time of a workbook.

    Returns ``(None, problems)`` when the file is not a workbook that can be read; the
    problems are those :func:`read_sheet_text` would report.
    """
    label = label or str(path)
    path = Path(path)
    data, _, problems = _container(path, label, max_bytes)
    if problems:
        return None, problems
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged files
        return None, [_damaged(label, exc)]
    try:
        sheets = {n: getattr(wb[n], "sheet_state", "visible") for n in wb.sheetnames}
        saved = wb.properties.modified if wb.properties is not None else None
    finally:
        wb.close()
    return WorkbookInfo(sheets, saved), []


def _damaged(label: str, exc: Exception) -> Problem:
    return Problem(label, None, None, None,
                   f"không mở được tệp Excel (tệp hỏng: {parser_text(str(exc))}); {_SAVE_AS}")


def _container(path: Path, label: str, max_bytes: int) -> tuple[bytes, dict[str, _Scan], list[Problem]]:
    """The file's bytes (read once) and a scan of each sheet, or the problems with the file as a
    file: missing, too large, not an .xlsx at all, inflating to too much, a sheet too long."""
    if not path.exists():
        return b"", {}, [Problem(label, None, None, None, "không tìm thấy tệp")]
    try:
        data = read_input(path, max_bytes)
    except TooLarge as exc:
        return b"", {}, [Problem(label, None, None, f"{exc.size / 1024 / 1024:.0f} MB",
                                 f"tệp quá lớn (giới hạn {max_bytes // 1024 // 1024} MB): có lẽ nhầm tệp, "
                                 "hoặc cần tách theo năm/nhóm")]
    except IsADirectoryError:
        return b"", {}, [Problem(label, None, None, None, "không phải một tệp (là thư mục?)")]
    except OSError as exc:
        return b"", {}, [Problem(label, None, None, None, f"không đọc được tệp: {os_error_text(exc)}")]
    scans: dict[str, _Scan] = {}
    return data, scans, _container_problems(data, label, max_bytes, scans)


def _container_problems(data: bytes, label: str, max_bytes: int, scans: dict[str, _Scan]) -> list[Problem]:
    if not data:
        return [Problem(label, None, None, None, "tệp rỗng: cần dòng tiêu đề và dữ liệu")]
    if data[:8] == _OLE2:
        return [Problem(label, None, None, None,
                        f"tệp Excel dạng cũ (.xls, Excel 97–2003) hoặc tệp có đặt mật khẩu: bỏ mật khẩu, {_SAVE_AS}")]
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        return [Problem(label, None, None, None,
                        f"tệp không phải sổ làm việc .xlsx (có thể là tệp CSV hay văn bản bị đổi đuôi): {_SAVE_AS}")]
    try:
        with zipfile.ZipFile(buffer) as zf:
            names = set(zf.namelist())
            if "mimetype" in names and b"opendocument" in zf.read("mimetype"):
                return [Problem(label, None, None, None,
                                f"tệp dạng OpenDocument (.ods), không phải .xlsx: {_SAVE_AS}")]
            if "xl/workbook.xml" not in names:
                return [Problem(label, None, None, None, f"tệp nén không phải sổ làm việc Excel: {_SAVE_AS}")]
            unzipped = sum(info.file_size for info in zf.infolist())
            shared = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else None
            if unzipped <= max_bytes * MAX_UNZIPPED_RATIO and shared is not None:
                # openpyxl reads every shared string into memory, even in read-only mode
                strings = _count_tags(zf, shared, b"si")
                if strings > MAX_CELLS:
                    return [Problem(label, None, None, None,
                                    f"sổ làm việc có {count_text(strings)} chuỗi chữ (giới hạn "
                                    f"{count_text(MAX_CELLS)}): có lẽ nhầm tệp, hoặc cần tách theo năm/nhóm")]
            if unzipped <= max_bytes * MAX_UNZIPPED_RATIO:
                # Every sheet, before openpyxl opens the workbook: in read-only mode it parses a sheet
                # that declares no size to its end, building the rows as it goes.
                problems = []
                titles = _sheet_titles(zf)
                for part in sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")):
                    scans[part] = found = _scan(zf, part)
                    if found.count > MAX_ROWS + 1:  # + 1: the header row
                        problems.append(Problem(label, None, None, titles.get(part, part),
                                                rows_problem_text(found.count - 1)))
                if problems:
                    return problems
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        return [Problem(label, None, None, None, f"tệp nén bị hỏng ({parser_text(str(exc))}): {_SAVE_AS}")]
    if unzipped > max_bytes * MAX_UNZIPPED_RATIO:
        return [Problem(label, None, None, f"{unzipped / 1024 / 1024:.0f} MB khi giải nén",
                        f"sổ làm việc quá lớn (giới hạn {max_bytes * MAX_UNZIPPED_RATIO // 1024 // 1024} MB "
                        "khi giải nén): có lẽ nhầm tệp, hoặc cần tách theo năm/nhóm")]
    return []


def _pick_sheet(wb, sheet: str | None, label: str, *, hidden: bool = False):
    """The worksheet to read, or None and a problem that lists the sheets present."""
    names = list(wb.sheetnames)
    visible = [n for n in names if getattr(wb[n], "sheet_state", "visible") == "visible"]
    if sheet is None:
        chosen = visible[0] if visible else None
    elif sheet in names:
        chosen = sheet
    else:
        by_key = [n for n in names if name_key(n) == name_key(sheet)]
        chosen = by_key[0] if len(by_key) == 1 else (visible[0] if len(visible) == 1 else None)
    if chosen is None:
        listed = ", ".join(f"«{n}»" for n in names) or "(không có)"
        wanted = f"không có trang tính «{sheet}»" if sheet else "không có trang tính nào đang hiện"
        return None, [Problem(label, None, None, sheet, f"{wanted}; các trang tính trong tệp: {listed}")]
    ws = wb[chosen]
    if not hasattr(ws, "iter_rows"):
        return None, [Problem(label, None, None, chosen, "trang tính này là biểu đồ, không phải bảng số liệu")]
    if chosen not in visible and not hidden:
        # A hidden sheet beside a visible copy: the copy is what the user edited and sees.
        others = ", ".join(f"«{n}»" for n in visible) or "(không có)"
        return None, [Problem(label, None, None, chosen,
                              f"trang tính «{chosen}» đang bị ẩn nên không được đọc (người sửa tệp không thấy "
                              f"nó); các trang đang hiện: {others}. Hãy hiện trang cần đọc (chuột phải → "
                              f"Unhide), đặt đúng tên «{sheet or chosen}» và xóa hoặc đổi tên bản còn lại")]
    return ws, []


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _structure(wb, ws) -> tuple[list[str], set[str]]:
    """Merged ranges, and formula cells with no saved value, from the sheet's XML (streamed).

    openpyxl's read-only mode gives neither: it drops merge information and, when
    reading saved values, shows a formula without one as an empty cell.
    """
    merged: list[str] = []
    uncached: set[str] = set()
    # openpyxl keeps the archive and the sheet's part name on read-only sheets (stable in 3.x).
    with wb._archive.open(ws._worksheet_path) as src:
        for _, elem in iterparse(src, events=("end",)):
            tag = _local(elem.tag)
            if tag == "c":
                parts = {_local(child.tag): child for child in elem}
                if "f" in parts and "is" not in parts:
                    saved = parts.get("v")
                    # An empty saved text ("" from =IF(...)) is a value; an empty number is not.
                    if saved is None or (not (saved.text or "") and elem.get("t") != "str"):
                        uncached.add(elem.get("r", ""))
            elif tag == "row":
                elem.clear()  # keep memory flat on long sheets
            elif tag == "mergeCell":
                merged.append(elem.get("ref", ""))
    return merged, uncached


_STRUCTURE_TAG = re.compile(rb"<(?:\w+:)?(?:f|mergeCell)[\s>/]")
_PREFIXED_ROW = re.compile(rb"<\w+:row[\s>/]")


def _sheet_titles(zf: zipfile.ZipFile, limit: int = 1 << 20) -> dict[str, str]:
    """Sheet part → the sheet's name, from the workbook's (small) index; {} if it is not readable."""
    from xml.etree.ElementTree import ParseError, fromstring

    try:
        if any(zf.getinfo(n).file_size > limit for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")):
            return {}
        book, rels = fromstring(zf.read("xl/workbook.xml")), fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ParseError, zipfile.BadZipFile, ValueError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels if _local(r.tag) == "Relationship"}
    out = {}
    for sheet in book.iter():
        if _local(sheet.tag) != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rid, "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out[part] = sheet.get("name", part)
    return out


class _Scan:
    """What one byte pass over a sheet's XML found: rows written, and formulas or merges."""

    def __init__(self) -> None:
        self.count = 0
        self.structure = False


def _scan(archive: zipfile.ZipFile, part: str, chunk: int = 1 << 20) -> _Scan:
    """Count the sheet's ``<row>`` elements and look for a formula or a merged range.

    A byte scan, no XML parsing: 20 million empty rows (182 KB zipped) are counted in
    about a second and refused before openpyxl builds a single row.
    """
    found = _Scan()
    tail = b""
    with archive.open(part) as src:
        while block := src.read(chunk):
            window = tail + block
            # Tags that end in the new block only: the tail was searched with the previous one.
            found.count += window.count(b"<row") - tail.count(b"<row")
            if b":row" in window:
                found.count += sum(1 for m in _PREFIXED_ROW.finditer(window) if m.end() > len(tail))
            if not found.structure and (b"<f" in window or b":f" in window or b"mergeCell" in window) \
                    and _STRUCTURE_TAG.search(window):  # the regex only where it may match: 5 × faster
                found.structure = True
            tail = block[-32:]
    return found


def _count_tags(archive: zipfile.ZipFile, part: str, tag: bytes, chunk: int = 1 << 20) -> int:
    """How many ``<tag`` elements a part has (a byte scan)."""
    n, tail = 0, b""
    needle = b"<" + tag
    with archive.open(part) as src:
        while block := src.read(chunk):
            window = tail + block
            n += window.count(needle) - tail.count(needle)
            tail = block[-len(needle) + 1:]
    return n


def _number_text(value: float | int, fmt: str) -> str:
    """A number as text: shortest exact form, or as displayed when the format changes what it means."""
    if "%" in fmt:
        return _plain_number(Decimal(repr(value)) * 100) + "%"
    digits = re.sub(r'"[^"]*"|\\.|;.*', "", fmt)  # first section, without literal text
    if digits and set(digits) == {"0"} and float(value).is_integer():
        return str(int(value)).zfill(len(digits))  # "000" shows 7 as 007: a code, keep it
    return _plain_number(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))


def _plain_number(d: Decimal) -> str:
    d = d.normalize()
    text = format(d, "f")
    return "0" if text in ("-0", "0") else text


def _date_text(value: dt.datetime | dt.date | dt.time | dt.timedelta) -> str:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M:%S" if value.second else "%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value)


def _cell_text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return _number_text(value, cell.number_format or "General")
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        return _date_text(value)
    return str(value)


def _read(ws, label: str, merged: list[str], uncached: set[str]) -> tuple[pd.DataFrame, list[Problem]]:
    from openpyxl.utils import get_column_letter, range_boundaries

    title = ws.title
    problems: list[Problem] = []

    def at(ref: str) -> str:
        return sheet_ref(title, ref)

    for ref in merged:
        min_col, min_row, _, max_row = range_boundaries(ref)
        if min_row == 1:
            expected = ("ô gộp ở dòng tiêu đề: dòng 1 phải là dòng tiêu đề, mỗi cột một ô tiêu đề riêng; "
                        "bỏ gộp ô (Merge & Center → Unmerge), xóa các dòng tiêu đề phụ phía trên")
        else:
            expected = "ô gộp trong vùng số liệu: bỏ gộp ô và ghi giá trị vào từng ô"
        problems.append(Problem(label, min_row, None, None, expected, cell=at(ref)))

    if any(p.row == 1 for p in problems):
        return pd.DataFrame(), problems  # a merged header hides the columns: that one message is enough
    ws.reset_dimensions()  # the size a file declares may be wrong; read what is there
    rows: list[list[str]] = []
    # Cells that cannot be read (a formula error, a formula never computed) do not hide the rest:
    # they come back with the table, and the other columns and rows are still checked.
    cell_problems: list[Problem] = []
    budget = MAX_CELLS
    for r, cells in enumerate(ws.iter_rows(), start=1):
        budget -= len(cells)
        if r > MAX_ROWS + 1 or budget < 0:
            # Rows written as empty or far below (<row r="1048576">) are filled in by openpyxl
            return pd.DataFrame(), [Problem(label, None, None, title, rows_problem_text() if r > MAX_ROWS + 1 else
                                            f"trang tính có hơn {count_text(MAX_CELLS)} ô (kể cả ô trống được "
                                            "định dạng): có lẽ nhầm tệp, hoặc cần xóa các cột, dòng thừa")]
        if len(cells) > MAX_COLUMNS:
            far = next((c for c, cell in enumerate(cells[MAX_COLUMNS:], start=MAX_COLUMNS + 1)
                        if cell.value is not None and str(cell.value).strip()), None)
            if far is not None:
                return pd.DataFrame(), [Problem(label, r, None, None, columns_problem_text(far),
                                                cell=at(f"{get_column_letter(far)}{r}"))]
            cells = cells[:MAX_COLUMNS]  # formatted but empty cells far to the right
        texts = []
        for c, cell in enumerate(cells, start=1):
            kind = getattr(cell, "data_type", "n")
            if kind == "e":
                cell_problems.append(Problem(label, r, None, str(cell.value),
                                        "ô báo lỗi công thức: sửa công thức hoặc nhập giá trị",
                                        cell=at(f"{get_column_letter(c)}{r}")))
            texts.append(_cell_text(cell))
        rows.append(texts)
    for ref in sorted(uncached, key=_ref_order):
        cell_problems.append(Problem(label, _ref_order(ref)[0], None, None,
                                "công thức chưa có giá trị đã tính (tệp do chương trình tạo, chưa mở bằng "
                                "Excel): mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi chạy lại",
                                cell=at(ref)))

    filled = [i for i, row in enumerate(rows) if any(t.strip() for t in row)]
    if not filled:
        return pd.DataFrame(), [*cell_problems, *problems, Problem(label, None, None, title,
                                                   f"trang tính «{title}» trống: cần dòng tiêu đề (dòng 1) "
                                                   "và số liệu")]
    header = [clean(t) for t in rows[0]] if rows else []
    if not any(header):
        return pd.DataFrame(), [*cell_problems, *problems, Problem(
            label, 1, None, None,
            f"dòng 1 trống: tiêu đề các cột phải ở dòng 1 (dòng đầu có nội dung là dòng {filled[0] + 1})",
            cell=at("A1"))]
    data = rows[1:]
    width = max(len(header), *(len(row) for row in data)) if data else len(header)
    grid = [(row + [""] * width)[:width] for row in data]
    header = (header + [""] * width)[:width]
    used = [any(row[j].strip() for row in grid) for j in range(width)]
    keep = []
    for j, h in enumerate(header):
        letter = get_column_letter(j + 1)
        if h:
            keep.append(j)
        elif used[j]:
            first = next(i for i, row in enumerate(grid) if row[j].strip())
            problems.append(Problem(label, first + 2, None, grid[first][j],
                                    f"cột {letter} có số liệu nhưng không có tiêu đề ở dòng 1",
                                    cell=at(f"{letter}{first + 2}")))
    names = [header[j] for j in keep]
    for h in sorted({h for h in names if names.count(h) > 1}):
        second = [j for j in keep if header[j] == h][1]
        problems.append(Problem(label, 1, h, h, "tiêu đề cột bị lặp",
                                cell=at(f"{get_column_letter(second + 1)}1")))
    if problems:
        return pd.DataFrame(), [*cell_problems, *problems]

    table = pd.DataFrame([[row[j] for j in keep] for row in grid], columns=names, dtype="string")
    table[ROW] = pd.Series(range(2, len(grid) + 2), dtype="int64")
    if len(table):
        cells = table[names].apply(lambda col: col.str.normalize("NFC").str.strip())
        table[names] = cells
        table = table[(cells != "").any(axis=1)].reset_index(drop=True)
    table.attrs[SHEET_ATTR] = title
    table.attrs[COLUMNS_ATTR] = {header[j]: get_column_letter(j + 1) for j in keep}
    return table, cell_problems


def _ref_order(ref: str) -> tuple[int, int]:
    from openpyxl.utils import coordinate_to_tuple

    try:
        return coordinate_to_tuple(ref)
    except ValueError:
        return (0, 0)
