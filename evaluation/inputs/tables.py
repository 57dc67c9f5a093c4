"""Reading input tables as text, exactly as the user wrote them.

Inputs arrive from many agencies' spreadsheets.  This module turns one file
into a table of *strings* (no guessing of types) plus a list of problems with
the file itself: encoding, delimiter, quotes, ragged rows, size.  Typing and
checking the values is the job of :mod:`evaluation.inputs.validate`.

Every row keeps the number a spreadsheet would show (header = row 1) in the
``_row`` column, so that no message ever points at the wrong line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd

from ..errors import Problem, os_error_text
from ..text import clean, looks_like_legacy_encoding
from .limits import MAX_COLUMNS, MAX_INPUT_BYTES, MAX_ROWS, ROW, columns_problem_text, rows_problem_text
from .provenance import TooLarge, read_input

__all__ = ["read_csv_text", "read_table_text", "MAX_INPUT_BYTES", "ROW", "WORKBOOK_SUFFIXES"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")   # read as workbooks (the last two: to say "save as .xlsx")

CELL = "_cell"
_LEGACY = ("tệp không ở dạng UTF-8: có vẻ được soạn bằng bảng mã cũ (TCVN3/ABC, VNI hoặc "
           "Windows-1258); hãy mở bằng Excel và lưu lại dạng «CSV UTF-8», hoặc chuyển mã bằng Unikey")


def _decode(raw: bytes, label: str) -> tuple[str | None, list[Problem]]:
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        try:
            return raw.decode("utf-16"), []
        except UnicodeDecodeError:
            pass
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(label, line, None, repr(raw[exc.start:exc.start + 4])[2:-1], _LEGACY)]
    if looks_like_legacy_encoding(text.splitlines()[:200]):
        return None, [Problem(label, None, None, None,
                              "chữ tiếng Việt bị lỗi phông (ví dụ «Së Tµi chÝnh»): " + _LEGACY)]
    return text, []


def read_csv_text(path: Path, label: str | None = None, *,
                  max_bytes: int = MAX_INPUT_BYTES) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a CSV file as a table of cleaned strings.

    Parameters
    ----------
    path : Path
        The file.  UTF-8 with or without BOM, LF or CRLF; UTF-16 with BOM is
        accepted too (Excel's "Unicode text").
    label : str, optional
        The name used in messages (default ``str(path)``).
    max_bytes : int
        Files larger than this are refused without being read.

    Returns
    -------
    table : pandas.DataFrame
        Columns as in the header (cleaned: NFC, single spaces), all values
        ``str`` (NFC, trimmed), plus ``_row`` (spreadsheet row number).
        Blank lines are dropped (they carry no data) but do not shift row numbers.
    problems : list of Problem
        Empty when the file could be read.
    """
    label = label or str(path)
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(), [Problem(label, None, None, None, "không tìm thấy tệp")]
    if not path.is_file():
        return pd.DataFrame(), [Problem(label, None, None, None, "không phải một tệp (là thư mục?)")]
    try:
        raw = read_input(path, max_bytes)
    except TooLarge as exc:
        return pd.DataFrame(), [too_large(label, exc.size, max_bytes)]
    except OSError as exc:
        return pd.DataFrame(), [Problem(label, None, None, None, f"không đọc được tệp: {os_error_text(exc)}")]
    if not raw:
        return pd.DataFrame(), [Problem(label, None, None, None, "tệp rỗng: cần dòng tiêu đề và dữ liệu")]
    text, problems = _decode(raw, label)
    if text is None:
        return pd.DataFrame(), problems
    return parse_csv_text(text, label)


def too_large(label: str, size: int, limit: int) -> Problem:
    """The problem of a file over the size limit (refused before it is read)."""
    return Problem(label, None, None, f"{size / 1024 / 1024:.0f} MB",
                   f"tệp quá lớn (giới hạn {limit // 1024 // 1024} MB): có lẽ nhầm tệp, "
                   "hoặc cần tách theo năm/nhóm")


_CSV_ERRORS = [
    ("field larger than field limit", "một ô quá dài (hơn 131.072 ký tự)"),
    ("unexpected end of data", "tệp kết thúc giữa một ô trong ngoặc kép"),
    ("new-line character seen in unquoted field", "có ký tự xuống dòng lạ giữa một ô"),
    ("line contains NUL", "có ký tự NUL (tệp nhị phân?)"),
    ("expected after", "sau dấu ngoặc kép «\"» đóng phải là dấu phẩy «,»"),
]


def _csv_error_text(exc: csv.Error) -> str:
    text = str(exc)
    for english, vietnamese in _CSV_ERRORS:
        if english in text:
            return vietnamese
    return "sai cấu trúc"


