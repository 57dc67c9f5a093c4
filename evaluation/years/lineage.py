"""Units across years: renames, merges and splits, from the registry's predecessor chains.

The registry (``data/units.csv``) says which units a unit succeeds
(``predecessors``) and from which year it exists (``valid_from``).  Huyện
Tĩnh Gia (until 2019) → thị xã Nghi Sơn (from 2020) is one such chain.  To
compare two years, :func:`follow` maps each unit of the earlier year to the
unit(s) that carry it on in the later year:

``same``
    the unit is in both years under the same id;
``renamed``
    one unit became exactly one other (possibly through units of the years in
    between, which the comparison does not show);
``merged``
    several units of the earlier year became one unit (the pair of each unit
    that was merged into another);
``absorbed``
    the pair of a unit with itself when it continues and absorbed other units
    (Sở Tài chính 2026, which took in Sở Kế hoạch và Đầu tư): the same id, but not
    the same unit — its scores are not set against each other;
``split``
    one unit became several (including a part that broke away from a unit that
    continues);
``dissolved`` / ``formed``
    a unit of only the earlier year that was dissolved, its area passing to
    units of the later year (``succession: area`` in the registry: district →
    commune), and a unit of only the later year formed on such an area.  They
    are compared at group level only, never unit by unit;
``gone`` / ``new``
    a unit of only the earlier / only the later year, with no link.

Only links that took effect between the two years count: a link takes effect
in the successor's first year (``valid_from``), or, for a successor that was
already there (a unit that absorbs another), in the year after its
predecessor's last; a link that took effect at or before the earlier year is
old history.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..inputs.registry import Registry

__all__ = ["CHANGES", "FOLLOWED", "successor_links", "follow", "follow_years", "area_links"]

CHANGES = ("same", "renamed", "merged", "absorbed", "split", "dissolved", "formed", "gone", "new")
# Pairs whose scores describe the same unit and can be subtracted.
FOLLOWED = ("same", "renamed")


def successor_links(registry: Registry) -> pd.DataFrame:
    """Every predecessor → successor link: the year it takes effect (may be missing) and its
    ``succession`` (``tasks``: the successor carries the predecessor on; ``area``: only the
    dissolved predecessor's area passes to it)."""
    units = registry.units
    links = units[["id", "predecessors", "valid_from", "succession"]].explode("predecessors")
    links = links.dropna(subset=["predecessors"])
    pred_last = links["predecessors"].map(units["valid_to"]).astype("Int64")
    since = links["valid_from"].astype("Int64").fillna(pred_last + 1)
    return pd.DataFrame({
        "pred": links["predecessors"].astype("string"),
        "succ": links["id"].astype("string"),
        "since": since.astype("Int64"),
        "succession": links["succession"].astype("string"),
    }).drop_duplicates(["pred", "succ"]).reset_index(drop=True)


def _walk(links: pd.DataFrame, start: pd.Series, targets: pd.Index, stop: pd.Index,
          limit: int) -> pd.DataFrame:
    """Follow links from ``start``; returns the (id_a, id_b) pairs that reach ``targets``.

    A chain ends at a node in ``stop`` (a unit of either year: what lies beyond it
    is that unit's own history).  One merge per step of the chains, not per unit; a
    chain that loops is cut by the set of (start, node) pairs already seen.
    """
    frontier = pd.DataFrame({"id_a": start.astype("string"), "node": start.astype("string")})
    seen = frontier.copy()
    found = []
    for _ in range(limit):
        step = (frontier.merge(links, left_on="node", right_on="pred")[["id_a", "succ"]]
                .rename(columns={"succ": "node"}).drop_duplicates())
        step = step.merge(seen, how="left", indicator=True)
        step = step[step["_merge"] == "left_only"].drop(columns="_merge")
        if step.empty:
            break
        seen = pd.concat([seen, step], ignore_index=True)
        found.append(step[step["node"].isin(targets)])
        frontier = step[~step["node"].isin(stop)]
    if not found:
        return pd.DataFrame({"id_a": pd.Series(dtype="string"), "id_b": pd.Series(dtype="string")})
    return pd.concat(found, ignore_index=True).rename(columns={"node": "id_b"})


def follow(registry: Registry, before: Iterable[str], after: Iterable[str], *,
           years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Map the units of one year to those of a later year.

    Parameters
    ----------
    registry : Registry
        Holds the predecessor links (the later year's registry knows the most history).
    before, after : iterable of str
        Unit ids present in the earlier and the later year (e.g. the ``unit_id`` of
        each year's results).
    years : (int, int), optional
        The two years: links whose successor starts at or before the first year, or
        after the second, are left out.  A link without ``valid_from`` always counts.

    Returns
    -------
    pandas.DataFrame
        One row per pair, columns ``id_a`` (missing for ``new``), ``id_b`` (missing for
        ``gone``) and ``change`` (one of :data:`CHANGES`).  Rows follow the later
        year's order, then the units that are gone in the earlier year's order.
    """
    a = pd.Index(pd.unique(pd.Series(list(before), dtype="string")))
    b = pd.Index(pd.unique(pd.Series(list(after), dtype="string")))
    links = successor_links(registry)
    if years is not None:
        first, last = years
        since = links["since"]
        links = links[(since.isna() | ((since > first) & (since <= last))).fillna(True)]
    area = links[links["succession"] == "area"]
    links = links[links["succession"] != "area"]
    same = a.intersection(b, sort=False)
    limit = len(registry.units) + 1
    # A unit gone from the later year is followed to any unit there; a unit that continues
    # is followed only to units new in the later year (the parts that broke away from it).
    gone_ids = a.difference(b, sort=False)
    new_ids = b.difference(a, sort=False)
    stop = a.union(b, sort=False)
    moved = pd.concat([_walk(links, pd.Series(gone_ids, dtype="string"), b, stop, limit),
                       _walk(links, pd.Series(same, dtype="string"), new_ids, stop, limit)],
                      ignore_index=True)
    moved = moved[moved["id_a"] != moved["id_b"]].drop_duplicates()
    pairs = pd.concat([pd.DataFrame({"id_a": pd.Series(same, dtype="string"),
                                     "id_b": pd.Series(same, dtype="string")}), moved], ignore_index=True)
    fan_out = pairs.groupby("id_a")["id_b"].transform("nunique")
    fan_in = pairs.groupby("id_b")["id_a"].transform("nunique")
    change = pd.Series("renamed", index=pairs.index, dtype="string")
    change = change.mask(fan_in > 1, "merged").mask(fan_out > 1, "split")
    itself = pairs["id_a"] == pairs["id_b"]
    change = change.mask(itself, "same").mask(itself & (fan_in > 1), "absorbed")
    pairs["change"] = change
    # Area links (district → commune): the units are set side by side at group level only.
    area_ends = _walk(area.drop(columns="succession"), pd.Series(gone_ids, dtype="string"), b, stop, limit)
    dissolved_ids = set(area_ends["id_a"]) - set(pairs["id_a"])
    formed_ids = set(area_ends["id_b"]) - set(pairs["id_b"])
    gone = pd.DataFrame({"id_a": pd.Series(gone_ids.difference(pairs["id_a"], sort=False), dtype="string")})
    gone["id_b"] = pd.NA
    gone["change"] = gone["id_a"].map(lambda i: "dissolved" if i in dissolved_ids else "gone")
    new = pd.DataFrame({"id_b": pd.Series(new_ids.difference(pairs["id_b"], sort=False), dtype="string")})
    new["id_a"] = pd.NA
    new["change"] = new["id_b"].map(lambda i: "formed" if i in formed_ids else "new")
    out = pd.concat([pairs, new, gone], ignore_index=True).astype("string")
    # Later year's order first (new units in place), then the gone units in the earlier order.
    pos_b = out["id_b"].map(pd.Series(range(len(b)), index=b)).fillna(len(b))
    pos_a = out["id_a"].map(pd.Series(range(len(a)), index=a)).fillna(len(a))
    out = out.assign(_b=pos_b, _a=pos_a).sort_values(["_b", "_a"], kind="stable")
    return out.drop(columns=["_b", "_a"])[["id_a", "id_b", "change"]].reset_index(drop=True)


def area_links(registry: Registry, before: Iterable[str], after: Iterable[str], *,
               years: tuple[int, int] | None = None) -> pd.DataFrame:
    """The (dissolved unit of the earlier year, unit of the later year formed on its area) pairs,
    for comparing at group level; columns ``id_a``, ``id_b``."""
    a = pd.Index(pd.unique(pd.Series(list(before), dtype="string")))
    b = pd.Index(pd.unique(pd.Series(list(after), dtype="string")))
    links = successor_links(registry)
    if years is not None:
        since = links["since"]
        links = links[(since.isna() | ((since > years[0]) & (since <= years[1]))).fillna(True)]
    area = links[links["succession"] == "area"].drop(columns="succession")
    return _walk(area, pd.Series(a.difference(b, sort=False), dtype="string"), b, a.union(b, sort=False),
                 len(registry.units) + 1).drop_duplicates().reset_index(drop=True)


def follow_years(registry: Registry, first: int, last: int) -> pd.DataFrame:
    """:func:`follow` between the units the registry declares valid in two years."""
    units = registry.units["id"]
    return follow(registry, units[registry.valid_in(first)], units[registry.valid_in(last)],
                  years=(first, last))
