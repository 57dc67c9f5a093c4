"""Machine-readable results: ``results.csv`` (UTF-8 with BOM, for Excel) and ``results.xlsx``.

Both are byte-identical for the same inputs: no timestamps (openpyxl's are
replaced, zip entries get a fixed date).  Text cells that a spreadsheet
would take for a formula (``=``, ``+``, ``-``, ``@``, tab, CR at the start)
are neutralised with a leading apostrophe, and stored as text in the workbook.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from .fmt import tint
from .pipeline import Evaluation

__all__ = ["results_table", "neutralise", "write_csv", "write_xlsx", "write_results", "ILLUSTRATIVE"]

ILLUSTRATIVE = "Dữ liệu minh họa"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FIXED_CORE_DATE = "1980-01-01T00:00:00Z"


def results_table(ev: Evaluation) -> pd.DataFrame:
    """One row per unit, in report order, with Vietnamese headers.

    Columns: Nhóm, TT, Mã đơn vị, Đơn vị, Điểm tự chấm, Điểm đánh giá, Thứ hạng,
    Xếp loại, Ghi chú xếp loại (and Dữ liệu when the year is illustrative).
    """
    rules = ev.rules
    r = ev.ranked
    group_names = {g.id: f"{g.numeral}. {g.name}" for g in rules.groups}
    tier_names = {t.id: t.name for t in rules.tiers}
    table = pd.DataFrame({
        "Nhóm": r["group"].map(group_names),
        "TT": r["order"],
        "Mã đơn vị": r["unit_id"],
        "Đơn vị": r["unit"],
        "Điểm tự chấm": r["self_score"],
        "Điểm đánh giá": r["score"],
        "Thứ hạng": r["rank"],
        "Xếp loại": r["tier"].map(tier_names),
        "Ghi chú xếp loại": r["tier_reason"],
    })
    if ev.params.params.illustrative:
        table["Dữ liệu"] = ILLUSTRATIVE
    return table


def neutralise(values: pd.Series) -> pd.Series:
    """Prefix ``'`` to text that a spreadsheet would run as a formula (vectorised)."""
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return values
    text = values.astype("string")
    risky = text.str.startswith(_FORMULA_START).fillna(False)
    return values.where(~risky, "'" + text)


def _safe(table: pd.DataFrame) -> pd.DataFrame:
    return table.apply(neutralise)


def write_csv(table: pd.DataFrame, path: Path, *, decimals: int) -> None:
    """CSV in UTF-8 with BOM (Excel shows Vietnamese), dots for decimals, LF line ends."""
    safe = _safe(table)
    data = safe.to_csv(index=False, lineterminator="\n", float_format=None)
    Path(path).write_bytes(b"\xef\xbb\xbf" + data.encode("utf-8"))


def write_xlsx(table: pd.DataFrame, path: Path, *, decimals: int, sheet: str = "Kết quả",
               fills: dict[str, str] | None = None) -> None:
    """A formatted workbook: bold header, frozen first row, number formats, tier colours."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    safe = _safe(table)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(safe.columns))
    for row in safe.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) or v is pd.NA else v for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    score_format = "0." + "0" * decimals if decimals else "0"
    for j, name in enumerate(safe.columns, start=1):
        letter = get_column_letter(j)
        width = max(len(str(name)), *(len(str(v)) for v in safe[name].tolist())) if len(safe) else len(name)
        ws.column_dimensions[letter].width = min(60, width + 2)
        for cell in ws[letter][1:]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif name == "Điểm đánh giá":
                cell.number_format = score_format
    if fills and "Xếp loại" in safe.columns:
        col = list(safe.columns).index("Xếp loại") + 1
        for cell in ws[get_column_letter(col)][1:]:
            color = fills.get(cell.value)
            if color:
                cell.fill = PatternFill("solid", fgColor=color.lstrip("#").upper())
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    buf = io.BytesIO()
    wb.save(buf)
    Path(path).write_bytes(_deterministic_zip(buf.getvalue()))


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite an xlsx with fixed entry dates and fixed document dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                                 rb"\g<1>" + _FIXED_CORE_DATE.encode() + rb"\g<3>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, content)
    return out.getvalue()


def write_results(ev: Evaluation, folder: Path) -> pd.DataFrame:
    """Write ``results.csv`` and ``results.xlsx`` into ``folder``; return the table written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = results_table(ev)
    decimals = ev.rules.precision.decimals
    write_csv(table, folder / "results.csv", decimals=decimals)
    fills = {t.name: tint(t.color, 0.8) for t in ev.rules.tiers}
    write_xlsx(table, folder / "results.xlsx", decimals=decimals, fills=fills)
    return table

