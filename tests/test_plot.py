"""Charts: names are drawn as written, whatever characters they hold."""

from __future__ import annotations

from html import escape

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
