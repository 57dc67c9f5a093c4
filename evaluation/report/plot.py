"""Stage: plot. Seaborn charts of a year's results, drawn once and written as SVG (and PNG).

Each function returns a matplotlib Figure and changes nothing global: the
style lives in :data:`STYLE`, applied with ``plt.rc_context``.  SVG output is
made deterministic (fixed hash salt, no date) so two runs give the same report.
"""

from __future__ import annotations

import io
import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen here; the notebook shows the SVG we render ourselves

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from ..fmt import fmt_bound, number, tint  # noqa: E402
from ..inputs.rules import Rules  # noqa: E402

__all__ = ["STYLE", "CAPTIONS", "LARGE_CAPTIONS", "MAX_HEIGHT", "TOP_GAPS", "TOP_RANKS", "scores_by_group",
           "score_spread", "dumbbell", "gap_spread", "per_unit", "caption", "groups_drawn", "rank_intervals",
           "render_svg", "save_figure", "draw", "draw_ranks"]

# The caption under each chart (after "Hình n."); {group} is the group's numeral and name.
CAPTIONS = {
    "scores": "Điểm đánh giá của các cơ quan, đơn vị nhóm {group}, theo thứ hạng; nền màu là khoảng điểm "
              "của từng mức xếp loại (trục điểm như nhau ở mọi nhóm)",
    "dumbbell": "Điểm tự chấm (chấm trắng) và điểm đánh giá (chấm màu) của nhóm {group}, xếp theo chênh "
                "lệch giảm dần; số bên phải là chênh lệch",
    "ranks": "Thứ hạng công bố (chấm) và khoảng 95% thứ hạng qua các kịch bản (vạch) của các cơ quan, đơn vị "
             "nhóm {group}",
}
# The same charts for a group too large for one row per unit on a page; {n}: its units, {top}: the
# units named in the lower panel.
LARGE_CAPTIONS = {
    "scores": "Điểm đánh giá của {n} cơ quan, đơn vị nhóm {group}: trên, số đơn vị theo từng khoảng 1 điểm; "
              "dưới, mỗi đơn vị một chấm, ghi tên các đơn vị điểm cao nhất, thấp nhất và các đơn vị xếp loại "
              "không theo điểm (dấu ×); màu chấm là mức xếp loại, nền màu là khoảng điểm của từng mức (trục "
              "điểm như nhau ở mọi nhóm)",
    "ranks": "Thứ hạng công bố (chấm) và khoảng 95% thứ hạng qua các kịch bản (vạch) trong nhóm {group} ({n} cơ "
             "quan, đơn vị): chỉ các đơn vị có thể đổi xếp loại hoặc đổi thứ hạng, nhiều nhất {top} đơn vị, "
             "trước hết các đơn vị có thể đổi xếp loại, rồi các đơn vị có khoảng thứ hạng rộng nhất; các đơn "
             "vị khác giữ nguyên thứ hạng",
    "dumbbell": "Chênh lệch giữa điểm tự chấm và điểm đánh giá của {n} cơ quan, đơn vị nhóm {group}: trên, số "
                "đơn vị theo từng khoảng chênh lệch; dưới, {top} đơn vị chênh lệch lớn nhất, điểm tự chấm (chấm "
                "trắng) và điểm đánh giá (chấm màu), số bên phải là chênh lệch",
}
# A chart with one row per unit is as tall as its rows; taller than this (inches, drawn 7,2 inches
# wide, printed 6,5) it would not fit an A4 page, where a chart is kept whole (a taller one is cut).
# Such a group is drawn as a distribution, with the units that matter named.
MAX_HEIGHT = 9.5
TOP_GAPS = 15       # the units of a large group named in its self-score chart
TOP_RANKS = 20      # the units of a large group drawn in its rank-interval chart
_NAMED = 3          # the highest and the lowest units named in a large group's score chart

# DejaVu Sans (bundled with matplotlib) has every Vietnamese letter.
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "danh-gia-xep-loai",
    # Text stays text in the SVG: a quarter of the size, four times faster to lay out in the PDF,
    # and the names in charts can be searched and copied. Fallback fonts are added in render_svg.
    "svg.fonttype": "none",
    "figure.dpi": 100,
    # Names are text, never TeX: "$…$" in a unit name would otherwise be typeset, or crash the chart.
    "text.parse_math": False,
}
_WIDTH = 7.2  # inches: the text width of an A4 page with administrative margins


