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
