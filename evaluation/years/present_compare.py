"""The comparison report's content as HTML fragments, built from a :class:`~evaluation.years.compare.Comparison`.

Same conventions as :mod:`evaluation.report.present`: each function prepares plain
data and renders ``templates/fragments/present_compare/<function>.html.j2`` (with the
report's macros, through :func:`evaluation.report.render.render`), which escapes
every value.  Wherever the rules of two compared years differ, the numbers that
depend on them carry a mark (†) and the note says what differs.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .. import __version__
from ..engine.summarise import join_vi
from ..fmt import number, percent
from ..inputs.rules import Rules
from ..report.present import tier_data
from ..report.render import render
from .compare import (
    CHANGE_WORDS,
    GONE,
    NEW,
    Comparison,
    YearPair,
    group_flows,
    group_sides,
    subject,
    successions,
    year_label,
)
from .lineage import FOLLOWED

__all__ = ["title_block", "summary", "years_table", "comparability", "change_tables", "transition_tables",
           "gap_table", "unit_changes_list", "notes", "provenance", "MARK", "CHANGE_NAMES"]

MARK = "†"
CHANGE_NAMES = CHANGE_WORDS
_NOT_COMPARABLE = "Quy định hai năm khác nhau: điểm và xếp loại không hoàn toàn so sánh được"


def _render(name: str, **data: object) -> str:
    """A comparison fragment, given the mark of differing rules and what it means."""
    return render(f"present_compare/{name}.html.j2", mark=MARK, note=_NOT_COMPARABLE, **data)


def _group_name(pair: YearPair, group: str) -> str:
    for rules in (pair.b.rules, pair.a.rules):
        if group in rules.group_ids:
            g = rules.group(group)
            return f"{g.numeral}. {g.name}"
    return group


def _tier(rules: Rules, tier: object) -> dict | None:
    if tier is None or tier is pd.NA or (isinstance(tier, float) and tier != tier):
        return None
    return tier_data(rules.tier(str(tier)))


def _pair(pair: YearPair) -> dict[str, object]:
    a, b = pair.labels
    return {"a": a, "b": b, "comparable": pair.comparable}


# -- title -------------------------------------------------------------------------------------


def illustrative_banner(cmp: Comparison) -> str:
    shown = [year_label(ev) for ev in cmp.years if ev.params.params.illustrative]
    return _render("illustrative_banner", years=", ".join(shown))


def title_block(cmp: Comparison) -> str:
    """The heading, as the yearly report's: issuing body (of the latest year), motto, title."""
    r = cmp.years[-1].params.params.report
    return _render("title_block", years=", ".join(year_label(ev) for ev in cmp.years if ev.params.params.illustrative),
                   issuer_parent=r.issuer_parent, issuer=r.issuer, labels=list(cmp.labels), subject=subject(cmp.years))


# -- what changed, in a few sentences --------------------------------------------------------------


def _self_definition(ev) -> str:
    if ev.detail is not None:
        return "tổng điểm đơn vị tự chấm theo tiêu chí cộng điểm thưởng, điểm trừ đã tính"
    return "điểm đơn vị tự chấm trên thang điểm, như bảng tổng hợp của năm"


