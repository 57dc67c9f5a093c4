"""Collecting a year from every party's returned form: the example year, round trip, and what goes wrong."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from evaluation.cli import main
from evaluation.engine.pipeline import evaluate, load_inputs
from evaluation.forms.collect import collect
from evaluation.forms.issue import year_forms
from evaluation.forms.status import complete, status_board
from evaluation.forms.workbooks import META_SHEET
from evaluation.inputs.provenance import read_status, read_trace
from evaluation.report import present_collect, present_detail
from tests.conftest import ROOT
from tests.filling import example_tables, fill_all, set_meta, set_saved

EXAMPLE = ROOT / "params" / "example-2021.yaml"
MISSING = "tham-dinh/thanh-tra-tinh"       # a body that has not returned yet
TWICE = "tu-cham/so-y-te"                  # returned twice
COMMA = "Sở Tư pháp"                       # types "18,5" as text


def sha(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def filled(party_forms, tmp_path_factory):
    """Every form of the year filled from the example year's own tables (a copy; the originals stay)."""
    root = tmp_path_factory.mktemp("filled")
    shutil.copytree(party_forms / "data" / "collected-2021" / "forms", root / "forms")
    yf = year_forms(party_forms / "params" / "collected-2021.yaml")
    files = fill_all(root / "forms", example_tables(ROOT / "data" / "example-2021"), yf, comma_unit=COMMA)
    return yf, files


@pytest.fixture(scope="module")
def returns(filled, tmp_path_factory):
    """The returns as they arrive: renamed by users, in mail folders, one copy twice, one party missing."""
    yf, files = filled
    folder = tmp_path_factory.mktemp("returns") / "nhan-ve"
    for i, (key, path) in enumerate(files.items()):
        if key == MISSING:
            continue
        box = folder / f"thư {i % 7 + 1}"
        box.mkdir(parents=True, exist_ok=True)
        name = path.stem.replace(" 2021", "") + (" (1)" if i % 3 == 0 else "") + ".xlsx"
        shutil.copy(path, box / name)
        set_saved(box / name, f"2022-01-{i % 20 + 5:02d}T08:00:00Z")
    # Sở Y tế sent a first copy with a wrong number, then the right one; the right one is saved later
    # (by the time the workbook records), though its file is older and its name sorts first.
    right = next(folder.rglob("Sở Y tế - tự chấm*.xlsx"))
    set_saved(right, "2022-01-20T09:30:00Z")
    first = folder / "thư 7" / "Sở Y tế - tự chấm (bản cũ).xlsx"
    shutil.copy(files[TWICE], first)
    wb = load_workbook(first)
    wb["Tự chấm"]["G2"] = 1
    wb.save(first)
    set_saved(first, "2022-01-12T15:00:00Z")
    os.utime(right, (1_640_000_000, 1_640_000_000))
    # What else lands in a mail folder: a scanned evidence file, Excel's lock file of an open workbook.
    (folder / "thư 1" / "Minh chứng Sở Tư pháp.pdf").write_bytes(b"%PDF-1.4 scan")
    (folder / "thư 1" / "~$Sở Tư pháp - tự chấm.xlsx").write_bytes(b"lock")
    return folder


@pytest.fixture
def year(party_forms, tmp_path):
    """A fresh copy of the project's params and data with the year to collect."""
    root = tmp_path / "project"
    shutil.copytree(party_forms / "params", root / "params")
    shutil.copytree(party_forms / "data", root / "data", ignore=shutil.ignore_patterns("forms"))
    return root


def run(year: Path, *args: str) -> int:
    return main(["--params-dir", str(year / "params"), *args])


