"""Provenance: what a result was made from (checksums, rules, package version, parameters).

No wall-clock time: two runs on the same inputs give the same provenance.

Every input is read once, through :func:`read_input`, and its SHA-256 is taken from
the very bytes that were parsed: a file replaced while a report runs can never
have its new content in the results and its old checksum in the provenance (or
the other way round).  :func:`recording` collects those checksums for one
evaluation; :func:`provenance_table` then lists them without reading anything again.

A report is evaluated by the command (to check the inputs before a kernel starts),
which hands that evaluation to the notebook's kernel (:func:`evaluation.engine.pipeline.handing_down`,
taken while the files are unchanged); :func:`pinned` hands the checksums too (through the
environment the kernel inherits): should the kernel read the inputs again, :func:`changed_inputs`
refuses any file whose bytes are no longer the ones checked, so the report and its
``summary.json`` always describe the same bytes.

A year collected from the parties' forms (``python -m evaluation collect``) also has, beside
its input tables, the cell each value came from (``trace.csv``: :data:`TRACE_COLUMNS`) and the
status of every party's return (``status.csv``: :data:`STATUS_COLUMNS`).  Both are declared
and read here; :mod:`evaluation.forms.collect` writes them.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd

from .. import __version__
from ..files import write_whole

__all__ = ["sha256", "provenance_table", "read_input", "recording", "inherited", "pinned", "pinned_later", "changed_inputs", "PIN_ENV",
           "TooLarge", "TRACE_FILE", "STATUS_FILE", "TRACE_COLUMNS", "STATUS_COLUMNS", "STATUS_RULE",
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

PIN_ENV = "EVALUATION_INPUTS_SHA256"
_RECORD: contextvars.ContextVar[dict[Path, tuple[int, str]] | None] = contextvars.ContextVar(
    "evaluation_inputs_read", default=None)


class TooLarge(Exception):
    """A file larger than the reader's limit (nothing of it was read)."""

    def __init__(self, size: int, limit: int):
        self.size, self.limit = size, limit
        super().__init__(f"{size} > {limit}")


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_input(path: Path | str, max_bytes: int | None = None) -> bytes:
    """The bytes of an input file, read once; their size and SHA-256 are recorded.

    Parameters
    ----------
    path : Path or str
    max_bytes : int, optional
        Refuse a larger file (:class:`TooLarge`) before reading it; a file that grows
        while it is read is cut at one byte over the limit and refused too.

    Raises
    ------
    TooLarge
    OSError
        The file cannot be opened or read.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(size, max_bytes)
        # read(n) allocates n bytes first: ask for the size the file has (and one byte more, to
        # see a file that grows while it is read), not for the limit.
        data = fh.read(size + 1)
        if len(data) > size:
            data += fh.read() if max_bytes is None else fh.read(max(0, max_bytes + 1 - len(data)))
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(len(data), max_bytes)
    record = _RECORD.get()
    if record is not None:
        record[Path(path).resolve()] = (len(data), hashlib.sha256(data).hexdigest())
    return data


@contextlib.contextmanager
def recording() -> Iterator[dict[Path, tuple[int, str]]]:
    """Collect ``resolved path → (bytes, sha256)`` of every file :func:`read_input` reads inside."""
    record: dict[Path, tuple[int, str]] = {}
    token = _RECORD.set(record)
    try:
        yield record
    finally:
        _RECORD.reset(token)


def provenance_table(files: Iterable[tuple[str, str, Path]],
                     read: dict[Path, tuple[int, str]] | None = None) -> pd.DataFrame:
    """One row per input file: role, name as given, size and SHA-256.

    Parameters
    ----------
    files : iterable of (role, label, path)
    read : dict, optional
        What :func:`recording` collected: the size and checksum of the bytes parsed.  A
        file not in it (or without it) is hashed from the disk.
    """
    rows = []
    for role, label, path in files:
        known = (read or {}).get(Path(path).resolve())
        size, digest = known if known is not None else (Path(path).stat().st_size, sha256(Path(path)))
        rows.append({"role": role, "file": label, "bytes": size, "sha256": digest})
    return pd.DataFrame(rows, columns=["role", "file", "bytes", "sha256"])


@contextlib.contextmanager
def inherited(name: str, value: str) -> Iterator[None]:
    """Within the block, the environment variable ``name`` is ``value`` for the processes started from
    here (the report's kernel, a batch's report processes); as it was before, after."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _pins(text: str | None) -> dict[str, str]:
    """The pins an environment value holds: JSON, or ``@<file>`` naming the JSON file of
    :func:`pinned_later` (no pins while that file is not written)."""
    if not text:
        return {}
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError:
            return {}
    try:
        pins = json.loads(text)
    except ValueError:
        return {}
    return pins if isinstance(pins, dict) else {}


