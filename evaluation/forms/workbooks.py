"""The workbook of one party: instructions, its sheets, the lists, and who it belongs to.

Sheets of a party's form:

* «Hướng dẫn» — for whom the form is, what to write in each column (said from the same
  plan the collector checks), how to return it, and, for a form sent again, what was
  wrong with the copy returned;
* the party's sheets (:class:`~evaluation.forms.parties.Sheet`): pre-filled columns grey and
  locked (the sheet is protected without a password, so that a code or a maximum is not
  changed by accident), input cells open, each with an input message and an error
  message in Vietnamese; points limited to the row's own maximum or «không áp dụng»,
  answers to the survey's scale, units and codes as drop-down lists;
* «Danh mục» — the lists the drop-downs use, protected (free lists only);
* «Nội dung thưởng, trừ» — the council's items with their rates, caps and scope (read only);
* «Thông tin biểu mẫu» — very hidden and protected: party, year, form version and rules.
  The collector identifies a returned workbook by this sheet, never by its file name.

The bytes are deterministic: the same plan gives the same file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..errors import Problem
from ..files import deterministic_zip
from ..fmt import fmt_bound
from ..inputs.catalogue import items_frame, scope_text
from ..inputs.registry import Registry
from ..inputs.rules import Rules
from ..inputs.schemas import ADJUSTMENTS, CONDITIONS
from ..inputs.workbook import sheet_ref
from .forms import (
    _HEADER_FILL,
    _LOCKED_FILL,
    HELP_SHEET,
    LISTS_SHEET,
    MIN_ROWS,
    SPARE_ROWS,
    UNITS_NAME,
    _fit,
    _lists_sheet,
    _plain,
    _printable,
    _required,
    _table_sheet,
    form_units,
)
from .parties import KINDS, NA_TEXT, Party, Sheet

__all__ = ["META_SHEET", "ITEMS_SHEET", "META_KEYS", "build_party_workbook", "write_party_workbook"]

META_SHEET = "Thông tin biểu mẫu"
ITEMS_SHEET = "Nội dung thưởng, trừ"
# Keys of the metadata sheet and what they say to a person who opens it anyway.
META_KEYS = {"kind": "Loại biểu mẫu", "party": "Mã bên nộp", "name": "Bên nộp", "year": "Năm đánh giá",
             "version": "Phiên bản biểu mẫu", "rules": "Quy định"}
_NEEDS_FILL = "FCE4D6"   # a claimed point without evidence nor explanation
_PROMPT_TITLE, _PROMPT, _ERROR_TITLE, _ERROR = 32, 255, 32, 225


def _letters(sheet: Sheet) -> dict[str, str]:
    from openpyxl.utils import get_column_letter

    return {c.name: get_column_letter(j) for j, c in enumerate(sheet.columns, start=1)}


def _dv(kind: str | None, col, **kwargs):
    from openpyxl.worksheet.datavalidation import DataValidation

    note = col.note or col.header
    return DataValidation(type=kind, allow_blank=True, showInputMessage=True, showErrorMessage=True,
                          errorStyle="stop", promptTitle=_fit(col.header, _PROMPT_TITLE),
                          prompt=_fit(note[:1].upper() + note[1:] + ".", _PROMPT), **kwargs)


def _list_key(sheet: Sheet) -> str:
    return f"don_vi_{sheet.title}"


def _validation(sheet: Sheet, col, letters: Mapping[str, str], first: int):
    """The data validation of an input column (None when the column takes any text)."""
    spec = col.spec
    if spec.kind == "unit":
        from .forms import _list_name

        name = UNITS_NAME if sheet.choices is None else _list_name(_list_key(sheet))
        return _dv("list", col, formula1=name, errorTitle=_fit("Đơn vị không có trong danh sách", _ERROR_TITLE),
                   error=_fit(f"Chọn tên đơn vị trong danh sách thả xuống (trang «{LISTS_SHEET}»).", _ERROR))
    if spec.kind == "number" and spec.not_applicable and "max_points" in letters:
        # Points: from 0 to the row's own maximum, or the words "không áp dụng".
        c, m = letters[col.name], letters["max_points"]
        formula = (f'OR(AND(ISNUMBER({c}{first}),{c}{first}>=0,{c}{first}<=${m}{first}),'
                   f'LOWER(TRIM({c}{first}))="{NA_TEXT}")')
        return _dv("custom", col, formula1=formula, errorTitle=_fit("Điểm không hợp lệ", _ERROR_TITLE),
                   error=_fit(f"Cần một số từ 0 đến điểm tối đa của tiêu chí (cột «Điểm tối đa»), "
                              f"hoặc «{NA_TEXT}».", _ERROR))
    if spec.kind in ("number", "integer") and spec.bounds in sheet.bounds:
        lo, hi = sheet.bounds[spec.bounds]
        what = "một số" if spec.kind == "number" else "một số nguyên"
        kind = "decimal" if spec.kind == "number" else "whole"
        if hi is None:
            return _dv(kind, col, operator="greaterThanOrEqual", formula1=_plain(lo),
                       errorTitle=_fit("Giá trị không hợp lệ", _ERROR_TITLE),
                       error=_fit(f"Cần {what} từ {fmt_bound(lo)} trở lên.", _ERROR))
        return _dv(kind, col, operator="between", formula1=_plain(lo), formula2=_plain(hi),
                   errorTitle=_fit("Giá trị không hợp lệ", _ERROR_TITLE),
                   error=_fit(f"Cần {what} từ {fmt_bound(lo)} đến {fmt_bound(hi)}.", _ERROR))
    return _dv(None, col)


def _cell_value(value):
    """A pre-filled value as the cell should hold it: numbers as numbers, the rest as text."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text.replace(",", ".")) if text else None
        except ValueError:
            return text or None
        return int(number) if number is not None and number.is_integer() and "." not in text else number
    if hasattr(value, "item"):
        value = value.item()
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _data_sheet(wb, sheet: Sheet, sent: pd.DataFrame | None) -> None:
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Alignment, Font, PatternFill, Protection

    ws = wb.create_sheet(sheet.title)
    letters = _letters(sheet)
    ws.append([c.header for c in sheet.columns])
    rows = sheet.rows
    if sheet.grid:
        values = pd.DataFrame({c.name: rows[c.name] if (c.fixed and c.name in rows) else None for c in sheet.columns})
        if sent is not None and len(sent):
            keyed = sent.drop_duplicates(list(sheet.keys), keep="last").set_index(list(sheet.keys))
            where = pd.MultiIndex.from_frame(rows[list(sheet.keys)]) if len(sheet.keys) > 1 else rows[sheet.keys[0]]
            for c in sheet.columns:
                if not c.fixed and c.name in keyed:
                    values[c.name] = keyed[c.name].reindex(where).to_numpy()
        n = len(values)
    else:
        values = sent[[c.name for c in sheet.columns if c.name in sent]] if sent is not None else pd.DataFrame()
        n = len(values)
    for i in range(n):
        ws.append([_cell_value(values.iloc[i][c.name]) if c.name in values else None for c in sheet.columns])
    last = 1 + (n if sheet.grid else max(n + SPARE_ROWS, MIN_ROWS))
    grey = PatternFill("solid", fgColor=_LOCKED_FILL)
    head_fill = PatternFill("solid", fgColor=_HEADER_FILL)
    for j, col in enumerate(sheet.columns, start=1):
        letter = letters[col.name]
        head = ws.cell(row=1, column=j)
        head.font = Font(bold=True)
        head.fill = head_fill
        head.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[letter].width = col.width
        text_like = col.spec.kind in ("unit", "code", "text")
        if text_like:
            # Typed text stays text: Excel would turn "1-2" into a date and "007" into 7.
            ws.column_dimensions[letter].number_format = "@"
        for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=j, max_col=j):
            if col.fixed and sheet.grid:
                cell.fill = grey
                cell.alignment = Alignment(wrap_text=col.width >= 24, vertical="top")
            else:
                cell.protection = Protection(locked=False)
                if sheet.grid:
                    cell.alignment = Alignment(wrap_text=text_like, vertical="top")
            if text_like:
                cell.number_format = "@"
        if not (col.fixed and sheet.grid):
            dv = _validation(sheet, col, letters, 2)
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
    if "evidence" in letters and "self_points" in letters and n:
        # Points claimed with neither evidence nor explanation: both cells light up until one is written.
        p, e, x = letters["self_points"], letters["evidence"], letters["explanation"]
        claimed = [i + 2 for i in range(n) if pd.isna(rows["by_survey"].iloc[i])]
        rule = FormulaRule(formula=[f'AND(ISNUMBER(${p}2),${p}2>0,LEN(TRIM(${e}2))=0,LEN(TRIM(${x}2))=0)'],
                           fill=PatternFill("solid", fgColor=_NEEDS_FILL, bgColor=_NEEDS_FILL))
        ranges = " ".join(f"{e}{r}:{x}{r}" for r in claimed)
        if ranges:
            ws.conditional_formatting.add(ranges, rule)
    if sheet.grid:
        # Wrapped pre-filled texts (criterion names) need taller rows: Excel does not grow them itself.
        wrapped = [c for c in sheet.columns if c.fixed and c.width >= 24 and c.name in values]
        for i in range(n):
            lines = max([1] + [-(-len(str(values.iloc[i][c.name])) // int(c.width * 1.1)) for c in wrapped])
            if lines > 1:
                ws.row_dimensions[i + 2].height = 15 * lines
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 45 if any(len(c.header) > 20 for c in sheet.columns) else 30
    _printable(ws, repeat_header=True)
    if sheet.grid:
        # Locked: pre-filled cells; the input cells were unlocked above. No password: it prevents
        # accidents, not people. Column widths and row heights can still be changed.
        ws.protection.sheet = True
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.protection.formatCells = False


def _items_sheet(wb, rules: Rules, registry: Registry) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.create_sheet(ITEMS_SHEET)
    items = items_frame(rules)
    names = registry.units["short_name"]
    headers = ["Mã nội dung", "Loại", "Nội dung", "Mức điểm", "Tối đa cả nội dung", "Áp dụng cho", "Quy định"]
    ws.append(headers)
    widths = [10, 8, 70, 26, 10, 28, 20]
    for it, row in zip(rules.adjustments.items, items.itertuples(index=False), strict=True):
        if row.rate == "points":
            rate = f"{fmt_bound(it.points)} điểm mỗi lần (ghi «Số lần»)"
        elif row.rate == "up_to":
            rate = f"tối đa {fmt_bound(it.up_to)} điểm mỗi lần (ghi «Số điểm»)"
        else:
            rate = "Hội đồng quyết định (ghi «Số điểm»)"
        ws.append([it.code, "thưởng" if it.kind == "bonus" else "trừ", " ".join(it.text.split()), rate,
                   fmt_bound(it.cap) if it.cap is not None else "", scope_text(it.scope, rules, names),
                   "" if it.confirmed else "chưa được xác nhận bằng văn bản gốc"])
    for j, width in enumerate(widths, start=1):
        from openpyxl.utils import get_column_letter

        ws.column_dimensions[get_column_letter(j)].width = width
        ws.cell(row=1, column=j).font = Font(bold=True)
        ws.cell(row=1, column=j).fill = PatternFill("solid", fgColor=_HEADER_FILL)
        ws.cell(row=1, column=j).alignment = Alignment(wrap_text=True, vertical="center")
    for r, row in enumerate(ws.iter_rows(min_row=2), start=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        # Wrapped texts need taller rows: Excel and LibreOffice do not grow them on their own.
        lines = max(-(-len(str(c.value or "")) // int(w * 1.1)) for c, w in zip(row, widths, strict=True))
        ws.row_dimensions[r].height = 15 * max(1, lines)
    ws.freeze_panes = "A2"
    _printable(ws, repeat_header=True)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _meta_sheet(wb, party: Party, rules: Rules, year: int) -> None:
    ws = wb.create_sheet(META_SHEET)
    ws.append(["Khóa", "Nội dung", "Giá trị"])
    values = {"kind": party.kind, "party": party.key, "name": party.name, "year": str(year),
              "version": party.version, "rules": rules.id}
    for key, label in META_KEYS.items():
        ws.append([key, label, values[key]])
        ws.cell(row=ws.max_row, column=3).number_format = "@"
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


def _steps(party: Party, year: int, issuer: str) -> list[str]:
    sheets = [s for s in party.sheets]
    titles = ", ".join(f"«{s.title}»" for s in sheets)
    steps = []
    if party.kind == "self":
        steps += [f"Trang {titles}: mỗi dòng là một tiêu chí của bộ tiêu chí của đơn vị; các cột nền xám (mã, tên "
                  "tiêu chí, điểm tối đa, cơ quan thẩm định) đã ghi sẵn và được khóa.",
                  f"Ghi «Điểm tự chấm» cho mọi tiêu chí: từ 0 đến điểm tối đa của tiêu chí, hoặc «{NA_TEXT}» khi "
                  "tiêu chí không áp dụng với đơn vị (điểm các tiêu chí còn lại được quy đổi).",
                  "Mỗi tiêu chí tự chấm trên 0 điểm phải có «Minh chứng» (số, ký hiệu văn bản, tên hồ sơ); nếu không "
                  "có minh chứng thì ghi lý do ở cột «Giải trình». Ô còn thiếu hiện nền cam. Tiêu chí chấm qua phiếu "
                  "đánh giá không cần minh chứng."]
    elif party.kind == "appraisal":
        steps += [f"Trang {titles}: mỗi dòng là một tiêu chí của một đơn vị mà {party.name} thẩm định; các cột nền "
                  "xám đã ghi sẵn và được khóa.",
                  f"Ghi «Điểm thẩm định» cho mọi dòng: từ 0 đến điểm tối đa của tiêu chí, hoặc «{NA_TEXT}» khi "
                  "tiêu chí không áp dụng với đơn vị."]
    elif party.kind == "survey" and all(s.grid for s in sheets):
        steps += [f"Mỗi phiếu một trang ({titles}); mỗi dòng là một đơn vị được đánh giá, mỗi câu hỏi một cột.",
                  "Ghi điểm cho mọi câu hỏi của đơn vị mình đánh giá; bỏ trống cả dòng nếu không đánh giá đơn vị đó."]
    elif party.kind == "survey":
        steps += [f"Mỗi phiếu một trang ({titles}). Mỗi người đánh giá ({party.name.lower()}) có một mã riêng "
                  "(ví dụ DN001) và ghi một dòng cho mỗi đơn vị mình đánh giá: mã, tên đơn vị (chọn trong danh sách "
                  "thả xuống) và điểm từng câu hỏi.",
                  "Một người không đánh giá một đơn vị hai lần trong cùng một phiếu; mọi câu hỏi của dòng phải có điểm."]
    else:
        steps += [f"Trang {titles}: mỗi dòng là một nội dung thưởng hoặc trừ của một đơn vị, theo quyết định của "
                  f"{party.name}. Các nội dung, mức điểm và phạm vi áp dụng ở trang «{ITEMS_SHEET}».",
                  "Nội dung có mức điểm cố định: ghi «Số lần», để trống «Số điểm». Nội dung «tối đa» hoặc do Hội "
                  "đồng quyết định: ghi «Số điểm». Ghi cơ quan đề nghị và văn bản minh chứng."]
    steps += [
        "Ô số chỉ nhận số trong khoảng cho phép (Excel báo ngay khi nhập sai). Dấu thập phân theo cài đặt của máy "
        "(9,5 hoặc 9.5): công cụ đọc được cả hai. Có thể dùng công thức: công cụ đọc giá trị đã tính khi lưu.",
        "Giữ nguyên tên các trang tính và dòng tiêu đề (dòng 1); không gộp ô, không ẩn trang tính, không thêm cột.",
        "Lưu tệp dạng .xlsx. Được đổi tên tệp: công cụ nhận ra biểu mẫu qua thông tin ẩn trong tệp (bên nộp, năm, "
        "phiên bản), không qua tên tệp. Nộp lại nhiều lần thì bản lưu sau cùng được dùng.",
        f"Gửi tệp đã điền về {issuer or 'cơ quan thường trực'}. Mọi lỗi (nếu có) được báo lại cùng một lần, mỗi lỗi kèm "
        f"trang tính và ô (ví dụ {sheet_ref(sheets[0].title, 'G5')}).",
    ]
    return steps


def _help_sheet(wb, party: Party, rules: Rules, year: int, heading: str, issuer: str,
                problems: Iterable[Problem]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.active
    ws.title = HELP_SHEET
    _printable(ws, repeat_header=False)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 90
    wrap = Alignment(wrap_text=True, vertical="top")

    def line(text: str = "", *, bold: bool = False, size: int | None = None, color: str | None = None) -> None:
        ws.append([text or None])
        cell = ws.cell(row=ws.max_row, column=1)
        cell.font = Font(bold=bold, size=size, color=color)
        if text:
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=3)
            cell.alignment = wrap
            ws.row_dimensions[ws.max_row].height = 15 * (1 + len(text) // 120)

    def table_row(values: list[str], *, header: bool = False) -> None:
        ws.append(values)
        for j in range(1, len(values) + 1):
            cell = ws.cell(row=ws.max_row, column=j)
            cell.alignment = wrap
            if header:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        ws.row_dimensions[ws.max_row].height = 15 * (1 + max(len(v) for v in values) // 85)

    kind = KINDS[party.kind]
    line(f"{kind.title} NĂM {year}", bold=True, size=13)
    line(f"Bên nộp: {party.name}", bold=True)
    if heading:
        line(heading)
    line(f"Quy định áp dụng: {rules.name}.")
    problems = list(problems)
    if problems:
        line()
        line(f"Bản đã nộp có {len(problems)} lỗi cần sửa (số liệu đã nộp được ghi lại sẵn trong biểu này):",
             bold=True, color="C00000")
        for p in problems[:200]:
            where = f"ô {p.cell}" if p.cell else (f"cột «{p.column}»" if p.column else "")
            value = f": «{p.value}»" if p.value is not None else ""
            line(f"– {where}{value} — {p.expected}".replace("– —", "–"))
        if len(problems) > 200:
            line(f"… và {len(problems) - 200} lỗi khác.")
    line()
    line("Cách điền", bold=True)
    for i, text in enumerate(_steps(party, year, issuer), start=1):
        line(f"{i}. {text}")
    for sheet in party.sheets:
        line()
        line(f"Trang «{sheet.title}»", bold=True)
        if sheet.description:
            line(sheet.description)
        table_row(["Cột", "Bắt buộc", "Nội dung"], header=True)
        for col in sheet.columns:
            if col.fixed and sheet.grid:
                table_row([col.header, "ghi sẵn", "biểu mẫu ghi sẵn, không sửa"])
            else:
                required = "có" if (col.must_fill or not col.spec.nullable) else "không"
                if party.kind == "self" and col.name in ("evidence", "explanation"):
                    required = "khi tự chấm trên 0 điểm"
                elif party.kind == "council":
                    required = _required(col.spec)
                table_row([col.header, required, col.note or col.header])
    line()
    line(f"Mã biểu mẫu: {party.key} · năm {year} · phiên bản {party.version} · quy định {rules.id}.")


def build_party_workbook(party: Party, rules: Rules, registry: Registry, year: int, *, heading: str = "",
                         issuer: str = "", sent: Mapping[str, pd.DataFrame] | None = None,
                         problems: Iterable[Problem] = ()):
    """The form of ``party`` (an openpyxl ``Workbook``), not yet saved.

    Parameters
    ----------
    party : Party
    rules, registry : Rules, Registry
    year : int
    heading : str
        A line under the title (who issues the forms).
    issuer : str
        Whom the form goes back to ("Sở Nội vụ").
    sent : mapping, optional
        Values the party sent before, by sheet title (canonical column names, with the
        sheet's keys): written into the fresh form so that only the problems need fixing.
    problems : iterable of Problem
        What was wrong with the copy the party sent, listed in the instructions.
    """
    from openpyxl import Workbook

    sent = dict(sent or {})
    wb = Workbook()
    _help_sheet(wb, party, rules, year, heading, issuer, problems)
    units = form_units(registry, rules, year)
    council = {s.name: s for s in (ADJUSTMENTS, CONDITIONS)}
    lists: dict[str, list[tuple[str, str]]] = {}
    titles: dict[str, str] = {}
    for sheet in party.sheets:
        if party.kind == "council":
            spec = council[sheet.table]
            for c in spec.columns:
                if c.name in spec.codes:
                    key = spec.codes[c.name]
                    lists[key] = [(code, name) for code, name in _code_names(rules, key) if code in sheet.codes[c.name]]
                    titles[key] = c.header
            _table_sheet(wb, spec, units, lists, sheet.bounds, year)
            _write_rows(wb[sheet.title], sheet, sent.get(sheet.title))
        else:
            if sheet.choices is not None:
                key = _list_key(sheet)
                lists[key] = list(zip(sheet.choices["name"], sheet.choices["unit_id"], strict=True))
                titles[key] = f"Đơn vị được đánh giá ({sheet.title})"
            _data_sheet(wb, sheet, sent.get(sheet.title))
    if party.kind == "council" and rules.adjustments.items:
        _items_sheet(wb, rules, registry)
    if not all(s.grid for s in party.sheets):
        _lists_sheet(wb, units, lists, titles)
    _meta_sheet(wb, party, rules, year)
    wb.properties.title = f"{KINDS[party.kind].title.capitalize()} năm {year} — {party.name}"
    wb.properties.creator = "evaluation"
    wb.active = 0
    return wb


def _code_names(rules: Rules, key: str) -> list[tuple[str, str]]:
    from ..inputs.domains import code_lists

    return code_lists(rules)[key]


def _write_rows(ws, sheet: Sheet, sent: pd.DataFrame | None) -> None:
    """Values a party sent before, written under the header of a free list (council)."""
    if sent is None or not len(sent):
        return
    for i, row in enumerate(sent.itertuples(index=False), start=2):
        record = row._asdict()
        for j, col in enumerate(sheet.columns, start=1):
            if col.name in record:
                ws.cell(row=i, column=j, value=_cell_value(record[col.name]))


def write_party_workbook(path: Path, party: Party, rules: Rules, registry: Registry, year: int, **kwargs) -> bytes:
    """Write the form of ``party`` to ``path`` (deterministic bytes) and return the bytes."""
    wb = build_party_workbook(party, rules, registry, year, **kwargs)
    buf = io.BytesIO()
    wb.save(buf)
    data = deterministic_zip(buf.getvalue())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(data)
    return data