def test_a_missing_party_keeps_the_collection_open(year, returns, capsys):
    before = sha(returns)
    assert run(year, "collect", "--year", "collected-2021", "--from", str(returns)) == 2
    out, err = capsys.readouterr()
    line = next(ln for ln in out.splitlines() if "Thanh tra tỉnh" in ln and "thẩm định" in ln)
    assert "chưa nộp" in line
    assert "  Thẩm định: 3/4 đã nộp · 1 chưa nộp" in out
    twice = next(ln for ln in out.splitlines() if "Sở Y tế" in ln and "tự chấm" in ln)
    assert "nộp nhiều lần" in twice and "Sở Y tế - tự chấm (bản cũ).xlsx" in twice
    assert "Bỏ qua 1 tệp không phải sổ làm việc Excel: thư 1/Minh chứng Sở Tư pháp.pdf" in out
    assert "Chưa ghi gì" in out and "Chưa đủ: 1 bên" in err
    assert not (year / "data" / "collected-2021" / "criteria.csv").exists()
    assert sha(returns) == before


def test_collected_forms_give_the_example_year(year, returns, filled, tmp_path, capsys):
    yf, files = filled
    folder = tmp_path / "returns"
    shutil.copytree(returns, folder)
    shutil.copy(files[MISSING], folder / "Thanh tra tỉnh - thẩm định.xlsx")   # supplied at last
    before = sha(folder)
    assert run(year, "collect", "--year", "collected-2021", "--from", str(folder), "--write") == 0
    out = capsys.readouterr().out
    assert "data/collected-2021/criteria.csv: tệp mới, 487 dòng" in out.replace(str(year) + "/", "")
    assert sha(folder) == before                                        # returned files are only read
    params = year / "params" / "collected-2021.yaml"
    ours, theirs = evaluate(params), evaluate(EXAMPLE)
    cols = ["unit_id", "self_score", "final_score", "score", "tier", "rank", "order"]
    pd.testing.assert_frame_equal(ours.ranked[cols].reset_index(drop=True), theirs.ranked[cols].reset_index(drop=True))
    a, b = load_inputs(params).tables, load_inputs(EXAMPLE).tables
    key = ["unit_id", "criterion"]
    crit = ["self_points", "points", "points_na", "evidence", "explanation", "note"]
    pd.testing.assert_frame_equal(
        a["criteria"].table.sort_values(key)[key + crit].reset_index(drop=True).astype(object).fillna(""),
        b["criteria"].table.sort_values(key)[key + crit].reset_index(drop=True).astype(object).fillna(""))
    key = ["rater_kind", "rater", "unit_id", "question"]
    pd.testing.assert_frame_equal(a["survey"].table.sort_values(key)[key + ["answer"]].reset_index(drop=True),
                                  b["survey"].table.sort_values(key)[key + ["answer"]].reset_index(drop=True))
    adj = ["unit_id", "item", "count", "amount", "source", "evidence", "note"]
    pd.testing.assert_frame_equal(a["adjustments"].table[adj].reset_index(drop=True).astype(object).fillna(""),
                                  b["adjustments"].table[adj].reset_index(drop=True).astype(object).fillna(""))

    data = year / "data" / "collected-2021"
    status = read_status(data)
    assert len(status) == 115 and set(status["status"]) == {"đã nộp", "nộp nhiều lần"}
    assert status.set_index("key").at[TWICE, "workbook"].endswith("Sở Y tế - tự chấm.xlsx")
    # Every value written is traced to its workbook and cell; the cell holds what the party typed.
    trace = read_trace(data, {t: data / f"{t}.csv" for t in ("criteria", "survey", "adjustments")})
    written = pd.read_csv(data / "criteria.csv", dtype=str, keep_default_na=False)
    values = written.drop(columns=["Đơn vị", "Mã tiêu chí"]).ne("").to_numpy().sum()
    assert (trace["table"] == "criteria").sum() == values      # the example's notes are the units' only
    assert (trace["table"] == "survey").sum() == 15129
    row = trace[(trace["table"] == "criteria") & (trace["unit_id"] == "so-tu-phap") & (trace["value"] == "18.5")]
    assert len(row) == 1
    hit = row.iloc[0]
    sheet, cell = hit["cell"].split("!")
    typed = load_workbook(folder / hit["workbook"])[sheet.strip("'")][cell].value
    assert typed == "18,5" and hit["column"] == "Điểm tự chấm"            # a decimal comma typed as text
    assert written.iloc[int(hit["row"]) - 2]["Điểm tự chấm"] == "18.5"
    # Once more: nothing changes.
    assert run(year, "collect", "--year", "collected-2021", "--from", str(folder), "--write") == 0
    out = capsys.readouterr().out
    assert "criteria.csv: không đổi (487 dòng)" in out and "Không có gì thay đổi." in out
    # The report: the board in the annex, the claims without evidence, each card citing its cells.
    board = present_collect.status_board(ours)
    assert "Tình hình nộp biểu mẫu" in board and board.count("<tr><td>") == 4 + 115
    assert "Sở Y tế - tự chấm (bản cũ).xlsx" in board and "nộp nhiều lần" in board
    assert present_collect.evidence(ours) == present_collect.evidence(theirs)
    cards = present_detail.score_cards(ours)
    justice = cards[cards.index("Sở Tư pháp</span>"):]
    justice = justice[:justice.index("</section>")]
    own = Path(files["tu-cham/so-tu-phap"]).name.replace(" 2021", "")
    assert re.search(r"Nguồn: tự chấm: «thư \d/" + re.escape(own[:-5]) + r"(?: \(1\))?\.xlsx» \(«Tự chấm» "
                     r"G2–G9\) · thẩm định: «[^»]+» \(«Thẩm định» KTXH F\d+\), «", justice), justice[-600:]
    assert "TTRA F" in justice and present_detail.score_cards(theirs).count("Nguồn:") == 0
    # The year's inputs carry the trace and the board; a table edited by hand is no longer cited.
    inputs = load_inputs(params)
    assert len(inputs.trace) == len(trace) and len(inputs.status) == 115
    assert {"trace", "status"} <= {role for role, _, _ in inputs.files}
    text = (data / "criteria.csv").read_text(encoding="utf-8")
    (data / "criteria.csv").write_text(text.replace("Hồ sơ KTXH-002", "Hồ sơ KTXH-002 (bổ sung)"), encoding="utf-8")
    edited = load_inputs(params).trace
    assert set(edited["table"]) == {"survey", "adjustments"}


