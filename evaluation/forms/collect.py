"""Collecting a year from the parties' returned forms: read, check, assemble, trace.

:func:`collect` reads a folder of returned workbooks (:mod:`evaluation.forms.returns` says
which copy of whose form counts) and makes the year's input tables from them:

1. **each party on its own**: every sheet of its form is read by the workbook reader
   (:func:`evaluation.inputs.workbook.read_sheet_text`: merged cells, formulas, moved
   columns, every cell address) and checked by the validator
   (:func:`evaluation.inputs.validate.check_table`) against the sheet's plan
   (:class:`evaluation.forms.parties.Sheet`), with the checks only a party's form has:
   a criterion it should not have, points above the row's own maximum, points claimed
   without evidence nor explanation, a unit the survey does not rate, a row half
   answered, a row of the form deleted.  A row with a problem is left out; the party's
   other rows, and every other party, are kept.
2. **assembled**: the units' self scores and the bodies' appraisals become the
   ``criteria`` table, the raters' answers the ``survey`` table, the council's items the
   ``adjustments`` (and ``conditions``) table, and each assembled table is checked again
   as ``validate`` will check it, so that what is written is what will be read.
   Problems found there are said at the cell of the form the value came from.
3. **traced**: every value written is traced to its workbook, sheet and cell
   (:data:`evaluation.inputs.provenance.TRACE_COLUMNS`).

Returned files are only ever read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..errors import Problem
from ..fmt import numbers
from ..inputs.detail_checks import detail_checks
from ..inputs.domains import code_sets, value_bounds
from ..inputs.limits import ROW
from ..inputs.provenance import TRACE_COLUMNS
from ..inputs.schemas import TABLES
from ..inputs.validate import Checked, check_table
from ..inputs.workbook import COLUMNS_ATTR, read_sheet_text, sheet_ref
from ..text import name_key
from .issue import YearForms
from .parties import NA_TEXT, Party, Sheet
from .returns import Choice, Return, choose, find_returns, identify
from .workbooks import META_KEYS, META_SHEET

__all__ = ["Collected", "PartyRead", "collect", "read_party"]


@dataclass
class PartyRead:
    """One party's return, read and checked.

    Attributes
    ----------
    rows : dict
        By table: the party's valid rows, canonical columns (text as it will be written)
        plus ``_key`` (the row's key in the assembled table).
    trace : pandas.DataFrame
        Where each value came from (``_key``, ``table``, ``column``, ``workbook``, ``sheet``, ``cell``, …).
    problems : list of Problem
    sent : dict
        By sheet title: what the party wrote, as text, keyed like the sheet (for a fresh form).
    """

    party: Party
    ret: Return
    rows: dict[str, pd.DataFrame] = field(default_factory=dict)
    trace: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    sent: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass
class Collected:
    """A folder of returns, collected.

    Attributes
    ----------
    tables : dict
        The year's input tables as they will be written (Vietnamese headers, text values).
    trace : pandas.DataFrame
        :data:`~evaluation.inputs.provenance.TRACE_COLUMNS` but the checksum, one row per value written.
    problems : dict
        Problems by party key; returns that belong to no party under ``""``.
    """

    yf: YearForms
    folder: Path
    returns: list[Return]
    ignored: list[Path]
    choices: list[Choice]
    strangers: list[Return]
    reads: dict[str, PartyRead]
    tables: dict[str, pd.DataFrame]
    trace: pd.DataFrame
    problems: dict[str, list[Problem]]

    @property
    def all_problems(self) -> list[Problem]:
        return [p for ps in self.problems.values() for p in ps]


# -- reading one party ------------------------------------------------------------------------

def _number_text(values: pd.Series) -> pd.Series:
    """Numbers as the written tables hold them: shortest exact text with a dot (``9.5``, ``19``)."""
    def one(v: float) -> str:
        text = format(Decimal(repr(float(v))).normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return values.map(one, na_action="ignore").astype("object").where(values.notna(), "")


def _cells(raw: pd.DataFrame, sheet: Sheet) -> dict[str, str]:
    """Column letter of each of the sheet's columns, as found in the returned sheet (moved columns too)."""
    wanted = {name_key(h): c.name for c in sheet.columns for h in c.spec.headers}
    letters = raw.attrs.get(COLUMNS_ATTR, {})
    out = {}
    for header, letter in letters.items():
        name = wanted.get(name_key(header))
        if name is not None and name not in out:
            out[name] = letter
    return out


def _texts(typed: pd.DataFrame, sheet: Sheet, names: pd.Series) -> pd.DataFrame:
    """The typed rows as the text the assembled tables hold."""
    out = pd.DataFrame(index=typed.index)
    for col in sheet.columns:
        spec = col.spec
        if spec.kind in ("number", "integer"):
            text = _number_text(typed[col.name])
            if spec.not_applicable:
                text = text.where(~typed[col.name + "_na"].astype(bool), NA_TEXT)
            out[col.name] = text
        elif spec.kind == "unit":
            out[col.name] = typed["unit_id"].map(names).fillna("")
        else:
            out[col.name] = typed[col.name].astype("object").where(typed[col.name].notna(), "")
    return out


def _max_text(top: pd.Series) -> pd.Series:
    return numbers(top, 0, max_decimals=2)


def _self_checks(party: Party, sheet: Sheet, set_name: str, all_codes: set[str]):
    grid = sheet.rows.set_index("criterion")
    codes = ", ".join(grid.index)

    def check(typed: pd.DataFrame):
        crit = typed["criterion"].astype("string")
        mine = crit.isin(list(grid.index)).fillna(False).astype(bool)
        yield (crit.isin(sorted(all_codes)).fillna(False) & ~mine, "criterion",
               f"tiêu chí không thuộc bộ tiêu chí «{set_name}» của {party.name}; các mã của bộ: {codes}")
        top = crit.map(grid["max_points"]).astype("float64")
        yield ((typed["self_points"] > top).fillna(False), "self_points",
               "vượt điểm tối đa của tiêu chí: cần từ 0 đến " + _max_text(top))
        na = typed["self_points_na"].astype(bool)
        yield (mine & typed["self_points"].isna() & ~na, "self_points",
               f"chưa tự chấm: ghi điểm (từ 0 đến điểm tối đa của tiêu chí) hoặc «{NA_TEXT}»")
        by_survey = crit.map(grid["by_survey"]).notna()
        blank = lambda c: typed[c].isna() | (typed[c].astype("string").str.strip() == "")  # noqa: E731
        claimed = (typed["self_points"] > 0).fillna(False) & mine & ~by_survey
        yield (claimed & blank("evidence") & blank("explanation"), "evidence",
               "đã tự chấm " + numbers(typed["self_points"], 0, max_decimals=2)
               + " điểm: cần minh chứng (số, ký hiệu văn bản, tên hồ sơ), hoặc ghi lý do không có minh chứng ở "
               "cột «Giải trình»")

    return check


def _appraisal_checks(party: Party, sheet: Sheet):
    grid = sheet.rows.assign(_mine=True).set_index(["unit_id", "criterion"])
    given = sheet.rows.groupby("unit_id")["criterion"].agg(", ".join)

    def check(typed: pd.DataFrame):
        keys = pd.MultiIndex.from_arrays([typed["unit_id"].astype("string"), typed["criterion"].astype("string")])
        mine = pd.Series(grid["_mine"].reindex(keys).fillna(False).to_numpy(dtype=bool), index=typed.index)
        known = typed["unit_id"].notna() & typed["criterion"].notna()
        yield (known & ~mine, "criterion",
               f"{party.name} không thẩm định tiêu chí này của đơn vị; các tiêu chí được giao: "
               + typed["unit_id"].map(given).fillna("(không có)"))
        top = pd.Series(grid["max_points"].reindex(keys).to_numpy(dtype="float64"), index=typed.index)
        yield ((typed["points"] > top).fillna(False), "points", "vượt điểm tối đa của tiêu chí: cần từ 0 đến "
               + _max_text(top))
        yield (mine & typed["points"].isna() & ~typed["points_na"].astype(bool), "points",
               f"chưa chấm: ghi điểm thẩm định (từ 0 đến điểm tối đa của tiêu chí) hoặc «{NA_TEXT}»")

    return check


def _survey_checks(sheet: Sheet, rater_name: str | None):
    questions = [c.name for c in sheet.columns if c.spec.bounds == "answer"]
    allowed = sheet.rows if sheet.grid else sheet.choices
    targets = set(allowed["unit_id"])

    def check(typed: pd.DataFrame):
        outside = typed["unit_id"].notna() & ~typed["unit_id"].isin(sorted(targets))
        why = "chính đơn vị đánh giá" if rater_name else ""
        yield (outside, "unit", "đơn vị không được đánh giá bằng phiếu này" + (f" (hoặc là {why})" if why else ""))
        answered = typed[questions].notna()
        some = answered.any(axis=1)
        for q in questions:
            yield (some & ~answered[q], q, "thiếu câu trả lời: các câu khác của dòng đã có điểm; ghi đủ mọi câu "
                                           "hoặc bỏ trống cả dòng")
        if not sheet.grid:
            yield (~some, questions[0], "dòng chưa có câu trả lời nào: ghi điểm hoặc xóa dòng")

    return check


def _sent(raw: pd.DataFrame, sheet: Sheet, registry, year: int) -> pd.DataFrame:
    """What the party wrote (text), by the sheet's column names, with the sheet's keys for a fresh form."""
    wanted = {name_key(h): c.name for c in sheet.columns for h in c.spec.headers}
    renamed = {h: wanted[name_key(h)] for h in raw.columns if h != ROW and name_key(h) in wanted}
    out = raw[list(renamed)].rename(columns=renamed)
    out = out.loc[:, ~out.columns.duplicated()]
    if "unit" in out:
        out["unit_id"] = registry.match(out["unit"].fillna(""), year=year)["unit_id"]
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class _Checks:
    """What every party's checks share, made once per collection."""

    codes: dict
    detail: object

    @classmethod
    def of(cls, yf: YearForms) -> _Checks:
        return cls(code_sets(yf.rules), detail_checks(yf.rules, yf.registry, yf.year, "",
                                                      set(yf.params.params.inputs)))


def read_party(yf: YearForms, party: Party, ret: Return, shared: _Checks | None = None) -> PartyRead:
    """Read and check every sheet of one party's return; keep its valid rows and their cells."""
    registry, rules = yf.registry, yf.rules
    names = registry.units["short_name"]
    read = PartyRead(party, ret)
    shared = shared or _Checks.of(yf)
    all_codes, detail = shared.codes, shared.detail
    traces = []
    for sheet in party.sheets:
        state = ret.sheets.get(sheet.title)
        if state is not None and state != "visible":
            read.problems.append(Problem(
                ret.label, None, None, sheet.title,
                f"trang tính «{sheet.title}» đang bị ẩn: không đọc trang ẩn (có thể là bản cũ). Hiện lại trang "
                "(chuột phải vào tên trang → Hiện/Unhide), xóa các bản chép nếu có, rồi lưu và gửi lại",
                cell=sheet_ref(sheet.title, "A1")))
            continue
        raw, problems = read_sheet_text(ret.path, ret.label, sheet=sheet.title)
        if problems:
            read.problems += problems
            continue
        if raw.attrs.get("sheet") != sheet.title:
            # The reader falls back to a lone visible sheet; a form always names its sheets.
            read.problems.append(Problem(ret.label, None, None, sheet.title,
                                         f"không có trang tính «{sheet.title}»; các trang tính: "
                                         + ", ".join(f"«{n}»" for n in ret.sheets if n != META_SHEET)))
            continue
        read.sent[sheet.title] = _sent(raw, sheet, registry, yf.year)
        if party.kind == "self":
            set_name = rules.criteria_set(sheet.rows["criteria_set"].iloc[0]).name
            checks = _self_checks(party, sheet, set_name, all_codes["criteria"])
        elif party.kind == "appraisal":
            checks = _appraisal_checks(party, sheet)
        elif party.kind == "survey":
            checks = _survey_checks(sheet, party.name if sheet.grid else None)
        else:
            checks = detail.row_checks.get(sheet.table)
        checked = check_table(raw, sheet.spec, ret.label, registry=registry, year=yf.year, bounds=sheet.bounds,
                              codes=sheet.codes, row_checks=checks)
        read.problems += checked.problems
        read.problems += _missing_rows(checked, raw, sheet, ret, names)
        if party.kind == "survey" and sheet.grid and len(checked.table) and not checked.rejected.shape[0] and \
                not checked.table[[c.name for c in sheet.columns if c.spec.bounds == "answer"]].notna().any().any():
            read.problems.append(Problem(ret.label, None, None, None,
                                         f"trang «{sheet.title}» chưa có câu trả lời nào",
                                         cell=sheet_ref(sheet.title, "A1")))
        rows, trace = _contribution(yf, party, sheet, checked, raw, ret, names)
        if rows is not None:
            read.rows.setdefault(sheet.table, []).append(rows)
            traces.append(trace)
    read.rows = {t: pd.concat(frames, ignore_index=True) for t, frames in read.rows.items()}
    read.trace = pd.concat(traces, ignore_index=True) if traces else None
    return read


def _missing_rows(checked: Checked, raw: pd.DataFrame, sheet: Sheet, ret: Return, names) -> list[Problem]:
    """Rows of a grid that are no longer in the returned sheet (deleted, or their key overwritten)."""
    if not sheet.grid:
        return []
    seen = pd.concat([checked.table[[k for k in sheet.keys]].astype("string"),
                      _rejected_keys(checked, raw, sheet)], ignore_index=True)
    expected = sheet.rows[list(sheet.keys)].astype("string")
    merged = expected.merge(seen.drop_duplicates().assign(_seen=True), on=list(sheet.keys), how="left")
    gone = merged[merged["_seen"].isna()]
    out = []
    for row in gone.itertuples(index=False):
        record = row._asdict()
        what = "; ".join(f"{names.get(v, v) if k == 'unit_id' else v}" for k, v in record.items() if k in sheet.keys)
        out.append(Problem(ret.label, None, None, what,
                           f"trang «{sheet.title}» thiếu dòng này của biểu mẫu (dòng bị xóa hoặc bị sửa mã): "
                           "hãy dùng lại biểu mẫu đã gửi hoặc chép lại dòng"))
    return out


def _rejected_keys(checked: Checked, raw: pd.DataFrame, sheet: Sheet) -> pd.DataFrame:
    """Keys of the rejected rows, as far as they can be read (so that they are not said missing too)."""
    frame = pd.DataFrame(columns=list(sheet.keys), dtype="string")
    if not len(checked.rejected):
        return frame
    wanted = {name_key(h): c.name for c in sheet.columns for h in c.spec.headers}
    rej = checked.rejected.rename(columns={h: wanted.get(name_key(h), h) for h in checked.rejected.columns})
    if "unit_id" in sheet.keys and "unit" in rej and checked.names is not None:
        rej = rej.assign(unit_id=checked.names.loc[checked.rejected.index, "unit_id"].to_numpy())
    if not set(sheet.keys) <= set(rej.columns):
        return frame
    return rej[list(sheet.keys)].astype("string")


def _contribution(yf: YearForms, party: Party, sheet: Sheet, checked: Checked, raw: pd.DataFrame, ret: Return,
                  names) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """A party's valid rows in the assembled table's terms, and the cell of each value."""
    typed = checked.table
    if not len(typed):
        return None, None
    letters = _cells(raw, sheet)
    text = _texts(typed, sheet, names)
    row_no = typed[ROW].astype("int64")

    def trace(keys: pd.Series, values: pd.Series, rows: pd.Series, column: str, name: str) -> pd.DataFrame:
        letter = letters.get(name, "")
        keep = values.astype("string").fillna("").str.strip() != ""
        return pd.DataFrame({"_key": keys[keep].to_numpy(), "column": column, "value": values[keep].to_numpy(),
                             "party": party.key, "workbook": ret.label, "sheet": sheet.title,
                             "cell": [sheet_ref(sheet.title, f"{letter}{r}") if letter else "" for r in rows[keep]]})

    headers = {c.name: c.header for c in TABLES[sheet.table].columns}
    parts = []
    if party.kind == "self":
        rows = pd.DataFrame({"unit_id": party.id, "criterion": typed["criterion"].astype("string"),
                             "result": text["result"], "self_points": text["self_points"],
                             "evidence": text["evidence"], "explanation": text["explanation"],
                             "note": text["note"]})
        rows["_key"] = rows["unit_id"] + "|" + rows["criterion"]
        for name in ("result", "self_points", "evidence", "explanation", "note"):
            parts.append(trace(rows["_key"], rows[name], row_no, headers[name], name))
    elif party.kind == "appraisal":
        label = yf.rules.body(party.id).label
        rows = pd.DataFrame({"unit_id": typed["unit_id"].astype("string"),
                             "criterion": typed["criterion"].astype("string"),
                             "points": text["points"], "body_note": text["note"],
                             "body": label})
        rows["_key"] = rows["unit_id"] + "|" + rows["criterion"]
        parts.append(trace(rows["_key"], rows["points"], row_no, headers["points"], "points"))
        parts.append(trace(rows["_key"], rows["body_note"], row_no, headers["note"], "note"))
    elif party.kind == "survey":
        questions = [c.name for c in sheet.columns if c.spec.bounds == "answer"]
        rater = pd.Series(party.id, index=typed.index) if sheet.grid else text["rater"]
        frames = []
        for q in questions:
            answered = typed[q].notna()
            f = pd.DataFrame({"rater_kind": party.rater_kind, "rater": rater[answered],
                              "unit_id": typed.loc[answered, "unit_id"].astype("string"), "question": q,
                              "answer": text.loc[answered, q], "_row": row_no[answered], "_q": q,
                              "_order": typed.index[answered]})
            frames.append(f)
        rows = pd.concat(frames, ignore_index=True).sort_values(["_order", "_q"], kind="stable",
                                                                key=lambda s: s.map(questions.index) if s.name == "_q"
                                                                else s)
        rows["_key"] = (rows["rater_kind"] + "|" + rows["rater"] + "|" + rows["unit_id"] + "|" + rows["question"])
        for q in questions:
            sel = rows["question"] == q
            parts.append(trace(rows.loc[sel, "_key"], rows.loc[sel, "answer"], rows.loc[sel, "_row"],
                               headers["answer"], q))
        rows = rows.drop(columns=["_row", "_q", "_order"]).reset_index(drop=True)
    else:
        spec = TABLES[sheet.table]
        rows = pd.DataFrame({c.name: text[c.name] for c in spec.columns})
        rows["unit_id"] = typed["unit_id"].astype("string").to_numpy()
        rows["_key"] = party.key + "|" + sheet.title + "|" + row_no.astype(str).to_numpy()
        for c in spec.columns:
            if c.kind != "unit":
                parts.append(trace(rows["_key"], rows[c.name], row_no, c.header, c.name))
    out = pd.concat(parts, ignore_index=True)
    out["table"] = sheet.table
    return rows.reset_index(drop=True), out


# -- assembling ------------------------------------------------------------------------------

def _assemble_criteria(yf: YearForms, reads: list[PartyRead]) -> pd.DataFrame | None:
    own = [r.rows["criteria"] for r in reads if r.party.kind == "self" and "criteria" in r.rows]
    given = [r.rows["criteria"] for r in reads if r.party.kind == "appraisal" and "criteria" in r.rows]
    if not own and not given:
        return None
    cols_self = ["unit_id", "criterion", "result", "self_points", "evidence", "explanation", "note", "_key"]
    cols_body = ["unit_id", "criterion", "points", "body_note", "body", "_key"]
    s = pd.concat(own, ignore_index=True) if own else pd.DataFrame(columns=cols_self, dtype="object")
    b = pd.concat(given, ignore_index=True) if given else pd.DataFrame(columns=cols_body, dtype="object")
    table = s.merge(b, on=["unit_id", "criterion", "_key"], how="outer", sort=False)
    # Order: units as the forms list them, criteria as their set lists them.
    order = {}
    for p in yf.parties:
        if p.kind == "self":
            for j, c in enumerate(p.sheets[0].rows["criterion"]):
                order[f"{p.id}|{c}"] = (p.order, j)
    table["_order"] = table["_key"].map(lambda k: order.get(k, (10**9, 0)))
    table = table.sort_values(["_order", "_key"], kind="stable").reset_index(drop=True)
    table = table.fillna("")
    body_note = table["body_note"].where(table["body_note"] == "", table["body"] + ": " + table["body_note"])
    table["note"] = [("; ".join(x for x in (a, b) if x)) for a, b in zip(table["note"], body_note, strict=True)]
    return table


def _assemble(yf: YearForms, reads: list[PartyRead]) -> dict[str, pd.DataFrame]:
    """The assembled tables, canonical column names, with ``_key``; in a stable order."""
    out = {}
    criteria = _assemble_criteria(yf, reads)
    if criteria is not None:
        out["criteria"] = criteria
    for table in ("survey", "adjustments", "conditions"):
        frames = [r.rows[table] for r in reads if table in r.rows]
        if frames:
            out[table] = pd.concat(frames, ignore_index=True)
    return out


def _written(yf: YearForms, name: str, table: pd.DataFrame) -> pd.DataFrame:
    """An assembled table as the CSV holds it: the declared headers, the registry's short names."""
    spec = TABLES[name]
    names = yf.registry.units["short_name"]
    data = {}
    for c in spec.columns:
        if c.kind == "unit":
            data[c.header] = table["unit_id"].map(names).fillna("").to_numpy()
        elif c.name in table:
            data[c.header] = table[c.name].fillna("").to_numpy()
    return pd.DataFrame(data)


def _check_assembled(yf: YearForms, written: dict[str, pd.DataFrame], trace: pd.DataFrame,
                     shared: _Checks) -> list[Problem]:
    """Check the assembled tables as ``validate`` will; say each problem at the form's cell it came from."""
    rules, registry = yf.rules, yf.registry
    detail, bounds, codes = shared.detail, value_bounds(rules), shared.codes
    where = trace.set_index(["table", "row", "column"]) if len(trace) else None
    out = []
    for name, table in written.items():
        if not len(table):
            continue
        raw = table.astype("string").assign(**{ROW: range(2, len(table) + 2)})
        checked = check_table(raw, TABLES[name], name, registry=registry, year=yf.year, bounds=bounds,
                              codes=codes, row_checks=detail.row_checks.get(name))
        for p in checked.problems:
            if where is None or p.row is None or (name, p.row, p.column) not in where.index:
                continue  # no value came from a form here: a missing party, said on the board
            src = where.loc[[(name, p.row, p.column)]].iloc[0]
            out.append(Problem(src["workbook"], None, p.column, p.value, p.expected, cell=src["cell"] or None))
    return out


def _meta_cell(key: str) -> str:
    """Where the metadata sheet holds ``key`` (its value column, one row per key after the header)."""
    return sheet_ref(META_SHEET, f"C{list(META_KEYS).index(key) + 2}")


def collect(yf: YearForms, folder: Path | str) -> Collected:
    """Read every returned form under ``folder`` and assemble the year's input tables.

    Never raises for a party's problems: they are in :attr:`Collected.problems`, by party.
    """
    folder = Path(folder)
    found, ignored = find_returns(folder)
    returns = [identify(p, p.relative_to(folder).as_posix()) for p in found]
    choices, strangers = choose(yf, returns)
    problems: dict[str, list[Problem]] = {"": [p for r in returns for p in r.problems]}
    for ret in strangers:
        problems[""].append(Problem(ret.label, None, None, ret.meta.get("name"),
                                    f"biểu mẫu của «{ret.meta.get('name')}» ({ret.party}, năm {ret.meta.get('year')}) "
                                    f"không thuộc danh sách bên nộp năm {yf.year}"))
    reads: dict[str, PartyRead] = {}
    shared = _Checks.of(yf)
    for ch in choices:
        mine = problems.setdefault(ch.party.key, [])
        for ret in ch.other_year:
            mine.append(Problem(ret.label, None, None, ret.meta.get("year"),
                                f"biểu mẫu của năm {ret.meta.get('year')}, không phải năm {yf.year}: không dùng",
                                cell=_meta_cell("year")))
        if ch.used is None:
            continue
        if not ch.version_ok:
            mine.append(Problem(ch.used.label, None, None, ch.used.meta.get("version"),
                                f"biểu mẫu phiên bản {ch.used.meta.get('version')}, năm {yf.year} dùng phiên bản "
                                f"{ch.party.version} (quy định hoặc danh mục đơn vị đã thay đổi sau khi gửi biểu mẫu): "
                                "không dùng; gửi biểu mẫu mới (forms --missing)", cell=_meta_cell("version")))
            # Read anyway, for the fresh form: what was sent is written back into it.
            reads[ch.party.key] = replace(read_party(yf, ch.party, ch.used, shared), rows={}, trace=None)
            continue
        read = read_party(yf, ch.party, ch.used, shared)
        reads[ch.party.key] = read
        mine += read.problems
    usable = [reads[ch.party.key] for ch in choices if ch.used is not None and ch.version_ok]
    assembled = _assemble(yf, usable)
    written = {name: _written(yf, name, table) for name, table in assembled.items()}
    traces = [r.trace for r in usable if r.trace is not None]
    columns = [c for c in TRACE_COLUMNS if c != "sha256"]   # the table's checksum is known when it is written
    trace = pd.concat(traces, ignore_index=True) if traces else pd.DataFrame(columns=["_key", *columns])
    rows = pd.concat([pd.DataFrame({"table": name, "_key": t["_key"], "row": range(2, len(t) + 2),
                                    "unit_id": t["unit_id"]}) for name, t in assembled.items()], ignore_index=True) \
        if assembled else pd.DataFrame(columns=["table", "_key", "row", "unit_id"])
    trace = trace.merge(rows, on=["table", "_key"], how="inner", sort=False)
    trace = trace.sort_values(["table", "row"], kind="stable")[columns].reset_index(drop=True)
    by_workbook = {}
    for p in _check_assembled(yf, written, trace, shared):
        by_workbook.setdefault(p.file, []).append(p)
    for ch in choices:
        if ch.used is not None and ch.used.label in by_workbook:
            problems[ch.party.key] += by_workbook.pop(ch.used.label)
    problems[""] += [p for ps in by_workbook.values() for p in ps]
    return Collected(yf, folder, returns, ignored, choices, strangers, reads, written, trace,
                     {k: v for k, v in problems.items() if v or k})
