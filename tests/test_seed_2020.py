"""The 2020 results reproduce the seed report's table exactly (section 3)."""

from __future__ import annotations

import pandas as pd

from evaluation.text import name_key


def test_all_61_units_row_by_row(evaluation_2020, seed_table):
    ev = evaluation_2020
    rules = ev.rules
    numeral = {g.id: g.numeral for g in rules.groups}
    tier_name = {t.id: t.name for t in rules.tiers}
    ours = ev.ranked.assign(
        numeral=ev.ranked["group"].map(numeral),
        tier_name=ev.ranked["tier"].map(tier_name),
    )
    assert len(ours) == len(seed_table) == 61
    # Same unit in the same place: group, printed position (TT), both scores, tier.
    matched = ev.registry.match(seed_table["name"], year=2020)
    assert matched["unit_id"].notna().all()
    expected = seed_table.assign(unit_id=matched["unit_id"].to_numpy())
    for (_, exp), (_, got) in zip(expected.iterrows(), ours.iterrows(), strict=True):
        where = f"{exp['numeral']}.{exp['tt']} {exp['name']}"
        assert got["unit_id"] == exp["unit_id"], where
        assert got["numeral"] == exp["numeral"], where
        assert got["order"] == exp["tt"], where
        assert got["self_score"] == exp["self_score"], where
        assert got["score"] == exp["score"], where
        # The seed capitalises "Xuất sắc" in group III; the tier is the same.
        assert name_key(got["tier_name"]) == name_key(exp["tier_name"]), where


def test_counts_by_tier_and_group(evaluation_2020):
    counts = evaluation_2020.counts
    assert counts.loc["xuat_sac", "total"] == 11
    assert counts.loc["tot", "total"] == 50
    assert counts.loc["xuat_sac", ["so_nganh", "ubnd_huyen", "don_vi_su_nghiep"]].tolist() == [5, 5, 1]
    assert counts.loc["tot", ["so_nganh", "ubnd_huyen", "don_vi_su_nghiep"]].tolist() == [15, 22, 13]
    assert counts.loc[["hoan_thanh", "khong_hoan_thanh"], "total"].tolist() == [0, 0]
    assert counts.loc["total", "total"] == 61
    assert counts.loc["total", ["so_nganh", "don_vi_su_nghiep", "ubnd_huyen"]].tolist() == [20, 14, 27]


def test_summary_sentences_match_the_seed(evaluation_2020):
    s = evaluation_2020.sentences
    # Word for word the seed's opening of section 3 (the lead is the year's text, the rest is counted).
    assert s[0] == ("Căn cứ kết quả tự đánh giá, kết quả thẩm định và cung cấp nội dung, số liệu về điểm "
                    "thưởng, điểm trừ của các đơn vị liên quan, Sở Nội vụ tổng hợp, dự kiến xếp loại mức độ "
                    "hoàn thành nhiệm vụ năm 2020 của 61 cơ quan, đơn vị, gồm: 20 sở, ngành và tương đương; "
                    "27 UBND huyện, thị xã, thành phố và 14 đơn vị sự nghiệp công lập trực thuộc UBND tỉnh, "
                    "cụ thể như sau:")
    # As the seed: no thị xã among the excellent districts, so "UBND huyện, thành phố".
    assert s[1] == ("11 cơ quan, đơn vị dự kiến xếp loại hoàn thành xuất sắc nhiệm vụ gồm: 05 sở, ngành; "
                    "05 UBND huyện, thành phố và 01 đơn vị sự nghiệp công lập.")
    assert s[2] == ("50 cơ quan, đơn vị dự kiến xếp loại hoàn thành tốt nhiệm vụ gồm: 15 sở, ngành; "
                    "22 UBND huyện, thị xã, thành phố và 13 đơn vị sự nghiệp công lập.")


def test_printed_misprints_are_resolved_and_listed(evaluation_2020):
    renamed = evaluation_2020.renamed.set_index("input")["unit_id"]
    assert renamed["TX Bìm Sơn"] == "tx-bim-son"
    assert renamed["Hoàng Hoá"] == "huyen-hoang-hoa"
    assert renamed["Trường CD nghề Công nghiệp"] == "cd-nghe-cong-nghiep"
    # Tone placement and case are not renames.
    assert "Sở Công thương" not in renamed.index
    assert "Trường ĐH Văn hoá, TT&DL" not in renamed.index


def test_ties_share_rank_and_keep_printed_order(evaluation_2020):
    r = evaluation_2020.ranked.set_index("unit_id")
    # Sở Công Thương and Sở Giáo dục và Đào tạo: both 87.6, printed 10 and 11, both rank 10.
    assert r.loc[["so-cong-thuong", "so-giao-duc-dao-tao"], "order"].tolist() == [10, 11]
    assert r.loc[["so-cong-thuong", "so-giao-duc-dao-tao"], "rank"].tolist() == [10, 10]
    # Three districts at 83.5 share rank 18; the next is 21.
    assert r.loc[["tp-sam-son", "huyen-quan-hoa", "huyen-thuong-xuan"], "rank"].tolist() == [18, 18, 18]
    assert r.loc["tx-bim-son", "rank"] == 21


def test_results_do_not_depend_on_row_order(evaluation_2020, tmp_path):
    import shutil

    from evaluation.engine.pipeline import evaluate
    from tests.conftest import ROOT

    shutil.copytree(ROOT / "params", tmp_path / "params")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    scores = tmp_path / "data" / "2020" / "scores.csv"
    lines = scores.read_text(encoding="utf-8").splitlines()
    scores.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")
    shuffled = evaluate(tmp_path / "params" / "2020.yaml").ranked.set_index("unit_id")
    base = evaluation_2020.ranked.set_index("unit_id")
    pd.testing.assert_series_equal(shuffled["tier"].sort_index(), base["tier"].sort_index())
    pd.testing.assert_series_equal(shuffled["rank"].sort_index(), base["rank"].sort_index())


def test_the_seed_copy_is_the_shared_seed():
    from tests.conftest import SEED_COPY, SHARED_SEED

    if not SHARED_SEED.exists():
        import pytest

        pytest.skip("../shared is not beside this clone; the copy in tests/fixtures/seed is used")
    assert SEED_COPY.read_bytes() == SHARED_SEED.read_bytes()
