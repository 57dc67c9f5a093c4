"""Limits of the input readers (CSV, workbook and YAML alike), and shared names.

Every input is bounded before it can cost much memory or time: its size on disk is
checked before a byte is read, its rows and columns while it is parsed.  A yearly
input of a province has a few thousand rows and a dozen columns; the limits leave
two orders of magnitude of room and refuse, with a message naming the limit, only
a file that is not what it should be (a wrong file, a runaway export, a "zip bomb").

Kept apart so that :mod:`~evaluation.inputs.tables`, :mod:`~evaluation.inputs.workbook`
and :mod:`~evaluation.inputs.rules` all use them without importing each other.
The number of problems printed per file is bounded too
(:data:`evaluation.errors.MESSAGES_PER_FILE`).
"""

ROW = "_row"
MAX_INPUT_BYTES = 64 * 1024 * 1024  # a yearly input is kilobytes; refuse before reading a runaway file
MAX_YAML_BYTES = 2 * 1024 * 1024  # a rules or params file is kilobytes
# Data rows of one table (a CSV file, or one sheet of a workbook).  A province's survey
# answers are tens of thousands of rows; a country's (3 million) are not read from one file.
MAX_ROWS = 500_000
MAX_COLUMNS = 100  # the widest table has a dozen columns
# Cells one sheet may make the reader build (rows × width): a workbook row that reaches
# column XFD is 16,384 cells, however few of them hold a value.
MAX_CELLS = 5_000_000
# An .xlsx is a zip of XML: refuse one whose parts would inflate to more than this many times
# the size limit of a plain file, before parsing any of it.
MAX_UNZIPPED_RATIO = 16


def count_text(n: int) -> str:
    """``500000`` → ``500.000``: counts in messages, with the Vietnamese thousands separator."""
    return f"{n:,}".replace(",", ".")


def rows_problem_text(rows: int | None = None) -> str:
    """What a table with too many rows is told."""
    found = f"có hơn {count_text(MAX_ROWS)} dòng" if rows is None else f"có {count_text(rows)} dòng"
    return (f"bảng {found} (giới hạn {count_text(MAX_ROWS)} dòng số liệu mỗi tệp hoặc mỗi trang tính): "
            "có lẽ nhầm tệp, hoặc cần tách theo năm/nhóm")


def columns_problem_text(columns: int) -> str:
    """What a table with too many columns is told."""
    return (f"bảng có {count_text(columns)} cột (giới hạn {MAX_COLUMNS} cột): có lẽ nhầm tệp, "
            "hoặc các cột thừa ở bên phải cần được xóa")
