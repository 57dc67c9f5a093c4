"""Check a text table against its declared schema; type it; collect every problem.

Three passes, each vectorised over the table:

1. headers: every required column present, no unknown column;
2. parsing: numbers (``98,4`` = ``98.4``), unit names (registry), codes (rules);
3. pandera: ranges, blanks, uniqueness — lazily, so all failures come together.

Nothing is dropped silently: a row is either in :attr:`Checked.table` or in
:attr:`Checked.rejected`, and ``rows_in == len(table) + len(rejected)``.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pandas as pd
import pandera.pandas as pa

from ..errors import Problem
from ..fmt import fmt_bound
from ..text import NUMBER_EXAMPLE, clean_series, name_key, parse_numbers
from .limits import ROW
from .registry import Registry
from .schemas import NOT_APPLICABLE, ColumnSpec, TableSpec

__all__ = ["Checked", "check_table", "RowCheck"]

# A check across columns (e.g. points within the maximum of the row's criterion): it receives the
# typed table and returns (rows that fail, column name in the spec, what was expected).  Cells
# already reported in that column are not reported again.
RowCheck = Callable[[pd.DataFrame], Iterable[tuple[pd.Series, str, "str | pd.Series"]]]
_NA_KEYS = frozenset(name_key(v) for v in NOT_APPLICABLE)


@dataclass
class Checked:
    """The outcome of checking one table.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows without problems, typed; columns named as in the spec, plus
        ``unit_id`` for unit columns and ``_row`` (spreadsheet row).
    rejected : pandas.DataFrame
        Rows with at least one problem, as text, with ``_row``.
    problems : list of Problem
    rows_in : int
        Data rows read from the file.
    """

    @property
    def rows_used(self) -> int:
        return len(self.table)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected)

    table: pd.DataFrame
    rejected: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    rows_in: int = 0
    names: pd.DataFrame | None = None


def _header_map(raw: pd.DataFrame, spec: TableSpec, label: str) -> tuple[dict[str, str], list[Problem]]:
    """Map file headers to spec column names."""
    wanted = {name_key(h): c.name for c in spec.columns for h in c.headers}
    problems: list[Problem] = []
    found: dict[str, str] = {}
    for header in (h for h in raw.columns if h != ROW):
        col = wanted.get(name_key(header))
        if col is None:
            known = [c.header for c in spec.columns]
            near = difflib.get_close_matches(header, known, n=1, cutoff=0.6)
            hint = f" (có phải «{near[0]}»?)" if near else ""
            problems.append(Problem(label, 1, header, header,
                                    f"cột không có trong mẫu «{spec.title}»{hint}; các cột của mẫu: "
                                    + ", ".join(f"«{k}»" for k in known)))
        elif col in found.values():
            problems.append(Problem(label, 1, header, header, f"cột «{spec.column(col).header}» xuất hiện hai lần"))
        else:
            found[header] = col
    for c in spec.columns:
        if c.required and c.name not in found.values():
            problems.append(Problem(label, 1, c.header, None, "thiếu cột bắt buộc"))
    return found, problems


def _with_cells(check):
    """Give each problem of a table read from a workbook its cell address (``Điểm!C14``).

    The reader (:mod:`evaluation.inputs.workbook`) leaves the sheet name and the column
    letter of each header in ``raw.attrs``; a problem names its row and header,
    which is all it takes.  Tables read from CSV have no such attrs and pass unchanged.
    """
    @functools.wraps(check)
    def wrapper(raw: pd.DataFrame, *args, **kwargs) -> Checked:
        checked = check(raw, *args, **kwargs)
        sheet, letters = raw.attrs.get("sheet"), raw.attrs.get("column_letters")
        if sheet and letters:
            from .workbook import sheet_ref

            checked.problems = [
                replace(p, cell=sheet_ref(sheet, f"{letters[p.column]}{p.row}"))
                if p.cell is None and p.row is not None and p.column in letters else p
                for p in checked.problems]
        return checked
    return wrapper


@_with_cells
def check_table(raw: pd.DataFrame, spec: TableSpec, label: str, *,
                registry: Registry | None = None, year: int | None = None,
                bounds: Mapping[str, tuple[Decimal, Decimal | None]] | None = None,
                codes: Mapping[str, set[str]] | None = None,
                row_checks: RowCheck | None = None) -> Checked:
    """Check and type one input table.

    Parameters
    ----------
    raw : pandas.DataFrame
        Text table from :mod:`evaluation.inputs.tables` (with ``_row``).
    spec : TableSpec
        The declared schema.
    label : str
        The file name for messages.
    registry : Registry, optional
        Needed when the table has a ``unit`` column.
    year : int, optional
        Units must be valid in this year.
    bounds : mapping, optional
        ``{"score": (0, 100)}``: ranges named by the columns' ``bounds``
        (an upper bound of None means "from the lower bound up").
    codes : mapping, optional
        Allowed values of ``code`` columns, keyed by ``spec.codes`` names.
    row_checks : callable, optional
        Checks across columns (see :data:`RowCheck`), run on the typed rows.

    Returns
    -------
    Checked
    """
    bounds = bounds or {}
    codes = codes or {}
    rows_in = len(raw)
    headers, problems = _header_map(raw, spec, label)
    if problems:
        return Checked(raw.iloc[0:0], raw, problems, rows_in)
    if rows_in == 0 and not spec.may_be_empty:
        return Checked(raw, raw, [Problem(label, None, None, None,
                                          "tệp chỉ có dòng tiêu đề, không có dữ liệu")], rows_in)
    by_name = {v: k for k, v in headers.items()}
    typed = pd.DataFrame({ROW: raw[ROW].to_numpy()}, index=raw.index)
    bad = pd.DataFrame(False, index=raw.index, columns=[c.name for c in spec.columns])
    names = None

    def report(mask: pd.Series, col: ColumnSpec, values: pd.Series, expected: str | pd.Series) -> None:
        bad.loc[mask, col.name] = True
        exp = expected if isinstance(expected, pd.Series) else pd.Series(expected, index=raw.index)
        for r, v, e in zip(raw.loc[mask, ROW], values[mask], exp[mask], strict=True):
            problems.append(Problem(label, int(r), by_name.get(col.name, col.header),
                                    None if pd.isna(v) else str(v), str(e)))

    for col in spec.columns:
        if col.name not in by_name:
            # An optional column left out is blank, typed as its kind (an untyped column of NA
            # failed pandera's float check on every row: "TT" absent rejected the whole file).
            numeric = col.kind in ("number", "integer")
            typed[col.name] = pd.Series(float("nan") if numeric else pd.NA, index=raw.index,
                                        dtype="float64" if numeric else "object")
            if col.not_applicable:
                typed[col.name + "_na"] = False
            continue
        text = clean_series(raw[by_name[col.name]])
        blank = text.isna() | (text == "")
        if col.kind in ("number", "integer"):
            if col.not_applicable:
                # name_key on the distinct texts only: a points column holds few distinct values.
                distinct = text.dropna().unique()
                is_na = {v: name_key(v) in _NA_KEYS for v in distinct}
                na = (~blank & text.map(is_na)).fillna(False).astype(bool)
                typed[col.name + "_na"] = na.to_numpy()
                text = text.where(~na)
            numbers, invalid = parse_numbers(text)
            what = "số nguyên" if col.kind == "integer" else f"một số (ví dụ {NUMBER_EXAMPLE})"
            if col.not_applicable:
                what += " hoặc «không áp dụng»"
            report(invalid, col, text, f"không phải số: cần {what}, không dùng dấu phân cách hàng nghìn")
            if col.kind == "integer":
                frac = numbers.notna() & (numbers % 1 != 0)
                report(frac, col, text, "cần số nguyên")
            typed[col.name] = numbers
        elif col.kind == "unit":
            if registry is None:
                raise ValueError(f"{spec.name}: a registry is needed to check unit names")
            matched = registry.match(text.fillna(""), year=year)
            report(matched["problem"].notna() & ~blank, col, text, matched["problem"])
            # Blank stays missing, so that the not-null check below names it (a blank unit
            # kept as "" would pass every check and reach the results without a unit).
            typed[col.name] = text.where(~blank)
            typed["unit_id"] = matched["unit_id"]
            names = pd.DataFrame({"input": text, "unit_id": matched["unit_id"], "how": matched["how"]})
        elif col.kind == "code":
            allowed = codes.get(spec.codes.get(col.name, col.name), set())
            unknown = ~blank & ~text.isin(sorted(allowed))
            shown = ", ".join(sorted(allowed)) or "(quy định không có mã nào)"
            report(unknown.fillna(False), col, text, f"mã không có trong quy định; các mã hợp lệ: {shown}")
            typed[col.name] = text.where(~blank)
        else:
            typed[col.name] = text.where(~blank)

    problems += _pandera_problems(typed, spec, label, by_name, bounds, bad)
    if row_checks is not None:
        for mask, name, expected in row_checks(typed):
            col = spec.column(name)
            fresh = mask.fillna(False).astype(bool) & ~bad[name]
            shown = clean_series(raw[by_name[name]]) if name in by_name else pd.Series(pd.NA, index=raw.index)
            shown = shown.where(shown != "")
            report(fresh, col, shown, expected)
    problems.sort(key=lambda p: p.row or 0)  # stable: within a row, columns stay in order
    row_bad = bad.any(axis=1)
    rejected = raw[row_bad]
    table = typed[~row_bad]
    return Checked(table, rejected, problems, rows_in, names)


def _schema(spec: TableSpec, bounds: Mapping[str, tuple[Decimal, Decimal]]) -> pa.DataFrameSchema:
    columns: dict[str, pa.Column] = {}
    for col in spec.columns:
        checks = []
        if col.bounds:
            lo, hi = bounds[col.bounds]
            if hi is None:
                checks.append(pa.Check.ge(float(lo), error=f"in_range|{col.bounds}"))
            else:
                checks.append(pa.Check.in_range(float(lo), float(hi), error=f"in_range|{col.bounds}"))
        dtype = float if col.kind in ("number", "integer") else None
        columns[col.name] = pa.Column(dtype, checks, nullable=col.nullable, required=False,
                                      coerce=False)
    if any(c.kind == "unit" for c in spec.columns):
        columns["unit_id"] = pa.Column(nullable=True, required=False)
    return pa.DataFrameSchema(columns, unique=list(spec.unique) or None,
                              report_duplicates="exclude_first")


def _pandera_problems(typed: pd.DataFrame, spec: TableSpec, label: str, by_name: dict[str, str],
                      bounds: Mapping[str, tuple[Decimal, Decimal]], bad: pd.DataFrame) -> list[Problem]:
    # Cells already reported (unparseable) are left out, so each problem is said once.
    frame = typed.copy()
    for col in spec.columns:
        if col.name in frame and col.name in bad:
            frame.loc[bad[col.name], col.name] = 0.0 if col.kind in ("number", "integer") else "?"
        if col.not_applicable and col.name + "_na" in frame:
            # "không áp dụng" is a value, not a blank: it passes the not-null and range checks.
            frame.loc[frame[col.name + "_na"].astype(bool), col.name] = (
                float(bounds[col.bounds][0]) if col.bounds else 0.0)
    if "unit_id" in frame:
        unit_bad = bad[next(c.name for c in spec.columns if c.kind == "unit")]
        frame.loc[unit_bad, "unit_id"] = pd.NA
    try:
        _schema(spec, bounds).validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    problems: list[Problem] = []
    unique_cols = list(spec.unique)
    duplicates: set[object] = set()
    first_of_key = None
    if unique_cols:
        # The first row of each key, once for the table (per duplicate row it made 200,000 duplicates
        # take minutes).
        keyed = typed.loc[typed[unique_cols].notna().all(axis=1), [*unique_cols, ROW]]
        first_of_key = keyed.groupby(unique_cols, sort=False)[ROW].transform("min")
    flagged: dict[str, list[object]] = {}
    # Plain dicts, not .at[] per failure: a file of 200,000 bad rows has 400,000 failures.
    row_of = typed[ROW].to_dict()
    columns: dict[str, dict] = {}

    def value_at(idx: object, col: str) -> object:
        if col not in columns:
            columns[col] = typed[col].to_dict()
        return columns[col][idx]

    for case in cases.itertuples(index=False):
        if pd.isna(case.index):
            continue
        idx = case.index
        row = int(row_of[idx])
        check = str(case.check)
        col = case.column
        # Decided by the check, not the column: a blank cell of a key column is a
        # not-null failure and must be reported as such, not skipped as a duplicate.
        if "uniqueness" in check:
            # pandera lists a duplicate once per key column: say it once per row.
            if idx in duplicates or idx not in first_of_key.index:  # a blank key: its own problem
                continue
            duplicates.add(idx)
            first = int(first_of_key[idx])
            if first == row:
                continue
            shown = next((c for c in spec.columns if c.kind == "unit"), spec.columns[0])
            problems.append(Problem(label, row, by_name.get(shown.name, shown.header),
                                    str(value_at(idx, shown.name)),
                                    f"bị trùng với dòng {first}: {spec.unique_rule}"))
            flagged.setdefault(shown.name, []).append(idx)
            continue
        spec_col = spec.column(col)
        value = value_at(idx, col)
        if check.startswith("in_range"):
            lo, hi = bounds[spec_col.bounds]
            expected = (f"ngoài khoảng cho phép: cần từ {fmt_bound(lo)} trở lên" if hi is None else
                        f"ngoài khoảng cho phép: cần từ {fmt_bound(lo)} đến {fmt_bound(hi)}")
        elif "null" in check:
            expected = "không được để trống"
        else:
            expected = f"không đạt kiểm tra {check}"
        problems.append(Problem(label, row, by_name.get(col, spec_col.header),
                                None if pd.isna(value) else _num_text(value), expected))
        flagged.setdefault(col, []).append(idx)
    for col, rows in flagged.items():  # once per column: one .loc per row made long files slow
        bad.loc[rows, col] = True
    return problems


def _num_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace(".", ",") if isinstance(value, float) else str(value)
