"""Years side by side on the fixture series 2031–2033 (tests/fixtures/years/series).

2031 and 2032 use the regime2 rules; 2033 raises the bound of «Tốt» from 70 to 75.
A5 becomes A6 in 2032 (renamed), B6 exists only in 2031 (gone), B7 from 2032
(new), and B4 + B5 merge into B8 in 2033.
"""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from evaluation.errors import InputError
from evaluation.inputs.rules import Rules, load_rules
from evaluation.years import present_compare
from evaluation.years.compare import (
    Comparison,
    changes_table,
    compare,
    load_years,
    rule_differences,
    transitions,
    unit_changes,
)
from tests.conftest import FIXTURES, ROOT

SERIES = FIXTURES / "years" / "series" / "params"
PATHS = [SERIES / f"{y}.yaml" for y in (2031, 2032, 2033)]


@pytest.fixture(scope="module")
def years():
    return load_years(PATHS)


@pytest.fixture(scope="module")
def cmp(years) -> Comparison:
    return compare(years, top=3)


def _row(changes: pd.DataFrame, **where) -> pd.Series:
    sel = pd.Series(True, index=changes.index)
    for column, value in where.items():
        sel &= changes[column] == value
    assert sel.sum() == 1, where
    return changes[sel].iloc[0]


def test_tier_transitions_equal_a_hand_count(years):
    # Tiers by hand from the scores (xs ≥ 85, tot ≥ 70, kha ≥ 60.5, else tb):
    # 2031  A1 90 xs, A2 84 tot, A3 72 tot, A4 65 kha, A5 58 tb; B1 82 tot, B2 75 tot, B3 68 kha,
    #       B4 71 tot, B5 61 kha, B6 55 tb.
    # 2032  A1 86 xs, A2 80 tot, A3 69 kha, A4 71 tot, A6 62 kha; B1 84.5 tot, B2 74 tot, B3 70 tot,
    #       B4 60 tb, B5 61 kha, B7 66 kha.
    a, b = years[0], years[1]
    table = transitions(unit_changes(a, b), a.rules, b.rules)
    expected = {
        # group A: A1 xs→xs; A2 tot→tot; A3 tot→kha; A4 kha→tot; A5→A6 tb→kha (renamed, followed).
        "a": {("xs", "xs"): 1, ("tot", "tot"): 1, ("tot", "kha"): 1, ("kha", "tot"): 1, ("tb", "kha"): 1},
        # group B: B1, B2 tot→tot; B3 kha→tot; B4 tot→tb; B5 kha→kha; B7 new→kha; B6 tb→gone.
        "b": {("tot", "tot"): 2, ("kha", "tot"): 1, ("tot", "tb"): 1, ("kha", "kha"): 1,
              ("new", "kha"): 1, ("tb", "gone"): 1},
    }
    expected["total"] = {k: expected["a"].get(k, 0) + expected["b"].get(k, 0)
                         for k in {*expected["a"], *expected["b"]}}
    assert list(table) == ["a", "b", "total"]
    for group, cells in expected.items():
        got = table[group]
        assert got.index.tolist() == ["xs", "tot", "kha", "tb", "new"]
        assert got.columns.tolist() == ["xs", "tot", "kha", "tb", "gone"]
        nonzero = {(f, t): int(v) for (f, t), v in got.stack().items() if v}
        assert nonzero == cells, group
    assert int(table["total"].to_numpy().sum()) == 12   # 11 units of 2031 + 1 new in 2032


def test_a_renamed_unit_is_followed_across_years(years):
    changes = unit_changes(years[0], years[1])
    row = _row(changes, id_a="a5")
    assert (row["id_b"], row["change"]) == ("a6", "renamed")
    assert (row["score_a"], row["score_b"], row["delta_score"]) == (58.0, 62.0, 4.0)
    assert (row["tier_a"], row["tier_b"], row["tier_move"]) == ("tb", "kha", "up")
    assert (row["rank_a"], row["rank_b"], row["delta_rank"]) == (5, 5, 0)
    assert (row["unit_a"], row["unit_b"]) == ("A5", "A6")


