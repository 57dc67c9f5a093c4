"""Problems and their messages."""

from __future__ import annotations

from evaluation.errors import InputError, Problem
from evaluation.inputs.tables import parse_csv_text


def test_a_line_break_inside_a_value_keeps_one_problem_on_one_line():
    # Was: a ragged row holding a quoted multi-line cell split its problem over two lines.
    _, problems = parse_csv_text('TT,Đơn vị,Điểm tự chấm,Điểm đánh giá\n1,"Sở\nTài chính",98,92.9,7\n', "x.csv")
    message = InputError(problems).message()
    assert message.splitlines() == [
        "Dữ liệu vào có 1 lỗi:",
        "  - x.csv, dòng 2: giá trị «1,Sở⏎Tài chính,98,92.9,7» — dòng có 5 cột, tiêu đề chỉ có 4 cột",
    ]


def test_a_long_value_is_shortened():
    text = str(Problem("x.csv", 2, "Đơn vị", "a" * 100, "sai"))
    assert text == f"x.csv, dòng 2, cột «Đơn vị»: giá trị «{'a' * 59}…» — sai"
