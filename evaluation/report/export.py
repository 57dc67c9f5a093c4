"""Machine-readable results: ``results.csv`` (UTF-8 with BOM, for Excel) and ``results.xlsx``.

Both are byte-identical for the same inputs: no timestamps (openpyxl's are
replaced, zip entries get a fixed date).  Text cells that a spreadsheet
would take for a formula (``=``, ``+``, ``-``, ``@``, tab, CR at the start)
are neutralised with a leading apostrophe, and stored as text in the workbook.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..engine.pipeline import Evaluation
from ..files import deterministic_zip
from ..fmt import tint
from .present_detail import stage_names

__all__ = ["results_table", "neutralise", "write_csv", "write_xlsx", "write_results", "ILLUSTRATIVE",
           "detail_tables"]

ILLUSTRATIVE = "Dữ liệu minh họa"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def results_table(ev: Evaluation) -> pd.DataFrame:
    """One row per unit, in report order, with Vietnamese headers.

    Columns: Nhóm, TT, Mã đơn vị, Đơn vị, Điểm tự chấm, Điểm đánh giá, Thứ hạng,
    Xếp loại, Ghi chú xếp loại, Số kỳ có điểm and Ghi chú kỳ (a year scored by periods: a unit
    scored on fewer periods than the year has is flagged), Ghi chú (the input's own note, when any
    row has one) and Dữ liệu when the year is illustrative.
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
    if "period_flag" in r:   # a year scored by periods: how many each unit has, and which it lacks
        table["Số kỳ có điểm"] = r["periods_given"]
        table["Ghi chú kỳ"] = r["period_flag"].fillna("")
    if "note" in r and r["note"].astype("string").fillna("").ne("").any():
        table["Ghi chú"] = r["note"].astype("string").fillna("")   # the form's own note, kept
    if ev.detail is not None:
        table = pd.concat([table, _detail_columns(ev)], axis=1)
    if ev.params.params.illustrative:
        table["Dữ liệu"] = ILLUSTRATIVE
    return table


def _detail_columns(ev: Evaluation) -> pd.DataFrame:
    """The parts of each final score, and every cap that bit (detailed years)."""
    r = ev.ranked
    d = ev.detail
    stage = stage_names(ev.rules)
    log = d.log.assign(text=lambda f: f["stage"].map(stage) + f["item"].map(lambda i: f" ({i})", na_action="ignore")
                       .fillna("") + ": " + f["removed"].round(6).astype(str))
    per_unit = log.groupby("unit_id").agg(effect=("effect", "sum"), text=("text", "; ".join))
    totals = d.totals
    return pd.DataFrame({
        "Bộ tiêu chí": r["criteria_set"].map({cs.id: cs.name for cs in ev.rules.criteria_sets}),
        "Điểm tự chấm theo tiêu chí": r["self_appraisal"],
        "Điểm thẩm định theo tiêu chí": r["appraisal"],
        "Số tiêu chí không áp dụng": r["unit_id"].map(totals["not_applicable"]).astype("int64"),
        "Số tiêu chí thiếu phiếu": r["unit_id"].map(totals["flagged"]).astype("int64"),
        "Điểm thưởng đề nghị": r["bonus_raw"],
        "Điểm thưởng": r["bonus"],
        "Điểm trừ đề nghị": r["penalty_raw"],
        "Điểm trừ": r["penalty"],
        "Điều chỉnh (sau giới hạn)": r["adjustment"],
        "Điểm trước khi công bố": r["final_score"],
        "Điểm thay đổi do giới hạn": r["unit_id"].map(per_unit["effect"]).fillna(0.0),
        "Giới hạn đã áp dụng (điểm bị loại)": r["unit_id"].map(per_unit["text"]).fillna(""),
    }, index=r.index)


def detail_tables(ev: Evaluation) -> dict[str, pd.DataFrame]:
    """Machine-readable detail of a detailed year: criteria lines, bonus/penalty rows, caps."""
    d = ev.detail
    if d is None:
        return {}
    names = ev.registry.units["short_name"]
    lines = d.lines
    criteria = pd.DataFrame({
        "Mã đơn vị": lines["unit_id"], "Đơn vị": lines["unit_id"].map(names), "Bộ tiêu chí": lines["criteria_set"],
        "Mã tiêu chí": lines["criterion"], "Cơ quan thẩm định": lines["body"], "Điểm tối đa": lines["max_points"],
        "Áp dụng": lines["applicable"].map({True: "có", False: "không"}),
        "Nguồn điểm": lines["source"].map({"input": "thẩm định", "survey": "phiếu đánh giá"}),
        "Thiếu phiếu": lines["flag"].map({True: "có", False: ""}),
        "Điểm tự chấm": lines["self_points"], "Điểm thẩm định": lines["points"],
        "Điểm quy đổi (không áp dụng)": lines["credited"], "Điểm tính": lines["final_points"],
        "Minh chứng": lines["evidence"] if "evidence" in lines else "",
        **{header: lines[name] for name, header in (("explanation", "Giải trình"), ("result", "Kết quả thực hiện"),
                                                    ("note", "Ghi chú")) if name in lines},
    })
    a = d.adjustment_lines
    items = {it.code: it.name for it in ev.rules.adjustments.items}
    adjustments = pd.DataFrame({
        "Dòng dữ liệu vào": a["_row"], "Mã đơn vị": a["unit_id"], "Đơn vị": a["unit_id"].map(names),
        "Mã nội dung": a["item"], "Nội dung": a["item"].map(items),
        "Loại": a["kind"].map({"bonus": "thưởng", "penalty": "trừ"}), "Số lần": a["count"], "Số điểm ghi": a["amount"],
        "Điểm đề nghị": a["raw"], "Điểm sau mức tối đa mỗi lần": a["points"], "Cơ quan đề nghị": a["source"],
        "Minh chứng": a["evidence"] if "evidence" in a else "",
        "Ghi chú": a["note"] if "note" in a else "",
    })
    log = d.log
    caps = pd.DataFrame({
        "Mã đơn vị": log["unit_id"], "Đơn vị": log["unit_id"].map(names),
        "Giới hạn": log["stage"].map(stage_names(ev.rules)), "Mã nội dung": log["item"],
        "Loại": log["kind"].map({"bonus": "thưởng", "penalty": "trừ"}), "Trước": log["before"], "Mức": log["limit"],
        "Sau": log["after"], "Điểm bị loại": log["removed"], "Thay đổi điểm đánh giá": log["effect"],
        "Dòng dữ liệu vào": log["row"],
    })
    out = {"results-criteria": criteria, "results-adjustments": adjustments, "results-caps": caps}
    if ev.params.params.illustrative:
        out = {k: v.assign(**{"Dữ liệu": ILLUSTRATIVE}) for k, v in out.items()}
    return out


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
    Path(path).write_bytes(deterministic_zip(buf.getvalue()))



def write_results(ev: Evaluation, folder: Path) -> pd.DataFrame:
    """Write ``results.csv`` and ``results.xlsx`` into ``folder``; return the table written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = results_table(ev)
    decimals = ev.rules.precision.decimals
    write_csv(table, folder / "results.csv", decimals=decimals)
    fills = {t.name: tint(t.color, 0.8) for t in ev.rules.tiers}
    write_xlsx(table, folder / "results.xlsx", decimals=decimals, fills=fills)
    for name, extra in detail_tables(ev).items():
        write_csv(extra, folder / f"{name}.csv", decimals=decimals)
    return table