def _vi(decimals: int = 0):
    return FuncFormatter(lambda v, _pos: number(v, decimals))


def _score_axis(axis) -> None:
    """Whole-number ticks written the Vietnamese way."""
    axis.set_major_locator(MaxNLocator(integer=True, nbins=10, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(_vi())


def _wrap(names: pd.Series, width: int = 34) -> list[str]:
    return [textwrap.fill(n, width) for n in names]


def _height(labels: list[str]) -> float:
    """Figure height: rows are evenly spaced, so every row gets room for the tallest label."""
    tallest = max((label.count("\n") + 1 for label in labels), default=1)
    return 1.1 + len(labels) * (0.21 + 0.13 * (tallest - 1))


def _palette(rules: Rules) -> dict[str, str]:
    return {t.short: t.color for t in rules.tiers}


def _with_labels(frame: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    short = {t.id: t.short for t in rules.tiers}
    return frame.assign(tier_label=frame["tier"].map(short))


def _lower_limit(values: pd.Series, rules: Rules) -> float:
    """Left end of the score axis: a round number below the lowest score and the bound under it."""
    low = float(values.min())
    bounds = [float(t.min) for t in rules.tiers if float(t.min) <= low]
    floor = max(bounds) if bounds else float(rules.scale.score_min)
    return max(float(rules.scale.score_min), math.floor(min(low - 2, floor) / 5) * 5)


def _bound_lines(ax, rules: Rules, lo: float, hi: float, *, vertical: bool = True) -> None:
    for t in rules.tiers:
        b = float(t.min)
        if lo < b < hi:
            (ax.axvline if vertical else ax.axhline)(b, color=t.color, linestyle="--", linewidth=1, zorder=0)
            if vertical:
                ax.annotate(f"{t.short} ≥ {fmt_bound(t.min)}", (b, 1), xycoords=("data", "axes fraction"),
                            xytext=(0, 3), textcoords="offset points", fontsize=7, color=t.color, ha="center")
            else:
                ax.annotate(f"{t.short} ≥ {fmt_bound(t.min)}", (0, b), xycoords=("axes fraction", "data"),
                            xytext=(2, 2), textcoords="offset points", fontsize=7, color=t.color)


def _legend_below(ax, handles) -> None:
    """Legend centred under the chart, clear of the data; call before :func:`_finish`."""
    ax.figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=8)


def _finish(fig: Figure) -> None:
    """Tight layout that leaves a fixed strip (in inches) at the bottom for the legend."""
    fig.tight_layout(rect=(0, 0.32 / fig.get_figheight(), 1, 1))


def _tier_legend(ax, rules: Rules, present: set[str]) -> None:
    _legend_below(ax, [Patch(color=t.color, label=f"Xếp loại: {t.short}") for t in rules.tiers if t.id in present])


def _common_range(ranked: pd.DataFrame, rules: Rules) -> tuple[float, float]:
    """One score axis for every group's chart: from a round number below the lowest score to the top."""
    scores = ranked["score"]
    if "self_score" in ranked:
        scores = pd.concat([scores, ranked["self_score"].dropna()])
    return _lower_limit(scores, rules), float(rules.scale.score_max)


def _visible_bands(rules: Rules, lo: float, hi: float):
    """Each tier's score range within [lo, hi]: (position, tier, bottom, top), empty ones left out."""
    for i, t in enumerate(rules.tiers):
        top = min(hi if i == 0 else float(rules.tiers[i - 1].min), hi)
        bottom = max(float(t.min), lo)
        if top > lo and bottom < hi:
            yield i, t, bottom, top


def _fill_band(ax, t, bottom: float, top: float, lo: float) -> None:
    ax.axvspan(bottom, top, color=tint(t.color, 0.86), zorder=0, linewidth=0)
    if float(t.min) > lo:
        ax.axvline(float(t.min), color=t.color, linewidth=1, zorder=1)


def _bands(ax, rules: Rules, lo: float, hi: float) -> None:
    """Each tier's score range as a light band, labelled at the top: where a dot sits says its tier."""
    for i, t, bottom, top in _visible_bands(rules, lo, hi):
        _fill_band(ax, t, bottom, top, lo)
        ax.annotate(f"{t.short} (từ {fmt_bound(t.min)})" if i < len(rules.tiers) - 1 else t.short,
                    ((bottom + top) / 2, 1), xycoords=("data", "axes fraction"), xytext=(0, 3),
                    textcoords="offset points", fontsize=8, color=t.color, ha="center", fontweight="bold")


def per_unit(ranked: pd.DataFrame, group: str, kind: str = "scores") -> bool:
    """Whether ``kind``'s chart of ``group`` has one row per unit (it fits a page), or is drawn
    as a distribution (:func:`score_spread`, :func:`gap_spread`)."""
    data = ranked[ranked["group"] == group]
    if kind == "dumbbell":
        data = data[data["self_score"].notna()]
    return _height(_wrap(data["unit"])) <= MAX_HEIGHT


def caption(kind: str, ranked: pd.DataFrame, rules: Rules, group: str) -> str:
    """The caption of ``kind``'s chart of ``group``, for the chart :func:`draw` made of it."""
    g = rules.group(group)
    name = f"{g.numeral}. {g.name}"
    if per_unit(ranked, group, kind):
        return CAPTIONS[kind].format(group=name)
    data = ranked[ranked["group"] == group]
    if kind == "dumbbell":
        data = data[data["self_score"].notna()]
    top = TOP_RANKS if kind == "ranks" else TOP_GAPS
    return LARGE_CAPTIONS[kind].format(group=name, n=len(data), top=min(top, len(data)))


def scores_by_group(ranked: pd.DataFrame, rules: Rules, group: str, *,
                    limits: tuple[float, float] | None = None) -> Figure:
    """Published scores of one group, one dot per unit in rank order, on the tiers' bands.

    ``limits``: the score axis shared by every group (default: this group's own), so that two
    groups' charts compare at a glance; the axis is labelled with where it starts.
    """
    data = ranked[ranked["group"] == group]
    g = rules.group(group)
    lo, hi = limits or _common_range(data, rules)
    labels = _wrap(data["unit"])
    colors = {t.id: t.color for t in rules.tiers}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(_WIDTH, _height(labels)))
        y = list(range(len(data)))
        _bands(ax, rules, lo, hi)
        ax.hlines(y, lo, data["score"], color="#d0d0d0", linewidth=0.6, zorder=2)
        ax.scatter(data["score"], y, c=data["tier"].map(colors).tolist(), s=34, zorder=3, edgecolors="white",
                   linewidths=0.6)
        for yy, v in zip(y, data["score"], strict=True):
            ax.annotate(number(v, rules.precision.decimals), (v, yy), xytext=(5, 0), textcoords="offset points",
                        va="center", fontsize=8)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_ylim(len(data) - 0.5, -0.7)
        ax.set_xlim(lo, hi)
        _score_axis(ax.xaxis)
        ax.set_xlabel(f"Điểm đánh giá (trục từ {fmt_bound(lo)} đến {fmt_bound(hi)}, như nhau ở mọi nhóm)")
        ax.set_title(f"{g.numeral}. {g.name}", loc="left", pad=16)
        fig.tight_layout()
    return fig


def _gap_frame(ranked: pd.DataFrame, rules: Rules, group: str) -> pd.DataFrame:
    """The group's units with a self score, largest gap (self − published score) first."""
    data = _with_labels(ranked[(ranked["group"] == group) & ranked["self_score"].notna()], rules)
    return data.assign(gap=data["self_score"] - data["score"]).sort_values(
        ["gap", "order"], ascending=[False, True], kind="stable")


def _dumbbell_rows(ax, data: pd.DataFrame, rules: Rules, lo: float, hi: float) -> list[Line2D]:
    """One row per unit: self score (white dot) to published score (the tier's colour), the gap at
    the right; returns the legend's handles."""
    labels = _wrap(data["unit"])
    y = range(len(data))
    ax.hlines(list(y), data["score"], data["self_score"], color="#9e9e9e", linewidth=2, zorder=1)
    sns.scatterplot(x=data["self_score"].to_numpy(), y=list(y), color="white", edgecolor="#424242",
                    s=36, linewidth=1.2, zorder=2, ax=ax, legend=False)
    sns.scatterplot(x=data["score"].to_numpy(), y=list(y), hue=data["tier_label"].to_numpy(),
                    palette=_palette(rules), s=40, zorder=3, ax=ax, legend=False)
    decimals = rules.precision.stages.total.decimals
    for yy, (s, v) in enumerate(zip(data["self_score"], data["gap"], strict=True)):
        ax.annotate(f"+{number(v, decimals)}" if v >= 0 else number(v, decimals),
                    (max(s, s - v), yy), xytext=(5, 0), textcoords="offset points", va="center",
                    fontsize=7, color="#424242")
    ax.set_yticks(list(y), labels)
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.set_xlim(lo, hi + 2)
    _bound_lines(ax, rules, lo, hi)
    _score_axis(ax.xaxis)
    return [Line2D([], [], marker="o", color="white", markeredgecolor="#424242", linestyle="",
                   label="Điểm tự chấm"),
            *[Line2D([], [], marker="o", color=t.color, linestyle="", label=f"Điểm đánh giá ({t.short})")
              for t in rules.tiers if t.id in set(data["tier"])]]


def dumbbell(ranked: pd.DataFrame, rules: Rules, group: str, *,
             limits: tuple[float, float] | None = None) -> Figure:
    """Self score against appraised score for each unit of a group, ordered by the gap."""
    data = _gap_frame(ranked, rules, group)
    g = rules.group(group)
    lo, hi = limits or _common_range(data, rules)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(_WIDTH, _height(_wrap(data["unit"]))))
        handles = _dumbbell_rows(ax, data, rules, lo, hi)
        _legend_below(ax, handles)
        ax.set_xlabel("Điểm")
        ax.set_title(f"{g.numeral}. {g.name}", loc="left", pad=14)
        _finish(fig)
    return fig


