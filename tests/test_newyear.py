"""`python -m evaluation new-year`: a new year in one command, never overwriting an existing one."""

from __future__ import annotations

import shutil

import pytest
import yaml
from openpyxl import load_workbook

from evaluation.cli import main
from evaluation.engine.pipeline import evaluate
from evaluation.forms.newyear import new_year, shift_years
from evaluation.inputs.params import load_params
from tests.conftest import FIXTURES, ROOT


@pytest.fixture
def clone(tmp_path, monkeypatch):
    """What a fresh clone has: params/ and data/ (nothing generated), as the current folder."""
    shutil.copytree(ROOT / "params", tmp_path / "params")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_new_year_writes_params_and_forms(clone, capsys):
    assert main(["new-year", "2021"]) == 0
    out = capsys.readouterr().out
    assert "params/2021.yaml (từ params/2020.yaml)" in out and "data/2021/bieu-mau-2021.xlsx" in out
    year = load_params(clone / "params" / "2021.yaml")
    old = load_params(clone / "params" / "2020.yaml")
    assert year.year == 2021 and year.params.inputs == {"scores": "bieu-mau-2021.xlsx"}
    assert year.data_dir == (clone / "data" / "2021").resolve()
    assert (year.rules_path, year.registry_path) == (old.rules_path, old.registry_path)
    report = year.params.report
    assert report.title.endswith("nhiệm vụ năm 2021") and report.place == "Thanh Hóa"
    assert (report.date.day, report.date.month, report.date.year) == (None, 2, 2022)
    # The old year's dispatch and its "Đánh giá chung" text are not the new year's.
    assert report.basis == [] and report.assessment == ""
    assert report.closing.startswith("Trên đây là tổng hợp kết quả đánh giá, xếp loại mức độ hoàn thành nhiệm vụ năm 2021")
    assert report.signer_name == old.params.report.signer_name
    assert report.source_note == "Số liệu: biểu mẫu «bieu-mau-2021.xlsx» do các cơ quan, đơn vị điền."
    text = (clone / "params" / "2021.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Tham số năm 2021 — tạo bằng «python -m evaluation new-year 2021 --from 2020»")
    assert sorted(p.name for p in (clone / "data" / "2021").iterdir()) == ["bieu-mau-2021.xlsx"]
    ws = load_workbook(clone / "data" / "2021" / "bieu-mau-2021.xlsx")["Điểm"]
    names = [ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)]
    assert len(names) == 61 and "TX Nghi Sơn" in names and "Tĩnh Gia" not in names


def test_the_empty_forms_say_what_is_missing_cell_by_cell(clone, capsys):
    assert main(["new-year", "2021"]) == 0
    assert main(["validate", "--year", "2021"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Dữ liệu vào có 61 lỗi:"
    assert err[1] == "  - data/2021/bieu-mau-2021.xlsx, ô Điểm!D2, cột «Điểm đánh giá» — không được để trống"
    problems = [line for line in err if line.startswith("  - ")]
    # The first 50 of a file are printed, the others counted (issue 17: a file of 200,000 bad rows).
    assert len(problems) == 50 and problems[-1].startswith("  - data/2021/bieu-mau-2021.xlsx, ô Điểm!D51,")
    assert err[51] == "  … và 11 lỗi khác trong data/2021/bieu-mau-2021.xlsx (chỉ in 50 lỗi đầu của mỗi tệp)"
    assert err[-1] == ("data/2021/bieu-mau-2021.xlsx, trang «Điểm»: 61 dòng dữ liệu — 0 dòng hợp lệ được giữ, "
                       "61 dòng bị loại (xem các lỗi ở trên)")


def test_filled_new_year_evaluates(clone, evaluation_2020):
    new_year(2021)
    form = clone / "data" / "2021" / "bieu-mau-2021.xlsx"
    wb = load_workbook(form)
    ws = wb["Điểm"]
    scores = evaluation_2020.ranked.set_index("unit")["final_score"]
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=4, value=float(scores[ws.cell(row=r, column=2).value]))
    wb.save(form)
    ev = evaluate(clone / "params" / "2021.yaml")
    assert len(ev.ranked) == 61 and ev.ranked["self_score"].isna().all()
    assert ev.counts.loc["xuat_sac", "total"] == 11
    assert "dự kiến xếp loại mức độ hoàn thành nhiệm vụ năm 2021 của 61 cơ quan, đơn vị" in ev.sentences[0]


def test_an_existing_year_is_never_overwritten(clone, capsys):
    assert main(["new-year", "2021"]) == 0
    before = {p: p.read_bytes() for p in [clone / "params" / "2021.yaml", clone / "data" / "2021" /
                                          "bieu-mau-2021.xlsx"]}
    capsys.readouterr()
    assert main(["new-year", "2021"]) == 2
    assert "params/2021.yaml — năm 2021 đã có tệp tham số: không ghi đè" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in before} == before
    (clone / "params" / "2021.yaml").unlink()   # the data folder alone also blocks
    assert main(["new-year", "2021"]) == 2
    assert "data/2021 — thư mục số liệu năm 2021 đã có: không ghi đè" in capsys.readouterr().err
    assert not (clone / "params" / "2021.yaml").exists()
    assert main(["new-year", "2020"]) == 2   # the real year too


