"""The report's sections on how a year was collected and what its self-assessments rest on.

* :func:`evidence` — for the council (the 2020 report's section 4 complaint as numbers): the gap
  between self and appraised points per appraising body, and the criteria a unit scored itself
  above zero without evidence, with the explanation it gave;
* :func:`status_board` — the annex table of who returned which form (years collected with
  ``python -m evaluation collect``; nothing otherwise);
* :func:`card_sources` — for each unit's score card, the workbook and cell of each figure.

The numbers come from :mod:`evaluation.engine.criteria` (:func:`~evaluation.engine.criteria.gap_summary`,
:func:`~evaluation.engine.criteria.unevidenced`) and from the year's trace and board
(:mod:`evaluation.inputs.provenance`); these functions only format them and render
``templates/fragments/present_collect/<function>.html.j2``.
"""

from __future__ import annotations

import re

import pandas as pd

from ..engine.criteria import gap_summary, unevidenced
from ..engine.pipeline import Evaluation
from ..fmt import fmt_bound, number
from ..inputs.provenance import STATUS_COLUMNS, STATUS_RULE
from .render import render

__all__ = ["evidence", "status_board", "card_sources"]


def _points(rules):
    """Points at the precision of the rules' sums: one precision per column."""
    return lambda value: number(value, rules.precision.stages.total.decimals)


def evidence(ev: Evaluation) -> str:
    """Gaps per appraising body, and the criteria self-scored without evidence (detailed years)."""
    d = ev.detail
    if d is None:
        return ""
    rules = ev.rules
    _pts = _points(rules)
    per = gap_summary(d.lines, "body")
    bodies = [{"name": rules.body(b).name, "lines": f"{int(r.above)}/{int(r.units)}", "self": _pts(r.self_points),
               "points": _pts(r.points), "gap": _pts(r.gap), "share": number(r.share * 100, 1) + "%"}
              for b, r in zip(per.index, per.itertuples(), strict=True)]
    recorded = "evidence" in d.lines and d.lines["evidence"].astype("string").fillna("").str.strip().ne("").any()
    missing = unevidenced(d.lines) if recorded else unevidenced(d.lines.iloc[0:0])
    names = ev.registry.units["short_name"]
    order = ev.ranked.set_index("unit_id")[["group", "order"]]
    groups = {g.id: i for i, g in enumerate(rules.groups)}
    missing = missing.assign(_g=missing["unit_id"].map(order["group"]).map(groups),
                             _o=missing["unit_id"].map(order["order"])).sort_values(["_g", "_o"], kind="stable")
    rows = [{"unit": names.get(r.unit_id, r.unit_id), "criterion": r.criterion, "body": rules.body(r.body).label,
             "max": fmt_bound(r.max_points), "self": _pts(r.self_points), "points": _pts(r.points),
             "explanation": r.explanation} for r in missing.itertuples(index=False)]
    # Counts as numbers, without the leading zero of the seed's own summary sentences.
    summary = {"criteria": str(len(missing)), "units": str(missing["unit_id"].nunique()),
               "points": _pts(missing["self_points"].sum()),
               "explained": str(int((missing["explanation"] != "").sum()))}
    return render("present_collect/evidence.html.j2", bodies=bodies, missing=rows, summary=summary,
                  recorded=bool(recorded))


def status_board(ev: Evaluation) -> str:
    """The annex table of the parties' returns, when the year was collected from their forms."""
    board = ev.inputs.status
    if board is None or not len(board):
        return ""
    kinds = []
    for kind, mine in board[board["kind"] != ""].groupby("kind", sort=False):
        done = mine["status"].isin(["đã nộp", "nộp nhiều lần"])
        kinds.append({"kind": kind.capitalize(), "parties": str(len(mine)), "done": str(int(done.sum())),
                      "open": str(int((~done).sum())), "problems": str(int(mine["problems"].sum()))})
    rows = [{c: ("" if c == "problems" and not r[c] else r[c]) for c in STATUS_COLUMNS}
            for r in board.to_dict("records")]
    return render("present_collect/status_board.html.j2", kinds=kinds, rows=rows,
                  headers=[STATUS_COLUMNS[c] for c in ("kind", "party", "status", "workbook", "saved", "problems",
                                                       "note")],
                  rule=STATUS_RULE)


_CELL = re.compile(r"^(?P<sheet>.*)!\$?(?P<col>[A-Z]+)\$?(?P<row>\d+)$")


def _cells(cells: list[str]) -> str:
    """``G2, G3, G4`` → ``G2–G4``: consecutive rows of one column said as a range."""
    parts: list[list[tuple[str, int]]] = []
    for cell in cells:
        m = _CELL.match(cell)
        col, row = (m["col"], int(m["row"])) if m else (cell, -1)
        if parts and m and parts[-1][-1][0] == col and parts[-1][-1][1] == row - 1:
            parts[-1].append((col, row))
        else:
            parts.append([(col, row)])
    return ", ".join(f"{p[0][0]}{p[0][1]}" + (f"–{p[-1][0]}{p[-1][1]}" if len(p) > 1 else "") if p[0][1] >= 0
                     else p[0][0] for p in parts)


def card_sources(ev: Evaluation) -> dict[str, list[dict[str, str]]]:
    """For each unit: where its card's figures were typed, by figure, workbook and sheet.

    Self points, appraised points and the bonus/penalty rows of a year collected from the
    parties' forms (empty for other years).  Each entry: ``what`` (self points, appraisal,
    bonus/penalty) and ``parts``, each a ``workbook``, its ``sheet`` and ``cells``
    (``G2–G9``, or ``KTXH F17, TTRA F5``).
    """
    trace = ev.inputs.trace
    if trace is None or not len(trace):
        return {}
    wanted = {("criteria", "Điểm tự chấm"): "tự chấm", ("criteria", "Điểm thẩm định"): "thẩm định",
              ("adjustments", "Mã nội dung"): "thưởng, trừ"}
    key = list(zip(trace["table"], trace["column"], strict=True))
    rows = trace[[k in wanted for k in key]].copy()
    if not len(rows):
        return {}
    rows["what"] = [wanted[(t, c)] for t, c in zip(rows["table"], rows["column"], strict=True)]
    # An appraisal cell is said with its criterion: a body's cells are not the card's columns in order.
    criteria = ev.inputs.tables.get("criteria")
    code = (criteria.table.set_index("_row")["criterion"] if criteria is not None else pd.Series(dtype="string"))
    rows["code"] = rows["row"].map(code).where(rows["what"] == "thẩm định", "")
    out: dict[str, dict[str, list[dict[str, str]]]] = {}
    for (unit, what, workbook, sheet), g in rows.groupby(["unit_id", "what", "workbook", "sheet"], sort=False):
        g = g.sort_values("row", kind="stable").drop_duplicates("cell")
        if what == "thẩm định":
            cells = ", ".join(f"{c} {_cells([cell])}" for c, cell in zip(g["code"], g["cell"], strict=True))
        else:
            cells = _cells(g["cell"].tolist())
        out.setdefault(unit, {}).setdefault(what, []).append({"workbook": workbook, "sheet": sheet, "cells": cells})
    order = ["tự chấm", "thẩm định", "thưởng, trừ"]
    return {u: [{"what": w, "parts": parts[w]} for w in order if w in parts] for u, parts in out.items()}