def gap_spread(ranked: pd.DataFrame, rules: Rules, group: str, *,
               limits: tuple[float, float] | None = None) -> Figure:
    """A large group's gaps (self score − published score): how many units at each gap, then the
    :data:`TOP_GAPS` largest as in :func:`dumbbell`."""
    data = _gap_frame(ranked, rules, group)
    g = rules.group(group)
    lo, hi = limits or _common_range(data, rules)
    top = data.head(TOP_GAPS)
    decimals = rules.precision.stages.total.decimals
    with plt.rc_context(STYLE):
        rows_h = _height(_wrap(top["unit"])) - 1.1
        fig, (ax_h, ax) = plt.subplots(2, 1, figsize=(_WIDTH, 3.2 + rows_h),
                                       gridspec_kw={"height_ratios": [1.7, max(rows_h, 1.0)]})
        gap = data["gap"]
        start = math.floor(min(gap.min(), 0) * 2) / 2
        stop = math.ceil(max(gap.max(), 0) * 2) / 2 + 0.5
        sns.histplot(x=gap.to_numpy(), binwidth=0.5, binrange=(start, stop), color="#8c8c8c", edgecolor="white",
                     ax=ax_h)
        median = float(gap.median())
        ax_h.axvline(0, color="#424242", linewidth=0.8)
        ax_h.axvline(median, color="#b2182b", linestyle="--", linewidth=1)
        ax_h.annotate(f"trung vị {number(median, decimals)}", (median, 1), xycoords=("data", "axes fraction"),
                      xytext=(4, -10), textcoords="offset points", fontsize=7.5, color="#b2182b", zorder=5,
                      bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"})
        ax_h.set_xlabel("Chênh lệch (điểm tự chấm − điểm đánh giá); bên phải số 0: tự chấm cao hơn")
        ax_h.set_ylabel("Số đơn vị")
        ax_h.xaxis.set_major_formatter(_vi())
        ax_h.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax_h.set_title(f"{g.numeral}. {g.name} ({len(data)} đơn vị)", loc="left", pad=8)
        handles = _dumbbell_rows(ax, top, rules, lo, hi)
        ax.set_xlabel("Điểm")
        ax.set_title(f"{len(top)} đơn vị chênh lệch lớn nhất", loc="left", fontsize=9.5, pad=14)
        _legend_below(ax, handles)
        _finish(fig)
    return fig


def rank_intervals(units: pd.DataFrame, rules: Rules, group: str) -> Figure:
    """Each unit's published rank in its group and the central 95 % of its ranks over the scenarios.

    Parameters
    ----------
    units : pandas.DataFrame
        :attr:`evaluation.engine.sensitivity.Sensitivity.units` (report order): ``unit``, ``group``,
        ``tier``, ``rank``, ``rank_low``, ``rank_high``, ``stability``, ``stable``.
    """
    data = _with_labels(units[units["group"] == group], rules)
    g = rules.group(group)
    title = f"{g.numeral}. {g.name}"
    left = 0.3
    if _height(_wrap(data["unit"])) > MAX_HEIGHT:
        # Too many rows for a page: only the units whose tier may change or whose rank moves, those
        # first, then the widest intervals, at most TOP_RANKS, in report order (the caption says so).
        width = data["rank_high"] - data["rank_low"]
        moving = data[~data["stable"] | (width > 0)]
        order = moving.assign(_moves=~moving["stable"], _width=width[moving.index]).sort_values(
            ["_moves", "_width", "rank"], ascending=[False, False, True], kind="stable")
        title += f" ({min(TOP_RANKS, len(moving))} trong {len(data)} đơn vị)"
        data = data[data.index.isin(order.index[:TOP_RANKS])]
        if len(data):
            left = max(0.3, float(data["rank_low"].min()) - 3)
    labels = _wrap(data["unit"])
    colors = data["tier"].map({t.id: t.color for t in rules.tiers}).tolist()
    n = int(max(data["rank_high"].max(), data["rank"].max())) if len(data) else 1
    with plt.rc_context(STYLE):
        # At least room for the title, the axis and the legend below it, when few units are drawn.
        fig, ax = plt.subplots(figsize=(_WIDTH, max(_height(labels), 2.6)))
        y = list(range(len(data)))
        # The interval as a thick pale bar (half a rank wider on each side, so one rank still shows).
        ax.hlines(y, data["rank_low"] - 0.35, data["rank_high"] + 0.35, colors=colors, linewidth=6, alpha=0.35,
                  zorder=1)
        ax.scatter(data["rank"], y, c=colors, edgecolors="#212121", linewidths=0.8, s=34, zorder=3)
        for yy, r in zip(y, data.itertuples(index=False), strict=True):
            if not r.stable:
                ax.annotate(f"giữ xếp loại {number(r.stability * 100, 0)}%", (r.rank_high + 0.5, yy), xytext=(4, 0),
                            textcoords="offset points", va="center", fontsize=7, color="#b2182b")
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlim(left, n + 0.7 + max(2.5, (n - left) * 0.22))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=min(n, 12), steps=[1, 2, 5, 10]))
        if not len(data):
            ax.text(0.5, 0.5, "Không đơn vị nào đổi thứ hạng hay xếp loại qua các kịch bản", transform=ax.transAxes,
                    ha="center", va="center", fontsize=9)
        ax.xaxis.set_major_formatter(_vi())
        ax.set_xlabel("Thứ hạng trong nhóm (1 = cao nhất)")
        ax.set_title(title, loc="left", pad=14)
        handles = [Line2D([], [], color="#9e9e9e", linewidth=6, alpha=0.5, label="Khoảng 95% thứ hạng"),
                   Line2D([], [], marker="o", color="#9e9e9e", markeredgecolor="#212121", linestyle="",
                          label="Thứ hạng công bố"),
                   *[Patch(color=t.color, label=t.short) for t in rules.tiers if t.id in set(data["tier"])]]
        _legend_below(ax, handles)
        _finish(fig)
    return fig


