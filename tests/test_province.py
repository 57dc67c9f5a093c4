"""Another province under another regime, from its own registry, rules and params: three tiers with
«Khá» from 70 and nothing classified below, no bonus or penalty, half-years weighted 1 and 2, a
published final classification, a quota that keeps a tie whole, ranks by tier first — and no text of
Thanh Hóa anywhere in what it produces."""

from __future__ import annotations

import re

import pytest

from evaluation.cli import main
from evaluation.engine.pipeline import evaluate
from evaluation.text import fold
from tests.conftest import FIXTURES

PROVINCE = FIXTURES / "years" / "province-b"
PARAMS = PROVINCE / "params" / "2031.yaml"


def _no_thanh_hoa(text: str) -> bool:
    return "thanh hoa" not in fold(text)


@pytest.fixture(scope="module")
def ev():
    return evaluate(PARAMS)


def test_its_year_evaluates_by_hand(ev):
    got = ev.ranked.set_index("unit_id")
    # (H1 + 2 × H2) / 3 at 2 decimals, half even: Văn phòng (92 + 187) / 3 = 93; Sở Công nghệ 90;
    # Sở C 94,33 (capped at «Khá»); Sở A và B 70; xã Một 91; xã Hai (91,5 + 181,5) / 3 = 91;
    # phường Ba 84,33; xã Bốn 65,67 (below 70: not classified).
    assert got["score"].to_dict() == {"vp": 93.0, "cong-an": 90.0, "so-c": 94.33, "so-ab": 70.0, "xa-1": 91.0,
                                      "xa-2": 91.0, "phuong-3": 84.33, "xa-4": 65.67}
    assert got["tier"].to_dict() == {"vp": "xuat_sac", "cong-an": "tot", "so-c": "kha", "so-ab": "kha",
                                     "xa-1": "xuat_sac", "xa-2": "xuat_sac", "phuong-3": "tot",
                                     "xa-4": "khong_xep_loai"}
    # Quota: at most 25 % of all units per group, rounded half up: 1 per group of 4. Group A moves
    # Sở Công nghệ down; group B keeps its whole tie at 91 (keep_all), over the limit as declared.
    limits = ev.quotas.limits.set_index("partition")
    assert limits.loc["hanh_chinh", ["limit", "demoted"]].tolist() == [1, 1]
    assert limits.loc["xa", ["limit", "demoted", "tie"]].tolist() == [1, 0, 2]
    assert "các đơn vị bằng điểm đều được giữ" in limits.loc["xa", "sentence"]
    # Ranks follow the tier first: Sở C (94,33, «Khá») ranks below Sở Công nghệ (90, «Tốt»).
    assert got.loc[["vp", "cong-an", "so-c", "so-ab"], "rank"].tolist() == [1, 2, 3, 4]
    # The merged unit of 2030 is the one evaluated; its predecessors ended before the year.
    assert "so-a" not in got.index and got.at["so-ab", "unit"] == "Sở A và B"


def test_its_sentences_use_its_words(ev):
    assert ev.sentences == [
        "Kết quả đánh giá, xếp loại kết quả thực hiện nhiệm vụ năm 2031 của 08 đơn vị, gồm: 04 cơ quan hành chính "
        "và 04 xã, phường.",
        "03 đơn vị được xếp loại xuất sắc gồm: 01 cơ quan hành chính và 02 xã.",
        "02 đơn vị được xếp loại tốt gồm: 01 cơ quan hành chính và 01 phường.",
        "02 đơn vị được xếp loại khá gồm: 02 cơ quan hành chính.",
        "01 đơn vị không xếp loại gồm: 01 xã.",
    ]
    said = [*ev.sentences, *ev.ranked["tier_reason"], *ev.quotas.limits["sentence"], *ev.quotas.moves["why"],
            *[what for _, what in ev.rules.unconfirmed()]]
    assert all(_no_thanh_hoa(s) for s in said)


@pytest.mark.slow
def test_its_report_has_no_thanh_hoa_text(tmp_path):
    assert main(["--params-dir", str(PROVINCE / "params"), "report", "--year", "2031", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "2031" / "report.html").read_text(encoding="utf-8")
    body = re.sub(r"<style.*?</style>|<script.*?</script>", "", html, flags=re.S)
    assert _no_thanh_hoa(body)
    assert "Quyết định số 12/2030/QĐ-UBND" in body and "Công văn số 345/UBND-NC" in body
    assert "Xếp loại" in body and "Dự kiến xếp loại" not in body
    csv = (tmp_path / "2031" / "results.csv").read_text(encoding="utf-8")
    assert _no_thanh_hoa(csv)
    # Nor in what is printed, sent in Word or pasted from the charts.
    import zipfile

    from pypdf import PdfReader

    pdf = " ".join(page.extract_text() for page in PdfReader(tmp_path / "2031" / "report.pdf").pages)
    assert _no_thanh_hoa(pdf) and "Khối xã, phường" in pdf
    with zipfile.ZipFile(tmp_path / "2031" / "report.docx") as docx:
        document = docx.read("word/document.xml").decode("utf-8")
    assert _no_thanh_hoa(re.sub(r"<[^>]+>", "", document)) and "Khối xã, phường" in document
    for svg in (tmp_path / "2031" / "figures").glob("*.svg"):
        assert _no_thanh_hoa(svg.read_text(encoding="utf-8")), svg.name
    # Its quota said with its own numbers: a tie kept whole, over the limit as its rules declare.
    assert "có 2 đơn vị đủ điểm xếp loại xuất sắc, nhiều hơn hạn mức 1" in body
