"""Properties that hold for every rules file and every input, checked on generated ones (hypothesis).

* the tier never falls as the score rises (any valid rules file, not only Thanh Hóa's);
* no cap is ever exceeded: quotas, condition caps, the score scale;
* ranks agree with the display order;
* every input row is used or rejected with a message naming it (rows in = used + rejected);
* the results do not depend on the order of the input rows;
* a name written another way (NFD, case, tone placement, odd spaces) finds its unit, and two
  registry names that normalise alike are refused.

Example counts are kept moderate (see ``tests/conftest.py`` for the profiles) so that the suite
stays fast; ``pytest --hypothesis-show-statistics`` reports how many ran.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evaluation.engine.classify import classify, publish, tier_by_score
from evaluation.engine.pipeline import evaluate
from evaluation.engine.rank import rank
from evaluation.errors import InputError
from evaluation.inputs.registry import load_registry
from evaluation.inputs.rules import Rules, load_rules
from evaluation.inputs.schemas import CONDITIONS, SCORES
from evaluation.inputs.tables import read_csv_text
from evaluation.inputs.validate import check_table
from tests import strategies as gen
from tests.conftest import FIXTURES, ROOT

REGISTRY_2020 = load_registry(ROOT / "data" / "units.csv", label="data/units.csv")
RULES_2020 = load_rules(ROOT / "params" / "rules" / "thanh-hoa-2016.yaml")
REGIME2 = FIXTURES / "years" / "regime2"
REGISTRY_REGIME2 = load_registry(REGIME2 / "data" / "units.csv")
VALID_2020 = REGISTRY_2020.units[REGISTRY_2020.valid_in(2020)]
NAMES_2020 = dict(zip(VALID_2020["id"], VALID_2020["name"], strict=True))

# Building files and running the whole pipeline per example is slower than a pure function.
FILES = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                         HealthCheck.too_slow])


def tier_level(rules: Rules, tiers: pd.Series) -> np.ndarray:
    """0 for the best tier, larger for worse ones."""
    return tiers.map({t: i for i, t in enumerate(rules.tier_ids)}).to_numpy(dtype="int64")


# -- the tier never falls as the score rises --------------------------------------------------


@given(data=st.data(), rules=gen.rules(quotas=False, conditions=False))
def test_tier_by_score_never_falls_as_the_score_rises(data, rules):
    scores = pd.Series(sorted(data.draw(gen.scores_in(rules, 40))), dtype="float64")
    published = publish(scores, rules.precision)
    assert published.is_monotonic_increasing
    tiers = tier_by_score(published, rules)
    assert tiers.notna().all(), "every score of the scale has a tier"
    level = tier_level(rules, tiers)
    assert (np.diff(level) <= 0).all(), list(zip(published, tiers, strict=True))
    # And a tier's lower bound is inclusive: a score published exactly at it is in it.
    at_bounds = pd.Series([float(t.min) for t in rules.tiers], dtype="float64")
    assert tier_by_score(publish(at_bounds, rules.precision), rules).tolist() == rules.tier_ids


@given(data=st.data(), rules=gen.rules(conditions=False, adjacent_only=True))
def test_final_tier_never_falls_as_the_score_rises_within_a_group(data, rules):
    # Quotas that demote to the next tier keep the order: the lowest scores of a tier go first.
    out = classify(data.draw(gen.scored_units(rules)), rules)
    for _, part in out.groupby("group"):
        part = part.sort_values("score", kind="stable")
        assert (np.diff(tier_level(rules, part["tier"])) <= 0).all(), part[["score", "tier"]]


# -- no cap is ever exceeded ------------------------------------------------------------------


def assert_caps_hold(out: pd.DataFrame, rules: Rules, conditions: pd.DataFrame) -> None:
    """Every cap the rules set, checked on a classified table (extend with new kinds of cap)."""
    level = pd.Series(tier_level(rules, out["tier"]), index=out.index)
    by_score = pd.Series(tier_level(rules, out["tier_by_score"]), index=out.index)
    # Classification only ever lowers a tier.
    assert (level >= by_score).all()
    # The published score stays on the scale.
    lo, hi = float(rules.scale.score_min), float(rules.scale.score_max)
    assert out["score"].between(lo, hi).all(), out["score"].agg(["min", "max"])
    # Condition caps.
    caps = {c.id: rules.tier_ids.index(c.max_tier) for c in rules.conditions}
    for unit, cond in zip(conditions["unit_id"], conditions["condition"], strict=True):
        assert (level[out["unit_id"] == unit] >= caps[cond]).all(), (unit, cond)
    # Quotas: in every partition, the tier holds at most the limit — ratio × basis (final counts),
    # rounded as declared — or, when the rules keep a tie whole, only units tied with the last
    # one within the limit beyond it.
    for q in rules.quotas:
        parts = out["group"] if q.scope == "group" else pd.Series("all", index=out.index)
        for _, idx in parts.groupby(parts).groups.items():
            tiers = out.loc[idx, "tier"]
            n = int((tiers == q.tier).sum())
            basis = len(idx) if q.of == "all" else int((tiers == q.of).sum())
            exact = Fraction(str(q.max_ratio)) * basis
            limit = {"floor": math.floor(exact), "ceil": math.ceil(exact),
                     "half_up": math.floor(exact + Fraction(1, 2))}[q.limit.rounding]
            if n <= limit:
                continue
            assert q.ties.otherwise == "keep_all" and limit >= 1, (q, n, limit)
            kept = out.loc[idx][tiers == q.tier]["score"].sort_values(ascending=False).to_numpy()
            assert (kept[limit:] == kept[limit - 1]).all(), (q, kept, limit)


@given(data=st.data(), rules=gen.rules())
def test_no_cap_is_ever_exceeded(data, rules):
    scored = data.draw(gen.scored_units(rules))
    conditions = data.draw(gen.conditions_for(rules, scored["unit_id"].tolist()))
    before = scored.copy()
    out = classify(scored, rules, conditions)
    pd.testing.assert_frame_equal(scored, before)   # a stage never changes what it read
    assert_caps_hold(out, rules, conditions)


# -- ranks agree with the display order -------------------------------------------------------


@given(data=st.data(), rules=gen.rules(quotas=False, conditions=False))
def test_ranks_agree_with_the_display_order(data, rules):
    classified = classify(data.draw(gen.scored_units(rules)), rules)
    out = rank(classified, rules)
    assert len(out) == len(classified) and set(out["unit_id"]) == set(classified["unit_id"])
    positions = out["group"].map({g: i for i, g in enumerate(rules.group_ids)})
    assert positions.is_monotonic_increasing, "groups in the rules' order"
    for _, part in out.groupby("group", sort=False):
        scores = part["score"].to_numpy()
        assert part["order"].tolist() == list(range(1, len(part) + 1))
        assert (np.diff(scores) <= 0).all(), "score descending"
        assert (np.diff(part["rank"].to_numpy()) >= 0).all(), "ranks never go back up"
        better = (scores[None, :] > scores[:, None]).sum(axis=1)
        assert part["rank"].tolist() == (better + 1).tolist(), "rank = 1 + units scoring higher"
        for _, tied in part.groupby("score"):
            assert tied["input_order"].is_monotonic_increasing, "ties keep the input order"


# -- every input row is used or rejected ------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "input.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


def assert_rows_accounted(checked, plan: gen.Plan, spec) -> None:
    rows = [r.row for r in plan.rows if not r.blank]
    used, rejected = checked.table["_row"].tolist(), checked.rejected["_row"].tolist()
    assert checked.rows_in == len(rows)
    if not rows and not spec.may_be_empty:
        assert [(p.row, p.expected) for p in checked.problems] == [
            (None, "tệp chỉ có dòng tiêu đề, không có dữ liệu")]
        return
    unique = spec.unique
    assert len(used) + len(rejected) == checked.rows_in
    assert sorted(used + rejected) == rows, "each row once, none invented, none lost"
    assert used == plan.accepted(unique), "exactly the good rows, first of their key, are used"
    named = {p.row for p in checked.problems}
    assert named == set(rejected), "every rejected row is named by a problem, no used row is"


@pytest.fixture(scope="module")
def year_2020(tmp_path_factory):
    from tests.conftest import copy_year

    return copy_year(tmp_path_factory.mktemp("year2020"))


@FILES
@given(drawn=gen.messy_csv(SCORES, gen.cell_strategies(SCORES, names=NAMES_2020)))
def test_every_scores_row_is_used_or_rejected(tmp_path, year_2020, monkeypatch, drawn):
    text, plan = drawn
    raw, read_problems = read_csv_text(_write(tmp_path, text), "input.csv")
    assert read_problems == []
    checked = check_table(raw, SCORES, "input.csv", registry=REGISTRY_2020, year=2020,
                          bounds={"score": (0, 100)})
    assert_rows_accounted(checked, plan, SCORES)
    # The same file as a year's scores, through the whole pipeline: the error report names
    # exactly the rejected rows (and, file-wide, the units left without a score).
    monkeypatch.chdir(year_2020.parent.parent)
    (year_2020.parent.parent / "data" / "2020" / "scores.csv").write_bytes(text.encode("utf-8"))
    with pytest.raises(InputError) as info:   # a generated file never holds all 61 units
        evaluate(year_2020)
    rows = {p.row for p in info.value.problems if p.file == "data/2020/scores.csv" and p.row is not None}
    assert rows == set(checked.rejected["_row"].tolist()) if checked.rows_in else rows == set()
    # What is used is what was written.
    wanted = {r.row: r for r in plan.rows}
    for row, unit, score in [] if checked.table.empty else zip(checked.table["_row"], checked.table["unit_id"], checked.table["final_score"],
                                strict=True):
        assert unit == wanted[row].cells["unit"].value
        assert score == wanted[row].cells["final_score"].value


@FILES
@given(drawn=gen.messy_csv(CONDITIONS, gen.cell_strategies(
    CONDITIONS, names=dict(zip(REGISTRY_REGIME2.units["id"], REGISTRY_REGIME2.units["name"], strict=True)),
    codes=["ky_luat", "tham_nhung"])))
def test_every_conditions_row_is_used_or_rejected(tmp_path, drawn):
    text, plan = drawn
    raw, read_problems = read_csv_text(_write(tmp_path, text), "input.csv")
    assert read_problems == []
    checked = check_table(raw, CONDITIONS, "input.csv", registry=REGISTRY_REGIME2, year=2031,
                          codes={"conditions": {"ky_luat", "tham_nhung"}})
    assert_rows_accounted(checked, plan, CONDITIONS)


# -- the order of the input rows does not matter ----------------------------------------------

RESULT = ["score", "tier_by_score", "tier", "tier_reason", "rank"]


@given(data=st.data(), rules=gen.rules())
def test_results_do_not_depend_on_the_order_of_rows(data, rules):
    scored = data.draw(gen.scored_units(rules))
    conditions = data.draw(gen.conditions_for(rules, scored["unit_id"].tolist()))
    order = data.draw(st.permutations(range(len(scored))))
    corder = data.draw(st.permutations(range(len(conditions))))
    shuffled = scored.iloc[list(order)].assign(input_order=range(2, len(scored) + 2)).reset_index(drop=True)
    a = rank(classify(scored, rules, conditions), rules).set_index("unit_id")[RESULT]
    b = rank(classify(shuffled, rules, conditions.iloc[list(corder)]), rules).set_index("unit_id")[RESULT]
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index())


@pytest.fixture
def regime2_copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("regime2")
    shutil.copytree(REGIME2, root / "years" / "regime2")
    shutil.copytree(FIXTURES / "rules", root / "rules")
    return root / "years" / "regime2"


def _csv(header: str, rows: list[str]) -> str:
    return header + "\n" + "".join(r + "\n" for r in rows)


@FILES
@given(data=st.data())
def test_whole_pipeline_does_not_depend_on_the_order_of_rows(regime2_copy, data):
    # Through the files: regime2 has groups, a quota (ties decide it) and a condition.
    units = REGISTRY_REGIME2.units
    scores = data.draw(st.lists(st.sampled_from([60.49, 60.5, 69.99, 70.0, 74.0, 84.994, 84.995, 85.0, 92.0]),
                                min_size=len(units), max_size=len(units)))
    rows = [f"{n},,{s}" for n, s in zip(units["short_name"], scores, strict=True)]
    cond = [f"{n},ky_luat" for n in data.draw(st.lists(st.sampled_from(units["short_name"].tolist()),
                                                     unique=True, max_size=4))]
    folder = regime2_copy / "data" / "2031"
    results = []
    for shuffle in (False, True):
        r, c = (data.draw(st.permutations(rows)), data.draw(st.permutations(cond))) if shuffle else (rows, cond)
        (folder / "scores.csv").write_text(_csv("Đơn vị,Điểm tự chấm,Điểm đánh giá", list(r)), encoding="utf-8")
        (folder / "conditions.csv").write_text(_csv("Đơn vị,Mã điều kiện", list(c)), encoding="utf-8")
        ev = evaluate(regime2_copy / "params" / "2031.yaml")
        results.append((ev.ranked.set_index("unit_id")[RESULT].sort_index(), ev.counts, ev.sentences))
    pd.testing.assert_frame_equal(results[0][0], results[1][0])
    pd.testing.assert_frame_equal(results[0][1], results[1][1])
    assert results[0][2] == results[1][2]


# -- names: any way of writing them finds the unit; look-alikes are refused ---------------------


@settings(max_examples=60)
@given(data=st.data())
def test_a_name_written_another_way_finds_its_unit(data):
    unit = data.draw(st.sampled_from(VALID_2020["id"].tolist()))
    column = data.draw(st.sampled_from(["name", "short_name"]))
    written = data.draw(gen.name_variant(VALID_2020.at[unit, column]))
    got = REGISTRY_2020.match(pd.Series([written]), year=2020).iloc[0]
    assert got["unit_id"] == unit, (written, got["problem"])


@FILES
@given(data=st.data())
def test_the_2020_results_survive_any_spelling_of_the_names(tmp_path_factory, evaluation_2020, data):
    from tests.conftest import copy_year, scores_2020_text

    rows = list(csv.reader(io.StringIO(scores_2020_text())))
    written = data.draw(st.tuples(*(gen.name_variant(row[1]) for row in rows[1:])))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([rows[0], *([r[0], w, *r[2:]] for r, w in
                                                                zip(rows[1:], written, strict=True))])
    params = copy_year(tmp_path_factory.mktemp("names"), scores=buf.getvalue())
    ev = evaluate(params)
    pd.testing.assert_frame_equal(ev.ranked[["unit_id", *RESULT, "order"]],
                                  evaluation_2020.ranked[["unit_id", *RESULT, "order"]])


@FILES
@given(data=st.data())
def test_two_registry_entries_equal_after_normalisation_are_refused(tmp_path_factory, data):
    source = (ROOT / "data" / "units.csv").read_text(encoding="utf-8").splitlines()
    units = REGISTRY_2020.units
    twin_of = data.draw(st.sampled_from(units["id"].tolist()))
    column = data.draw(st.sampled_from(["name", "short_name"]))
    written = data.draw(gen.name_variant(units.at[twin_of, column])).replace('"', "")
    assume(written.strip())
    where = data.draw(st.sampled_from(["name", "short_name", "aliases"]))
    row = {"name": "Đơn vị mới", "short_name": "Mới", "aliases": ""} | {where: written}
    folder = tmp_path_factory.mktemp("registry")
    path = folder / "units.csv"
    path.write_text("\n".join(source) + f'\nnew-unit,"{row["name"]}","{row["short_name"]}",so_nganh,,,,,'
                    f'"{row["aliases"]}",,,\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_registry(path, label="units.csv", abbreviations=ROOT / "data" / "abbreviations.csv")
    msgs = [str(p) for p in info.value.problems]
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith(f"units.csv, dòng {len(source) + 1}, cột «{where}»"), msgs
    assert f"của đơn vị {twin_of}" in msgs[0]


# -- any valid year evaluates and presents ----------------------------------------------------


@st.composite
def valid_years(draw):
    """The files of a whole valid year: rules, registry, scores, conditions and params (as text)."""
    import yaml

    rules_data = draw(gen.rules_dicts())
    rules = Rules.model_validate(rules_data)
    n = draw(st.integers(1, 12))
    units = [f"u{i}" for i in range(n)]
    groups = draw(st.lists(st.sampled_from(rules.group_ids), min_size=n, max_size=n))
    scores = draw(gen.scores_in(rules, n))
    selfs = draw(st.lists(st.one_of(st.none(), st.floats(float(rules.scale.score_min), float(rules.scale.score_max))),
                          min_size=n, max_size=n))
    conditions = draw(gen.conditions_for(rules, units))
    registry = _csv("id,name,short_name,group", [f"{u},Đơn vị thử {u},ĐV {u},{g}" for u, g in zip(units, groups,
                                                                                                    strict=True)])
    def written(v: float | None) -> str:   # as a spreadsheet writes it: no exponent
        return "" if v is None else np.format_float_positional(v, trim="-")

    score_rows = [f"ĐV {u},{written(s)},{written(f)}" for u, s, f in zip(units, selfs, scores, strict=True)]
    files = {
        "rules/generated.yaml": yaml.safe_dump(rules_data, allow_unicode=True),
        "data/units.csv": registry,
        "data/2031/scores.csv": _csv("Đơn vị,Điểm tự chấm,Điểm đánh giá", score_rows),
        "data/2031/conditions.csv": _csv("Đơn vị,Mã điều kiện", [f"ĐV {u},{c}" for u, c in
                                                                 zip(conditions["unit_id"], conditions["condition"],
                                                                     strict=True)]),
        "params/2031.yaml": yaml.safe_dump({
            "year": 2031, "rules": "../rules/generated.yaml", "registry": "../data/units.csv", "data": "../data/2031",
            "inputs": {"scores": "scores.csv", "conditions": "conditions.csv"},
            "report": {"issuer_parent": "UBND", "issuer": "SỞ NỘI VỤ", "place_date": "Ngày", "title": "Báo cáo"}},
            allow_unicode=True),
    }
    return files, rules, n


def _present_everything(ev) -> list[str]:
    from evaluation.report import present

    return [present.title_block(ev), present.method(ev), present.summary(ev), present.group_tables(ev),
            present.group_gap_table(ev), present.gap_table(ev, 10), present.near_bound_table(ev, 1.0),
            present.notes(ev), present.provenance(ev, {"year": "2031"}), present.closing(ev)]


def _evaluate_written(root, files: dict[str, str]):
    """Write a generated year's files under ``root`` and evaluate it."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return evaluate(root / "params" / "2031.yaml")


