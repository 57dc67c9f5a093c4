"""One year, start to end: load and check every input, score, classify, rank, summarise.

:func:`evaluate` is what the report notebook and the command line call.  It
either returns a complete :class:`Evaluation` or raises one
:class:`~evaluation.errors.InputError` listing every problem of every input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError, Problem
from ..inputs.detail_checks import DETAIL_TABLES, criteria_coverage, detail_checks
from ..inputs.domains import code_sets, value_bounds
from ..inputs.params import YearParams, load_params
from ..inputs.provenance import STATUS_FILE, TRACE_FILE, provenance_table, read_status, read_trace
from ..inputs.registry import Registry, load_registry
from ..inputs.rules import Rules, Uncertainty, load_rules, load_uncertainty
from ..inputs.schemas import TABLES
from ..inputs.tables import WORKBOOK_SUFFIXES, read_table_text
from ..inputs.validate import Checked, check_table
from ..text import name_key
from .classify import classify
from .detail import Detail, evaluate_detail
from .rank import rank
from .score import score_from_totals
from .summarise import count_tiers, summary_sentences

__all__ = ["Evaluation", "Inputs", "load_inputs", "evaluate", "display_path"]


def display_path(path: Path) -> str:
    """A path as users should read it in messages: relative to the current folder when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def project_path(path: Path, project: Path) -> str:
    """A path relative to the project folder (the parent of ``params/``), for reports.

    Unlike :func:`display_path` it does not depend on where the command was run,
    so two runs from different folders print the same provenance.
    """
    path = Path(path).resolve()
    try:
        return path.relative_to(project.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass(frozen=True)
class Inputs:
    """Everything read for one year, checked."""

    params: YearParams
    rules: Rules
    registry: Registry
    tables: dict[str, Checked]
    files: list[tuple[str, str, Path]] = field(default_factory=list)
    # unit_id → criteria_set of the units evaluated (detailed years; None otherwise).
    sets: pd.DataFrame | None = None
    # A year collected from the parties' forms: the cell of each value, and who returned what.
    trace: pd.DataFrame | None = None
    status: pd.DataFrame | None = None
    # Which values may vary (params key ``uncertainty``; None when the year declares none).
    uncertainty: Uncertainty | None = None


@dataclass(frozen=True)
class Evaluation:
    """The results of one year, stage by stage (each a new table).

    Attributes
    ----------
    scores : pandas.DataFrame
        Output of the score stage (one row per unit).
    classified : pandas.DataFrame
        Plus published score and tier.
    ranked : pandas.DataFrame
        Plus rank and display order; the table the report prints.
    counts : pandas.DataFrame
        Units by tier × group.
    sentences : list of str
        The summary sentences.
    provenance : pandas.DataFrame
        Each input file with its SHA-256.
    renamed : pandas.DataFrame
        Names in the inputs that differ from the registry's name for the unit
        by more than spelling (misprints and abbreviations resolved).
    detail : Detail or None
        The scoring by criterion, survey and bonus/penalty item, for years
        whose inputs give them (None for totals-only years).
    """

    inputs: Inputs
    scores: pd.DataFrame
    classified: pd.DataFrame
    ranked: pd.DataFrame
    counts: pd.DataFrame
    sentences: list[str]
    provenance: pd.DataFrame
    renamed: pd.DataFrame
    detail: Detail | None = None

    @property
    def rules(self) -> Rules:
        return self.inputs.rules

    @property
    def registry(self) -> Registry:
        return self.inputs.registry

    @property
    def params(self) -> YearParams:
        return self.inputs.params


def load_inputs(params_path: Path | str, *, data_dir: Path | str | None = None) -> Inputs:
    """Read and check the params, rules, registry and every input of a year.

    ``data_dir``, when given, replaces the data folder named in the params.

    Raises
    ------
    InputError
        With every problem found, across all files.
    """
    year = load_params(params_path, label=display_path(Path(params_path)), data_dir=data_dir)
    problems: list[Problem] = []
    rules = registry = None
    try:
        rules = load_rules(year.rules_path, display_path(year.rules_path))
    except InputError as exc:
        problems += exc.problems
    try:
        registry = load_registry(year.registry_path, label=display_path(year.registry_path))
    except InputError as exc:
        problems += exc.problems
    if rules is None or registry is None:
        raise InputError(problems)

    units = registry.units
    unknown_group = units[~units["group"].isin(rules.group_ids)]
    problems += [Problem(registry.source, int(r), "group", g,
                         "nhóm không có trong quy định; các nhóm: " + ", ".join(rules.group_ids))
                 for r, g in zip(unknown_group["_row"], unknown_group["group"], strict=True)]

    unknown_inputs = sorted(set(year.params.inputs) - set(TABLES))
    problems += [Problem(display_path(year.path), None, f"inputs.{k}", k,
                         "loại dữ liệu không được biết đến; các loại: " + ", ".join(TABLES))
                 for k in unknown_inputs]
    listed = set(year.params.inputs)
    detail = detail_checks(rules, registry, year.year, display_path(year.rules_path), listed)
    problems += detail.problems
    bounds = value_bounds(rules)
    codes = code_sets(rules)
    tables: dict[str, Checked] = {}
    places: dict[str, str] = {}
    project = year.path.parent.parent
    files = [("params", project_path(year.path, project), year.path),
             ("rules", project_path(year.rules_path, project), year.rules_path),
             ("registry", project_path(year.registry_path, project), year.registry_path)]
    uncertainty = None
    if year.uncertainty_path is not None:
        files.append(("uncertainty", project_path(year.uncertainty_path, project), year.uncertainty_path))
        try:
            uncertainty = load_uncertainty(year.uncertainty_path, rules, display_path(year.uncertainty_path))
        except InputError as exc:
            problems += exc.problems
    abbreviations = year.registry_path.parent / "abbreviations.csv"
    if abbreviations.exists():
        files.append(("registry", project_path(abbreviations, project), abbreviations))
    for name, spec in TABLES.items():
        path = year.input_path(name)
        if path is None:
            continue
        label = display_path(path)
        # Said where a problem has no cell: a workbook holds several tables, named by their sheets.
        places[name] = f"{label}, trang «{spec.title}»" if path.suffix.lower() in WORKBOOK_SUFFIXES else label
        files.append((name, project_path(path, project), path))
        raw, read_problems = read_table_text(path, label, sheet=spec.title)  # sheet: workbooks only
        if read_problems:
            problems += read_problems
            continue
        checked = check_table(raw, spec, label, registry=registry, year=year.year,
                              bounds=bounds, codes=codes, row_checks=detail.row_checks.get(name))
        problems += checked.problems
        tables[name] = checked

    params_label = display_path(year.path)
    if "scores" in listed and "criteria" in listed:
        problems.append(Problem(params_label, None, "inputs", "scores, criteria",
                                "chỉ ghi một trong hai: tổng điểm (inputs.scores) hoặc điểm theo tiêu chí "
                                "(inputs.criteria)"))
    elif "scores" not in listed and "criteria" not in listed:
        problems.append(Problem(params_label, None, "inputs.scores", None,
                                "cần tệp điểm (inputs.scores)" + (" hoặc điểm theo tiêu chí (inputs.criteria)"
                                                                  if rules.detailed else "")))
    elif "scores" in tables:
        problems += _missing_units(tables["scores"], registry, rules, year.year,
                                   places["scores"])
    elif "criteria" in tables:
        problems += criteria_coverage(tables["criteria"], detail.sets, rules, registry,
                                      survey_given="survey" in listed,
                                      label=places["criteria"], year=year.year)
    problems += [Problem(params_label, None, f"inputs.{k}", k,
                         "phiếu đánh giá và điểm thưởng, điểm trừ chỉ dùng được cùng điểm theo tiêu chí "
                         "(inputs.criteria)")
                 for k in DETAIL_TABLES[1:] if k in listed and "criteria" not in listed]
    if problems:
        raise InputError(problems, notes=_row_notes(tables, places), checked=tables)
    trace = read_trace(year.data_dir, {name: year.input_path(name) for name in tables})
    status = read_status(year.data_dir)
    for role, name, found in (("trace", TRACE_FILE, trace), ("status", STATUS_FILE, status)):
        if found is not None:
            files.append((role, project_path(year.data_dir / name, project), year.data_dir / name))
    return Inputs(year, rules, registry, tables, files, detail.sets if "criteria" in listed else None, trace, status,
                  uncertainty)


def _row_notes(tables: dict[str, Checked], places: dict[str, str]) -> list[str]:
    """Rows read, kept and rejected, for each table that lost rows (nothing disappears unsaid)."""
    return [f"{places.get(name, name)}: {c.rows_in} dòng dữ liệu — {c.rows_used} dòng hợp lệ "
            f"được giữ, {c.rows_rejected} dòng bị loại (xem các lỗi ở trên)"
            for name, c in tables.items() if c.rows_rejected]


def _missing_units(scores: Checked, registry: Registry, rules: Rules, year: int,
                   label: str) -> list[Problem]:
    """Registry units valid this year (in a group the rules know) with no row in the scores."""
    names = scores.names
    if names is None or names["unit_id"].isna().any():
        # Unreadable columns, or a name not matched: the missing unit may be that row. Say it once, there.
        return []
    units = registry.units[registry.valid_in(year) & registry.units["group"].isin(rules.group_ids)]
    missing = units[~units["id"].isin(names["unit_id"])]
    return [Problem(label, None, "Đơn vị", name,
                    f"đơn vị có trong danh mục (hiệu lực năm {year}) nhưng không có điểm")
            for name in missing["name"]]


def _renamed(inputs: Inputs) -> pd.DataFrame:
    frames = []
    for name, checked in inputs.tables.items():
        if checked.names is None:
            continue
        names = checked.names.dropna(subset=["unit_id"]).drop_duplicates(["input", "unit_id"])
        known = names["unit_id"].map(inputs.registry.units["short_name"])
        official = names["unit_id"].map(inputs.registry.units["name"])
        key = names["input"].map(name_key)
        # Tone placement, case and spacing are not renames; misprints and abbreviations are.
        differs = (key != known.map(name_key)) & (key != official.map(name_key))
        frames.append(pd.DataFrame({"table": name, "input": names["input"], "unit_id": names["unit_id"],
                                    "unit": known})[differs])
    if not frames:
        return pd.DataFrame(columns=["table", "input", "unit_id", "unit"])
    return pd.concat(frames, ignore_index=True)


def evaluate(params_path: Path | str, *, data_dir: Path | str | None = None) -> Evaluation:
    """Evaluate one year.

    Parameters
    ----------
    params_path : Path or str
        ``params/<year>.yaml``.
    data_dir : Path or str, optional
        Read the inputs from this folder instead of the params' ``data``.

    Returns
    -------
    Evaluation

    Raises
    ------
    InputError
        When any input has a problem (all problems listed).
    """
    inputs = load_inputs(params_path, data_dir=data_dir)
    rules, registry = inputs.rules, inputs.registry
    detail = None
    if "criteria" in inputs.tables:
        detail = evaluate_detail(inputs.tables, rules, registry, inputs.sets)
        scores = detail.scores
    else:
        scores = score_from_totals(inputs.tables["scores"].table, registry)
    conditions = inputs.tables["conditions"].table if "conditions" in inputs.tables else None
    classified = classify(scores, rules, conditions)
    ranked = rank(classified, rules)
    counts = count_tiers(ranked, rules)
    sentences = summary_sentences(ranked, rules, registry, year=inputs.params.year)
    return Evaluation(inputs, scores, classified, ranked, counts, sentences,
                      provenance_table(inputs.files), _renamed(inputs), detail)
