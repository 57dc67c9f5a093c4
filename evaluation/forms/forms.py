"""Excel input forms for a year, generated from the rules, the registry and the declared schemas.

One workbook per year:

* «Hướng dẫn» — how to fill the forms, in Vietnamese, written from the same
  declarations the checks use (columns, ranges, code lists, tiers);
* one sheet per input table of :data:`evaluation.inputs.schemas.TABLES`, titled with
  the table's Vietnamese title, headers in row 1 (frozen), unit names and codes
  as drop-down lists, numbers limited to their range, each with an input message
  and an error message in Vietnamese;
* «Danh mục» — the units valid in the year and every code list, which the
  drop-downs refer to through defined names; protected so that a list is not
  edited by accident.

Tables are generated from their :class:`~evaluation.inputs.schemas.TableSpec`, so a
table declared later gets its sheet without any change here.  A table with a
code column whose list is empty in the rules (no condition defined, say) could
hold no valid row, and is left out.  Tables keyed by unit alone are pre-filled
with one row per unit valid in the year, in the rules' group order.

The bytes are deterministic (no timestamps): the same rules and registry give
the same file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..files import deterministic_zip
from ..fmt import fmt_bound
from ..inputs.domains import code_lists, value_bounds
from ..inputs.registry import Registry
from ..inputs.rules import Rules
from ..inputs.schemas import NOT_APPLICABLE, TABLES, ColumnSpec, TableSpec
from ..inputs.workbook import sheet_ref

__all__ = ["form_tables", "form_units", "build_forms", "write_forms", "HELP_SHEET", "LISTS_SHEET",
           "SPARE_ROWS"]

HELP_SHEET = "Hướng dẫn"
LISTS_SHEET = "Danh mục"
SPARE_ROWS = 500          # rows below the pre-filled ones that keep the drop-downs and limits
MIN_ROWS = 2000           # a table that is not pre-filled gets at least this many prepared rows
UNITS_NAME = "DS_DON_VI"  # defined name of the unit list
_HEADER_FILL = "D9E2F3"
_LOCKED_FILL = "F2F2F2"
# Excel refuses longer texts in data validation messages (and says the file is damaged).
_PROMPT_TITLE, _PROMPT, _ERROR_TITLE, _ERROR = 32, 255, 32, 225
_KIND_TEXT = {
    "unit": "tên đơn vị — chọn trong danh sách thả xuống",
    "code": "mã — chọn trong danh sách thả xuống",
    "number": "số",
    "integer": "số nguyên",
    "text": "chữ",
}


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def form_tables(rules: Rules, tables: Mapping[str, TableSpec] | None = None) -> list[TableSpec]:
    """The tables a form workbook holds under ``rules``.

    Every declared table, except those with a required code column whose list is
    empty in the rules (no row of such a table could be valid).
    """
    tables = TABLES if tables is None else tables
    lists = code_lists(rules, dict(tables))
    return [spec for spec in tables.values()
            if all(lists[spec.codes.get(c.name, c.name)] for c in spec.columns
                   if c.kind == "code" and c.required and not c.nullable)]


def form_units(registry: Registry, rules: Rules, year: int) -> pd.DataFrame:
    """Units valid in ``year`` in a group of the rules, in group order then registry order.

    Columns: ``id``, ``name`` (the short name the report prints, which the forms
    write), ``full_name``, ``group`` (id) and ``group_name``.
    """
    units = registry.units
    units = units[registry.valid_in(year) & units["group"].isin(rules.group_ids)]
    position = units["group"].map({g: i for i, g in enumerate(rules.group_ids)})
    units = units.assign(_pos=position, _row=range(len(units))).sort_values(["_pos", "_row"], kind="stable")
    names = {g.id: f"{g.numeral}. {g.name}" for g in rules.groups}
    return pd.DataFrame({
        "id": units["id"].to_numpy(),
        "name": units["short_name"].to_numpy(),
        "full_name": units["name"].to_numpy(),
        "group": units["group"].to_numpy(),
        "group_name": units["group"].map(names).to_numpy(),
    })


def _prefilled(spec: TableSpec) -> bool:
    """Tables with one row per unit (keyed by unit alone) come with the units written in."""
    return any(c.kind == "unit" for c in spec.columns) and tuple(spec.unique) == ("unit_id",)


def _list_name(key: str) -> str:
    return "DS_" + re.sub(r"[^A-Za-z0-9]+", "_", key).upper()


def _column_note(col: ColumnSpec, bounds: Mapping[str, tuple[Decimal, Decimal]],
                 lists: Mapping[str, list[tuple[str, str]]], spec: TableSpec, year: int) -> str:
    """What a column takes, in one Vietnamese sentence (instructions sheet and input messages)."""
    parts = [_KIND_TEXT[col.kind]]
    if col.kind == "unit":
        parts.append(f"đơn vị có hiệu lực năm {year}")
    if col.bounds:
        lo, hi = bounds[col.bounds]
        parts.append(f"từ {fmt_bound(lo)} đến {fmt_bound(hi)}" if hi is not None else f"từ {fmt_bound(lo)} trở lên")
    if col.kind == "number":
        parts.append("dấu thập phân là dấu phẩy hoặc dấu chấm")
    if col.kind == "code":
        items = lists[spec.codes.get(col.name, col.name)]
        parts.append("; ".join(f"{code}: {name}" for code, name in items) or "quy định chưa có mã nào")
    if col.not_applicable:
        parts.append(f"hoặc «{NOT_APPLICABLE[0]}» khi không áp dụng")
    parts.append(col.rule or ("có thể để trống" if col.nullable or not col.required else "bắt buộc"))
    return "; ".join(parts)


def _required(col: ColumnSpec) -> str:
    """The instructions' «Bắt buộc» column: as the checks decide it."""
    if col.rule:
        return "tùy dòng"
    return "có" if col.required and not col.nullable else "không"


