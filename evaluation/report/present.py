"""The report's content as HTML fragments, built from an :class:`~evaluation.engine.pipeline.Evaluation`.

The report notebook displays these fragments; nbconvert places them in the
page.  Each function prepares plain data (text, numbers written the Vietnamese
way through :mod:`evaluation.fmt`) and renders its template,
``templates/fragments/present/<function>.html.j2`` (see :mod:`.render`).  The
templates escape every value, so a unit named ``<script>`` is printed, never run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import pandas as pd
from markupsafe import Markup

from .. import __version__
from ..engine.pipeline import Evaluation
from ..engine.summarise import findings, group_gaps, near_bounds, unit_gaps
from ..fmt import BLANK, doc_date, fmt_bound, number, numbers
from ..inputs.registry import organisation_changes
from ..inputs.rules import ROUNDING_WORDS, Rules, Tier
from .render import render

__all__ = [
    "title_block", "illustrative_banner", "method", "adjustments_content", "summary", "group_tables",
    "count_table", "assessment", "closing", "annex", "gap_table", "group_gap_table", "near_bound_table",
    "notes", "provenance", "tier_badge", "tier_legend", "self_decimals", "tier_changes", "organisation",
    "period_flags", "section_numbers", "COMPACT_ROWS",
]

ROUNDING = ROUNDING_WORDS
LIMIT_ROUNDING = {"floor": "làm tròn xuống", "ceil": "làm tròn lên", "half_up": "làm tròn"}
# How the annex names the inputs and the run's parameters (plain words, not file roles or code names).
ROLES = {"params": "tham số của năm", "rules": "quy định (tiêu chí, mức xếp loại)", "registry": "danh mục đơn vị",
         "scores": "điểm tổng hợp", "criteria": "điểm theo tiêu chí", "survey": "phiếu đánh giá",
         "adjustments": "điểm thưởng, điểm trừ", "conditions": "điều kiện xếp loại", "text": "phần chữ «Đánh giá chung»",
         "periods": "điểm theo kỳ", "trace": "nguồn từng số (ô của biểu mẫu)", "status": "tình hình nộp biểu mẫu"}
# A group with more units than this is printed compact (smaller type, tighter rows): 166 communes
# in about four A4 pages instead of six.
COMPACT_ROWS = 40
# Marks after a tier in the group tables: moved down by a quota; placed by a condition.
QUOTA_MARK, CONDITION_MARK = "*", "†"
PARAMETERS = {"year": "năm", "params_file": "tệp tham số", "data_dir": "thư mục số liệu (khi khác tệp tham số)",
              "near_bound": "khoảng cách «sát ngưỡng» (điểm)",
              "top_gaps": "số đơn vị chênh lệch lớn nhất được liệt kê"}


def self_decimals(rules: Rules) -> int:
    """Decimals of every self score and sum printed (the rules' ``precision.stages.total``)."""
    return rules.precision.stages.total.decimals


def tier_data(tier: Tier) -> dict[str, str]:
    """What the ``badge`` macro shows of a tier."""
    return {"name": tier.name, "short": tier.short, "color": tier.color}


def tier_badge(tier: Tier, *, short: bool = False, mark: str = "") -> str:
    """A tier as coloured text: the colour helps, the words carry the meaning.

    ``mark`` is HTML placed after the label (a footnote number, ``<sup>1</sup>``), as
    this function has always taken it; the templates use the ``badge`` macro instead.
    """
    return render("present/tier_badge.html.j2", tier=tier_data(tier), short=short, mark=Markup(mark))


def section_numbers(rules: Rules) -> dict[str, int | None]:
    """The body's section numbers: section 2 (bonus and penalty) exists only when the regime has them."""
    numbers_: dict[str, int | None] = {}
    n = 0
    for key in ("method", "adjustments", "results", "assessment"):
        if key == "adjustments" and not (rules.has_adjustments or rules.adjustments.items):
            numbers_[key] = None
            continue
        n += 1
        numbers_[key] = n
    return numbers_


# -- title and closing ---------------------------------------------------------------------


def illustrative_banner(ev: Evaluation) -> str:
    return render("present/illustrative_banner.html.j2", illustrative=ev.params.params.illustrative)


def _document(kind: str | None, number: str, date: str | None, issuer: str, title: str) -> str:
    """"Quyết định số 221/2016/QĐ-UBND ngày 18/01/2016 của UBND tỉnh quy định về việc …"."""
    return " ".join(x for x in (f"{kind} số {number}" if kind else number, f"ngày {date}" if date else "",
                                f"của {issuer}" if issuer else "", title) if x)


def title_block(ev: Evaluation) -> str:
    """The heading of an administrative report (Nghị định 30/2020/NĐ-CP) and its opening paragraphs.

    Issuing body, national motto, "Số: …/BC-…", place and date (a blank day is a draft), "BÁO CÁO"
    and the summary line; then "Thực hiện …" citing every basis document (the rules' regulations,
    then the year's own) and the Sở's introduction.
    """
    r = ev.params.params.report
    docs = [_document(reg.kind, reg.number, reg.date, reg.issuer, reg.title) for reg in ev.rules.regulations]
    docs += [_document(b.kind, b.number, b.date, b.issuer, b.title) for b in r.basis]
    place_date = doc_date(r.place, r.date.day, r.date.month, r.date.year) if r.date else r.place_date
    return render("present/title_block.html.j2", illustrative=ev.params.params.illustrative,
                  report={"issuer_parent": r.issuer_parent, "issuer": r.issuer, "symbol": r.symbol,
                          "number": r.number or BLANK, "place_date": place_date, "title": r.title, "subtitle": r.subtitle,
                          "intro": r.intro},
                  basis="; ".join(docs))


def closing(ev: Evaluation) -> str:
    """The closing formula, recipients ("Lưu: …" last) and signature, as the seed report ends."""
    r = ev.params.params.report
    return render("present/closing.html.j2", closing=r.closing, recipients=list(r.recipients), archive=r.archive,
                  signer_title=r.signer_title, signer_name=r.signer_name)


# -- method ---------------------------------------------------------------------------------


def _bounds_text(rules: Rules, i: int) -> str:
    tier = rules.tiers[i]
    lo = fmt_bound(tier.min)
    if i == 0:
        return f"từ {lo} điểm trở lên"
    hi = fmt_bound(rules.tiers[i - 1].min)
    if tier.min == rules.scale.score_min:
        return f"dưới {hi} điểm"
    return f"từ {lo} đến dưới {hi} điểm"


def tier_legend(rules: Rules) -> list[dict[str, object]]:
    """Each tier with its short label (as the tables print it) and its score range."""
    return [{"tier": tier_data(t), "bounds": _bounds_text(rules, i)} for i, t in enumerate(rules.tiers)]


def _periods_text(rules: Rules) -> str:
    """How the year's score comes from the period scores, as the rules declare it."""
    spec = rules.periods
    if spec is None:
        return ""
    names = ", ".join(p.name for p in spec.items)
    weights = {p.weight for p in spec.items}
    how = (f"trung bình cộng điểm các kỳ ({names})" if len(weights) == 1 else
           "trung bình có trọng số điểm các kỳ (" + "; ".join(f"{p.name}: trọng số {fmt_bound(p.weight)}"
                                                           for p in spec.items) + ")")
    if spec.missing == "partial":
        missing = (f"; {rules.wording.units} thiếu điểm kỳ nào thì được tính trên các kỳ có điểm (ít nhất "
                   f"{spec.min_periods}/{len(spec.items)} kỳ) và được nêu tên ở phụ lục")
    else:
        missing = f"; mỗi {rules.wording.units.split(',')[0]} phải có điểm đủ {len(spec.items)} kỳ"
    return f"Điểm đánh giá của năm là {how}{missing}."


def _is_override(rules: Rules, tier_id: str) -> bool:
    """A condition that places a unit in the last tier whatever its score (Nghị định 335's overrides)."""
    return rules.tier_ids.index(tier_id) == len(rules.tiers) - 1


def _not_evaluated(ev: Evaluation) -> list[dict[str, object]]:
    """The groups the rules do not evaluate, as the method says them: their name, the reason and
    how many of their units the registry still holds in the year (listed in the annex)."""
    left = ev.left_out["group"].value_counts() if ev.left_out is not None else pd.Series(dtype="int64")
    return [{"name": n.name, "reason": n.reason, "units": int(left.get(n.group, 0))}
            for n in ev.rules.not_evaluated if n.name or int(left.get(n.group, 0))]


def method(ev: Evaluation) -> str:
    """Section 1 as the seed writes it: the appraising bodies and what each scores, then the tiers.

    Nothing here is starred: what the source does not confirm is said in the annex.  A regime
    without bonus and penalty says so (no "tối đa 0 điểm thưởng"); a year scored by periods says
    how they make the year's score; conditions that place a unit in the last tier whatever its
    score are said as such.
    """
    rules = ev.rules
    s = rules.scale
    p = rules.precision
    last = rules.tiers[-1]
    return render(
        "present/method.html.j2",
        number=section_numbers(rules)["method"],
        scale={"score_max": s.score_max, "appraisal_max": s.appraisal_max, "adjustment_max": s.adjustment_max},
        adjustments=rules.has_adjustments,
        bodies=[{"name": b.name, "role": b.role} for b in rules.bodies],
        notes=list(rules.method_notes),
        periods=_periods_text(rules),
        appraisal_note=ev.params.params.report.appraisal_note,
        precision={"decimals": p.decimals, "rounding": ROUNDING[p.rounding]},
        tiers=tier_legend(rules),
        overrides=[c.name for c in rules.conditions if _is_override(rules, c.max_tier)],
        override_tier=last.name,
        conditions=[{"name": c.name, "max_tier": rules.tier(c.max_tier).name} for c in rules.conditions
                    if not _is_override(rules, c.max_tier)],
        not_evaluated=_not_evaluated(ev),
        quotas=[{"tier": rules.tier(q.tier).name, "percent": q.max_ratio * 100,
                 "of": None if q.of == "all" else rules.tier(q.of).name, "by_group": q.scope == "group"}
                for q in rules.quotas])


def adjustments_content(ev: Evaluation) -> str:
    """Section 2: the content and points of each bonus and penalty, as the rules (the regulation) say."""
    rules = ev.rules
    items = rules.adjustments.items
    number_ = section_numbers(rules)["adjustments"]
    if number_ is None:  # the regime has no bonus and no penalty: no section 2 at all
        return ""
    return render("present/adjustments_content.html.j2", number=number_, adjustment_max=rules.scale.adjustment_max,
                  intro=ev.params.params.report.adjustments_intro,
                  bonus=[it.text for it in items if it.kind == "bonus"],
                  penalty=[it.text for it in items if it.kind == "penalty"])


# -- results --------------------------------------------------------------------------------


def summary(ev: Evaluation) -> str:
    """Section 3's opening: the seed's sentence counting the units, and one sentence per tier; in a
    year after units were merged or dissolved, one sentence saying which units are evaluated as
    reorganised (the annex lists every change)."""
    return render("present/summary.html.j2", number=section_numbers(ev.rules)["results"], year=ev.params.year,
                  subject=ev.rules.wording.subject, sentences=list(ev.sentences), reorganised=_reorganised(ev))


def _reorganised(ev: Evaluation) -> str:
    """"So với năm 2025, …: 5 cơ quan, đơn vị sau hợp nhất, sáp nhập từ 01/03/2025 (…); 166 UBND xã,
    phường thành lập từ 01/07/2025 trên địa bàn 27 UBND cấp huyện đã giải thể (chi tiết ở phụ lục)."
    Empty when no unit evaluated this year came from a merger, a split or a dissolution (a rename
    alone is said in the annex only)."""
    year, rules = ev.params.year, ev.rules
    changes = organisation_changes(ev.registry, year - 1, year)
    evaluated = set(ev.ranked["unit_id"])
    group_of = ev.ranked.set_index("unit_id")["group"]
    parts = []
    joined = changes[changes["kind"].isin(["merged", "absorbed", "split"])]
    after = list(dict.fromkeys(u for a in joined["after"] for u in a if u in evaluated))
    if after:
        names = ev.ranked.set_index("unit_id").loc[after, "unit"]
        dates = list(dict.fromkeys(d for d in joined["date"] if d))
        how = ", ".join({"merged": "hợp nhất", "absorbed": "sáp nhập", "split": "chia tách"}[k]
                        for k in dict.fromkeys(joined["kind"]))
        parts.append(f"{len(after)} {rules.wording.units} sau {how}"
                     + (f" từ {', '.join(dates)}" if dates else "") + f" ({', '.join(names)})")
    gone = changes[changes["kind"] == "dissolved"]
    formed = list(dict.fromkeys(u for a in gone["after"] for u in a if u in evaluated))
    if formed:
        groups = list(dict.fromkeys(group_of[u] for u in formed))
        labels = ", ".join(rules.group(g).count_label or rules.group(g).name for g in groups)
        old = ev.registry.units.loc[[a for b in gone["before"] for a in b], "group"]
        named = {n.group: n.name for n in rules.not_evaluated if n.name}
        old_label = ", ".join(dict.fromkeys(named.get(g, "đơn vị") for g in old))
        dates = list(dict.fromkeys(d for d in gone["date"] if d))
        parts.append(f"{len(formed)} {labels} thành lập" + (f" từ {', '.join(dates)}" if dates else "")
                     + f" trên địa bàn {gone['before'].map(len).sum()} {old_label} đã giải thể")
    if not parts:
        return ""
    return (f"So với năm {year - 1}, tổ chức các {rules.wording.units} được đánh giá đã thay đổi: "
            + "; ".join(parts) + " (chi tiết ở phụ lục).")


def count_table(ev: Evaluation) -> str:
    """Units by tier and group, with totals."""
    rules = ev.rules
    counts = ev.counts
    groups = [rules.group(g) for g in ev.groups]  # the groups the year evaluates, no empty column
    share = (60 // (len(groups) + 1))
    return render(
        "present/count_table.html.j2",
        groups=[f"{g.numeral}. {g.name}" for g in groups],
        tiers=[{"tier": tier_data(t), "counts": [str(counts.at[t.id, g.id]) for g in groups],
                "total": str(counts.at[t.id, "total"])} for t in rules.tiers],
        totals=[str(counts.at["total", g.id]) for g in groups] + [str(counts.at["total", "total"])],
        numeric=list(range(1, len(groups) + 2)),
        widths=[100 - share * (len(groups) + 1)] + [share] * (len(groups) + 1))


def _score_cells(frame: pd.DataFrame, rules: Rules) -> tuple[pd.Series, pd.Series]:
    """Self scores at the precision of totals, published scores at theirs: one precision per column."""
    self_text = numbers(frame["self_score"], self_decimals(rules))
    score_text = numbers(frame["score"], rules.precision.decimals)
    return self_text, score_text


def _condition_units(ev: Evaluation) -> pd.DataFrame:
    """Units named in the year's conditions table, one row each: ``unit_id``, ``names`` (the
    conditions' names in the rules' order) and ``cap`` (the tier id it may not be above)."""
    table = ev.inputs.tables.get("conditions")
    rules = ev.rules
    if table is None or table.table.empty or not rules.conditions:
        return pd.DataFrame(columns=["unit_id", "names", "cap"])
    order = {c.id: i for i, c in enumerate(rules.conditions)}
    level = {c.id: rules.tier_ids.index(c.max_tier) for c in rules.conditions}
    cond = table.table.assign(_o=table.table["condition"].map(order)).sort_values("_o", kind="stable")
    cond = cond.assign(_name=cond["condition"].map({c.id: c.name for c in rules.conditions}),
                       _level=cond["condition"].map(level))
    per = cond.groupby("unit_id", sort=False).agg(names=("_name", list), cap=("_level", "max"))
    return pd.DataFrame({"unit_id": per.index.astype("string"), "names": per["names"].to_numpy(),
                         "cap": [rules.tier_ids[int(i)] for i in per["cap"]]})


def _marks(ev: Evaluation) -> pd.Series:
    """The mark after each unit's tier: ``*`` moved down by a quota, ``†`` placed by a condition."""
    marks = pd.Series("", index=ev.ranked.index, dtype="string")
    capped = ev.ranked["unit_id"].isin(_condition_units(ev)["unit_id"])
    marks = marks.mask(capped & ev.ranked["tier_reason"].ne(""), CONDITION_MARK)
    if ev.quotas is not None and len(ev.quotas.moves):
        moved = ev.ranked["unit_id"].isin(ev.quotas.moves["unit_id"])
        marks = marks.mask(moved, marks + QUOTA_MARK)
    return marks


def group_tables(ev: Evaluation) -> str:
    """One table per group, as in the seed: TT, rank, unit, self score, score, tier (short, with a legend).

    A unit moved down by a quota carries ``*``, one placed by a condition ``†``; who and why is
    said under the tables (:func:`tier_changes`), not in one footnote per unit.  A group of more
    than :data:`COMPACT_ROWS` units is printed compact; the tier column is wide enough for the
    longest short label printed (no label on two lines).
    """
    rules = ev.rules
    ranked = ev.ranked
    self_text, score_text = _score_cells(ranked, rules)
    tiers = {t.id: tier_data(t) for t in rules.tiers}
    marks = _marks(ev)
    groups = []
    for g in rules.groups:
        sel = ranked["group"] == g.id
        if not sel.any():
            continue
        rows = [{"order": str(o), "rank": str(r), "unit": u, "self_score": self_text[i], "score": score_text[i],
                 "tier": tiers[t], "note": m}
                for i, o, r, u, t, m in zip(ranked.index[sel], ranked.loc[sel, "order"], ranked.loc[sel, "rank"],
                                            ranked.loc[sel, "unit"], ranked.loc[sel, "tier"], marks[sel], strict=True)]
        longest = max(len(tiers[t]["short"]) + (1 if m else 0) for t, m in zip(ranked.loc[sel, "tier"], marks[sel],
                                                                               strict=True))
        # "Hạng" needs 8 % of the page; a long label ("Không hoàn thành†") a quarter of it.
        widths = (7, 8, 41, 14, 14, 16) if longest <= 10 else (6, 8, 36, 12, 12, 26)
        groups.append({"numeral": g.numeral, "name": g.name, "rows": rows, "widths": widths,
                       "compact": int(sel.sum()) > COMPACT_ROWS})
    used = set(marks[marks.ne("")].str.cat())
    return render("present/group_tables.html.j2", groups=groups, footnotes=[],
                  tier_head=rules.wording.classification_heading, legend=tier_legend(rules),
                  adjustments=rules.has_adjustments, by_tier=rules.ranking.by == "tier_then_score",
                  marks={"quota": QUOTA_MARK if QUOTA_MARK in used else "",
                         "condition": CONDITION_MARK if CONDITION_MARK in used else ""})


def _named(frame: pd.DataFrame, rules: Rules) -> str:
    """"xã A (90,0), xã B (90,1)": names with their published scores."""
    scores = numbers(frame["score"], rules.precision.decimals)
    return ", ".join(f"{u} ({v})" for u, v in zip(frame["unit"], scores, strict=True))


def _tie_values(frame: pd.DataFrame, keys: list[str], rules: Rules) -> list[str]:
    """Each unit of a tie, best first by the tie-break keys, with the values the tie is settled by:
    "xã A (chênh lệch 1,50)"."""
    d = self_decimals(rules)
    cols = {"gap": ("chênh lệch", frame["self_score"] - frame["score"], True),
            "self_score": ("tự chấm", frame["self_score"], False),
            "raw_score": ("điểm trước khi làm tròn", frame["final_score"], False)}
    keys = [k for k in keys if k in cols]
    if keys:
        order = pd.DataFrame({k: cols[k][1] for k in keys})
        frame = frame.loc[order.sort_values(keys, ascending=[cols[k][2] for k in keys], kind="stable").index]
    shown = [(cols[k][0], list(numbers(cols[k][1].loc[frame.index], d if k != "raw_score" else 4))) for k in keys]
    return [u + (" (" + ", ".join(f"{label} {vals[i]}" for label, vals in shown) + ")" if shown else "")
            for i, u in enumerate(frame["unit"])]


def _quota_lines(ev: Evaluation) -> list[dict[str, str]]:
    """One plain paragraph per group (and pass) where a quota's tier had units, in the rules' group
    order: the base counted, the limit and its rounding, the units kept and moved down in the order
    they were moved, the tie at the limit and how it was settled, and the counts after."""
    rules, log = ev.rules, ev.quotas
    if log is None or log.limits.empty:
        return []
    group_pos = {g: i for i, g in enumerate(rules.group_ids)}
    limits = log.limits.assign(_g=log.limits["partition"].map(group_pos).fillna(-1)).sort_values(
        ["quota", "pass", "_g"], kind="stable")
    d = rules.precision.decimals
    lines = []
    for lim in limits.to_dict("records"):
        quota = rules.quotas[int(lim["quota"])]
        tier = rules.tier(quota.tier)
        to = rules.tiers[rules.tier_ids.index(quota.demote_to) if quota.demote_to
                         else rules.tier_ids.index(quota.tier) + 1]
        part = lim["partition"]
        where = "Toàn bộ các nhóm" if part == "all" else f"Nhóm {rules.group(part).numeral}. {rules.group(part).name}"
        if int(lim["pass"]) > 1:
            where += f" (lần áp dụng thứ {int(lim['pass'])})"
        units = ev.classified if part == "all" else ev.classified[ev.classified["group"] == part]
        base, limit, in_tier, kept = int(lim["base"]), int(lim["limit"]), int(lim["in_tier"]), int(lim["kept"])
        base_of = (f"{base} đơn vị" + ("" if part == "all" else " trong nhóm") if quota.of == "all" else
                   f"{base} đơn vị đạt mức {_lower(rules.tier(quota.of).name)}")
        exact = Decimal(str(quota.max_ratio)) * base
        limit_text = (f"{fmt_bound(quota.max_ratio * 100)}% × {base} = {fmt_bound(exact)}"
                      + ("" if exact == limit else f", {LIMIT_ROUNDING[quota.limit.rounding]} còn {limit}"
                         if limit < exact else f", {LIMIT_ROUNDING[quota.limit.rounding]} thành {limit}"))
        by_score = int((units["tier_by_score"] == quota.tier).sum())
        aside = (f" (không tính {by_score - in_tier} đơn vị đủ điểm nhưng xếp loại không theo điểm)"
                 if int(lim["pass"]) == 1 and by_score > in_tier else "")
        text = (f"trước khi áp dụng hạn mức có {base_of}, nên số đơn vị xếp loại {_lower(tier.name)} tối đa là "
                f"{limit_text}; có {in_tier} đơn vị đủ điểm xếp loại {_lower(tier.name)}{aside}")
        moved = log.moves[(log.moves["quota"] == lim["quota"]) & (log.moves["pass"] == lim["pass"])
                          & (log.moves["partition"] == part)].sort_values("order", kind="stable")
        if moved.empty and kept <= limit:
            text += ", không vượt hạn mức."
        elif moved.empty:
            text += f", nhiều hơn hạn mức {limit}."
        else:
            text += (f": giữ {kept} đơn vị điểm cao nhất, hạ {len(moved)} đơn vị xuống mức {_lower(to.name)}, "
                     f"lần lượt từ điểm thấp nhất: {_named(moved, rules)}.")
        if int(lim["tie"]):
            # The units that share the score at the limit, before the quota: kept ones and moved ones.
            at = moved[moved["why"].str.startswith("bằng điểm")]["score"]
            if at.empty:   # nobody moved: the whole tie was kept
                at = units.loc[units["tier"] == quota.tier, "score"].nsmallest(1)
            score = float(at.iloc[0])
            placed = _condition_units(ev)["unit_id"]
            tied = units[(units["score"] == score) & (units["tier_by_score"] == quota.tier)
                         & ~units["unit_id"].isin(placed)]
            still = tied[tied["tier"] == quota.tier]
            down = tied[tied["tier"] != quota.tier]
            rule = str(lim["tie_rule"]).removeprefix("theo quy định, ")
            text += (f" Ở giới hạn có {len(tied)} đơn vị cùng {number(score, d)} điểm; theo quy định về bằng "
                     f"điểm: {rule}"
                     + (f". Được giữ: {', '.join(_tie_values(still, list(quota.ties.break_by), rules))}"
                        if len(still) else "")
                     + (f"; bị hạ: {', '.join(_tie_values(down, list(quota.ties.break_by), rules))}"
                        if len(down) else "")
                     + ".")
            if moved.empty and kept > limit:
                text += f" Vì vậy nhóm có {kept} đơn vị xếp loại {_lower(tier.name)}, nhiều hơn hạn mức {limit}."
        # The counts after, when this quota is the only one (another could move units again).
        if len(rules.quotas) == 1 and int(lim["pass"]) == 1 and not moved.empty:
            after = {t.id: int((units["tier"] == t.id).sum()) for t in (tier, to)}
            text += (f" Sau khi áp dụng hạn mức: {after[tier.id]} đơn vị {_lower(tier.name)}, "
                     f"{after[to.id]} đơn vị {_lower(to.name)}.")
        lines.append({"where": where, "text": text})
    return lines


def tier_changes(ev: Evaluation) -> str:
    """Under the group tables: how each quota was applied (base, limit and its rounding, the tie,
    who moved down in what order), and the units placed by a condition, with why."""
    rules = ev.rules
    quotas = [{"tier": _lower(rules.tier(q.tier).name), "percent": q.max_ratio * 100,
               "of": None if q.of == "all" else _lower(rules.tier(q.of).name), "by_group": q.scope == "group"}
              for q in rules.quotas]
    conds = _condition_units(ev)
    ranked = ev.ranked.set_index("unit_id")
    conds = conds[conds["unit_id"].isin(ranked.index)]
    # In the report's order: by group, then as the group's table lists them.
    group_pos = {g: i for i, g in enumerate(rules.group_ids)}
    conds = conds.assign(_g=conds["unit_id"].map(ranked["group"]).map(group_pos),
                         _o=conds["unit_id"].map(ranked["order"])).sort_values(["_g", "_o"], kind="stable")
    placed = []
    for uid, names, cap in zip(conds["unit_id"], conds["names"], conds["cap"], strict=True):
        unit = ranked.loc[uid]
        override = _is_override(rules, cap)
        placed.append({"unit": unit["unit"], "score": number(unit["score"], rules.precision.decimals),
                       "why": "; ".join(_lower(n) for n in names), "override": override,
                       "tier": rules.tier(unit["tier"]).name})
    if not (placed or _quota_lines(ev)):
        return ""
    return render("present/tier_changes.html.j2", quotas=quotas, lines=_quota_lines(ev),
                  quota_mark=QUOTA_MARK, condition_mark=CONDITION_MARK,
                  overrides=[p for p in placed if p["override"]], capped=[p for p in placed if not p["override"]],
                  last=rules.tiers[-1].name)


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def assessment(ev: Evaluation, within: float, also: Sequence[str] = ()) -> str:
    """Section 4 "Đánh giá chung": what the numbers show (computed), then the Sở's own text for the year.

    The text is Markdown written by the Sở (``report.assessment``); any HTML in it is shown as text.
    ``also``: further findings made elsewhere, after the computed ones (how sure the tiers are:
    :func:`evaluation.report.present_sensitivity.statement`).
    """
    import mistune

    text = ev.inputs.assessment     # read once with the other inputs (its checksum is in the annex)
    to_html = mistune.create_markdown(escape=True)
    return render("present/assessment.html.j2", number=section_numbers(ev.rules)["assessment"],
                  findings=[*findings(ev.ranked, ev.rules, within=within, decimals=self_decimals(ev.rules)), *also],
                  text=Markup(to_html(text)) if text.strip() else "")


def gap_table(ev: Evaluation, top: int) -> str:
    """The units whose self score exceeds the appraisal most."""
    rules = ev.rules
    gaps = unit_gaps(ev.ranked)
    head = gaps.head(top)
    self_text, score_text = _score_cells(head, rules)
    names = {g.id: g.numeral for g in rules.groups}
    rows = [[str(n), head.at[i, "unit"], names[head.at[i, "group"]], self_text[i], score_text[i],
             number(head.at[i, "gap"], self_decimals(rules))]
            for n, i in enumerate(head.index, start=1)]
    return render("present/gap_table.html.j2", rows=rows, empty=gaps.empty)


def group_gap_table(ev: Evaluation) -> str:
    """Mean, median and largest gap per group; how many units scored themselves higher."""
    rules = ev.rules
    table = group_gaps(ev.ranked, rules)
    if table.empty:
        return ""
    d = self_decimals(rules)
    rows = [[f"{rules.group(g).numeral}. {rules.group(g).name}",
             f"{int(table.at[g, 'above'])}/{int(table.at[g, 'units'])}",
             number(table.at[g, "mean_gap"], d), number(table.at[g, "median_gap"], d),
             number(table.at[g, "max_gap"], d)] for g in table.index]
    return render("present/group_gap_table.html.j2", rows=rows)


def near_bound_table(ev: Evaluation, within: float) -> str:
    """Units within ``within`` points of a tier bound, for the council's attention."""
    rules = ev.rules
    near = near_bounds(ev.ranked, rules, within)
    tiers = {t.id: t for t in rules.tiers}
    _, score_text = _score_cells(near, rules)
    rows = []
    for i in near.index:
        d = near.at[i, "distance"]
        side = "trên" if d >= 0 else "dưới"
        rows.append({"unit": near.at[i, "unit"], "group": rules.group(near.at[i, "group"]).numeral,
                     "score": score_text[i],
                     "bound": f"{fmt_bound(near.at[i, 'bound'])} ({tiers[near.at[i, 'bound_tier']].short})",
                     "distance": f"{number(abs(d), rules.precision.decimals)} điểm {side} ngưỡng",
                     "tier": tier_data(tiers[near.at[i, "tier"]])})
    return render("present/near_bound_table.html.j2", rows=rows, within=within, adjustments=ev.rules.has_adjustments)


# -- notes and provenance ------------------------------------------------------------------


def annex(ev: Evaluation) -> str:
    """The heading of the annex that follows the signature (analysis, notes on the data, provenance)."""
    return render("present/annex.html.j2", year=ev.params.year, subject=ev.rules.wording.subject)


def notes(ev: Evaluation) -> str:
    """In plain words: the rule values the source does not confirm, the names normalised, the data's source."""
    return render("present/notes.html.j2",
                  loose=[what for _, what in ev.rules.unconfirmed()],
                  renamed=[[a, b] for a, b in zip(ev.renamed["input"], ev.renamed["unit"], strict=True)],
                  source_note=ev.params.params.report.source_note)


def provenance(ev: Evaluation, parameters: Mapping[str, object]) -> str:
    """SHA-256 of each input, the rules applied, the package version and the run's parameters, in words."""
    prov = ev.provenance
    files = [{"role": ROLES.get(r, r), "file": f, "bytes": str(b), "sha256": h}
             for r, f, b, h in zip(prov["role"], prov["file"], prov["bytes"], prov["sha256"], strict=True)]
    shown = [(PARAMETERS.get(k, k), _plain_value(v)) for k, v in parameters.items() if v not in ("", None)]
    return render("present/provenance.html.j2", files=files, rules_name=ev.rules.name,
                  version=__version__, parameters=shown)


def _plain_value(value: object) -> str:
    if isinstance(value, float):
        return number(value, 0, max_decimals=6)
    return str(value)


# -- the year's units: periods, groups left out, changes of organisation ---------------------

# Each kind of change as the annex heads its table: (title, "before" column, "after" column).
CHANGE_WORDS = {"merged": ("Hợp nhất", "Các đơn vị hợp nhất", "Đơn vị sau hợp nhất"),
                "absorbed": ("Sáp nhập vào đơn vị khác", "Đơn vị sáp nhập", "Sáp nhập vào"),
                "renamed": ("Đổi tên, tổ chức lại", "Đơn vị trước", "Đơn vị sau"),
                "split": ("Chia tách", "Đơn vị chia tách", "Các đơn vị sau chia tách"),
                "dissolved": ("Giải thể; đơn vị thành lập trên địa bàn", "Đơn vị giải thể",
                              "Đơn vị thành lập trên địa bàn")}


def period_flags(ev: Evaluation) -> str:
    """Annex: the units scored on fewer periods than the year has, and which periods they lack."""
    r = ev.ranked
    if "period_flag" not in r or not r["period_flag"].fillna("").ne("").any():
        return ""
    flagged = r[r["period_flag"].fillna("").ne("")]
    numerals = {g.id: g.numeral for g in ev.rules.groups}
    rows = [[u, numerals[g], number(s, ev.rules.precision.decimals), f]
            for u, g, s, f in zip(flagged["unit"], flagged["group"], flagged["score"], flagged["period_flag"],
                                  strict=True)]
    return render("present/period_flags.html.j2", rows=rows, units=ev.rules.wording.units)


def _names(registry_units: pd.DataFrame, ids: tuple[str, ...], column: str) -> str:
    """Names of ``ids``, the real ones first; the illustrative ones said so once
    ("xã Các Sơn và 10 đơn vị tên minh họa: phường Nghi Sơn 01, …")."""
    units = registry_units.loc[list(ids)]
    real = list(units.loc[~units["illustrative"], column])
    fake = list(units.loc[units["illustrative"], column])
    head = f"{len(ids)} đơn vị: " if len(ids) > 1 else ""
    if not fake:
        return head + ", ".join(real)
    if not real:
        return head.removesuffix(": ") + (", " if head else "") + "tên minh họa: " + ", ".join(fake)
    return head + ", ".join(real) + f" và {len(fake)} đơn vị tên minh họa: " + ", ".join(fake)


def organisation(ev: Evaluation) -> str:
    """Annex: the registry's changes since the year before (merges, units absorbed, splits, units
    dissolved with their area passed on), with their dates and sources, and the units of the
    registry the year does not evaluate, with the reason."""
    year = ev.params.year
    units = ev.registry.units
    changes = organisation_changes(ev.registry, year - 1, year)
    kinds = []
    for kind, part in changes.groupby("kind", sort=False):
        title, head_before, head_after = CHANGE_WORDS[kind]
        rows = [[_names(units, before, "name" if kind == "dissolved" else "short_name"),
                 _names(units, after, "short_name"), date]
                for before, after, date in zip(part["before"], part["after"], part["date"], strict=True)]
        sources = list(dict.fromkeys(x for srcs in part["sources"] for x in srcs))
        kinds.append({"name": title, "before": head_before, "after": head_after, "rows": rows,
                      "sources": sources})
    left = ev.left_out if ev.left_out is not None else pd.DataFrame(columns=["unit", "reason"])
    left_rows = [[u, r] for u, r in zip(left["unit"], left["reason"], strict=True)]
    illustrative = int(units.loc[units.index.isin(ev.ranked["unit_id"]), "illustrative"].sum())
    if not (kinds or left_rows):
        return ""
    return render("present/organisation.html.j2", first=year - 1, year=year, kinds=kinds, left=left_rows,
                  illustrative=illustrative, units=ev.rules.wording.units)
