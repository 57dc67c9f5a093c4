"""Writing a collection into the year: what would change, then (when told) the files.

``collect`` without ``--write`` only says what it would write; with ``--write`` it writes:

* the year's input tables, ``<data>/<table>.csv`` (UTF-8, the declared headers, numbers
  with a decimal point) — and, when the params named other files for them (the one
  workbook of ``new-year``), the params' ``inputs`` are pointed at the CSV files (said
  first; the rest of the params file is kept as it is);
* ``trace.csv``, the cell each value came from, and ``status.csv``, the status board
  (UTF-8 with BOM: it opens in Excel).

Each file is written whole or not at all (a temporary file renamed into place).  The
summary compares each table with the file it replaces, row by row on the table's key.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ..engine.pipeline import display_path
from ..errors import InputError, Problem
from ..inputs.provenance import STATUS_COLUMNS, STATUS_FILE, TRACE_COLUMNS, TRACE_FILE
from ..inputs.schemas import TABLES
from ..inputs.tables import read_csv_text
from .collect import Collected

__all__ = ["Plan", "plan_writes", "apply_plan", "csv_bytes"]

_EXAMPLES = 5
_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")


def csv_bytes(table: pd.DataFrame, *, bom: bool = False) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(table.columns))
    writer.writerows(table.astype("object").where(table.notna(), "").to_numpy().tolist())
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Plan:
    """What ``--write`` writes: ``(path, bytes)`` in order, and the summary lines."""

    files: list[tuple[Path, bytes]]
    summary: list[str]
    changes: bool


def _keys(name: str) -> list[str]:
    spec = TABLES[name]
    unit = next((c.header for c in spec.columns if c.kind == "unit"), None)
    return [unit if k == "unit_id" else spec.column(k).header for k in spec.unique]


def _normal(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells compared as values: ``9,5`` = ``9.5``, spaces and blanks alike."""
    out = frame.fillna("").astype("string").apply(lambda s: s.str.strip())

    def number(s: pd.Series) -> pd.Series:
        is_number = s.str.match(_NUMBER).fillna(False).astype(bool)
        s = s.copy()
        s[is_number] = [format(float(v.replace(",", ".")), "g") for v in s[is_number]]
        return s
    return out.apply(number)


def _diff(name: str, old: pd.DataFrame, new: pd.DataFrame) -> str:
    """``487 → 490 dòng: thêm 3, bỏ 0, đổi 2 (Sở Tư pháp · KTXH: Điểm tự chấm 19 → 18.5; …)``."""
    cols = [c for c in new.columns if c in old.columns]
    old_n, new_n = _normal(old[cols]), _normal(new[cols])
    keys = _keys(name)
    if not keys or not set(keys) <= set(cols):
        both = pd.concat([old_n.assign(_side="old"), new_n.assign(_side="new")])
        counts = both.groupby(cols, dropna=False)["_side"].value_counts().unstack(fill_value=0)
        added = int((counts.get("new", 0) - counts.get("old", 0)).clip(lower=0).sum())
        removed = int((counts.get("old", 0) - counts.get("new", 0)).clip(lower=0).sum())
        return f"{len(old)} → {len(new)} dòng: thêm {added}, bỏ {removed}"
    merged = old_n.merge(new_n, on=keys, how="outer", suffixes=("_old", "_new"), indicator=True)
    added = int((merged["_merge"] == "right_only").sum())
    removed = int((merged["_merge"] == "left_only").sum())
    both = merged[merged["_merge"] == "both"]
    examples, changed = [], 0
    value_cols = [c for c in cols if c not in keys]
    differs = pd.Series(False, index=both.index)
    for c in value_cols:
        differs |= both[f"{c}_old"] != both[f"{c}_new"]
    changed = int(differs.sum())
    for _, row in both[differs].head(_EXAMPLES).iterrows():
        what = "; ".join(f"{c} {row[f'{c}_old'] or '(trống)'} → {row[f'{c}_new'] or '(trống)'}"
                         for c in value_cols if row[f"{c}_old"] != row[f"{c}_new"])
        examples.append(" · ".join(str(row[k]) for k in keys) + ": " + what)
    text = f"{len(old)} → {len(new)} dòng: thêm {added}, bỏ {removed}, đổi {changed}"
    if examples:
        text += " (" + "; ".join(examples) + ("; …" if changed > len(examples) else "") + ")"
    return text


