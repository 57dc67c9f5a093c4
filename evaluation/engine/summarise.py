"""Stage: summarise. Counts by tier and group, self-versus-appraised gaps,
units near a tier bound, and the Vietnamese summary sentences of the report.
"""

from __future__ import annotations

import pandas as pd

from ..fmt import count, number
from ..inputs.registry import Registry
from ..inputs.rules import Group, Rules

__all__ = ["groups_present", "count_tiers", "unit_gaps", "group_gaps", "near_bounds", "summary_sentences", "join_vi",
           "findings"]

TOTAL = "total"


def groups_present(ranked: pd.DataFrame, rules: Rules) -> list[str]:
    """The groups of the rules that have units in the year, in the rules' order."""
    present = set(ranked["group"])
    return [g for g in rules.group_ids if g in present]


def count_tiers(ranked: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Units per tier (rows, best first) and group (columns, rules order), with totals.

    Every tier of the rules appears, with zeros where nobody is; the groups are those
    the year evaluates (a group of the rules without a unit this year is absent, not
    an empty column).
    """
    groups = groups_present(ranked, rules)
    table = pd.crosstab(
        pd.Categorical(ranked["tier"], categories=rules.tier_ids),
        pd.Categorical(ranked["group"], categories=groups),
        dropna=False,
    )
    table.index.name, table.columns.name = "tier", "group"
    table = table.reindex(index=rules.tier_ids, columns=groups, fill_value=0)
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum(axis=0)
    return table.astype("int64")


def unit_gaps(ranked: pd.DataFrame) -> pd.DataFrame:
    """Self score minus published score per unit, largest first (units without a self score left out)."""
    out = ranked.loc[ranked["self_score"].notna()].copy()
    out["gap"] = (out["self_score"] - out["score"]).round(6)
    return out.sort_values(["gap", "group", "order"], ascending=[False, True, True], kind="stable")


def group_gaps(ranked: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Per group: units, mean/median/max gap and how many scored themselves above the appraisal."""
    gaps = unit_gaps(ranked)
    table = gaps.groupby("group").agg(
        units=("gap", "size"),
        mean_gap=("gap", "mean"),
        median_gap=("gap", "median"),
        max_gap=("gap", "max"),
        above=("gap", lambda g: int((g > 0).sum())),
    )
    return table.reindex([g for g in rules.group_ids if g in table.index]).round(2)


def near_bounds(ranked: pd.DataFrame, rules: Rules, within: float) -> pd.DataFrame:
    """Units whose published score lies within ``within`` points of a tier bound.

    The lowest tier's bound (the bottom of the scale) is not a bound between
    tiers and is ignored.  Returns one row per (unit, bound) with ``bound``
    and ``distance`` (score − bound; negative = below the bound).
    """
    bounds = pd.DataFrame({"bound": [float(t.min) for t in rules.tiers[:-1]],
                           "bound_tier": [t.id for t in rules.tiers[:-1]]})
    pairs = ranked.merge(bounds, how="cross")
    pairs["distance"] = (pairs["score"] - pairs["bound"]).round(6)
    near = pairs[pairs["distance"].abs() <= within].assign(_far=lambda t: t["distance"].abs())
    near = near.sort_values(["_far", "group", "order"], kind="stable")
    return near.drop(columns="_far").reset_index(drop=True)


def join_vi(parts: list[str]) -> str:
    """``["a", "b", "c"]`` → ``"a; b và c"`` (labels may contain commas, hence ';')."""
    if len(parts) <= 1:
        return "".join(parts)
    return "; ".join(parts[:-1]) + " và " + parts[-1]


def _label(group: Group, units: pd.DataFrame, registry: Registry) -> str:
    if "{kinds}" not in group.summary_label:
        return group.summary_label
    present = set(registry.units.loc[units["unit_id"], "kind"])
    kinds = [k for k in group.kinds if k in present] + sorted(present - set(group.kinds) - {""})
    return group.summary_label.replace("{kinds}", ", ".join(kinds))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def summary_sentences(ranked: pd.DataFrame, rules: Rules, registry: Registry, *,
                      year: int, verb: str | None = None, lead: str = "") -> list[str]:
    """The summary of the report's results section, in Vietnamese.

    The first sentence counts the units by group; then one sentence per tier
    lists its units by group, e.g. "11 cơ quan, đơn vị dự kiến xếp loại hoàn
    thành xuất sắc nhiệm vụ gồm: 05 sở, ngành; 05 UBND huyện, thành phố và 01
    đơn vị sự nghiệp công lập."  District kinds are named from the units
    actually counted ("huyện, thành phố" when no thị xã is among them).  The
    words are the rules' (``wording``: the classification verb, what is
    classified, the noun for the units); ``verb`` overrides the verb.  The
    declared "not classified" outcome gets a sentence only when a unit is in it.

    With a ``lead`` (the year's "Căn cứ …, Sở Nội vụ tổng hợp,"), the first sentence is the
    seed's: "<lead> dự kiến xếp loại mức độ hoàn thành nhiệm vụ năm 2020 của 61 cơ quan, đơn
    vị, gồm: …, cụ thể như sau:".
    """
    words = rules.wording
    verb = verb or words.classification
    units_noun = words.units
    groups = rules.summary_groups
    total = len(ranked)
    intro = [f"{count(n)} {g.count_label}" for g in groups
             if (n := int((ranked["group"] == g.id).sum()))]
    if lead:
        sentences = [f"{lead.rstrip()} {verb} {words.subject} năm {year} của {count(total)} "
                     f"{units_noun}, gồm: {join_vi(intro)}, cụ thể như sau:"]
    else:
        sentences = [f"Kết quả đánh giá, xếp loại {words.subject} năm {year} của {count(total)} "
                     f"{units_noun}, gồm: {join_vi(intro)}."]
    for tier in rules.tiers:
        in_tier = ranked[ranked["tier"] == tier.id]
        said = f"{verb} {_lower_first(tier.name)}" if tier.classified else _lower_first(tier.name)
        if in_tier.empty:
            if tier.classified:
                sentences.append(f"Không có {units_noun} nào {said}.")
            continue
        parts = []
        for g in groups:
            units = in_tier[in_tier["group"] == g.id]
            if len(units):
                parts.append(f"{count(len(units))} {_label(g, units, registry)}")
        sentences.append(f"{count(len(in_tier))} {units_noun} {said} gồm: {join_vi(parts)}.")
    return sentences


def findings(ranked: pd.DataFrame, rules: Rules, *, within: float, decimals: int = 2) -> list[str]:
    """What the numbers say, for the report's "Đánh giá chung": self-scoring, tiers, units near a bound.

    Plain counts ("61/61 cơ quan, đơn vị"), the way the Sở would write them; points at ``decimals``.
    """
    out: list[str] = []
    gaps = unit_gaps(ranked)
    total = len(ranked)
    if len(gaps):
        above = gaps[gaps["gap"] > 0]
        top = gaps.iloc[0]
        groups = group_gaps(ranked, rules)
        widest = groups["mean_gap"].idxmax() if len(groups) > 1 else None
        text = (f"{len(above)}/{len(gaps)} cơ quan, đơn vị tự chấm cao hơn điểm đánh giá; chênh lệch trung bình "
                f"{number(gaps['gap'].mean(), decimals)} điểm, lớn nhất {number(top['gap'], decimals)} điểm "
                f"({top['unit']})")
        if widest is not None:
            text += (f"; nhóm chênh lệch nhiều nhất: {rules.group(widest).name} (trung bình "
                     f"{number(groups.at[widest, 'mean_gap'], decimals)} điểm)")
        out.append(text + ".")
    best = rules.tiers[0]
    n_best = int((ranked["tier"] == best.id).sum())
    out.append(f"{n_best}/{total} cơ quan, đơn vị đạt mức {best.name[:1].lower() + best.name[1:]} "
               f"({number(n_best / total * 100 if total else 0, 1)}%).")
    near = near_bounds(ranked, rules, within)
    if len(near):
        names = join_vi(list(dict.fromkeys(near["unit"])))
        out.append(f"{near['unit_id'].nunique()} cơ quan, đơn vị có điểm đánh giá cách ngưỡng xếp loại không quá "
                   f"{number(within, 0, max_decimals=2)} điểm: {names}.")
    return out
