"""Who returns what for a year: the parties, and the sheets of each party's form.

Everything comes from the rules and the registry, nothing from code:

* **tự chấm** (``self``): every unit evaluated in the year scores itself on the criteria
  of its criteria set, with the result, the evidence, and an explanation when there is
  no evidence;
* **thẩm định** (``appraisal``): every appraising body (``rules.bodies``) scores the
  criteria assigned to it, for every unit whose set has them (a criterion scored by a
  survey is left out when the year takes survey answers);
* **phiếu đánh giá** (``survey``): for each rater kind, one form per unit of the kind's
  ``groups`` (units rating units, each under its registry id) or, for raters outside the
  registry (enterprises, other agencies), one form for the whole kind, each rater under
  a code of its own;
* **điểm thưởng, điểm trừ** (``council``): the body that decides the bonus and penalty
  items (``rules.adjustments.council``), and the conditions when the rules define some.

A :class:`Party` lists its :class:`Sheet` plans; the same plan writes the workbook
(:mod:`evaluation.forms.workbooks`) and reads it back (:mod:`evaluation.forms.collect`), so a
form never asks for what the collector refuses, nor the reverse.  A party's form version
is a layout number and a fingerprint of what the form lists (codes, units, maxima,
scales): a form made under other rules or another registry is recognised as such.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import pandas as pd

from ..errors import InputError, Problem
from ..fmt import fmt_bound
from ..inputs.catalogue import criteria_frame, unit_sets
from ..inputs.domains import code_lists, value_bounds
from ..inputs.registry import Registry
from ..inputs.rules import Rules
from ..inputs.schemas import ADJUSTMENTS, CONDITIONS, NOT_APPLICABLE, ColumnSpec, TableSpec
from .forms import _column_note, form_tables, form_units

__all__ = ["KINDS", "Kind", "Column", "Sheet", "Party", "year_parties", "LAYOUT", "NA_TEXT",
           "COUNCIL_FALLBACK"]

LAYOUT = 1                       # bump when the layout of the party forms changes
NA_TEXT = NOT_APPLICABLE[0]      # "không áp dụng", as the forms write it
# The council's name comes from the rules (adjustments.council); this generic role is said
# when a rules file does not name it.
COUNCIL_FALLBACK = "Hội đồng đánh giá"


@dataclass(frozen=True)
class Kind:
    """A kind of party: its folder under ``forms/``, and how users call its form."""

    id: str
    folder: str
    label: str        # "tự chấm" — in file names and on the status board
    title: str        # heading of the instructions
    order: int


KINDS = {k.id: k for k in (
    Kind("self", "tu-cham", "tự chấm", "PHIẾU TỰ CHẤM ĐIỂM", 0),
    Kind("appraisal", "tham-dinh", "thẩm định", "PHIẾU THẨM ĐỊNH, CHO ĐIỂM", 1),
    Kind("survey", "phieu-danh-gia", "phiếu đánh giá", "PHIẾU ĐÁNH GIÁ", 2),
    Kind("council", "thuong-tru", "điểm thưởng, điểm trừ", "ĐIỂM THƯỞNG, ĐIỂM TRỪ", 3),
)}


@dataclass(frozen=True)
class Column:
    """One column of a party's sheet.

    ``fixed`` columns are written by the form (codes, names, maxima) and locked;
    the others are what the party fills.  ``spec`` is how the collector checks the
    column (:class:`~evaluation.inputs.schemas.ColumnSpec`); ``note`` says in Vietnamese
    what the cell takes (instructions and input message).
    """

    spec: ColumnSpec
    fixed: bool = False
    note: str = ""
    width: int = 14
    must_fill: bool = False   # the party must write something in every row (points, answers…)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def header(self) -> str:
        return self.spec.header


@dataclass(frozen=True)
class Sheet:
    """One sheet of a party's form: the table it feeds, its columns and its pre-filled rows.

    Attributes
    ----------
    table : str
        The year's input table the sheet's values go to (``criteria``, ``survey``,
        ``adjustments``, ``conditions``).
    title : str
        The sheet's name, as users see it in Excel and in messages.
    columns : tuple of Column
    rows : pandas.DataFrame
        The pre-filled rows (one column per fixed column, plus keys such as
        ``unit_id``); empty for a free list.
    grid : bool
        True: the rows are given and only they are read (a criterion per row);
        False: a free list with spare rows (the council's items, enterprises' forms).
    keys : tuple of str
        Columns that identify a row of the grid.
    bounds : dict
        Named number ranges of the sheet's columns.
    codes : dict
        Allowed codes of its code columns (by the list names of the specs).
    survey : str or None
        The survey a survey sheet answers.
    choices : pandas.DataFrame or None
        The units a free list may name (``unit_id``, ``name``), when not every unit of the
        year (the units a survey rates).
    """

    table: str
    title: str
    columns: tuple[Column, ...]
    rows: pd.DataFrame
    grid: bool
    keys: tuple[str, ...] = ()
    bounds: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    survey: str | None = None
    description: str = ""
    unique: tuple[str, ...] = ()
    unique_rule: str = ""
    choices: pd.DataFrame | None = None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def spec(self) -> TableSpec:
        """The sheet as a table declaration, for :func:`evaluation.inputs.validate.check_table`."""
        code_map = {c.name: c.name for c in self.columns if c.spec.kind == "code"}
        return TableSpec(name=self.table, title=self.title, columns=tuple(c.spec for c in self.columns),
                         unique=self.unique, codes=code_map, unique_rule=self.unique_rule or "mỗi dòng một lần",
                         may_be_empty=not self.grid, description=self.description)


@dataclass(frozen=True)
class Party:
    """Someone who returns a form: a unit, an appraising body, a rater, the council."""

    kind: str
    id: str
    name: str
    sheets: tuple[Sheet, ...]
    rater_kind: str | None = None
    order: int = 0

    @property
    def key(self) -> str:
        """``tu-cham/so-tu-phap``: unique in a year, written in the form's metadata."""
        return f"{KINDS[self.kind].folder}/{self.id}"

    @property
    def label(self) -> str:
        return KINDS[self.kind].label

    @cached_property
    def version(self) -> str:
        """Layout number and a fingerprint of what the form lists: ``1.3f9a0c12``."""
        digest = hashlib.sha256()
        for sheet in self.sheets:
            digest.update(f"{sheet.table}|{sheet.title}|{','.join(c.name for c in sheet.columns)}\n".encode())
            keys = [c for c in ("unit_id", "criterion", "max_points") if c in sheet.rows]
            digest.update(sheet.rows[keys].to_csv(index=False).encode())
            if sheet.choices is not None:
                digest.update(",".join(sheet.choices["unit_id"]).encode())
            for name, (lo, hi) in sorted(sheet.bounds.items()):
                digest.update(f"{name}:{lo}:{hi}\n".encode())
            for name, codes in sorted(sheet.codes.items()):
                digest.update(f"{name}:{','.join(sorted(codes))}\n".encode())
        return f"{LAYOUT}.{digest.hexdigest()[:8]}"

    @property
    def file_name(self) -> str:
        """``Sở Tư pháp - tự chấm 2021.xlsx`` (the year is added by the caller)."""
        return f"{safe_file_name(self.name)} - {self.label}"


