"""Checking a year's inputs: every problem at once, each with file, row, column, value, expectation."""

from __future__ import annotations

import pytest

from evaluation.engine.pipeline import evaluate, load_inputs
from evaluation.errors import InputError
from tests.conftest import copy_year, scores_2020_text

LABEL = "data/2020/scores.csv"


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def problems_of(tmp_path, monkeypatch, scores) -> list[str]:
    params = copy_year(tmp_path, scores=scores)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        load_inputs(params)
    return [str(p) for p in info.value.problems]


def test_every_problem_reported_at_once(tmp_path, monkeypatch):
    text = scores_2020_text()
    text = replace_line(text, "1,Sở Kế hoạch và Đầu tư,98.4,93.3", "1,Sở Kế hoạch và Đầu tư,98.4,9x")
    text = replace_line(text, "2,Sở Tài chính,98,92.9", "2,Sở Tài chánh,98,92.9")
    text = replace_line(text, "7,Sở Ngoại vụ,93,88.2", "7,Sở Ngoại vụ,93,108.2")
    text = replace_line(text, "5,Sở Y tế,98,90.5", "5,Sở Y tế,98,")
    text = replace_line(text, "10,Sở Công thương,93,87.6", "10,Sở Y tế,93,87.6")
    text = replace_line(text, "12,Sở Thông tin và truyền thông,95,87.5", "12,Sở Thông tin và truyền thông,-3,87.5")
    msgs = problems_of(tmp_path, monkeypatch, text)
    expected = [
        f"{LABEL}, dòng 2, cột «Điểm đánh giá»: giá trị «9x» — không phải số",
        f"{LABEL}, dòng 3, cột «Đơn vị»: giá trị «Sở Tài chánh» — không có trong danh mục đơn vị; "
        "gần nhất: «Sở Tài chính»",
        f"{LABEL}, dòng 6, cột «Điểm đánh giá» — không được để trống",
        f"{LABEL}, dòng 8, cột «Điểm đánh giá»: giá trị «108,2» — ngoài khoảng cho phép: cần từ 0 đến 100",
        f"{LABEL}, dòng 11, cột «Đơn vị»: giá trị «Sở Y tế» — bị trùng với dòng 6: mỗi đơn vị chỉ có một dòng",
        f"{LABEL}, dòng 13, cột «Điểm tự chấm»: giá trị «-3» — ngoài khoảng cho phép: cần từ 0 đến 100",
        # Units without a row are said in the same run, even while a name does not match
        # (which may be one of them, misspelt: the message says where).
        f"{LABEL}, cột «Đơn vị»: giá trị «Sở Tài chính» — đơn vị có trong danh mục (hiệu lực năm 2020) nhưng "
        "không có điểm (hoặc là dòng 3, nơi tên đơn vị trống hoặc không khớp: sửa dòng đó)",
        f"{LABEL}, cột «Đơn vị»: giá trị «Sở Công Thương» — đơn vị có trong danh mục",
    ]
    for e in expected:
        assert any(m.startswith(e) for m in msgs), (e, msgs)
    assert len(msgs) == len(expected), msgs


def test_unit_in_registry_without_score(tmp_path, monkeypatch):
    text = scores_2020_text()
    text = replace_line(text, "19,Thanh tra tỉnh,96,84.5\n", "")
    msgs = problems_of(tmp_path, monkeypatch, text)
    assert msgs == [f"{LABEL}, cột «Đơn vị»: giá trị «Thanh tra tỉnh» — đơn vị có trong danh mục "
                    "(hiệu lực năm 2020) nhưng không có điểm"]


def test_self_score_may_be_blank_and_comma_decimals_are_read(tmp_path, monkeypatch):
    text = scores_2020_text()
    text = replace_line(text, "1,Sở Kế hoạch và Đầu tư,98.4,93.3", '1,Sở Kế hoạch và Đầu tư,,"93,3"')
    text = replace_line(text, "2,Sở Tài chính,98,92.9", '2,Sở Tài chính," 98,4 ", 92.9 ')
    params = copy_year(tmp_path, scores=text)
    ev = evaluate(params).ranked.set_index("unit_id")
    assert ev.loc["so-ke-hoach-dau-tu", "score"] == 93.3
    assert ev.loc["so-ke-hoach-dau-tu", "self_score"] != ev.loc["so-ke-hoach-dau-tu", "self_score"]  # NaN
    assert ev.loc["so-tai-chinh", "self_score"] == 98.4


def test_bom_and_crlf_are_accepted(tmp_path):
    text = scores_2020_text().replace("\n", "\r\n")
    params = copy_year(tmp_path, scores=b"\xef\xbb\xbf" + text.encode("utf-8"))
    ranked = evaluate(params).ranked
    assert len(ranked) == 61 and (ranked["tier"] == "xuat_sac").sum() == 11


@pytest.mark.parametrize("encoded", [
    pytest.param("TT,Đơn vị,Điểm tự chấm,Điểm đánh giá\n1,Sôû Taøi chính,98,92.9\n".encode("latin-1", "replace"),
                 id="vni"),
    pytest.param(b"TT,\xa7\xac\xb6n v\xfb,\xa7i\xd3m t\xfc ch\xe1m,\xa7i\xd3m \xae\xb8nh gi\xb8\n"
                 b"1,S\xeb T\xb5i ch\xddnh,98,92.9\n", id="tcvn3"),
    pytest.param("TT,Đơn vị,Điểm tự chấm,Điểm đánh giá\n1,Sở Tài chính,98,92.9\n".encode("cp1258", "replace"),
                 id="windows-1258"),
    pytest.param("TT,Đơn vị,Điểm tự chấm,Điểm đánh giá\n1,Së Tµi chÝnh,98,92.9\n".encode("utf-8"),
                 id="tcvn3-resaved-as-utf8"),
])
def test_legacy_encodings_are_rejected_with_a_message_that_says_so(tmp_path, monkeypatch, encoded):
    msgs = problems_of(tmp_path, monkeypatch, encoded)
    assert len(msgs) == 1
    assert msgs[0].startswith(LABEL)
    assert "bảng mã cũ (TCVN3/ABC, VNI hoặc Windows-1258)" in msgs[0]


