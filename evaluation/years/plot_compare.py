"""Slope charts of the comparison: each unit's score from year to year, one chart per group.

Drawn with the yearly charts' style (:data:`evaluation.report.plot.STYLE`) and
rendered by :func:`evaluation.report.plot.save_figure`, so the SVG is deterministic.
Points are coloured by each year's tier; a line joins a unit to itself (or
its renamed successor) in the next year — green when it moved up a tier, red
when it moved down, grey otherwise, dashed for merges and splits.  Each year's
tier bounds are drawn across that year's column, so a bound that moved between
years shows as a step.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ..fmt import fmt_bound  # noqa: E402
from ..report.plot import STYLE, _score_axis, save_figure  # noqa: E402
from .compare import Comparison  # noqa: E402
from .lineage import FOLLOWED  # noqa: E402

__all__ = ["slopes", "draw_slopes", "groups_present"]

_WIDTH = 7.2
_LABEL_CHARS = 32  # per line; a name gets two lines at most
_LINE = {"up": "#1b7837", "down": "#b2182b", "same": "#9e9e9e"}
_LABEL_PT = 7.0
_CHAR_EM = 0.6  # average width of a DejaVu Sans character, in ems (a little generous)


def groups_present(cmp: Comparison) -> list[str]:
    """Groups with units in any year, in the latest rules' order, then older groups."""
    order: list[str] = []
    for ev in reversed(cmp.years):
        order += [g for g in ev.rules.group_ids if g not in order]
    present = set().union(*(set(ev.ranked["group"]) for ev in cmp.years))
    return [g for g in order if g in present]


def _group_title(cmp: Comparison, group: str) -> str:
    for ev in reversed(cmp.years):
        if group in ev.rules.group_ids:
            g = ev.rules.group(group)
            return f"{g.numeral}. {g.name}"
    return group


def _label(name: str) -> str:
    """A unit's name on at most two lines (long official names stay distinguishable)."""
    return "\n".join(textwrap.wrap(name, _LABEL_CHARS))   # whole: a cut name leaves the reader guessing