def _mail(filled, folder: Path, key: str, name: str) -> Path:
    _, files = filled
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(files[key], target)
    return target


@pytest.fixture(scope="module")
def troubled(filled, tmp_path_factory):
    """A few returns, each with one thing wrong, and two without any."""
    folder = tmp_path_factory.mktemp("troubled")
    hidden = _mail(filled, folder, "tu-cham/so-tu-phap", "Sở Tư pháp.xlsx")
    wb = load_workbook(hidden)
    copy = wb.copy_worksheet(wb["Tự chấm"])       # a copy to work on, the original hidden
    copy.title = "Tự chấm (2)"
    wb["Tự chấm"].sheet_state = "hidden"
    wb.save(hidden)
    set_meta(_mail(filled, folder, "tu-cham/so-tai-chinh", "Sở Tài chính.xlsx"), "year", "2020")
    set_meta(_mail(filled, folder, "tu-cham/so-xay-dung", "Sở Xây dựng.xlsx"), "version", "1.00000000")
    wrong = _mail(filled, folder, "tu-cham/so-noi-vu", "SNV/Sở Nội vụ - tự chấm.xlsx")
    wb = load_workbook(wrong)
    ws = wb["Tự chấm"]
    ws["B10"], ws["G10"], ws["H10"] = "KHDT", 4, "Hồ sơ KHDT"   # a criterion of the districts' sets
    ws["H2"] = None                                            # points claimed, no evidence, no explanation
    ws["H3"], ws["I3"] = None, "Hồ sơ đang trình UBND tỉnh ký"  # no evidence but explained: accepted
    wb.save(wrong)
    over = _mail(filled, folder, "tham-dinh/thanh-tra-tinh", "TTr/Thanh tra - thẩm định.xlsx")
    wb = load_workbook(over)
    wb["Thẩm định"]["F5"] = 12                                    # above the criterion's 10 points
    wb.save(over)
    # Harmless: a sheet of one's own, and the evidence and explanation columns swapped.
    moved = _mail(filled, folder, "tu-cham/so-y-te", "Sở Y tế.xlsx")
    wb = load_workbook(moved)
    wb.create_sheet("Ghi chép riêng")["A1"] = "nhắc: gửi trước ngày 15"
    ws = wb["Tự chấm"]
    for r in range(1, ws.max_row + 1):
        ws[f"H{r}"].value, ws[f"I{r}"].value = ws[f"I{r}"].value, ws[f"H{r}"].value
    wb.save(moved)
    _mail(filled, folder, "phieu-danh-gia/huyen-tho-xuan", "Thọ Xuân - phiếu.xlsx")
    stray = Workbook()
    stray.active.append(["Đơn vị", "Mã tiêu chí", "Điểm tự chấm"])
    stray.save(folder / "bang tu lam.xlsx")
    return folder