def summary(cmp: Comparison) -> str:
    """For each pair of years, the later against the earlier: tiers moved, mean score, top tier, definitions."""
    pairs = []
    for pair in cmp.pairs:
        c = pair.changes
        followed = c[c["delta_score"].notna()]
        a, b = pair.labels
        d = max(pair.a.rules.precision.decimals, pair.b.rules.precision.decimals)
        sentences = []
        if len(followed):
            moves = followed["tier_move"].value_counts()
            up, down, same = (int(moves.get(k, 0)) for k in ("up", "down", "same"))
            if up + down + same:
                sentences.append(f"{up} cơ quan, đơn vị lên mức xếp loại, {down} xuống mức, {same} giữ nguyên mức "
                                 f"(trong {len(followed)} cơ quan, đơn vị có ở cả hai năm).")
            mean_a, mean_b = followed["score_a"].mean(), followed["score_b"].mean()
            way = "tăng" if mean_b > mean_a else "giảm" if mean_b < mean_a else "không đổi,"
            sentences.append(f"Điểm đánh giá trung bình {way} từ {number(mean_a, d)} (năm {a}) "
                             f"còn {number(mean_b, d)} điểm (năm {b})." if mean_b < mean_a else
                             f"Điểm đánh giá trung bình {way} từ {number(mean_a, d)} (năm {a}) "
                             f"lên {number(mean_b, d)} điểm (năm {b})." if mean_b > mean_a else
                             f"Điểm đánh giá trung bình {way} {number(mean_a, d)} điểm.")
        top_a, top_b = pair.a.rules.tiers[0], pair.b.rules.tiers[0]
        n_a = int((pair.a.ranked["tier"] == top_a.id).sum())
        n_b = int((pair.b.ranked["tier"] == top_b.id).sum())
        sentences.append(f"Số cơ quan, đơn vị {top_b.name[:1].lower() + top_b.name[1:]}: năm {b} có {n_b}, "
                         f"năm {a} có {n_a}.")
        joined = successions(pair)
        if len(joined):
            sentences.append(f"{len(joined)} đơn vị năm {b} được hình thành từ sáp nhập, hợp nhất "
                             f"({join_vi(list(joined['unit']))}): đặt cạnh kết quả năm {a} của từng đơn vị cũ, "
                             "không tính chênh lệch (xem mục 2).")
        for flow in group_flows(pair).itertuples(index=False):
            sentences.append(_flow_sentence(pair, flow) + " (xem mục 2).")
        new = int((c["change"] == NEW).sum())
        gone = int((c["change"] == GONE).sum())
        if new or gone:
            sentences.append(f"{new} đơn vị mới, {gone} đơn vị không còn (xem mục 5).")
        definitions = [_self_definition(pair.a), _self_definition(pair.b)]
        note = ""
        if definitions[0] != definitions[1]:
            note = (f"Điểm tự chấm năm {a} là {definitions[0]}; năm {b} là {definitions[1]}: chênh lệch tự chấm "
                    "của hai năm không hoàn toàn so sánh được.")
        pairs.append({**_pair(pair), "sentences": sentences, "note": note})
    return _render("summary", pairs=pairs)


# -- the years and their rules -----------------------------------------------------------------


def years_table(cmp: Comparison) -> str:
    """One row per year: its data, its rules, how many units, how many in each tier."""
    years = [{"label": year_label(ev), "illustrative": ev.params.params.illustrative, "rules_name": ev.rules.name,
              "units": len(ev.ranked),
              "tiers": [{"tier": tier_data(t), "count": ev.counts["total"][t.id]} for t in ev.rules.tiers]}
             for ev in cmp.years]
    return _render("years_table", years=years)


def _group_names(pair: YearPair, groups) -> str:
    return join_vi([f"«{_group_name(pair, g).split('. ', 1)[-1]}»" for g in groups])


def _flow_sentence(pair: YearPair, flow) -> str:
    """"Nhóm «UBND cấp huyện» năm 2020 (27 đơn vị) giải thể từ 01/07/2025; trên địa bàn thành lập 166 đơn
    vị nhóm «UBND cấp xã» năm 2026: chỉ so sánh ở cấp nhóm"."""
    a, b = pair.labels
    since = f" từ {flow.date}" if flow.date else ""
    return (f"Nhóm {_group_names(pair, [flow.g_a])} năm {a} ({flow.n_a} đơn vị) giải thể{since}; trên địa bàn "
            f"thành lập {flow.n_b} đơn vị nhóm {_group_names(pair, [flow.g_b])} năm {b}: chỉ so sánh ở cấp nhóm "
            "(số đơn vị, điểm, số đơn vị theo mức xếp loại), không so sánh từng đơn vị")


