"""The report's section «Độ tin cậy của kết quả xếp loại»: what it says for each kind of year, escaped text."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from evaluation.engine.sensitivity import analyse
from evaluation.inputs.rules import Uncertainty, VaryTierMin
from evaluation.report.present_sensitivity import reliability


def test_a_year_without_a_declaration_says_so(evaluation_2020):
    ev = dataclasses.replace(evaluation_2020, inputs=dataclasses.replace(evaluation_2020.inputs, uncertainty=None))
    html = reliability(ev)
    assert "chưa khai báo giá trị nào chưa chắc chắn" in html and "<table" not in html


def test_2020_keeps_every_tier_and_says_what_does_not_apply(evaluation_2020):
    html = reliability(evaluation_2020)
    assert "<strong>61/61</strong> cơ quan, đơn vị giữ nguyên kết quả xếp loại" in html
    assert "không đơn vị nào đổi xếp loại trong hơn 5% kịch bản" in html
    # The detailed declarations are named as not applicable, with why.
    assert "Không áp dụng cho năm này (năm chỉ có điểm cuối cùng đã công bố" in html
    assert "Điểm tối đa tiêu chí KTXH" in html and "Mẫu phiếu doanh nghiệp và các cơ quan" in html
    assert "Ngưỡng «Xuất sắc»</td><td>từ 88,7 đến 90 điểm</td>" in html
    assert "nên không có biểu đồ khoảng thứ hạng" in html
    # No key names or code values in the body.
    for code in ("tier_min", "criterion_max", "xuat_sac", "vary[", "uncertainty"):
        assert code not in html, code


def test_unstable_units_with_their_shares_rank_interval_and_driver(evaluation_2020):
    bound = VaryTierMin(kind="tier_min", tier="xuat_sac", min=Decimal("89.5"), max=Decimal("90.5"),
                        note="Thử <b>ngưỡng</b>")
    s = analyse(evaluation_2020, Uncertainty(name="thử", draws=1100, seed=1, vary=[bound]))
    html = reliability(evaluation_2020, s)
    assert f"<strong>{s.stable}/61</strong>" in html and f"{61 - s.stable} đơn vị dưới đây có thể đổi xếp loại" in html
    row = html[html.index("<tr><td>Trường ĐH Văn hóa, TT&amp;DL</td>"):]
    row = row[:row.index("</tr>")]
    # 90,0 with the bound from 89,5 to 90,5: xuất sắc in 6/11 of the scenarios (54,5 %), tốt in 5/11.
    assert "Xuất sắc</span> 54,5%" in row and "Tốt</span> 45,5%" in row
    assert "<td class=num>1 (1)</td>" in row or "(1)</td>" in row
    assert "Ngưỡng «Xuất sắc» (45,5%)" in row
    # Text from the declaration is text.
    assert "Thử &lt;b&gt;ngưỡng&lt;/b&gt;" in html and "<b>ngưỡng" not in html


def test_names_from_the_data_are_escaped(evaluation_2020):
    hostile = "<script>alert(1)</script>"
    ranked = evaluation_2020.ranked.assign(unit=lambda t: t["unit"].where(t["score"] != 90.0, hostile))
    ev = dataclasses.replace(evaluation_2020, ranked=ranked)
    bound = VaryTierMin(kind="tier_min", tier="xuat_sac", min=Decimal("89.5"), max=Decimal("90.5"))
    html = reliability(ev, analyse(ev, Uncertainty(name="thử", draws=110, vary=[bound])))
    assert hostile not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_year_given_per_quarter_says_what_varies_and_what_cannot():
    from evaluation.engine.pipeline import evaluate
    from tests.conftest import ROOT

    ev = evaluate(ROOT / "params" / "example-2026.yaml")
    html = reliability(ev)
    assert "<strong>195/195</strong> cơ quan, đơn vị giữ nguyên kết quả xếp loại" in html
    assert "Cách làm tròn điểm đánh giá</td><td>bỏ phần lẻ; làm tròn (từ 5 trở lên làm tròn lên)" in html
    assert ("Năm này chỉ có điểm theo kỳ, tổng hợp thành điểm năm theo quy định (cách tổng hợp giữ nguyên trong "
            "mọi kịch bản), nên chỉ cách làm tròn điểm công bố và ngưỡng xếp loại có thể thay đổi") in html
    # Ranks follow the tier first under Nghị định 335, and the column is the rules' heading.
    assert "theo mức xếp loại trước rồi đến điểm" in html
    for code in ("rounding", "half_up", "ubnd_xa", "periods", "uncertainty"):
        assert code not in html, code


# -- the finding in the body's "Đánh giá chung" -------------------------------------------------------


def test_the_body_says_how_many_units_keep_their_tier_in_plain_words(evaluation_2020):
    from evaluation.report.present_sensitivity import analysis, statement

    s = analysis(evaluation_2020)
    assert statement(evaluation_2020, s) == [
        "Khi cho các giá trị chưa chắc chắn (cách làm tròn điểm đánh giá và ngưỡng điểm của mức xếp loại) thay "
        "đổi trong phạm vi có thể và tính lại điểm, xếp loại trong 1.000 kịch bản, 61/61 cơ quan, đơn vị giữ "
        "nguyên mức xếp loại ở ít nhất 95% số kịch bản (chi tiết tại Phụ lục, phần «Độ tin cậy của kết quả "
        "xếp loại»)."]
    # Nothing declared, or nothing declared that applies: nothing to say in the body (the annex says why).
    ev = dataclasses.replace(evaluation_2020, inputs=dataclasses.replace(evaluation_2020.inputs, uncertainty=None))
    assert analysis(ev) is None and statement(ev, None) == []
    assert statement(evaluation_2020, analyse(evaluation_2020, Uncertainty(name="thử", draws=10))) == []


def test_the_body_names_the_unstable_units_with_the_share_that_keeps_their_tier(evaluation_2020):
    from evaluation.report.present_sensitivity import statement

    bound = VaryTierMin(kind="tier_min", tier="xuat_sac", min=Decimal("89.5"), max=Decimal("90.5"))
    s = analyse(evaluation_2020, Uncertainty(name="thử", draws=1100, seed=1, vary=[bound]))
    [text] = statement(evaluation_2020, s)
    assert f"{s.stable}/61 cơ quan, đơn vị giữ nguyên mức xếp loại" in text
    assert f"; {61 - s.stable} cơ quan, đơn vị có thể đổi mức xếp loại (tỷ lệ kịch bản giữ nguyên mức): " in text
    # 90,0 with the bound from 89,5 to 90,5: «xuất sắc» (its published tier) in 6 of the 11 bounds.
    assert "Trường ĐH Văn hóa, TT&DL 54,5%" in text
    for code in ("tier_min", "xuat_sac", "vary", "uncertainty", ".yaml", "Ngưỡng «"):
        assert code not in text, code
