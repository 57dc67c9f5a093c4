"""Provenance: what a result was made from (checksums, rules, package version, parameters).

No wall-clock time: two runs on the same inputs give the same provenance.

A year collected from the parties' forms (``python -m evaluation collect``) also has, beside
its input tables, the cell each value came from (``trace.csv``: :data:`TRACE_COLUMNS`) and the
status of every party's return (``status.csv``: :data:`STATUS_COLUMNS`).  Both are declared
and read here; :mod:`evaluation.forms.collect` writes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .. import __version__

__all__ = ["sha256", "provenance_table", "TRACE_FILE", "STATUS_FILE", "TRACE_COLUMNS", "STATUS_COLUMNS", "STATUS_RULE",
           "read_trace", "read_status"]

TRACE_FILE = "trace.csv"
STATUS_FILE = "status.csv"
# One row per value written into a collected input table: the table and its row (as a spreadsheet
# numbers it, header = 1), the column's header, the unit, the value, where it was typed, and the
# SHA-256 of the table file as written (a table edited since is not cited: its rows may have moved).
TRACE_COLUMNS = ["table", "row", "column", "unit_id", "value", "party", "workbook", "sheet", "cell", "sha256"]
# One row per party of the year (and per returned file that belongs to none): the status board.
# Which copy counts when a party returned several (said on the board and in the report's annex).
STATUS_RULE = ("Bên nộp nhiều bản: dùng bản lưu sau cùng — theo thời điểm lưu ghi trong tệp (Excel, LibreOffice "
               "ghi mỗi lần lưu); nếu bằng nhau thì theo thời điểm sửa tệp, rồi theo tên tệp.")
STATUS_COLUMNS = {"kind": "Loại biểu mẫu", "party": "Bên nộp", "key": "Mã biểu mẫu", "status": "Tình trạng",
                  "workbook": "Tệp được dùng", "saved": "Lưu lúc", "problems": "Số lỗi", "note": "Ghi chú"}


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def provenance_table(files: Iterable[tuple[str, str, Path]]) -> pd.DataFrame:
    """One row per input file: role, name as given, size and SHA-256.

    Parameters
    ----------
    files : iterable of (role, label, path)
    """
    rows = [
        {"role": role, "file": label, "bytes": Path(path).stat().st_size, "sha256": sha256(Path(path))}
        for role, label, path in files
    ]
    return pd.DataFrame(rows, columns=["role", "file", "bytes", "sha256"])


def package_version() -> str:
    return __version__


def read_trace(folder: Path, tables: dict[str, Path]) -> pd.DataFrame | None:
    """The trace of a collected year (``<data>/trace.csv``), or None when the year was not collected.

    Only the rows of the ``tables`` given (name → file) whose file still has the SHA-256 it
    was written with are kept: a cell is never cited for a value that has since changed.
    """
    path = Path(folder) / TRACE_FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8")
    if [c for c in TRACE_COLUMNS if c not in frame.columns]:
        return None  # not ours: say nothing rather than cite wrong cells
    current = {name: sha256(p) for name, p in tables.items() if p is not None and Path(p).is_file()}
    keep = frame["sha256"] == frame["table"].map(current)
    return frame[keep.fillna(False).astype(bool)][TRACE_COLUMNS].astype({"row": "int64"}).reset_index(drop=True)


def read_status(folder: Path) -> pd.DataFrame | None:
    """The status board of a collected year (``<data>/status.csv``, canonical column names), or None."""
    path = Path(folder) / STATUS_FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8-sig")
    back = {v: k for k, v in STATUS_COLUMNS.items()}
    if set(frame.columns) != set(back):
        return None
    return frame.rename(columns=back)[list(STATUS_COLUMNS)].astype({"problems": "int64"})
