"""Checking the detailed inputs of the example year: each bad row is rejected with its file, row and
column, every other row is kept, and all problems come at once (exit status 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaluation.cli import main
from evaluation.engine.pipeline import evaluate, load_inputs
from evaluation.errors import InputError
from tests.conftest import ROOT

YEAR = "example-2021"
DATA = Path("data") / YEAR


def copy_example(dest: Path) -> Path:
    shutil.copytree(ROOT / "params", dest / "params")
    shutil.copytree(ROOT / "data", dest / "data")
    return dest / "params" / f"{YEAR}.yaml"


def append(dest: Path, name: str, *lines: str) -> int:
    """Append rows to an input; return the spreadsheet row number of the first one."""
    path = dest / DATA / name
    text = path.read_text(encoding="utf-8")
    first = text.count("\n") + 1          # header is row 1, so n lines end at row n; next row is n + 1
    path.write_text(text + "".join(line + "\n" for line in lines), encoding="utf-8")
    return first


def replace_row(dest: Path, name: str, prefix: str, *new: str) -> int:
    """Replace the one row that starts with ``prefix`` by ``new`` rows; return its row number."""
    path = dest / DATA / name
    lines = path.read_text(encoding="utf-8").splitlines()
    hits = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    assert len(hits) == 1, (prefix, hits)
    lines[hits[0]:hits[0] + 1] = list(new)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return hits[0] + 1


@pytest.fixture
def year(tmp_path, monkeypatch):
    params = copy_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path, params


def failing(params: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_inputs(params)
    return info.value


def test_the_example_year_is_valid_and_complete():
    ev = evaluate(ROOT / "params" / f"{YEAR}.yaml")
    assert len(ev.ranked) == 61 and ev.detail is not None
    for name in ("criteria", "survey", "adjustments"):
        checked = ev.inputs.tables[name]
        assert checked.rows_rejected == 0 and checked.rows_used == checked.rows_in > 0


def test_each_bad_row_is_rejected_with_file_row_and_column_and_the_others_are_kept(year):
    dest, params = year
    r = replace_row(dest, "criteria.csv", "Sở Tài chính,BAOCAO,",
                    'Sở Tài chính,BAOCAO,"4,5","5,5",,,',         # above the criterion's maximum (5)
                    "XX,BAOCAO,5,5,,,")                           # unknown unit
    c = append(dest, "criteria.csv",
               "Sở Tài chính,XYZ,5,5,,,",                 # unknown criterion code
               "Sở Tài chính,KHDT,5,5,,,",                # a district criterion, not in a department's set
               )
    a = append(dest, "adjustments.csv",
               "Sở Tài chính,TH99,1,,Sở Nội vụ,Văn bản 1,",   # unknown item code
               "Sở Tài chính,TH02,-1,,Sở Nội vụ,Văn bản 2,",  # negative count
               "Sở Tài chính,TH04,1,,Sở Nội vụ,Văn bản 3,",   # districts only
               "Sở Y tế,TR19,1,,Ban An toàn giao thông tỉnh,Văn bản 4,",   # Sở Giao thông vận tải only
               "Sở Giao thông vận tải,TR02,1,,Sở Nội vụ,Văn bản 5,",       # fine: kept
               )
    s = append(dest, "survey.csv",
               "ubnd-cap-huyen,huyen-tho-xuan,Sở Tài chính,QLNN-9,4",   # unknown question
               "ubnd-cap-huyen,huyen-moi,Sở Tài chính,QLNN-1,6",   # answer outside 1–5
               "doanh-nghiep,DN999,Sở Tài chính,QLNN-1,4",              # enterprises do not fill this form
               "ubnd-cap-huyen,huyen-ha-trung,Thọ Xuân,QLNN-1,4",       # a district is not rated by it
               )
    err = failing(params)
    msgs = [str(p) for p in err.problems]
    crit, adj, surv = (str(DATA / f) for f in ("criteria.csv", "adjustments.csv", "survey.csv"))
    expected = [
        f"{crit}, dòng {c}, cột «Mã tiêu chí»: giá trị «XYZ» — mã không có trong quy định",
        f"{crit}, dòng {c + 1}, cột «Mã tiêu chí»: giá trị «KHDT» — tiêu chí không có trong bộ tiêu chí "
        "«Sở, ngành kinh tế tổng hợp» của đơn vị",
        f"{adj}, dòng {a}, cột «Mã nội dung»: giá trị «TH99» — mã không có trong quy định",
        f"{adj}, dòng {a + 1}, cột «Số lần»: giá trị «-1» — ngoài khoảng cho phép: cần từ 0 trở lên",
        f"{adj}, dòng {a + 2}, cột «Mã nội dung»: giá trị «TH04» — nội dung TH04 chỉ áp dụng cho: UBND cấp huyện",
        f"{adj}, dòng {a + 3}, cột «Mã nội dung»: giá trị «TR19» — nội dung TR19 chỉ áp dụng cho: "
        "Sở Giao thông vận tải",
        f"{surv}, dòng {s}, cột «Mã câu hỏi»: giá trị «QLNN-9» — mã không có trong quy định",
        f"{surv}, dòng {s + 1}, cột «Điểm»: giá trị «6» — ngoài thang điểm của «Phiếu UBND cấp huyện đánh "
        "giá sở về quản lý nhà nước theo ngành, lĩnh vực»: cần từ 1 đến 5",
        f"{surv}, dòng {s + 2}, cột «Loại người đánh giá»: giá trị «doanh-nghiep» — loại người đánh giá này "
        "không chấm «Phiếu UBND cấp huyện",
        f"{surv}, dòng {s + 3}, cột «Đơn vị được đánh giá»: giá trị «Thọ Xuân» — đơn vị không được đánh giá "
        "bằng «Phiếu UBND cấp huyện",
    ]
    for e in expected:
        assert any(m.startswith(e) for m in msgs), (e, msgs)
    expected += [
        f"{crit}, dòng {r}, cột «Điểm thẩm định»: giá trị «5,5» — vượt điểm tối đa của tiêu chí: cần từ 0 đến 5",
        f"{crit}, dòng {r + 1}, cột «Đơn vị»: giá trị «XX» — không có trong danh mục đơn vị",
    ]
    for e in expected[-2:]:
        assert any(m.startswith(e) for m in msgs), (e, msgs)
    assert len(msgs) == len(expected), msgs
    # Nothing lost: every row is either kept or rejected, and the message says how many of each.
    for name, bad in (("criteria", 4), ("adjustments", 4), ("survey", 4)):
        checked = err.checked[name]
        assert checked.rows_rejected == bad, name
        assert checked.rows_in == checked.rows_used + checked.rows_rejected
    adjustments = err.checked["adjustments"].table
    assert ((adjustments["unit_id"] == "so-giao-thong-van-tai") & (adjustments["item"] == "TR02")).any()
    assert f"{adj}: {err.checked['adjustments'].rows_in} dòng dữ liệu — " \
           f"{err.checked['adjustments'].rows_used} dòng hợp lệ được giữ, 4 dòng bị loại" in err.message()


def test_not_applicable_spellings_and_consistency(year):
    dest, params = year
    replace_row(dest, "criteria.csv", "Ban Dân tộc,KTXH,", "Ban Dân tộc,KTXH,KAD,Không  Áp Dụng,,,")
    ev = evaluate(params)
    line = ev.detail.lines.set_index(["unit_id", "criterion"]).loc[("ban-dan-toc", "KTXH")]
    assert not line["applicable"] and line["credited"] > 0
    # The appraisal says "không áp dụng" but the unit wrote points: the row is refused, said where.
    replace_row(dest, "criteria.csv", "Ban Dân tộc,KTXH,", "Ban Dân tộc,KTXH,10,n/a,,,")
    msgs = [str(p) for p in failing(params).problems]
    assert len(msgs) == 1 and "cột «Điểm tự chấm»: giá trị «10» — cơ quan thẩm định ghi «không áp dụng»" in msgs[0]


def test_blank_appraisal_and_survey_criteria(year):
    dest, params = year
    # A criterion scored by appraisers may not be blank; one scored by a survey must be (survey given).
    r = replace_row(dest, "criteria.csv", "Sở Tài chính,BAOCAO,", "Sở Tài chính,BAOCAO,5,,,,")
    q = replace_row(dest, "criteria.csv", "Sở Tài chính,QLNN,", "Sở Tài chính,QLNN,9,8,,,")
    msgs = [str(p) for p in failing(params).problems]
    crit = DATA / "criteria.csv"
    assert msgs == [
        f"{crit}, dòng {q}, cột «Điểm thẩm định»: giá trị «8» — tiêu chí được chấm qua «Phiếu UBND cấp huyện "
        "đánh giá sở về quản lý nhà nước theo ngành, lĩnh vực»: để trống (điểm tính từ phiếu) hoặc ghi "
        "«không áp dụng»",
        f"{crit}, dòng {r}, cột «Điểm thẩm định» — không được để trống: ghi điểm thẩm định hoặc «không áp dụng»",
    ], msgs


def test_a_missing_criterion_row_is_reported(year):
    dest, params = year
    path = dest / DATA / "criteria.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [ln for ln in lines if not ln.startswith("Sở Tài chính,CCHC,")]
    assert len(kept) == len(lines) - 1
    path.write_text("".join(kept), encoding="utf-8")
    msgs = [str(p) for p in failing(params).problems]
    assert msgs == [f"{DATA / 'criteria.csv'}, cột «Mã tiêu chí»: giá trị «CCHC» — đơn vị «Sở Tài chính» "
                    "thiếu dòng cho tiêu chí CCHC"]


def test_the_command_line_exits_2_and_lists_every_problem(year, capsys):
    dest, params = year
    append(dest, "adjustments.csv", "Sở Tài chính,TH02,-2,,Sở Nội vụ,,", "Sở Tài chính,XX,1,,Sở Nội vụ,,")
    status = main(["--params-dir", str(dest / "params"), "validate", "--year", YEAR])
    err = capsys.readouterr().err
    assert status == 2
    assert "Dữ liệu vào có 2 lỗi" in err and "«-2»" in err and "«XX»" in err
    assert "2 dòng bị loại" in err


def test_a_year_without_any_bonus_or_penalty_may_send_a_header_only_file(year):
    dest, params = year
    path = dest / DATA / "adjustments.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    ev = evaluate(params)
    scores = ev.detail.scores
    assert (scores["bonus"] == 0).all() and (scores["penalty"] == 0).all()
    assert (scores["final_score"] == scores["appraisal"].clip(upper=90)).all()
