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
from ..fmt import number
from ..inputs.rules import Rules
from ..report.present import tier_data
from ..report.render import render
from .compare import CHANGE_WORDS, GONE, NEW, Comparison, YearPair, year_label

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
                   issuer_parent=r.issuer_parent, issuer=r.issuer, labels=list(cmp.labels))


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
              "rules_id": ev.rules.id, "units": len(ev.ranked),
              "tiers": [{"tier": tier_data(t), "count": ev.counts["total"][t.id]} for t in ev.rules.tiers]}
             for ev in cmp.years]
    return _render("years_table", years=years)


def comparability(cmp: Comparison) -> str:
    """For each pair of years: whether their rules match, and if not, what differs."""
    return _render("comparability", pairs=[{**_pair(p), "differences": list(p.differences)} for p in cmp.pairs])


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


def change_tables(cmp: Comparison) -> str:
    """Each pair of years: per group, every unit's scores, rank and tier in both years."""
    pairs = []
    for pair in cmp.pairs:
        da, db = pair.a.rules.precision.decimals, pair.b.rules.precision.decimals
        changes = pair.changes
        groups = []
        for group in pd.unique(changes["group"]):
            part = changes[changes["group"] == group]
            rows = []
            for _, row in part.iterrows():  # presentation of at most a few dozen rows
                delta = _signed(row["delta_score"], max(da, db))
                rows.append({"unit": row["unit"], "note": _lineage_note(row, pair),
                             "score_a": number(row["score_a"], da), "score_b": number(row["score_b"], db),
                             "delta": delta,
                             "delta_marked": bool(row["change"] in ("same", "renamed") and delta
                                                  and not pair.comparable),
                             **_ranks(row), "tiers": _tiers(row, pair)})
            groups.append({"name": _group_name(pair, group), "rows": rows})
        pairs.append({**_pair(pair), "groups": groups})
    return _render("change_tables", pairs=pairs)


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
        excluded = pair.changes[pair.changes["change"].isin(["merged", "split"])]
        pairs.append({**_pair(pair), "tiers_b": [tier_data(t) for t in pair.b.rules.tiers], "tables": tables,
                      "excluded": excluded["id_a"].nunique() if len(excluded) else 0})
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
    """Units renamed, merged, split, new or gone between each pair of years (from the registry)."""
    pairs = []
    for pair in cmp.pairs:
        items = []
        for _, row in pair.changes[pair.changes["change"] != "same"].iterrows():
            kind = CHANGE_NAMES[row["change"]]
            if row["change"] == NEW:
                items.append(f"{row['unit_b']}: {kind} (chỉ có năm {pair.labels[1]})")
            elif row["change"] == GONE:
                items.append(f"{row['unit_a']}: {kind} (chỉ có năm {pair.labels[0]})")
            else:
                items.append(f"{row['unit_a']} → {row['unit_b']}: {kind}")
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
