"""Charts of the comparison: each unit's score from year to year, one chart per group.

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
    """A unit's name, wrapped."""
    return "\n".join(textwrap.wrap(name, _LABEL_CHARS))   # whole: a cut name leaves the reader guessing


def _rows(cmp: Comparison, group: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per unit of the group, followed from the latest year back through every pair.

    Returns the points (``year`` index, ``row``, ``score``, ``color``) and the segments from one
    year to the next (``row``, ``x0``, ``x1``, ``move``, ``followed``), with the rows' labels as
    the index name of the points' ``labels`` attribute.
    """
    last = len(cmp.years) - 1
    latest = cmp.years[-1].ranked
    latest = latest[latest["group"] == group]
    row_of: dict[tuple[int, str], int] = {(last, u): i for i, u in enumerate(latest["unit_id"])}
    labels = list(latest["unit"])
    segments = []
    for k in range(last - 1, -1, -1):
        c = cmp.pairs[k].changes
        both = c[c["id_a"].notna() & c["id_b"].notna()]
        both = both[[(k + 1, b) in row_of for b in both["id_b"]]]
        for a, b in zip(both["id_a"], both["id_b"], strict=True):
            row_of.setdefault((k, a), row_of[(k + 1, b)])
        gone = c[c["id_b"].isna() & (c["group_a"] == group)]
        for a, name in zip(gone["id_a"], gone["unit_a"], strict=True):
            if (k, a) not in row_of:
                row_of[(k, a)] = len(labels)
                labels.append(f"{name} (không còn năm {cmp.pairs[k].labels[1]})")
        segments.append(pd.DataFrame({
            "row": [row_of[(k + 1, b)] for b in both["id_b"]], "x0": both["score_a"].to_numpy(float),
            "x1": both["score_b"].to_numpy(float), "move": both["tier_move"].fillna("same").to_numpy(),
            "followed": both["change"].isin(FOLLOWED).to_numpy()}))
    points = []
    for k, ev in enumerate(cmp.years):
        colors = {t.id: t.color for t in ev.rules.tiers}
        r = ev.ranked.set_index("unit_id")
        keys = [u for (year, u) in row_of if year == k and u in r.index]
        points.append(pd.DataFrame({"year": k, "row": [row_of[(k, u)] for u in keys],
                                    "score": r.loc[keys, "score"].to_numpy(float) if keys else [],
                                    "color": r.loc[keys, "tier"].map(colors).to_numpy() if keys else []}))
    out = pd.concat(points, ignore_index=True)
    out.attrs["labels"] = labels
    seg = pd.concat(segments, ignore_index=True) if segments else pd.DataFrame(
        columns=["row", "x0", "x1", "move", "followed"])
    return out, seg


def slopes(cmp: Comparison, group: str) -> Figure:
    """Each unit of a group on its own row: its score in each year, an arrow from year to year.

    The name is written on the unit's row, so a label always sits beside its own points (a slope
    chart with a label per point cannot keep crowded labels at their scores).  Earlier years are
    hollow dots, the latest a filled dot in its tier's colour; the arrow is green when the unit
    moved up a tier, red when down, grey otherwise, dashed for merges and splits.  Every year's
    tier bounds are drawn as dotted lines.
    """
    points, segments = _rows(cmp, group)
    labels = [_label(name) for name in points.attrs["labels"]]
    last = len(cmp.years) - 1
    score_max = max(float(ev.rules.scale.score_max) for ev in cmp.years)
    lo = math.floor((points["score"].min() - 2) / 5) * 5
    hi = min(score_max, math.ceil((points["score"].max() + 2) / 5) * 5)
    tallest = max((label.count("\n") + 1 for label in labels), default=1)
    height = 1.5 + len(labels) * (0.22 + 0.13 * (tallest - 1))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(_WIDTH, height))
        drawn: set[tuple[float, str]] = set()
        for ev in cmp.years:
            for t in ev.rules.tiers:
                b = float(t.min)
                if lo < b < hi and (b, t.short) not in drawn:
                    drawn.add((b, t.short))
                    ax.axvline(b, color=t.color, linestyle=":", linewidth=0.9, zorder=0)
                    ax.annotate(f"{t.short} ≥ {fmt_bound(t.min)}", (b, 1), xycoords=("data", "axes fraction"),
                                xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7, color=t.color)
        for followed, style in ((True, "-"), (False, "--")):
            for move, colour in _LINE.items():
                sel = segments[(segments["followed"] == followed) & (segments["move"] == move)]
                for row, x0, x1 in zip(sel["row"], sel["x0"], sel["x1"], strict=True):
                    ax.annotate("", xy=(x1, row), xytext=(x0, row), zorder=1,
                                arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.2,
                                            "linestyle": style, "shrinkA": 3, "shrinkB": 3,
                                            "mutation_scale": 8})
        early = points[points["year"] < last]
        ax.scatter(early["score"], early["row"], facecolors="white", edgecolors=early["color"].tolist(), s=26,
                   linewidths=1.2, zorder=2)
        final = points[points["year"] == last]
        ax.scatter(final["score"], final["row"], c=final["color"].tolist(), s=30, zorder=3, edgecolors="white",
                   linewidths=0.5)
        ax.set_yticks(range(len(labels)), labels, fontsize=_LABEL_PT)
        ax.set_ylim(len(labels) - 0.5, -0.8)
        ax.set_xlim(lo, hi)
        _score_axis(ax.xaxis)
        ax.set_xlabel("Điểm đánh giá")
        ax.set_title(_group_title(cmp, group), loc="left", pad=14)
        handles = [Line2D([], [], marker="o", color="white", markeredgecolor="#424242", linestyle="",
                          label=f"Năm {cmp.labels[0]}" if last == 1 else "Các năm trước"),
                   Line2D([], [], marker="o", color="#424242", linestyle="", label=f"Năm {cmp.labels[-1]}"),
                   Line2D([], [], color=_LINE["up"], label="Lên mức"),
                   Line2D([], [], color=_LINE["down"], label="Xuống mức"),
                   Line2D([], [], color=_LINE["same"], label="Giữ mức")]
        if len(segments) and not segments["followed"].all():
            handles.append(Line2D([], [], color=_LINE["same"], linestyle="--", label="Sáp nhập, chia tách"))
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=7.5)
        fig.tight_layout(rect=(0, 0.3 / height, 1, 1))
    return fig


def draw_slopes(cmp: Comparison, folder: Path) -> list[str]:
    """One slope chart per group, saved as ``so-sanh-<group>.svg`` and ``.png``; returns the SVGs."""
    return [save_figure(slopes(cmp, g), folder, f"so-sanh-{g}") for g in groups_present(cmp)]
