"""The exploration functions behind notebooks/explore.ipynb, and the notebook run top to bottom."""

from __future__ import annotations

import nbformat
import pytest

from evaluation.engine import whatif
from evaluation.report import explore
from tests.conftest import FIXTURES, ROOT

NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
REGIME2 = FIXTURES / "years" / "regime2" / "params"


def test_years_and_loading():
    assert "2020" in explore.years()
    assert explore.years(REGIME2) == ["2031"]
    assert len(explore.load_year(2031, REGIME2).ranked) == 11


def test_group_table(evaluation_2020):
    table = explore.group_table(evaluation_2020, "III")
    assert table.equals(explore.group_table(evaluation_2020, "ubnd_huyen"))
    assert table.equals(explore.group_table(evaluation_2020, "UBND cấp huyện"))
    assert len(table) == 27 and table["TT"].tolist() == list(range(1, 28))
    first = table.iloc[0]
    assert (first["Đơn vị"], first["Điểm đánh giá"], first["Xếp loại"]) == ("Thọ Xuân", 92.0,
                                                                          "Hoàn thành xuất sắc nhiệm vụ")
    assert first["Chênh lệch"] == 6.5          # 98.5 − 92.0
    with pytest.raises(KeyError, match="không phải một nhóm"):
        explore.group_table(evaluation_2020, "IV")


def test_unit_breakdown(evaluation_2020):
    table = explore.unit_breakdown(evaluation_2020, "Sở Khoa học và Công nghệ")
    got = dict(zip(table["Mục"], table["Giá trị"], strict=True))
    assert got["Điểm tự chấm"] == "96,0" and got["Điểm đánh giá (đã làm tròn theo quy định)"] == "88,3"
    assert got["Chênh lệch tự chấm − đánh giá"] == "7,7"
    assert got["Xếp loại"] == "Hoàn thành tốt nhiệm vụ" and got["Thứ hạng trong nhóm"] == "6/20"
    assert got["So với ngưỡng hiện tại"] == "8,3 điểm trên ngưỡng «Tốt» (80)"
    assert got["So với mức trên"] == "còn thiếu 1,7 điểm để đạt «Xuất sắc» (90)"
    # Names are matched like inputs: the printed misprint finds the unit.
    top = dict(zip(*explore.unit_breakdown(evaluation_2020, "Hoàng Hoá").T.values, strict=True))
    assert top["Đơn vị"] == "Ủy ban nhân dân huyện Hoằng Hóa" and top["So với mức trên"] == "đã ở mức cao nhất"
    with pytest.raises(KeyError, match="không có trong danh mục"):
        explore.unit_breakdown(evaluation_2020, "Sở Du hành vũ trụ")


def test_compare_with_group(evaluation_2020, seed_table):
    table = explore.compare_with_group(evaluation_2020, "huyen-hoang-hoa").set_index("Chỉ số")
    districts = seed_table[seed_table["numeral"] == "III"]
    score = table.loc["Điểm đánh giá"]
    assert score["Hoằng Hóa"] == 90.6
    assert score["Trung bình nhóm"] == pytest.approx(districts["score"].mean())
    assert score["Trung vị nhóm"] == districts["score"].median() == 85.3
    assert (score["Thấp nhất"], score["Cao nhất"]) == (80.7, 92.0)
    # 3 of the 26 other districts score higher (92.0, 91.1, 91.0): 23/26 are lower.
    assert score["Cao hơn (tỷ lệ đơn vị khác trong nhóm)"] == pytest.approx(23 / 26)
    assert table.loc["Điểm tự chấm", "Cao hơn (tỷ lệ đơn vị khác trong nhóm)"] == 1.0   # 99.2 is the highest


def test_changes_and_counts_tables(evaluation_2020):
    rules = whatif.with_tier_min(evaluation_2020.rules, "xuat_sac", 91)
    table = explore.changes_table(evaluation_2020, rules)
    assert table["Đơn vị"].tolist() == ["Sở Y tế", "Trường ĐH Văn hóa, TT&DL", "Hoằng Hóa", "Cẩm Thủy"]
    assert set(table["Thay đổi"]) == {"xuống"} and set(table["Xếp loại theo giả định"]) == {
        "Hoàn thành tốt nhiệm vụ"}
    assert explore.changes_summary(evaluation_2020, rules) == "4 đơn vị thay đổi xếp loại: 4 xuống."
    assert explore.changes_summary(evaluation_2020, evaluation_2020.rules) == "Không đơn vị nào thay đổi xếp loại."
    counts = explore.counts_table(evaluation_2020, rules).set_index("Xếp loại")
    assert counts.loc["Hoàn thành xuất sắc nhiệm vụ"].tolist() == [11, 7, -4]


