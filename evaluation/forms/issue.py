"""Sending the forms out: one workbook per party of a year, in ``data/<year>/forms/<kind>/``.

``python -m evaluation forms --year Y`` writes every party's form;
``--missing --from DIR`` writes fresh forms only for the parties whose return is missing
or unusable, pre-filled with what they sent (see :mod:`evaluation.forms.collect`).

Nothing is overwritten: a form already on disk with the same bytes is left as it is (the
command can be run again), a different file in its place stops the command before anything
is written (exit 2), naming every such file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..engine.pipeline import display_path
from ..errors import InputError, Problem
from ..files import deterministic_zip
from ..inputs.params import YearParams, load_params
from ..inputs.registry import Registry, load_registry
from ..inputs.rules import Rules, load_rules
from .parties import KINDS, Party, year_parties
from .workbooks import build_party_workbook

__all__ = ["YearForms", "year_forms", "issue_forms", "Issued", "FORMS_FOLDER", "MISSING_FOLDER"]

FORMS_FOLDER = "forms"
MISSING_FOLDER = "forms-bo-sung"   # fresh forms for the parties still missing (Vietnamese: "bổ sung")


@dataclass(frozen=True)
class YearForms:
    """A year's params, rules, registry and parties: what both sending and collecting need."""

    params: YearParams
    rules: Rules
    registry: Registry
    parties: list[Party]

    @property
    def year(self) -> int:
        return self.params.year

    @property
    def heading(self) -> str:
        r = self.params.params.report
        return " — ".join(t for t in (r.issuer_parent, r.issuer) if t)

    @property
    def issuer(self) -> str:
        return self.params.params.report.issuer

    def party(self, key: str) -> Party | None:
        return self._by_key.get(key)

    @property
    def _by_key(self) -> dict[str, Party]:
        return {p.key: p for p in self.parties}

    def relative_path(self, party: Party) -> Path:
        """``tu-cham/Sở Tư pháp - tự chấm 2021.xlsx``."""
        return Path(KINDS[party.kind].folder) / f"{party.file_name} {self.year}.xlsx"


def year_forms(params_path: Path | str) -> YearForms:
    """Load what the forms of a year are made from (the year's input files need not exist yet).

    Raises
    ------
    InputError
        Bad params, rules or registry; a year scored from totals only (no parties).
    """
    params_path = Path(params_path)
    year = load_params(params_path, label=display_path(params_path), inputs_exist=False)
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
    if problems:
        raise InputError(problems)
    return YearForms(year, rules, registry, year_parties(rules, registry, year.year, year.params.inputs))


@dataclass(frozen=True)
class Issued:
    """What :func:`issue_forms` did: forms written, and forms already there (same bytes)."""

    folder: Path
    written: list[Path]
    unchanged: list[Path]
    parties: list[Party]


def issue_forms(yf: YearForms, out: Path | str | None = None, *, parties: Iterable[Party] | None = None,
                sent: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
                problems: Mapping[str, list[Problem]] | None = None) -> Issued:
    """Write the forms of ``parties`` (default: every party of the year) under ``out``.

    Parameters
    ----------
    yf : YearForms
    out : Path, optional
        Default ``<data>/forms``.
    parties : iterable of Party, optional
    sent, problems : mapping, optional
        By party key: values sent before (by sheet title) and their problems, written
        into the fresh form (``forms --missing``).

    Raises
    ------
    InputError
        When a file in the way holds something else; nothing is written then.
    """
    out = Path(out) if out is not None else yf.params.data_dir / FORMS_FOLDER
    chosen = list(yf.parties if parties is None else parties)
    sent, problems = dict(sent or {}), dict(problems or {})
    planned: list[tuple[Path, bytes]] = []
    conflicts: list[Problem] = []
    unchanged: list[Path] = []
    for party in chosen:
        wb = build_party_workbook(party, yf.rules, yf.registry, yf.year, heading=yf.heading, issuer=yf.issuer,
                                  sent=sent.get(party.key), problems=problems.get(party.key, ()))
        buf = io.BytesIO()
        wb.save(buf)
        data = deterministic_zip(buf.getvalue())
        target = out / yf.relative_path(party)
        if target.exists():
            if target.read_bytes() == data:
                unchanged.append(target)
                continue
            conflicts.append(Problem(display_path(target), None, None, None,
                                     "tệp đã có và khác biểu mẫu sẽ ghi: không ghi đè. Nếu đây là bản cũ, xóa (hoặc "
                                     "chuyển) tệp hay cả thư mục rồi chạy lại"))
        planned.append((target, data))
    if conflicts:
        raise InputError(conflicts)
    for target, data in planned:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return Issued(out, [t for t, _ in planned], unchanged, chosen)