def test_nothing_is_left_behind_when_writing_fails(clone, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("evaluation.forms.newyear.write_forms", broken)
    with pytest.raises(OSError):
        new_year(2021)
    assert not (clone / "params" / "2021.yaml").exists() and not (clone / "data" / "2021").exists()


def test_from_another_regime_with_a_code_list(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES / "years" / "regime2", tmp_path / "years" / "regime2")
    shutil.copytree(FIXTURES / "rules", tmp_path / "rules")   # the params name ../../../rules/
    monkeypatch.chdir(tmp_path)
    params = tmp_path / "years" / "regime2" / "params"
    assert main(["--params-dir", str(params), "new-year", "2035", "--from", "2031"]) == 0
    made = yaml.safe_load((params / "2035.yaml").read_text(encoding="utf-8"))
    assert made["inputs"] == {"scores": "bieu-mau-2035.xlsx", "conditions": "bieu-mau-2035.xlsx"}
    assert made["rules"] == "../../../rules/four-tiers-quota.yaml" and made["data"] == "../data/2035"
    assert load_workbook(tmp_path / "years" / "regime2" / "data" / "2035" / "bieu-mau-2035.xlsx").sheetnames == [
        "Hướng dẫn", "Điểm", "Điều kiện", "Danh mục"]
    assert made["report"]["title"] == "Báo cáo thử nghiệm năm 2035"


def test_without_an_earlier_year(clone, capsys):
    assert main(["new-year", "2019"]) == 2
    assert "không có tệp tham số của năm nào trước năm 2019" in capsys.readouterr().err
    assert main(["new-year", "2019", "--from", "1999"]) == 2
    assert not (clone / "data" / "2019").exists()


def test_shift_years():
    assert shift_years("năm 2020, tháng 02 năm 2021 (02/2021)", 2020, 2023) == (
        "năm 2023, tháng 02 năm 2024 (02/2024)")
    assert shift_years("Quyết định 221/2016/QĐ-UBND; mã 120201", 2020, 2021) == (
        "Quyết định 221/2016/QĐ-UBND; mã 120201")


def test_a_year_scored_by_criteria_gets_the_detailed_forms(clone, capsys):
    """Copied from the illustrative detailed year: the forms are the detailed tables, not the totals."""
    assert main(["new-year", "2022", "--from", "example-2021"]) == 0
    out = capsys.readouterr().out
    # Sheets are named as users see them in Excel, and the next step is the parties' forms.
    assert "(các trang: «Điểm theo tiêu chí», «Phiếu đánh giá», «Điểm thưởng, điểm trừ»)" in out
    assert "make forms YEAR=2022" in out and "criteria" not in out
    year = load_params(clone / "params" / "2022.yaml")
    assert set(year.params.inputs) == {"criteria", "survey", "adjustments"}
    assert year.params.illustrative is False
    wb = load_workbook(clone / "data" / "2022" / "bieu-mau-2022.xlsx")
    assert "Điểm" not in wb.sheetnames
    assert {"Điểm theo tiêu chí", "Phiếu đánh giá", "Điểm thưởng, điểm trừ"} <= set(wb.sheetnames)


def test_a_real_year_made_from_an_illustrative_one_says_nothing_illustrative(clone):
    # Was: "(DỮ LIỆU MINH HỌA)" kept in the title while writing illustrative: false.
    assert main(["new-year", "2027", "--from", "example-2026"]) == 0
    year = load_params(clone / "params" / "2027.yaml")
    report = year.params.report
    assert year.params.illustrative is False
    texts = [report.title, report.subtitle, report.place_date, report.signer_name, *report.recipients]
    assert not [t for t in texts if "minh họa" in t.lower() or "MINH HỌA" in t], texts
    assert report.title == "Tổng hợp kết quả đánh giá, xếp loại chất lượng năm 2027"
    assert report.place_date == "Thanh Hóa, tháng 12 năm 2027"
    # The registry of illustrative names is not carried into a real year; the periods form is.
    assert year.params.registry == "../data/units.csv"
    assert set(year.params.inputs) == {"periods", "conditions"}


def test_without_illustrative():
    from evaluation.forms.newyear import without_illustrative

    assert without_illustrative("Báo cáo năm 2021 (DỮ LIỆU MINH HỌA)") == "Báo cáo năm 2021"
    assert without_illustrative("(dữ liệu minh hoạ)") == ""
    assert without_illustrative("của các sở thuộc tỉnh — số liệu sinh ngẫu nhiên để minh họa") == "của các sở thuộc tỉnh"
    assert without_illustrative("Độc lập - Tự do (2021)") == "Độc lập - Tự do (2021)"
