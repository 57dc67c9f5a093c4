"""Charts of years scored from their parts: points by criterion, survey answers.

Same conventions as :mod:`evaluation.report.plot` (style, deterministic SVG, one
figure per call, nothing global changed).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..fmt import fmt_bound, number
from ..inputs.rules import Rules
from .export import ILLUSTRATIVE
from .plot import _WIDTH, STYLE, _height, _score_axis, _wrap, groups_drawn, per_unit, save_figure

__all__ = ["CAPTIONS", "LARGE_CAPTIONS", "criteria_by_group", "criteria_spread", "answers_by_survey", "caption",
           "draw"]

# The caption under each chart (after "Hình n."); {group} is the group's numeral and name.
CAPTIONS = {
    "criteria": "Điểm thẩm định theo tiêu chí của nhóm {group}: mỗi thanh là một đơn vị, chia theo tiêu chí; "
                "phần gạch chéo là tiêu chí không áp dụng (điểm quy đổi)",
    "answers": "Tỷ lệ câu trả lời theo mức điểm của từng phiếu đánh giá và loại người chấm",
}
# The same chart of a group too large for one bar per unit on a page (:func:`.plot.per_unit`).
LARGE_CAPTIONS = {
    "criteria": "Điểm thẩm định theo tiêu chí của {n} cơ quan, đơn vị nhóm {group}: mỗi hàng là một tiêu chí, "
                "điểm của mỗi đơn vị tính bằng phần trăm điểm tối đa của tiêu chí; hộp là một nửa số đơn vị ở "
                "giữa, vạch trong hộp là trung vị, râu kéo đến đơn vị xa nhất trong khoảng 1,5 lần chiều dài "
                "hộp, chấm là đơn vị ở ngoài khoảng đó; bên phải là trung vị và số đơn vị được chấm tiêu chí "
                "(n; không tính đơn vị mà tiêu chí không áp dụng)",
}


def caption(kind: str, ranked: pd.DataFrame, rules: Rules, group: str | None) -> str:
    """The caption of ``kind``'s chart (of ``group``), for the chart :func:`draw` made of it."""
    if group is None:
        return CAPTIONS[kind].format(group="")
    g = rules.group(group)
    name = f"{g.numeral}. {g.name}"
    if kind in LARGE_CAPTIONS and not per_unit(ranked, group):
        return LARGE_CAPTIONS[kind].format(group=name, n=int((ranked["group"] == group).sum()))
    return CAPTIONS[kind].format(group=name)


def _criteria(lines: pd.DataFrame, rules: Rules) -> dict[str, str]:
    """Code → name of the criteria in ``lines``, in the order the rules list them (first set that has each)."""
    seen: dict[str, str] = {}
    for cs in rules.criteria_sets:
        for c in cs.criteria:
            seen.setdefault(c.code, c.name)
    present = set(lines["criterion"])
    return {code: name for code, name in seen.items() if code in present}