def safe_file_name(text: str) -> str:
    """A name usable as a file name on every system (no ``/ \\ : * ? " < > |``)."""
    return re.sub(r'[\\/:*?"<>|]+', "-", text).strip(" .") or "bieu-mau"


def _na_note(what: str) -> str:
    return f"{what}; ghi «{NA_TEXT}» khi tiêu chí không áp dụng với đơn vị"


def _text(name: str, headers: tuple[str, ...], note: str, *, width: int = 30, required: bool = False) -> Column:
    return Column(ColumnSpec(name, headers, "text", required=required, nullable=True), note=note, width=width)


def _fixed(name: str, headers: tuple[str, ...], kind: str = "text", *, width: int = 14) -> Column:
    return Column(ColumnSpec(name, headers, kind, required=False, nullable=True), fixed=True, width=width)


_ORDER = _fixed("order", ("TT", "STT"), "integer", width=5)
_CRITERION = Column(ColumnSpec("criterion", ("Mã tiêu chí", "Tiêu chí (mã)"), "code"), fixed=True, width=11)
_CRITERION_NAME = _fixed("criterion_name", ("Tiêu chí", "Nội dung tiêu chí"), width=42)
_MAX = _fixed("max_points", ("Điểm tối đa",), "number", width=9)


def _self_sheet(unit_id: str, unit_name: str, criteria: pd.DataFrame, bodies: dict[str, str],
                bounds: dict, codes: set[str]) -> Sheet:
    rows = criteria.assign(
        order=range(1, len(criteria) + 1),
        unit_id=unit_id,
        criterion_name=criteria["name"],
        body=[bodies.get(b, b) + (" — chấm qua phiếu đánh giá" if pd.notna(s) else "")
              for b, s in zip(criteria["body"], criteria["by_survey"], strict=True)],
    )
    columns = (
        _ORDER, _CRITERION, _CRITERION_NAME, _MAX,
        _fixed("body", ("Cơ quan thẩm định",), width=24),
        _text("result", ("Kết quả thực hiện", "Kết quả"),
              "kết quả thực hiện tiêu chí trong năm (nên ghi ngắn gọn, có số liệu)", width=32),
        Column(ColumnSpec("self_points", ("Điểm tự chấm", "Tự chấm"), "number", nullable=True, bounds="points",
                          not_applicable=True),
               note=_na_note("điểm đơn vị tự chấm, từ 0 đến điểm tối đa của tiêu chí"), width=10, must_fill=True),
        _text("evidence", ("Minh chứng", "Tài liệu minh chứng"),
              "số, ký hiệu văn bản hoặc tên hồ sơ chứng minh kết quả; bắt buộc khi tự chấm trên 0 điểm "
              "(trừ tiêu chí chấm qua phiếu đánh giá), nếu không có thì ghi giải trình", width=26),
        _text("explanation", ("Giải trình", "Giải trình (khi không có minh chứng)"),
              "lý do không có minh chứng; bắt buộc khi tự chấm trên 0 điểm mà để trống cột «Minh chứng»",
              width=26),
        _text("note", ("Ghi chú", "note"), "ghi chú của đơn vị (được giữ trong kết quả)", width=20),
    )
    return Sheet("criteria", "Tự chấm", columns, rows.reset_index(drop=True), grid=True, keys=("criterion",),
                 bounds=bounds, codes={"criterion": codes}, unique=("criterion",),
                 unique_rule="mỗi tiêu chí chỉ có một dòng",
                 description=f"Điểm tự chấm của {unit_name} theo từng tiêu chí của bộ tiêu chí của đơn vị.")