def _rewrite_inputs(text: str, inputs: dict[str, str]) -> str:
    """The params text with its ``inputs:`` block replaced; every other line kept."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if re.match(r"^inputs:\s*(#.*)?$", ln)), None)
    if start is None:
        raise ValueError("no block «inputs:»")
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines after the block stay where they are
    block = ["inputs:\n", *(f"  {k}: {v}\n" for k, v in inputs.items())]
    out = "".join(lines[:start] + block + lines[end:])
    if yaml.safe_load(out).get("inputs") != inputs:
        raise ValueError("inputs not rewritten")
    return out


def plan_writes(col: Collected, board: pd.DataFrame) -> Plan:
    """Every file ``--write`` would write, and a line per file saying what changes."""
    yf = col.yf
    params = yf.params
    data = params.data_dir
    files: list[tuple[Path, bytes]] = []
    summary: list[str] = []
    produced = {s.table for p in yf.parties for s in p.sheets}
    inputs = dict(params.params.inputs)
    changes = False
    for name in [n for n in TABLES if n in produced and n in inputs]:
        spec = TABLES[name]
        table = col.tables.get(name)
        if table is None:
            table = pd.DataFrame(columns=[c.header for c in spec.columns])
        target = data / f"{name}.csv"
        shown = display_path(target)
        new = csv_bytes(table)
        if inputs[name] != target.name:
            summary.append(f"{display_path(params.path)}: inputs.{name}: {inputs[name]} → {target.name}")
            inputs[name] = target.name
            changes = True
        if not target.exists():
            summary.append(f"{shown}: tệp mới, {len(table)} dòng")
            changes = True
        elif target.read_bytes() == new:
            summary.append(f"{shown}: không đổi ({len(table)} dòng)")
        else:
            old, problems = read_csv_text(target, shown)
            text = _diff(name, old.drop(columns="_row"), table) if not problems else \
                f"thay tệp không đọc được ({problems[0].expected})"
            summary.append(f"{shown}: {text}")
            changes = True
        files.append((target, new))
    if inputs != dict(params.params.inputs):
        try:
            text = _rewrite_inputs(params.path.read_text(encoding="utf-8"), inputs)
        except ValueError:
            raise InputError([Problem(display_path(params.path), None, "inputs", None,
                                      "không tự sửa được khóa inputs của tệp tham số; hãy sửa tay: "
                                      + ", ".join(f"{k}: {v}" for k, v in inputs.items()))]) from None
        files.insert(0, (params.path, text.encode("utf-8")))
    status = board.rename(columns=STATUS_COLUMNS)
    checksums = {target.stem: hashlib.sha256(content).hexdigest() for target, content in files
                 if target.suffix == ".csv"}
    trace = col.trace.assign(sha256=col.trace["table"].map(checksums))[TRACE_COLUMNS]
    for target, content, what in ((data / TRACE_FILE, csv_bytes(trace), f"{len(trace)} giá trị truy về ô"),
                                  (data / STATUS_FILE, csv_bytes(status, bom=True), f"{len(status)} dòng")):
        same = target.exists() and target.read_bytes() == content
        summary.append(f"{display_path(target)}: {'không đổi' if same else 'ghi'} ({what})")
        changes |= not same
        files.append((target, content))
    return Plan(files, summary, changes)


def apply_plan(plan: Plan) -> None:
    """Write the plan's files, each through a temporary file renamed into place."""
    for target, content in plan.files:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.read_bytes() == content:
            continue
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)
