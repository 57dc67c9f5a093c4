"""The README keeps its promises: the two quick-start commands, and a real picture of the report."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_quick_start_is_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Bắt đầu nhanh\s+```bash\n(.*?)```", text, re.S).group(1)
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make report", "make test"]
    assert text.index("# Đánh giá") < text.index("(English)")   # Vietnamese first


def test_the_picture_of_the_report_is_there_and_small():
    from PIL import Image

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert paths == ["docs/bao-cao-2020.png"]
    picture = ROOT / paths[0]
    assert picture.stat().st_size < 300 * 1024
    with Image.open(picture) as im:
        assert im.format == "PNG" and im.width >= 1000


def test_adding_a_year_tells_the_whole_cycle_with_commands_that_exist():
    """forms → send → collect → report, in that order, each with a command the Makefile and the CLI have."""
    from evaluation.cli import build_parser

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Thêm một năm"):text.index("## Sửa một quy định")]
    steps = [section.index(s) for s in ("make new-year", "make forms YEAR", "**3. Gửi**", "make collect YEAR",
                                        "MISSING=1", "WRITE=1", "make report YEAR")]
    assert steps == sorted(steps)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in re.findall(r"make ([a-z-]+) YEAR", section):
        assert re.search(rf"^{target}:", makefile, re.M), target
    commands = build_parser()._subparsers._group_actions[0].choices
    for command in re.findall(r"python -m evaluation ([a-z-]+)", section):
        assert command in commands, command
    assert "trace.csv" in section and "status.csv" in section and "forms-bo-sung" in section
