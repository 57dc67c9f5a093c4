"""One year, start to end: load and check every input, score, classify, rank, summarise.

:func:`evaluate` is what the report notebook and the command line call.  It
either returns a complete :class:`Evaluation` or raises one
:class:`~evaluation.errors.InputError` listing every problem of every input.

A report evaluates its year(s) first in the command, to check the inputs before a kernel starts;
:func:`handing_down` gives those evaluations to the processes started meanwhile (the notebook's
kernel, a batch's report processes), whose :func:`evaluate` of the same params takes them as made,
once it has seen that every file they were made from still has the bytes they were made from.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .. import __version__
from ..errors import InputError, Problem
from ..files import write_whole
from ..inputs.detail_checks import DETAIL_TABLES, criteria_coverage, detail_checks, period_coverage
from ..inputs.domains import code_sets, value_bounds
from ..inputs.limits import ROW
from ..inputs.params import YearParams, load_params
from ..inputs.provenance import (
    STATUS_FILE,
    TRACE_FILE,
    TooLarge,
    changed_inputs,
    inherited,
    pinned_later,
    provenance_table,
    read_input,
    read_status,
    read_trace,
    recording,
    sha256,
)
from ..inputs.registry import Registry, load_registry
from ..inputs.rules import Rules, Uncertainty, load_rules, load_uncertainty
from ..inputs.schemas import TABLES
from ..inputs.tables import WORKBOOK_SUFFIXES, read_table_text
from ..inputs.validate import Checked, check_table
from ..text import name_key
from .classify import QuotaLog, classify_explained
from .detail import Detail, evaluate_detail
from .rank import rank
from .score import score_from_periods, score_from_totals
from .summarise import count_tiers, groups_present, summary_sentences

MAX_TEXT_BYTES = 1024 * 1024  # the year's "Đánh giá chung" is a page or two of text

__all__ = ["Evaluation", "Inputs", "load_inputs", "evaluate", "display_path", "handing_down", "handing_down_later",
           "HANDED_DOWN_ENV"]

HANDED_DOWN_ENV = "EVALUATION_HANDED_DOWN"
log = logging.getLogger("evaluation.engine.pipeline")


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
    # Resolved path → (bytes, SHA-256) of every file as it was read and parsed: the provenance.
    read: dict[Path, tuple[int, str]] = field(default_factory=dict)
    # The Sở's "Đánh giá chung" text of the year (Markdown), read once with the other inputs.
    assessment: str = ""


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
    quotas : QuotaLog or None
        How each quota was applied: per group, the base count, the limit and its
        rounding, who was moved down, why and in what order.
    left_out : pandas.DataFrame or None
        Registry units valid in the year whose group the rules do not evaluate
        (``not_evaluated``), with the reason.
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
    quotas: QuotaLog | None = None
    left_out: pd.DataFrame | None = None

    @property
    def groups(self) -> list[str]:
        """The groups the year evaluates (with units), in the rules' order."""
        return groups_present(self.ranked, self.rules)

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

    Every file is read once; its checksum is of the bytes parsed (:mod:`evaluation.inputs.provenance`).

    Raises
    ------
    InputError
        With every problem found, across all files.
    """
    with recording() as read:
        inputs = _load_inputs(params_path, data_dir)
    changed = changed_inputs(read)
    if changed:  # in a report's kernel: a file replaced since the command checked it
        raise InputError([Problem(display_path(path), None, None, None,
                                  f"tệp đã bị thay đổi trong khi lập báo cáo (SHA-256 lúc kiểm tra {old[:12]}…, "
                                  f"bây giờ {new[:12]}…): chạy lại lệnh khi không còn ai sửa tệp")
                          for path, old, new in changed])
    return replace(inputs, read=dict(read))


def _load_inputs(params_path: Path | str, data_dir: Path | str | None) -> Inputs:
    year = load_params(params_path, label=display_path(Path(params_path)), data_dir=data_dir)
    problems: list[Problem] = []
    rules = registry = None
    try:
        rules = load_rules(year.rules_path, display_path(year.rules_path))
    except InputError as exc:
        problems += exc.problems
    try:
        registry = load_registry(year.registry_paths, label=[display_path(p) for p in year.registry_paths])
    except InputError as exc:
        problems += exc.problems
    if rules is None or registry is None:
        raise InputError(problems)

    problems += _registry_year_problems(registry, rules, year.year, year.params.illustrative,
                                        display_path(year.path))
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
             *[("registry", project_path(p, project), p) for p in year.registry_paths]]
    uncertainty = None
    if year.uncertainty_path is not None:
        # Confined by load_params like every input; read once, so its checksum is of the bytes parsed.
        files.append(("uncertainty", project_path(year.uncertainty_path, project), year.uncertainty_path))
        try:
            uncertainty = load_uncertainty(year.uncertainty_path, rules, display_path(year.uncertainty_path))
        except InputError as exc:
            problems += exc.problems
    assessment = ""
    if year.assessment_path is not None:
        files.append(("text", project_path(year.assessment_path, project), year.assessment_path))
        try:
            data = read_input(year.assessment_path, MAX_TEXT_BYTES)
            assessment = unicodedata.normalize("NFC", data.decode("utf-8"))
        except (UnicodeDecodeError, TooLarge, OSError) as exc:
            why = ("tệp phải ở dạng UTF-8" if isinstance(exc, UnicodeDecodeError) else
                   f"tệp quá lớn (giới hạn {MAX_TEXT_BYTES // 1024} KB)" if isinstance(exc, TooLarge) else
                   f"không đọc được tệp: {exc.strerror}")
            problems.append(Problem(display_path(year.assessment_path), None, None, None, why))
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
        problems += read_problems
        if raw.columns.empty:  # the file could not be read as a table at all
            continue
        # Cells the reader could not read (a formula error) do not hide the other columns' problems;
        # the same cells are not reported twice.
        unreadable = {p.cell for p in read_problems if p.cell}
        checked = check_table(raw, spec, label, registry=registry, year=year.year,
                              bounds=bounds, codes=codes, row_checks=detail.row_checks.get(name))
        problems += ([p for p in checked.problems if not (p.cell and p.cell in unreadable)]
                     + _not_evaluated_rows(checked, registry, rules, year.year, label))
        tables[name] = checked

    params_label = display_path(year.path)
    scoring = [k for k in ("scores", "periods", "criteria") if k in listed]
    if len(scoring) > 1:
        problems.append(Problem(params_label, None, "inputs", ", ".join(scoring),
                                "chỉ ghi một trong ba: tổng điểm (inputs.scores), điểm theo kỳ (inputs.periods) "
                                "hoặc điểm theo tiêu chí (inputs.criteria)"))
    elif not scoring:
        problems.append(Problem(params_label, None, "inputs.scores", None,
                                "cần tệp điểm (inputs.scores)"
                                + (" hoặc điểm theo kỳ (inputs.periods)" if rules.periods else "")
                                + (" hoặc điểm theo tiêu chí (inputs.criteria)" if rules.detailed else "")))
    elif "periods" in listed and rules.periods is None:
        problems.append(Problem(display_path(year.rules_path), None, "periods", None,
                                "dữ liệu có điểm theo kỳ (inputs.periods) nhưng quy định không khai báo các kỳ"))
    elif "scores" in tables:
        problems += _missing_units(tables["scores"], registry, rules, year.year,
                                   places["scores"])
    elif "periods" in tables:
        problems += period_coverage(tables["periods"], rules, registry, label=places["periods"],
                                    year=year.year, evaluated=_evaluated(registry, rules, year.year).index)
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
                  uncertainty, assessment=assessment)


def _row_notes(tables: dict[str, Checked], places: dict[str, str]) -> list[str]:
    """Rows read, kept and rejected, for each table that lost rows (nothing disappears unsaid)."""
    return [f"{places.get(name, name)}: {c.rows_in} dòng dữ liệu — {c.rows_used} dòng hợp lệ "
            f"được giữ, {c.rows_rejected} dòng bị loại (xem các lỗi ở trên)"
            for name, c in tables.items() if c.rows_rejected]


def _evaluated(registry: Registry, rules: Rules, year: int) -> pd.DataFrame:
    """The registry units the year evaluates: valid that year, in a group of the rules."""
    units = registry.units
    return units[registry.valid_in(year) & units["group"].isin(rules.group_ids)]


def _registry_year_problems(registry: Registry, rules: Rules, year: int, illustrative: bool,
                            params_label: str) -> list[Problem]:
    """The registry against the year: only units valid in the year are checked against its rules.

    A valid unit's group must be evaluated by the rules (``groups``) or declared as not
    evaluated (``not_evaluated``); a real year (``illustrative: false``) may not evaluate
    units whose names are illustrative.
    """
    units = registry.units[registry.valid_in(year)]
    skipped = {n.group for n in rules.not_evaluated}
    unknown = units[~units["group"].isin(rules.group_ids) & ~units["group"].isin(skipped)]
    known = ", ".join(rules.group_ids) + (f" (không đánh giá: {', '.join(sorted(skipped))})" if skipped else "")
    problems = [Problem(f, int(r), "group", g, f"nhóm không có trong quy định; các nhóm: {known} (đơn vị có hiệu "
                        f"lực năm {year}; nhóm không đánh giá thì khai báo ở not_evaluated của quy định)")
                for f, r, g in zip(unknown["_file"], unknown["_row"], unknown["group"], strict=True)]
    if not illustrative:
        fake = units[units["illustrative"] & units["group"].isin(rules.group_ids)]
        problems += [Problem(f, int(r), "illustrative", n,
                             f"đơn vị có tên minh họa, không dùng được cho năm {year} thật (illustrative: false "
                             f"trong {params_label}); hãy dùng danh mục thật")
                     for f, r, n in zip(fake["_file"], fake["_row"], fake["name"], strict=True)]
    return problems


def _not_evaluated_rows(checked: Checked, registry: Registry, rules: Rules, year: int, label: str) -> list[Problem]:
    """Input rows naming a unit whose group the rules do not evaluate this year."""
    names = checked.names
    if names is None:
        return []
    reasons = {n.group: n.reason for n in rules.not_evaluated}
    if not reasons:
        return []
    group = names["unit_id"].map(registry.units["group"])
    off = names["unit_id"].notna() & group.isin(list(reasons))
    rows = pd.concat([checked.table[ROW], checked.rejected[ROW]]).reindex(names.index)
    return [Problem(label, None if pd.isna(r) else int(r), "Đơn vị", n,
                    f"đơn vị thuộc nhóm «{g}», nhóm không được đánh giá theo quy định năm {year}: {reasons[g]}")
            for r, n, g in zip(rows[off], names.loc[off, "input"], group[off], strict=True)]


def _left_out(registry: Registry, rules: Rules, year: int) -> pd.DataFrame:
    units = registry.units[registry.valid_in(year)]
    reasons = {n.group: n.reason for n in rules.not_evaluated}
    out = units[units["group"].isin(list(reasons))]
    return pd.DataFrame({"unit_id": out["id"].astype("string"), "unit": out["short_name"].astype("string"),
                         "group": out["group"].astype("string"),
                         "reason": out["group"].map(reasons).astype("string")}).reset_index(drop=True)


def _missing_units(scores: Checked, registry: Registry, rules: Rules, year: int,
                   label: str) -> list[Problem]:
    """Registry units valid this year (in a group the rules know) with no row in the scores.

    Said in the same run as the names that did not match: when some did not, the message
    names their rows, since a missing unit may be one of them, misspelt.
    """
    names = scores.names
    if names is None:
        return []  # the unit column could not be read: its own problem says so
    units = _evaluated(registry, rules, year)
    missing = units[~units["id"].isin(names["unit_id"].dropna())]
    expected = f"đơn vị có trong danh mục (hiệu lực năm {year}) nhưng không có điểm"
    rows = _unmatched_rows(scores)
    if rows:
        shown = ", ".join(map(str, rows[:5])) + (", …" if len(rows) > 5 else "")
        expected += f" (hoặc là dòng {shown}, nơi tên đơn vị trống hoặc không khớp: sửa dòng đó)"
    return [Problem(label, None, "Đơn vị", name, expected) for name in missing["name"]]


def _unmatched_rows(scores: Checked) -> list[int]:
    """Row numbers (as the file shows them) of the names that matched no unit."""
    names = scores.names
    if names is None or not names["unit_id"].isna().any():
        return []
    rows = scores.rejected[ROW] if ROW in scores.rejected.columns else pd.Series(dtype="int64")
    lost = names.index[names["unit_id"].isna()]
    return sorted(int(r) for r in rows.reindex(lost).dropna())


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

    Notes
    -----
    Within :func:`handing_down` in a parent process, an evaluation of the same params file and
    data folder made there is returned instead, if every file it was made from still has the
    bytes it had (:func:`_handed_down`).
    """
    handed = _handed_down(params_path, data_dir)
    if handed is not None:
        return handed
    inputs = load_inputs(params_path, data_dir=data_dir)
    rules, registry = inputs.rules, inputs.registry
    detail = None
    if "criteria" in inputs.tables:
        detail = evaluate_detail(inputs.tables, rules, registry, inputs.sets)
        scores = detail.scores
    elif "periods" in inputs.tables:
        scores = score_from_periods(inputs.tables["periods"].table, registry, rules)
    else:
        scores = score_from_totals(inputs.tables["scores"].table, registry)
    conditions = inputs.tables["conditions"].table if "conditions" in inputs.tables else None
    classified, quotas = classify_explained(scores, rules, conditions)
    ranked = rank(classified, rules)
    counts = count_tiers(ranked, rules)
    report = inputs.params.params.report
    sentences = summary_sentences(ranked, rules, registry, year=inputs.params.year,
                                  lead=report.results_lead)
    return Evaluation(inputs, scores, classified, ranked, counts, sentences,
                      provenance_table(inputs.files, inputs.read), _renamed(inputs), detail, quotas,
                      _left_out(registry, rules, inputs.params.year))


