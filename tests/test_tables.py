"""Reading input files as text: header, row numbers, characters that must not get in."""

from __future__ import annotations

import pytest

from evaluation.inputs.tables import parse_csv_text, read_csv_text

HEADER = "TT,Đơn vị,Điểm tự chấm,Điểm đánh giá"


def test_blank_lines_above_the_header_keep_spreadsheet_row_numbers():
    # Was: the first (blank) line was taken as a header of 0 columns: one false error per row.
    table, problems = parse_csv_text(f"\n,,,\n{HEADER}\n1,Sở Tài chính,98,92.9\n\n2,Sở Y tế,98,90.5\n", "x.csv")
    assert problems == []
    assert list(table.columns) == ["TT", "Đơn vị", "Điểm tự chấm", "Điểm đánh giá", "_row"]
    assert table["_row"].tolist() == [4, 6]
    assert table["Đơn vị"].tolist() == ["Sở Tài chính", "Sở Y tế"]


def test_ragged_row_below_blank_lines_names_its_real_row():
    _, problems = parse_csv_text(f"\n\n{HEADER}\n1,Sở Tài chính,98,92.9,9\n", "x.csv")
    assert [str(p) for p in problems] == [
        "x.csv, dòng 4: giá trị «1,Sở Tài chính,98,92.9,9» — dòng có 5 cột, tiêu đề chỉ có 4 cột"]


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x07", "\x1b", "\x7f"])
def test_control_characters_are_refused_with_row_and_column(char):
    # Was: accepted, then openpyxl refused them while writing results.xlsx (exit 1, no place named).
    _, problems = parse_csv_text(f"{HEADER}\n1,Sở Tài{char} chính,98,92.9\n", "x.csv")
    assert len(problems) == 1
    assert str(problems[0]).startswith(
        f"x.csv, dòng 2, cột «Đơn vị»: giá trị «Sở Tài\\x{ord(char):02x} chính» — ký tự điều khiển")


def test_control_character_in_a_header_is_refused():
    _, problems = parse_csv_text("TT,Đơn\x02 vị,Điểm đánh giá\n1,Sở Tài chính,92.9\n", "x.csv")
    assert [(p.row, p.value) for p in problems] == [(1, "Đơn\\x02 vị")]


def test_white_space_controls_are_only_spaces():
    table, problems = parse_csv_text(f"{HEADER}\n1,Sở\tTài\x0bchính,98,92.9\n", "x.csv")
    assert problems == []


def test_a_folder_is_not_read_as_a_file(tmp_path):
    table, problems = read_csv_text(tmp_path, "data/2020")
    assert [str(p) for p in problems] == ["data/2020 — không phải một tệp (là thư mục?)"]


@pytest.mark.parametrize("text", ["\n  \n,,,\n", ",,,", "\r\n\r\n"])
def test_a_file_of_blank_lines_and_separators_is_empty(text):
    _, problems = parse_csv_text(text, "x.csv")
    assert [str(p) for p in problems] == ["x.csv — tệp rỗng: cần dòng tiêu đề và dữ liệu"]