def criteria_by_group(lines: pd.DataFrame, ranked: pd.DataFrame, rules: Rules, group: str) -> Figure:
    """Points of each unit of a group stacked by criterion, against the appraisal maximum.

    Criteria that do not apply are drawn with their prorated credit (hatched), so each bar
    is the unit's appraisal.
    """
    units = ranked[ranked["group"] == group].sort_values(["appraisal", "order"], ascending=[False, True],
                                                         kind="stable")
    data = lines[lines["unit_id"].isin(units["unit_id"])]
    names = _criteria(data, rules)
    codes = list(names)
    pts = data.pivot(index="unit_id", columns="criterion", values="final_points").reindex(
        index=units["unit_id"], columns=codes).fillna(0.0)
    credited = data.pivot(index="unit_id", columns="criterion", values="applicable").reindex(
        index=units["unit_id"], columns=codes).fillna(True).eq(False)
    top = float(rules.scale.appraisal_max)
    labels = _wrap(units["unit"])
    colors = sns.color_palette("tab10", n_colors=max(len(codes), 3))
    g = rules.group(group)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(_WIDTH, _height(labels) + 0.5))
        y = np.arange(len(units))
        ax.barh(y, top, color="#f0f0f0", edgecolor="#bdbdbd", linewidth=0.5, height=0.78, zorder=0)
        left = np.zeros(len(units))
        for k, code in enumerate(codes):
            values = pts[code].to_numpy()
            bars = ax.barh(y, values, left=left, color=colors[k], height=0.78, edgecolor="white", linewidth=0.4,
                           zorder=2)
            for bar, hatch in zip(bars, credited[code].to_numpy(), strict=True):
                if hatch:
                    bar.set_hatch("////")
            left += values
        for yy, total in zip(y, units["appraisal"], strict=True):
            ax.annotate(number(total, 1), (top, yy), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize=7.5)
        ax.axvline(top, color="#424242", linewidth=0.8, linestyle="--", zorder=3)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.08)
        _score_axis(ax.xaxis)
        ax.set_xlabel(f"Điểm thẩm định (tối đa {fmt_bound(rules.scale.appraisal_max)}); "
                      "gạch chéo: không áp dụng, điểm quy đổi")
        ax.set_title(f"{g.numeral}. {g.name}", loc="left", pad=10)
        # Whole names, wrapped: a legend cut with "…" leaves the reader guessing the criterion.
        texts = [textwrap.fill(f"{c} — {names[c]}", 48) for c in codes]
        handles = [Patch(color=colors[k], label=t) for k, t in enumerate(texts)]
        fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=7)
        lines = sum(max(t.count("\n") + 1 for t in texts[i:i + 2]) for i in range(0, len(texts), 2))
        fig.set_figheight(fig.get_figheight() + 0.13 * lines)
        fig.tight_layout(rect=(0, (0.3 + 0.135 * lines) / fig.get_figheight(), 1, 1))
    return fig


def criteria_spread(lines: pd.DataFrame, ranked: pd.DataFrame, rules: Rules, group: str) -> Figure:
    """A large group's appraisal by criterion: per criterion, the spread of its units' points as a
    share of the criterion's maximum (a box plot), with the median and the units scored on it.

    A criterion that does not apply to a unit is left out of that unit (its prorated credit is
    not an appraisal of it); one bar per unit (:func:`criteria_by_group`) would be taller than a page.
    """
    units = ranked[ranked["group"] == group]
    data = lines[lines["unit_id"].isin(units["unit_id"]) & lines["applicable"].fillna(False).astype(bool)]
    data = data.assign(share=data["final_points"] / data["max_points"] * 100).dropna(subset=["share"])
    names = _criteria(data, rules)
    codes = list(names)
    stats = data.groupby("criterion")["share"].agg(["median", "size"]).reindex(codes)
    labels = [textwrap.fill(f"{c} — {names[c]}", 34) for c in codes]
    # From a round number below the lowest unit, with room for its dot.
    lo = max(0.0, min(90.0, float(np.floor((data["share"].min() - 2.5) / 10) * 10))) if len(data) else 0.0
    g = rules.group(group)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(_WIDTH, _height(labels) + 0.9))
        ax.boxplot([data.loc[data["criterion"] == c, "share"].to_numpy() for c in codes],
                   positions=range(len(codes)), orientation="horizontal", whis=1.5, widths=0.6, patch_artist=True,
                   boxprops={"facecolor": "#9ecae1", "edgecolor": "#4d4d4d", "linewidth": 0.8},
                   medianprops={"color": "#08306b", "linewidth": 1.4},
                   whiskerprops={"color": "#4d4d4d", "linewidth": 0.8}, capprops={"color": "#4d4d4d", "linewidth": 0.8},
                   flierprops={"marker": "o", "markersize": 2.5, "markerfacecolor": "#4d4d4d", "markeredgecolor": "none"})
        ax.set_ylim(len(codes) - 0.5, -0.5)  # the first criterion at the top
        for i, code in enumerate(codes):
            ax.annotate(f"{number(stats.at[code, 'median'], 1)}% (n = {int(stats.at[code, 'size'])})", (100, i),
                        xytext=(6, 0), textcoords="offset points", va="center", fontsize=7.5, annotation_clip=False)
        ax.set_yticks(range(len(codes)), labels)
        ax.set_ylabel("")
        ax.set_xlim(lo, 100)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{number(v, 0)}%"))
        ax.set_xlabel(f"Điểm thẩm định của tiêu chí, phần trăm điểm tối đa của tiêu chí (trục từ {number(lo, 0)}%)")
        ax.set_title(f"{g.numeral}. {g.name} ({len(units)} đơn vị)", loc="left", pad=10)
        fig.tight_layout(rect=(0, 0, 0.9, 1))  # room on the right for the medians
    return fig