@FILES
@given(year=valid_years())
def test_any_valid_year_evaluates_and_presents(tmp_path_factory, year):
    files, rules, n = year
    root = tmp_path_factory.mktemp("year")
    ev = _evaluate_written(root, files)
    assert len(ev.ranked) == n
    assert int(ev.counts.loc["total", "total"]) == n
    assert len(ev.sentences) == 1 + len(rules.tiers)
    for fragment in _present_everything(ev):
        assert "<script" not in fragment


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:vert.*:matplotlib.MatplotlibDeprecationWarning")  # inside seaborn's boxplot
@settings(FILES, max_examples=8)
@given(year=valid_years())
def test_any_valid_year_can_be_charted(tmp_path_factory, year):
    from evaluation.report import plot

    files, rules, n = year
    root = tmp_path_factory.mktemp("year")
    ev = _evaluate_written(root, files)
    figures = root / "figures"
    svgs = [svg for kind in ("scores", "dumbbell") for svg in plot.draw(ev.ranked, ev.rules, kind,
                                                                                          figures)]
    groups = ev.ranked["group"].nunique()
    with_self = ev.ranked.loc[ev.ranked["self_score"].notna(), "group"].nunique()
    assert len(svgs) == groups + with_self   # one dot plot and one self-versus-appraised chart per group
