"""Units followed across years through the registry: renames, merges, splits, new and gone units."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from evaluation.inputs.registry import load_registry
from evaluation.years.lineage import follow, follow_years
from tests.conftest import ROOT

HEADER = "id,name,short_name,group,kind,valid_from,valid_to,predecessors,aliases\n"


def _registry(tmp_path: Path, rows: str):
    path = tmp_path / "units.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return load_registry(path)


def _pairs(frame: pd.DataFrame) -> set[tuple[object, object, str]]:
    return {(None if pd.isna(a) else a, None if pd.isna(b) else b, c)
            for a, b, c in zip(frame["id_a"], frame["id_b"], frame["change"], strict=True)}


def test_tinh_gia_is_followed_to_nghi_son():
    registry = load_registry(ROOT / "data" / "units.csv")
    changes = follow_years(registry, 2019, 2020)
    moved = changes[changes["change"] != "same"]
    assert _pairs(moved) == {("huyen-tinh-gia", "tx-nghi-son", "renamed")}
    assert len(changes) == 61
    # From 2020 on nothing changes: the old link is history, not a split of Nghi Sơn.
    later = follow_years(registry, 2020, 2021)
    assert set(later["change"]) == {"same"} and len(later) == 61


@pytest.fixture
def history(tmp_path):
    # x → y (2021) → z (2022): a rename through a year in between.
    # p + q → r (2022): a merge.  s → t + u (2022): a split.
    # v continues; w breaks away from v (2022).  k broke away from j long ago (2010).
    # g is gone in 2022; n is new in 2022 with no predecessor.
    return _registry(tmp_path, """\
x,X,X,a,,,2020,,
y,Y,Y,a,,2021,2021,x,
z,Z,Z,a,,2022,,y,
p,P,P,a,,,2021,,
q,Q,Q,a,,,2021,,
r,R,R,a,,2022,,p|q,
s,S,S,a,,,2021,,
t,T,T,a,,2022,,s,
u,U,U,a,,2022,,s,
v,V,V,a,,,,,
w,W,W,a,,2022,,v,
j,J,J,a,,,,,
k,K,K,a,,2010,,j,
g,G,G,a,,,2021,,
n,N,N,a,,2022,,,
""")


def test_renames_merges_splits_new_and_gone(history):
    changes = follow_years(history, 2020, 2022)
    assert _pairs(changes) == {
        ("x", "z", "renamed"),
        ("p", "r", "merged"), ("q", "r", "merged"),
        ("s", "t", "split"), ("s", "u", "split"),
        ("v", "v", "same"), ("v", "w", "split"),
        ("j", "j", "same"), ("k", "k", "same"),
        ("g", None, "gone"), (None, "n", "new"),
    }


def test_follow_takes_the_units_actually_present(history):
    # The same registry, with the units as two years' results list them.
    changes = follow(history, ["x", "g", "v"], ["z", "v", "n"])
    assert _pairs(changes) == {("x", "z", "renamed"), ("v", "v", "same"), ("g", None, "gone"),
                               (None, "n", "new")}
    # Rows come in the later year's order, the gone units last.
    assert changes["id_b"].tolist()[:3] == ["z", "v", "n"] and changes["change"].iloc[-1] == "gone"


def test_a_unit_that_absorbs_another_keeps_its_own_line(tmp_path):
    registry = _registry(tmp_path, "a,A,A,g,,,,,\nb,B,B,g,,,2020,,\nc,C,C,g,,2021,,a|b,\n"
                                   "d,D,D,g,,,,,\ne,E,E,g,,,2020,,\nd2,D2,D2,g,,,,d|e,\n")
    # a and b merge into c (new); e is absorbed by d2, which already existed (no valid_from).
    # d2 keeps its own line, said to have absorbed (was: "same", as if nothing had joined it).
    changes = follow(registry, ["a", "b", "d2", "e"], ["c", "d2"], years=(2020, 2021))
    assert _pairs(changes) == {("a", "c", "merged"), ("b", "c", "merged"),
                               ("d2", "d2", "absorbed"), ("e", "d2", "merged")}
    # The absorption took effect in 2021 (the year after e's last): from 2021 on, d2 is itself.
    assert _pairs(follow(registry, ["d2"], ["d2"], years=(2021, 2022))) == {("d2", "d2", "same")}


def test_a_loop_in_the_predecessors_ends(tmp_path):
    # load_registry refuses a loop (tests/test_registry.py); a registry made otherwise may still hold one.
    registry = _registry(tmp_path, "a,A,A,g,,,,,\nb,B,B,g,,,,a,\nc,C,C,g,,,,,\n")
    units = registry.units.copy()
    units.at["a", "predecessors"] = ("b",)
    registry = dataclasses.replace(registry, units=units)
    changes = follow(registry, ["a"], ["c"])
    assert _pairs(changes) == {("a", None, "gone"), (None, "c", "new")}


def test_follow_returns_new_tables_and_leaves_the_registry_alone(history):
    before = history.units.copy()
    follow_years(history, 2020, 2022)
    pd.testing.assert_frame_equal(history.units, before)
