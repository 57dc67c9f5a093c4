"""The illustrative year's report: built with the same command as 2020, detailed sections present,
"Dữ liệu minh họa" on every page and in every CSV, one score card per unit."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
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
    assert "phiếu điểm từng cơ quan, đơn vị" in " ".join(texts)


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
                    "Điểm thẩm định theo tiêu chí", "Chênh lệch theo tiêu chí", "4. Đánh giá chung", "PHỤ LỤC",
                    "Chênh lệch theo cơ quan thẩm định", "Tiêu chí tự chấm không có minh chứng"):
        assert heading in html, heading
    # The criteria self-scored without evidence, each with the explanation the unit gave.
    assert "5 tiêu chí của 5 cơ quan, đơn vị được tự chấm (tổng 105,00 điểm) mà không có minh chứng" in html
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
    assert 0 < s.stable < 61
    body, annex = html.split("Nơi nhận:", 1)
    # The body: one finding of "Đánh giá chung", the unstable units named, in plain words.
    general = body[body.index("4. Đánh giá chung"):]
    finding = general[general.index("Khi cho các giá trị chưa chắc chắn"):]
    finding = finding[:finding.index("</li>")]
    assert f"{s.stable}/61 cơ quan, đơn vị giữ nguyên mức xếp loại ở ít nhất 95% số kịch bản" in finding
    assert f"; {61 - s.stable} cơ quan, đơn vị có thể đổi mức xếp loại" in finding
    for unit in s.unstable["unit"]:
        assert escape(unit, quote=False) in finding, unit
    assert "chi tiết tại Phụ lục" in finding
    # The annex: the section itself, after the units near a bound, with one rank-interval chart per group.
    start = annex.index(">Độ tin cậy của kết quả xếp loại<")
    assert annex.index(">Đơn vị sát ngưỡng xếp loại<") < start < annex.index(">Ghi chú về quy định và số liệu<")
    section = annex[start:annex.index(">Ghi chú về quy định và số liệu<")]
    assert f"<strong>{s.stable}/61</strong> cơ quan, đơn vị giữ nguyên kết quả xếp loại" in section
    for unit in s.unstable["unit"]:
        assert escape(unit, quote=False) in section, unit
    assert len(re.findall(r"<figcaption>Hình \d+\. Thứ hạng công bố \(chấm\) và khoảng 95% thứ hạng", section)) == 3
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)


def _num(text: str) -> Decimal:
    """A printed number ("87,19", "−0,50", "2,00 ‡") as an exact decimal."""
    clean = text.replace("\u2212", "-").replace("‡", "").replace(".", "").replace(",", ".").strip()
    return Decimal(re.sub(r"[^0-9.\-]", "", clean))


def _cells(row) -> list[str]:
    return [td.get_text(" ", strip=True) for td in row.find_all("td")]


@pytest.mark.slow
def test_every_score_card_and_table_adds_up_as_printed(html):
    """Printed parts = printed total, on every card and every table, read from the rendered page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    cards = soup.select("section.scorecard")
    assert len(cards) == 61
    sum_re = re.compile(r"thẩm định ([\d,]+) \+ thưởng ([\d,]+) − trừ ([\d,]+)"
                        r"(?: \(thưởng − trừ = ([−\d,]+), giới hạn ±10: ([−\d,]+)\))? = ([−\d,]+)")
    self_re = re.compile(r"tự chấm theo tiêu chí ([\d,]+) \+ điều chỉnh ([−\d,]+) = ([\d,]+)")
    for card in cards:
        title = card.select_one(".card-title").get_text()
        rows = {(cells := _cells(r))[0]: [_num(c) for c in cells[1:]] for r in card.select("table.card-criteria tbody tr")}
        for label, values in rows.items():
            assert sum(values[:-1]) == values[-1], (title, label)
        text = " ".join(card.select_one("p.card-sum").get_text(" ").split())
        appraisal, bonus, penalty, net, bounded, total = sum_re.search(text).groups()
        assert _num(appraisal) == rows["Thẩm định"][-1], title
        adjustment = _num(bounded) if bounded else _num(bonus) - _num(penalty)
        if net:
            assert _num(net) == _num(bonus) - _num(penalty), title
        assert _num(appraisal) + adjustment == _num(total), title
        own, adj, self_score = self_re.search(text).groups()
        assert _num(own) == rows["Tự chấm"][-1] and _num(adj) == adjustment, title
        assert _num(own) + _num(adj) == _num(self_score), title
    # The components tables: bodies add up to the appraisal; appraisal + adjustment = total;
    # bonus − penalty = adjustment unless the ±10 bound bit (‡); published = total cut to 1 decimal.
    rows = soup.select("table.components tbody tr:not(.group-row)")
    assert len(rows) == 61
    for r in rows:
        cells = _cells(r)
        *bodies, appraisal, bonus, penalty, adjustment, total, published = cells[2:]
        assert sum(_num(b) for b in bodies if b) == _num(appraisal), cells[1]
        assert _num(appraisal) + _num(adjustment) == _num(total), cells[1]
        if "‡" not in adjustment:
            assert _num(bonus) - _num(penalty) == _num(adjustment), cells[1]
        assert Decimal(0) <= _num(total) - _num(published) < Decimal("0.1"), cells[1]
    # Units by tier and group: rows and columns add up to their totals.
    table = soup.select_one("table.counts")
    grid = [[int(c) for c in _cells(r)[1:]] for r in table.select("tbody tr")]
    for line in grid:
        assert sum(line[:-1]) == line[-1]
    assert [sum(col) for col in zip(*grid[:-1], strict=True)] == grid[-1]