def _comparable(pair: YearPair) -> list[str]:
    """What of two years can be set side by side, and what cannot, in plain sentences."""
    a, b = pair.labels
    c = pair.changes
    out = []
    followed = c[c["change"].isin(FOLLOWED)]
    both = [g for g in pair.a.groups if g in pair.b.groups]
    if len(followed):
        renamed = int((followed["change"] == "renamed").sum())
        out.append(f"Nhóm {_group_names(pair, both)} có trong cả hai năm: {len(followed)} đơn vị có ở cả hai năm"
                   + (f" (kể cả {renamed} đơn vị đổi tên)" if renamed else "")
                   + " được so sánh trực tiếp điểm, thứ hạng và mức xếp loại"
                   + (f", với dấu {MARK} vì quy định hai năm khác nhau." if not pair.comparable else "."))
    joined = successions(pair)
    if len(joined):
        n_old = sum(len(p) for p in joined["predecessors"])
        out.append(f"{len(joined)} đơn vị năm {b} hình thành từ {n_old} đơn vị năm {a} qua sáp nhập, hợp nhất "
                   f"({join_vi(list(joined['unit']))}): kết quả năm {a} của từng đơn vị cũ được nêu bên cạnh; "
                   f"không tính chênh lệch điểm, thứ hạng, vì đơn vị năm {b} không còn là đơn vị cũ, và không "
                   "cộng hay lấy trung bình điểm của các đơn vị cũ.")
    flows = group_flows(pair)
    out += [_flow_sentence(pair, f) + "." for f in flows.itertuples(index=False)]
    linked_a, linked_b = set(flows["g_a"]), set(flows["g_b"])
    only_a = [g for g in pair.a.groups if g not in pair.b.groups and g not in linked_a]
    only_b = [g for g in pair.b.groups if g not in pair.a.groups and g not in linked_b]
    if only_a:
        out.append(f"Nhóm {_group_names(pair, only_a)} chỉ có năm {a}: không so sánh.")
    if only_b:
        out.append(f"Nhóm {_group_names(pair, only_b)} chỉ có năm {b}: không so sánh.")
    split = c[c["change"] == "split"]
    if len(split):
        out.append(f"{split['id_a'].nunique()} đơn vị năm {a} chia tách thành {split['id_b'].nunique()} đơn vị năm {b}: "
                   "không so sánh điểm.")
    new, gone = int((c["change"] == NEW).sum()), int((c["change"] == GONE).sum())
    if new or gone:
        out.append(" ".join(x for x in (f"{new} đơn vị chỉ có năm {b}," if new else "",
                                        f"{gone} đơn vị chỉ có năm {a}," if gone else "") if x)
                   .rstrip(",") + ": không so sánh (xem mục 5).")
    return out


def comparability(cmp: Comparison) -> str:
    """For each pair of years: whether their rules match, and if not, what differs; then what of the
    two years is compared unit by unit, at group level only, or not at all."""
    return _render("comparability", pairs=[{**_pair(p), "differences": list(p.differences),
                                            "comparable_said": _comparable(p)} for p in cmp.pairs])


# -- per unit ----------------------------------------------------------------------------------


def _signed(value: object, decimals: int) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    text = number(value, decimals)
    return ("+" + text) if float(value) > 0 else text


def _ranks(row: pd.Series) -> dict[str, str]:
    """Both years' ranks and the move: ``3 → 1 (+2)``; ``–`` for a year without the unit; and both TT."""
    shown = [("" if pd.isna(r) else str(int(r))) for r in (row["rank_a"], row["rank_b"])]
    order = [("–" if pd.isna(r) else str(int(r))) for r in (row["order_a"], row["order_b"])]
    if pd.isna(row["delta_rank"]):
        return {"rank_a": shown[0] or "–", "rank_b": shown[1] or "–", "moved": "", "order_a": order[0],
                "order_b": order[1]}
    delta = int(row["delta_rank"])
    moved = f" (+{delta})" if delta > 0 else (f" (\u2212{-delta})" if delta < 0 else "")
    return {"rank_a": shown[0], "rank_b": shown[1], "moved": moved, "order_a": order[0], "order_b": order[1]}


