"""The Excel input forms: generated from the declarations, filled like an analyst would, read back."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from evaluation.engine.pipeline import evaluate, load_inputs
from evaluation.errors import InputError
from evaluation.forms.forms import HELP_SHEET, LISTS_SHEET, form_tables, form_units, write_forms
from evaluation.inputs.registry import load_registry
from evaluation.inputs.rules import load_rules
from evaluation.inputs.schemas import TABLES, ColumnSpec, TableSpec, tables_for
from tests.conftest import FIXTURES, ROOT, copy_year

RULES = ROOT / "params" / "rules" / "thanh-hoa-2016.yaml"
REGIME2 = FIXTURES / "years" / "regime2"
COMPARED = ["unit_id", "unit", "group", "self_score", "final_score", "score", "tier", "rank", "order"]


@pytest.fixture(scope="module")
def rules():
    return load_rules(RULES)


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "data" / "units.csv")


def validations(ws) -> dict[str, object]:
    """Data validations of a sheet by the column they cover."""
    return {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv for dv in ws.data_validations.dataValidation}


def fill_2020(form: Path, ev) -> None:
    """Type the 2020 scores into the form, unit by unit, as numbers (what an analyst does)."""
    wb = load_workbook(form)
    ws = wb["Điểm"]
    names = pd.Series([ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)])
    ids = ev.registry.match(names, year=2020)["unit_id"]
    scores = ev.scores.set_index("unit_id")
    for r, unit in enumerate(ids, start=2):
        ws.cell(row=r, column=3, value=float(scores.at[unit, "self_score"]))
        ws.cell(row=r, column=4, value=float(scores.at[unit, "final_score"]))
    wb.save(form)


def use_forms(params: Path, name: str) -> None:
    text = params.read_text(encoding="utf-8").replace("scores: scores.csv", f"scores: {name}")
    params.write_text(text, encoding="utf-8")


@pytest.fixture
def filled_2020(tmp_path, rules, registry, evaluation_2020):
    params = copy_year(tmp_path)
    form = tmp_path / "data" / "2020" / "bieu-mau-2020.xlsx"
    write_forms(form, rules, registry, 2020, tables=tables_for("totals"))
    fill_2020(form, evaluation_2020)
    use_forms(params, form.name)
    return params, form


def test_filled_forms_give_the_same_results_as_the_csv(filled_2020, evaluation_2020):
    params, _ = filled_2020
    ev = evaluate(params)
    pd.testing.assert_frame_equal(ev.ranked[COMPARED], evaluation_2020.ranked[COMPARED])
    pd.testing.assert_frame_equal(ev.counts, evaluation_2020.counts)
    assert ev.sentences == evaluation_2020.sentences
    assert ev.counts.loc["xuat_sac", "total"] == 11 and ev.counts.loc["tot", "total"] == 50
    assert ev.renamed.empty   # the forms write the registry's names: nothing to resolve


def test_the_forms_note_column_is_kept_into_the_results(filled_2020):
    from evaluation.report.export import results_table

    params, form = filled_2020
    wb = load_workbook(form)
    ws = wb["Điểm"]
    assert ws["E1"].value == "Ghi chú" and ws["B3"].value == "Sở Tài chính"
    ws["E3"] = "Điểm đánh giá theo Thông báo số 12/TB-HĐ"
    wb.save(form)
    table = results_table(evaluate(params)).set_index("Đơn vị")
    assert table.at["Sở Tài chính", "Ghi chú"] == "Điểm đánh giá theo Thông báo số 12/TB-HĐ"
    assert table.at["Sở Kế hoạch và Đầu tư", "Ghi chú"] == ""


def test_the_detailed_form_takes_what_the_checks_take(tmp_path, rules, registry):
    """«không áp dụng» passes the points cells; the instructions say when a cell is needed, as the checks do."""
    form = tmp_path / "f.xlsx"
    write_forms(form, rules, registry, 2022, tables=tables_for("detailed"))
    wb = load_workbook(form)
    dv = validations(wb["Điểm theo tiêu chí"])
    for letter in ("D", "E"):   # Điểm tự chấm, Điểm thẩm định
        assert dv[letter].type == "custom"
        assert dv[letter].formula1 == (f'OR(AND(ISNUMBER({letter}2),{letter}2>=0,{letter}2<=90),'
                                       f'LOWER(TRIM({letter}2))="không áp dụng")')
    rows = {r[0]: r for r in wb[HELP_SHEET].iter_rows(values_only=True) if r[0] and r[1]}
    assert rows["Điểm thẩm định"][1] == "tùy dòng"
    assert "hoặc «không áp dụng»" in rows["Điểm thẩm định"][2]
    assert "trừ tiêu chí chấm qua phiếu đánh giá" in rows["Điểm thẩm định"][2]
    assert rows["Số điểm"][1] == "tùy dòng" and "bắt buộc với nội dung «tối đa»" in rows["Số điểm"][2]
    assert rows["Điểm tự chấm"][1] == "không" and rows["Mã tiêu chí"][1] == "có"


def test_wrong_cells_are_reported_with_sheet_and_address(filled_2020, monkeypatch):
    params, form = filled_2020
    wb = load_workbook(form)
    ws = wb["Điểm"]
    assert ws["B3"].value == "Sở Tài chính" and ws["B9"].value == "Sở Lao động, TB và XH"
    ws["D3"] = "9x"          # openpyxl, unlike Excel, does not stop a value the drop-downs refuse
    ws["C9"] = 108.2
    ws["D10"] = None
    ws["B11"] = "Sở Tài chánh"
    wb.save(form)
    monkeypatch.chdir(params.parent.parent)
    with pytest.raises(InputError) as info:
        load_inputs(params)
    label = "data/2020/bieu-mau-2020.xlsx"
    got = [str(p) for p in info.value.problems]
    expected = [
        f"{label}, ô Điểm!D3, cột «Điểm đánh giá»: giá trị «9x» — không phải số: cần một số (ví dụ 87,6 hoặc "
        "87.6), không dùng dấu phân cách hàng nghìn",
        f"{label}, ô Điểm!C9, cột «Điểm tự chấm»: giá trị «108,2» — ngoài khoảng cho phép: cần từ 0 đến 100",
        f"{label}, ô Điểm!D10, cột «Điểm đánh giá» — không được để trống",
        f"{label}, ô Điểm!B11, cột «Đơn vị»: giá trị «Sở Tài chánh» — không có trong danh mục đơn vị; "
        "gần nhất: «Sở Tài chính»",   # (then the other close names)
        # The unit whose name was overwritten, said in the same run (issue 17), pointing at that row.
        f"{label}, trang «Điểm», cột «Đơn vị»: giá trị «Sở Công Thương» — đơn vị có trong danh mục "
        "(hiệu lực năm 2020) nhưng "
        "không có điểm (hoặc là dòng 11, nơi tên đơn vị trống hoặc không khớp: sửa dòng đó)",
    ]
    assert [g[:len(e)] for g, e in zip(got, expected, strict=True)] == expected
    assert [p.cell for p in info.value.problems] == ["Điểm!D3", "Điểm!C9", "Điểm!D10", "Điểm!B11", None]


def test_form_layout(tmp_path, rules, registry):
    form = tmp_path / "f.xlsx"
    write_forms(form, rules, registry, 2021, tables=tables_for("totals"))
    wb = load_workbook(form)
    assert wb.sheetnames == [HELP_SHEET, "Điểm", LISTS_SHEET]   # no conditions in these rules: no sheet
    ws = wb["Điểm"]
    assert [c.value for c in ws[1]] == ["TT", "Đơn vị", "Điểm tự chấm", "Điểm đánh giá", "Ghi chú"]
    assert ws.freeze_panes == "A2"
    units = form_units(registry, rules, 2021)
    assert len(units) == 61 and "huyen-tinh-gia" not in set(units["id"]) and "tx-nghi-son" in set(units["id"])
    assert [ws.cell(row=r, column=2).value for r in range(2, 63)] == units["name"].tolist()
    assert [ws.cell(row=r, column=1).value for r in (2, 21, 22, 35, 36, 62)] == [1, 20, 1, 14, 1, 27]
    assert all(ws.cell(row=r, column=c).value is None for r in range(2, 63) for c in (3, 4, 5))
    dv = validations(ws)
    assert dv["B"].type == "list" and dv["B"].formula1 == "DS_DON_VI" and dv["B"].showDropDown in (None, False)
    for col in "CD":
        assert (dv[col].type, dv[col].operator, dv[col].formula1, dv[col].formula2) == ("decimal", "between",
                                                                                       "0", "100")
        assert dv[col].errorStyle == "stop" and dv[col].error == "Cần một số từ 0 đến 100."
    assert dv["D"].prompt.endswith("bắt buộc.") and dv["C"].prompt.endswith("có thể để trống.")
    assert dv["A"].type == "whole"
    assert str(dv["B"].sqref) == "B2:B2001"
    lists = wb[LISTS_SHEET]
    assert wb.defined_names["DS_DON_VI"].attr_text == "'Danh mục'!$A$2:$A$62"
    assert [lists.cell(row=r, column=1).value for r in range(2, 63)] == units["name"].tolist()
    assert lists.protection.sheet is True
    help_text = "\n".join(str(c.value) for row in wb[HELP_SHEET].iter_rows() for c in row if c.value)
    assert "NĂM 2021" in help_text and "make validate YEAR=2021" in help_text and "Điểm!D5" in help_text
    assert "Hoàn thành nhiệm vụ: từ 50 điểm đến dưới 80 (chưa được xác nhận bằng văn bản gốc)" in help_text


def test_same_inputs_same_bytes(tmp_path, rules, registry):
    write_forms(tmp_path / "a.xlsx", rules, registry, 2021)
    write_forms(tmp_path / "b.xlsx", rules, registry, 2021)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    core = zipfile.ZipFile(tmp_path / "a.xlsx").read("docProps/core.xml").decode()
    assert "1980-01-01T00:00:00Z" in core


def test_code_columns_get_the_rules_codes(tmp_path):
    rules = load_rules(FIXTURES / "rules" / "four-tiers-quota.yaml")
    registry = load_registry(REGIME2 / "data" / "units.csv")
    form = tmp_path / "f.xlsx"
    tables = write_forms(form, rules, registry, 2031)
    assert [t.name for t in tables] == ["scores", "conditions"]
    wb = load_workbook(form)
    assert wb.sheetnames == [HELP_SHEET, "Điểm", "Điều kiện", LISTS_SHEET]
    ws = wb["Điều kiện"]
    assert ws.max_row == 1   # keyed by unit and code: not pre-filled
    dv = validations(ws)
    assert dv["B"].type == "list" and dv["B"].formula1 == "DS_CONDITIONS"
    ref = wb.defined_names["DS_CONDITIONS"].attr_text
    col = re.search(r"\$([A-Z]+)\$2", ref).group(1)
    lists = wb[LISTS_SHEET]
    codes = [c.value for c in lists[col][1:] if c.value]
    assert codes == [c.id for c in rules.conditions]
    assert lists[f"{col}1"].value == "Mã điều kiện"
    assert all(c.id in dv["B"].prompt for c in rules.conditions)


def test_sheets_come_from_the_declarations(tmp_path, rules, registry):
    """A table declared later (by another issue) gets its sheet, drop-downs and limits without code here."""
    extra = TableSpec(
        name="items", title="Thưởng, trừ điểm", columns=(
            ColumnSpec("unit", ("Đơn vị",), "unit"),
            ColumnSpec("points", ("Số điểm",), "number", bounds="score"),
            ColumnSpec("evidence", ("Văn bản",), "text", required=False, nullable=True),
        ), unique=("unit_id", "evidence"))
    form = tmp_path / "f.xlsx"
    write_forms(form, rules, registry, 2021, tables={**tables_for("totals"), "items": extra})
    wb = load_workbook(form)
    assert wb.sheetnames == [HELP_SHEET, "Điểm", "Thưởng, trừ điểm", LISTS_SHEET]
    dv = validations(wb["Thưởng, trừ điểm"])
    assert dv["A"].formula1 == "DS_DON_VI" and (dv["B"].type, dv["B"].formula2) == ("decimal", "100")


def test_every_declared_title_is_a_valid_distinct_sheet_name():
    titles = [spec.title for spec in TABLES.values()]
    assert len(set(titles)) == len(titles)
    assert not {HELP_SHEET, LISTS_SHEET} & set(titles)
    for title in titles:
        assert 0 < len(title) <= 31 and not re.search(r"[\[\]:*?/\\]", title), title


def test_tables_with_an_empty_code_list_are_left_out(rules, registry, tmp_path):
    assert not rules.conditions
    assert [t.name for t in form_tables(rules, tables_for("totals"))] == ["scores"]
    # ... unless the code may be left blank: then the table stays, without a list to choose from.
    optional = TableSpec(name="notes", title="Ghi chú", columns=(
        ColumnSpec("unit", ("Đơn vị",), "unit"),
        ColumnSpec("condition", ("Mã điều kiện",), "code", required=False, nullable=True)),
        unique=("unit_id",), codes={"condition": "conditions"})
    tables = {**tables_for("totals"), "notes": optional}
    assert [t.name for t in form_tables(rules, tables)] == ["scores", "notes"]
    write_forms(tmp_path / "f.xlsx", rules, registry, 2021, tables=tables)
    wb = load_workbook(tmp_path / "f.xlsx")
    assert validations(wb["Ghi chú"])["B"].type is None and "DS_CONDITIONS" not in wb.defined_names


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
def test_forms_open_in_libreoffice_with_their_drop_downs(tmp_path, rules, registry):
    """LibreOffice (headless) reads the form and writes it back with every validation in place."""
    assert SOFFICE, "LibreOffice Calc is needed (.ci/run installs libreoffice-calc-nogui)"
    form = tmp_path / "bieu-mau-2021.xlsx"
    write_forms(form, rules, registry, 2021, tables=tables_for("totals"))
    out = tmp_path / "out"
    profile = (tmp_path / "profile").as_uri()
    for target in ("ods", "xlsx:Calc MS Excel 2007 XML"):
        subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target,
                        "--outdir", str(out), str(form)], check=True, capture_output=True, timeout=180)
    content = zipfile.ZipFile(out / "bieu-mau-2021.ods").read("content.xml").decode()
    assert 'table:condition="of:cell-content-is-in-list(DS_DON_VI)"' in content
    assert 'table:display-list="unsorted"' in content        # the drop-down arrow is shown
    assert content.count("cell-content-is-decimal-number() and cell-content-is-between(0,100)") == 2
    assert "Cần một số từ 0 đến 100." in content
    assert re.search(r'table:name="DS_DON_VI"[^>]*\$A\$2:\.\$A\$62', content)
    wb = load_workbook(out / "bieu-mau-2021.xlsx")
    assert wb.sheetnames == [HELP_SHEET, "Điểm", LISTS_SHEET]
    dv = validations(wb["Điểm"])
    assert dv["B"].type == "list" and dv["B"].formula1 == "DS_DON_VI"
    assert dv["D"].type == "decimal" and (dv["D"].formula1, dv["D"].formula2) == ("0", "100")
    names = form_units(registry, rules, 2021)["name"].tolist()
    assert [wb["Điểm"].cell(row=r, column=2).value for r in range(2, 63)] == names
