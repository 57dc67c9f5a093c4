"""Classification: published precision, inclusive bounds, float artefacts, conditions, quotas."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from evaluation.engine.classify import classify, publish, tier_by_score
from evaluation.inputs.rules import Precision, load_rules
from tests.conftest import FIXTURES, ROOT


@pytest.fixture(scope="module")
def thanh_hoa():
    return load_rules(ROOT / "params" / "rules" / "thanh-hoa-2016.yaml")


@pytest.fixture(scope="module")
def regime2():
    return load_rules(FIXTURES / "rules" / "four-tiers-quota.yaml")


def tiers(rules, values):
    return tier_by_score(publish(pd.Series(values, dtype="float64"), rules.precision), rules).tolist()


def test_bounds_are_inclusive_at_published_precision(thanh_hoa):
    got = tiers(thanh_hoa, [79.99, 80, 80.0, 89.99, 90, 100, 49.99, 50, 0])
    assert got == ["hoan_thanh", "tot", "tot", "tot", "xuat_sac", "xuat_sac",
                   "khong_hoan_thanh", "hoan_thanh", "khong_hoan_thanh"]


def test_float_artefacts_do_not_cross_a_bound(thanh_hoa):
    just_below = 89.99999999          # a real value below 90: never "xuất sắc"
    artefact = sum([29.7, 30.1, 30.2])  # 90.00000000000001 in floating point
    artefact_low = 0.1 * 3 * 300      # 90.00000000000001 or 89.99999999999999
    almost = 89.99999999999999        # float noise around a true 90
    assert tiers(thanh_hoa, [just_below, artefact, artefact_low, almost]) == \
        ["tot", "xuat_sac", "xuat_sac", "xuat_sac"]
    assert publish(pd.Series([just_below]), thanh_hoa.precision).iloc[0] == 89.9


@pytest.mark.parametrize(("mode", "values", "expected"), [
    ("down", [87.45, 87.49, -1.25], [87.4, 87.4, -1.2]),
    ("up", [87.41, 87.4, 87.400000000001], [87.5, 87.4, 87.4]),
    ("half_up", [87.45, 87.44, 87.35, 0.05], [87.5, 87.4, 87.4, 0.1]),
    ("half_even", [87.45, 87.35, 87.351, 0.25], [87.4, 87.4, 87.4, 0.2]),
])
def test_rounding_modes_are_exact_decimal(mode, values, expected):
    got = publish(pd.Series(values), Precision(decimals=1, rounding=mode)).tolist()
    assert got == expected


def test_second_regime_classifies_without_code_change(regime2):
    # 2 decimals, half up; Khá from 60,5.
    assert tiers(regime2, [85, 84.995, 84.994, 70, 69.99, 60.5, 60.49, 0]) == \
        ["xs", "xs", "tot", "tot", "kha", "kha", "tb", "tb"]


def frame(scores, groups=None):
    n = len(scores)
    return pd.DataFrame({
        "unit_id": [f"u{i}" for i in range(n)],
        "group": groups or ["a"] * n,
        "final_score": pd.Series(scores, dtype="float64"),
    })


def test_quota_demotes_the_lowest_of_the_top_tier(regime2):
    # 4 at "xs", 6 at "tot". k ≤ 0.2·(6 + 4 − k) → k ≤ 1.67 → 1 kept, 3 demoted.
    scored = frame([99, 95, 90, 86, 80, 80, 75, 75, 72, 71])
    out = classify(scored, regime2)
    assert out["tier_by_score"].tolist()[:4] == ["xs"] * 4
    assert out["tier"].tolist() == ["xs"] + ["tot"] * 9
    assert out["tier_reason"].iloc[1].startswith("Vượt hạn mức «Xuất sắc» (tối đa 20% số đơn vị «Tốt»)")
    assert out["tier_reason"].iloc[0] == ""
    kept = (out["tier"] == "xs").sum()
    assert kept <= 0.2 * (out["tier"] == "tot").sum()


def test_quota_ties_at_the_cut_are_demoted_together(regime2):
    # 11 "tot" + 2 "xs" tied: allowed = floor(0.2·13/1.2) = 2 → both kept;
    # with 3 tied "xs": floor(0.2·14/1.2) = 2 < 3 tied → all three demoted, never over the quota.
    two = classify(frame([90, 90] + [75] * 11), regime2)
    assert (two["tier"] == "xs").sum() == 2
    three = classify(frame([90, 90, 90] + [75] * 11), regime2)
    assert (three["tier"] == "xs").sum() == 0


def test_condition_caps_the_tier(regime2):
    scored = frame([95, 80, 65, 30] + [75] * 20)
    conditions = pd.DataFrame({"unit_id": ["u0", "u1", "u3"], "condition": ["ky_luat"] * 3})
    out = classify(scored, regime2, conditions)
    assert out["tier"].tolist()[:4] == ["kha", "kha", "kha", "tb"]
    assert out["tier_reason"].iloc[0] == "Không được xếp cao hơn «Khá» do: Người đứng đầu bị kỷ luật"
    assert out["tier_reason"].iloc[3] == ""  # already below the cap


def test_classify_returns_a_new_table(thanh_hoa):
    scored = frame([90.0, 85.0])
    before = scored.copy()
    out = classify(scored, thanh_hoa)
    pd.testing.assert_frame_equal(scored, before)
    assert {"score", "tier_by_score", "tier", "tier_reason"} <= set(out.columns)


def _regime2_with_quotas(tmp_path, quotas):
    import yaml

    from evaluation.inputs.rules import load_rules

    data = yaml.safe_load((FIXTURES / "rules" / "four-tiers-quota.yaml").read_text(encoding="utf-8"))
    data["quotas"] = quotas
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_rules(path)


def test_every_quota_holds_when_one_quota_shrinks_what_another_counts(tmp_path):
    # Was: quotas applied once, in order: "tot ≤ 20% of all" ran after "xs ≤ 50% of tot" had
    # counted 4 tot, left 2 tot, and 2 xs stayed (2 > 50% of 2).
    rules = _regime2_with_quotas(tmp_path, [{"tier": "xs", "max_ratio": 0.5, "of": "tot"},
                                            {"tier": "tot", "max_ratio": 0.2, "of": "all"}])
    out = classify(frame([95, 94, 93, 80, 79, 78, 77, 76, 20, 20]), rules)
    assert out["tier"].tolist() == ["xs", "tot", "tot", "kha", "kha", "kha", "kha", "kha", "tb", "tb"]
    n = out["tier"].value_counts()
    assert n["xs"] <= 0.5 * n["tot"] and n["tot"] <= 0.2 * len(out)


def test_a_unit_demoted_twice_keeps_both_reasons(tmp_path):
    rules = _regime2_with_quotas(tmp_path, [{"tier": "xs", "max_ratio": 0.2, "of": "all"},
                                            {"tier": "tot", "max_ratio": 0.1, "of": "all"}])
    out = classify(frame([95, 94, 93, 92] + [60] * 6), rules)
    assert out["tier"].tolist()[:4] == ["xs", "xs", "tot", "kha"]
    assert out["tier_reason"].iloc[3] == (
        "Vượt hạn mức «Xuất sắc» (tối đa 20% tổng số đơn vị): xếp «Tốt»; "
        "Vượt hạn mức «Tốt» (tối đa 10% tổng số đơn vị): xếp «Khá»")


def test_reasons_do_not_depend_on_the_order_of_the_conditions_file(tmp_path):
    # Was: a unit under two conditions had them listed in file order, so the report's footnote
    # and the CSV changed when the conditions file was sorted differently (found by hypothesis).
    import yaml

    from evaluation.inputs.rules import load_rules

    data = yaml.safe_load((FIXTURES / "rules" / "four-tiers-quota.yaml").read_text(encoding="utf-8"))
    data["conditions"].append({"id": "tham_nhung", "name": "Để xảy ra tham nhũng", "max_tier": "tb"})
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rules = load_rules(path)
    scored = frame([95.0])
    reasons = {classify(scored, rules, pd.DataFrame({"unit_id": ["u0", "u0"], "condition": codes}))
               ["tier_reason"].iloc[0] for codes in (["ky_luat", "tham_nhung"], ["tham_nhung", "ky_luat"])}
    # A cap at the lowest tier is said as such (was: "Không được xếp cao hơn «Trung bình»").
    assert reasons == {"Xếp «Trung bình» bất kể điểm do: Người đứng đầu bị kỷ luật; Để xảy ra tham nhũng"}


# -- quota semantics: base before demotion, declared rounding and tie rule, the log -----------

def _quota_rules(tmp_path, **quota):
    return _regime2_with_quotas(tmp_path, [{"tier": "xs", "max_ratio": 0.2, "of": "tot", "scope": "group", **quota}])


def _edge_case() -> pd.DataFrame:
    """14 «tốt»; «xs» by score: 97 (place 1), three tied at 95,0 (places 2–4), then 92 (place 5).

    Self scores of the tie: 96, 99, 98 → gaps 1, 4, 3 (smaller gap first: u1, u3, u2).
    """
    scores = [97, 95, 95, 95, 92] + [75] * 14
    selfs = [97, 96, 99, 98, 92] + [80] * 14
    n = len(scores)
    return pd.DataFrame({"unit_id": [f"u{i}" for i in range(n)], "unit": [f"U{i}" for i in range(n)],
                         "group": "a", "final_score": pd.Series(scores, dtype="float64"),
                         "self_score": pd.Series(selfs, dtype="float64")})


@pytest.mark.parametrize(("ties", "kept", "tie_demoted"), [
    # limit = floor(0,2 × 14) = floor(2,8) = 2: place 1 is kept; places 2–4 straddle the limit.
    ({}, ["u0"], ["u1", "u2", "u3"]),                                       # the whole tie goes down
    ({"otherwise": "keep_all"}, ["u0", "u1", "u2", "u3"], []),              # the whole tie stays (4 > 2)
    ({"break_by": ["gap"]}, ["u0", "u1"], ["u2", "u3"]),                    # smaller gap first: u1 stays
    ({"break_by": ["self_score"]}, ["u0", "u2"], ["u1", "u3"]),             # higher self score first: u2
])
def test_a_tie_at_the_quotas_edge_is_settled_as_the_rules_declare(tmp_path, ties, kept, tie_demoted):
    from evaluation.engine.classify import classify_explained

    out, log = classify_explained(_edge_case(), _quota_rules(tmp_path, ties=ties))
    assert out.loc[out["tier"] == "xs", "unit_id"].tolist() == kept
    limits = log.limits.iloc[0]
    assert (limits["base"], limits["limit_exact"], limits["limit"], limits["in_tier"]) == (14, 2.8, 2, 5)
    assert (limits["kept"], limits["demoted"], limits["tie"]) == (len(kept), 5 - len(kept), 3)
    moves = log.moves.sort_values("order", kind="stable")
    # The lowest goes first (92, order 1), then the tie, worst first by the declared keys
    # (gap: u2's 4 before u3's 3; self score: u1's 96 before u3's 98).
    assert moves["unit_id"].tolist() == ["u4", *tie_demoted]
    assert moves["order"].iloc[0] == 1 and (moves["why"].iloc[0] == "điểm thấp hơn các đơn vị được giữ trong hạn mức")
    assert all(w.startswith("bằng điểm ở giới hạn") for w in moves["why"].iloc[1:])
    assert "(đếm trước khi hạ): 14; tối đa 20% × 14 = 2,8, làm tròn xuống: 2 đơn vị «Xuất sắc»" in limits["sentence"]
    if not ties:  # units the rules cannot tell apart move together and share their place
        assert moves["order"].tolist() == [1, 2, 2, 2]
    else:
        assert moves["order"].tolist() == list(range(1, len(moves) + 1))


def test_the_limit_counts_the_base_before_anyone_is_moved_down(tmp_path):
    # The case: 14 «tốt» and 6 «xs» by score. A reader takes the 14: floor(2,8) = 2.
    # (Was: floor(0,2 × (14 + 6) / 1,2) = 3, the «tốt» counted after the demoted joined them.)
    frame = pd.DataFrame({"unit_id": [f"u{i}" for i in range(20)], "group": "a",
                          "final_score": pd.Series([99, 98, 97, 96, 95, 94] + [75] * 14, dtype="float64")})
    out = classify(frame, _quota_rules(tmp_path))
    assert (out["tier"] == "xs").sum() == 2


@pytest.mark.parametrize(("rounding", "expected"), [("floor", 2), ("half_up", 3), ("ceil", 3)])
def test_the_limits_rounding_is_the_declared_one(tmp_path, rounding, expected):
    # 0,2 × 13 = 2,6: floor 2, half up 3, ceil 3.
    frame = pd.DataFrame({"unit_id": [f"u{i}" for i in range(18)], "group": "a",
                          "final_score": pd.Series([99, 98, 97, 96, 95] + [75] * 13, dtype="float64")})
    out, log = __import__("evaluation.engine.classify", fromlist=["x"]).classify_explained(
        frame, _quota_rules(tmp_path, limit={"rounding": rounding}))
    assert (out["tier"] == "xs").sum() == expected == log.limits["limit"].iloc[0]


def test_the_quota_log_is_per_group_and_empty_without_quotas(tmp_path, regime2):
    from evaluation.engine.classify import classify_explained

    frame = pd.DataFrame({"unit_id": list("pqrstuvw"), "group": list("aaaabbbb"),
                          "final_score": pd.Series([95, 90, 75, 75, 95, 75, 75, 75], dtype="float64")})
    _, log = classify_explained(frame, _quota_rules(tmp_path))
    assert log.limits[["partition", "base", "limit", "demoted"]].to_dict("records") == [
        {"partition": "a", "base": 2, "limit": 0, "demoted": 2}, {"partition": "b", "base": 3, "limit": 0, "demoted": 1}]
    assert set(log.moves["partition"]) == {"a", "b"}
    thanh_hoa = load_rules(ROOT / "params" / "rules" / "thanh-hoa-2016.yaml")
    _, none = classify_explained(frame.assign(group="so_nganh"), thanh_hoa)
    assert none.limits.empty and none.moves.empty


def test_a_not_classified_outcome_below_the_lowest_tier(tmp_path):
    import yaml

    data = yaml.safe_load((FIXTURES / "rules" / "four-tiers-quota.yaml").read_text(encoding="utf-8"))
    data["tiers"][-1] = {"id": "kxl", "name": "Không xếp loại", "short": "Không xếp loại", "color": "#999999",
                         "min": 0, "classified": False}
    data["quotas"] = []
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rules = load_rules(path)
    assert tiers(rules, [85, 60.5, 60.49, 0]) == ["xs", "kha", "kxl", "kxl"]
    assert [t.id for t in rules.classified_tiers] == ["xs", "tot", "kha"]


# -- one implementation: many scenarios in one call, each as if it were the year alone ------------


def _scenarios(k: int = 6) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """``k`` scenarios of two groups built on the tie at the quota's edge, their scores shifted apart.

    Scenario s moves the tied trio by s × 0,05 in turn and shifts the «tốt» units, so the base, the
    limit, the ties and who is kept differ from one scenario to the next.
    """
    edge = _edge_case()
    parts = []
    for s in range(k):
        a = edge.copy()
        a.loc[[1, 2, 3], "final_score"] += [0.05 * (s % 3), 0.0, 0.05 * (s % 2)]
        a.loc[5:, "final_score"] += np.where(np.arange(len(a) - 5) < s, 15.0, 0.0)   # s «tốt» become «xs»
        b = edge.assign(unit_id=lambda t: "b" + t["unit_id"], group="b")
        b.loc[5:5 + s, "final_score"] = 60.0 + s   # fewer «tốt»: a smaller base
        parts.append(pd.concat([a, b], ignore_index=True).assign(scenario=s))
    return pd.concat(parts, ignore_index=True), parts


@pytest.mark.parametrize("ties", [{}, {"otherwise": "keep_all"}, {"break_by": ["gap"]},
                                  {"break_by": ["raw_score", "self_score"], "otherwise": "keep_all"}])
@pytest.mark.parametrize("rounding", ["floor", "half_up", "ceil"])
def test_many_scenarios_in_one_call_are_each_classified_as_the_year_alone(tmp_path, ties, rounding):
    from evaluation.engine.classify import classify_explained

    rules = _quota_rules(tmp_path, ties=ties, limit={"rounding": rounding})
    many, alone = _scenarios()
    conditions = pd.DataFrame({"unit_id": ["u0", "bu1"], "condition": ["ky_luat", "ky_luat"]})
    # Bounds row by row: scenario s puts «xs» at 90 + s/2 (on the published grid).
    mins = np.array([[float(t.min) for t in rules.tiers]] * len(many))
    mins[:, 0] = 90 + many["scenario"].to_numpy() / 2
    got = classify(many, rules, conditions, within="scenario", mins=mins)
    for s, one in enumerate(alone):
        mine = _regime2_with_quotas(tmp_path, [{"tier": "xs", "max_ratio": 0.2, "of": "tot", "scope": "group",
                                                "ties": ties, "limit": {"rounding": rounding}}])
        tiers = [t.model_copy(update={"min": Decimal(str(90 + s / 2))}) if i == 0 else t
                 for i, t in enumerate(mine.tiers)]
        mine = mine.model_copy(update={"tiers": tiers})
        want, _ = classify_explained(one, mine, conditions)
        have = got[got["scenario"] == s].reset_index(drop=True)
        for col in ("score", "tier_by_score", "tier", "tier_reason"):
            assert have[col].tolist() == want[col].tolist(), (s, col)
    # The scenarios differ (a quota counted across them, or one scenario's bounds used for another, would show).
    assert got.groupby("scenario")["tier"].agg(tuple).nunique() == len(alone)


def test_many_scenarios_ranked_in_one_call_are_each_ranked_as_the_year_alone():
    from evaluation.engine.rank import rank

    rules = load_rules(ROOT / "params" / "rules" / "nd-335-2025.yaml")   # tier first
    rng = np.random.default_rng(3)
    n, k = 12, 5
    many = pd.DataFrame({"unit_id": np.tile([f"u{i}" for i in range(n)], k), "group": "so_nganh",
                         "score": rng.choice([95.0, 92.0, 88.0, 88.0, 60.0], n * k),
                         "tier": rng.choice(["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"], n * k),
                         "input_order": np.tile(np.arange(1, n + 1), k), "scenario": np.repeat(np.arange(k), n)})
    got = rank(many, rules, within="scenario")
    for s in range(k):
        want = rank(many[many["scenario"] == s], rules)
        have = got[got["scenario"] == s]
        assert have["unit_id"].tolist() == want["unit_id"].tolist()
        assert have["rank"].tolist() == want["rank"].tolist() and have["order"].tolist() == want["order"].tolist()