def pinned(read: dict[Path, tuple[int, str]]) -> contextlib.AbstractContextManager[None]:
    """Within the block, processes started from here (the report's kernel) expect these inputs.

    Nested blocks add to the pins of the outer one (a comparison pins every year).
    """
    return inherited(PIN_ENV, _with(_pins(os.environ.get(PIN_ENV)), read))


def _with(pins: dict[str, str], read: dict[Path, tuple[int, str]]) -> str:
    """``pins`` and the checksums of ``read``, as the JSON the environment carries."""
    return json.dumps({**pins, **{str(p): digest for p, (_, digest) in read.items()}}, sort_keys=True)


@contextlib.contextmanager
def pinned_later(file: Path) -> Iterator[Callable[[dict[Path, tuple[int, str]]], None]]:
    """:func:`pinned` for processes started before the inputs are checked (a report's kernel,
    started while the command reads them): they inherit the name of ``file`` now, and ``pin(read)``
    writes into it the outer block's pins and these, before those processes read any input."""
    outer = _pins(os.environ.get(PIN_ENV))

    def pin(read: dict[Path, tuple[int, str]]) -> None:
        write_whole(file, _with(outer, read).encode("utf-8"))

    with inherited(PIN_ENV, f"@{file}"):
        yield pin


def changed_inputs(read: dict[Path, tuple[int, str]]) -> list[tuple[Path, str, str]]:
    """Inputs whose bytes differ from those pinned by the process that started this one.

    Returns ``(path, sha256 pinned, sha256 read here)`` for each; nothing when no pins are set.
    """
    pins = _pins(os.environ.get(PIN_ENV))
    if not pins:
        return []
    return [(p, pins[str(p)], digest) for p, (_, digest) in read.items()
            if str(p) in pins and pins[str(p)] != digest]


def package_version() -> str:
    return __version__


def _digest(path: Path) -> str:
    """The SHA-256 of the bytes of ``path`` read in this evaluation (hashed from the disk if it was not read)."""
    known = (_RECORD.get() or {}).get(path.resolve())
    return known[1] if known is not None else sha256(path)


def read_trace(folder: Path, tables: dict[str, Path]) -> pd.DataFrame | None:
    """The trace of a collected year (``<data>/trace.csv``), or None when the year was not collected.

    Only the rows of the ``tables`` given (name → file) whose file still has the SHA-256 it
    was written with are kept: a cell is never cited for a value that has since changed.
    """
    path = Path(folder) / TRACE_FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(io.BytesIO(read_input(path)), dtype="string", keep_default_na=False, encoding="utf-8")
    if [c for c in TRACE_COLUMNS if c not in frame.columns]:
        return None  # not ours: say nothing rather than cite wrong cells
    current = {name: _digest(Path(p)) for name, p in tables.items() if p is not None and Path(p).is_file()}
    keep = frame["sha256"] == frame["table"].map(current)
    return frame[keep.fillna(False).astype(bool)][TRACE_COLUMNS].astype({"row": "int64"}).reset_index(drop=True)


def read_status(folder: Path) -> pd.DataFrame | None:
    """The status board of a collected year (``<data>/status.csv``, canonical column names), or None."""
    path = Path(folder) / STATUS_FILE
    if not path.is_file():
        return None
    frame = pd.read_csv(io.BytesIO(read_input(path)), dtype="string", keep_default_na=False, encoding="utf-8-sig")
    back = {v: k for k, v in STATUS_COLUMNS.items()}
    if set(frame.columns) != set(back):
        return None
    return frame.rename(columns=back)[list(STATUS_COLUMNS)].astype({"problems": "int64"})