def _lineage_note(row: pd.Series, pair: YearPair) -> str:
    change = row["change"]
    if change == "same":
        return ""
    if change == "renamed":
        return f"đổi tên, năm {pair.labels[0]} là {row['unit_a']}"
    if change in ("merged", "split"):
        return f"{CHANGE_NAMES[change]}: {row['unit_a']} → {row['unit_b']}"
    if change in ("absorbed", "dissolved", "formed"):
        return str(row["note"])
    return f"{CHANGE_NAMES[change]} năm {pair.labels[1] if change == NEW else pair.labels[0]}"


def _tiers(row: pd.Series, pair: YearPair) -> dict[str, object]:
    """Both years' tiers; a tier that did not change (same tiers in both years) is shown once.

    ``pair``: shown as ``a → b`` (with ``arrow``), else the one tier there is; ``marked``: the
    tiers depend on rules that differ.
    """
    a, b = _tier(pair.a.rules, row["tier_a"]), _tier(pair.b.rules, row["tier_b"])
    if row["change"] not in ("same", "renamed"):
        return {"a": a, "b": b, "pair": bool(a and b), "arrow": "", "marked": False}
    if row["tier_move"] == "same":
        return {"a": None, "b": b, "pair": False, "arrow": "", "marked": not pair.comparable}
    arrow = {"up": " ↑", "down": " ↓"}.get(str(row["tier_move"]), "")  # none when the tiers differ
    return {"a": a, "b": b, "pair": True, "arrow": arrow, "marked": not pair.comparable}


def _succession_row(row: pd.Series, pair: YearPair) -> dict[str, object]:
    """A unit of the later year made of several of the earlier year: one row, its predecessors and
    their results of the earlier year said under its name, no difference computed."""
    a, b = pair.labels
    da = pair.a.rules.precision.decimals
    db = pair.b.rules.precision.decimals
    preds = row["predecessors"]
    since = f" từ {row['date']}" if row["date"] else ""
    others = [p["unit"] for p in preds if p["id"] != row["id_b"]]
    how = (f"tiếp nhận {join_vi(others)} sáp nhập vào{since}" if row["kind"] == "absorbed"
           else f"hợp nhất từ {join_vi([p['unit'] for p in preds])}{since}")
    shorts = {t.id: t.short for t in pair.a.rules.tiers}
    results = "; ".join(f"{p['unit']} {number(p['score'], da)} điểm ({shorts.get(p['tier'], '')}"
                        + (f", hạng {int(p['rank'])}" if pd.notna(p["rank"]) else "") + ")" for p in preds)
    what = ("gồm cả các đơn vị sáp nhập vào" if row["kind"] == "absorbed" else "là đơn vị mới, hợp nhất từ các đơn vị cũ")
    detail = (f"Năm {a}: {results}. Không so sánh điểm: đơn vị năm {b} {what}; không cộng hay lấy trung bình "
              "điểm các đơn vị cũ.")
    ranked = pair.b.ranked.set_index("unit_id")
    unit = ranked.loc[row["id_b"]]
    return {"unit": row["unit"], "note": how, "detail": detail, "score_a": "", "score_b": number(unit["score"], db),
            "delta": "",
            "delta_marked": False, "rank_a": "–", "rank_b": str(int(unit["rank"])), "moved": "", "order_a": "–",
            "order_b": str(int(unit["order"])),
            "tiers": {"a": None, "b": _tier(pair.b.rules, unit["tier"]), "pair": False, "arrow": "", "marked": False}}