def test_units_present_in_one_year_only_are_new_or_gone(years):
    changes = unit_changes(years[0], years[1])
    new = _row(changes, change="new")
    gone = _row(changes, change="gone")
    assert (new["id_b"], new["tier_b"], new["score_b"]) == ("b7", "kha", 66.0)
    assert pd.isna(new["id_a"]) and pd.isna(new["delta_score"])
    assert (gone["id_a"], gone["tier_a"], gone["score_a"]) == ("b6", "tb", 55.0)
    assert pd.isna(gone["id_b"]) and pd.isna(gone["delta_score"])
    # Every unit of both years appears exactly once on its side.
    assert sorted(changes["id_a"].dropna()) == sorted(years[0].ranked["unit_id"])
    assert sorted(changes["id_b"].dropna()) == sorted(years[1].ranked["unit_id"])


def test_merged_units_are_shown_as_such_and_not_subtracted(cmp):
    changes = cmp.pairs[1].changes
    merged = changes[changes["change"] == "merged"]
    assert sorted(merged["id_a"]) == ["b4", "b5"] and set(merged["id_b"]) == {"b8"}
    assert merged["delta_score"].isna().all() and merged["tier_move"].isna().all()
    assert int(cmp.pairs[1].transitions["b"].to_numpy().sum()) == 4   # B1, B2, B3, B7 only


def test_deltas_and_moves(cmp):
    changes = cmp.pairs[0].changes
    b4 = _row(changes, id_a="b4")
    assert (b4["delta_score"], b4["delta_rank"], b4["tier_move"]) == (-11.0, -3, "down")
    b1 = _row(changes, id_a="b1")
    assert (b1["delta_score"], b1["tier_move"]) == (2.5, "same")


def test_the_rules_note_appears_when_the_rules_differ_and_not_when_they_match(cmp):
    same, changed = cmp.pairs
    assert same.differences == [] and same.comparable
    assert changed.differences == ["Ngưỡng xếp loại khác nhau: «Tốt» từ 70 (năm 2032) và từ 75 (năm 2033)."]
    html = present_compare.comparability(cmp)
    assert "Quy định năm 2032 và năm 2033 khác nhau" in html
    assert "Quy định năm 2031 và năm 2032 khác nhau" not in html
    assert "Năm 2031 và năm 2032 áp dụng cùng các mức xếp loại" in html
    # Beside the numbers: every followed change of 2032→2033 carries the mark, none of 2031→2032.
    tables = present_compare.change_tables(cmp)
    first, second = tables.split("<h3>")[1:]
    assert present_compare.MARK not in first
    assert second.count(present_compare.MARK) >= 2 * 8   # 8 followed units: score and tier cells


def test_the_years_table_names_each_rules_in_words_never_by_its_identifier(cmp):
    html = present_compare.years_table(cmp)
    for ev in cmp.years:
        assert ev.rules.name in html
        assert ev.rules.id not in html, "the rules file's identifier is a code value, not for readers"


def _rules() -> Rules:
    return load_rules(FIXTURES / "rules" / "four-tiers-quota.yaml")


def test_wording_sources_and_colours_do_not_make_rules_differ():
    a = _rules()
    tiers = [t.model_copy(update={"name": t.name + " (tên khác)", "source": "khác", "color": "#000000"})
             for t in a.tiers]
    b = a.model_copy(update={"id": "other", "name": "Tên khác", "tiers": tiers, "method_notes": ["ghi chú"]})
    assert rule_differences(a, a, "1", "2") == []
    assert rule_differences(a, b.model_copy(update={"tiers": [t.model_copy(update={"name": o.name})
                                                           for t, o in zip(tiers, a.tiers, strict=True)]}),
                            "1", "2") == []