def _appraisal_sheet(body_name: str, grid: pd.DataFrame, bounds: dict, codes: set[str]) -> Sheet:
    rows = grid.assign(order=range(1, len(grid) + 1), criterion_name=grid["name"])
    columns = (
        _ORDER,
        Column(ColumnSpec("unit", ("Đơn vị", "Tên đơn vị"), "unit"), fixed=True, width=30),
        _CRITERION, _CRITERION_NAME, _MAX,
        Column(ColumnSpec("points", ("Điểm thẩm định", "Điểm đánh giá"), "number", nullable=True, bounds="points",
                          not_applicable=True),
               note=_na_note(f"điểm {body_name} cho, từ 0 đến điểm tối đa của tiêu chí"), width=10, must_fill=True),
        _text("note", ("Ghi chú", "note"), "nhận xét của cơ quan thẩm định (được giữ trong kết quả)", width=30),
    )
    return Sheet("criteria", "Thẩm định", columns, rows.reset_index(drop=True), grid=True,
                 keys=("unit_id", "criterion"), bounds=bounds, codes={"criterion": codes},
                 unique=("unit_id", "criterion"), unique_rule="mỗi đơn vị chỉ có một dòng cho mỗi tiêu chí",
                 description=f"Điểm {body_name} thẩm định các tiêu chí được giao, cho từng đơn vị.")


def _question_columns(survey) -> tuple[Column, ...]:
    lo, hi = fmt_bound(survey.scale_min), fmt_bound(survey.scale_max)
    return tuple(Column(ColumnSpec(q.code, (f"{q.code}. {q.text}", q.code), "number", required=True, nullable=True,
                                   bounds="answer"),
                        note=f"{q.text}: điểm từ {lo} đến {hi}", width=16, must_fill=True)
                 for q in survey.questions)