def test_problems_are_said_at_their_cells_and_the_others_are_kept(party_forms, troubled):
    yf = year_forms(party_forms / "params" / "collected-2021.yaml")
    got = collect(yf, troubled)
    said = {k: [str(p) for p in ps] for k, ps in got.problems.items()}
    assert said["tu-cham/so-tu-phap"] == [
        "Sở Tư pháp.xlsx, ô 'Tự chấm'!A1: giá trị «Tự chấm» — trang tính «Tự chấm» đang bị ẩn: không đọc trang ẩn "
        "(có thể là bản cũ). Hiện lại trang (chuột phải vào tên trang → Hiện/Unhide), xóa các bản chép nếu có, "
        "rồi lưu và gửi lại"]
    assert said["tu-cham/so-tai-chinh"] == [
        "Sở Tài chính.xlsx, ô 'Thông tin biểu mẫu'!C5: giá trị «2020» — biểu mẫu của năm 2020, không phải năm 2021: "
        "không dùng"]
    assert "phiên bản 1.00000000" in said["tu-cham/so-xay-dung"][0]
    snv = said["tu-cham/so-noi-vu"]
    assert any(s.startswith("SNV/Sở Nội vụ - tự chấm.xlsx, ô 'Tự chấm'!B10, cột «Mã tiêu chí»: giá trị «KHDT» — "
                            "tiêu chí không thuộc bộ tiêu chí «Sở, ngành kinh tế tổng hợp» của Sở Nội vụ") for s in snv)
    assert any(s.startswith("SNV/Sở Nội vụ - tự chấm.xlsx, ô 'Tự chấm'!H2, cột «Minh chứng» — đã tự chấm")
               and "«Giải trình»" in s for s in snv)
    assert len(snv) == 2                                               # the explained row is accepted
    assert said["tham-dinh/thanh-tra-tinh"] == [
        "TTr/Thanh tra - thẩm định.xlsx, ô 'Thẩm định'!F5, cột «Điểm thẩm định»: giá trị «12» — vượt điểm tối đa "
        "của tiêu chí: cần từ 0 đến 10"]
    assert [s.split(" — ")[0] for s in said[""]] == ["bang tu lam.xlsx"]
    assert "không nhận ra biểu mẫu" in said[""][0]
    board = status_board(got).set_index("key")
    assert board.loc["tu-cham/so-tai-chinh", "status"] == "sai năm"
    assert board.loc["tu-cham/so-xay-dung", "status"] == "sai phiên bản"
    assert board.loc["tu-cham/so-noi-vu", "status"] == "có lỗi"
    assert board.loc["tu-cham/so-y-te", "status"] == "đã nộp" and board.loc["tu-cham/so-y-te", "problems"] == 0
    cited = got.trace[(got.trace["workbook"] == "Sở Y tế.xlsx") & (got.trace["column"] == "Minh chứng")]
    assert len(cited) == 6 and cited["cell"].str.startswith("'Tự chấm'!I").all()   # where the column moved
    assert (board["status"] == "không nhận ra").sum() == 1 and not complete(status_board(got))
    # The others' values, and a party's rows without problems, are kept.
    crit = got.tables["criteria"]
    units = crit["Đơn vị"].value_counts().to_dict()
    assert units["Sở Y tế"] == 8 and units["Sở Nội vụ"] == 7       # KTXH (no evidence) and KHDT refused
    for unit in ("Sở Tư pháp", "Sở Tài chính", "Sở Xây dựng"):       # only Thanh tra tỉnh's appraisal of them
        mine = crit[crit["Đơn vị"] == unit]
        assert mine["Mã tiêu chí"].tolist() == ["TTRA"] and mine["Điểm tự chấm"].tolist() == [""]
    snv_rows = crit[crit["Đơn vị"] == "Sở Nội vụ"].set_index("Mã tiêu chí")
    assert snv_rows.at["NVTT", "Giải trình"] == "Hồ sơ đang trình UBND tỉnh ký"
    assert (crit["Mã tiêu chí"] == "TTRA").sum() == 61 - 1 and len(got.tables["survey"]) == 20 * 3


