"""The status board of a collection: for every party, returned or not, and what is wrong.

One row per party of the year, in the order of the forms (self-assessments, appraisals,
surveys, council), then one row per returned file that belongs to no party.  Columns:
:data:`evaluation.inputs.provenance.STATUS_COLUMNS`.

Statuses: «đã nộp»; «nộp nhiều lần» (the copy saved last counts — see
:mod:`evaluation.forms.returns` — and the others are named); «chưa nộp»; «sai năm» (only
copies made for another year); «sai phiên bản» (a form made under other rules or another
registry); «có lỗi» (values were read, some rows refused: see the problems);
«không nhận ra» (a file the collector cannot attribute).  Everything but the first two
keeps the collection open: ``collect`` exits with status 2.
"""

from __future__ import annotations

import pandas as pd

from ..inputs.provenance import STATUS_COLUMNS, STATUS_RULE
from .collect import Collected
from .parties import KINDS
from .returns import saved_text

__all__ = ["STATUS", "status_board", "complete", "board_text", "LATER_RULE"]

STATUS = {"ok": "đã nộp", "twice": "nộp nhiều lần", "missing": "chưa nộp", "wrong_year": "sai năm",
          "wrong_version": "sai phiên bản", "problems": "có lỗi", "unknown": "không nhận ra"}
DONE = (STATUS["ok"], STATUS["twice"])
LATER_RULE = STATUS_RULE


def status_board(col: Collected) -> pd.DataFrame:
    """The board as a table (canonical column names; :data:`STATUS_COLUMNS` gives the headers)."""
    rows = []
    for ch in col.choices:
        party = ch.party
        problems = col.problems.get(party.key, [])
        notes = []
        if ch.used is None:
            status = STATUS["wrong_year"] if ch.other_year else STATUS["missing"]
        elif not ch.version_ok:
            status = STATUS["wrong_version"]
            notes.append(f"phiên bản {ch.used.meta.get('version')}, cần {party.version}")
        elif problems:
            status = STATUS["problems"]
        elif ch.earlier:
            status = STATUS["twice"]
        else:
            status = STATUS["ok"]
        if ch.earlier:
            notes.append("bản không dùng (lưu trước): " + "; ".join(f"«{r.label}» ({saved_text(r)})"
                                                                    for r in reversed(ch.earlier)))
        if ch.other_year:
            notes.append("bản của năm khác: " + "; ".join(f"«{r.label}» (năm {r.meta.get('year')})"
                                                         for r in ch.other_year))
        rows.append({"kind": KINDS[party.kind].label, "party": party.name, "key": party.key, "status": status,
                     "workbook": ch.used.label if ch.used else "", "saved": saved_text(ch.used) if ch.used else "",
                     "problems": len(problems), "note": " · ".join(notes)})
    strangers = {r.label for r in col.strangers}
    for ret in col.returns:
        if ret.problems or ret.label in strangers:
            mine = [p for p in col.problems.get("", []) if p.file == ret.label]
            rows.append({"kind": "", "party": ret.meta.get("name", ""), "key": ret.meta.get("party", ""),
                         "status": STATUS["unknown"], "workbook": ret.label, "saved": saved_text(ret),
                         "problems": len(mine), "note": mine[0].expected if mine else ""})
    return pd.DataFrame(rows, columns=list(STATUS_COLUMNS)).astype({"problems": "int64"})


def complete(board: pd.DataFrame) -> bool:
    """True when every party returned a usable form without problems and no file is unaccounted for."""
    return bool(board["status"].isin(DONE).all() and (board["problems"] == 0).all())


def _counts(board: pd.DataFrame) -> list[str]:
    lines = []
    for kind in KINDS.values():
        mine = board[board["kind"] == kind.label]
        if not len(mine):
            continue
        done = int(mine["status"].isin(DONE).sum())
        rest = mine.loc[~mine["status"].isin(DONE), "status"].value_counts()
        extra = "".join(f" · {n} {s}" for s, n in rest.items())
        lines.append(f"  {kind.label.capitalize()}: {done}/{len(mine)} đã nộp{extra}")
    unknown = int((board["status"] == STATUS["unknown"]).sum())
    if unknown:
        lines.append(f"  Tệp không nhận ra: {unknown}")
    return lines


def board_text(board: pd.DataFrame, *, year: int, folder: str) -> str:
    """The board as the command prints it: counts per kind, then one line per party."""
    head = [f"Tình hình nộp biểu mẫu năm {year} (thư mục {folder}):", *_counts(board), f"  {LATER_RULE}", ""]
    shown = board.assign(problems=board["problems"].map(lambda n: f"{n} lỗi" if n else ""))
    cols = ["kind", "party", "status", "problems", "workbook", "note"]
    titles = {c: STATUS_COLUMNS[c] for c in cols}
    widest = {"workbook": 60}   # a file's name is what users look for: cut it last
    widths = {c: min(widest.get(c, 38), max(len(titles[c]), *(len(str(v)) for v in shown[c]))) for c in cols[:-1]}

    def fit(text: str, width: int) -> str:
        text = str(text)
        return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)

    lines = ["  " + "  ".join(fit(titles[c], widths[c]) for c in cols[:-1]) + "  " + titles["note"]]
    for row in shown.itertuples(index=False):
        record = row._asdict()
        lines.append(("  " + "  ".join(fit(record[c], widths[c]) for c in cols[:-1]) + "  " + record["note"]).rstrip())
    return "\n".join(head + lines)
