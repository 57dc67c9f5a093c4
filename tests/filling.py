"""Filling the parties' forms from a year's own tables, as the parties would (openpyxl, cell by cell).

Used by the collection tests: the forms of the illustrative year are generated, filled from
``data/example-2021/*.csv`` and collected back.  Each party writes only its own part: a unit
its self scores, evidence and notes; a body its appraisal; a rater its answers; the council
its items.  Numbers go in as numbers, except where a test asks for a decimal comma typed as
text; "không áp dụng" is typed where the year says so (a unit that leaves its self score
blank on such a criterion writes it out, since the form asks for every row).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from evaluation.inputs.tables import read_csv_text
from evaluation.text import name_key

NA = "không áp dụng"


def example_tables(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ("criteria", "survey", "adjustments"):
        table, problems = read_csv_text(folder / f"{name}.csv")
        assert not problems
        out[name] = table.drop(columns="_row").fillna("")
    return out


def _number(text: str, *, comma: bool = False):
    """A number cell as a party types it: a number, or the text "9,5" when ``comma``."""
    if text == "" or name_key(text) == name_key(NA):
        return text or None
    value = float(text.replace(",", "."))
    if comma and not value.is_integer():
        return str(text).replace(".", ",")
    return int(value) if value.is_integer() else value


def _columns(ws) -> dict[str, int]:
    return {str(c.value).split(". ")[0]: c.column for c in ws[1] if c.value}


def fill_self(path: Path, unit: str, criteria: pd.DataFrame, *, comma: bool = False) -> None:
    wb = load_workbook(path)
    ws = wb["Tự chấm"]
    col = _columns(ws)
    mine = criteria[criteria["Đơn vị"] == unit].set_index("Mã tiêu chí")
    for r in range(2, ws.max_row + 1):
        code = ws.cell(row=r, column=col["Mã tiêu chí"]).value
        row = mine.loc[code]
        own = row["Điểm tự chấm"] or (NA if name_key(row["Điểm thẩm định"]) == name_key(NA) else "")
        ws.cell(row=r, column=col["Điểm tự chấm"], value=_number(own, comma=comma))
        ws.cell(row=r, column=col["Minh chứng"], value=row["Minh chứng"] or None)
        ws.cell(row=r, column=col["Giải trình"], value=row.get("Giải trình") or None)
        ws.cell(row=r, column=col["Ghi chú"], value=row["Ghi chú"] or None)
    wb.save(path)


def fill_appraisal(path: Path, criteria: pd.DataFrame) -> None:
    wb = load_workbook(path)
    ws = wb["Thẩm định"]
    col = _columns(ws)
    given = criteria.set_index(["Đơn vị", "Mã tiêu chí"])["Điểm thẩm định"]
    for r in range(2, ws.max_row + 1):
        key = (ws.cell(row=r, column=col["Đơn vị"]).value, ws.cell(row=r, column=col["Mã tiêu chí"]).value)
        ws.cell(row=r, column=col["Điểm thẩm định"], value=_number(given[key]))
    wb.save(path)


def fill_survey_grid(path: Path, rater: str, survey: pd.DataFrame) -> None:
    wb = load_workbook(path)
    mine = survey[survey["Mã người đánh giá"] == rater].set_index(["Đơn vị được đánh giá", "Mã câu hỏi"])["Điểm"]
    for ws in wb.worksheets:
        if not ws.title.startswith("Phiếu") or ws.sheet_state != "visible":
            continue
        col = _columns(ws)
        questions = [h for h in col if "-" in h]
        for r in range(2, ws.max_row + 1):
            unit = ws.cell(row=r, column=col["Đơn vị được đánh giá"]).value
            for q in questions:
                if (unit, q) in mine.index:
                    ws.cell(row=r, column=col[q], value=_number(mine[(unit, q)]))
    wb.save(path)


def fill_survey_list(path: Path, kind: str, survey: pd.DataFrame) -> None:
    wb = load_workbook(path)
    mine = survey[survey["Loại người đánh giá"] == kind]
    for ws in wb.worksheets:
        if not ws.title.startswith("Phiếu") or ws.sheet_state != "visible":
            continue
        col = _columns(ws)
        questions = [h for h in col if "-" in h]
        rows = mine[mine["Mã câu hỏi"].isin(questions)]
        wide = rows.pivot_table(index=["Mã người đánh giá", "Đơn vị được đánh giá"], columns="Mã câu hỏi",
                                values="Điểm", aggfunc="first", sort=False)
        for r, ((rater, unit), answers) in enumerate(wide.iterrows(), start=2):
            ws.cell(row=r, column=col["Mã người đánh giá"], value=rater)
            ws.cell(row=r, column=col["Đơn vị được đánh giá"], value=unit)
            for q in questions:
                ws.cell(row=r, column=col[q], value=_number(answers[q]))
    wb.save(path)


def fill_council(path: Path, adjustments: pd.DataFrame) -> None:
    wb = load_workbook(path)
    ws = wb["Điểm thưởng, điểm trừ"]
    col = {c.value: c.column for c in ws[1] if c.value}
    for r, row in enumerate(adjustments.itertuples(index=False), start=2):
        for header, value in zip(adjustments.columns, row, strict=True):
            numeric = header in ("Số lần", "Số điểm")
            ws.cell(row=r, column=col[header], value=(_number(value) if numeric else value) or None)
    wb.save(path)


def fill_all(forms: Path, tables: dict[str, pd.DataFrame], yf, *, comma_unit: str | None = None,
             skip: set[str] = frozenset()) -> dict[str, Path]:
    """Fill every form under ``forms`` (in place); return each party's file by party key."""
    files = {}
    for party in yf.parties:
        if party.key in skip:
            continue
        path = forms / yf.relative_path(party)
        if party.kind == "self":
            fill_self(path, party.name, tables["criteria"], comma=party.name == comma_unit)
        elif party.kind == "appraisal":
            fill_appraisal(path, tables["criteria"])
        elif party.kind == "survey" and all(s.grid for s in party.sheets):
            fill_survey_grid(path, party.id, tables["survey"])
        elif party.kind == "survey":
            fill_survey_list(path, party.id, tables["survey"])
        else:
            fill_council(path, tables["adjustments"])
        files[party.key] = path
    return files


def set_saved(path: Path, when: str) -> None:
    """Set the save time a workbook records (``2022-01-10T08:00:00Z``), as Excel does at each save."""
    import io
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + when.encode() + rb"\g<2>", data)
            dst.writestr(info, data)
    path.write_bytes(out.getvalue())


def set_meta(path: Path, key: str, value: str) -> None:
    """Change one value of a form's hidden metadata sheet (a form made for another year, say)."""
    from evaluation.forms.workbooks import META_SHEET

    wb = load_workbook(path)
    ws = wb[META_SHEET]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == key)
    ws.cell(row=row, column=3, value=value)
    wb.save(path)
