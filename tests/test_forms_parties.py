"""One form per party: who returns what (from the rules and the registry), and what each workbook holds."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pandas as pd
import pytest
from openpyxl import load_workbook

from evaluation.cli import main
from evaluation.errors import InputError
from evaluation.forms.issue import year_forms
from evaluation.forms.parties import KINDS, safe_file_name, year_parties
from evaluation.forms.workbooks import ITEMS_SHEET, META_SHEET
from evaluation.inputs.catalogue import criteria_frame, unit_sets
from evaluation.inputs.registry import load_registry
from evaluation.inputs.rules import load_rules
from tests.conftest import ROOT

RULES = ROOT / "params" / "rules" / "thanh-hoa-2016.yaml"
DETAILED = {"criteria", "survey", "adjustments"}


@pytest.fixture(scope="module")
def rules():
    return load_rules(RULES)


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "data" / "units.csv")


@pytest.fixture(scope="module")
def parties(rules, registry):
    return year_parties(rules, registry, 2021, DETAILED)


def units_2021(registry, rules) -> pd.DataFrame:
    units = registry.units[registry.valid_in(2021) & registry.units["group"].isin(rules.group_ids)]
    return units.assign(criteria_set=unit_sets(units, rules)["criteria_set"].to_numpy())


def test_every_unit_body_rater_and_the_council_is_a_party(parties, rules, registry):
    units = units_2021(registry, rules)
    by_kind = pd.Series([p.kind for p in parties]).value_counts().to_dict()
    districts = int((units["group"] == "ubnd_huyen").sum())
    departments = int((units["group"] == "so_nganh").sum())
    assert (districts, departments, len(units)) == (27, 20, 61)
    # A unit raters' kind is one form per unit of its groups; enterprises and other agencies one form each.
    assert by_kind == {"self": 61, "appraisal": 4, "survey": districts + departments + 2, "council": 1}
    assert [p.name for p in parties if p.kind == "appraisal"] == [b.name for b in rules.bodies]
    assert [p.name for p in parties if p.kind == "council"] == ["Hội đồng đánh giá"]
    assert {p.key for p in parties if p.kind == "survey" and p.rater_kind == "doanh-nghiep"} == {
        "phieu-danh-gia/doanh-nghiep"}
    assert len({p.key for p in parties}) == len(parties)


def test_each_body_appraises_its_criteria_of_every_unit_except_those_scored_by_surveys(parties, rules, registry):
    units = units_2021(registry, rules)
    catalogue = criteria_frame(rules)
    grid = units[["criteria_set"]].reset_index().merge(catalogue, on="criteria_set")
    for party in (p for p in parties if p.kind == "appraisal"):
        mine = grid[(grid["body"] == party.id) & grid["survey"].isna()]
        rows = party.sheets[0].rows
        assert sorted(zip(rows["unit_id"], rows["criterion"], strict=True)) == sorted(
            zip(mine["id"], mine["criterion"], strict=True)), party.id
    snv = next(p for p in parties if p.key == "tham-dinh/so-noi-vu").sheets[0].rows
    assert "QLNN" not in set(snv["criterion"]) and "QLDB" not in set(snv["criterion"])   # by survey
    # Without survey answers in the year, the body scores those criteria itself, and there is no survey form.
    plain = year_parties(rules, registry, 2021, {"criteria", "adjustments"})
    vp = next(p for p in plain if p.key == "tham-dinh/van-phong-ubnd-tinh").sheets[0].rows
    assert {"HTDN", "MTDT"} <= set(vp["criterion"])
    assert not [p for p in plain if p.kind == "survey"]


def test_raters_rate_the_units_of_their_surveys_but_not_themselves(parties, rules):
    tho_xuan = next(p for p in parties if p.key == "phieu-danh-gia/huyen-tho-xuan")
    assert [s.title for s in tho_xuan.sheets] == ["Phiếu QLNN"]
    assert len(tho_xuan.sheets[0].rows) == 20 and tho_xuan.rater_kind == "ubnd-cap-huyen"
    justice = next(p for p in parties if p.key == "phieu-danh-gia/so-tu-phap")
    assert [s.title for s in justice.sheets] == ["Phiếu QLDB"] and len(justice.sheets[0].rows) == 27
    enterprises = next(p for p in parties if p.key == "phieu-danh-gia/doanh-nghiep")
    assert [s.title for s in enterprises.sheets] == ["Phiếu HTDN", "Phiếu MTDT"]
    assert [len(s.choices) for s in enterprises.sheets] == [20, 27] and not any(s.grid for s in enterprises.sheets)
    # Were the districts' own kind rated by their form, a district would not rate itself.
    loop = rules.model_copy(update={"surveys": [rules.surveys[0].model_copy(update={
        "sets": ["ubnd-huyen", "so-kinh-te-tong-hop"]})] + rules.surveys[1:]})
    own = next(p for p in year_parties(loop, load_registry(ROOT / "data" / "units.csv"), 2021, DETAILED)
               if p.key == "phieu-danh-gia/huyen-tho-xuan")
    assert "huyen-tho-xuan" not in set(own.sheets[0].rows["unit_id"]) and len(own.sheets[0].rows) == 7 + 22


def test_a_totals_only_year_has_no_parties(rules, registry):
    with pytest.raises(InputError, match="chấm điểm theo tiêu chí"):
        year_parties(rules, registry, 2020, {"scores"})


def test_the_version_follows_what_the_form_lists(parties, rules, registry):
    sets = rules.criteria_sets
    criteria = list(sets[0].criteria)
    criteria[0] = criteria[0].model_copy(update={"max": criteria[0].max - 1})
    criteria[1] = criteria[1].model_copy(update={"max": criteria[1].max + 1})
    changed = rules.model_copy(update={"criteria_sets": [sets[0].model_copy(update={"criteria": criteria}),
                                                          *sets[1:]]})
    again = {p.key: p.version for p in year_parties(changed, registry, 2021, DETAILED)}
    before = {p.key: p.version for p in parties}
    moved = {k for k in before if before[k] != again[k]}
    first_set = set(sets[0].units)
    assert {k.split("/")[1] for k in moved if k.startswith("tu-cham/")} == first_set
    assert "tham-dinh/so-ke-hoach-dau-tu" in moved and "tham-dinh/thanh-tra-tinh" not in moved
    assert all(v.startswith("1.") and len(v) == 10 for v in before.values())


def test_file_names_are_safe_everywhere():
    assert safe_file_name('Sở A/B: "C"?') == "Sở A-B- -C-"
    assert safe_file_name("Trường ĐH Văn hóa, TT&DL") == "Trường ĐH Văn hóa, TT&DL"


def validations(ws) -> dict[str, object]:
    return {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv for dv in ws.data_validations.dataValidation}


def test_the_self_assessment_form(party_forms, rules):
    path = party_forms / "data" / "collected-2021" / "forms" / "tu-cham" / "Sở Tư pháp - tự chấm 2021.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["Hướng dẫn", "Tự chấm", META_SHEET]
    meta = wb[META_SHEET]
    assert meta.sheet_state == "veryHidden" and meta.protection.sheet
    values = {meta.cell(row=r, column=1).value: meta.cell(row=r, column=3).value for r in range(2, meta.max_row + 1)}
    yf = year_forms(party_forms / "params" / "collected-2021.yaml")
    party = yf.party("tu-cham/so-tu-phap")
    assert values == {"kind": "self", "party": "tu-cham/so-tu-phap", "name": "Sở Tư pháp", "year": "2021",
                      "version": party.version, "rules": "thanh-hoa-2016"}
    ws = wb["Tự chấm"]
    header = [c.value for c in ws[1]]
    assert header == ["TT", "Mã tiêu chí", "Tiêu chí", "Điểm tối đa", "Cơ quan thẩm định", "Kết quả thực hiện",
                      "Điểm tự chấm", "Minh chứng", "Giải trình", "Ghi chú"]
    own = rules.criteria_set("so-kinh-te-tong-hop").criteria
    assert [(ws.cell(row=r, column=2).value, ws.cell(row=r, column=4).value) for r in range(2, ws.max_row + 1)] == [
        (c.code, int(c.max)) for c in own]
    # Pre-filled cells are locked, the party's cells are not; the sheet is protected (no password).
    assert ws.protection.sheet and ws.protection.password is None
    assert ws["B2"].protection.locked and ws["D2"].protection.locked
    assert not ws["G2"].protection.locked and not ws["H2"].protection.locked
    dv = validations(ws)
    assert dv["G"].type == "custom" and "$D2" in dv["G"].formula1 and '"không áp dụng"' in dv["G"].formula1
    assert str(dv["G"].sqref) == "G2:G9" and dv["G"].showErrorMessage and dv["G"].error
    assert dv["H"].prompt.startswith("Số, ký hiệu văn bản") and dv["H"].type is None
    # A claim without evidence nor explanation lights up; not on criteria scored by a survey (QLNN, HTDN).
    ranges = [str(r.sqref) for r in ws.conditional_formatting]
    assert ranges == ["H2:I2 H3:I3 H5:I5 H6:I6 H7:I7 H8:I8"]
    assert "chấm qua phiếu đánh giá" in ws["E4"].value
    help_text = " ".join(str(c.value) for row in wb["Hướng dẫn"].iter_rows() for c in row if c.value)
    assert "Bên nộp: Sở Tư pháp" in help_text and "«Giải trình»" in help_text
    assert "không qua tên tệp" in help_text and party.version in help_text


def test_the_appraisal_survey_and_council_forms(party_forms, rules):
    forms = party_forms / "data" / "collected-2021" / "forms"
    ws = load_workbook(forms / "tham-dinh" / "Thanh tra tỉnh - thẩm định 2021.xlsx")["Thẩm định"]
    assert [c.value for c in ws[1]] == ["TT", "Đơn vị", "Mã tiêu chí", "Tiêu chí", "Điểm tối đa", "Điểm thẩm định",
                                        "Ghi chú"]
    assert ws.max_row == 62 and {ws.cell(row=r, column=3).value for r in range(2, 63)} == {"TTRA"}
    assert validations(ws)["F"].type == "custom" and "$E2" in validations(ws)["F"].formula1

    ws = load_workbook(forms / "phieu-danh-gia" / "Thọ Xuân - phiếu đánh giá 2021.xlsx")["Phiếu QLNN"]
    assert [c.value for c in ws[1]][:3] == ["TT", "Đơn vị được đánh giá",
                                            "QLNN-1. Chất lượng hướng dẫn chuyên môn, nghiệp vụ theo ngành, lĩnh vực"]
    dv = validations(ws)["C"]
    assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("decimal", "between", "1", "5")

    wb = load_workbook(forms / "phieu-danh-gia" / "Doanh nghiệp - phiếu đánh giá 2021.xlsx")
    assert wb.sheetnames == ["Hướng dẫn", "Phiếu HTDN", "Phiếu MTDT", "Danh mục", META_SHEET]
    dv = validations(wb["Phiếu MTDT"])
    assert dv["B"].type == "list" and dv["B"].formula1 != "DS_DON_VI"
    listed = wb.defined_names[dv["B"].formula1].attr_text
    assert listed.endswith("$2:$" + listed.rsplit("$", 1)[0].split("$")[-1] + "$28")  # the 27 districts
    assert not wb["Phiếu MTDT"].protection.sheet and wb["Danh mục"].protection.sheet

    wb = load_workbook(forms / "thuong-tru" / "Hội đồng đánh giá - điểm thưởng, điểm trừ 2021.xlsx")
    assert wb.sheetnames == ["Hướng dẫn", "Điểm thưởng, điểm trừ", ITEMS_SHEET, "Danh mục", META_SHEET]
    dv = validations(wb["Điểm thưởng, điểm trừ"])
    assert dv["A"].formula1 == "DS_DON_VI" and dv["B"].formula1 == "DS_ITEMS"
    items = wb[ITEMS_SHEET]
    assert items.max_row == 1 + len(rules.adjustments.items) and items.protection.sheet
    assert items["A2"].value == "TH01" and "mỗi lần" in items["D2"].value


def test_the_forms_command_never_overwrites(party_forms, tmp_path, capsys):
    root = tmp_path / "p"
    shutil.copytree(party_forms / "params", root / "params")
    shutil.copytree(party_forms / "data", root / "data")
    forms = root / "data" / "collected-2021" / "forms"
    files = sorted(forms.rglob("*.xlsx"))
    assert len(files) == 115
    assert {p.parent.name for p in files} == {k.folder for k in KINDS.values()}
    digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    # Again: the same bytes, nothing to do.
    assert main(["--params-dir", str(root / "params"), "forms", "--year", "collected-2021"]) == 0
    assert "0 tệp mới, 115 tệp đã có" in capsys.readouterr().out
    # A filled form in the way is never replaced.
    filled = forms / "tu-cham" / "Sở Tư pháp - tự chấm 2021.xlsx"
    wb = load_workbook(filled)
    wb["Tự chấm"]["G2"] = 18
    wb.save(filled)
    other = forms / "tu-cham" / "Sở Y tế - tự chấm 2021.xlsx"
    other.unlink()
    assert main(["--params-dir", str(root / "params"), "forms", "--year", "collected-2021"]) == 2
    err = capsys.readouterr().err
    assert "Sở Tư pháp - tự chấm 2021.xlsx" in err and "không ghi đè" in err
    assert not other.exists()                              # nothing written when anything is in the way
    assert load_workbook(filled)["Tự chấm"]["G2"].value == 18
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() == digest[p] for p in files if p not in (filled, other))


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
def test_a_form_saved_by_libreoffice_keeps_its_checks_and_identity(party_forms, tmp_path):
    """LibreOffice reads the self-assessment and writes it back with its validations, protection and metadata."""
    assert SOFFICE, "LibreOffice Calc is needed (.ci/run installs libreoffice-calc-nogui)"
    form = party_forms / "data" / "collected-2021" / "forms" / "tu-cham" / "Sở Tư pháp - tự chấm 2021.xlsx"
    src = tmp_path / "self.xlsx"
    shutil.copy(form, src)
    out = tmp_path / "out"
    subprocess.run([SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=180)
    wb = load_workbook(out / "self.xlsx")
    assert wb[META_SHEET].sheet_state in ("hidden", "veryHidden")
    assert wb["Tự chấm"].protection.sheet and not wb["Tự chấm"]["G2"].protection.locked
    dv = validations(wb["Tự chấm"])
    assert dv["G"].type == "custom" and "không áp dụng" in dv["G"].formula1
    from evaluation.forms.returns import identify

    assert identify(out / "self.xlsx", "self.xlsx").party == "tu-cham/so-tu-phap"