def test_overview_and_show(evaluation_2020):
    table = explore.overview(evaluation_2020).set_index("Xếp loại")
    assert table.loc["Tổng số", "Tổng số"] == 61 and table.loc["Hoàn thành xuất sắc nhiệm vụ", "III. UBND cấp huyện"] == 5
    html = explore.show(explore.group_table(evaluation_2020, "III")).to_html()
    assert ">98,47<" in html and ">92,0<" in html and ">98.47<" not in html


def test_group_figure(evaluation_2020):
    fig = explore.group_figure(evaluation_2020, "Sở Y tế")
    ax = fig.axes[0]
    assert ax.get_title() == "Sở Y tế trong nhóm I. Các sở, cơ quan ngang sở"
    assert sum(len(c.get_offsets()) for c in ax.collections) == 20


def test_reliability_tables(evaluation_2020):
    from evaluation.engine.sensitivity import analyse
    from evaluation.inputs.rules import Uncertainty, VaryTierMin

    bound = VaryTierMin(kind="tier_min", tier="xuat_sac", min=89.5, max=90.5)
    s = analyse(evaluation_2020, Uncertainty(name="thử", draws=110, vary=[bound]))
    text = explore.reliability_summary(s)
    assert text.startswith(f"**{s.stable}/61** đơn vị giữ nguyên xếp loại") and "Ngưỡng «Xuất sắc»" in text
    table = explore.reliability_table(evaluation_2020, s, unstable_only=True)
    # Least stable first: 89,9 keeps «tốt» in 5/11 of the scenarios, 90,0 keeps «xuất sắc» in 6/11.
    assert list(table["Tỷ lệ kịch bản giữ xếp loại"]) == sorted(table["Tỷ lệ kịch bản giữ xếp loại"])
    at_bound = table.set_index("Đơn vị").loc["Trường ĐH Văn hóa, TT&DL"]
    assert at_bound["Tỷ lệ «Xuất sắc»"] == 6 / 11 and at_bound["Yếu tố ảnh hưởng nhiều nhất"] == "Ngưỡng «Xuất sắc»"
    assert at_bound["Khoảng thứ hạng (95%)"] == str(at_bound["Thứ hạng"])
    factors = explore.factors_table(s)
    assert factors.iloc[0]["Yếu tố"] == "Ngưỡng «Xuất sắc»" and factors.iloc[0]["Thay đổi"] == "từ 89,5 đến 90,5 điểm"
    html = explore.show(table).to_html()
    assert "55%" in html      # 6/11, as a share


def test_notebook_is_stored_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids) and all(not i.startswith(("0", "1", "2")) for i in ids)  # named, not random
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert code[0].metadata.get("tags") == ["parameters"]
    # papermill reads every parameter (a "=" in a comment, say, would hide one)
    import papermill as pm

    assert list(pm.inspect_notebook(str(NOTEBOOK))) == [
        "year", "params_dir", "group", "unit", "tier", "new_bound", "quota_tier", "quota_ratio", "quota_of",
        "quota_scope", "adjustment_max", "uncertainty_file", "uncertainty_derive", "uncertainty_draws"]
    # Thin: every code cell calls the package; no function or class of its own.
    assert not any("def " in c.source or "class " in c.source or "import pandas" in c.source for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("parameters", [
    {},
    {"year": "2031", "params_dir": str(REGIME2), "group": "b", "unit": "B1", "tier": "tot", "new_bound": 75,
     "quota_tier": "xs", "quota_ratio": 0.5, "quota_of": "all", "quota_scope": "group"},
    {"year": "example-2021", "unit": "Thọ Xuân", "adjustment_max": 1},
], ids=["2020", "regime2", "example-2021"])
def test_notebook_runs_top_to_bottom(tmp_path, parameters):
    import papermill as pm

    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(out), parameters=parameters, cwd=str(NOTEBOOK.parent),
                        kernel_name="python3", progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    text = "\n".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("data", {}).get("text/markdown", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert "giữ nguyên xếp loại" in text       # the reliability section ran (regime2: nothing unconfirmed)
    if parameters.get("year") == "example-2021":
        # bonus and penalty bounded to ±1: scored again from the parts (tests/test_whatif.py by hand).
        # Thạch Thành stays «tốt»: its criterion points, rounded as declared, add up to 79,00, + 1 = 80,0
        # (unrounded survey points gave 78,99 → 79,9 before).
        assert "6 đơn vị thay đổi xếp loại: 1 lên, 5 xuống." in text
        assert "Điểm theo giả định" in text and "83,4" in text      # Thọ Xuân: 92,4 → 83,4
    elif not parameters:
        assert "chỉ có điểm cuối cùng đã công bố" in text             # no rescoring of published totals
        assert "4 đơn vị thay đổi xếp loại: 4 xuống." in text      # the bound at 91
        assert "1 đơn vị thay đổi xếp loại: 1 xuống." in text      # at most 20% of «tốt»
        assert "Ủy ban nhân dân huyện Hoằng Hóa" in text and "image/png" in str(nb.cells)
    else:
        assert "Không được xếp cao hơn" in text                     # B1's condition, shown with its unit