def answers_by_survey(answers: pd.DataFrame, rules: Rules) -> Figure:
    """Share of each answer value, per survey and rater kind (100 % stacked bars; n in the labels)."""
    kinds = {r.id: r.name for r in rules.rater_kinds}
    surveys = [s for s in rules.surveys if s.id in set(answers["survey"])]
    rows_of = {s.id: [k for k in s.raters if ((answers["survey"] == s.id) & (answers["rater_kind"] == k)).any()]
               for s in surveys}
    ratios = [len(rows_of[s.id]) + 0.9 for s in surveys]      # + room for the title and the legend
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(surveys), 1, figsize=(_WIDTH, 0.7 + 0.42 * sum(ratios)), squeeze=False,
                                 sharex=True, gridspec_kw={"height_ratios": ratios})
        for ax, s in zip(axes[:, 0], surveys, strict=True):
            mine = answers[answers["survey"] == s.id]
            values = list(range(int(s.scale_min), int(s.scale_max) + 1))
            palette = sns.color_palette("RdYlGn", n_colors=len(values))
            labels = []
            for i, k in enumerate(rows_of[s.id]):
                counts = mine[mine["rater_kind"] == k].set_index("answer")["count"].reindex(
                    [float(v) for v in values], fill_value=0)
                n = int(counts.sum())
                share = counts.to_numpy() / n
                left = np.cumsum(np.r_[0, share[:-1]])
                ax.barh([i] * len(values), share, left=left, color=palette, height=0.72, edgecolor="white",
                        linewidth=0.4)
                labels.append(textwrap.fill(kinds.get(k, k), 22) + f"\n(n = {number(n, 0)})")
            ax.set_yticks(range(len(labels)), labels, fontsize=7.5)
            ax.set_ylim(len(labels) - 0.4, -0.6)
            ax.set_xlim(0, 1)
            ax.set_title(textwrap.fill(s.name, 80), loc="left", fontsize=8.5, pad=15)
            handles = [Patch(color=palette[j], label=str(v)) for j, v in enumerate(values)]
            ax.legend(handles=handles, ncol=len(values), frameon=False, fontsize=6.5, loc="lower left",
                      bbox_to_anchor=(0, 1.0), handlelength=1.2, columnspacing=0.8, borderaxespad=0.15)
        axes[-1, 0].xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{number(v * 100, 0)}%"))
        axes[-1, 0].set_xlabel("Tỷ lệ câu trả lời theo mức điểm (đỏ: thấp, xanh: cao)")
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.18 / fig.get_figheight()))   # room for a stamp at the top
    return fig


def draw(ev, kind: str, folder: Path, *, groups: list[str] | None = None) -> list[str]:
    """Draw a detailed chart kind and save it; ``[]`` for a totals-only year.

    A figure of an illustrative year is stamped "DỮ LIỆU MINH HỌA".

    Parameters
    ----------
    kind : {"criteria", "answers"}
        ``criteria``: one chart per group (``diem-theo-tieu-chi-<group>``), a group too large for one
        bar per unit on a page drawn as :func:`criteria_spread` (:func:`caption` says which);
        ``answers``: one chart of every survey (``phan-bo-tra-loi``).
    groups : list of str, optional
        ``criteria`` of these groups only (default: every group that has units).
    """
    d = ev.detail
    if d is None:
        return []
    stamp = ILLUSTRATIVE if ev.params.params.illustrative else None
    if kind == "answers":
        if d.answers is None or d.answers.empty:
            return []
        return [save_figure(answers_by_survey(d.answers, ev.rules), folder, "phan-bo-tra-loi", stamp=stamp)]
    present = groups_drawn(ev.ranked, ev.rules, kind, groups)
    return [save_figure((criteria_by_group if per_unit(ev.ranked, g) else criteria_spread)(d.lines, ev.ranked, ev.rules, g),
                        folder, f"diem-theo-tieu-chi-{g}", stamp=stamp) for g in present]
