"""The unit registry: its checks, and matching names from inputs to units."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from evaluation.errors import InputError
from evaluation.inputs import registry as registry_module
from evaluation.inputs.registry import load_registry
from tests.conftest import ROOT

REGISTRY = ROOT / "data" / "units.csv"


@pytest.fixture(scope="module")
def registry():
    return load_registry(REGISTRY, label="data/units.csv")


def match_one(registry, name, year=2020):
    return registry.match(pd.Series([name]), year=year).iloc[0]


def test_registry_holds_the_61_units_of_2020(registry):
    valid = registry.units[registry.valid_in(2020)]
    assert len(valid) == 61
    assert valid["group"].value_counts().to_dict() == {"ubnd_huyen": 27, "so_nganh": 20, "don_vi_su_nghiep": 14}
    assert valid["id"].str.fullmatch(r"[a-z0-9-]+").all()
    kinds = valid.loc[valid["group"] == "ubnd_huyen", "kind"].value_counts().to_dict()
    assert kinds == {"huyện": 23, "thị xã": 2, "thành phố": 2}


@pytest.mark.parametrize(("name", "unit"), [
    ("TX Bìm Sơn", "tx-bim-son"),                 # the seed's misprint, an alias
    ("thị xã Bỉm Sơn", "tx-bim-son"),
    ("Hoàng Hoá", "huyen-hoang-hoa"),             # misprint + old tone placement
    (unicodedata.normalize("NFD", "Hoằng Hóa"), "huyen-hoang-hoa"),
    ("  quan   hoá ", "huyen-quan-hoa"),
    ("Quan\u00a0Hóa", "huyen-quan-hoa"),
    ("QUAN HOÁ", "huyen-quan-hoa"),
    ("Cẩm Thuỷ", "huyen-cam-thuy"),
    ("TP Thanh Hóa", "tp-thanh-hoa"),
    ("Thành phố Thanh Hoá", "tp-thanh-hoa"),
    ("UBND TP Sầm Sơn", "tp-sam-son"),
    ("Ủy ban nhân dân thành phố Sầm Sơn", "tp-sam-son"),
    ("Uỷ ban nhân dân thị xã Nghi Sơn", "tx-nghi-son"),   # old "Uỷ" for "Ủy"
    ("Trường CD nghề Công nghiệp", "cd-nghe-cong-nghiep"),
    ("Trường Cao đẳng nghề Công nghiệp", "cd-nghe-cong-nghiep"),
    ("Trường ĐH Văn hoá, TT&DL", "dh-van-hoa-the-thao-du-lich"),
    ("Trường Đại học Văn hóa, Thể thao và Du lịch", "dh-van-hoa-the-thao-du-lich"),
    ("Sở Lao động, TB và XH", "so-lao-dong-tbxh"),
    ("Sở Lao động - Thương binh và Xã hội", "so-lao-dong-tbxh"),
    ("Sở LĐ-TB&XH", "so-lao-dong-tbxh"),
    ("Sở Nông nghiệp và Phát triển nông thôn", "so-nong-nghiep-ptnt"),
    ("Sở NN và PTNT", "so-nong-nghiep-ptnt"),
    ("Trường CĐ nghề Nông nghiệp và PTNT", "cd-nghe-nong-nghiep-ptnt"),
    ("Sở Kế hoạch và ĐT", "so-ke-hoach-dau-tu"),
    ("Viện Nông nghiệp Thanh Hoá", "vien-nong-nghiep"),
])
def test_names_match_their_unit(registry, name, unit):
    got = match_one(registry, name)
    assert got["unit_id"] == unit, got["problem"]


def test_unknown_name_names_the_closest_candidates(registry):
    got = match_one(registry, "Sở Tài chánh")
    assert pd.isna(got["unit_id"])
    assert "không có trong danh mục" in got["problem"]
    assert "«Sở Tài chính»" in got["problem"]


def test_ambiguous_abbreviation_is_an_error_listing_both(tmp_path):
    # "TT" stands for "trung tâm" and "thông tin": "TT Văn hóa" could be either unit.
    (tmp_path / "abbreviations.csv").write_text(
        (ROOT / "data" / "abbreviations.csv").read_text(encoding="utf-8"), encoding="utf-8")
    path = write(tmp_path, HEADER + "a,Trung tâm Văn hóa,Trung tâm Văn hóa,g,,,,,\n"
                 + "b,Thông tin Văn hóa,Thông tin Văn hóa,g,,,,,\n")
    reg = load_registry(path)
    got = match_one(reg, "TT Văn hóa")
    assert pd.isna(got["unit_id"])
    assert got["problem"] == "tên mơ hồ, có thể là: Trung tâm Văn hóa; Thông tin Văn hóa — hãy ghi tên đầy đủ"
    assert match_one(reg, "Trung tâm VH")["unit_id"] == "a"


def test_abbreviation_with_a_single_meaning_here_matches(registry):
    # "ĐT" is "đầu tư" or "đào tạo", but only one unit reads "Sở GD và ĐT".
    assert match_one(registry, "Sở GD và ĐT")["unit_id"] == "so-giao-duc-dao-tao"


def test_unit_not_valid_in_the_year_is_not_matched(registry):
    got = match_one(registry, "Tĩnh Gia", year=2020)
    assert pd.isna(got["unit_id"])
    assert "không còn hiệu lực trong năm 2020" in got["problem"]
    assert match_one(registry, "Tĩnh Gia", year=2019)["unit_id"] == "huyen-tinh-gia"
    assert pd.isna(match_one(registry, "TX Nghi Sơn", year=2019)["unit_id"])


def test_nghi_son_succeeds_tinh_gia(registry):
    assert registry.units.at["tx-nghi-son", "predecessors"] == ("huyen-tinh-gia",)


def write(tmp_path, text):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "id,name,short_name,group,kind,valid_from,valid_to,predecessors,aliases\n"


def test_two_entries_equal_after_normalisation_are_refused(tmp_path):
    path = write(tmp_path, HEADER
                 + "a,Huyện Quan Hóa,Quan Hóa,g,,,,,\n"
                 + "b,Huyện Quan Hoá,Quan Hoá khác,g,,,,,\n"
                 + "c,Huyện X,X,g,,,,,QUAN  HÓA\n")
    with pytest.raises(InputError) as info:
        load_registry(path, label="units.csv")
    text = str(info.value)
    assert "units.csv, dòng 3, cột «name»: giá trị «Huyện Quan Hoá»" in text
    assert "units.csv, dòng 4, cột «aliases»: giá trị «QUAN HÓA»" in text
    assert "trùng (sau khi chuẩn hóa)" in text


def test_registry_problems_are_all_reported(tmp_path):
    path = write(tmp_path, HEADER
                 + "Bad Id,Tên,Tên,g,,,,,\n"
                 + "a,Tên A,A,,,2021,2020,zzz,\n"
                 + "a,Tên B,B,g,,x,,,\n")
    with pytest.raises(InputError) as info:
        load_registry(path, label="units.csv")
    msgs = [str(p) for p in info.value.problems]
    assert any("dòng 2, cột «id»: giá trị «Bad Id»" in m for m in msgs)
    assert any("dòng 3, cột «group»" in m and "không được để trống" in m for m in msgs)
    assert any("dòng 3, cột «valid_to»" in m for m in msgs)
    assert any("dòng 3, cột «predecessors»: giá trị «zzz»" in m for m in msgs)
    assert any("dòng 4, cột «id»: giá trị «a» — mã đơn vị bị trùng" in m for m in msgs)
    assert any("dòng 4, cột «valid_from»: giá trị «x»" in m for m in msgs)


# -- regressions found by the adversarial tests (issue 6) ---------------------------------


def test_a_name_without_letters_or_digits_is_refused(tmp_path):
    # Was: accepted with an empty matching key, so an input name "???" matched that unit.
    path = write(tmp_path, HEADER + "a,Sở A,A,g,,,,,\nb,---,B,g,,,,,?!\n")
    with pytest.raises(InputError) as info:
        load_registry(path, label="units.csv")
    assert [str(p) for p in info.value.problems] == [
        "units.csv, dòng 3, cột «name»: giá trị «---» — tên phải có chữ hoặc số",
        "units.csv, dòng 3, cột «aliases»: giá trị «?!» — tên phải có chữ hoặc số",
    ]


def test_a_clash_is_reported_on_the_later_row(tmp_path):
    # Was: names were compared column by column, so a later unit's name was taken as the original
    # and the earlier unit's short name was blamed (found by hypothesis).
    path = write(tmp_path, HEADER + "a,Huyện Thọ Xuân,Thọ Xuân,g,,,,,\nb,THỌ XUÂN,Khác,g,,,,,\n")
    with pytest.raises(InputError) as info:
        load_registry(path, label="units.csv")
    assert [str(p) for p in info.value.problems] == [
        "units.csv, dòng 3, cột «name»: giá trị «THỌ XUÂN» — trùng (sau khi chuẩn hóa) với tên «Thọ Xuân» "
        "của đơn vị a (dòng 2); mỗi tên chỉ được thuộc một đơn vị"]


def test_an_empty_registry_is_named_as_the_cause(tmp_path):
    # Was: accepted, so each score row was "not in the registry" (61 messages, the cause unsaid).
    with pytest.raises(InputError) as info:
        load_registry(write(tmp_path, HEADER), label="units.csv")
    assert [str(p) for p in info.value.problems] == [
        "units.csv — danh mục không có đơn vị nào: cần một dòng cho mỗi đơn vị"]


def test_predecessor_chains_that_loop_are_refused(tmp_path):
    # a ← b ← c ← a is a loop of three; d is its own predecessor; e descends from the loop but
    # is not in it; f ← a|g is fine apart from reaching the loop.
    path = write(tmp_path, HEADER
                 + "a,Sở A,A,g,,,,c,\n"
                 + "b,Sở B,B,g,,,,a,\n"
                 + "c,Sở C,C,g,,,,b,\n"
                 + "d,Sở D,D,g,,,,d,\n"
                 + "e,Sở E,E,g,,,,b,\n"
                 + "f,Sở F,F,g,,,,a|g,\n"
                 + "g,Sở G,G,g,,,,,\n")
    with pytest.raises(InputError) as info:
        load_registry(path, label="units.csv")
    loops = [p for p in info.value.problems if "quay vòng" in p.expected]
    assert [(p.row, p.value) for p in loops] == [(2, "c"), (3, "a"), (4, "b"), (5, "d")]
    assert "đơn vị a thành tiền thân của chính nó" in loops[0].expected


def test_a_chain_without_a_loop_is_accepted(tmp_path):
    path = write(tmp_path, HEADER + "a,Sở A,A,g,,,,,\nb,Sở B,B,g,,,,a,\nc,Sở C,C,g,,,,a|b,\n")
    assert load_registry(path, label="units.csv").units.at["c", "predecessors"] == ("a", "b")


def test_suggestions_in_a_registry_of_national_size_find_a_name_written_without_marks(tmp_path):
    # Beyond a province's size only the names sharing the rarest words are compared; a name typed
    # without diacritics still shares them ("phuoc" = "Phước").
    words = ["Hòa", "Bình", "An", "Phú", "Tân", "Long", "Xuân", "Đông", "Hưng", "Phước"]
    rows = [f"u{i},Xã {words[i % 10]} {words[i // 10 % 10]} {words[i // 100 % 10]} {i},"
            f"Xã {words[i % 10]} {words[i // 10 % 10]} {words[i // 100 % 10]} {i},g,,,,," for i in range(4000)]
    registry = load_registry(write(tmp_path, HEADER + "\n".join(rows) + "\n"), label="units.csv")
    assert len(registry.exact) > registry_module._COMPARE_ALL
    # unit 1239: words[9], words[3], words[2] = Phước Phú An
    problem = registry.match(pd.Series(["Xa Phuoc Phu An 1239"])).at[0, "problem"]
    assert problem.startswith("không có trong danh mục đơn vị; gần nhất: «Xã Phước Phú An 1239»")


def test_only_the_first_unknown_names_get_suggestions(registry, monkeypatch):
    monkeypatch.setattr(registry_module, "SUGGESTED_NAMES", 2)
    names = pd.Series(["Sở Tài chánh", "Sở Tài chánh", "Sở Nội vũ", "Sở Tư phám", "Sở Tài chính"])
    out = registry.match(names)
    assert out["problem"].iloc[:3].str.contains("gần nhất: «Sở").all()  # two distinct names, three rows
    assert out.at[3, "problem"] == "không có trong danh mục đơn vị"
    assert pd.isna(out.at[4, "problem"]) and out.at[4, "unit_id"] == "so-tai-chinh"


# -- the registry across the 2025 reform (issue 14) ------------------------------------------

FULL = "id,name,short_name,group,kind,valid_from,valid_to,predecessors,aliases,succession,illustrative,source\n"


def test_the_merged_departments_and_the_dissolved_districts(registry):
    units = registry.units
    assert units.at["so-nong-nghiep-moi-truong", "predecessors"] == ("so-nong-nghiep-ptnt", "so-tai-nguyen-moi-truong")
    assert units.at["so-nong-nghiep-moi-truong", "valid_from_text"] == "01/03/2025"
    for keep, absorbed in [("so-tai-chinh", "so-ke-hoach-dau-tu"), ("so-xay-dung", "so-giao-thong-van-tai"),
                           ("so-khoa-hoc-cong-nghe", "so-thong-tin-truyen-thong"), ("so-noi-vu", "so-lao-dong-tbxh")]:
        assert units.at[keep, "predecessors"] == (absorbed,)
        assert units.at[absorbed, "valid_to_text"] == "28/02/2025"
    # 20 departments in 2020 and 2024, five fewer from 2025 (a unit is in a year when it exists on 31/12).
    so = units["group"] == "so_nganh"
    assert [int((so & registry.valid_in(y)).sum()) for y in (2020, 2024, 2025, 2026)] == [20, 20, 15, 15]
    districts = units["group"] == "ubnd_huyen"
    assert int((districts & registry.valid_in(2024)).sum()) == 27 and not (districts & registry.valid_in(2025)).any()
    communes = units[units["group"] == "ubnd_xa"]
    assert set(communes["succession"]) == {"area"} and not communes["illustrative"].any()
    assert communes["source"].str.contains("1686/NQ-UBTVQH15").all()
    assert not units["illustrative"].any(), "the real registry holds no illustrative name"


def test_validity_takes_a_year_or_a_date(tmp_path):
    reg = load_registry(write(tmp_path, FULL + "a,A,A,g,,01/03/2025,,,,,,\n" + "b,B,B,g,,,2025-06-30,,,,,\n"
                              + "c,C,C,g,,2020,31/12/2025,,,,,\n"))
    assert reg.valid_in(2025).to_dict() == {"a": True, "b": False, "c": True}
    assert reg.valid_in(2024).to_dict() == {"a": False, "b": True, "c": True}
    got = match_one(reg, "B", year=2025)
    assert "không còn hiệu lực trong năm 2025 (hiệu lực –2025-06-30)" in got["problem"]


@pytest.mark.parametrize(("rows", "expected"), [
    # A successor that starts before its predecessor ended: both would be evaluated that year.
    ("a,A,A,g,,,30/06/2025,,,,,\nb,B,B,g,,01/06/2025,,a,,,,\n",
     "dòng 3, cột «valid_from»: giá trị «01/06/2025» — đơn vị bắt đầu trước khi đơn vị tiền thân a kết thúc"),
    # A unit whose area passed to others must have ended.
    ("a,A,A,g,,,,,,,,\nb,B,B,g,,01/07/2025,,a,,area,,\n",
     "dòng 3, cột «predecessors»: giá trị «a» — đơn vị a giải thể (địa bàn chuyển sang đơn vị này) nên phải có ngày kết thúc"),
    ("a,A,A,g,,,,,,area,,\n", "dòng 2, cột «succession»: giá trị «area» — «area» cần cột predecessors"),
    ("a,A,A,g,,,,,,merge,,\n", "dòng 2, cột «succession»: giá trị «merge» — để trống"),
    ("a,A,A,g,,,,,,,maybe,\n", "dòng 2, cột «illustrative»: giá trị «maybe»"),
    ("a,A,A,g,,31/02/2025,,,,,,\n", "dòng 2, cột «valid_from»: giá trị «31/02/2025» — năm (ví dụ 2020) hoặc ngày"),
    ("a,A,A,g,,01/07/2025,30/06/2025,,,,,\n", "dòng 2, cột «valid_to»: giá trị «30/06/2025» — ngày kết thúc"),
], ids=["starts-early", "area-not-ended", "area-alone", "succession-word", "illustrative-word", "no-such-day",
        "ends-before-start"])
def test_impossible_dates_and_links_are_refused(tmp_path, rows, expected):
    with pytest.raises(InputError) as info:
        load_registry(write(tmp_path, FULL + rows), label="units.csv")
    assert any(expected in str(p) for p in info.value.problems), [str(p) for p in info.value.problems]


def test_several_files_are_one_registry_and_say_which_file(tmp_path):
    real = write(tmp_path, FULL + "a,A,A,g,,,30/06/2025,,,,,\n")
    extra = tmp_path / "more.csv"
    extra.write_text(FULL + "b,Xã B,xã B,x,xã,01/07/2025,,a,,area,có,tên minh họa\n"
                     + "a,Lại A,A2,g,,,,,,,,\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_registry([real, extra], label=["units.csv", "more.csv"])
    assert [str(p) for p in info.value.problems] == [
        "more.csv, dòng 3, cột «id»: giá trị «a» — mã đơn vị bị trùng với units.csv dòng 2"]
    extra.write_text(FULL + "b,Xã B,xã B,x,xã,01/07/2025,,a,,area,có,tên minh họa\n", encoding="utf-8")
    reg = load_registry([real, extra], label=["units.csv", "more.csv"])
    assert reg.units["_file"].to_dict() == {"a": "units.csv", "b": "more.csv"}
    assert reg.units["illustrative"].to_dict() == {"a": False, "b": True}


def test_an_unknown_column_is_refused_not_dropped(tmp_path):
    with pytest.raises(InputError, match="cột không được biết đến"):
        load_registry(write(tmp_path, HEADER.strip() + ",valid\n" + "a,A,A,g,,,,,,x\n"), label="units.csv")
