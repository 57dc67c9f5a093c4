"""Ranks within a group: by published score (the 2020 report), or tier first where the rules say so."""

from __future__ import annotations

import pandas as pd

from evaluation.engine.rank import rank
from evaluation.inputs.rules import load_rules
from tests.conftest import FIXTURES, ROOT


def _classified(tiers: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"unit_id": list("pqrst"), "group": "so_nganh",
                         "score": [95.0, 92.0, 88.0, 88.0, 60.0], "tier": tiers, "input_order": range(1, 6)})


def test_tier_first_a_unit_overridden_to_the_lowest_tier_does_not_keep_its_place():
    rules = load_rules(ROOT / "params" / "rules" / "nd-335-2025.yaml")
    assert rules.ranking.by == "tier_then_score"
    # q scored 92 but is «không hoàn thành» by an override; r and s tie at 88 in «tốt».
    out = rank(_classified(["xuat_sac", "khong_hoan_thanh", "tot", "tot", "hoan_thanh"]), rules)
    assert out["unit_id"].tolist() == ["p", "r", "s", "t", "q"]
    assert out["rank"].tolist() == [1, 2, 2, 4, 5]
    assert out["order"].tolist() == [1, 2, 3, 4, 5]


def test_by_score_the_2020_way_ranks_ignore_the_tier():
    rules = load_rules(ROOT / "params" / "rules" / "thanh-hoa-2016.yaml")
    assert rules.ranking.by == "score"
    out = rank(_classified(["xuat_sac", "khong_hoan_thanh", "tot", "tot", "hoan_thanh"]), rules)
    assert out["unit_id"].tolist() == ["p", "q", "r", "s", "t"] and out["rank"].tolist() == [1, 2, 3, 3, 5]


def test_same_score_different_tier_ranks_apart_when_tier_comes_first():
    # A quota keeps one of two units tied at 95 (tie-break) and moves the other down.
    rules = load_rules(FIXTURES / "years" / "province-b" / "rules" / "kha-70.yaml")
    classified = pd.DataFrame({"unit_id": ["a", "b", "c"], "group": "xa", "score": [95.0, 95.0, 85.0],
                               "tier": ["tot", "xuat_sac", "tot"], "input_order": [1, 2, 3]})
    out = rank(classified, rules)
    assert out["unit_id"].tolist() == ["b", "a", "c"] and out["rank"].tolist() == [1, 2, 3]
