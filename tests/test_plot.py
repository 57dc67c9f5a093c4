"""Charts: names are drawn as written, whatever characters they hold; a group too large for one row per
unit on a page is drawn as a distribution, every chart fitting a page."""

from __future__ import annotations

from html import escape

import matplotlib.pyplot as plt
import numpy as np
import pytest

from evaluation.report import plot

NAMES = ["Sở $\\notacommand$ x", "Trường $a_$", "$$", "Sở $x^2$ y"]


def test_dollar_signs_in_names_are_text_not_tex(evaluation_2020, tmp_path):
    # Was: matplotlib parsed "$…$" as mathtext: the chart crashed (ValueError, a report failure)
    # or printed another name than the registry's.
    ranked = evaluation_2020.ranked
    ranked = ranked[ranked["group"] == ranked.loc[0, "group"]].copy()
    ranked.loc[ranked.index[:4], "unit"] = NAMES
    svgs = (plot.draw(ranked, evaluation_2020.rules, "scores", tmp_path)
            + plot.draw(ranked, evaluation_2020.rules, "dumbbell", tmp_path))
    assert len(svgs) == 2
    for svg in svgs:
        for name in NAMES:
            # Text stays text in the SVG (svg.fonttype "none"), written exactly as the name.
            assert f">{escape(name, quote=False)}</text>" in svg, name


@pytest.fixture(scope="module")
def ev_2026():
    from evaluation.engine.pipeline import evaluate
    from tests.conftest import ROOT

    return evaluate(ROOT / "params" / "example-2026.yaml")


def test_a_group_too_tall_for_a_page_is_drawn_as_a_distribution_with_its_extremes_named(ev_2026, tmp_path):
    ranked, rules = ev_2026.ranked, ev_2026.rules
    assert [plot.per_unit(ranked, g) for g in rules.group_ids] == [True, True, False]
    limits = plot._common_range(ranked, rules)
    figures = {}
    for g in rules.group_ids:
        for kind, small, large in (("scores", plot.scores_by_group, plot.score_spread),
                                   ("dumbbell", plot.dumbbell, plot.gap_spread)):
            figures[kind, g] = (small if plot.per_unit(ranked, g, kind) else large)(ranked, rules, g, limits=limits)
    # Every chart fits an A4 page (the PDF keeps a chart whole: a taller one would be cut off).
    assert all(fig.get_figheight() <= plot.MAX_HEIGHT for fig in figures.values())
    spread = figures["scores", "ubnd_xa"]
    texts = {t.get_text() for ax in spread.axes for t in ax.texts}
    # Never 166 labels: the highest scores (four communes at 100,0 in one label), the lowest, and the
    # communes placed «không hoàn thành» by a condition whatever their score.
    assert {"xã Thọ Xuân 05 và 3 đơn vị khác (100,0)", "xã Lang Chánh 04 (45,5)", "xã Nga Sơn 05 (94,0)",
            "xã Hà Trung 01 (82,3)"} <= texts
    assert all(len(ax.get_yticklabels()) < 20 for ax in spread.axes)
    # The histogram counts every commune once.
    bars = [b for container in spread.axes[0].containers for b in container]
    assert round(sum(b.get_height() for b in bars)) == 166
    gaps = figures["dumbbell", "ubnd_xa"]
    assert [t.get_text() for t in gaps.axes[1].get_yticklabels()][:2] == ["phường Sầm Sơn 01", "xã Thọ Xuân 02"]
    assert len(gaps.axes[1].get_yticklabels()) == plot.TOP_GAPS
    assert plot.caption("scores", ranked, rules, "ubnd_xa").startswith("Điểm đánh giá của 166 cơ quan, đơn vị nhóm "
                                                                       "III. UBND cấp xã: trên, số đơn vị")
    assert plot.caption("scores", ranked, rules, "so_nganh") == plot.CAPTIONS["scores"].format(
        group="I. Các sở, cơ quan ngang sở")
    for fig in figures.values():
        plt.close(fig)


def test_rank_intervals_one_chart_per_group_and_none_when_no_rank_varies(evaluation_2020, tmp_path):
    from evaluation.engine.pipeline import evaluate
    from evaluation.engine.sensitivity import analyse
    from tests.conftest import ROOT

    # 2020: rounding and bounds only, published scores fixed: every rank is certain, no chart.
    assert plot.draw_ranks(analyse(evaluation_2020).units, evaluation_2020.rules, tmp_path) == []
    ev = evaluate(ROOT / "params" / "example-2021.yaml")
    units = analyse(ev).units
    svgs = plot.draw_ranks(units, ev.rules, tmp_path)
    assert len(svgs) == 3 and sorted(p.name for p in tmp_path.glob("khoang-thu-hang-*.svg")) == [
        f"khoang-thu-hang-{g}.svg" for g in sorted(ev.rules.group_ids)]
    text = "".join(svgs)
    # Every unit is named, and every unit that is not tier-stable says how often it keeps its tier.
    for name in units["unit"]:
        assert escape(name, quote=False).split()[0] in text
    unstable = units[~units["stable"]]
    assert len(unstable) and text.count("giữ xếp loại") == len(unstable)


