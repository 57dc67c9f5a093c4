"""The yearly report's text for the 2026 regime, checked against numbers worked out by hand from the
illustrative year's input files (not from the engine's tables): the quota as applied, group by group;
the units placed by a condition; the periods; the changes of organisation; no bonus or penalty
sentence where the regime has none."""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal
from html import unescape

import pytest

from evaluation.engine.pipeline import evaluate
from evaluation.report import present
from evaluation.report.export import results_table
from tests.conftest import FIXTURES, ROOT

DATA = ROOT / "data" / "example-2026"


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture(scope="module")
def ev():
    return evaluate(ROOT / "params" / "example-2026.yaml")


@pytest.fixture(scope="module")
def by_hand():
    """Each unit's year score from periods.csv: the mean of its quarters, one decimal, cut (not rounded)."""
    quarters = defaultdict(list)
    selfs = defaultdict(list)
    with (DATA / "periods.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            quarters[row["Đơn vị"]].append(Decimal(row["Điểm đánh giá"].replace(",", ".")))
            selfs[row["Đơn vị"]].append(Decimal(row["Điểm tự chấm"].replace(",", ".")))
    with (DATA / "conditions.csv").open(encoding="utf-8") as f:
        overridden = {row["Đơn vị"] for row in csv.DictReader(f)}
    score = {u: (sum(q) / len(q)).quantize(Decimal("0.1"), rounding=ROUND_DOWN) for u, q in quarters.items()}
    self_score = {u: sum(q) / len(q) for u, q in selfs.items()}
    return score, self_score, overridden


def test_the_quota_paragraph_of_the_communes_says_what_was_done_with_numbers_worked_by_hand(ev, by_hand):
    score, self_score, overridden = by_hand
    communes = {u: s for u, s in score.items() if u.startswith(("xã ", "phường ")) and u not in overridden}
    good = sum(70 <= s < 90 for s in communes.values())
    top = sorted((u for u, s in communes.items() if s >= 90), key=lambda u: -communes[u])
    limit = math.floor(Decimal("0.2") * good)
    assert (good, len(top), limit) == (112, 49, 22)
    # The 22nd and 23rd best share 94,0: four communes at 94,0 span places 20–23; the smaller gap
    # (self score − score) is kept, so the one with the largest gap is moved down.
    tied = sorted((u for u in top if communes[u] == Decimal("94.0")), key=lambda u: self_score[u] - communes[u])
    assert len(tied) == 4 and sum(communes[u] > Decimal("94.0") for u in top) == 19
    kept, moved_at_tie = tied[:3], tied[3:]
    assert moved_at_tie == ["xã Yên Định 01"]
    moved = [u for u in top if communes[u] < Decimal("94.0")] + moved_at_tie

    lines = {line["where"]: line["text"] for line in present._quota_lines(ev)}
    assert list(lines) == ["Nhóm I. Các sở, cơ quan ngang sở", "Nhóm II. Đơn vị sự nghiệp", "Nhóm III. UBND cấp xã"]
    text = lines["Nhóm III. UBND cấp xã"]
    assert (f"trước khi áp dụng hạn mức có {good} đơn vị đạt mức hoàn thành tốt nhiệm vụ, nên số đơn vị xếp loại "
            f"hoàn thành xuất sắc nhiệm vụ tối đa là 20% × {good} = 22,4, làm tròn xuống còn {limit}") in text
    assert f"có {len(top)} đơn vị đủ điểm xếp loại hoàn thành xuất sắc nhiệm vụ (không tính 1 đơn vị" in text
    assert f"giữ {limit} đơn vị điểm cao nhất, hạ {len(top) - limit} đơn vị xuống mức hoàn thành tốt nhiệm vụ" in text
    # Named in the order they were moved down, lowest first, each with its published score.
    listed = re.findall(r"((?:xã|phường) [^,(]+?) \((\d+,\d)\)", text.split("lần lượt từ điểm thấp nhất:")[1]
                        .split(". Ở giới hạn")[0])
    assert sorted(u for u, _ in listed) == sorted(moved) and len(listed) == 27
    assert [Decimal(v.replace(",", ".")) for _, v in listed] == sorted(communes[u] for u in moved)
    assert "Ở giới hạn có 4 đơn vị cùng 94,0 điểm" in text
    assert ("Được giữ: xã Đông Sơn 03 (chênh lệch 1,50), phường Nghi Sơn 05 (chênh lệch 2,12), xã Yên Định 03 "
            "(chênh lệch 2,38); bị hạ: xã Yên Định 01 (chênh lệch 2,88).") in text
    assert kept == ["xã Đông Sơn 03", "phường Nghi Sơn 05", "xã Yên Định 03"]
    # What is printed adds up: kept + moved = in the tier; the counts after are the count table's.
    assert f"Sau khi áp dụng hạn mức: {limit} đơn vị hoàn thành xuất sắc nhiệm vụ, {good + len(top) - limit} đơn vị " \
           "hoàn thành tốt nhiệm vụ." in text
    assert ev.counts.loc["xuat_sac", "ubnd_xa"] == limit and ev.counts.loc["tot", "ubnd_xa"] == good + 27


def test_the_quota_is_said_in_the_body_in_plain_words(ev):
    text = _text(present.tier_changes(ev))
    assert text.startswith("Áp dụng hạn mức: số đơn vị xếp loại hoàn thành xuất sắc nhiệm vụ không quá 20% số đơn "
                           "vị xếp loại hoàn thành tốt nhiệm vụ trong từng nhóm")
    # Group I: 10 «tốt», 20 % × 10 = 2 exactly (no rounding said); Sở Y tế and Thanh tra tỉnh at 90,0 moved.
    assert "20% × 10 = 2;" in text and "Sở Y tế (90,0), Thanh tra tỉnh (90,0)" in text
    # No tier id, no key of the rules file.
    for code in ("xuat_sac", "khong_hoan_thanh", "ubnd_xa", "demote_all", "floor", "tie_rule"):
        assert code not in text


def test_units_placed_by_a_condition_are_named_with_the_reason_whatever_their_score(ev, by_hand):
    score, _, _ = by_hand
    text = _text(present.tier_changes(ev))
    said = text.split("Xếp loại không hoàn thành nhiệm vụ bất kể điểm đánh giá (đánh dấu † trong bảng):")[1]
    # In the report's order (group, then table order), each with its score and its condition.
    assert said.strip() == (
        f"Sở Tài chính ({str(score['Sở Tài chính']).replace('.', ',')} điểm): bị xử lý kỷ luật từ khiển trách trở "
        "lên trong năm; xã Nga Sơn 05 (94,0 điểm): để xảy ra tham nhũng, lãng phí tại cơ quan, đơn vị do người "
        "đứng đầu trực tiếp quản lý; xã Hà Trung 01 (82,3 điểm): có biểu hiện suy thoái về tư tưởng chính trị, "
        "đạo đức, lối sống.")
    assert score["Sở Tài chính"] >= 90   # scored «xuất sắc», placed «không hoàn thành»


def test_the_166_communes_stay_one_table_with_its_header_on_every_page(ev):
    html = present.group_tables(ev)
    tables = re.findall(r"<table class=\"([^\"]+)\">(.*?)</table>", html, flags=re.S)
    assert [cls for cls, _ in tables] == ["results fixed", "results fixed", "results compact fixed"]
    communes = tables[2][1]
    # One header, in <thead> (repeated on every printed page by the stylesheet), then 166 rows.
    assert communes.count("<thead>") == 1 and communes.index("<thead>") < communes.index("<tbody>")
    assert communes.count("<tr>") == 1 + 166
    css = (ROOT / "evaluation" / "report" / "templates" / "report" / "static" / "report.css").read_text()
    assert "thead { display: table-header-group; }" in css
    assert "table.results .tier { white-space: nowrap; }" in css          # the tier label never wraps
    assert re.search(r"table\.compact th, table\.compact td \{ padding: 0 0\.25rem;", css)
    # Marks: * moved down by the quota (27 communes), † placed by a condition (2 communes).
    assert communes.count("<sup>*</sup>") == 27 and communes.count("<sup>†</sup>") == 2


def test_no_bonus_or_penalty_sentence_where_the_regime_has_none(ev):
    assert ev.rules.scale.adjustment_max == 0
    assert present.adjustments_content(ev) == ""
    body = " ".join(_text(f) for f in (present.method(ev), present.summary(ev), present.group_tables(ev),
                                        present.tier_changes(ev), present.near_bound_table(ev, 1.0)))
    assert "thưởng" not in body and "điểm trừ" not in body
    assert _text(present.summary(ev)).startswith("2. Kết quả đánh giá, xếp loại chất lượng năm 2026")
    assert "Hạng: thứ hạng trong nhóm theo mức xếp loại rồi theo điểm đánh giá" in body


def test_the_method_states_the_periods_rule_and_the_groups_not_evaluated(ev):
    text = _text(present.method(ev))
    assert ("Điểm đánh giá của năm là trung bình cộng điểm các kỳ (Quý I, Quý II, Quý III, Quý IV); cơ quan, đơn "
            "vị thiếu điểm kỳ nào thì được tính trên các kỳ có điểm (ít nhất 3/4 kỳ) và được nêu tên ở phụ lục.") in text
    assert "Không đánh giá UBND cấp huyện: không tổ chức cấp huyện từ 01/07/2025" in text
    assert text.count("trung bình") == 1   # said once, from the rules' periods


def test_units_missing_a_period_are_flagged_in_the_annex_and_in_the_results(ev, by_hand):
    text = _text(present.period_flags(ev))
    assert "Ban quản lý dự án ĐT xây dựng các công trình dân dụng và công nghiệp II 92,3 chấm trên 3/4 kỳ (thiếu: " \
           "Quý I)" in text
    assert "xã Pù Nhi III 80,8 chấm trên 3/4 kỳ (thiếu: Quý IV)" in text
    table = results_table(ev).set_index("Mã đơn vị")
    assert table.at["xa-pu-nhi", "Số kỳ có điểm"] == 3 and table.at["xa-pu-nhi", "Ghi chú kỳ"].endswith("Quý IV)")
    assert (table["Ghi chú kỳ"] != "").sum() == 2 and (table["Số kỳ có điểm"] == 4).sum() == len(table) - 2


def test_the_annex_lists_the_changes_of_organisation_with_dates_and_predecessors(ev):
    text = _text(present.organisation(ev))
    assert "Các đơn vị hợp nhất Đơn vị sau hợp nhất Hiệu lực từ 2 đơn vị: Sở Nông nghiệp và PTNT, Sở Tài nguyên " \
           "và Môi trường Sở Nông nghiệp và Môi trường 01/03/2025" in text
    # A unit merged into one that continues: effective the day after its last day (28/02/2025).
    assert "Sở Kế hoạch và Đầu tư Sở Tài chính 01/03/2025" in text
    assert "Ban Dân tộc Sở Dân tộc và Tôn giáo 01/03/2025" in text
    # Each district dissolved, the communes formed on its area, the illustrative names said so.
    assert ("Ủy ban nhân dân huyện Mường Lát 6 đơn vị: xã Pù Nhi và 5 đơn vị tên minh họa: xã Mường Lát 01, "
            "xã Mường Lát 02, xã Mường Lát 03, xã Mường Lát 04, xã Mường Lát 05 01/07/2025") in text
    assert text.count("01/07/2025 ") + text.endswith("01/07/2025") >= 27
    assert "Nghị quyết 203/2025/QH15: không tổ chức cấp huyện từ 01/07/2025" in text


def test_a_change_in_force_all_the_previous_year_is_not_listed_again():
    # Tĩnh Gia → thị xã Nghi Sơn from 1 January 2020: said in 2020's annex, not in 2021's.
    from evaluation.inputs.registry import organisation_changes

    ev = evaluate(ROOT / "params" / "2020.yaml")
    changes = organisation_changes(ev.registry, 2019, 2020)
    assert changes[["kind", "before", "after", "date"]].values.tolist() == [
        ["renamed", ("huyen-tinh-gia",), ("tx-nghi-son",), "2020"]]
    # Its registry row also carries its end in 2025: that source is not this change's.
    assert changes.at[0, "sources"] == ()
    assert organisation_changes(ev.registry, 2020, 2021).empty


def test_another_province_quota_with_a_tie_kept_whole_is_said_over_its_limit():
    ev = evaluate(FIXTURES / "years" / "province-b" / "params" / "2031.yaml")
    lines = {line["where"]: line["text"] for line in present._quota_lines(ev)}
    text = lines["Nhóm B. Khối xã, phường"]
    assert "tối đa là 25% × 4 = 1;" in text and "có 2 đơn vị đủ điểm xếp loại xuất sắc, nhiều hơn hạn mức 1." in text
    assert "Ở giới hạn có 2 đơn vị cùng 91,00 điểm; theo quy định về bằng điểm: các đơn vị bằng điểm đều được giữ." \
        in text
    assert text.endswith("Vì vậy nhóm có 2 đơn vị xếp loại xuất sắc, nhiều hơn hạn mức 1.")


def test_the_results_open_by_saying_which_units_are_evaluated_as_reorganised(ev, evaluation_2020):
    text = _text(present.summary(ev))
    assert ("So với năm 2025, tổ chức các cơ quan, đơn vị được đánh giá đã thay đổi: 5 cơ quan, đơn vị sau hợp "
            "nhất, sáp nhập từ 01/03/2025 (Sở Nông nghiệp và Môi trường, Sở Tài chính, Sở Khoa học và Công nghệ, "
            "Sở Nội vụ, Sở Xây dựng); 166 UBND xã, phường thành lập từ 01/07/2025 trên địa bàn 27 UBND cấp huyện đã "
            "giải thể (chi tiết ở phụ lục).") in text
    # 2020: a district renamed the same year is said in the annex only; the body is the seed's.
    assert "So với năm" not in present.summary(evaluation_2020)
