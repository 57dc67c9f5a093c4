"""The illustrative year's report: built with the same command as 2020, detailed sections present,
"Dữ liệu minh họa" on every page and in every CSV, one score card per unit."""

from __future__ import annotations

import csv
import io
import re
from html import escape

import pytest

from evaluation.cli import main
from evaluation.report import plot_detail, present_collect, present_detail
from evaluation.report.build import EXPECTED_FILES
from tests.conftest import ROOT

YEAR = "example-2021"
ILLUSTRATIVE = "Dữ liệu minh họa"


def test_totals_only_years_get_no_detailed_section(evaluation_2020, tmp_path):
    for make in (present_detail.method, present_detail.components, present_detail.bodies, present_detail.surveys,
                 present_detail.adjustments, present_detail.criteria_chart_intro, present_detail.notes,
                 present_detail.score_cards):
        assert make(evaluation_2020) == ""
    assert present_detail.criterion_gaps_table(evaluation_2020, 10) == ""
    assert present_collect.evidence(evaluation_2020) == "" and present_collect.status_board(evaluation_2020) == ""
    assert plot_detail.draw(evaluation_2020, "criteria", tmp_path) == []
    assert not list(tmp_path.iterdir())


def test_charts_of_an_illustrative_year_are_stamped(tmp_path):
    import matplotlib.pyplot as plt

    from evaluation.report.plot import save_figure

    fig, ax = plt.subplots()
    save_figure(fig, tmp_path, "x", stamp=ILLUSTRATIVE)
    assert [t.get_text() for t in fig.texts] == ["DỮ LIỆU MINH HỌA"]
    plain, _ = plt.subplots()
    save_figure(plain, tmp_path, "y")
    assert plain.texts == []


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    status = main(["--params-dir", str(ROOT / "params"), "report", "--year", YEAR, "--out", str(out)])
    assert status == 0
    return out / YEAR


@pytest.fixture(scope="module")
def html(built) -> str:
    return (built / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_files(built):
    for name in (*EXPECTED_FILES, "results-criteria.csv", "results-adjustments.csv", "results-caps.csv"):
        assert (built / name).exists(), name
    svgs = sorted(p.name for p in (built / "figures").glob("*.svg"))
    assert {"diem-theo-tieu-chi-so_nganh.svg", "diem-theo-tieu-chi-ubnd_huyen.svg",
            "diem-theo-tieu-chi-don_vi_su_nghiep.svg", "phan-bo-tra-loi.svg", "khoang-thu-hang-so_nganh.svg",
            "khoang-thu-hang-ubnd_huyen.svg", "khoang-thu-hang-don_vi_su_nghiep.svg"} <= set(svgs)


@pytest.mark.slow
def test_every_pdf_page_says_illustrative(built):
    from pypdf import PdfReader

    pages = PdfReader(built / "report.pdf").pages
    texts = [" ".join(p.extract_text().split()).lower() for p in pages]
    missing = [i + 1 for i, t in enumerate(texts) if ILLUSTRATIVE.lower() not in t]
    assert missing == []
    assert len(pages) < 70, "score cards must stay compact"
    assert "phụ lục. phiếu điểm từng cơ quan, đơn vị" in " ".join(texts)


@pytest.mark.slow
def test_every_csv_says_illustrative_and_records_the_caps(built):
    for name in ("results.csv", "results-criteria.csv", "results-adjustments.csv", "results-caps.csv"):
        rows = list(csv.DictReader(io.StringIO((built / name).read_bytes().decode("utf-8-sig"))))
        assert rows and all(r["Dữ liệu"] == ILLUSTRATIVE for r in rows), name
    results = {r["Mã đơn vị"]: r for r in csv.DictReader(io.StringIO(
        (built / "results.csv").read_bytes().decode("utf-8-sig")))}
    assert len(results) == 61
    assert "±10" in results["huyen-tho-xuan"]["Giới hạn đã áp dụng (điểm bị loại)"]
    assert float(results["huyen-quan-son"]["Điều chỉnh (sau giới hạn)"]) == -10.0
    assert "mức tối đa của nội dung (TH02)" in results["so-ke-hoach-dau-tu"]["Giới hạn đã áp dụng (điểm bị loại)"]
    caps = list(csv.DictReader(io.StringIO((built / "results-caps.csv").read_bytes().decode("utf-8-sig"))))
    assert {r["Giới hạn"] for r in caps} >= {"mức tối đa mỗi lần", "mức tối đa của nội dung",
                                              "giới hạn thưởng − trừ trong ±10 điểm"}


@pytest.mark.slow
def test_html_has_the_detailed_sections_and_a_card_per_unit(html):
    for heading in ("Bộ tiêu chí và điểm tối đa", "3.1. Thành phần điểm", "3.2. Điểm theo cơ quan thẩm định",
                    "3.3. Phiếu đánh giá", "3.4. Điểm thưởng, điểm trừ và các giới hạn đã áp dụng",
                    "4.3. Điểm thẩm định theo tiêu chí", "5.1. Chênh lệch theo tiêu chí",
                    "5.2. Chênh lệch theo cơ quan thẩm định", "5.3. Tiêu chí tự chấm không có minh chứng"):
        assert heading in html, heading
    # The criteria self-scored without evidence, each with the explanation the unit gave.
    assert "05 tiêu chí của 05 cơ quan, đơn vị được tự chấm (tổng 105,0 điểm) mà không có minh chứng" in html
    assert "Hồ sơ lưu tại các phòng chuyên môn, chưa tổng hợp" in html
    assert "TÌNH HÌNH NỘP BIỂU MẪU" not in html and "Nguồn: tự chấm" not in html   # not collected from forms
    assert html.count('<section class="scorecard">') == 61
    assert "thiếu minh chứng" in html and "không áp dụng, quy đổi" in html
    assert "dưới mức tối thiểu 10 phiếu" in html      # Sở Ngoại vụ's district forms
    # Survey points with their sampling interval (each unit's forms resampled), on the cards.
    assert re.search(r"27 phiếu, TB [\d,]+/5 → [\d,]+ điểm \(khoảng 95%: [\d,]+–[\d,]+\)", html)


@pytest.mark.slow
def test_html_says_how_sure_each_tier_is(html):
    from evaluation.engine.pipeline import evaluate
    from evaluation.engine.sensitivity import analyse

    s = analyse(evaluate(ROOT / "params" / f"{YEAR}.yaml"))
    assert "7. Độ tin cậy của kết quả xếp loại" in html and "8. Ghi chú" in html and "9. Nguồn gốc số liệu" in html
    assert f"<strong>{s.stable}/61</strong> cơ quan, đơn vị giữ nguyên kết quả xếp loại" in html
    section = html[html.index("7. Độ tin cậy"):html.index("8. Ghi chú")]
    for unit in s.unstable["unit"]:
        assert escape(unit, quote=False) in section, unit
    assert section.count("data:image/svg") == 3        # one rank-interval chart per group
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