def _survey_title(survey, taken: set[str]) -> str:
    title = f"Phiếu {survey.criterion}"
    n = 2
    while title in taken:
        title, n = f"Phiếu {survey.criterion} ({n})", n + 1
    taken.add(title)
    return title


def _survey_sheets(rules: Rules, kind, rater_id: str | None, targets: pd.DataFrame) -> tuple[Sheet, ...]:
    """One sheet per survey the rater kind answers; rows are the units rated (grid) or free."""
    sheets, taken = [], set()
    for sv in rules.surveys:
        if kind.id not in sv.raters:
            continue
        rated = targets[targets["criteria_set"].isin(sv.sets)]
        if rater_id is not None:
            rated = rated[rated["unit_id"] != rater_id]
        bounds = {"answer": (Decimal(sv.scale_min), Decimal(sv.scale_max))}
        unit_col = Column(ColumnSpec("unit", ("Đơn vị được đánh giá", "Đơn vị"), "unit"), fixed=rater_id is not None,
                          width=30, note="đơn vị được đánh giá — chọn trong danh sách thả xuống")
        questions = _question_columns(sv)
        described = (f"{sv.name}. Mỗi dòng là một đơn vị được đánh giá; mỗi câu hỏi một cột, điểm từ "
                     f"{fmt_bound(sv.scale_min)} (thấp nhất) đến {fmt_bound(sv.scale_max)} (cao nhất).")
        if rater_id is not None:
            rows = rated[["unit_id", "name"]].rename(columns={"name": "unit"}).assign(order=range(1, len(rated) + 1))
            sheets.append(Sheet("survey", _survey_title(sv, taken), (_ORDER, unit_col, *questions),
                                rows.reset_index(drop=True), grid=True, keys=("unit_id",), bounds=bounds,
                                survey=sv.id, unique=("unit_id",), unique_rule="mỗi đơn vị chỉ đánh giá một lần",
                                description=described + " Bỏ trống cả dòng nếu không đánh giá đơn vị đó."))
        else:
            rater = Column(ColumnSpec("rater", ("Mã người đánh giá", "Người đánh giá"), "text"), width=18,
                           note=f"mã riêng của mỗi người đánh giá ({kind.name}), giống nhau trên mọi dòng của "
                                "cùng một người, ví dụ DN001")
            empty = pd.DataFrame({"unit_id": pd.Series(dtype="string")})
            sheets.append(Sheet("survey", _survey_title(sv, taken), (rater, unit_col, *questions), empty, grid=False,
                                bounds=bounds, survey=sv.id, choices=rated[["unit_id", "name"]].reset_index(drop=True), unique=("rater", "unit_id"),
                                unique_rule="mỗi người đánh giá đánh giá mỗi đơn vị một lần",
                                description=described + " Mỗi người đánh giá ghi một dòng cho mỗi đơn vị mình "
                                "đánh giá, cùng một mã người đánh giá."))
    return tuple(sheets)


def _council_sheets(rules: Rules, taken: set[str], year: int) -> tuple[Sheet, ...]:
    specs = [s for s in form_tables(rules, {s.name: s for s in (ADJUSTMENTS, CONDITIONS)}) if s.name in taken]
    lists = code_lists(rules, {s.name: s for s in specs})
    bounds = value_bounds(rules)
    sheets = []
    for spec in specs:
        columns = tuple(Column(c, width={"unit": 30, "code": 12, "text": 28}.get(c.kind, 10),
                               note=_column_note(c, bounds, lists, spec, year)) for c in spec.columns)
        codes = {c.name: {code for code, _ in lists[spec.codes[c.name]]} for c in spec.columns if c.name in spec.codes}
        sheets.append(Sheet(spec.name, spec.title, columns, pd.DataFrame({"unit_id": pd.Series(dtype="string")}),
                            grid=False, bounds=bounds, codes=codes, description=spec.description,
                            unique=spec.unique, unique_rule=spec.unique_rule))
    return tuple(sheets)


