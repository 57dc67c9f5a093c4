"""Set up a new year in one step: ``params/<year>.yaml`` and ``data/<year>/`` with the Excel forms.

The new params file is the previous year's with the year changed, the data folder
moved to ``<data parent>/<year>`` and the inputs pointing at the generated form
workbook (one sheet per input table).  The forms list the units valid in the new
year; the scores are left empty for the analysts to fill.

Nothing existing is ever overwritten: an existing params file or data folder for
the year is an :class:`~evaluation.errors.InputError` (exit status 2), and if
anything fails half-way, what was written is removed again.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from ..engine.pipeline import display_path
from ..errors import InputError, Problem
from ..inputs.params import find_params, load_params
from ..inputs.registry import load_registry
from ..inputs.rules import load_rules
from ..inputs.schemas import mode_of, tables_for
from ..text import fold
from .forms import write_forms

__all__ = ["NewYear", "new_year", "previous_year", "form_name", "shift_years", "without_illustrative"]


@dataclass(frozen=True)
class NewYear:
    """What :func:`new_year` wrote."""

    year: int
    params: Path
    data_dir: Path
    forms: Path
    tables: tuple[str, ...]
    source: Path


def form_name(year: int) -> str:
    """File name of a year's form workbook (``bieu-mau-2021.xlsx``)."""
    return f"bieu-mau-{year}.xlsx"


def previous_year(params_dir: Path, year: int) -> Path | None:
    """The params file of the latest year before ``year`` (numeric file names only), or None."""
    years = [(int(p.stem), p) for p in find_params(params_dir) if p.stem.isdigit() and int(p.stem) < year]
    return max(years)[1] if years else None


def shift_years(text: str, old: int, new: int) -> str:
    """Move the years ``old`` and ``old + 1`` of a text to ``new`` and ``new + 1``.

    Report texts name the evaluated year and the year the report is issued
    ("năm 2020", "tháng 02 năm 2021"); both move together, in one pass, so that
    one replacement is never applied on top of another.
    """
    delta = new - old
    return re.sub(rf"(?<!\d)({old}|{old + 1})(?!\d)", lambda m: str(int(m.group(1)) + delta), text)


def _shift(value: object, old: int, new: int, clean=lambda text: text) -> object:
    """:func:`shift_years` (then ``clean``) through a params tree: texts, and the year of a date."""
    if isinstance(value, str):
        return clean(shift_years(value, old, new))
    if isinstance(value, list):
        return [_shift(v, old, new, clean) for v in value]
    if isinstance(value, dict):
        out = {k: _shift(v, old, new, clean) for k, v in value.items()}
        if isinstance(out.get("year"), int) and out["year"] in (old, old + 1):
            out["year"] += new - old
        return out
    return value


def without_illustrative(text: str) -> str:
    """A report text with what says the data are illustrative taken out.

    A parenthesised remark (``(DỮ LIỆU MINH HỌA)``, ``(dữ liệu minh họa)``) or a clause after an
    em dash (``… thuộc tỉnh — số liệu sinh ngẫu nhiên để minh họa …``) that says "minh họa" is
    dropped; a text that is nothing else becomes empty.
    """
    out = re.sub(r"\s*\(([^()]*)\)", lambda m: "" if "minh hoa" in fold(m.group(1)) else m.group(0), text)
    parts = out.split(" — ")
    kept = [part for part in parts if "minh hoa" not in fold(part)]
    return " — ".join(kept).strip() if len(kept) < len(parts) else out.strip()


def _header(year: int, source: str) -> str:
    return (f"# Tham số năm {year} — tạo bằng «python -m evaluation new-year {year} --from {source}».\n"
            f"# Đường dẫn tính từ thư mục chứa tệp này. Số liệu: điền biểu mẫu trong thư mục «data»\n"
            f"# rồi kiểm tra bằng «make validate YEAR={year}». Xem lại phần report (ngày, người ký)\n"
            f"# trước khi lập báo cáo.\n")