def _validation(col: ColumnSpec, spec: TableSpec, note: str,
                bounds: Mapping[str, tuple[Decimal, Decimal]], lists: Mapping[str, list[tuple[str, str]]],
                letter: str = "A"):
    from openpyxl.worksheet.datavalidation import DataValidation

    common = dict(allow_blank=True, showInputMessage=True, showErrorMessage=True, errorStyle="stop",
                  promptTitle=_fit(col.header, _PROMPT_TITLE), prompt=_fit(note[:1].upper() + note[1:] + ".",
                                                                            _PROMPT))
    if col.kind == "unit":
        return DataValidation(type="list", formula1=UNITS_NAME,
                              errorTitle=_fit("Đơn vị không có trong danh mục", _ERROR_TITLE),
                              error=_fit(f"Chọn tên đơn vị trong danh sách thả xuống (trang «{LISTS_SHEET}»).",
                                         _ERROR), **common)
    if col.kind == "code":
        if not lists[spec.codes.get(col.name, col.name)]:
            return DataValidation(type=None, **common)  # no code to choose: the cell stays blank
        return DataValidation(type="list", formula1=_list_name(spec.codes.get(col.name, col.name)),
                              errorTitle=_fit("Mã không có trong quy định", _ERROR_TITLE),
                              error=_fit(f"Chọn mã trong danh sách thả xuống (trang «{LISTS_SHEET}»).",
                                         _ERROR), **common)
    if col.kind == "number" and col.not_applicable and col.bounds and bounds[col.bounds][1] is not None:
        # A number in range, or the words "không áp dụng": a list or a number rule alone refuses one of them.
        lo, hi = bounds[col.bounds]
        c = f"{letter}2"
        formula = (f'OR(AND(ISNUMBER({c}),{c}>={_plain(lo)},{c}<={_plain(hi)}),'
                   f'LOWER(TRIM({c}))="{NOT_APPLICABLE[0]}")')
        return DataValidation(type="custom", formula1=formula, errorTitle=_fit("Giá trị không hợp lệ", _ERROR_TITLE),
                              error=_fit(f"Cần một số từ {fmt_bound(lo)} đến {fmt_bound(hi)}, hoặc "
                                         f"«{NOT_APPLICABLE[0]}».", _ERROR), **common)
    if col.kind in ("number", "integer"):
        kind = "decimal" if col.kind == "number" else "whole"
        what = "một số" if col.kind == "number" else "một số nguyên"
        if col.bounds and bounds[col.bounds][1] is None:
            lo = bounds[col.bounds][0]
            return DataValidation(type=kind, operator="greaterThanOrEqual", formula1=_plain(lo),
                                  errorTitle=_fit("Giá trị không hợp lệ", _ERROR_TITLE),
                                  error=_fit(f"Cần {what} từ {fmt_bound(lo)} trở lên.", _ERROR), **common)
        if col.bounds:
            lo, hi = bounds[col.bounds]
            error = f"Cần {what} từ {fmt_bound(lo)} đến {fmt_bound(hi)}."
        else:
            # No declared range: only the kind is checked; a range this wide never binds.
            lo, hi, error = Decimal(-(10**9)), Decimal(10**9), f"Cần {what}."
        return DataValidation(type=kind, operator="between", formula1=_plain(lo), formula2=_plain(hi),
                              errorTitle=_fit("Giá trị không hợp lệ", _ERROR_TITLE),
                              error=_fit(error, _ERROR), **common)
    return DataValidation(type=None, **common) if col.nullable or not col.required else None