def _spread(y: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """Label centres as close as possible to ``y`` (least squares) with labels of ``heights`` not overlapping.

    Sorted by ``y``, label i must sit at least (hᵢ₋₁ + hᵢ)/2 above label i − 1.  With c the running
    sum of those distances, the centres minus c must not decrease: the closest such sequence to
    ``y − c`` is its isotonic regression (pool adjacent violators), so a label moves only as far
    as its neighbours force it, and one whose score is clear of the others sits exactly at it.
    """
    if len(y) == 0:
        return y
    order = np.argsort(y, kind="stable")
    h = heights[order]
    steps = np.concatenate([[0.0], np.cumsum((h[:-1] + h[1:]) / 2)])
    target = y[order] - steps
    # Pool adjacent violators over the labels of one chart side (a few dozen): blocks of (mean, size).
    means: list[float] = []
    sizes: list[int] = []
    for value in target:
        means.append(float(value))
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            size = sizes[-2] + sizes[-1]
            means[-2] = (means[-2] * sizes[-2] + means[-1] * sizes[-1]) / size
            sizes[-2] = size
            del means[-1], sizes[-1]
    placed = np.repeat(means, sizes) + steps
    out = np.empty_like(placed)
    out[order] = placed
    return out


def _points(cmp: Comparison, group: str) -> pd.DataFrame:
    frames = []
    for x, ev in enumerate(cmp.years):
        part = ev.ranked[ev.ranked["group"] == group]
        colors = {t.id: t.color for t in ev.rules.tiers}
        frames.append(pd.DataFrame({"x": x, "unit_id": part["unit_id"], "unit": part["unit"],
                                    "score": part["score"], "color": part["tier"].map(colors)}))
    return pd.concat(frames, ignore_index=True)


def _segments(cmp: Comparison, group: str) -> pd.DataFrame:
    frames = []
    for x, pair in enumerate(cmp.pairs):
        c = pair.changes
        part = c[(c["group_b"] == group) & c["id_a"].notna() & c["id_b"].notna()]
        frames.append(pd.DataFrame({"x0": x, "x1": x + 1, "y0": part["score_a"], "y1": part["score_b"],
                                    "move": part["tier_move"].fillna("same"),
                                    "followed": part["change"].isin(FOLLOWED)}))
    out = pd.concat(frames, ignore_index=True)
    return out.astype({"followed": bool})


def slopes(cmp: Comparison, group: str) -> Figure:
    """Scores of one group's units in every year compared, joined from year to year."""
    points = _points(cmp, group)
    segments = _segments(cmp, group)
    last = len(cmp.years) - 1
    points["label"] = points["unit"].map(_label)
    points["lines"] = points["label"].str.count("\n") + 1
    left, right = points[points["x"] == 0], points[points["x"] == last]
    n_lines = max(int(left["lines"].sum()), int(right["lines"].sum()), 4)
    longest = int(points["label"].str.split("\n").explode().str.len().max())
    label_in = longest * _CHAR_EM * _LABEL_PT / 72 + 0.15
    score_max = max(float(ev.rules.scale.score_max) for ev in cmp.years)
    lo = math.floor((points["score"].min() - 2) / 5) * 5
    hi = min(score_max, math.ceil((points["score"].max() + 2) / 5) * 5)
    # Tall enough that a label line spans at most 0.6 points of score: labels sit at (or next to)
    # the height of their score instead of being pushed along a stack.
    span = float(points["score"].max() - points["score"].min()) + 4
    height = max(1.6 + 0.135 * n_lines, 1.5 + span / 0.6 * (_LABEL_PT * 1.25 / 72))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(_WIDTH, height))
        fig.subplots_adjust(left=0.1, right=0.98, top=1 - 0.45 / height, bottom=0.75 / height)
        # Room for the names on both sides, inside the axes: `margin` data units = label_in inches.
        width_in = ax.get_position().width * _WIDTH
        margin = max(0.4, label_in * max(last, 1) / (width_in - 2 * label_in))
        unit_in = width_in / (last + 2 * margin)
        for x, ev in enumerate(cmp.years):
            for t in ev.rules.tiers:
                if lo < float(t.min) < hi:
                    ax.hlines(float(t.min), max(0, x - 0.5), min(last, x + 0.5), colors=t.color,
                              linestyles=":", linewidth=0.9, zorder=0)
        for t in cmp.years[-1].rules.tiers:
            if lo < float(t.min) < hi:
                ax.annotate(f"{t.short} ≥ {fmt_bound(t.min)}", (last, float(t.min)), xytext=(-4, 1.5),
                            textcoords="offset points", ha="right", va="bottom", fontsize=6, color=t.color)
        for style, part in (("-", segments[segments["followed"]]), ("--", segments[~segments["followed"]])):
            for move, colour in _LINE.items():
                sel = part[part["move"] == move]
                if len(sel):
                    ax.plot(np.stack([sel["x0"].to_numpy(float), sel["x1"].to_numpy(float)]),
                            np.stack([sel["y0"].to_numpy(float), sel["y1"].to_numpy(float)]),
                            linestyle=style, linewidth=1.1, color=colour, zorder=1)
        ax.scatter(points["x"], points["score"], c=points["color"].tolist(), s=22, zorder=2,
                   edgecolors="white", linewidths=0.5)
        ax.set_xlim(-margin, last + margin)
        ax.set_ylim(lo, hi)
        axis_in = ax.get_position().height * height
        line = (hi - lo) * (_LABEL_PT * 1.25 / 72) / axis_in  # one text line, in score units
        dx = 0.12 / unit_in
        for frame, ha, sign in ((left, "right", -1), (right, "left", 1)):
            ys = _spread(frame["score"].to_numpy(float), frame["lines"].to_numpy(float) * line + 0.15 * line)
            for (_, row), y in zip(frame.iterrows(), ys, strict=True):  # one label per unit shown
                ax.annotate(row["label"], xy=(row["x"], row["score"]), xytext=(row["x"] + sign * dx, y),
                            ha=ha, va="center", fontsize=_LABEL_PT, annotation_clip=False,
                            arrowprops={"arrowstyle": "-", "color": "#bdbdbd", "linewidth": 0.5,
                                        "shrinkA": 0, "shrinkB": 2})
        ax.set_xticks(range(len(cmp.years)), [f"Năm {label}" for label in cmp.labels])
        _score_axis(ax.yaxis)
        ax.set_ylabel("Điểm đánh giá")
        ax.set_title(_group_title(cmp, group), loc="left", pad=10)
        handles = [Line2D([], [], color=_LINE["up"], label="Lên mức xếp loại"),
                   Line2D([], [], color=_LINE["down"], label="Xuống mức xếp loại"),
                   Line2D([], [], color=_LINE["same"], label="Giữ mức")]
        if len(segments) and not segments["followed"].all():
            handles.append(Line2D([], [], color=_LINE["same"], linestyle="--", label="Sáp nhập, chia tách"))
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=7.5)
    return fig


def draw_slopes(cmp: Comparison, folder: Path) -> list[str]:
    """One slope chart per group, saved as ``so-sanh-<group>.svg`` and ``.png``; returns the SVGs."""
    return [save_figure(slopes(cmp, g), folder, f"so-sanh-{g}") for g in groups_present(cmp)]
