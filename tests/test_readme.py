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
