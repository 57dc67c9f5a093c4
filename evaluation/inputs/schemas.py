"""Declared input tables: their columns, accepted headers and value kinds.

Declarations only; :mod:`evaluation.inputs.validate` runs them.  Headers are matched
by :func:`evaluation.text.name_key`, so ``Điểm đánh giá``, ``điểm đánh giá``
and ``DIEM DANH GIA``-free variants with other spacing all work; the first
header listed is the one written in templates and messages.

Bounds are named, not numbered (``"score"``): the numbers come from the
rules file of the year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ColumnSpec", "TableSpec", "SCORES", "PERIODS", "CONDITIONS", "CRITERIA", "SURVEY", "ADJUSTMENTS", "TABLES",
           "NOT_APPLICABLE"]

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
    not_applicable : bool
        A number column that also accepts "không áp dụng" (see
        :data:`NOT_APPLICABLE`); the checked table gets a boolean column
        ``<name>_na`` and NaN in the number column for those cells.
    rule : str
        When a cell must be filled depends on the row (checked across columns, in
        :mod:`evaluation.inputs.detail_checks`): said here in Vietnamese, so that the
        forms' instructions say what the checks do.
    """

    name: str
    headers: tuple[str, ...]
    kind: Kind = "text"
    required: bool = True
    nullable: bool = False
    bounds: str | None = None
    not_applicable: bool = False
    rule: str = ""

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
    # What a duplicate breaks, said after "bị trùng với dòng N: ".
    unique_rule: str = "mỗi đơn vị chỉ có một dòng"
    # How a year is scored decides which tables it takes: "totals" (published final scores),
    # "periods" (final scores per quarter or month), "detailed" (points by criterion, surveys,
    # bonus/penalty) or "any" (every kind of year).
    mode: str = "any"
    may_be_empty: bool = False

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


NOTE = ColumnSpec("note", ("Ghi chú", "note"), "text", required=False, nullable=True)

# Ways of writing "không áp dụng" (not applicable) in a points cell; compared by name_key,
# so case, tone placement and spacing do not matter.
NOT_APPLICABLE = ("không áp dụng", "KAD", "KÁD", "N/A", "NA")

SCORES = TableSpec(
    mode="totals",
    name="scores",
    title="Điểm",
    description="Điểm tự chấm và điểm đánh giá (điểm cuối cùng, đã gồm điểm thưởng, điểm trừ) của mỗi đơn vị.",
    columns=(
        ColumnSpec("order", ("TT", "STT", "order"), "integer", required=False, nullable=True),
        ColumnSpec("unit", ("Đơn vị", "Tên đơn vị", "unit"), "unit"),
        # Optional: a year may publish no self scores (the gap sections then say so).
        ColumnSpec("self_score", ("Điểm tự chấm", "Tự chấm", "self_score"), "number", required=False,
                   nullable=True, bounds="score"),
        ColumnSpec("final_score", ("Điểm đánh giá", "Điểm thẩm định", "final_score"), "number",
                   bounds="score"),
        NOTE,
    ),
    unique=("unit_id",),
)

PERIODS = TableSpec(
    mode="periods",
    name="periods",
    title="Điểm theo kỳ",
    description=("Điểm tự chấm và điểm đánh giá của mỗi đơn vị trong từng kỳ (quý, tháng) theo mã kỳ của quy "
                 "định; điểm năm tính từ điểm các kỳ theo quy định (mặc định: trung bình)."),
    columns=(
        ColumnSpec("unit", ("Đơn vị", "Tên đơn vị", "unit"), "unit"),
        ColumnSpec("period", ("Mã kỳ", "Kỳ", "period"), "code"),
        ColumnSpec("self_score", ("Điểm tự chấm", "Tự chấm", "self_score"), "number", required=False,
                   nullable=True, bounds="score"),
        ColumnSpec("final_score", ("Điểm đánh giá", "Điểm thẩm định", "final_score"), "number",
                   bounds="score"),
        NOTE,
    ),
    unique=("unit_id", "period"),
    codes={"period": "periods"},
    unique_rule="mỗi đơn vị chỉ có một dòng cho mỗi kỳ",
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
    unique_rule="mỗi đơn vị chỉ ghi một lần mỗi «Mã điều kiện»",
    may_be_empty=True,  # most years no unit is under a condition
)

