"""Charts of the comparison: each unit's score from year to year, one chart per group.

Drawn with the yearly charts' style (:data:`evaluation.report.plot.STYLE`) and
rendered by :func:`evaluation.report.plot.save_figure`, so the SVG is deterministic.
Points are coloured by each year's tier; a line joins a unit to itself (or
its renamed successor) in the next year — green when it moved up a tier, red
when it moved down, grey otherwise, dashed for merges and splits.  Each year's
tier bounds are drawn across that year's column, so a bound that moved between
years shows as a step.

A group whose units were dissolved, or formed on a dissolved unit's area (district →
commune), is never drawn unit by unit: :func:`group_spread` sets the two groups' scores side by
side.  A group with more rows than a page holds is drawn in parts, each fitting a page.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ..fmt import fmt_bound, number  # noqa: E402
from ..report.plot import MAX_HEIGHT, STYLE, _score_axis, save_figure  # noqa: E402
from .compare import Comparison, group_flows  # noqa: E402
from .lineage import FOLLOWED  # noqa: E402

__all__ = ["slopes", "draw_slopes", "groups_present", "group_spread", "parts"]

_WIDTH = 7.2
_LABEL_CHARS = 32  # per line; a name gets two lines at most
_LINE = {"up": "#1b7837", "down": "#b2182b", "same": "#9e9e9e"}
_LABEL_PT = 7.0


_AREA = ("dissolved", "formed")


def groups_present(cmp: Comparison) -> list[str]:
    """Groups drawn unit by unit: with units in any year, in the latest rules' order, then older
    groups; not a group whose units, in every pair of years, were all dissolved or all formed on a
    dissolved unit's area (it is compared at group level, :func:`group_spread`)."""
    order: list[str] = []
    for ev in reversed(cmp.years):
        order += [g for g in ev.rules.group_ids if g not in order]
    present = set().union(*(set(ev.ranked["group"]) for ev in cmp.years))

    def area_only(group: str) -> bool:
        rows = [p.changes.loc[p.changes["group"] == group, "change"] for p in cmp.pairs]
        return all(r.isin(_AREA).all() for r in rows) and any(len(r) for r in rows)

    return [g for g in order if g in present and not area_only(g)]


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


def _slope_height(labels: list[str]) -> float:
    tallest = max((label.count("\n") + 1 for label in labels), default=1)
    return 1.5 + len(labels) * (0.22 + 0.13 * (tallest - 1))