def test_forms_missing_are_only_for_those_still_owed_and_keep_what_they_sent(year, troubled, capsys):
    assert run(year, "forms", "--year", "collected-2021", "--missing", "--from", str(troubled)) == 0
    out = capsys.readouterr().out
    folder = year / "data" / "collected-2021" / "forms-bo-sung"
    made = {p.relative_to(folder).as_posix() for p in folder.rglob("*.xlsx")}
    assert "tu-cham/Sở Y tế - tự chấm 2021.xlsx" not in made
    assert "phieu-danh-gia/Thọ Xuân - phiếu đánh giá 2021.xlsx" not in made
    assert len(made) == 115 - 2 and "(chưa nộp)" in out and "(có lỗi)" in out
    wb = load_workbook(folder / "tu-cham" / "Sở Nội vụ - tự chấm 2021.xlsx")
    ws = wb["Tự chấm"]
    sent = load_workbook(troubled / "SNV" / "Sở Nội vụ - tự chấm.xlsx")["Tự chấm"]
    assert [ws[f"G{r}"].value for r in range(2, 10)] == [sent[f"G{r}"].value for r in range(2, 10)]
    assert ws["I3"].value == "Hồ sơ đang trình UBND tỉnh ký" and ws["H2"].value is None and ws["H5"].value
    assert ws.max_row == 9                                   # the form's own rows only: KHDT is not carried over
    help_text = " ".join(str(c.value) for row in wb["Hướng dẫn"].iter_rows() for c in row if c.value)
    assert "Bản đã nộp có 2 lỗi cần sửa" in help_text and "ô 'Tự chấm'!H2" in help_text
    assert wb[META_SHEET].sheet_state == "veryHidden"
    # The copy for another year is not carried over: a fresh, empty form.
    blank = load_workbook(folder / "tu-cham" / "Sở Tài chính - tự chấm 2021.xlsx")["Tự chấm"]
    assert blank["G2"].value is None


def test_the_command_lists_every_problem_at_once(year, troubled, capsys):
    assert run(year, "collect", "--year", "collected-2021", "--from", str(troubled)) == 2
    out = capsys.readouterr().out
    assert "Có 7 lỗi trong các biểu mẫu đã nhận:" in out
    for cell in ("'Tự chấm'!A1", "'Thông tin biểu mẫu'!C5", "'Thông tin biểu mẫu'!C6", "'Tự chấm'!B10",
                 "'Tự chấm'!H2", "'Thẩm định'!F5"):
        assert cell in out