def year_parties(rules: Rules, registry: Registry, year: int, tables: Iterable[str]) -> list[Party]:
    """Every party that returns a form for ``year``, in a stable order (kind, then rules/registry order).

    Parameters
    ----------
    rules, registry : Rules, Registry
    year : int
        Units valid in this year are evaluated and rate each other.
    tables : iterable of str
        The input tables the year takes (its params' ``inputs``): without ``survey``
        the criteria scored by surveys are appraised by their bodies, without
        ``adjustments`` the council returns nothing.

    Raises
    ------
    InputError
        When the rules have no criteria sets (a year published as totals only has
        no parties: its one workbook is made by ``new-year``), or when a unit of the
        year matches no criteria set.
    """
    taken = set(tables)
    if not rules.detailed or "criteria" not in taken:
        raise InputError([Problem(rules.id, None, "criteria_sets", None,
                                  "biểu mẫu theo từng bên chỉ dùng cho năm chấm điểm theo tiêu chí (quy định có "
                                  "criteria_sets, tệp tham số có inputs.criteria); năm chỉ có tổng điểm dùng biểu "
                                  "mẫu chung của lệnh new-year")])
    units = form_units(registry, rules, year)
    reg = registry.units.loc[units["id"]]
    sets = unit_sets(reg, rules)
    units = units.assign(unit_id=units["id"], criteria_set=sets["criteria_set"].to_numpy())
    lost = units[units["criteria_set"].isna()]
    if len(lost):
        raise InputError([Problem(registry.source, None, "group", name,
                                  "đơn vị không thuộc đúng một bộ tiêu chí của quy định: không lập được phiếu tự chấm")
                          for name in lost["name"]])
    catalogue = criteria_frame(rules)
    survey_taken = "survey" in taken and bool(rules.surveys)
    # A criterion scored by a survey is scored from the answers only when the year takes them.
    catalogue["by_survey"] = catalogue["survey"] if survey_taken else pd.Series(pd.NA, index=catalogue.index,
                                                                                 dtype="string")
    bounds = {"points": value_bounds(rules)["points"]}
    codes = {code for code, _ in code_lists(rules)["criteria"]}
    bodies = {b.id: b.name for b in rules.bodies}
    parties: list[Party] = []

    for i, u in enumerate(units.itertuples(index=False)):
        mine = catalogue[catalogue["criteria_set"] == u.criteria_set].sort_values("position")
        parties.append(Party("self", u.unit_id, u.name,
                             (_self_sheet(u.unit_id, u.name, mine, bodies, bounds, codes),), order=i))

    grid = units[["unit_id", "name", "criteria_set"]].rename(columns={"name": "unit"}).merge(
        catalogue, on="criteria_set", sort=False)
    grid = grid[grid["by_survey"].isna()]
    for i, body in enumerate(rules.bodies):
        mine = grid[grid["body"] == body.id]
        if len(mine):
            parties.append(Party("appraisal", body.id, body.name,
                                 (_appraisal_sheet(body.name, mine, bounds, codes),), order=i))

    if survey_taken:
        targets = units[["unit_id", "name", "criteria_set", "group"]]
        n = 0
        for kind in rules.rater_kinds:
            if not any(kind.id in sv.raters for sv in rules.surveys):
                continue
            if kind.groups:
                for r in units[units["group"].isin(kind.groups)].itertuples(index=False):
                    sheets = _survey_sheets(rules, kind, r.unit_id, targets)
                    parties.append(Party("survey", r.unit_id, r.name, sheets, rater_kind=kind.id, order=n))
                    n += 1
            else:
                parties.append(Party("survey", kind.id, kind.name, _survey_sheets(rules, kind, None, targets),
                                     rater_kind=kind.id, order=n))
                n += 1

    council = _council_sheets(rules, taken, year)
    if council:
        parties.append(Party("council", "hoi-dong", rules.adjustments.council or COUNCIL_FALLBACK, council))
    keys = [p.key for p in parties]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:  # a rater kind whose id is also a unit's: two parties would share one form
        raise InputError([Problem(rules.id, None, "rater_kinds", k, "hai bên nộp cùng một mã biểu mẫu") for k in twice])
    return sorted(parties, key=lambda p: (KINDS[p.kind].order, p.order))