# -- evaluations handed down to the processes a report starts -----------------------------------


def _key(params_path: Path | str, data_dir: Path | str | None) -> str:
    """The file name an evaluation of ``params_path`` (and ``data_dir``) is handed down under.

    Paths resolved where they were given (the kernel runs in the notebook's folder, the command
    anywhere); the package version, since a kernel could run another installed copy.
    """
    ident = [str(Path(params_path).resolve()), str(Path(data_dir).resolve()) if data_dir else "", __version__]
    return hashlib.sha256(json.dumps(ident).encode("utf-8")).hexdigest()[:32] + ".pickle"


@contextlib.contextmanager
def handing_down(evaluations: Iterable[Evaluation]) -> Iterator[None]:
    """Within the block, processes started from here take these evaluations as made (:func:`evaluate`).

    They are written (pickled) into a private temporary folder, named in the environment those
    processes inherit (``EVALUATION_HANDED_DOWN``, a list of folders: blocks nest) and removed at
    the end of the block.  Same results either way: an evaluation is a function of the bytes of
    the files it read, which the receiving process checks again; only the paths of error messages,
    which a successful evaluation never shows, are written relative to the folder it was made in.
    """
    with _hand_off_folder() as folder:
        for ev in evaluations:
            _write_hand_off(folder, ev)
        yield


