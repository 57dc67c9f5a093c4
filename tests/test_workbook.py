"""Reading a sheet of a workbook: same table as from CSV, and every problem named by sheet and cell."""

from __future__ import annotations

import datetime as dt
import unicodedata
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from evaluation.engine.pipeline import evaluate, load_inputs
from evaluation.errors import InputError
from evaluation.inputs.tables import read_csv_text, read_table_text
from evaluation.inputs.workbook import read_sheet_text, sheet_ref
from tests.conftest import FIXTURES, ROOT, copy_year

HEADER = ["TT", "Đơn vị", "Điểm tự chấm", "Điểm đánh giá", "Ghi chú"]
SAVED = FIXTURES / "workbooks" / "formulas-saved-by-libreoffice.xlsx"


def workbook(path: Path, rows: list[list], *, title: str = "Điểm", more: dict | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for name, extra in (more or {}).items():
        other = wb.create_sheet(name)
        for row in extra:
            other.append(row)
    wb.save(path)
    return path


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def test_values_as_the_user_sees_them(tmp_path):
    path = workbook(tmp_path / "a.xlsx", [
        HEADER,
        [1, "  Sở Tài chính ", 98, 92.9, None],
        [],                                     # blank row: dropped, numbering kept
        [3, unicodedata.normalize("NFD", "Sở Y tế"), 98.4, 90.0, dt.datetime(2021, 2, 1)],
        [4, "Sở Nội vụ", 0.9, 87.55, True],
    ])
    wb_formats = __import__("openpyxl").load_workbook(path)
    wb_formats["Điểm"]["C5"].number_format = "0%"       # shows 90%: must not be read as 0.9 points
    wb_formats["Điểm"]["A5"].number_format = "000"      # shows 004
    wb_formats.save(path)
    table, problems = read_sheet_text(path, "a.xlsx")
    assert problems == []
    assert list(table.columns) == HEADER + ["_row"]
    assert table["_row"].tolist() == [2, 4, 5]
    assert table["Đơn vị"].tolist() == ["Sở Tài chính", "Sở Y tế", "Sở Nội vụ"]   # NFC, trimmed
    assert table["Điểm tự chấm"].tolist() == ["98", "98.4", "90%"]
    assert table["Điểm đánh giá"].tolist() == ["92.9", "90", "87.55"]
    assert table["TT"].tolist() == ["1", "3", "004"]
    assert table["Ghi chú"].tolist() == ["", "01/02/2021", "TRUE"]
    assert table.attrs == {"sheet": "Điểm", "column_letters": dict(zip(HEADER, "ABCDE", strict=True))}


def test_same_table_as_the_csv(tmp_path):
    csv_path = ROOT / "data" / "2020" / "scores.csv"
    from_csv, _ = read_csv_text(csv_path)
    rows = [list(from_csv.columns[:-1])] + from_csv.drop(columns="_row").values.tolist()
    path = workbook(tmp_path / "s.xlsx", rows)       # every cell typed as text
    from_xlsx, problems = read_table_text(path, sheet="Điểm")
    assert problems == []
    assert from_xlsx.drop(columns="_row").equals(from_csv.drop(columns="_row"))
    assert from_xlsx["_row"].tolist() == from_csv["_row"].tolist()


def test_saved_formulas_are_read_as_their_values():
    table, problems = read_sheet_text(SAVED, "f.xlsx", sheet="Điểm")
    assert problems == []
    assert table["Điểm đánh giá"].tolist() == ["92.9", "86.9"]
    assert table["Ghi chú"].tolist() == ["", "Sở Y tế (kiểm tra)"]


def test_error_values_are_reported_by_cell():
    _, problems = read_sheet_text(SAVED, "f.xlsx", sheet="Lỗi")
    assert messages(problems) == [
        "f.xlsx, ô Lỗi!D2: giá trị «#DIV/0!» — ô báo lỗi công thức: sửa công thức hoặc nhập giá trị"]


def test_formula_without_saved_value_is_an_error_per_cell(tmp_path):
    path = workbook(tmp_path / "f.xlsx", [HEADER, [1, "Sở Tài chính", 98, "=C2-5", None],
                                          [2, "Sở Y tế", "=90+1", 90, None]])
    _, problems = read_sheet_text(path, "f.xlsx", sheet="Điểm")
    assert [p.cell for p in problems] == ["Điểm!D2", "Điểm!C3"]
    assert all("công thức chưa có giá trị" in p.expected for p in problems)


def test_merged_header_cells_give_one_clear_message(tmp_path):
    path = workbook(tmp_path / "m.xlsx", [["Điểm năm 2021", None, None, None], HEADER[:4],
                                          [1, "Sở Tài chính", 98, 92.9]])
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb["Điểm"].merge_cells("A1:D1")
    wb["Điểm"].merge_cells("B4:B5")
    wb.save(path)
    _, problems = read_sheet_text(path, "m.xlsx", sheet="Điểm")
    msgs = messages(problems)
    assert msgs[0].startswith("m.xlsx, ô Điểm!A1:D1 — ô gộp ở dòng tiêu đề")
    assert msgs[1].startswith("m.xlsx, ô Điểm!B4:B5 — ô gộp trong vùng số liệu")
    assert len(msgs) == 2


def test_missing_sheet_names_the_sheets_present(tmp_path):
    path = workbook(tmp_path / "w.xlsx", [HEADER], title="Trang 1", more={"Trang 2": [HEADER]})
    _, problems = read_sheet_text(path, "w.xlsx", sheet="Điểm")
    assert messages(problems) == ["w.xlsx: giá trị «Điểm» — không có trang tính «Điểm»; "
                                  "các trang tính trong tệp: «Trang 1», «Trang 2»"]


def test_sheet_names_match_like_names_and_a_single_sheet_is_taken(tmp_path):
    path = workbook(tmp_path / "w.xlsx", [HEADER, [1, "Sở Tài chính", 98, 92.9]], title=" ĐIỂM ",
                    more={"Khác": [["x"]]})
    table, problems = read_sheet_text(path, "w.xlsx", sheet="Điểm")
    assert problems == [] and table.attrs["sheet"] == " ĐIỂM "
    single = workbook(tmp_path / "one.xlsx", [HEADER, [1, "Sở Tài chính", 98, 92.9]], title="Sheet1")
    table, problems = read_sheet_text(single, "one.xlsx", sheet="Điểm")
    assert problems == [] and len(table) == 1 and table.attrs["sheet"] == "Sheet1"


@pytest.mark.parametrize(("rows", "expected"), [
    ([], "trang tính «Điểm» trống"),
    ([[None], [None, "Sở Tài chính"]], "dòng 1 trống: tiêu đề các cột phải ở dòng 1 (dòng đầu có nội dung là dòng 2)"),
    ([["TT", "Đơn vị", "TT"], [1, "Sở Tài chính", 2]], "ô Điểm!C1, cột «TT»: giá trị «TT» — tiêu đề cột bị lặp"),
    ([["TT", "Đơn vị"], [1, "Sở Tài chính", 98]], "ô Điểm!C2: giá trị «98» — cột C có số liệu nhưng không có tiêu đề"),
])
def test_malformed_sheets(tmp_path, rows, expected):
    path = workbook(tmp_path / "x.xlsx", rows)
    table, problems = read_sheet_text(path, "x.xlsx", sheet="Điểm")
    assert table.empty
    assert any(expected in m for m in messages(problems)), messages(problems)


def test_empty_columns_without_header_are_ignored(tmp_path):
    path = workbook(tmp_path / "x.xlsx", [["TT", None, "Đơn vị"], [1, None, "Sở Tài chính"]])
    table, problems = read_sheet_text(path, "x.xlsx")
    assert problems == [] and list(table.columns) == ["TT", "Đơn vị", "_row"]
    assert table.attrs["column_letters"] == {"TT": "A", "Đơn vị": "C"}


def test_not_a_workbook(tmp_path):
    cases = {
        "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
        "renamed.xlsx": "TT,Đơn vị\n1,Sở Tài chính\n".encode(),
        "empty.xlsx": b"",
    }
    ods = tmp_path / "sheet.ods"
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    found = {"sheet.ods": messages(read_table_text(ods, "sheet.ods")[1])}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        found[name] = messages(read_table_text(tmp_path / name, name)[1])
    assert "Excel dạng cũ (.xls" in found["old.xls"][0]
    assert "không phải sổ làm việc .xlsx" in found["renamed.xlsx"][0]
    assert "tệp rỗng" in found["empty.xlsx"][0]
    assert "OpenDocument (.ods)" in found["sheet.ods"][0]
    assert all(len(v) == 1 for v in found.values())


def test_size_limits_are_checked_before_parsing(tmp_path):
    path = workbook(tmp_path / "big.xlsx", [HEADER] + [[i, "Sở Tài chính " * 20, 98, 92.9] for i in range(3000)])
    _, problems = read_sheet_text(path, "big.xlsx", max_bytes=1024)
    assert "tệp quá lớn" in problems[0].expected
    size = path.stat().st_size
    _, problems = read_sheet_text(path, "big.xlsx", max_bytes=size + 1)   # fits zipped, not unzipped
    assert "khi giải nén" in problems[0].expected


def test_sheet_ref_quotes_like_excel():
    assert sheet_ref("Điểm", "C14") == "Điểm!C14"
    assert sheet_ref("Điều kiện", "B3") == "'Điều kiện'!B3"
    assert sheet_ref("Bob's", "A1") == "'Bob''s'!A1"
    assert sheet_ref("2021", "A1") == "'2021'!A1"


def test_a_year_read_from_a_workbook_reports_cells(tmp_path, monkeypatch):
    """The pipeline reads the sheet named like the table; every problem names its cell."""
    params = copy_year(tmp_path)
    from_csv, _ = read_csv_text(tmp_path / "data" / "2020" / "scores.csv")
    rows = [list(from_csv.columns[:-1])] + from_csv.drop(columns="_row").values.tolist()
    rows[2][3] = "9x"        # Sở Tài chính, row 3, column D
    rows[8][2] = 108         # Sở Lao động, row 9, column C
    workbook(tmp_path / "data" / "2020" / "scores.xlsx", rows, title="Điểm")
    text = params.read_text(encoding="utf-8").replace("scores: scores.csv", "scores: scores.xlsx")
    params.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        load_inputs(params)
    assert messages(info.value.problems) == [
        "data/2020/scores.xlsx, ô Điểm!D3, cột «Điểm đánh giá»: giá trị «9x» — không phải số: cần một số "
        "(ví dụ 87,6 hoặc 87.6), không dùng dấu phân cách hàng nghìn",
        "data/2020/scores.xlsx, ô Điểm!C9, cột «Điểm tự chấm»: giá trị «108» — ngoài khoảng cho phép: "
        "cần từ 0 đến 100",
    ]
    rows[2][3], rows[8][2] = "92.9", "92.4"
    workbook(tmp_path / "data" / "2020" / "scores.xlsx", rows, title="Điểm")
    assert len(evaluate(params).ranked) == 61
