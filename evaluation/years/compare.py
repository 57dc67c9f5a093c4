"""Stage: compare. Two or more evaluated years side by side.

For each pair of consecutive years: every unit's change of score, rank and
tier (units followed across renames, merges and splits by
:mod:`evaluation.years.lineage`), the tier transition counts (from × to, by group),
and what differs between the two years' rules — different tiers, bounds,
precision or criteria make the numbers less comparable, and the report says so
beside them.  Across all the years: the self score minus the appraised score of
each unit, year after year.

Every function returns a new table; the evaluations are not changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.pipeline import Evaluation, display_path, evaluate
from ..engine.summarise import join_vi, unit_gaps
from ..errors import InputError, Problem
from ..fmt import count, fmt_bound
from ..inputs.registry import effect_date
from ..inputs.rules import ROUNDING_WORDS, Rules
from .lineage import FOLLOWED, area_links, follow

__all__ = ["YearPair", "Comparison", "load_years", "compare_years", "compare", "year_label",
           "unit_changes", "transitions", "rule_differences", "gaps_over_years", "changes_table",
           "CHANGE_WORDS", "NEW", "GONE", "comparability", "COMPARABLE", "successions", "group_flows",
           "group_sides", "subject"]

NEW, GONE = "new", "gone"
_RESULT_COLUMNS = ["unit_id", "unit", "group", "self_score", "score", "rank", "order", "tier"]


def year_label(ev: Evaluation) -> str:
    """How a year is named in the comparison: ``2020``, or ``2021 (minh họa)`` for illustrative data."""
    return f"{ev.params.year}" + (" (minh họa)" if ev.params.params.illustrative else "")


@dataclass(frozen=True)
class YearPair:
    """Two consecutive years compared.

    Attributes
    ----------
    a, b : Evaluation
        The earlier and the later year.
    changes : pandas.DataFrame
        One row per unit pair (see :func:`unit_changes`).
    differences : list of str
        What differs between the two years' rules (empty when they match).
    transitions : dict of str to pandas.DataFrame
        Tier transition counts per group, and ``"total"`` (see :func:`transitions`).
    """

    a: Evaluation
    b: Evaluation
    changes: pd.DataFrame
    differences: list[str]
    transitions: dict[str, pd.DataFrame]

    @property
    def comparable(self) -> bool:
        return not self.differences

    @property
    def labels(self) -> tuple[str, str]:
        return year_label(self.a), year_label(self.b)


@dataclass(frozen=True)
class Comparison:
    """Every year compared, oldest first."""

    years: list[Evaluation]
    pairs: list[YearPair]
    gaps: pd.DataFrame

    @property
    def labels(self) -> list[str]:
        return [year_label(ev) for ev in self.years]

    @property
    def illustrative(self) -> bool:
        return any(ev.params.params.illustrative for ev in self.years)

    @property
    def title(self) -> str:
        return f"So sánh kết quả đánh giá, xếp loại {subject(self.years)}các năm " + ", ".join(self.labels)


def subject(years: Sequence[Evaluation]) -> str:
    """What the years classify, followed by a space ("mức độ hoàn thành nhiệm vụ "), when every year
    says it the same way; nothing when they differ (2020: task completion; 2026: "chất lượng")."""
    said = {ev.rules.wording.subject for ev in years}
    return f"{said.pop()} " if len(said) == 1 else ""


# -- loading ---------------------------------------------------------------------------------


def load_years(params_paths: Sequence[Path | str]) -> list[Evaluation]:
    """Evaluate every year, oldest first; bad input in any of them is one InputError for all.

    Raises
    ------
    InputError
        Every problem of every year; also two params files of the same year, or
        fewer than two years.
    """
    problems: list[Problem] = []
    years: list[Evaluation] = []
    for path in params_paths:
        try:
            years.append(evaluate(path))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    years.sort(key=lambda ev: (ev.params.year, ev.params.id))
    seen: dict[int, Evaluation] = {}
    for ev in years:
        if ev.params.year in seen:
            problems.append(Problem(display_path(ev.params.path), None, "year", str(ev.params.year),
                                    f"trùng năm với {display_path(seen[ev.params.year].params.path)}; "
                                    "mỗi năm chỉ so sánh một lần"))
        seen.setdefault(ev.params.year, ev)
    if len(years) < 2 and not problems:
        problems.append(Problem(", ".join(str(p) for p in params_paths) or "(không có)", None, None, None,
                                "cần ít nhất hai năm để so sánh"))
    if problems:
        raise InputError(problems)
    return years


# -- one pair of years ------------------------------------------------------------------------


def _side(ev: Evaluation, suffix: str) -> pd.DataFrame:
    return ev.ranked[_RESULT_COLUMNS].rename(columns=lambda c: f"{c}{suffix}")


def unit_changes(a: Evaluation, b: Evaluation) -> pd.DataFrame:
    """Each unit of two years side by side.

    Returns
    -------
    pandas.DataFrame
        One row per unit pair from :func:`evaluation.years.lineage.follow` (the later
        year's registry), with each side's ``unit``, ``group``, ``self_score``,
        ``score``, ``rank``, ``order`` and ``tier`` (suffixes ``_a``, ``_b``) and:

        ``group``
            the later year's group (the earlier one's for a unit that is gone);
        ``delta_score``
            score b − score a, for units followed as themselves (``same``,
            ``renamed``), missing otherwise;
        ``delta_rank``
            rank a − rank b (positive = moved up), when also in the same group;
        ``tier_move``
            ``up``, ``down`` or ``same`` when both years have the same tiers;
            missing when the tiers differ or the unit is not followed.
    """
    pairs = follow(b.registry, a.ranked["unit_id"], b.ranked["unit_id"],
                   years=(a.params.year, b.params.year))
    out = (pairs.merge(_side(a, "_a"), how="left", left_on="id_a", right_on="unit_id_a")
           .merge(_side(b, "_b"), how="left", left_on="id_b", right_on="unit_id_b")
           .drop(columns=["unit_id_a", "unit_id_b"]))
    followed = out["change"].isin(FOLLOWED)
    out["note"] = _change_notes(out, a, b)
    decimals = max(a.rules.precision.decimals, b.rules.precision.decimals)
    out["group"] = out["group_b"].fillna(out["group_a"])
    out["unit"] = out["unit_b"].fillna(out["unit_a"])
    out["delta_score"] = (out["score_b"] - out["score_a"]).round(decimals).where(followed)
    same_group = followed & (out["group_a"] == out["group_b"]).fillna(False)
    out["delta_rank"] = (out["rank_a"] - out["rank_b"]).where(same_group).astype("Int64")
    if a.rules.tier_ids == b.rules.tier_ids:
        pos = {t: i for i, t in enumerate(b.rules.tier_ids)}
        step = out["tier_a"].map(pos) - out["tier_b"].map(pos)
        move = pd.Series(pd.NA, index=out.index, dtype="string")
        move = move.mask(step > 0, "up").mask(step < 0, "down").mask(step == 0, "same")
        out["tier_move"] = move.where(followed)
    else:
        out["tier_move"] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out


def _change_notes(out: pd.DataFrame, a: Evaluation, b: Evaluation) -> pd.Series:
    """What happened to each unit, in Vietnamese, naming the units on the other side."""
    names_a = a.ranked.set_index("unit_id")["unit"]
    names_b = b.ranked.set_index("unit_id")["unit"]
    group_names = {g.id: g.name for ev in (a, b) for g in ev.rules.groups}
    merged = out[out["change"] == "merged"]
    into = merged.groupby("id_b")["id_a"].agg(lambda ids: join_vi([str(names_a.get(i, i)) for i in ids]))
    ya, yb = year_label(a), year_label(b)
    area = area_links(b.registry, a.ranked["unit_id"], b.ranked["unit_id"], years=(a.params.year, b.params.year))
    to_group = area.assign(g=area["id_b"].map(b.ranked.set_index("unit_id")["group"])).groupby("id_a")
    from_units = area.groupby("id_b")["id_a"].agg(lambda ids: join_vi([str(names_a.get(i, i)) for i in ids]))

    def note(row: pd.Series) -> str:
        change, ia, ib = row["change"], row["id_a"], row["id_b"]
        if change == "same":
            return "không đổi: so sánh trực tiếp"
        if change == "renamed":
            return f"đổi tên (năm {ya}: {names_a.get(ia, ia)}): so sánh trực tiếp"
        if change == "absorbed":
            return (f"tiếp nhận {into.get(ib, '')} sáp nhập vào: không so sánh điểm, vì năm {yb} đơn vị gồm cả "
                    "đơn vị sáp nhập (không cộng hay lấy trung bình điểm các đơn vị cũ)")
        if change == "merged":
            return f"sáp nhập vào {names_b.get(ib, ib)}: không so sánh điểm"
        if change == "split":
            return f"chia tách, một phần thành {names_b.get(ib, ib)}: không so sánh điểm"
        if change == "dissolved":
            part = to_group.get_group(ia) if ia in to_group.groups else None
            target = "" if part is None else (
                f" sang {count(part['id_b'].nunique())} đơn vị nhóm "
                + join_vi([group_names.get(g, g) for g in pd.unique(part["g"].dropna())]))
            return f"giải thể, địa bàn chuyển{target}: chỉ so sánh ở cấp nhóm"
        if change == "formed":
            return f"thành lập trên địa bàn của {from_units.get(ib, '')}: chỉ so sánh ở cấp nhóm"
        if change == NEW:
            return f"chỉ có năm {yb}"
        return f"chỉ có năm {ya}"

    return out.apply(note, axis=1).astype("string") if len(out) else pd.Series(dtype="string")


def transitions(changes: pd.DataFrame, rules_a: Rules, rules_b: Rules) -> dict[str, pd.DataFrame]:
    """Tier transition counts, from the earlier year's tier (rows) to the later one's (columns).

    Units followed as themselves (``same``, ``renamed``) count in the cell of their
    two tiers; a unit of the later year only counts in row ``new``, a unit of the
    earlier year only in column ``gone``.  Merged and split units are not counted
    (their scores describe different units); the report lists them by name.

    Returns
    -------
    dict of str to pandas.DataFrame
        One table per group present (the later year's groups first, in the rules'
        order), then ``"total"``; each table is int64 with every tier of both years.
    """
    rows = [*rules_a.tier_ids, NEW]
    cols = [*rules_b.tier_ids, GONE]
    counted = changes[changes["change"].isin([*FOLLOWED, NEW, GONE])]
    frm = counted["tier_a"].where(counted["change"] != NEW, NEW)
    to = counted["tier_b"].where(counted["change"] != GONE, GONE)
    frame = pd.DataFrame({"group": counted["group"], "from": frm, "to": to})
    order = [*rules_b.group_ids, *[g for g in rules_a.group_ids if g not in rules_b.group_ids]]
    out: dict[str, pd.DataFrame] = {}
    for key, part in [*((g, frame[frame["group"] == g]) for g in order), ("total", frame)]:
        if key != "total" and part.empty:
            continue
        table = pd.crosstab(pd.Categorical(part["from"], categories=rows),
                            pd.Categorical(part["to"], categories=cols), dropna=False)
        table = table.reindex(index=rows, columns=cols, fill_value=0).astype("int64")
        table.index.name, table.columns.name = "from", "to"
        out[key] = table
    return out


# -- rules -------------------------------------------------------------------------------------

# Fields that describe or cite the rules without changing how a score or a tier is made.
_WORDING = {"id", "name", "source", "confirmed", "note", "color", "bodies", "method_notes",
            "summary_order", "count_label", "summary_label", "numeral", "title", "date", "role", "short",
            "wording", "kind", "reason", "issuer"}
_HANDLED = {"regulations", "scale", "precision", "tiers", "groups", "conditions", "quotas"}
# Vietnamese names of the other rule sections: a note never shows a key of the rules file.
_SECTION_NAMES = {"criteria": "tiêu chí chấm điểm", "adjustments": "điểm thưởng, điểm trừ",
                  "bonus": "điểm thưởng", "penalties": "điểm trừ", "surveys": "phiếu đánh giá",
                  "criteria_sets": "bộ tiêu chí chấm điểm", "rater_kinds": "người đánh giá qua phiếu",
                  "periods": "điểm theo kỳ và cách tính điểm năm", "ranking": "cách xếp thứ hạng",
                  "not_evaluated": "nhóm đơn vị không đánh giá"}


def _substance(value: Any) -> Any:
    """A rules value without its wording (names, sources, colours): what changes the numbers."""
    if isinstance(value, dict):
        return {k: _substance(v) for k, v in value.items() if k not in _WORDING}
    if isinstance(value, list):
        return [_substance(v) for v in value]
    return value


def _tiers_text(rules: Rules) -> str:
    return ", ".join(f"{t.short} từ {fmt_bound(t.min)}" for t in rules.tiers)


def rule_differences(a: Rules, b: Rules, label_a: str, label_b: str) -> list[str]:
    """What differs, in substance, between the rules of two years (Vietnamese sentences).

    Tiers (their number, names or bounds), the score scale, the published
    precision, the groups, conditions, quotas, the regulations applied and any
    other section (such as criteria) are compared; wording, sources and colours
    are not.  An empty list means the numbers of the two years are comparable.
    """
    out: list[str] = []
    both = f"năm {label_a} và năm {label_b}"
    if [(t.id, t.name) for t in a.tiers] != [(t.id, t.name) for t in b.tiers]:
        out.append(f"Các mức xếp loại khác nhau: năm {label_a}: {_tiers_text(a)}; "
                   f"năm {label_b}: {_tiers_text(b)}.")
    else:
        moved = [f"«{ta.short}» từ {fmt_bound(ta.min)} (năm {label_a}) và từ {fmt_bound(tb.min)} "
                 f"(năm {label_b})" for ta, tb in zip(a.tiers, b.tiers, strict=True) if ta.min != tb.min]
        if moved:
            out.append("Ngưỡng xếp loại khác nhau: " + "; ".join(moved) + ".")
    sa, sb = a.scale, b.scale
    if (sa.score_min, sa.score_max, sa.appraisal_max, sa.adjustment_max) != (
            sb.score_min, sb.score_max, sb.appraisal_max, sb.adjustment_max):
        def scale(s) -> str:
            return (f"{fmt_bound(s.score_min)}–{fmt_bound(s.score_max)} điểm, thẩm định tối đa "
                    f"{fmt_bound(s.appraisal_max)}, thưởng/trừ tối đa {fmt_bound(s.adjustment_max)}")
        out.append(f"Thang điểm khác nhau: năm {label_a}: {scale(sa)}; năm {label_b}: {scale(sb)}.")
    pa, pb = a.precision, b.precision
    if (pa.decimals, pa.rounding) != (pb.decimals, pb.rounding):
        out.append(f"Cách làm tròn điểm khác nhau: {pa.decimals} chữ số thập phân ({ROUNDING_WORDS[pa.rounding]}) "
                   f"năm {label_a}, {pb.decimals} chữ số thập phân ({ROUNDING_WORDS[pb.rounding]}) năm {label_b}.")
    if a.group_ids != b.group_ids or [g.kinds for g in a.groups] != [g.kinds for g in b.groups]:
        out.append(f"Cách chia nhóm đơn vị khác nhau giữa {both}.")
    for key, what in (("conditions", "Điều kiện hạn chế mức xếp loại"), ("quotas", "Hạn mức số đơn vị")):
        if _substance(a.model_dump()[key]) != _substance(b.model_dump()[key]):
            out.append(f"{what} khác nhau giữa {both}.")
    if [r.number for r in a.regulations] != [r.number for r in b.regulations]:
        out.append(f"Văn bản quy định khác nhau: {'; '.join(r.number for r in a.regulations)} (năm "
                   f"{label_a}); {'; '.join(r.number for r in b.regulations)} (năm {label_b}).")
    dump_a, dump_b = a.model_dump(), b.model_dump()
    others = [key for key in sorted((set(dump_a) | set(dump_b)) - _HANDLED - _WORDING)
              if _substance(dump_a.get(key)) != _substance(dump_b.get(key))]
    out += [f"Quy định về {_SECTION_NAMES[key]} khác nhau giữa {both}." for key in others if key in _SECTION_NAMES]
    if any(key not in _SECTION_NAMES for key in others):
        out.append(f"Một số quy định khác cũng khác nhau giữa {both}.")
    return out


# -- what is comparable ------------------------------------------------------------------------

COMPARABLE = ("yes", "caution", "group_only", "no")
_UNIT_LEVEL = {"same": "yes", "renamed": "yes", "absorbed": "no", "merged": "no", "split": "no",
               "dissolved": "group_only", "formed": "group_only", "new": "no", "gone": "no"}


def comparability(pair: YearPair) -> pd.DataFrame:
    """What of two years can be set side by side, as a table a machine can read.

    Returns
    -------
    pandas.DataFrame
        One row per statement: ``level`` (``rules``, ``group`` or ``unit``), ``group_a`` /
        ``group_b`` (group ids, missing when not about a group), ``change`` (for ``unit``
        rows: the change type), ``units`` (how many units the row covers), ``comparable``
        (one of :data:`COMPARABLE`: ``yes``; ``caution`` — the rules differ; ``group_only``
        — only group totals and tier shares, never unit by unit; ``no``) and ``statement``
        (Vietnamese).
    """
    a, b = pair.a, pair.b
    la, lb = pair.labels
    rows = [{"level": "rules", "group_a": pd.NA, "group_b": pd.NA, "change": pd.NA, "units": pd.NA,
             "comparable": "caution" if pair.differences else "yes",
             "statement": ("Quy định hai năm khác nhau: " + " ".join(pair.differences)) if pair.differences
             else f"Năm {la} và năm {lb} áp dụng cùng quy định về mức xếp loại, thang điểm và làm tròn."}]
    groups_a, groups_b = a.groups, b.groups
    names = {g.id: g.name for ev in (a, b) for g in ev.rules.groups}
    flows = group_flows(pair)
    size_a = a.ranked["group"].value_counts()
    size_b = b.ranked["group"].value_counts()
    for g in [*groups_a, *[g for g in groups_b if g not in groups_a]]:
        if g in groups_a and g in groups_b:
            rows.append({"level": "group", "group_a": g, "group_b": g, "change": pd.NA,
                         "units": int(size_b[g]), "comparable": "yes",
                         "statement": f"Nhóm «{names[g]}» có trong cả hai năm ({count(size_a[g])} và "
                                      f"{count(size_b[g])} đơn vị): so sánh từng đơn vị được theo dõi."})
    for f in flows.itertuples(index=False):
        rows.append({"level": "group", "group_a": f.g_a, "group_b": f.g_b, "change": pd.NA,
                     "units": int(size_b[f.g_b]), "comparable": "group_only",
                     "statement": f"Nhóm «{names[f.g_a]}» năm {la} ({count(size_a[f.g_a])} đơn vị) giải thể; địa bàn "
                                  f"chuyển sang nhóm «{names[f.g_b]}» năm {lb} ({count(size_b[f.g_b])} đơn vị): chỉ "
                                  "so sánh ở cấp nhóm (số đơn vị, tỷ lệ theo mức xếp loại), không so sánh từng "
                                  "đơn vị."})
    linked_a, linked_b = set(flows["g_a"]), set(flows["g_b"])
    for g in groups_a:
        if g not in groups_b and g not in linked_a:
            rows.append({"level": "group", "group_a": g, "group_b": pd.NA, "change": pd.NA, "units": int(size_a[g]),
                         "comparable": "no", "statement": f"Nhóm «{names[g]}» chỉ có năm {la}: không so sánh."})
    for g in groups_b:
        if g not in groups_a and g not in linked_b:
            rows.append({"level": "group", "group_a": pd.NA, "group_b": g, "change": pd.NA, "units": int(size_b[g]),
                         "comparable": "no", "statement": f"Nhóm «{names[g]}» chỉ có năm {lb}: không so sánh."})
    said = {"yes": "so sánh trực tiếp điểm, thứ hạng, xếp loại",
            "no": "không so sánh điểm (đơn vị khác nhau hoặc chỉ có một năm)",
            "group_only": "chỉ so sánh ở cấp nhóm"}
    changes = pair.changes["change"].value_counts()
    for change in CHANGE_WORDS:
        if change in changes.index:
            level = _UNIT_LEVEL[change]
            rows.append({"level": "unit", "group_a": pd.NA, "group_b": pd.NA, "change": change,
                         "units": int(changes[change]), "comparable": level,
                         "statement": f"{count(changes[change])} cặp đơn vị «{CHANGE_WORDS[change]}»: {said[level]}."})
    return pd.DataFrame(rows, columns=["level", "group_a", "group_b", "change", "units", "comparable", "statement"])


def group_flows(pair: YearPair) -> pd.DataFrame:
    """Groups of the earlier year whose units were dissolved, their area passing to units of a group
    of the later year (UBND cấp huyện 2020 → UBND cấp xã 2026).

    Returns
    -------
    pandas.DataFrame
        One row per (``g_a``, ``g_b``) with ``n_a`` (dissolved units of ``g_a``), ``n_b`` (units of
        ``g_b`` formed on their area) and ``date`` (when the formed units began, as the registry
        writes it; the most common date when they differ).
    """
    a, b = pair.a, pair.b
    area = area_links(b.registry, a.ranked["unit_id"], b.ranked["unit_id"], years=(a.params.year, b.params.year))
    area = area.assign(g_a=area["id_a"].map(a.ranked.set_index("unit_id")["group"]),
                       g_b=area["id_b"].map(b.ranked.set_index("unit_id")["group"])).dropna()
    if area.empty:
        return pd.DataFrame(columns=["g_a", "g_b", "n_a", "n_b", "date"])
    units = b.registry.units
    area = area.assign(date=area["id_b"].map(units["valid_from_text"]).fillna(""))
    return (area.groupby(["g_a", "g_b"], sort=False)
            .agg(n_a=("id_a", "nunique"), n_b=("id_b", "nunique"),
                 date=("date", lambda d: d.mode().iloc[0] if len(d.mode()) else ""))
            .reset_index())


def group_sides(pair: YearPair) -> pd.DataFrame:
    """Each group of a :func:`group_flows` row in its own year: what can be set side by side.

    Returns
    -------
    pandas.DataFrame
        Two rows per flow (``side`` ``a`` then ``b``), with ``flow`` (its position), ``group``,
        ``units``, ``mean``, ``median``, ``min``, ``max`` (published scores) and one column per tier id
        of that year (units in the tier; missing for a tier the year does not have).
    """
    rows = []
    for k, flow in enumerate(group_flows(pair).itertuples(index=False)):
        for side, ev, group in (("a", pair.a, flow.g_a), ("b", pair.b, flow.g_b)):
            part = ev.ranked[ev.ranked["group"] == group]
            rows.append({"flow": k, "side": side, "group": group, "units": len(part),
                         "mean": part["score"].mean(), "median": part["score"].median(),
                         "min": part["score"].min(), "max": part["score"].max(),
                         **{t.id: int((part["tier"] == t.id).sum()) for t in ev.rules.tiers}})
    return pd.DataFrame(rows, columns=None if rows else ["flow", "side", "group", "units", "mean", "median",
                                                            "min", "max"])


def successions(pair: YearPair) -> pd.DataFrame:
    """Units of the later year that took in units of the earlier year (Sở Tài chính 2026 ← Sở Tài
    chính + Sở Kế hoạch và Đầu tư 2020; Sở Nông nghiệp và Môi trường ← two departments).

    Their scores are not set against any one predecessor's, nor against a sum or mean of them: the
    later unit is a different unit.  The report shows each predecessor's result of the earlier year
    beside the later unit's.

    Returns
    -------
    pandas.DataFrame
        One row per later unit: ``id_b``, ``unit``, ``group``, ``kind`` (``absorbed``: the unit
        continued and took others in; ``merged``: a new unit made of several), ``date`` (effective,
        from the registry) and ``predecessors`` (a list of dicts ``id``, ``unit``, ``group``,
        ``score``, ``tier``, ``rank``, in the earlier year's order, the unit itself first when it
        continued).
    """
    c = pair.changes
    joined = c[c["change"].isin(["merged", "absorbed"]) & c["id_b"].notna()]
    units = pair.b.registry.units
    rows = []
    for id_b, part in joined.groupby("id_b", sort=False):
        absorbed = bool((part["change"] == "absorbed").any())
        part = part.assign(_self=part["id_a"] != id_b).sort_values(["_self", "order_a"], kind="stable")
        preds = [{"id": r["id_a"], "unit": r["unit_a"], "group": r["group_a"], "score": r["score_a"],
                  "tier": r["tier_a"], "rank": r["rank_a"]} for _, r in part.iterrows()]
        others = [str(i) for i in part["id_a"] if i != id_b and i in units.index]
        rows.append({"id_b": id_b, "unit": part["unit_b"].iloc[0], "group": part["group_b"].iloc[0],
                     "kind": "absorbed" if absorbed else "merged",
                     "date": effect_date(units, [] if absorbed else [str(id_b)], others)
                     if str(id_b) in units.index else "",
                     "predecessors": preds})
    return pd.DataFrame(rows, columns=["id_b", "unit", "group", "kind", "date", "predecessors"])


# -- all years ---------------------------------------------------------------------------------


def _threads(pairs: list[YearPair]) -> list[pd.Series]:
    """For each year, unit id → the id it carries in the last year it is followed to.

    A unit followed as itself (``same`` or ``renamed``) shares its thread with its
    successor; any other unit starts a thread of its own.
    """
    last = pairs[-1].b.ranked["unit_id"]
    threads = [pd.Series(last.to_numpy(), index=last.to_numpy(), dtype="string")]
    for pair in reversed(pairs):
        ids = pair.a.ranked["unit_id"]
        link = pair.changes[pair.changes["change"].isin(FOLLOWED)].set_index("id_a")["id_b"]
        thread = ids.map(link).map(threads[0])
        threads.insert(0, pd.Series(thread.fillna(ids).to_numpy(), index=ids.to_numpy(), dtype="string"))
    return threads


def gaps_over_years(years: list[Evaluation], pairs: list[YearPair], top: int = 10) -> pd.DataFrame:
    """Self score minus appraised score of each unit, year after year.

    Returns
    -------
    pandas.DataFrame
        One row per unit followed across the years (``thread``: its id in the
        latest year it appears), with ``unit`` and ``group`` (from that year),
        one column per year label (the gap, missing when the unit or its self
        score is absent), ``mean_gap`` over the years present, ``years`` (how many),
        and ``years_in_top`` (in how many years it was among that year's ``top``
        largest gaps).  Sorted by ``mean_gap``, largest first.
    """
    labels = [year_label(ev) for ev in years]
    threads = _threads(pairs) if pairs else [pd.Series(years[0].ranked["unit_id"].to_numpy(),
                                                       index=years[0].ranked["unit_id"].to_numpy())]
    frames = []
    for pos, (ev, label, thread) in enumerate(zip(years, labels, threads, strict=True)):
        gaps = unit_gaps(ev.ranked)
        in_top = pd.Series(False, index=gaps.index)
        in_top.iloc[:top] = True
        frames.append(pd.DataFrame({"thread": gaps["unit_id"].map(thread), "year": label, "pos": pos,
                                    "gap": gaps["gap"], "top": in_top, "unit": gaps["unit"],
                                    "group": gaps["group"], "order": gaps["order"]}))
    long = pd.concat(frames, ignore_index=True)
    if long.empty:
        return pd.DataFrame(columns=["thread", "unit", "group", *labels, "mean_gap", "years", "years_in_top"])
    wide = long.pivot(index="thread", columns="year", values="gap").reindex(columns=labels)
    latest = long.sort_values("pos", kind="stable").drop_duplicates("thread", keep="last").set_index("thread")
    out = pd.DataFrame({"unit": latest["unit"], "group": latest["group"], "order": latest["order"]})
    out = out.join(wide)
    out["mean_gap"] = wide.mean(axis=1).round(6)
    out["years"] = wide.notna().sum(axis=1).astype("int64")
    out["years_in_top"] = long.groupby("thread")["top"].sum().astype("int64")
    out = out.reset_index().sort_values(["mean_gap", "years", "group", "order"],
                                        ascending=[False, False, True, True], kind="stable")
    return out.drop(columns="order").reset_index(drop=True)


def compare(years: list[Evaluation], top: int = 10) -> Comparison:
    """Compare evaluated years (oldest first): every consecutive pair, and the gaps over all."""
    pairs = []
    for a, b in zip(years, years[1:], strict=False):
        changes = unit_changes(a, b)
        pairs.append(YearPair(a, b, changes, rule_differences(a.rules, b.rules, year_label(a), year_label(b)),
                              transitions(changes, a.rules, b.rules)))
    return Comparison(years, pairs, gaps_over_years(years, pairs, top))


def compare_years(params_paths: Sequence[Path | str], top: int = 10) -> Comparison:
    """:func:`load_years` then :func:`compare`: what the comparison notebook calls."""
    return compare(load_years(params_paths), top)


CHANGE_WORDS = {"same": "không đổi", "renamed": "đổi tên", "merged": "sáp nhập", "absorbed": "tiếp nhận sáp nhập",
                "split": "chia tách", "dissolved": "giải thể (địa bàn chuyển đơn vị khác)",
                "formed": "thành lập trên địa bàn đơn vị cũ", "new": "mới", "gone": "không còn"}


def changes_table(cmp: Comparison) -> pd.DataFrame:
    """Every pair's unit changes as one table with Vietnamese headers (for ``changes.csv``).

    Scores and differences keep full precision with dots (machine-readable);
    ``Quy định khác nhau`` says whether the two years' rules differ.
    """
    frames = []
    for pair in cmp.pairs:
        c = pair.changes
        tiers_a = {t.id: t.name for t in pair.a.rules.tiers}
        tiers_b = {t.id: t.name for t in pair.b.rules.tiers}
        frames.append(pd.DataFrame({
            "Năm trước": pair.labels[0], "Năm sau": pair.labels[1], "Nhóm": c["group"],
            "Mã đơn vị năm trước": c["id_a"], "Đơn vị năm trước": c["unit_a"],
            "Mã đơn vị năm sau": c["id_b"], "Đơn vị năm sau": c["unit_b"],
            "Thay đổi đơn vị": c["change"].map(CHANGE_WORDS), "Mã thay đổi": c["change"],
            "Cách so sánh": c["note"],
            "Điểm năm trước": c["score_a"], "Điểm năm sau": c["score_b"], "Chênh lệch điểm": c["delta_score"],
            "Thứ hạng năm trước": c["rank_a"].astype("Int64"), "Thứ hạng năm sau": c["rank_b"].astype("Int64"),
            "Xếp loại năm trước": c["tier_a"].map(tiers_a), "Xếp loại năm sau": c["tier_b"].map(tiers_b),
            "Quy định khác nhau": "có" if pair.differences else "không",
        }))
    return pd.concat(frames, ignore_index=True)
