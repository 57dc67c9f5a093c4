"""The index page: every year with its tier counts and links, the comparisons, failures said plainly."""

from __future__ import annotations

import json
import re

import pytest

from evaluation.engine.pipeline import evaluate
from evaluation.report.build import SUMMARY, write_json, year_summary
from evaluation.years.index import INDEX, write_index
from tests.conftest import FIXTURES, PARAMS_2020

SERIES = FIXTURES / "years" / "series" / "params"


@pytest.fixture(scope="module")
def summaries():
    return {p.stem: year_summary(evaluate(p)) for p in [SERIES / "2031.yaml", SERIES / "2032.yaml", PARAMS_2020]}


def _write(out, summaries, *ids):
    for year_id in ids:
        (out / year_id).mkdir(parents=True)
        write_json(summaries[year_id], out / year_id / SUMMARY)
        (out / year_id / "report.html").write_text("<p>báo cáo</p>", encoding="utf-8")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_year_with_its_counts_and_links(tmp_path, summaries):
    _write(tmp_path, summaries, "2031", "2032")
    (tmp_path / "compare" / "2031-2032").mkdir(parents=True)
    (tmp_path / "compare" / "2031-2032" / "compare.html").write_text("x", encoding="utf-8")
    write_json({"labels": ["2031", "2032 (minh họa)"], "rules_differ": [["2031", "2032 (minh họa)"]]},
               tmp_path / "compare" / "2031-2032" / SUMMARY)
    page = write_index(tmp_path, ["2032", "2031"]).read_text(encoding="utf-8")
    text = _text(page)
    # Same tiers in both years: one column per tier, rows oldest first (2031 then 2032).
    links = "HTML · PDF · Word · CSV · Excel"
    assert f"2031 Báo cáo thử nghiệm năm 2031 {links} 1 5 3 2 11" in text
    assert f"2032 Báo cáo thử nghiệm năm 2032 {links} 1 5 4 1 11" in text
    for year_id in ("2031", "2032"):
        for name in ("report.html", "report.pdf", "results.csv", "results.xlsx"):
            assert f'href="{year_id}/{name}"' in page
    assert 'href="compare/2031-2032/compare.html"' in page
    assert "Các năm 2031, 2032 (minh họa): HTML · PDF · CSV (quy định khác nhau giữa năm 2031 và 2032 (minh họa))" \
        in text
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    assert "<script" not in page and "http" not in page.split("</style>")[1]
    assert "--serif" in page, "the report's stylesheet, inlined"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no temporary file left"


def test_a_failed_year_keeps_its_previous_report_and_says_so(tmp_path, summaries):
    _write(tmp_path, summaries, "2031")
    text = _text(write_index(tmp_path, ["2031", "2032"], failed={"2031": "lỗi", "2032": "lỗi"},
                             compare_failed="ô «x» gặp lỗi").read_text(encoding="utf-8"))
    assert "Lần lập gần nhất bị lỗi; đây là báo cáo lập trước đó." in text
    assert "2032 chưa có báo cáo Chưa lập được báo cáo" in text
    assert "Lần lập báo cáo so sánh gần nhất bị lỗi: ô «x» gặp lỗi" in text
    assert "Chưa có báo cáo so sánh: cần ít nhất hai năm có dữ liệu hợp lệ." in text


def test_years_with_different_tiers_list_their_own(tmp_path, summaries):
    _write(tmp_path, summaries, "2031", "2020")
    page = (write_index(tmp_path, ["2020", "2031"])).read_text(encoding="utf-8")
    text = _text(page)
    assert "các năm áp dụng các mức xếp loại khác nhau" in text
    assert "Xuất sắc 11" in text and "Tốt 50" in text and "Trung bình 2" in text
    assert text.index("2020 Tổng hợp") < text.index("2031 Báo cáo")


def test_illustrative_years_are_labelled_and_text_is_escaped(tmp_path, summaries):
    s = dict(summaries["2031"], illustrative=True, title="<script>alert(1)</script>")
    (tmp_path / "2031").mkdir()
    (tmp_path / "2031" / SUMMARY).write_text(json.dumps(s, ensure_ascii=False), encoding="utf-8")
    page = write_index(tmp_path, ["2031"]).read_text(encoding="utf-8")
    assert "(minh họa)</span>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_the_page_is_the_same_for_the_same_reports(tmp_path, summaries):
    _write(tmp_path, summaries, "2031", "2032")
    first = write_index(tmp_path, ["2031", "2032"]).read_bytes()
    assert write_index(tmp_path, ["2031", "2032"]).read_bytes() == first
    assert (tmp_path / INDEX).stat().st_mode & 0o644 == 0o644


def test_each_year_reads_as_one_block_on_a_phone_with_its_links_under_its_title(tmp_path, summaries):
    _write(tmp_path, summaries, "2031")
    page = write_index(tmp_path, ["2031"]).read_text(encoding="utf-8")
    row = page.split("<tbody>")[1].split("</tr>")[0]
    title_cell = row.split("<td>")[2]
    # The links sit in the title's cell (no separate «Tệp» column to scroll to on a phone)...
    assert 'href="2031/report.docx">Word</a>' in title_cell and "Tệp" not in page
    # ...and every count carries its label for the stacked phone layout (the stylesheet prints it).
    assert re.findall(r'data-label="([^"]+)"', row) == ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Số đơn vị"]
    assert "table.index-years td[data-label]::before" in page
    # The tool's version in words, not as a code value.
    assert "<code>" not in page.split("</style>")[1]
    assert "Lập bằng công cụ đánh giá, xếp loại phiên bản" in _text(page)