@contextlib.contextmanager
def handing_down_later() -> Iterator[Callable[[Evaluation], None]]:
    """:func:`handing_down` and :func:`~evaluation.inputs.provenance.pinned` for a process started
    before the evaluation is made: a report's kernel, which starts (and imports what its notebook
    needs) while the command checks the inputs.

    It inherits the folder's name and the pins' file now; ``give(ev)`` writes the evaluation and
    the checksums of the files it read, and must be called before that process evaluates anything
    (its notebook runs only after the command has given it the evaluation).
    """
    with _hand_off_folder() as folder, pinned_later(Path(folder) / "pins.json") as pin:
        def give(ev: Evaluation) -> None:
            _write_hand_off(folder, ev)
            pin(ev.inputs.read)

        yield give


@contextlib.contextmanager
def _hand_off_folder() -> Iterator[str]:
    """A private folder named in ``EVALUATION_HANDED_DOWN`` within the block, removed after it."""
    _remove_stale_hand_offs()
    # mode 0700: only this user reads it; named by this process, so that a later run can tell it is stale
    folder = tempfile.mkdtemp(prefix=f"{_HAND_OFF}{os.getpid()}-")
    outer = os.environ.get(HANDED_DOWN_ENV)
    try:
        with inherited(HANDED_DOWN_ENV, os.pathsep.join([folder, *([outer] if outer else [])])):
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_hand_off(folder: str, ev: Evaluation) -> None:
    write_whole(Path(folder) / _key(ev.params.path, ev.params.data_override),
                pickle.dumps(ev, protocol=pickle.HIGHEST_PROTOCOL))