def change_tables(cmp: Comparison) -> str:
    """Each pair of years: per group, every unit's scores, rank and tier in both years.

    A unit made of several (merged, or that absorbed others) is one row with its predecessors'
    results under its name; a group whose units were dissolved or formed on their area is said in
    one sentence, compared at group level (:func:`group_level`), never unit by unit.
    """
    pairs = []
    for pair in cmp.pairs:
        da, db = pair.a.rules.precision.decimals, pair.b.rules.precision.decimals
        changes = pair.changes
        joined = successions(pair).set_index("id_b")
        flows = group_flows(pair)
        groups, flows_said = [], set()
        for group in pd.unique(changes["group"]):
            part = changes[changes["group"] == group]
            rows, shown = [], set()
            for _, row in part[~part["change"].isin(["dissolved", "formed"])].iterrows():  # a few dozen rows
                if row["change"] in ("merged", "absorbed") and row["id_b"] in joined.index:
                    if row["id_b"] not in shown:
                        shown.add(row["id_b"])
                        rows.append(_succession_row(joined.loc[row["id_b"]].to_dict() | {"id_b": row["id_b"]},
                                                    pair))
                    continue
                delta = _signed(row["delta_score"], max(da, db))
                rows.append({"unit": row["unit"], "note": _lineage_note(row, pair), "detail": "",
                             "score_a": number(row["score_a"], da), "score_b": number(row["score_b"], db),
                             "delta": delta,
                             "delta_marked": bool(row["change"] in ("same", "renamed") and delta
                                                  and not pair.comparable),
                             **_ranks(row), "tiers": _tiers(row, pair)})
            said = []
            if part["change"].isin(["dissolved", "formed"]).any():   # said once per flow, at its first group
                for k, f in enumerate(flows.itertuples(index=False)):
                    if group in (f.g_a, f.g_b) and k not in flows_said:
                        flows_said.add(k)
                        said.append(_flow_sentence(pair, f) + ", xem bảng so sánh ở cấp nhóm dưới đây.")
            groups.append({"name": _group_name(pair, group), "rows": rows, "said": said})
        pairs.append({**_pair(pair), "groups": groups, "level": group_level_data(pair)})
    return _render("change_tables", pairs=pairs)


def group_level_data(pair: YearPair) -> list[dict[str, object]]:
    """Each dissolved group and the group formed on its area, side by side: units, scores, tiers."""
    sides = group_sides(pair)
    out = []
    for _, flow in sides.groupby("flow", sort=True):
        rows = []
        for side in flow.to_dict("records"):
            ev = pair.a if side["side"] == "a" else pair.b
            d = ev.rules.precision.decimals
            label = pair.labels[0] if side["side"] == "a" else pair.labels[1]
            n = int(side["units"])
            rows.append({"name": f"{_group_name(pair, side['group'])} — năm {label}", "units": str(n),
                         "mean": number(side["mean"], d), "median": number(side["median"], d),
                         "range": f"{number(side['min'], d)} – {number(side['max'], d)}",
                         "tiers": [{"tier": tier_data(t), "count": int(side[t.id]),
                                    "share": percent(side[t.id] / n) if n else ""}
                                   for t in ev.rules.tiers]})
        out.append({"rows": rows})
    return out


def transition_tables(cmp: Comparison) -> str:
    """Tier transition counts (from × to) per group and in total, for each pair of years."""
    pairs = []
    for pair in cmp.pairs:
        ra = pair.a.rules
        tables = []
        for key, table in pair.transitions.items():
            rows = [{"tier": None if tier_id == NEW else tier_data(ra.tier(tier_id)),
                     "cells": [{"value": str(v), "bold": bool(tier_id == col and v)}
                               for col, v in table.loc[tier_id].items()],
                     "total": str(int(table.loc[tier_id].sum()))} for tier_id in table.index]
            totals = table.sum(axis=0)
            n = len(table.columns) + 2
            rest = 78 // (n - 1)
            tables.append({"name": "Tất cả các nhóm" if key == "total" else _group_name(pair, key), "rows": rows,
                           "totals": [str(v) for v in totals] + [str(int(totals.sum()))],
                           "numeric": list(range(1, n)), "widths": [100 - rest * (n - 1)] + [rest] * (n - 1)})
        excluded = pair.changes[pair.changes["change"].isin(["merged", "absorbed", "split"])]
        area = pair.changes[pair.changes["change"].isin(["dissolved", "formed"])]
        pairs.append({**_pair(pair), "tiers_b": [tier_data(t) for t in pair.b.rules.tiers], "tables": tables,
                      "excluded": excluded["id_a"].nunique() if len(excluded) else 0,
                      "dissolved": int((area["change"] == "dissolved").sum()),
                      "formed": int((area["change"] == "formed").sum())})
    return _render("transition_tables", pairs=pairs)