def test_a_large_group_s_rank_intervals_show_only_the_units_that_move(ev_2026):
    from evaluation.engine.sensitivity import analyse

    units = analyse(ev_2026).units
    communes = units[units["group"] == "ubnd_xa"]
    moving = communes[~communes["stable"] | (communes["rank_high"] > communes["rank_low"])]
    assert 0 < len(moving) < plot.TOP_RANKS, "example-2026: rounding moves a few communes' ranks only"
    fig = plot.rank_intervals(units, ev_2026.rules, "ubnd_xa")
    drawn = [t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels()]
    # Not 166 rows: the communes whose rank or tier may change, in report order, and the title says so.
    assert drawn == list(moving["unit"]) and fig.get_figheight() <= plot.MAX_HEIGHT
    assert fig.axes[0].get_title(loc="left") == f"III. UBND cấp xã ({len(moving)} trong 166 đơn vị)"
    assert plot.caption("ranks", ev_2026.ranked, ev_2026.rules, "ubnd_xa").startswith(
        "Thứ hạng công bố (chấm) và khoảng 95% thứ hạng qua các kịch bản (vạch) trong nhóm III. UBND cấp xã "
        f"(166 cơ quan, đơn vị): chỉ các đơn vị có thể đổi xếp loại hoặc đổi thứ hạng, nhiều nhất {plot.TOP_RANKS}")
    plt.close(fig)


def test_at_most_a_page_of_moving_units_the_widest_first(ev_2026):
    from evaluation.engine.sensitivity import analyse

    units = analyse(ev_2026).units.copy()
    xa = units["group"] == "ubnd_xa"
    # Give every commune a rank interval as wide as its position (the last ones widest).
    units.loc[xa, "rank_high"] = units.loc[xa, "rank_low"] + np.arange(int(xa.sum()))
    fig = plot.rank_intervals(units, ev_2026.rules, "ubnd_xa")
    drawn = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert drawn == list(units.loc[xa, "unit"].iloc[-plot.TOP_RANKS:])
    plt.close(fig)


def test_a_large_group_s_points_by_criterion_are_drawn_per_criterion_not_per_unit(tmp_path):
    # Was: one bar per unit whatever the group's size — 104 communes made a chart 25 inches tall,
    # cut on its A4 page, and the costliest figure of a province's report to draw and to lay out.
    import dataclasses

    from evaluation.engine.pipeline import evaluate
    from evaluation.report import plot_detail
    from tests.conftest import ROOT

    ev = evaluate(ROOT / "params" / "example-2021.yaml")
    ranked, rules, lines = ev.ranked, ev.rules, ev.detail.lines
    g = "ubnd_huyen"
    assert plot.per_unit(ranked, g)
    # The same units under names three lines long: one bar each no longer fits a page.
    long = ranked.assign(unit=ranked["unit"].where(ranked["group"] != g, ranked["unit"] + " " + "x" * 70))
    assert not plot.per_unit(long, g)
    large = dataclasses.replace(ev, ranked=long)
    svgs = plot_detail.draw(large, "criteria", tmp_path, groups=[g])
    assert len(svgs) == 1 and "x" * 70 not in svgs[0]  # no unit named: a row per criterion
    fig = plot_detail.criteria_spread(lines, long, rules, g)
    assert fig.get_figheight() <= plot.MAX_HEIGHT
    ax = fig.axes[0]
    # The medians written on the right, by hand: a unit's points over the criterion's maximum, in %,
    # the criteria that do not apply to it left out.
    mine = lines[lines["unit_id"].isin(ranked.loc[ranked["group"] == g, "unit_id"]) & lines["applicable"]]
    share = (mine["final_points"] / mine["max_points"] * 100).groupby(mine["criterion"])
    codes = [t.get_text().split(" — ")[0] for t in ax.get_yticklabels()]
    assert len(codes) == mine["criterion"].nunique() >= 5
    from evaluation.fmt import number

    assert [t.get_text() for t in ax.texts] == [
        f"{number(share.median()[c], 1)}% (n = {share.size()[c]})" for c in codes]
    assert plot_detail.caption("criteria", long, rules, g).startswith(
        f"Điểm thẩm định theo tiêu chí của {int((ranked['group'] == g).sum())} cơ quan, đơn vị nhóm III.")
    assert plot_detail.caption("criteria", ranked, rules, g) == plot_detail.CAPTIONS["criteria"].format(
        group=f"III. {rules.group(g).name}")
    plt.close(fig)


def test_a_laid_out_figure_is_drawn_once_per_rendering_with_the_same_bytes(tmp_path, monkeypatch):
    """tight_layout() leaves a placeholder layout engine; savefig would draw the figure once more
    before each rendering.  save_figure drops it: one draw per file, the same SVG and PNG bytes."""
    import io

    from matplotlib.figure import Figure

    def figure():
        with plt.rc_context(plot.STYLE):
            fig, ax = plt.subplots(figsize=(4, 3))
            ax.barh(["Sở Tài chính", "UBND xã Cẩm Thủy"], [88.5, 71.25])
            ax.set_title("Điểm đánh giá")
            fig.tight_layout(rect=(0, 0.1, 1, 1))
        return fig

    old = figure()
    assert old.get_layout_engine() is not None               # the placeholder tight_layout leaves
    with plt.rc_context(plot.STYLE):
        svg = io.StringIO()
        old.savefig(svg, format="svg", metadata={"Date": None})
        old.savefig(tmp_path / "old.png", format="png", dpi=150, metadata={"Software": None})
    plt.close(old)

    draws = []
    real = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(1) or real(self, renderer))
    new = figure()
    text = plot.save_figure(new, tmp_path / "new", "hinh")
    assert len(draws) == 2                                    # the SVG and the PNG, nothing more
    assert text == svg.getvalue().replace(plot._SVG_FONT, plot._SVG_FONTS)
    assert (tmp_path / "new" / "hinh.png").read_bytes() == (tmp_path / "old.png").read_bytes()