def _spread_labels(ax, data: pd.DataFrame, rules: Rules, y: pd.Series, placed: pd.Series, lo: float,
                   hi: float) -> None:
    """Name the units of the :data:`_NAMED` highest scores above the strip, of the lowest and those
    placed by a condition below it (units tied at a score in one label: "xã A và 3 đơn vị khác
    (100,0)"), each label on a level of its own, a line from it to its dot."""
    d = rules.precision.decimals
    by_score = data.sort_values(["score", "order"], ascending=[False, True], kind="stable")
    distinct = by_score["score"].drop_duplicates()
    high = by_score[by_score["score"] >= distinct.iloc[min(_NAMED, len(distinct)) - 1]]
    low = by_score[(by_score["score"] <= distinct.iloc[-min(_NAMED, len(distinct))])
                   & ~by_score.index.isin(high.index)]
    odd = data[placed & ~data.index.isin(high.index) & ~data.index.isin(low.index)]
    labels: list[tuple[float, float, str, bool]] = []   # the dot's x and y, the text, above the strip

    for frame, above in ((high, True), (low, False), (odd, False)):
        for score, part in frame.groupby("score", sort=False):
            first = part.iloc[0]
            more = f" và {len(part) - 1} đơn vị khác" if len(part) > 1 else ""
            labels.append((float(score), float(y[first.name]), f"{first['unit']}{more} ({number(score, d)})",
                           above))
    mid = (lo + hi) / 2
    for above in (True, False):
        mine = sorted([lab for lab in labels if lab[3] == above], key=lambda lab: lab[0])
        for k, (x, yy, text, _) in enumerate(mine):
            level = (1.25 + 0.5 * (k % 4)) * (1 if above else -1)
            ax.annotate(text, (x, yy), xytext=(x, level), textcoords="data", fontsize=7.5,
                        ha="right" if x > mid else "left", va="center",
                        arrowprops={"arrowstyle": "-", "color": "#757575", "linewidth": 0.6, "shrinkA": 0,
                                    "shrinkB": 3})


