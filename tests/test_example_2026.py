"""The illustrative year 2026 under Nghị định 335/2025: the files are what the generator makes; the
quota holds in every group and binds; overrides win over scores; the report builds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from fractions import Fraction

import pytest
import yaml

from evaluation.cli import main
from evaluation.engine.pipeline import evaluate
from tests.conftest import ROOT

PARAMS = ROOT / "params" / "example-2026.yaml"
DATA = ROOT / "data" / "example-2026"
PLAN = ROOT / "scripts" / "example-2026.plan.yaml"


@pytest.fixture(scope="module")
def ev():
    return evaluate(PARAMS)


def test_the_committed_files_are_what_the_generator_makes(tmp_path):
    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    plan.update(rules=str(ROOT / "params" / "rules" / "nd-335-2025.yaml"), registry=str(ROOT / "data" / "units.csv"),
                out=str(tmp_path / "data"), params=str(tmp_path / "params" / "example-2026.yaml"),
                uncertainty=str(ROOT / "params" / "uncertainty" / "nd-335-2025.yaml"))
    (tmp_path / "params").mkdir()
    plan_path = tmp_path / "example-2026.plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_example_2026.py"), str(plan_path)], check=True,
                   capture_output=True)
    for name in ("units-illustrative.csv", "periods.csv", "conditions.csv", "README.md"):
        assert (tmp_path / "data" / name).read_bytes() == (DATA / name).read_bytes(), name
    made = yaml.safe_load((tmp_path / "params" / "example-2026.yaml").read_text(encoding="utf-8"))
    committed = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    for key in ("year", "inputs", "illustrative", "report"):
        assert made[key] == committed[key], key
    assert committed["illustrative"] is True
    # The declaration of uncertainty the plan names, written relative to each params file.
    assert ((tmp_path / "params" / made["uncertainty"]).resolve()
            == (PARAMS.parent / committed["uncertainty"]).resolve()
            == (ROOT / "params" / "uncertainty" / "nd-335-2025.yaml"))
    assert committed["registry"] == ["../data/units.csv", "../data/example-2026/units-illustrative.csv"]


def test_the_reorganised_province(ev):
    groups = ev.ranked["group"].value_counts().to_dict()
    assert groups == {"so_nganh": 15, "don_vi_su_nghiep": 14, "ubnd_xa": 166}
    communes = ev.registry.units.loc[ev.ranked.loc[ev.ranked["group"] == "ubnd_xa", "unit_id"]]
    assert communes["kind"].value_counts().to_dict() == {"xã": 147, "phường": 19}
    # 162 illustrative names, marked so; the 4 the source names are real.
    assert int(communes["illustrative"].sum()) == 162
    assert set(communes.index[~communes["illustrative"]]) == {"xa-cac-son", "xa-truong-lam", "phuong-hac-thanh",
                                                               "xa-pu-nhi"}
    assert "so-nong-nghiep-moi-truong" in set(ev.ranked["unit_id"]) and "so-ke-hoach-dau-tu" not in set(ev.ranked["unit_id"])
    assert ev.sentences[0].startswith("Kết quả đánh giá, xếp loại chất lượng năm 2026 của 195 cơ quan, đơn vị, gồm: "
                                      "15 sở, ngành và tương đương; 14 đơn vị sự nghiệp công lập trực thuộc UBND tỉnh "
                                      "và 166 UBND xã, phường.")


def test_in_every_group_xuat_sac_is_at_most_a_fifth_of_tot_and_the_quota_binds(ev):
    for group, part in ev.ranked.groupby("group"):
        n_top, n_good = int((part["tier"] == "xuat_sac").sum()), int((part["tier"] == "tot").sum())
        assert n_top <= Fraction(1, 5) * n_good, group
    limits = ev.quotas.limits.set_index("partition")
    assert (limits["demoted"] > 0).all(), "the example makes the quota bind in every group"
    # The limit is 20 % of the «tốt» counted before anyone is moved down (after the overrides),
    # rounded down.
    capped = set(ev.inputs.tables["conditions"].table["unit_id"])
    for group, row in limits.iterrows():
        before = ev.classified[(ev.classified["group"] == group) & ~ev.classified["unit_id"].isin(capped)]
        by_score_good = int(((before["tier_by_score"] == "tot")).sum())
        assert row["base"] == by_score_good and row["limit"] == by_score_good // 5, group
    # A tie at the edge of the commune group's limit, settled by the smaller self-score gap.
    commune = limits.loc["ubnd_xa"]
    assert commune["tie"] >= 2 and "chênh lệch giữa điểm tự chấm và điểm đánh giá nhỏ hơn" in commune["tie_rule"]


def test_overrides_place_units_in_khong_hoan_thanh_whatever_their_score(ev):
    capped = set(ev.inputs.tables["conditions"].table["unit_id"])
    rows = ev.ranked[ev.ranked["unit_id"].isin(capped)].set_index("unit_id")
    assert (rows["tier"] == "khong_hoan_thanh").all()
    assert rows.at["so-tai-chinh", "tier_by_score"] == "xuat_sac"
    assert rows.at["so-tai-chinh", "tier_reason"].startswith("Xếp «Không hoàn thành» bất kể điểm do: Bị xử lý kỷ luật")
    # Tier first: the department scored «xuất sắc» does not keep its place, it ranks last of its group.
    so = ev.ranked[ev.ranked["group"] == "so_nganh"]
    assert so["unit_id"].iloc[-1] == "so-tai-chinh" and so["rank"].iloc[-1] == len(so)


def test_units_missing_a_quarter_are_scored_on_the_others_and_flagged(ev):
    flagged = ev.ranked.loc[ev.ranked["period_flag"] != "", ["unit_id", "period_flag"]].set_index("unit_id")
    assert flagged["period_flag"].to_dict() == {"bqlda-dan-dung-cong-nghiep": "chấm trên 3/4 kỳ (thiếu: Quý I)",
                                                "xa-pu-nhi": "chấm trên 3/4 kỳ (thiếu: Quý IV)"}


@pytest.mark.slow
def test_the_report_builds_with_166_communes(tmp_path):
    assert main(["--params-dir", str(ROOT / "params"), "report", "--year", "example-2026", "--out",
                 str(tmp_path)]) == 0
    built = tmp_path / "example-2026"
    assert (built / "report.pdf").stat().st_size > 0
    html = (built / "report.html").read_text(encoding="utf-8")
    assert "DỮ LIỆU MINH HỌA" in html and "xã Thọ Xuân 01" in html and "phường Hạc Thành" in html
    assert "Nghị định số 335/2025/NĐ-CP" in html and "Quyết định số 335" not in html
    summary = json.loads((built / "summary.json").read_text(encoding="utf-8"))
    assert summary["illustrative"] is True and summary["units"] == 195
    _check_pdf(built / "report.pdf")
    shutil.rmtree(built)


def _check_pdf(pdf):
    """The printed report: the commune table is one table whose header starts every page it runs
    on, compact (166 rows in at most 5 pages); the quota paragraph in the body; no code in the body."""
    import re

    from pypdf import PdfReader

    from tests.test_report import _TECHNICAL

    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    row = re.compile(r"^\d+ \d+ (?:xã|phường) .+ \d+,\d{2} \d+,\d ", re.M)
    with_rows = [i for i, text in enumerate(pages) if len(row.findall(text)) >= 5]
    assert sum(len(row.findall(pages[i])) for i in with_rows) >= 160
    assert len(with_rows) <= 5 and with_rows == list(range(with_rows[0], with_rows[-1] + 1))
    for i in with_rows[1:]:
        assert pages[i].lstrip().startswith("TT Hạng Đơn vị Điểm tự chấm Điểm đánh giá"), i
    signed = next(i for i, text in enumerate(pages) if "Nơi nhận:" in text)
    body = " ".join(" ".join(pages[:signed] + [pages[signed].split("Nơi nhận:")[0]]).split())
    assert "Nhóm III. UBND cấp xã: trước khi áp dụng hạn mức có 112 đơn vị đạt mức hoàn thành tốt nhiệm vụ" in body
    assert "bị hạ: xã Yên Định 01 (chênh lệch 2,88)" in body
    assert "thưởng" not in body
    assert _TECHNICAL.findall(body) == []