def parts(cmp: Comparison, group: str) -> list[range]:
    """The rows of ``group``'s chart, cut into parts that each fit a page (one part when it fits)."""
    labels = [_label(name) for name in _rows(cmp, group)[0].attrs["labels"]]
    n = len(labels)
    if _slope_height(labels) <= MAX_HEIGHT:
        return [range(n)]
    per = max(1, int((MAX_HEIGHT - 1.5) // (_slope_height(labels[:1]) - 1.5)))
    count = math.ceil(n / per)
    per = math.ceil(n / count)          # parts of even size
    return [range(i, min(i + per, n)) for i in range(0, n, per)]


def slopes(cmp: Comparison, group: str, rows: range | None = None) -> Figure:
    """Each unit of a group on its own row: its score in each year, an arrow from year to year.

    The name is written on the unit's row, so a label always sits beside its own points (a slope
    chart with a label per point cannot keep crowded labels at their scores).  Earlier years are
    hollow dots, the latest a filled dot in its tier's colour; the arrow is green when the unit
    moved up a tier, red when down, grey otherwise, dashed for merges and splits.  Every year's
    tier bounds are drawn as dotted lines.
    """
    points, segments = _rows(cmp, group)
    labels = [_label(name) for name in points.attrs["labels"]]
    title = _group_title(cmp, group)
    if rows is not None and len(rows) < len(labels):
        title += f" (đơn vị thứ {rows.start + 1}–{rows.stop} trong {len(labels)})"
        points = points[points["row"].isin(rows)].assign(row=lambda f: f["row"] - rows.start)
        segments = segments[segments["row"].isin(rows)].assign(row=lambda f: f["row"] - rows.start)
        labels = labels[rows.start:rows.stop]
    last = len(cmp.years) - 1
    score_max = max(float(ev.rules.scale.score_max) for ev in cmp.years)
    lo = math.floor((points["score"].min() - 2) / 5) * 5
    hi = min(score_max, math.ceil((points["score"].max() + 2) / 5) * 5)
    height = _slope_height(labels)
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
        ax.set_title(title, loc="left", pad=14)
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


def group_spread(cmp: Comparison, pair_no: int, flow) -> Figure:
    """A dissolved group of the earlier year and the group formed on its area in the later year,
    side by side: each year a strip of dots (one per unit, coloured by its tier) on the same score
    axis, with its median and its tier bounds; the units are not paired."""
    pair = cmp.pairs[pair_no]
    sides = [(pair.a, flow.g_a, pair.labels[0]), (pair.b, flow.g_b, pair.labels[1])]
    scores = pd.concat([ev.ranked.loc[ev.ranked["group"] == g, "score"] for ev, g, _ in sides])
    lo = max(0, math.floor((scores.min() - 2) / 5) * 5)
    hi = min(max(float(ev.rules.scale.score_max) for ev, _, _ in sides), math.ceil((scores.max() + 1) / 5) * 5)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(_WIDTH, 3.6))
        for k, (ev, group, label) in enumerate(sides):
            part = ev.ranked[ev.ranked["group"] == group].reset_index(drop=True)
            colors = {t.id: t.color for t in ev.rules.tiers}
            for t in ev.rules.tiers:        # this year's bounds, across its own row only
                if lo < float(t.min) < hi:
                    ax.plot([float(t.min)] * 2, [k - 0.42, k + 0.42], color=t.color, linestyle=":", linewidth=1)
                    ax.annotate(f"{t.short} ≥ {fmt_bound(t.min)}", (float(t.min), k + 0.42), xytext=(0, 1),
                                textcoords="offset points", ha="center", va="bottom", fontsize=6.5, color=t.color)
            step = part["score"].map(math.floor)
            n = step.map(step.value_counts())
            y = k + ((part.groupby(step).cumcount() + 0.5) / n - 0.5) * 0.7 * (n / n.max()).clip(lower=0.3)
            ax.scatter(part["score"], y, c=part["tier"].map(colors).tolist(), s=14, zorder=3, edgecolors="white",
                       linewidths=0.3)
            median = float(part["score"].median())
            ax.plot([median] * 2, [k - 0.38, k + 0.38], color="#212121", linewidth=1.4, zorder=4)
            ax.annotate(f"trung vị {number(median, ev.rules.precision.decimals)}", (median, k - 0.38),
                        xytext=(0, -2), textcoords="offset points", ha="center", va="top", fontsize=7,
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"})
        ax.set_yticks([0, 1], [f"{_group_title(cmp, g)}\nnăm {label} ({int((ev.ranked['group'] == g).sum())} đơn vị)"
                               for ev, g, label in sides], fontsize=8)
        ax.set_ylim(1.65, -0.65)
        ax.set_xlim(lo, hi)
        _score_axis(ax.xaxis)
        ax.set_xlabel("Điểm đánh giá\n(mỗi chấm một đơn vị, màu theo mức xếp loại của năm đó; vạch đen: trung vị)")
        ax.set_title("So sánh ở cấp nhóm: " + " → ".join(_group_title(cmp, g) for _, g, _ in sides), loc="left",
                     pad=10, fontsize=10)
        fig.tight_layout()
    return fig


def draw_slopes(cmp: Comparison, folder: Path) -> list[str]:
    """One slope chart per group (in parts when a group has more rows than a page holds), saved as
    ``so-sanh-<group>[-<part>].svg`` and ``.png``, then one group-level chart per dissolved group
    (``so-sanh-nhom-<pair>-<n>``); returns the SVGs."""
    svgs = []
    for g in groups_present(cmp):
        cuts = parts(cmp, g)
        for k, rows in enumerate(cuts, start=1):
            name = f"so-sanh-{g}" + (f"-{k}" if len(cuts) > 1 else "")
            svgs.append(save_figure(slopes(cmp, g, rows), folder, name))
    for p, pair in enumerate(cmp.pairs):
        for k, flow in enumerate(group_flows(pair).itertuples(index=False), start=1):
            svgs.append(save_figure(group_spread(cmp, p, flow), folder, f"so-sanh-nhom-{p + 1}-{k}"))
    return svgs
