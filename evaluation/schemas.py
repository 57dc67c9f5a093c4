"""Declared input tables: their columns, accepted headers and value kinds.

Declarations only; :mod:`evaluation.validate` runs them.  Headers are matched
by :func:`evaluation.text.name_key`, so ``Điểm đánh giá``, ``điểm đánh giá``
and ``DIEM DANH GIA``-free variants with other spacing all work; the first
header listed is the one written in templates and messages.

Bounds are named, not numbered (``"score"``): the numbers come from the
rules file of the year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ColumnSpec", "TableSpec", "SCORES", "CONDITIONS", "TABLES"]

Kind = Literal["text", "number", "integer", "unit", "code"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an input table.

    Attributes
    ----------
    name : str
        Name inside the package (English).
    headers : tuple of str
        Headers accepted in a file; the first is the one shown to users.
    kind : {"text", "number", "integer", "unit", "code"}
        ``unit`` is matched against the registry; ``code`` against a list from the rules.
    required : bool
        The column must be present.
    nullable : bool
        A cell may be blank.
    bounds : str or None
        Name of the range the number must lie in (resolved from the rules).
    """

    name: str
    headers: tuple[str, ...]
    kind: Kind = "text"
    required: bool = True
    nullable: bool = False
    bounds: str | None = None

    @property
    def header(self) -> str:
        return self.headers[0]


@dataclass(frozen=True)
class TableSpec:
    """One input table.

    Attributes
    ----------
    name : str
        Key in the params' ``inputs`` mapping.
    title : str
        Vietnamese title (sheet name in the Excel forms).
    columns : tuple of ColumnSpec
    unique : tuple of str
        Columns whose combination may appear only once.
    may_be_empty : bool
        A file with the header and no rows is valid (a list that can be empty in a
        year, such as the units under a condition); otherwise it is an error.
    """

    name: str
    title: str
    columns: tuple[ColumnSpec, ...]
    unique: tuple[str, ...] = ()
    description: str = ""
    codes: dict[str, str] = field(default_factory=dict)
    may_be_empty: bool = False

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


NOTE = ColumnSpec("note", ("Ghi chú", "note"), "text", required=False, nullable=True)

SCORES = TableSpec(
    name="scores",
    title="Điểm",
    description="Điểm tự chấm và điểm đánh giá (điểm cuối cùng, đã gồm điểm thưởng, điểm trừ) của mỗi đơn vị.",
    columns=(
        ColumnSpec("order", ("TT", "STT", "order"), "integer", required=False, nullable=True),
        ColumnSpec("unit", ("Đơn vị", "Tên đơn vị", "unit"), "unit"),
        ColumnSpec("self_score", ("Điểm tự chấm", "Tự chấm", "self_score"), "number",
                   nullable=True, bounds="score"),
        ColumnSpec("final_score", ("Điểm đánh giá", "Điểm thẩm định", "final_score"), "number",
                   bounds="score"),
        NOTE,
    ),
    unique=("unit_id",),
)

CONDITIONS = TableSpec(
    name="conditions",
    title="Điều kiện",
    description="Điều kiện làm một đơn vị không được xếp vào bậc cao (ví dụ bị kỷ luật).",
    columns=(
        ColumnSpec("unit", ("Đơn vị", "unit"), "unit"),
        ColumnSpec("condition", ("Mã điều kiện", "Điều kiện", "condition"), "code"),
        NOTE,
    ),
    unique=("unit_id", "condition"),
    codes={"condition": "conditions"},
    may_be_empty=True,  # most years no unit is under a condition
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (SCORES, CONDITIONS)}