def test_each_kind_of_rules_difference_is_named():
    a = _rules()
    fewer = a.model_copy(update={"tiers": a.tiers[:2] + a.tiers[3:]})
    assert rule_differences(a, fewer, "1", "2")[0].startswith("Các mức xếp loại khác nhau")
    precision = a.model_copy(update={"precision": a.precision.model_copy(update={"decimals": 1})})
    assert rule_differences(a, precision, "1", "2") == [
        "Cách làm tròn điểm khác nhau: 2 chữ số thập phân (làm tròn, từ 5 trở lên làm tròn lên) năm 1, 1 chữ số "
        "thập phân (làm tròn, từ 5 trở lên làm tròn lên) năm 2."]
    scale = a.model_copy(update={"scale": a.scale.model_copy(update={"appraisal_max": Decimal(90)})})
    assert rule_differences(a, scale, "1", "2")[0].startswith("Thang điểm khác nhau")
    quota = a.model_copy(update={"quotas": []})
    assert rule_differences(a, quota, "1", "2") == ["Hạn mức số đơn vị khác nhau giữa năm 1 và năm 2."]


def test_a_section_added_later_such_as_criteria_is_compared_too():
    class WithCriteria(Rules):
        criteria: list[dict] = []

    a = WithCriteria.model_validate({**_rules().model_dump(), "criteria": [{"code": "c1", "max": 30}]})
    b = a.model_copy(update={"criteria": [{"code": "c1", "max": 25}]})
    assert rule_differences(a, b, "1", "2") == ["Quy định về tiêu chí chấm điểm khác nhau giữa năm 1 và năm 2."]
    same_but_reworded = a.model_copy(update={"criteria": [{"code": "c1", "max": 30, "name": "khác"}]})
    assert rule_differences(a, same_but_reworded, "1", "2") == []


def test_gaps_are_followed_year_after_year(cmp):
    gaps = cmp.gaps.set_index("thread")
    # A5 (2031: 70 − 58) then A6 (2032: 80 − 62; 2033: 85 − 70): one unit, three years.
    assert gaps.loc["a6", ["2031", "2032", "2033"]].tolist() == [12.0, 18.0, 15.0]
    assert (gaps.loc["a6", "mean_gap"], gaps.loc["a6", "years"]) == (15.0, 3)
    assert "a5" not in gaps.index
    assert "a3" not in gaps.index   # no self score in any year
    # Largest three of each year (top=3): 2031 B5 18, B3 17, A4 15; 2032 B4 25, B5 19, A6 18 or B3 18.
    assert gaps.loc["b5", "years_in_top"] == 2
    assert cmp.gaps["mean_gap"].is_monotonic_decreasing