def new_year(year: int, *, params_dir: Path | str = "params", source: str | int | None = None) -> NewYear:
    """Create the params file and the data folder (with the form workbook) of ``year``.

    Parameters
    ----------
    year : int
    params_dir : Path or str
        Where the params files are (``params``).
    source : str or int, optional
        The params file to start from (its stem: ``2020``, ``example-2021``);
        default: the latest year before ``year``.

    Returns
    -------
    NewYear

    Raises
    ------
    InputError
        When the year already exists (params file or data folder), when there is
        no year to start from, or when the source params, rules or registry are
        not valid.  Nothing is written then.
    """
    params_dir = Path(params_dir)
    target = params_dir / f"{year}.yaml"
    if source is None:
        src_path = previous_year(params_dir, year)
        if src_path is None:
            raise InputError([Problem(display_path(params_dir), None, None, None,
                                      f"không có tệp tham số của năm nào trước năm {year} để làm mẫu; "
                                      "dùng --from <tên tệp tham số>")])
    else:
        src_path = params_dir / f"{source}.yaml"
    if target.exists():
        raise InputError([Problem(display_path(target), None, None, None,
                                  f"năm {year} đã có tệp tham số: không ghi đè. Muốn tạo lại thì xóa (hoặc đổi "
                                  f"tên) tệp này và thư mục số liệu năm {year}")])
    src = load_params(src_path, label=display_path(src_path))
    rules = load_rules(src.rules_path, display_path(src.rules_path))
    registry_paths = src.registry_paths
    registry = load_registry(registry_paths, label=[display_path(p) for p in registry_paths])
    if src.params.illustrative:
        # The new year holds real numbers: a registry file of illustrative names only is left out.
        fake = registry.units.groupby("_file")["illustrative"].all()
        registry_paths = [p for p in registry_paths if not fake.get(display_path(p), False)]
        registry = load_registry(registry_paths, label=[display_path(p) for p in registry_paths])
    data_rel = (PurePosixPath(src.params.data).parent / str(year)).as_posix()
    data_dir = (params_dir / data_rel).resolve()
    if data_dir.exists():
        raise InputError([Problem(display_path(data_dir), None, None, None,
                                  f"thư mục số liệu năm {year} đã có: không ghi đè. Muốn tạo lại thì xóa (hoặc "
                                  "đổi tên) thư mục này")])

    name = form_name(year)
    forms = data_dir / name
    # The new year holds the agencies' real numbers, even when the model year was illustrative:
    # its texts lose what said otherwise (a title kept "(DỮ LIỆU MINH HỌA)" under illustrative: false).
    clean = without_illustrative if src.params.illustrative else (lambda text: text)
    report = _shift(src.params.report.model_dump(), src.year, year, clean)
    report["recipients"] = [r for r in report["recipients"] if r]
    # The old note describes where the old year's numbers came from; the new ones come from the forms.
    report["source_note"] = f"Số liệu: biểu mẫu «{name}» do các cơ quan, đơn vị điền."
    # The old year's own documents (its dispatch, its "Đánh giá chung") are not the new year's:
    # the Sở adds the new ones. The day is left blank (a draft) until the report is signed.
    report["basis"] = []
    report["assessment"] = ""
    if report.get("date"):
        report["date"]["day"] = None
    data_dir.mkdir(parents=True)
    wrote = False
    try:
        heading = " — ".join(t for t in (report["issuer_parent"], report["issuer"]) if t)
        # The new year is scored like the one it is copied from: totals, or points by criterion.
        offered = tables_for(mode_of(src.params.inputs))
        tables = write_forms(forms, rules, registry, year, heading=heading, tables=offered)
        params = src.params.model_dump()
        # The forms will hold the agencies' real numbers, even when the model year was illustrative.
        base = params_dir.resolve()
        kept = [PurePosixPath(os.path.relpath(p, base)).as_posix() for p in registry_paths]
        params.update(year=year, data=data_rel, inputs={t.name: name for t in tables}, report=report,
                      illustrative=False, registry=kept[0] if len(kept) == 1 else kept)
        text = yaml.safe_dump(params, allow_unicode=True, sort_keys=False, width=100)
        with open(target, "x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
            wrote = True
            fh.write(_header(year, src.id) + text)
        load_params(target, label=display_path(target))  # what was written must load
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        if wrote:
            target.unlink(missing_ok=True)
        raise
    return NewYear(year, target, data_dir, forms, tuple(t.name for t in tables), src_path)
