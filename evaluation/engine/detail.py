"""A year scored from its parts: criteria → surveys → appraisal → bonus/penalty → final score.

:func:`score_detail` is the engine: pure functions over DataFrames, no files,
no rules objects, so it runs as well on a province's checked inputs as on
generated national-size data (the benchmark calls it directly).
:func:`evaluate_detail` prepares its inputs from a year's checked tables and rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from ..inputs.catalogue import criteria_frame, items_frame, questions_frame, surveys_frame
from ..inputs.registry import Registry
from ..inputs.rules import Rules
from ..inputs.validate import Checked
from .adjust import adjust, empty_log, unit_adjustments
from .criteria import appraise, body_totals, unit_totals
from .score import score_from_components
from .survey import answer_distribution, response_counts, score_survey, survey_forms

__all__ = ["Detail", "score_detail", "evaluate_detail", "adjust_again"]


@dataclass(frozen=True)
class Detail:
    """Every table of the detailed scoring (each a new table, made by one stage).

    Attributes
    ----------
    catalogue, items_catalogue, questions : pandas.DataFrame
        The rules as tables (:mod:`evaluation.inputs.catalogue`).
    sets : pandas.DataFrame
        ``unit_id`` → ``criteria_set``.
    lines : pandas.DataFrame
        Unit × criterion (:func:`evaluation.engine.criteria.appraise`), with the result, evidence,
        explanation and note when given.
    totals : pandas.DataFrame
        Per unit (:func:`evaluation.engine.criteria.unit_totals`).
    bodies : pandas.DataFrame
        Per unit × appraising body.
    survey, survey_counts, answers : pandas.DataFrame or None
        Survey points per unit, forms per survey × rater kind, answer counts.
    adjustment_lines, adjustment_items : pandas.DataFrame
        Bonus/penalty rows and per unit × item totals (:func:`evaluation.engine.adjust.adjust`).
    log : pandas.DataFrame
        Every cap or bound that bit, from every stage.
    scores : pandas.DataFrame
        One row per unit (:func:`evaluation.engine.score.score_from_components`).
    """

    catalogue: pd.DataFrame
    items_catalogue: pd.DataFrame
    questions: pd.DataFrame
    sets: pd.DataFrame
    lines: pd.DataFrame
    totals: pd.DataFrame
    bodies: pd.DataFrame
    survey: pd.DataFrame | None
    survey_counts: pd.DataFrame | None
    answers: pd.DataFrame | None
    adjustment_lines: pd.DataFrame
    adjustment_items: pd.DataFrame
    log: pd.DataFrame
    scores: pd.DataFrame


_ITEM_COLUMNS = ["unit_id", "item", "count", "amount"]


def score_detail(*, units: pd.DataFrame, sets: pd.DataFrame, catalogue: pd.DataFrame, points: pd.DataFrame,
                 appraisal_max: float, adjustment_max: float, score_min: float, score_max: float,
                 bound: str = "net", responses: pd.DataFrame | None = None,
                 questions: pd.DataFrame | None = None, surveys: pd.DataFrame | None = None,
                 items: pd.DataFrame | None = None, item_catalogue: pd.DataFrame | None = None,
                 summaries: bool = True, precision=None) -> Detail:
    """Score units from points by criterion, survey answers and bonus/penalty items.

    Parameters
    ----------
    units : pandas.DataFrame
        ``unit_id``, ``unit``, ``group``, ``input_order``: the units scored, in order.
    sets : pandas.DataFrame
        ``unit_id``, ``criteria_set``.
    catalogue : pandas.DataFrame
        :func:`evaluation.inputs.catalogue.criteria_frame`.
    points : pandas.DataFrame
        ``unit_id``, ``criterion``, ``self_points``, ``points``, ``points_na``
        (and optionally ``result``, ``evidence``, ``explanation``, ``note``).
    appraisal_max, adjustment_max, score_min, score_max : float
    bound : {"net", "each"}
    responses, questions, surveys : pandas.DataFrame, optional
        Survey answers (``unit_id``, ``rater_kind``, ``rater``, ``question``,
        ``answer``) and the survey catalogue (:mod:`evaluation.inputs.catalogue`).
    items, item_catalogue : pandas.DataFrame, optional
        Bonus/penalty rows (``unit_id``, ``item``, ``count``, ``amount``, …)
        and :func:`evaluation.inputs.catalogue.items_frame`.
    summaries : bool
        False: leave out the tables only the report reads (forms and answers counted, points by
        body: ``survey_counts``, ``answers`` None, ``bodies`` empty) — a what-if wants the scores.
    precision : Stages, optional
        The rules' ``precision.stages`` (any object with ``criterion``, ``survey``,
        ``adjustment`` and ``total``, each with ``decimals`` and ``rounding``): every stage
        rounds as declared.  None: no rounding before publication.

    Returns
    -------
    Detail
    """
    survey = counts = answers = None
    if responses is not None:
        forms = survey_forms(responses, questions)
        survey = score_survey(forms, surveys, sets, catalogue, precision)
        if summaries:
            counts = response_counts(forms)
            answers = answer_distribution(responses, questions)
    lines = appraise(points, catalogue, sets, survey, precision)
    extra = [c for c in ("result", "evidence", "explanation", "note") if c in points]
    if extra:
        lines = lines.merge(points[["unit_id", "criterion", *extra]], on=["unit_id", "criterion"], how="left",
                            sort=False)
    totals = unit_totals(lines, precision)
    if items is None:
        items = pd.DataFrame({c: pd.Series(dtype="float64" if c in ("count", "amount") else "string")
                              for c in _ITEM_COLUMNS})
    if item_catalogue is None:
        item_catalogue = pd.DataFrame(columns=["item", "kind", "points", "up_to", "cap", "rate"])
    adj_lines, per_item, adj_log = adjust(items, item_catalogue, precision)
    scores, score_log = score_from_components(
        totals, unit_adjustments(per_item, precision), units, appraisal_max=appraisal_max,
        adjustment_max=adjustment_max, score_min=score_min, score_max=score_max, bound=bound, precision=precision)
    logs = [x for x in (adj_log, score_log) if len(x)]
    log = pd.concat(logs, ignore_index=True) if logs else empty_log()
    return Detail(catalogue, item_catalogue, questions if questions is not None else pd.DataFrame(), sets, lines,
                  totals, body_totals(lines, precision) if summaries else pd.DataFrame(), survey, counts, answers,
                  adj_lines, per_item, log, scores)


def evaluate_detail(tables: dict[str, Checked], rules: Rules, registry: Registry, sets: pd.DataFrame, *,
                    summaries: bool = True) -> Detail:
    """The detailed scoring of a year from its checked tables.

    Parameters
    ----------
    tables : dict of Checked
        ``criteria`` (required), ``survey`` and ``adjustments`` (optional).
    sets : pandas.DataFrame
        ``unit_id`` → ``criteria_set`` for the units evaluated this year.
    """
    reg = registry.units
    ids = sets["unit_id"].astype("string")
    units = pd.DataFrame({"unit_id": ids.to_numpy(), "unit": ids.map(reg["short_name"]).to_numpy(),
                          "group": ids.map(reg["group"]).to_numpy(),
                          "input_order": ids.map(reg["_row"]).astype("int64").to_numpy()})
    points = tables["criteria"].table.copy()
    for col in ("self_points_na", "points_na"):
        points[col] = points[col].astype(bool)
    points["unit_id"] = points["unit_id"].astype("string")
    points["criterion"] = points["criterion"].astype("string")
    kwargs = {"questions": questions_frame(rules)}
    if "survey" in tables:
        kwargs.update(responses=tables["survey"].table, surveys=surveys_frame(rules))
    if "adjustments" in tables:
        kwargs.update(items=tables["adjustments"].table.astype({"unit_id": "string", "item": "string"}))
    s = rules.scale
    return score_detail(units=units, sets=sets, catalogue=criteria_frame(rules), points=points,
                        appraisal_max=float(s.appraisal_max), adjustment_max=float(s.adjustment_max),
                        score_min=float(s.score_min), score_max=float(s.score_max),
                        bound=rules.adjustments.bound, item_catalogue=items_frame(rules), summaries=summaries,
                        precision=rules.precision.stages, **kwargs)


def adjust_again(detail: Detail, tables: dict[str, Checked], rules: Rules) -> Detail:
    """``detail`` with bonus/penalty and final scores made again under ``rules``; criteria and surveys kept.

    For what-ifs that change only the scale or the bonus/penalty items: the appraisal by
    criterion and survey does not depend on them, so it is taken from ``detail`` and only the
    later stages run (the result is :func:`evaluate_detail`'s, a few times faster), rounded at
    the same stages.
    """
    items = None
    if "adjustments" in tables:
        items = tables["adjustments"].table.astype({"unit_id": "string", "item": "string"})
    if items is None:
        items = pd.DataFrame({c: pd.Series(dtype="float64" if c in ("count", "amount") else "string")
                              for c in _ITEM_COLUMNS})
    catalogue = items_frame(rules)
    stages = rules.precision.stages
    adj_lines, per_item, adj_log = adjust(items, catalogue, stages)
    units = detail.scores[["unit_id", "unit", "group", "input_order"]]
    s = rules.scale
    scores, score_log = score_from_components(
        detail.totals, unit_adjustments(per_item, stages), units, appraisal_max=float(s.appraisal_max),
        adjustment_max=float(s.adjustment_max), score_min=float(s.score_min), score_max=float(s.score_max),
        bound=rules.adjustments.bound, precision=stages)
    logs = [x for x in (adj_log, score_log) if len(x)]
    log = pd.concat(logs, ignore_index=True) if logs else empty_log()
    return replace(detail, items_catalogue=catalogue, adjustment_lines=adj_lines, adjustment_items=per_item, log=log,
                   scores=scores)