def score_spread(ranked: pd.DataFrame, rules: Rules, group: str, *,
                 limits: tuple[float, float] | None = None) -> Figure:
    """A large group's published scores on the tiers' bands: how many units in each 1-point step
    (stacked by tier), then one dot per unit (spread up and down so that none hides another), the
    highest and lowest named, the units placed by a condition marked × and named."""
    data = _with_labels(ranked[ranked["group"] == group], rules)
    g = rules.group(group)
    lo, hi = limits or _common_range(data, rules)
    colors = {t.id: t.color for t in rules.tiers}
    # Placed by a condition (engine.classify's reasons: "Xếp «…» bất kể điểm do: …", "Không được xếp
    # cao hơn «…» do: …"); a quota's reason starts "Vượt hạn mức".
    placed = data["tier_reason"].fillna("").str.startswith(("Xếp «", "Không được xếp"))
    with plt.rc_context(STYLE):
        fig, (ax_h, ax) = plt.subplots(2, 1, figsize=(_WIDTH, 6.2), sharex=True,
                                       gridspec_kw={"height_ratios": [1.5, 2.0]})
        _bands(ax_h, rules, lo, hi)
        _band_fill(ax, rules, lo, hi)
        order = [t.short for t in rules.tiers if t.id in set(data["tier"])]
        sns.histplot(data=data, x="score", hue="tier_label", hue_order=order, palette=_palette(rules),
                     multiple="stack", binwidth=1, binrange=(math.floor(lo), math.ceil(hi)), edgecolor="white",
                     linewidth=0.5, ax=ax_h, legend=False, alpha=1)
        ax_h.set_ylabel("Số đơn vị")
        ax_h.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax_h.set_title(f"{g.numeral}. {g.name} ({len(data)} đơn vị)", loc="left", pad=16)
        # Dots spread evenly up and down within each 1-point step, in rank order: deterministic.
        step = data["score"].map(math.floor)
        k = data.groupby(step).cumcount()
        n = step.map(step.value_counts())
        y = ((k + 0.5) / n - 0.5) * 1.8 * (n / n.max()).clip(lower=0.3)
        plain = data[~placed]
        ax.scatter(plain["score"], y[~placed], c=plain["tier"].map(colors).tolist(), s=18, zorder=3,
                   edgecolors="white", linewidths=0.4)
        odd = data[placed]
        ax.scatter(odd["score"], y[placed], c=odd["tier"].map(colors).tolist(), s=34, marker="X", zorder=4,
                   edgecolors="white", linewidths=0.4)
        _spread_labels(ax, data, rules, y, placed, lo, hi)
        ax.set_ylim(-3.2, 3.2)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlim(lo, hi)
        _score_axis(ax.xaxis)
        ax.set_xlabel(f"Điểm đánh giá (trục từ {fmt_bound(lo)} đến {fmt_bound(hi)}, như nhau ở mọi nhóm)")
        _tier_legend(ax, rules, set(data["tier"]))
        _finish(fig)
    return fig