CRITERIA = TableSpec(
    mode="detailed",
    name="criteria",
    title="Điểm theo tiêu chí",
    description=("Điểm tự chấm và điểm thẩm định của mỗi đơn vị theo từng tiêu chí của bộ tiêu chí của "
                 "đơn vị; ghi «không áp dụng» khi tiêu chí không áp dụng (điểm được quy đổi theo phần áp "
                 "dụng). Tiêu chí chấm qua phiếu đánh giá để trống điểm thẩm định khi có tệp phiếu."),
    columns=(
        ColumnSpec("unit", ("Đơn vị", "Tên đơn vị", "unit"), "unit"),
        ColumnSpec("criterion", ("Mã tiêu chí", "Tiêu chí", "criterion"), "code"),
        ColumnSpec("result", ("Kết quả thực hiện", "Kết quả", "result"), "text", required=False, nullable=True),
        ColumnSpec("self_points", ("Điểm tự chấm", "Tự chấm", "self_points"), "number", nullable=True,
                   bounds="points", not_applicable=True),
        ColumnSpec("points", ("Điểm thẩm định", "Điểm đánh giá", "points"), "number", nullable=True,
                   bounds="points", not_applicable=True,
                   rule="bắt buộc, trừ tiêu chí chấm qua phiếu đánh giá khi có bảng phiếu đánh giá (để trống)"),
        ColumnSpec("evidence", ("Minh chứng", "Tài liệu minh chứng", "evidence"), "text", required=False,
                   nullable=True),
        # Why a unit claims points without evidence (the parties' self-assessment forms ask for it).
        ColumnSpec("explanation", ("Giải trình", "Giải trình (khi không có minh chứng)", "explanation"), "text",
                   required=False, nullable=True),
        NOTE,
    ),
    unique=("unit_id", "criterion"),
    codes={"criterion": "criteria"},
    unique_rule="mỗi đơn vị chỉ có một dòng cho mỗi tiêu chí",
)

SURVEY = TableSpec(
    mode="detailed",
    name="survey",
    title="Phiếu đánh giá",
    description=("Mỗi dòng là câu trả lời của một người đánh giá (loại và mã người đánh giá) về một đơn vị, "
                 "cho một câu hỏi của phiếu, trên thang điểm của phiếu."),
    columns=(
        ColumnSpec("rater_kind", ("Loại người đánh giá", "Loại", "rater_kind"), "code"),
        ColumnSpec("rater", ("Mã người đánh giá", "Người đánh giá", "rater"), "text"),
        ColumnSpec("unit", ("Đơn vị được đánh giá", "Đơn vị", "unit"), "unit"),
        ColumnSpec("question", ("Mã câu hỏi", "Câu hỏi", "question"), "code"),
        ColumnSpec("answer", ("Điểm", "Trả lời", "answer"), "number"),
    ),
    unique=("rater_kind", "rater", "unit_id", "question"),
    codes={"rater_kind": "rater_kinds", "question": "questions"},
    unique_rule="mỗi người đánh giá trả lời mỗi câu hỏi về một đơn vị một lần",
)

ADJUSTMENTS = TableSpec(
    mode="detailed",
    name="adjustments",
    title="Điểm thưởng, điểm trừ",
    description=("Mỗi dòng là một nội dung thưởng hoặc trừ của một đơn vị: số lần (nội dung có mức điểm cố "
                 "định) hoặc số điểm Hội đồng cho (nội dung «tối đa»), cơ quan đề nghị và minh chứng."),
    columns=(
        ColumnSpec("unit", ("Đơn vị", "Tên đơn vị", "unit"), "unit"),
        ColumnSpec("item", ("Mã nội dung", "Nội dung", "item"), "code"),
        ColumnSpec("count", ("Số lần", "Số lượng", "count"), "integer", required=False, nullable=True,
                   bounds="count", rule="để trống là một lần"),
        ColumnSpec("amount", ("Số điểm", "amount"), "number", required=False, nullable=True, bounds="amount",
                   rule="bắt buộc với nội dung «tối đa» hoặc do Hội đồng quyết định; để trống với nội dung có "
                        "mức điểm cố định (ghi «Số lần»)"),
        ColumnSpec("source", ("Cơ quan đề nghị", "Nguồn", "source"), "text"),
        ColumnSpec("evidence", ("Minh chứng", "Văn bản", "evidence"), "text", required=False, nullable=True),
        NOTE,
    ),
    codes={"item": "items"},
    may_be_empty=True,  # a year may have no bonus and no penalty at all
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (SCORES, PERIODS, CONDITIONS, CRITERIA, SURVEY, ADJUSTMENTS)}


def tables_for(mode: str) -> dict[str, TableSpec]:
    """The tables a year scored in ``mode`` ("totals", "periods" or "detailed") takes, in declaration order."""
    return {name: spec for name, spec in TABLES.items() if spec.mode in (mode, "any")}


def mode_of(inputs: Iterable[str]) -> str:
    """How a year listing these inputs is scored: "detailed" when it gives points by criterion,
    "periods" when it gives scores per period, "totals" otherwise."""
    given = set(inputs)
    for mode in ("detailed", "periods"):
        if {name for name, spec in TABLES.items() if spec.mode == mode} & given:
            return mode
    return "totals"