_HAND_OFF = "evaluation-handed-down-"


def _remove_stale_hand_offs() -> None:
    """Remove the hand-off folders of processes that no longer run (a build killed outright: SIGKILL)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_HAND_OFF}*-*"):
        pid = folder.name[len(_HAND_OFF):].split("-", 1)[0]
        try:
            if not pid.isdigit() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (PermissionError, OverflowError):
            pass  # another user's process, or not a pid: not ours to remove


def _handed_down(params_path: Path | str, data_dir: Path | str | None) -> Evaluation | None:
    """The evaluation a parent process handed down for these params, if every file it read is unchanged.

    None when there is none, it cannot be read, or a file it was made from has other bytes now
    (then :func:`evaluate` reads everything again, and :func:`load_inputs` says which file changed
    since the command checked it).
    """
    folders = os.environ.get(HANDED_DOWN_ENV)
    if not folders:
        return None
    name = _key(params_path, data_dir)
    for folder in folders.split(os.pathsep):
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as fh:
                ev = pickle.load(fh)  # noqa: S301 — written by the parent process, in a folder only it can write
        except FileNotFoundError:
            continue
        except (OSError, pickle.UnpicklingError, AttributeError, EOFError, ImportError) as exc:
            log.warning("không đọc được kết quả đánh giá đã tính (%s): tính lại", exc)
            return None
        try:
            unchanged = all(sha256(p) == digest for p, (_, digest) in ev.inputs.read.items())
        except OSError:
            unchanged = False
        return ev if unchanged else None
    return None
