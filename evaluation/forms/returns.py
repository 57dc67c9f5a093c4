"""A folder of returned forms: which file is whose, and which copy counts.

Files are found in the folder and its subfolders, whatever their names («Sở Tư pháp -
tự chấm (1).xlsx», «Copy of …»): a workbook is identified by its hidden metadata sheet
(:data:`evaluation.forms.workbooks.META_SHEET`: party, year, form version), never by its
name.  Excel's lock files (``~$…``) and hidden files are skipped; files that are not
workbooks (scanned evidence, Word documents) are listed as ignored.

**Which copy counts** when a party returned several: the one saved last, by the time
the workbook records itself (``dcterms:modified``, written by Excel and LibreOffice at
every save); when two copies record the same time, the one whose file was modified last;
then the later path in alphabetical order.  Copies made for another year never win over a
copy for this year.  Nothing in the folder is ever modified.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem
from ..inputs.workbook import read_sheet_text, sheet_ref, workbook_info
from .issue import YearForms
from .parties import Party
from .workbooks import META_KEYS, META_SHEET

__all__ = ["Return", "Choice", "find_returns", "identify", "choose", "WORKBOOK_SUFFIXES", "saved_text"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_OTHER_SPREADSHEETS = (".xls", ".ods", ".csv")   # a form saved in the wrong format: said so, by the reader


@dataclass(frozen=True)
class Return:
    """One returned file.

    Attributes
    ----------
    path : Path
    label : str
        The path relative to the returns folder, as messages name it.
    meta : dict
        The metadata sheet's values (``kind``, ``party``, ``name``, ``year``, ``version``,
        ``rules``); empty when the file could not be identified.
    sheets : dict
        Sheet name → state.
    saved : datetime or None
        The save time the workbook records.
    mtime : float
        The file's modification time (seconds).
    problems : list of Problem
        Why the file could not be identified (empty otherwise).
    """

    path: Path
    label: str
    meta: dict[str, str] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    saved: dt.datetime | None = None
    mtime: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def party(self) -> str | None:
        return self.meta.get("party")

    @property
    def year(self) -> int | None:
        text = self.meta.get("year", "")
        return int(text) if text.isdigit() else None

    @property
    def order(self) -> tuple:
        """Later copies sort last: saved time, then file time, then path."""
        return (self.saved or dt.datetime.min, self.mtime, self.label)


def saved_text(ret: Return) -> str:
    """When a copy was saved, as the status board says it: ``20/12/2021 07:03 UTC``."""
    if ret.saved is None or ret.saved.year <= 1980:  # never saved since the form was made
        return "chưa lưu lại sau khi tạo biểu mẫu"
    return ret.saved.strftime("%d/%m/%Y %H:%M UTC")


def find_returns(folder: Path) -> tuple[list[Path], list[Path]]:
    """Workbooks (and look-alikes) under ``folder``, and the other files ignored; both sorted."""
    folder = Path(folder)
    found, ignored = [], []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part.startswith((".", "~$")) for part in rel.parts):
            continue
        if path.suffix.lower() in WORKBOOK_SUFFIXES + _OTHER_SPREADSHEETS:
            found.append(path)
        else:
            ignored.append(path)
    return found, ignored


def identify(path: Path, label: str) -> Return:
    """Read a returned workbook's metadata sheet (never its cells) and its save times."""
    mtime = path.stat().st_mtime
    if path.suffix.lower() == ".csv":
        return Return(path, label, mtime=mtime, problems=[Problem(
            label, None, None, None, "tệp CSV không phải biểu mẫu: mở biểu mẫu Excel đã gửi, điền và lưu dạng .xlsx")])
    info, problems = workbook_info(path, label)
    if info is None:
        return Return(path, label, mtime=mtime, problems=problems)
    if META_SHEET not in info.sheets:
        listed = ", ".join(f"«{n}»" for n in info.sheets)
        return Return(path, label, sheets=info.sheets, saved=info.saved, mtime=mtime, problems=[Problem(
            label, None, None, None,
            f"không nhận ra biểu mẫu: tệp không có thông tin biểu mẫu (trang ẩn «{META_SHEET}»), có thể số liệu "
            f"đã được chép sang một tệp mới; hãy điền vào chính tệp biểu mẫu đã gửi. Các trang tính: {listed}")])
    table, problems = read_sheet_text(path, label, sheet=META_SHEET, hidden=True)  # hidden on purpose
    meta = {}
    if not problems and {"Khóa", "Giá trị"} <= set(table.columns):
        meta = dict(zip(table["Khóa"], table["Giá trị"], strict=True))
    missing = [k for k in META_KEYS if not meta.get(k)]
    if problems or missing:
        return Return(path, label, sheets=info.sheets, saved=info.saved, mtime=mtime, problems=problems or [Problem(
            label, None, None, None, f"thông tin biểu mẫu bị sửa hoặc thiếu ({', '.join(missing)}): không nhận ra "
            "bên nộp; hãy điền vào chính tệp biểu mẫu đã gửi", cell=sheet_ref(META_SHEET, "A1"))])
    return Return(path, label, meta=meta, sheets=info.sheets, saved=info.saved, mtime=mtime)


@dataclass(frozen=True)
class Choice:
    """The copies of one party's form found in the folder, and the one that counts.

    ``used`` is None when nothing usable came (missing, or only copies for another year).
    ``earlier``: this year's copies that lost to ``used``; ``other_year``: copies for
    another year.  ``version_ok``: ``used`` was made from this year's rules and registry.
    """

    party: Party
    used: Return | None
    earlier: list[Return]
    other_year: list[Return]
    version_ok: bool = True


def choose(yf: YearForms, returns: list[Return]) -> tuple[list[Choice], list[Return]]:
    """Each party's copies and the one that counts; and the identified returns of no party of the year.

    A return is matched to a party by the party key of its metadata; one naming a party
    the year does not have is returned apart (with ``problems`` said by the caller).
    """
    by_party: dict[str, list[Return]] = {}
    strangers = []
    for ret in returns:
        if ret.problems:
            continue
        if yf.party(ret.party) is None:
            strangers.append(ret)
        else:
            by_party.setdefault(ret.party, []).append(ret)
    choices = []
    for party in yf.parties:
        copies = sorted(by_party.get(party.key, []), key=lambda r: r.order)
        this_year = [r for r in copies if r.year == yf.year]
        other = [r for r in copies if r.year != yf.year]
        used = this_year[-1] if this_year else None
        choices.append(Choice(party, used, this_year[:-1], other,
                              version_ok=used is None or used.meta.get("version") == party.version))
    return choices, strangers
