"""Structured errors: every problem names its file, row, column, value and what was expected.

A loader collects *all* problems of its inputs before raising one
:class:`InputError`, so a user fixes a spreadsheet in one pass instead of one
error per run.  Messages are in Vietnamese: they are read by the analysts who
prepared the data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

__all__ = ["Problem", "InputError", "ReportError", "problems_frame"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of one input.

    Attributes
    ----------
    file : str
        The input file, as the user named it (relative path).
    row : int or None
        Row as a spreadsheet shows it (the header is row 1), or None for a file-wide problem.
    column : str or None
        The column header as written in the file.
    value : str or None
        The offending value, as text.
    expected : str
        What was expected instead, in plain words.
    cell : str or None
        Spreadsheet address (``Điểm!C14``) when the input is a workbook.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str
    cell: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.cell:
            where.append(f"ô {self.cell}")
        elif self.row is not None:
            where.append(f"dòng {self.row}")
        if self.column:
            # In a YAML file the place is a key path (tiers[2].min), not a column.
            noun = "khóa" if self.file.endswith((".yaml", ".yml")) else "cột"
            where.append(f"{noun} «{self.column}»")
        text = ", ".join(where)
        if self.value is not None:
            text += f": giá trị «{_short(self.value)}»"
        return f"{text} — {self.expected}"


_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def _short(value: str, limit: int = 60) -> str:
    # One problem, one line: a line break inside a value (a quoted cell) is shown, not made.
    value = _LINE_BREAKS.sub("⏎", str(value))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """All problems as one table (file, row, column, value, expected, cell)."""
    rows = [asdict(p) for p in problems]
    return pd.DataFrame(rows, columns=["file", "row", "column", "value", "expected", "cell"])


class InputError(Exception):
    """Bad input: one or more :class:`Problem`, reported together.

    The command line turns this into exit status 2 and writes nothing.
    """

    exit_status = 2

    def __init__(self, problems: Iterable[Problem], *, notes: Iterable[str] = (), checked: dict | None = None):
        self.problems = list(problems)
        # Lines said after the problems (e.g. rows read, kept and rejected per file).
        self.notes = list(notes)
        # The checked tables, when the loader got that far: rows kept are not lost, only not used.
        self.checked = dict(checked or {})
        super().__init__(self.message())

    def message(self) -> str:
        n = len(self.problems)
        head = f"Dữ liệu vào có {n} lỗi:" if n != 1 else "Dữ liệu vào có 1 lỗi:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems), *self.notes])

    def table(self) -> pd.DataFrame:
        return problems_frame(self.problems)


class ReportError(Exception):
    """The report could not be built (a notebook cell failed, a renderer failed).

    Attributes
    ----------
    cell : int or None
        Index of the failing cell in the notebook, when a cell failed.
    source : str or None
        First line of that cell's source, to recognise it.
    error : str
        The error name and value raised inside the cell.
    """

    exit_status = 1

    def __init__(self, message: str, *, cell: int | None = None, source: str | None = None,
                 error: str = ""):
        self.cell = cell
        self.source = source
        self.error = error
        super().__init__(message)
