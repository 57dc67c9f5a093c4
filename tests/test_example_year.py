"""The illustrative year 2021: every unit's final score equals its components' arithmetic, recomputed
here independently from the CSV files with exact fractions; the year has every kind of case; the
committed files are exactly what the generator makes."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections import defaultdict
from fractions import Fraction

import pytest
import yaml

from evaluation.engine.pipeline import evaluate
from evaluation.inputs.rules import load_rules
from tests.conftest import ROOT

PARAMS = ROOT / "params" / "example-2021.yaml"
DATA = ROOT / "data" / "example-2021"
NOT_APPLICABLE = "không áp dụng"


@pytest.fixture(scope="module")
def ev():
    return evaluate(PARAMS)


def read(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def num(text: str) -> Fraction | None:
    return None if text == "" else Fraction(text.replace(",", "."))


def rounded(value: Fraction, step) -> Fraction:
    """``value`` rounded as a rules stage declares (``decimals``, ``rounding``), in exact fractions."""
    scale = 10 ** step.decimals
    whole, rest = divmod(abs(value) * scale, 1)
    bump = {"down": 0, "up": int(rest > 0), "half_up": int(rest >= Fraction(1, 2)),
            "half_even": int(rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2 == 1))}[step.rounding]
    return (1 if value >= 0 else -1) * Fraction(int(whole) + bump, scale)


def in_2021(unit: dict[str, str]) -> bool:
    """Valid in 2021: exists on 31/12/2021 (bounds are years, or dates dd/mm/yyyy)."""
    start, end = unit["valid_from"], unit["valid_to"]
    first = int(start[-4:]) if start else 0
    last = (int(end[-4:]) - (0 if len(end) == 4 or end.startswith("31/12") else 1)) if end else 9999
    return first <= 2021 <= last


def recompute() -> dict[str, Fraction]:
    """The final score of every unit, by hand: plain loops, exact fractions, straight from the files.

    Each stage rounds as the rules declare (``precision.stages``): the mean answer of a survey, the
    points of each criterion (a survey's points and the credit of a criterion that does not apply
    included) and each bonus or penalty amount.
    """
    rules = load_rules(ROOT / "params" / "rules" / "thanh-hoa-2016.yaml")
    stages = rules.precision.stages
    with open(ROOT / "data" / "units.csv", encoding="utf-8", newline="") as fh:
        registry = {r["short_name"]: r for r in csv.DictReader(fh)}

    def criteria_set(unit: dict[str, str]):
        for cs in rules.criteria_sets:
            if cs.group == unit["group"] and (not cs.kinds or unit["kind"] in cs.kinds) \
                    and (not cs.units or unit["id"] in cs.units):
                return cs
        raise AssertionError(unit["id"])

    # Surveys: answers → forms (one rater's mean) → mean of forms → points, or not applicable when too few.
    by_question = {q.code: s for s in rules.surveys for q in s.questions}
    forms: dict[tuple[str, str], dict[tuple[str, str], list[Fraction]]] = defaultdict(lambda: defaultdict(list))
    for r in read("survey.csv"):
        s = by_question[r["Mã câu hỏi"]]
        forms[(registry[r["Đơn vị được đánh giá"]]["id"], s.id)][(r["Loại người đánh giá"],
                                                                r["Mã người đánh giá"])].append(num(r["Điểm"]))

    given = {(registry[r["Đơn vị"]]["id"], r["Mã tiêu chí"]): r["Điểm thẩm định"] for r in read("criteria.csv")}
    appraisal: dict[str, Fraction] = {}
    for unit in registry.values():
        if not in_2021(unit):
            continue
        cs = criteria_set(unit)
        earned, applicable, not_applicable = Fraction(0), Fraction(0), []
        for c in cs.criteria:
            maximum = Fraction(str(c.max))
            survey = next((s for s in rules.surveys if cs.id in s.sets and s.criterion == c.code), None)
            cell = given[(unit["id"], c.code)]
            if cell == NOT_APPLICABLE:
                not_applicable.append(maximum)
                continue
            if survey is not None:
                unit_forms = forms.get((unit["id"], survey.id), {})
                if len(unit_forms) < survey.min_responses:
                    not_applicable.append(maximum)
                    continue
                means = [sum(a) / len(a) for a in unit_forms.values()]
                mean = rounded(sum(means) / len(means), stages.survey)
                points = rounded(mean / Fraction(str(survey.scale_max)) * maximum, stages.criterion)
            else:
                points = rounded(num(cell), stages.criterion)
            earned += points
            applicable += maximum
        appraisal[unit["id"]] = earned + sum(rounded(earned / applicable * m, stages.criterion)
                                             for m in not_applicable)

    # Bonus and penalty: row points, "up to" bound, per-item cap on the unit's rows, net bound ±10, clamp.
    items = {it.code: it for it in rules.adjustments.items}
    per_item: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for r in read("adjustments.csv"):
        it = items[r["Mã nội dung"]]
        count = num(r["Số lần"]) if r["Số lần"] else Fraction(1)
        if it.points is not None:
            points = Fraction(str(it.points)) * count
        else:
            points = rounded(num(r["Số điểm"]), stages.adjustment)
            if it.up_to is not None:
                points = min(points, Fraction(str(it.up_to)) * count)
        per_item[(registry[r["Đơn vị"]]["id"], it.code)] += points
    net: dict[str, Fraction] = defaultdict(Fraction)
    for (unit, code), total in per_item.items():
        it = items[code]
        if it.cap is not None:
            total = min(total, Fraction(str(it.cap)))
        net[unit] += total if it.kind == "bonus" else -total
    bound = Fraction(str(rules.scale.adjustment_max))
    lo, hi = Fraction(str(rules.scale.score_min)), Fraction(str(rules.scale.score_max))
    return {u: min(max(a + min(max(net[u], -bound), bound), lo), hi) for u, a in appraisal.items()}


def test_every_units_final_score_equals_its_components_arithmetic(ev):
    expected = recompute()
    got = ev.ranked.set_index("unit_id")
    assert sorted(expected) == sorted(got.index) and len(expected) == 61
    for unit, value in expected.items():
        # Exactly: the engine's values are the floats nearest to the exact decimals.
        assert got.at[unit, "final_score"] == float(value), unit
    # And the results explain themselves: appraisal + bonus − penalty (as entered) + what the caps did.
    log = ev.detail.log.groupby("unit_id")["effect"].sum()
    rebuilt = got["appraisal"] + got["bonus_raw"] - got["penalty_raw"] + log.reindex(got.index).fillna(0.0)
    assert (rebuilt - got["final_score"]).abs().max() < 1e-9


def test_published_numbers_add_up_exactly(ev):
    # appraisal by criteria + adjustment after the bounds = the score before publication, digit for
    # digit (no float noise), except where the 0–100 range bites, which is logged.
    from decimal import Decimal

    got = ev.ranked.set_index("unit_id")
    clamped = set(ev.detail.log.loc[ev.detail.log["stage"] == "clamp", "unit_id"])
    for unit, r in got.iterrows():
        total = Decimal(str(r["appraisal"])) + Decimal(str(r["adjustment"]))
        assert (total == Decimal(str(r["final_score"]))) or unit in clamped, unit
        assert Decimal(str(r["final_score"])).as_tuple().exponent >= -2, unit   # 2 decimals at most
    # Hand-checked, Thạch Thành: KTXH 17,5 + KHDT 4,25 + NVTT 8,5 + QLĐB 9,24 (survey) + CCHC 9 + TTRA 8,5
    # + NVGIAO 8,5 + BAOCAO 4,75 + MTDT 8,76 (survey) = 79,00; + 3,5 − 0,5 = 82,00 → 82,0 published.
    assert (got.at["huyen-thach-thanh", "appraisal"], got.at["huyen-thach-thanh", "score"]) == (79.0, 82.0)


def test_the_example_has_every_kind_of_case(ev):
    d = ev.detail
    rules = ev.rules
    used = set(ev.inputs.tables["adjustments"].table["item"])
    assert used == {it.code for it in rules.adjustments.items}, "every bonus and penalty item occurs"
    stages = set(d.log["stage"])
    assert {"up_to", "item_cap", "total"} <= stages
    totals = d.log[d.log["stage"] == "total"]
    assert (totals["before"] > 10).any() and (totals["before"] < -10).any()
    assert not d.lines["applicable"].all() and d.survey["flag"].sum() == 2
    assert set(ev.inputs.tables["survey"].table["rater_kind"]) == {r.id for r in rules.rater_kinds}
    assert d.survey_counts.query("rater_kind == 'doanh-nghiep'")["raters"].max() == 300
    assert set(d.scores["criteria_set"]) == {cs.id for cs in rules.criteria_sets}
    # Items for districts only and for named departments were applied there, and only there.
    where = d.adjustment_items.groupby("item")["unit_id"].apply(set)
    groups = ev.registry.units["group"]
    assert all(groups[u] == "ubnd_huyen" for u in where["TH04"] | where["TH06"] | where["TR07"])
    assert where["TR19"] == where["TR20"] == {"so-giao-thong-van-tai"} and where["TR15"] == {"so-lao-dong-tbxh"}
    assert where["TR13"] <= {"so-nong-nghiep-ptnt", "so-cong-thuong", "so-y-te"}
    for name in ("criteria.csv", "survey.csv", "adjustments.csv"):
        assert (DATA / name).stat().st_size < 2_000_000, name


@pytest.mark.slow
def test_the_committed_files_are_what_the_generator_makes(tmp_path):
    plan = yaml.safe_load((ROOT / "scripts" / "example-2021.plan.yaml").read_text(encoding="utf-8"))
    plan.update(rules=str(ROOT / "params" / "rules" / "thanh-hoa-2016.yaml"), registry=str(ROOT / "data" / "units.csv"),
                out=str(tmp_path / "data"), params=str(tmp_path / "params" / "example-2021.yaml"))
    (tmp_path / "params").mkdir()
    plan_path = tmp_path / "example-2021.plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_example_year.py"), str(plan_path)], check=True,
                   capture_output=True)
    for name in ("criteria.csv", "survey.csv", "adjustments.csv", "README.md"):
        assert (tmp_path / "data" / name).read_bytes() == (DATA / name).read_bytes(), name
    made = yaml.safe_load((tmp_path / "params" / "example-2021.yaml").read_text(encoding="utf-8"))
    committed = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
    for key in ("year", "inputs", "illustrative", "report"):
        assert made[key] == committed[key], key
    assert committed["illustrative"] is True
    shutil.rmtree(tmp_path / "data")