@pytest.mark.parametrize(("content", "expected"), [
    ("", "tệp rỗng"),
    ("TT,Đơn vị,Điểm tự chấm,Điểm đánh giá\n", "tệp chỉ có dòng tiêu đề"),
    ("TT;Đơn vị;Điểm tự chấm;Điểm đánh giá\n1;Sở Tài chính;98;92,9\n", "chấm phẩy «;»"),
    ('TT,Đơn vị,Điểm tự chấm,Điểm đánh giá\n1,"Sở Tài chính,98,92.9\n', "dấu ngoặc kép"),
    ("TT,Đơn vị,Điểm tự chấm\n1,Sở Tài chính,98\n", "cột «Điểm đánh giá» — thiếu cột bắt buộc"),
    ("TT,Đơn vị,Điểm tự chấm,Điểm đánh giá cuối\n1,Sở Tài chính,98,92.9\n", "(có phải «Điểm đánh giá»?)"),
])
def test_malformed_files(tmp_path, monkeypatch, content, expected):
    msgs = problems_of(tmp_path, monkeypatch, content)
    assert any(expected in m for m in msgs), msgs
    assert all(m.startswith(LABEL) for m in msgs)


# -- regressions found by the adversarial tests (issue 6) ---------------------------------


def test_blank_unit_cell_is_an_error_not_a_crash(tmp_path, monkeypatch):
    # Was: the row passed every check with no unit, and rank() crashed on its missing group.
    text = replace_line(scores_2020_text(), "2,Sở Tài chính,98,92.9", "2,,98,92.9")
    msgs = problems_of(tmp_path, monkeypatch, text)
    assert msgs == [f"{LABEL}, dòng 3, cột «Đơn vị» — không được để trống",
                    f"{LABEL}, cột «Đơn vị»: giá trị «Sở Tài chính» — đơn vị có trong danh mục (hiệu lực năm 2020) "
                    "nhưng không có điểm (hoặc là dòng 3, nơi tên đơn vị trống hoặc không khớp: sửa dòng đó)"]


def test_blank_condition_code_is_an_error_not_ignored():
    # Was: a conditions row with a unit and a blank code was accepted and silently had no effect.
    import pandas as pd

    from evaluation.inputs.registry import load_registry
    from evaluation.inputs.schemas import CONDITIONS
    from evaluation.inputs.validate import check_table
    from tests.conftest import FIXTURES

    registry = load_registry(FIXTURES / "years" / "regime2" / "data" / "units.csv")
    raw = pd.DataFrame({"Đơn vị": ["B1", "A1"], "Mã điều kiện": ["ky_luat", " "], "_row": [2, 3]},
                       dtype="string").astype({"_row": "int64"})
    checked = check_table(raw, CONDITIONS, "conditions.csv", registry=registry,
                          codes={"conditions": {"ky_luat"}})
    assert [str(p) for p in checked.problems] == [
        "conditions.csv, dòng 3, cột «Mã điều kiện» — không được để trống"]
    assert checked.table["unit_id"].tolist() == ["b1"]
    assert checked.rejected["_row"].tolist() == [3]


def test_duplicate_condition_is_reported_once_per_row_with_the_right_rule():
    # Was: said twice per row (once per key column), as "each unit has one row" (untrue here).
    import pandas as pd

    from evaluation.inputs.registry import load_registry
    from evaluation.inputs.schemas import CONDITIONS
    from evaluation.inputs.validate import check_table
    from tests.conftest import FIXTURES

    registry = load_registry(FIXTURES / "years" / "regime2" / "data" / "units.csv")
    raw = pd.DataFrame({"Đơn vị": ["B1", "B1", "b1", "A1"], "Mã điều kiện": ["ky_luat"] * 4,
                        "_row": [2, 3, 4, 5]}, dtype="string").astype({"_row": "int64"})
    checked = check_table(raw, CONDITIONS, "conditions.csv", registry=registry,
                          codes={"conditions": {"ky_luat"}})
    rule = "mỗi đơn vị chỉ ghi một lần mỗi «Mã điều kiện»"
    assert [str(p) for p in checked.problems] == [
        f"conditions.csv, dòng 3, cột «Đơn vị»: giá trị «B1» — bị trùng với dòng 2: {rule}",
        f"conditions.csv, dòng 4, cột «Đơn vị»: giá trị «b1» — bị trùng với dòng 2: {rule}",
    ]
    assert checked.table["_row"].tolist() == [2, 5] and checked.rejected["_row"].tolist() == [3, 4]


def test_optional_columns_may_be_left_out(tmp_path, evaluation_2020):
    # Was: without the optional "TT" column every row failed pandera's float check, reported as
    # «TT» "không đạt kiểm tra dtype('float64')" on a column that is not in the file.
    lines = scores_2020_text().splitlines()
    text = "\n".join(line.split(",", 1)[1] for line in lines) + "\n"
    ranked = evaluate(copy_year(tmp_path, scores=text)).ranked
    cols = ["unit_id", "score", "tier", "rank", "order"]
    assert ranked[cols].equals(evaluation_2020.ranked[cols])