def _band_fill(ax, rules: Rules, lo: float, hi: float) -> None:
    """The tiers' bands without their labels (the panel above names them)."""
    for _, t, bottom, top in _visible_bands(rules, lo, hi):
        _fill_band(ax, t, bottom, top, lo)


def draw_ranks(units: pd.DataFrame, rules: Rules, folder: Path, *, stamp: str | None = None,
               groups: list[str] | None = None) -> list[str]:
    """:func:`rank_intervals` of every group (``khoang-thu-hang-<group>``); ``[]`` when no rank varies."""
    if (units["rank_low"] == units["rank_high"]).all():
        return []
    present = [g for g in rules.group_ids if (units["group"] == g).any() and (groups is None or g in groups)]
    return [save_figure(rank_intervals(units, rules, g), folder, f"khoang-thu-hang-{g}", stamp=stamp)
            for g in present]


_SVG_FONT = "font-family: 'DejaVu Sans'"
# Where DejaVu Sans is missing (a reader's Windows PC), another sans font with Vietnamese letters.
_SVG_FONTS = "font-family: 'DejaVu Sans', 'Liberation Sans', Arial, 'Noto Sans', sans-serif"


def _laid_out(fig: Figure) -> None:
    """Say that the figure's layout is done: ``tight_layout()`` leaves a placeholder layout engine
    behind, and ``savefig`` then draws the whole figure once more before each rendering, for a layout
    that no longer changes (a quarter of a chart's time; the same bytes without it: tests/test_plot.py)."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    if isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        fig.set_layout_engine(None)


def render_svg(fig: Figure) -> str:
    """The figure as SVG text, with no date and fixed ids (same figure → same bytes)."""
    _laid_out(fig)
    buf = io.StringIO()
    with plt.rc_context(STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue().replace(_SVG_FONT, _SVG_FONTS)


def save_figure(fig: Figure, folder: Path, name: str, svg: str | None = None, *,
                stamp: str | None = None) -> str:
    """Write ``name.svg`` and ``name.png`` (for pasting into documents); return the SVG text.

    ``stamp`` (e.g. "Dữ liệu minh họa") is written in the figure's top right corner, so a chart
    copied out of an illustrative report still says so.  The figure is closed afterwards: it is
    drawn once, rendered twice at most.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _laid_out(fig)
    if stamp:
        with plt.rc_context(STYLE):
            fig.text(0.995, 0.995, stamp.upper(), ha="right", va="top", color="#b2182b", fontsize=7.5,
                     fontweight="bold")
        svg = None
    svg = svg if svg is not None else render_svg(fig)
    (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
    with plt.rc_context(STYLE):
        # 150 dpi: 1080 px across a page-wide chart, sharp in a Word document, a third cheaper than 200
        fig.savefig(folder / f"{name}.png", format="png", dpi=150, metadata={"Software": None})
    plt.close(fig)
    return svg


_KINDS = {
    "scores": ("diem-theo-nhom", scores_by_group, score_spread),
    "dumbbell": ("tu-cham-va-danh-gia", dumbbell, gap_spread),
}


def groups_drawn(ranked: pd.DataFrame, rules: Rules, kind: str, groups: list[str] | None = None) -> list[str]:
    """The groups a per-group chart ``kind`` is drawn for, in the rules' order: those with units (with
    a self score, for ``dumbbell``), of ``groups`` if given."""
    present = [g for g in rules.group_ids if (ranked["group"] == g).any() and (groups is None or g in groups)]
    if kind == "dumbbell":
        present = [g for g in present if ranked.loc[ranked["group"] == g, "self_score"].notna().any()]
    return present


def draw(ranked: pd.DataFrame, rules: Rules, kind: str, folder: Path, *, stamp: str | None = None,
         groups: list[str] | None = None) -> list[str]:
    """Draw one chart kind, one figure per group, save it, return the SVGs.

    A group whose chart of one row per unit would be taller than a page (:func:`per_unit`) is
    drawn as a distribution instead (:func:`score_spread`, :func:`gap_spread`); :func:`caption`
    says which.

    Parameters
    ----------
    kind : {"scores", "dumbbell"}
    folder : Path
        Where ``<name>.svg`` and ``<name>.png`` are written.
    stamp : str, optional
        Written on every figure (see :func:`save_figure`).
    groups : list of str, optional
        Only these groups' charts (default: every group that has units).  The score axis is the
        one of every group together, whichever are drawn.
    """
    prefix, small, large = _KINDS[kind]
    present = groups_drawn(ranked, rules, kind, groups)
    limits = _common_range(ranked, rules)
    return [save_figure((small if per_unit(ranked, g, kind) else large)(ranked, rules, g, limits=limits), folder,
                        f"{prefix}-{g}", stamp=stamp)
            for g in present]