def _plain(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _printable(ws, *, repeat_header: bool) -> None:
    """Print on A4 landscape, as wide as the page, with the header row on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if repeat_header:
        ws.print_title_rows = "1:1"


def _table_sheet(wb, spec: TableSpec, units: pd.DataFrame, lists, bounds, year: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(spec.title)
    ws.append([c.header for c in spec.columns])
    rows = 0
    if _prefilled(spec):
        prefill = {}
        for col in spec.columns:
            if col.kind == "unit":
                prefill[col.name] = units["name"].tolist()
            elif col.name == "order":  # the TT column: numbered within each group, as reports print it
                prefill[col.name] = (units.groupby("group", sort=False).cumcount() + 1).tolist()
        rows = len(units)
        for i in range(rows):
            ws.append([prefill[c.name][i] if c.name in prefill else None for c in spec.columns])
    last = 1 + max(rows + SPARE_ROWS, MIN_ROWS)
    for j, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(j)
        head = ws.cell(row=1, column=j)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        head.alignment = Alignment(wrap_text=True, vertical="center")
        note = _column_note(col, bounds, lists, spec, year)
        dv = _validation(col, spec, note, bounds, lists, letter)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
        if col.kind in ("unit", "code", "text"):
            # Typed text stays text: Excel would turn "1-2" into a date and "007" into 7.
            ws.column_dimensions[letter].number_format = "@"
            for (cell,) in ws.iter_rows(min_row=2, max_row=rows + 1, min_col=j, max_col=j):
                cell.number_format = "@"
        longest = max([len(col.header)] + [len(str(v)) for v in (units["name"] if col.kind == "unit" else [])])
        width = {"unit": longest, "text": 40, "code": 16}.get(col.kind, max(len(col.header), 10))
        ws.column_dimensions[letter].width = min(60, width + 3)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 30
    _printable(ws, repeat_header=True)


def _lists_sheet(wb, units: pd.DataFrame, lists: Mapping[str, list[tuple[str, str]]],
                 code_titles: Mapping[str, str]) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.workbook.defined_name import DefinedName

    ws = wb.create_sheet(LISTS_SHEET)
    blocks = [(UNITS_NAME, ["Đơn vị (tên ghi trong biểu)", "Tên đầy đủ", "Nhóm", "Mã đơn vị"],
               [units["name"], units["full_name"], units["group_name"], units["id"]])]
    for key, items in lists.items():
        if items:
            blocks.append((_list_name(key), [code_titles.get(key, key), "Nội dung"],
                           [pd.Series([c for c, _ in items]), pd.Series([n for _, n in items])]))
    col = 1
    for name, headers, columns in blocks:
        for k, (header, values) in enumerate(zip(headers, columns, strict=True)):
            c = col + k
            cell = ws.cell(row=1, column=c, value=header)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
            for r, value in enumerate(values.tolist(), start=2):
                ws.cell(row=r, column=c, value=value).number_format = "@"
            width = max([len(header)] + [len(str(v)) for v in values.tolist()])
            ws.column_dimensions[get_column_letter(c)].width = min(70, width + 3)
        letter = get_column_letter(col)
        ref = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(columns[0]) + 1}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
        col += len(headers) + 1
    ws.freeze_panes = "A2"
    ws.sheet_properties.tabColor = "808080"
    _printable(ws, repeat_header=True)
    # Protected without a password: the lists feed the drop-downs and must not be edited by accident.
    ws.protection.sheet = True


def _help_sheet(wb, tables: list[TableSpec], rules: Rules, units: pd.DataFrame, lists, bounds,
                year: int, heading: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.active
    ws.title = HELP_SHEET
    _printable(ws, repeat_header=False)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 90
    wrap = Alignment(wrap_text=True, vertical="top")

    def line(text: str = "", *, bold: bool = False, size: int | None = None) -> None:
        ws.append([text or None])
        cell = ws.cell(row=ws.max_row, column=1)
        cell.font = Font(bold=bold, size=size)
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

    line(f"BIỂU MẪU NHẬP SỐ LIỆU ĐÁNH GIÁ, XẾP LOẠI MỨC ĐỘ HOÀN THÀNH NHIỆM VỤ NĂM {year}", bold=True, size=13)
    if heading:
        line(heading)
    line(f"Quy định áp dụng: {rules.name}.")
    for reg in rules.regulations:
        when = f" ngày {reg.date}" if reg.date else ""
        line(f"– {reg.number}{when}: {' '.join(reg.title.split())}")
    line()
    line("Cách điền", bold=True)
    titles = ", ".join(f"«{t.title}»" for t in tables)
    steps = [
        f"Mỗi trang tính là một bảng số liệu ({titles}). Giữ nguyên tên trang tính và dòng tiêu đề "
        "(dòng 1); không chèn dòng tiêu đề phụ, không gộp ô, không thêm cột.",
    ]
    if any(_prefilled(t) for t in tables):
        steps.append(f"Biểu đã ghi sẵn {len(units)} đơn vị có hiệu lực năm {year}, theo nhóm. Tên đơn vị "
                     f"chọn trong danh sách thả xuống; danh sách đầy đủ ở trang «{LISTS_SHEET}».")
    steps += [
        "Ô số chỉ nhận số trong khoảng cho phép (Excel báo ngay khi nhập sai). Dấu thập phân theo cài "
        "đặt của máy (87,6 hoặc 87.6): công cụ đọc được cả hai.",
        "Có thể dùng công thức: công cụ đọc giá trị Excel đã tính khi lưu tệp.",
        f"Lưu tệp dạng .xlsx, giữ nguyên tên tệp, rồi kiểm tra: make validate YEAR={year}. Mọi lỗi được "
        f"báo cùng một lần, mỗi lỗi kèm tên trang tính và địa chỉ ô (ví dụ "
        f"{sheet_ref(tables[0].title, 'D5') if tables else 'D5'}).",
    ]
    for i, text in enumerate(steps, start=1):
        line(f"{i}. {text}")
    for spec in tables:
        line()
        line(f"Trang «{spec.title}»", bold=True)
        if spec.description:
            line(spec.description)
        table_row(["Cột", "Bắt buộc", "Nội dung"], header=True)
        for col in spec.columns:
            table_row([col.header, _required(col), _column_note(col, bounds, lists, spec, year)])
    line()
    line("Các mức xếp loại (để tham khảo; công cụ tự xếp loại)", bold=True)
    for tier in rules.tiers:
        upper = f" đến dưới {fmt_bound(tier.max)}" if tier.max is not None else ""
        mark = " (chưa được xác nhận bằng văn bản gốc)" if not tier.confirmed else ""
        line(f"– {tier.name}: từ {fmt_bound(tier.min)} điểm{upper}{mark}")


def build_forms(rules: Rules, registry: Registry, year: int, *, heading: str = "",
                tables: Mapping[str, TableSpec] | None = None):
    """The form workbook of ``year`` (an openpyxl ``Workbook``), not yet saved.

    Parameters
    ----------
    rules : Rules
    registry : Registry
    year : int
        Units valid in this year are listed and pre-filled.
    heading : str
        A line under the title of the instructions (who issues the forms).
    tables : mapping, optional
        The declared tables (default :data:`evaluation.inputs.schemas.TABLES`).
    """
    from openpyxl import Workbook

    chosen = form_tables(rules, tables)
    lists = code_lists(rules, dict(TABLES if tables is None else tables))
    bounds = value_bounds(rules)
    units = form_units(registry, rules, year)
    code_titles = {spec.codes[c.name]: c.header for spec in chosen for c in spec.columns if c.name in spec.codes}
    wb = Workbook()
    _help_sheet(wb, chosen, rules, units, lists, bounds, year, heading)
    for spec in chosen:
        _table_sheet(wb, spec, units, lists, bounds, year)
    _lists_sheet(wb, units, {k: v for k, v in lists.items() if k in code_titles}, code_titles)
    wb.properties.title = f"Biểu mẫu nhập số liệu năm {year}"
    wb.properties.creator = "evaluation"
    wb.active = 0
    return wb


def write_forms(path: Path, rules: Rules, registry: Registry, year: int, *, heading: str = "",
                tables: Mapping[str, TableSpec] | None = None) -> list[TableSpec]:
    """Write the form workbook of ``year`` to ``path`` (deterministic bytes); return the tables it holds."""
    wb = build_forms(rules, registry, year, heading=heading, tables=tables)
    buf = io.BytesIO()
    wb.save(buf)
    Path(path).write_bytes(deterministic_zip(buf.getvalue()))
    return form_tables(rules, tables)
