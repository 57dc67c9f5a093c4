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


def _field_names(model, seen=None) -> set[str]:
    """Every key a rules file may hold, nested models included."""
    import typing

    from pydantic import BaseModel

    seen = set() if seen is None else seen
    names = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for arg in (field.annotation, *typing.get_args(field.annotation)):
            for inner in (arg, *typing.get_args(arg)):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
                    seen.add(inner)
                    names |= _field_names(inner, seen)
    return names


def test_the_reference_names_every_registry_column_rules_key_and_input_table():
    from evaluation.inputs.params import Params, ReportText
    from evaluation.inputs.registry import REGISTRY_COLUMNS
    from evaluation.inputs.rules import Rules
    from evaluation.inputs.schemas import TABLES

    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert "docs/reference.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in REGISTRY_COLUMNS if f"`{c}`" not in text]
    missing += [k for k in sorted(_field_names(Rules) | _field_names(Params) | set(ReportText.model_fields))
                if k not in text]
    for spec in TABLES.values():
        missing += [f"{spec.name}: {c.header}" for c in spec.columns if f"`{c.header}`" not in text]
        missing += [spec.name] if f"`{spec.name}`" not in text else []
    assert missing == [], missing
    assert "## Một năm theo Nghị định 335/2025" in text