# -- across all years --------------------------------------------------------------------------


def gap_table(cmp: Comparison, top: int) -> str:
    """The units whose self score exceeded the appraisal most, year after year."""
    gaps = cmp.gaps
    head = gaps.head(top)
    labels = cmp.labels
    names = {}
    for ev in cmp.years:
        names.update({g.id: g.numeral for g in ev.rules.groups})
    rows = [[str(n), row["unit"], names.get(row["group"], row["group"]),
             *[number(row[label], 2) for label in labels],
             number(row["mean_gap"], 2), f"{row['years_in_top']}/{row['years']}"]
            for n, (_, row) in enumerate(head.iterrows(), start=1)]
    n = len(labels)
    return _render("gap_table", empty=gaps.empty, rows=rows, top=top, labels=list(labels),
                   numeric=list(range(3, 5 + n)), widths=[6, 100 - 6 - 8 - 10 * n - 11 - 12, 8, *[10] * n, 11, 12])


def unit_changes_list(cmp: Comparison) -> str:
    """Units renamed, merged, split, new or gone between each pair of years (from the registry); a
    merge said once, at the unit it made; districts dissolved and communes formed said per group."""
    pairs = []
    for pair in cmp.pairs:
        items = []
        c = pair.changes
        for _, row in successions(pair).iterrows():
            since = f", từ {row['date']}" if row["date"] else ""
            others = [p["unit"] for p in row["predecessors"] if p["id"] != row["id_b"]]
            items.append(f"{row['unit']}: tiếp nhận {join_vi(others)} (sáp nhập{since})" if row["kind"] == "absorbed"
                         else f"{row['unit']}: hợp nhất từ {join_vi([p['unit'] for p in row['predecessors']])}"
                              f"{since}")
        for _, row in c[c["change"].isin(["renamed", "split"])].iterrows():
            items.append(f"{row['unit_a']} → {row['unit_b']}: {CHANGE_NAMES[row['change']]}")
        items += [_flow_sentence(pair, f) for f in group_flows(pair).itertuples(index=False)]
        for _, row in c[c["change"].isin([NEW, GONE])].iterrows():
            if row["change"] == NEW:
                items.append(f"{row['unit_b']}: {CHANGE_NAMES[NEW]} (chỉ có năm {pair.labels[1]})")
            else:
                items.append(f"{row['unit_a']}: {CHANGE_NAMES[GONE]} (chỉ có năm {pair.labels[0]})")
        pairs.append({**_pair(pair), "changes": items})
    return _render("unit_changes_list", pairs=pairs)


def notes(cmp: Comparison) -> str:
    """What the reader should know: illustrative years, unconfirmed rule values, each year's source."""
    years = []
    for ev in cmp.years:
        items = []
        if ev.params.params.illustrative:
            items.append("dữ liệu minh họa, không phải kết quả đánh giá thật")
        unconfirmed = ev.rules.unconfirmed()
        if unconfirmed:
            items.append(f"quy định có {len(unconfirmed)} giá trị chưa được xác nhận bằng văn bản gốc "
                         "(xem phụ lục báo cáo của năm)")
        items.append(f"điểm tự chấm là {_self_definition(ev)}")
        if ev.params.params.report.source_note:
            # The note is a sentence of its own: its full stop would double the list's.
            items.append(ev.params.params.report.source_note.rstrip().rstrip("."))
        if items:
            years.append({"label": year_label(ev), "notes": items})
    return _render("notes", years=years)


def provenance(cmp: Comparison, parameters: Mapping[str, object]) -> str:
    """SHA-256 of every input of every year, the package version and the run's parameters."""
    files = []
    for ev in cmp.years:
        prov = ev.provenance
        files += [{"year": year_label(ev), "role": r, "file": f, "sha256": h}
                  for r, f, h in zip(prov["role"], prov["file"], prov["sha256"], strict=True)]
    return _render("provenance", files=files, version=__version__, parameters=list(parameters.items()))