def test_loading_reports_every_problem_and_refuses_a_single_or_doubled_year(tmp_path):
    with pytest.raises(InputError, match="cần ít nhất hai năm"):
        load_years(PATHS[:1])
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    params = tmp_path / "fixtures" / "years" / "series" / "params"
    shutil.copyfile(params / "2031.yaml", params / "twin.yaml")
    with pytest.raises(InputError, match="trùng năm"):
        load_years([params / "2031.yaml", params / "twin.yaml"])
    for year in ("2032", "2033"):
        scores = params.parent / "data" / year / "scores.csv"
        scores.write_text(scores.read_text(encoding="utf-8").replace("1,A1,", "1,A1,nhiều,"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_years([params / f"{y}.yaml" for y in (2031, 2032, 2033)])
    files = {Path(p.file).parts[-2] for p in info.value.problems}
    assert files == {"2032", "2033"}, "the problems of every year, together"


def test_changes_table_for_the_csv(cmp):
    table = changes_table(cmp)
    assert len(table) == len(cmp.pairs[0].changes) + len(cmp.pairs[1].changes)
    a6 = table[(table["Năm trước"] == "2031") & (table["Mã đơn vị năm sau"] == "a6")].iloc[0]
    assert (a6["Thay đổi đơn vị"], a6["Chênh lệch điểm"], a6["Xếp loại năm sau"]) == ("đổi tên", 4.0, "Khá")
    assert set(table["Quy định khác nhau"]) == {"có", "không"}


def test_compare_notebook_is_stored_thin_without_outputs():
    nb = nbformat.read(ROOT / "notebooks" / "compare.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert code[0].id == "parameters" and "parameters" in code[0].metadata["tags"]
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    assert max(len(c.source.splitlines()) for c in code) <= 12, "logic belongs in the package"


def test_each_unit_is_labelled_on_its_own_row_beside_its_own_points(evaluation_2020):
    # Was: a slope chart whose crowded labels were stacked away from their dots, so a reader matched a
    # name to another unit's score. Now each unit has a row: its name, its points, its arrow.
    from evaluation.engine.pipeline import evaluate
    from evaluation.years.compare import compare
    from evaluation.years.plot_compare import _rows

    cmp = compare([evaluation_2020, evaluate(ROOT / "params" / "example-2021.yaml")])
    points, segments = _rows(cmp, "so_nganh")
    labels = points.attrs["labels"]
    for year, ev in enumerate(cmp.years):
        ranked = ev.ranked[ev.ranked["group"] == "so_nganh"].set_index("unit")
        mine = points[points["year"] == year]
        for row, score in zip(mine["row"], mine["score"], strict=True):
            assert ranked.at[labels[row], "score"] == score, labels[row]
    latest = cmp.years[-1].ranked.set_index("unit")
    for row, x1 in zip(segments["row"], segments["x1"], strict=True):
        assert latest.at[labels[row], "score"] == x1
    assert len(labels) == 20 and len(segments) == 20


# -- across the 2025 reform: 2020 → the illustrative 2026 (issue 14) -------------------------

@pytest.fixture(scope="module")
def reform():
    from evaluation.years.compare import compare_years

    return compare_years([ROOT / "params" / "2020.yaml", ROOT / "params" / "example-2026.yaml"])


def test_a_merged_department_is_followed_from_2020_to_2026(reform):
    changes = reform.pairs[0].changes
    by_pair = {(a, b): c for a, b, c in zip(changes["id_a"], changes["id_b"], changes["change"], strict=True)}
    # Sở Nông nghiệp và Môi trường ← Sở NN&PTNT + Sở TN&MT: a new unit, two merged.
    assert by_pair[("so-nong-nghiep-ptnt", "so-nong-nghiep-moi-truong")] == "merged"
    assert by_pair[("so-tai-nguyen-moi-truong", "so-nong-nghiep-moi-truong")] == "merged"
    # Sở Tài chính continues and absorbs Sở KH&ĐT: its own line says so, and no score difference
    # is computed (was: "same", −18,4 against its own 2020 score, nothing said).
    assert by_pair[("so-ke-hoach-dau-tu", "so-tai-chinh")] == "merged"
    assert by_pair[("so-tai-chinh", "so-tai-chinh")] == "absorbed"
    row = changes[(changes["id_a"] == "so-tai-chinh") & (changes["id_b"] == "so-tai-chinh")].iloc[0]
    assert pd.isna(row["delta_score"]) and pd.isna(row["tier_move"])
    assert row["note"].startswith("tiếp nhận Sở Kế hoạch và Đầu tư sáp nhập vào: không so sánh điểm")
    assert by_pair[("so-y-te", "so-y-te")] == "same"


def test_districts_to_communes_are_compared_at_group_level_only(reform):
    from evaluation.years.compare import comparability

    changes = reform.pairs[0].changes
    assert (changes["change"] == "dissolved").sum() == 27 and (changes["change"] == "formed").sum() == 166
    assert changes.loc[changes["change"].isin(["dissolved", "formed"]), "delta_score"].isna().all()
    statement = comparability(reform.pairs[0])
    groups = statement[statement["level"] == "group"].set_index(["group_a", "group_b"])["comparable"].to_dict()
    assert groups == {("so_nganh", "so_nganh"): "yes", ("don_vi_su_nghiep", "don_vi_su_nghiep"): "yes",
                      ("ubnd_huyen", "ubnd_xa"): "group_only"}
    assert statement.loc[statement["level"] == "rules", "comparable"].tolist() == ["caution"]
    units = statement[statement["level"] == "unit"].set_index("change")["comparable"].to_dict()
    assert units == {"same": "yes", "renamed": "yes", "merged": "no", "absorbed": "no", "dissolved": "group_only",
                     "formed": "group_only"}
    assert set(statement["comparable"]) <= {"yes", "caution", "group_only", "no"}


def test_changes_csv_never_leaves_a_change_type_empty_and_rule_notes_name_no_key(reform):
    from evaluation.years.compare import changes_table

    table = changes_table(reform)
    assert table["Thay đổi đơn vị"].notna().all() and (table["Thay đổi đơn vị"] != "").all()
    assert (table["Cách so sánh"] != "").all()
    keys = re.compile(r"\b(criteria_sets|rater_kinds|surveys|adjustments|periods|ranking|not_evaluated|"
                      r"half_up|half_even|down)\b")
    assert not [d for d in reform.pairs[0].differences if keys.search(d)], reform.pairs[0].differences


def _plain(html: str) -> str:
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_merged_finance_department_is_one_row_beside_its_two_predecessors_of_2020(reform):
    html = present_compare.change_tables(reform)
    rows = re.findall(r"<tr>(.*?)</tr>(?:<tr class=\"detail\">(.*?)</tr>)?", html, flags=re.S)
    finance = [(_plain(main), _plain(detail)) for main, detail in rows if _plain(main).startswith("Sở Tài chính ")]
    assert len(finance) == 1, "one row for Sở Tài chính 2026, not one per predecessor"
    main, detail = finance[0]
    # 2026: 93,7, placed «không hoàn thành» (15th); no 2020 score and no difference set against it.
    assert main == "Sở Tài chính tiếp nhận Sở Kế hoạch và Đầu tư sáp nhập vào từ 01/03/2025 93,7 – → 15 TT – → 15 " \
                   "Không hoàn thành"
    # Its predecessors' 2020 results, from the 2020 report (Sở Kế hoạch và Đầu tư first: 93,3).
    assert detail == ("Năm 2020: Sở Tài chính 92,9 điểm (Xuất sắc, hạng 2); Sở Kế hoạch và Đầu tư 93,3 điểm (Xuất "
                      "sắc, hạng 1). Không so sánh điểm: đơn vị năm 2026 (minh họa) gồm cả các đơn vị sáp nhập vào; "
                      "không cộng hay lấy trung bình điểm các đơn vị cũ.")
    ev_2020 = reform.years[0].ranked.set_index("unit_id")
    assert ev_2020.loc[["so-tai-chinh", "so-ke-hoach-dau-tu"], "score"].tolist() == [92.9, 93.3]
    merged = [_plain(d) for m, d in rows if _plain(m).startswith("Sở Nông nghiệp và Môi trường")]
    assert merged == ["Năm 2020: Sở Nông nghiệp và PTNT 92,2 điểm (Xuất sắc, hạng 3); Sở Tài nguyên và Môi trường "
                      "84,5 điểm (Tốt, hạng 19). Không so sánh điểm: đơn vị năm 2026 (minh họa) là đơn vị mới, hợp "
                      "nhất từ các đơn vị cũ; không cộng hay lấy trung bình điểm các đơn vị cũ."]


def test_districts_and_communes_are_summarised_at_group_level_not_listed(reform):
    html = present_compare.change_tables(reform)
    # Not 166 «mới» rows nor 27 «không còn»: one sentence and one table for the two groups.
    assert "Thọ Xuân" not in html and "chỉ có năm" not in _plain(html)
    changes = re.findall(r"<table class=\"changes fixed\">.*?</table>", html, flags=re.S)
    assert [t.count("<tr>") - 1 for t in changes] == [15, 14]   # one row per 2026 unit of groups I and II
    assert _plain(html).count("giải thể từ 01/07/2025; trên địa bàn thành lập 166 đơn vị nhóm «UBND cấp xã»") == 1
    table = re.search(r"<table class=\"group-level fixed\">.*?</table>", html, flags=re.S).group(0)
    lines = [_plain(r) for r in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)][1:]
    districts, communes = (reform.years[k].ranked for k in (0, 1))
    districts = districts[districts["group"] == "ubnd_huyen"]
    communes = communes[communes["group"] == "ubnd_xa"]
    assert (len(districts), len(communes)) == (27, 166)
    assert lines[0].startswith("III. UBND cấp huyện — năm 2020 27 ")
    assert lines[1].startswith("III. UBND cấp xã — năm 2026 (minh họa) 166 ")
    # Its counts add up to the group's units, tier by tier as each year's report prints them.
    for line, part in ((lines[0], districts), (lines[1], communes)):
        counts = [int(n) for n in re.findall(r"(?:Xuất sắc|Tốt|Hoàn thành|Không hoàn thành) (\d+)", line)]
        assert sum(counts) == len(part)
        assert counts[0] == int((part["tier"] == "xuat_sac").sum())
    assert "85,9" in lines[1] and f"{communes['score'].mean():.1f}".replace(".", ",") == "85,9"
    # The units list says the districts and communes once, at group level; nothing prints "nan".
    units = _plain(present_compare.unit_changes_list(reform))
    assert "nan" not in units.split() and units.count("giải thể") == 1
    assert "Sở Tài chính: tiếp nhận Sở Kế hoạch và Đầu tư (sáp nhập, từ 01/03/2025)" in units


def test_the_comparison_says_what_is_comparable_and_names_no_key(reform):
    said = _plain(present_compare.comparability(reform))
    assert "Những gì so sánh được giữa năm 2020 và năm 2026 (minh họa):" in said
    assert "24 đơn vị có ở cả hai năm (kể cả 1 đơn vị đổi tên) được so sánh trực tiếp" in said
    assert "5 đơn vị năm 2026 (minh họa) hình thành từ 10 đơn vị năm 2020 qua sáp nhập, hợp nhất" in said
    assert "chỉ so sánh ở cấp nhóm" in said
    body = " ".join(_plain(f(reform)) for f in (present_compare.title_block, present_compare.summary,
                                                 present_compare.years_table, present_compare.comparability,
                                                 present_compare.change_tables, present_compare.transition_tables,
                                                 present_compare.unit_changes_list))
    # No key, id or code of the rules or the registry: snake_case words, ids with hyphens.
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", body)
    assert not re.findall(r"\b(?:so|xa|huyen|nd|thanh)-[a-z0-9-]+\b", body)
    # Every unit of 2020's group I is either in the transition table or said to be left out of it.
    assert "Không tính vào bảng: 10 đơn vị năm 2020 sáp nhập, hợp nhất hoặc chia tách" in body
    assert "Kết quả đánh giá, xếp loại các năm 2020, 2026 (minh họa)" in body   # the two years' subjects differ


def test_the_comparison_charts_fit_a_page(reform, monkeypatch):
    import matplotlib.pyplot as plt

    from evaluation.report.plot import MAX_HEIGHT
    from evaluation.years import plot_compare

    # Districts and communes are never drawn unit by unit; their groups get one group-level chart.
    assert plot_compare.groups_present(reform) == ["so_nganh", "don_vi_su_nghiep"]
    flow = next(iter(__import__("evaluation.years.compare", fromlist=["group_flows"])
                     .group_flows(reform.pairs[0]).itertuples(index=False)))
    fig = plot_compare.group_spread(reform, 0, flow)
    assert fig.get_figheight() <= MAX_HEIGHT
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "III. UBND cấp huyện\nnăm 2020 (27 đơn vị)", "III. UBND cấp xã\nnăm 2026 (minh họa) (166 đơn vị)"]
    plt.close(fig)
    # A group with more rows than a page holds is drawn in parts, every row once, each part fitting.
    assert plot_compare.parts(reform, "so_nganh") == [range(15)]
    monkeypatch.setattr(plot_compare, "MAX_HEIGHT", 3.0)
    cuts = plot_compare.parts(reform, "so_nganh")
    assert len(cuts) > 1 and [r for c in cuts for r in c] == list(range(15))
    for rows in cuts:
        fig = plot_compare.slopes(reform, "so_nganh", rows)
        assert fig.get_figheight() <= 3.0 and len(fig.axes[0].get_yticklabels()) == len(rows)
        plt.close(fig)