def parse_csv_text(text: str, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse decoded CSV text; see :func:`read_csv_text`."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        return pd.DataFrame(), [Problem(label, None, None, None, "tệp rỗng: cần dòng tiêu đề và dữ liệu")]
    if "," not in first:
        for sep, name in ((";", "chấm phẩy «;»"), ("\t", "dấu tab")):
            if sep in first:
                return pd.DataFrame(), [Problem(
                    label, 1, None, first[:60],
                    f"các cột được ngăn bằng {name}; cần dấu phẩy «,» (lưu bằng Excel dạng «CSV UTF-8», "
                    "hoặc dùng tệp .xlsx)")]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    try:
        # Row by row, so that a runaway file stops at the limit, not after filling the memory.
        for record in reader:
            if len(record) > MAX_COLUMNS and any(c.strip() for c in record[MAX_COLUMNS:]):
                return pd.DataFrame(), [Problem(label, reader.line_num, None, None,
                                                columns_problem_text(len(record)))]
            rows.append(record[:MAX_COLUMNS + 1])
            if len(rows) > MAX_ROWS + 1:
                return pd.DataFrame(), [Problem(label, None, None, None, rows_problem_text())]
    except csv.Error as exc:
        return pd.DataFrame(), [Problem(
            label, len(rows) + 1, None, None,
            f"không đọc được CSV ({_csv_error_text(exc)}): thường do dấu ngoặc kép «\"» không đóng")]
    # The header is the first row with any text: blank lines above it are not data either.
    top = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if top is None:  # only blank lines, or only separators (",,,")
        return pd.DataFrame(), [Problem(label, None, None, None, "tệp rỗng: cần dòng tiêu đề và dữ liệu")]
    header = [clean(h) for h in rows[top]]
    while header and header[-1] == "" and all(len(r) < len(header) or r[len(header) - 1] == ""
                                              for r in rows[top + 1:]):
        header.pop()  # trailing empty header cells from spreadsheets
    problems = []
    blanks = [i + 1 for i, h in enumerate(header) if h == ""]
    if blanks:
        problems.append(Problem(label, 1, None, None, f"cột thứ {blanks[0]} không có tiêu đề"))
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    for h in dupes:
        problems.append(Problem(label, 1, h, h, "tiêu đề cột bị lặp"))
    width = len(header)
    data = rows[top + 1:]
    first_row = top + 2  # spreadsheet number of the first data row
    for offset, record in enumerate(data):
        filled = [c for c in record[width:] if c.strip()]
        if len(record) < width and any(c.strip() for c in record):
            problems.append(Problem(label, offset + first_row, None, ",".join(record)[:60],
                                    f"dòng có {len(record)} cột, tiêu đề có {width} cột"))
        elif filled:
            problems.append(Problem(label, offset + first_row, None, ",".join(record)[:60],
                                    f"dòng có {len(record)} cột, tiêu đề chỉ có {width} cột"))
    if problems:
        return pd.DataFrame(), problems
    table = pd.DataFrame([(r + [""] * width)[:width] for r in data], columns=header, dtype="string")
    table[ROW] = range(first_row, len(data) + first_row)
    problems = _control_characters(table, header, top + 1, label)
    if problems:
        return pd.DataFrame(), problems
    cells = table.columns[:-1]
    if len(table):
        stripped = table[cells].apply(lambda col: col.str.normalize("NFC").str.strip())
        table[cells] = stripped
        table = table[(stripped != "").any(axis=1)]
    return table.reset_index(drop=True), problems


# C0 controls other than the white space that clean() turns into spaces, and DEL: invisible,
# meaningless in a name or a number, and refused by Excel files (openpyxl) and XML.
_CONTROL = r"[\x00-\x08\x0e-\x1b\x7f]"


def _control_characters(table: pd.DataFrame, header: list[str], header_row: int,
                        label: str) -> list[Problem]:
    """A problem for every header or cell holding a control character."""
    expected = ("ký tự điều khiển không in được (thường do dán từ phần mềm khác): "
                "hãy xóa ký tự này rồi lưu lại")
    shown = lambda v: re.sub(_CONTROL, lambda m: f"\\x{ord(m.group()):02x}", v)  # noqa: E731
    problems = [Problem(label, header_row, None, shown(h), expected)
                for h in header if re.search(_CONTROL, h)]
    cells = table.drop(columns=ROW)
    hits = cells.apply(lambda col: col.str.contains(_CONTROL, regex=True).fillna(False))
    if hits.to_numpy().any():
        stacked = hits.stack()
        for (i, column) in stacked[stacked].index:
            problems.append(Problem(label, int(table.at[i, ROW]), column, shown(table.at[i, column]),
                                    expected))
    return problems


def read_table_text(path: Path, label: str | None = None, *, sheet: str | None = None,
                    max_bytes: int = MAX_INPUT_BYTES) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a CSV or Excel table as strings (see :func:`read_csv_text`)."""
    suffix = Path(path).suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:  # .xls and .ods get a "save as .xlsx" message
        from .workbook import read_sheet_text  # openpyxl only when a workbook is read

        return read_sheet_text(path, label or str(path), sheet=sheet, max_bytes=max_bytes)
    return read_csv_text(path, label, max_bytes=max_bytes)
