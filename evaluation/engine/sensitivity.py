"""How sure is each tier?  The year's results again under every declared uncertainty.

A year's tiers rest on values that are uncertain in known ways (the declaration,
:class:`~evaluation.inputs.rules.Uncertainty`, says which and how): a criterion's
maximum within a range, the rounding rule among alternatives, a tier bound within a
range, survey points from a sample of raters, items the council decides "up to" a
maximum.  :func:`analyse` draws ``N`` scenarios from a fixed seed, scores and
classifies every unit in every scenario with the engine's own stages, and says per
unit how often it keeps its tier, the interval of its rank and which uncertain value
moves it most; per year, how many units keep their tier in at least 95 % of the
scenarios.  Nothing varies unless it is declared: with an empty declaration every
unit keeps its tier and rank in every scenario.

How the scenarios are drawn (numpy ``Generator`` from the declaration's seed, the
values in the order they are declared):

* a range (criterion maximum, tier bound) and the rounding alternatives by Latin
  hypercube sampling: each value's ``N`` draws are spread evenly over its range (a
  tier bound over the points of the published grid, an alternative among the
  alternatives — exactly ``N/K`` times each of ``K`` when ``K`` divides ``N``) and
  paired at random with the other values' draws;
* survey points by the bootstrap: every unit's forms of the survey are drawn again
  with replacement, within each kind of rater (so a unit keeps its number of forms
  of each kind, and the minimum-forms rule its verdict); the unit's mean is the mean
  of the drawn forms, turned into points by the rules' formula;
* an item decided "up to" a maximum: every row of the item anywhere from 0 to its
  maximum (``up_to`` × count, or the item's cap), uniformly.

A criterion's maximum that varies takes its drawn value in every set it is declared
for; the other criteria of the set share the rest of ``scale.appraisal_max`` in
their rules' proportions (all of them scaled alike when every criterion of the set
varies), and every unit keeps its achievement on each criterion (points ÷ maximum).

How each scenario is scored: appraisal by criterion with the proration of
:mod:`~evaluation.engine.criteria` (vectorised over units × scenarios), bonus and
penalty by :func:`~evaluation.engine.adjust.adjust`, the final score by
:func:`~evaluation.engine.score.final_scores`, every stage rounded as the rules'
``precision.stages`` say, exactly as the published year is (a survey's mean answer,
each criterion's points and credit, each bonus or penalty amount, every sum): the
analysis checks that its unvaried scenario gives every unit its published final score,
and with nothing declared every scenario is that one.  Then the published score, tier,
conditions and quotas by :func:`~evaluation.engine.classify.classify` and ranks by
:func:`~evaluation.engine.rank.rank` — the code that classifies and ranks the published
year, all scenarios in one call: exact decimal rounding, each scenario's quotas counted
within that scenario (base, limit rounding, ties and order as the rules declare),
conditions and overrides, ranks tier-first where the rules say so.  A year that publishes totals only, or scores
per period, gets the rounding and bound variants; the other declarations are listed as
not applicable.

Definitions used in the report:

* **share of a tier**: the share of the ``N`` scenarios in which the unit has it;
  **stability**: the share of its published tier; **tier-stable**: stability ≥ 95 %;
* **rank interval**: the central 95 % of the unit's ranks in its group over the
  scenarios (2.5th and 97.5th percentiles, ranks as the report gives them: ties
  share the best place);
* **the uncertain value that moves a unit most** ("yếu tố ảnh hưởng nhiều nhất"):
  each declared value is varied alone, over the same ``N`` draws, the others kept as
  the rules and inputs give them (one at a time); the value under which the unit's
  tier differs from its published tier in the most scenarios.  When no value alone
  changes its tier, the value under which its final score varies most (standard
  deviation); none when nothing moves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from ..fmt import fmt_bound
from ..inputs.catalogue import items_frame, questions_frame, surveys_frame
from ..inputs.rules import (
    DETAIL_KINDS,
    Precision,
    Rules,
    Uncertainty,
    VaryCriterionMax,
    VaryRounding,
    VarySurvey,
    VaryTierMin,
    VaryUpTo,
    checked_uncertainty,
)
from .adjust import adjust, unit_adjustments
from .classify import classify
from .pipeline import Evaluation
from .precision import round_values
from .rank import rank
from .score import final_scores
from .survey import survey_forms, survey_ratio

__all__ = ["Sensitivity", "analyse", "survey_intervals", "bootstrap_means", "LEVEL", "DEFAULT_DRAWS",
           "DEFAULT_SEED", "ROUNDING_NAMES"]

LEVEL = 0.95                  # tier-stable: the published tier in at least this share of scenarios
QUANTILES = (0.025, 0.5, 0.975)
DEFAULT_DRAWS = 1000          # without a declaration (score cards' survey intervals)
DEFAULT_SEED = 0
_CHUNK = 250                  # bootstrap draws at a time: bounds the memory of units × forms × draws
ROUNDING_NAMES = {"down": "bỏ phần lẻ", "half_up": "làm tròn (từ 5 trở lên làm tròn lên)",
                  "half_even": "làm tròn về số chẵn gần nhất", "up": "làm tròn lên"}


# -- drawing -----------------------------------------------------------------------------------------


def _stratified(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniforms in [0, 1), one in each of ``n`` equal strata, in random order (Latin hypercube)."""
    return (rng.permutation(n) + rng.random(n)) / n


def _stratified_index(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``n`` draws among ``k`` equally likely values: each ``n // k`` or one more times, in random order."""
    return rng.permutation(n) * k // n


def bootstrap_means(values: np.ndarray, cells: np.ndarray, groups: np.ndarray, draws: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Means of ``values`` by group, ``draws`` times, each value drawn again with replacement within its cell.

    Parameters
    ----------
    values : numpy.ndarray of float
        One per form, sorted so that every cell and every group is a run of consecutive forms
        (cells nest in groups: a unit's forms of one kind of rater within the unit's forms).
    cells, groups : numpy.ndarray of int
        The cell and the group of each form (non-decreasing).
    draws : int
    rng : numpy.random.Generator
        Consumed as ``rng.random((draws, len(values)))`` in row-major order: draw ``d``, form slot
        ``i`` takes form ``start(cell_i) + floor(u[d, i] × size(cell_i))``.

    Returns
    -------
    numpy.ndarray
        ``draws`` × groups: the mean of each group's drawn forms.
    """
    n = len(values)
    cell_start = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]]) if n else np.zeros(0, np.int64)
    cell_size = np.diff(np.r_[cell_start, n])
    group_start = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if n else np.zeros(0, np.int64)
    group_size = np.diff(np.r_[group_start, n])
    slot_start = np.repeat(cell_start, cell_size)
    slot_size = np.repeat(cell_size, cell_size)
    out = np.empty((draws, len(group_start)))
    for lo in range(0, draws, _CHUNK):  # chunks of draws, not of rows: memory stays bounded
        u = rng.random((min(_CHUNK, draws - lo), n))
        picked = values[slot_start + (u * slot_size).astype(np.int64)]
        out[lo:lo + len(u)] = np.add.reduceat(picked, group_start, axis=1) / group_size if n else picked[:, :0]
    return out


# -- the year as arrays ----------------------------------------------------------------------------


@dataclass
class _Year:
    """A year's units, lines and rows as arrays in the order of ``ev.scores`` (unit ``u`` = row ``u``)."""

    ev: Evaluation
    ids: pd.Index
    final: np.ndarray
    # Lines (units × criteria), sorted by unit: unit index, set, criterion, maximum, applicable, achievement.
    line_unit: np.ndarray | None = None
    line_start: np.ndarray | None = None
    line_set: np.ndarray | None = None
    line_criterion: np.ndarray | None = None
    line_max: np.ndarray | None = None
    line_app: np.ndarray | None = None
    line_ach: np.ndarray | None = None
    line_survey: np.ndarray | None = None
    adjustments: pd.DataFrame | None = None   # nominal per unit (bonus, penalty, raw), in unit order
    nominal: np.ndarray | None = None         # units × 1: the unvaried scenario's final score, rescored

    @property
    def stages(self):
        """The rules' ``precision.stages``: every scenario rounds each stage as the published year does."""
        return self.ev.rules.precision.stages

    @property
    def detailed(self) -> bool:
        return self.line_unit is not None


def _year(ev: Evaluation) -> _Year:
    ids = pd.Index(ev.scores["unit_id"].astype("string"))
    y = _Year(ev, ids, ev.scores["final_score"].to_numpy(dtype="float64"))
    if ev.detail is None:
        return y
    lines = ev.detail.lines
    u = ids.get_indexer(lines["unit_id"].astype("string"))
    order = np.argsort(u, kind="stable")
    lines = lines.iloc[order]
    u = u[order]
    y.line_unit = u
    y.line_start = np.searchsorted(u, np.arange(len(ids)))
    y.line_set = lines["criteria_set"].astype("string").to_numpy(dtype=object)
    y.line_criterion = lines["criterion"].astype("string").to_numpy(dtype=object)
    y.line_max = lines["max_points"].to_numpy(dtype="float64")
    y.line_app = lines["applicable"].to_numpy(dtype=bool)
    pts = lines["points"].to_numpy(dtype="float64", na_value=np.nan)
    y.line_ach = np.where(y.line_app, pts / y.line_max, 0.0)
    y.line_survey = lines["survey"].astype("string").fillna("").to_numpy(dtype=object)
    if ev.detail.survey is not None and "source" in lines:
        # A survey's points are its ratio (from the rounded mean) × the maximum, rounded: keep the ratio
        # itself, so a maximum that varies gives the engine's points, not those of a rounded ratio.
        sv = ev.detail.survey.set_index(["unit_id", "criterion"])
        key = pd.MultiIndex.from_arrays([ids[u], y.line_criterion])
        ratio = sv["ratio"].reindex(key).to_numpy(dtype="float64")
        formula = ((lines["source"].to_numpy() == "survey") & y.line_app & ~np.isnan(ratio) & ~np.isnan(pts)
                   & ~(sv["flag"].reindex(key, fill_value=False).to_numpy(dtype=bool) & (pts == 0)))
        y.line_ach = np.where(formula, ratio, y.line_ach)
    y.adjustments = ev.scores[["bonus_raw", "bonus", "penalty_raw", "penalty"]].reset_index(drop=True)
    # The arithmetic below must be the engine's: the unvaried scenario gives every unit its final score,
    # stage by stage rounded as the rules say (else the scenarios would not be the year's).
    y.nominal = _final(y, _appraisal(y, y.line_max[:, None], y.line_ach[:, None]), _adjustments(y, [], 1), 1)
    theirs = ev.scores["final_score"].to_numpy(dtype="float64")
    mine = y.nominal[:, 0]
    ok = np.isclose(mine, theirs, rtol=0, atol=1e-9) | (np.isnan(theirs) & np.isnan(mine))
    if not ok.all():
        raise RuntimeError("sensitivity: the final score recomputed from the criteria differs from the engine's for "
                           + ", ".join(ids[~ok][:5]))
    return y


def _unit_sum(y: _Year, values: np.ndarray) -> np.ndarray:
    """Per unit sums of a lines × draws matrix (every unit has lines: it has a criteria set)."""
    return np.add.reduceat(values, y.line_start, axis=0)


def _appraisal(y: _Year, maxima: np.ndarray, achievement: np.ndarray) -> np.ndarray:
    """Units × draws appraisal: points earned on the applicable criteria, the others credited at that ratio.

    The proration and rounding of :func:`evaluation.engine.criteria.appraise` and
    :func:`~evaluation.engine.criteria.unit_totals`: each applicable criterion's points
    (achievement × maximum) rounded as ``precision.stages.criterion`` says; ratio = earned ÷
    applicable maximum; each criterion that does not apply credited ratio × its maximum, rounded
    alike; the appraisal, their sum, rounded as ``precision.stages.total`` says.
    """
    stages = y.stages
    app = y.line_app[:, None]
    shape = np.broadcast_shapes(maxima.shape, achievement.shape)
    maxima = np.broadcast_to(maxima, shape)
    points = np.where(app, round_values(achievement * maxima, stages.criterion), 0.0)
    earned = _unit_sum(y, points)
    app_max = _unit_sum(y, np.where(app, maxima, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(app_max > 0, earned / app_max, np.nan)
    credited = np.where(app, 0.0, round_values(ratio[y.line_unit] * maxima, stages.criterion))
    # A unit with no applicable criterion has no ratio: its credits, hence its appraisal, are missing.
    return round_values(_unit_sum(y, points + credited), stages.total)


# -- the declared values as factors ------------------------------------------------------------------


@dataclass
class _Factor:
    """One declared value, with its ``N`` draws."""

    id: str
    kind: str
    label: str
    span: str
    note: str
    vary: object
    values: np.ndarray | None = None        # per draw: criterion position t, rounding index, bound, replicate
    lines: np.ndarray | None = None         # criterion_max: lines it sets; survey: lines it rescores
    line_lo: np.ndarray | None = None
    line_hi: np.ndarray | None = None
    ratios: np.ndarray | None = None        # survey: draws × bootstrapped lines
    rows: np.ndarray | None = None          # up_to: adjustment rows it varies
    amounts: np.ndarray | None = None       # up_to: draws × rows


def _decimals_text(value: Decimal | float) -> str:
    return fmt_bound(Decimal(str(value)))


def _label(v, rules: Rules) -> tuple[str, str]:
    """(label, span) in Vietnamese for a declaration."""
    if isinstance(v, VaryCriterionMax):
        label = f"Điểm tối đa tiêu chí {v.criterion}"
        having = [cs.id for cs in rules.criteria_sets if v.criterion in {c.code for c in cs.criteria}]
        if v.sets and set(v.sets) != set(having):  # name the sets only when not all of them vary
            label += " (" + ", ".join(rules.criteria_set(s).label for s in v.sets) + ")"
        span = (f"{_decimals_text(v.min)}–{_decimals_text(v.max)} điểm" if v.spread is None
                else f"±{_decimals_text(v.spread * 100)}% so với quy định")
        return v.label or label, span
    if isinstance(v, VaryRounding):
        parts = []
        for a in v.alternatives:
            d = rules.precision.decimals if a.decimals is None else a.decimals
            parts.append(ROUNDING_NAMES[a.rounding] + ("" if d == rules.precision.decimals else f" ({d} chữ số)"))
        return v.label or "Cách làm tròn điểm đánh giá", "; ".join(parts)
    if isinstance(v, VaryTierMin):
        return (v.label or f"Ngưỡng «{rules.tier(v.tier).short}»",
                f"từ {_decimals_text(v.min)} đến {_decimals_text(v.max)} điểm")
    if isinstance(v, VarySurvey):
        criteria = list(dict.fromkeys(rules.survey(s).criterion for s in v.surveys))
        label = (f"Mẫu «{rules.survey(v.surveys[0]).name}»" if len(v.surveys) == 1
                 else "Mẫu phiếu đánh giá tiêu chí " + ", ".join(criteria))
        return (v.label or label,
                "chọn lại phiếu của từng đơn vị (có hoàn lại, theo loại người chấm)")
    assert isinstance(v, VaryUpTo)
    kinds = {it.code: it.kind for it in rules.adjustments.items}
    word = {"bonus": "Điểm thưởng", "penalty": "Điểm trừ"}
    present = sorted({kinds[c] for c in v.items})
    label = (word[present[0]] if len(present) == 1 else "Điểm thưởng, điểm trừ") + " «tối đa» " + ", ".join(v.items)
    return v.label or label, "mỗi lần từ 0 đến mức tối đa"


def _factors(y: _Year, u: Uncertainty, rng: np.random.Generator, n: int) -> tuple[list[_Factor], pd.DataFrame]:
    """The declared values that apply to the year, with their draws; and those that do not, with why."""
    rules = y.ev.rules
    factors: list[_Factor] = []
    skipped = []
    k = 0
    for v in u.vary:
        label, span = _label(v, rules)
        if v.kind in DETAIL_KINDS and not y.detailed:
            skipped.append({"label": label, "span": span, "reason": _not_detailed(y.ev)})
            continue
        if isinstance(v, VarySurvey) and "survey" not in y.ev.inputs.tables:
            skipped.append({"label": label, "span": span, "reason": "năm không có phiếu đánh giá"})
            continue
        k += 1
        f = _Factor(f"f{k}", v.kind, label, span, v.note or "", v)
        if isinstance(v, VaryCriterionMax):
            sets = set(v.sets) or {cs.id for cs in rules.criteria_sets
                                   if v.criterion in {c.code for c in cs.criteria}}
            f.lines = np.flatnonzero((y.line_criterion == v.criterion) & np.isin(y.line_set, list(sets)))
            nominal = y.line_max[f.lines]
            if v.spread is None:
                f.line_lo, f.line_hi = np.full(len(nominal), float(v.min)), np.full(len(nominal), float(v.max))
            else:
                s = float(v.spread)
                f.line_lo, f.line_hi = nominal * (1 - s), nominal * (1 + s)
            f.values = _stratified(rng, n)
        elif isinstance(v, VaryRounding):
            f.values = _stratified_index(rng, n, len(v.alternatives))
        elif isinstance(v, VaryTierMin):
            step = Decimal(1).scaleb(-_coarsest(rules, u))
            grid = int((v.max - v.min) / step) + 1
            f.values = np.array([float(v.min + step * j) for j in range(grid)])[_stratified_index(rng, n, grid)]
        elif isinstance(v, VarySurvey):
            f.lines, f.ratios = _bootstrap_lines(y, v.surveys, n, rng)
            f.values = np.arange(n)
        else:
            f.rows, f.amounts = _up_to_draws(y, v, n, rng)
        factors.append(f)
    return factors, pd.DataFrame(skipped, columns=["label", "span", "reason"])


def _not_detailed(ev: Evaluation) -> str:
    """Why a year without points by criterion cannot vary criteria, surveys or bonus/penalty (Vietnamese)."""
    if "periods" in ev.inputs.tables:
        return ("năm có điểm theo kỳ, không có điểm theo tiêu chí, phiếu đánh giá hay từng mục thưởng, trừ "
                "để tính lại")
    return "năm chỉ có điểm cuối cùng đã công bố, không có điểm từng phần để tính lại"


def _coarsest(rules: Rules, u: Uncertainty) -> int:
    """Decimals of the coarsest published grid among the rounding alternatives: bounds lie on every grid."""
    decimals = [rules.precision.decimals]
    for v in u.vary:
        if isinstance(v, VaryRounding):
            decimals += [a.decimals for a in v.alternatives if a.decimals is not None]
    return min(decimals)


def _forms(ev: Evaluation, surveys: list[str]) -> pd.DataFrame:
    """Every form of ``surveys`` (one rater's answers about one unit), sorted by survey, unit, kind of rater."""
    forms = survey_forms(ev.inputs.tables["survey"].table, questions_frame(ev.rules))
    forms = forms[forms["survey"].astype("string").isin(surveys)]
    frame = pd.DataFrame({"survey": forms["survey"].astype("string").to_numpy(),
                          "unit_id": forms["unit_id"].astype("string").to_numpy(),
                          "rater_kind": forms["rater_kind"].astype("string").to_numpy(),
                          "mean": forms["mean"].to_numpy(dtype="float64")})
    return frame.sort_values(["survey", "unit_id", "rater_kind"], kind="stable").reset_index(drop=True)


def _survey_groups(y: _Year, surveys: list[str]):
    """Lines scored by ``surveys`` whose points follow the mean (applicable, not zeroed), and their forms."""
    ev = y.ev
    forms = _forms(ev, surveys)
    below = surveys_frame(ev.rules).drop_duplicates("survey").set_index("survey")
    survey = ev.detail.survey
    # Lines whose points are the formula's: applicable, and not set to zero for too few forms.
    flagged = survey.set_index(["unit_id", "criterion"])["flag"]
    key = pd.MultiIndex.from_arrays([y.ids[y.line_unit], y.line_criterion])
    flag = flagged.reindex(key, fill_value=False).to_numpy(dtype=bool)
    zeroed = flag & (pd.Series(y.line_survey).map(below["below_minimum"]).to_numpy() == "zero")
    lines = np.flatnonzero(np.isin(y.line_survey, surveys) & y.line_app & ~zeroed)
    pair = pd.MultiIndex.from_arrays([y.line_survey[lines], y.ids[y.line_unit[lines]]])
    fpair = pd.MultiIndex.from_frame(forms[["survey", "unit_id"]])
    # Forms of the lines' (survey, unit) only, each group a run of consecutive forms.
    forms = forms[fpair.isin(pair)].reset_index(drop=True)
    fpair = pd.MultiIndex.from_frame(forms[["survey", "unit_id"]])
    groups = pd.MultiIndex.from_arrays([forms["survey"], forms["unit_id"]]).drop_duplicates()
    lines = lines[pair.isin(groups)]
    pair = pd.MultiIndex.from_arrays([y.line_survey[lines], y.ids[y.line_unit[lines]]])
    g_of_line = groups.get_indexer(pair)
    cells = pd.MultiIndex.from_frame(forms[["survey", "unit_id", "rater_kind"]])
    cell = pd.factorize(cells)[0]
    group = groups.get_indexer(fpair)
    spec = below.loc[[s for s, _ in groups]]
    return lines, g_of_line, forms["mean"].to_numpy(), cell, group, spec


def _bootstrap_lines(y: _Year, surveys: list[str], n: int, rng: np.random.Generator):
    """Lines rescored by a survey factor and their achievement in each of ``n`` bootstrap draws."""
    lines, g_of_line, values, cell, group, spec = _survey_groups(y, surveys)
    # Each drawn mean is rounded as the published mean is (precision.stages.survey).
    means = round_values(bootstrap_means(values, cell, group, n, rng), y.stages.survey)
    ratio = survey_ratio(means, spec["scale_min"].to_numpy(float), spec["scale_max"].to_numpy(float),
                         spec["formula"].to_numpy())
    return lines, ratio[:, g_of_line]


def _up_to_draws(y: _Year, v: VaryUpTo, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Adjustment rows of the items and an amount for each in each draw: 0 to the row's maximum."""
    table = y.ev.inputs.tables.get("adjustments")
    if table is None or not len(table.table):
        return np.zeros(0, np.int64), np.zeros((n, 0))
    items = table.table
    cat = items_frame(y.ev.rules).set_index("item")
    rows = np.flatnonzero(items["item"].astype("string").isin(v.items).to_numpy())
    it = items["item"].astype("string").to_numpy(dtype=object)[rows]
    count = items["count"].astype("float64").fillna(1.0).to_numpy()[rows]
    up_to = cat["up_to"].reindex(it).to_numpy(dtype="float64")
    top = np.where(np.isnan(up_to), cat["cap"].reindex(it).to_numpy(dtype="float64"), up_to * count)
    # Latin hypercube per row: every column's n draws spread over [0, 1) in random order.
    u = (np.argsort(rng.random((n, len(rows))), axis=0) + rng.random((n, len(rows)))) / n
    return rows, u * top


def _published(rules: Rules, a) -> Precision:
    """The rules' precision with a rounding alternative for the published score; the stages before it kept."""
    return rules.precision.model_copy(update={
        "decimals": rules.precision.decimals if a.decimals is None else a.decimals, "rounding": a.rounding})


# -- one batch of scenarios ------------------------------------------------------------------------


@dataclass
class _Batch:
    final: np.ndarray        # units × draws
    level: np.ndarray        # units × draws, index of the tier (0 = best)
    score: np.ndarray        # units × draws, published
    rank: np.ndarray | None  # units × draws


def _scores(y: _Year, active: list[_Factor], n: int) -> np.ndarray:
    """Units × draws final scores with the ``active`` factors drawn, the rest as published."""
    rescore = [f for f in active if f.kind in DETAIL_KINDS]
    if not rescore:
        # Nothing rescored: every scenario is the unvaried one (for a year scored from its parts, as the
        # scenarios' own arithmetic gives it; _year checked it is the published final score).
        return np.broadcast_to((y.nominal if y.detailed else y.final[:, None]), (len(y.ids), n))
    crit = [f for f in rescore if f.kind == "criterion_max"]
    maxima = (_maxima(y, crit, np.arange(n)) if crit
              else np.broadcast_to(y.line_max[:, None], (len(y.line_max), n)))
    achievement = y.line_ach[:, None]
    surveys = [f for f in rescore if f.kind == "survey"]
    if surveys:
        achievement = np.repeat(achievement, n, axis=1)
        for f in surveys:
            achievement[f.lines] = f.ratios.T
    appraisal = _appraisal(y, maxima, achievement)
    adjustments = _adjustments(y, [f for f in rescore if f.kind == "up_to"], n)
    return _final(y, appraisal, adjustments, n)


def _maxima(y: _Year, crit: list[_Factor], draws: np.ndarray) -> np.ndarray:
    """Lines × ``draws`` maxima: the declared criteria at their drawn values, the others of the set rescaled.

    The other criteria of the unit's set share what is left of the set's total in their proportions
    (all of them scaled alike when every criterion of the set is declared).
    """
    maxima = np.repeat(y.line_max[:, None], len(draws), axis=1)
    declared = np.zeros(len(y.line_max), dtype=bool)
    for f in crit:
        t = f.values[draws]
        maxima[f.lines] = f.line_lo[:, None] + t[None, :] * (f.line_hi - f.line_lo)[:, None]
        declared[f.lines] = True
    total = _unit_sum(y, y.line_max[:, None])
    fixed = _unit_sum(y, np.where(declared[:, None], maxima, 0.0))
    others = _unit_sum(y, np.where(declared, 0.0, y.line_max)[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale_others = np.where(others > 0, (total - fixed) / others, 1.0)
        scale_all = np.where(others > 0, 1.0, total / fixed)
    return np.where(declared[:, None], maxima, maxima * scale_others[y.line_unit]) * scale_all[y.line_unit]


def _adjustments(y: _Year, factors: list[_Factor], n: int) -> dict[str, np.ndarray]:
    """Bonus and penalty (raw and capped), units × draws, by the engine's :func:`adjust`."""
    nominal = {c: np.broadcast_to(y.adjustments[c].to_numpy(dtype="float64")[:, None], (len(y.ids), n))
               for c in ("bonus_raw", "bonus", "penalty_raw", "penalty")}
    factors = [f for f in factors if len(f.rows)]
    if not factors:
        return nominal
    items = y.ev.inputs.tables["adjustments"].table
    unit = y.ids.get_indexer(items["unit_id"].astype("string"))
    amount = np.repeat(items["amount"].astype("float64").to_numpy()[:, None], n, axis=1)
    for f in factors:
        amount[f.rows] = f.amounts.T
    r = len(items)
    # Every row once per draw; a scenario's unit is the pseudo-unit unit × n + draw.
    stacked = pd.DataFrame({
        "unit_id": (np.repeat(unit, n) * n + np.tile(np.arange(n), r)),
        "item": np.repeat(items["item"].astype("string").to_numpy(dtype=object), n),
        "count": np.repeat(items["count"].astype("float64").to_numpy(), n),
        "amount": amount.reshape(-1),
    })
    _, per_item, _ = adjust(stacked, items_frame(y.ev.rules), y.stages)
    per_unit = unit_adjustments(per_item, y.stages)
    out = {}
    for c in nominal:
        full = np.zeros(len(y.ids) * n)
        full[per_unit.index.to_numpy(dtype=np.int64)] = per_unit[c].to_numpy(dtype="float64")
        out[c] = full.reshape(len(y.ids), n)
    return out


def _final(y: _Year, appraisal: np.ndarray, adj: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Final scores, units × draws, by the engine's arithmetic (:func:`~evaluation.engine.score.final_scores`)."""
    s = y.ev.rules.scale
    *_, final = final_scores(appraisal, adj["bonus"], adj["penalty"], appraisal_max=float(s.appraisal_max),
                             adjustment_max=float(s.adjustment_max), score_min=float(s.score_min),
                             score_max=float(s.score_max), bound=y.ev.rules.adjustments.bound,
                             total=y.stages.total)
    return final


def _classify(y: _Year, final: np.ndarray, active: list[_Factor], n: int, ranks: bool) -> _Batch:
    """Published score, tier (conditions and quotas counted within each scenario) and rank, units × draws."""
    ev, rules = y.ev, y.ev.rules
    nu = len(y.ids)
    mins = np.tile(np.array([float(t.min) for t in rules.tiers]), (n, 1))   # draws × tiers
    precisions = [rules.precision]
    which = np.zeros(n, dtype=np.int64)
    for f in active:
        if f.kind == "tier_min":
            mins[:, rules.tier_ids.index(f.vary.tier)] = f.values
        elif f.kind == "rounding":
            precisions = [_published(rules, a) for a in f.vary.alternatives]
            which = f.values
    scored = ev.scores
    frame = pd.DataFrame({
        "unit_id": np.repeat(scored["unit_id"].astype("string").to_numpy(dtype=object), n),
        "group": np.repeat(scored["group"].astype("string").to_numpy(dtype=object), n),
        "input_order": np.repeat(scored["input_order"].to_numpy(dtype="int64"), n),
        "scenario": np.tile(np.arange(n), nu),
        "final_score": np.ascontiguousarray(final).reshape(-1),
        "_pos": np.arange(nu * n),
    })
    if "self_score" in scored:  # a quota's tie-break may read it (self score, gap): as the unit gave it
        frame["self_score"] = np.repeat(scored["self_score"].to_numpy(dtype="float64", na_value=np.nan), n)
    conditions = ev.inputs.tables["conditions"].table if "conditions" in ev.inputs.tables else None
    level = np.empty(nu * n, dtype=np.int64)
    score = np.empty(nu * n)
    parts = []
    for a, precision in enumerate(precisions):   # a loop over the rounding alternatives, not over rows
        rows = np.flatnonzero(np.tile(which == a, nu))
        if not len(rows):
            continue
        part = classify(frame.iloc[rows], rules.model_copy(update={"precision": precision}), conditions,
                        within="scenario", mins=mins[frame["scenario"].to_numpy()[rows]])
        level[rows] = pd.Categorical(part["tier"], categories=rules.tier_ids).codes
        score[rows] = part["score"].to_numpy(dtype="float64")
        parts.append(part)
    rank_out = None
    if ranks:
        ranked = rank(pd.concat(parts), rules, within="scenario")
        rank_out = np.empty(nu * n, dtype=np.int64)
        rank_out[ranked["_pos"].to_numpy()] = ranked["rank"].to_numpy()
        rank_out = rank_out.reshape(nu, n)
    return _Batch(final, level.reshape(nu, n), score.reshape(nu, n), rank_out)


# -- the analysis ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sensitivity:
    """The results of :func:`analyse`.

    Attributes
    ----------
    name : str
        The declaration's name.
    draws, seed : int
    factors : pandas.DataFrame
        One row per declared value that applies to the year: ``factor`` (``f1``…), ``kind``,
        ``label`` and ``span`` (Vietnamese), ``note``, ``units_moved`` (units whose tier changes in
        some scenario when it alone varies), ``units_unstable`` (… in more than 5 % of them) and
        ``score_sd`` (the largest standard deviation of a unit's final score when it alone varies).
    skipped : pandas.DataFrame
        Declared values that do not apply to the year (``label``, ``span``, ``reason``).
    units : pandas.DataFrame
        One row per unit, in the report's order: ``unit_id``, ``unit``, ``group``, ``score``,
        ``tier``, ``rank`` (published), ``share_<tier>`` for every tier, ``stability``, ``stable``
        (stability ≥ 95 %), ``rank_low``, ``rank_median``, ``rank_high``, ``score_low``,
        ``score_high`` (published score, central 95 %), ``driver`` (factor id or missing),
        ``driver_label``, ``driver_flips`` (share of one-at-a-time scenarios with another tier).
    flips, spread : pandas.DataFrame
        Units (index ``unit_id``) × factors: under each value varied alone, the share of scenarios in
        which the unit's tier differs from the published one, and the standard deviation of its final score.
    scenarios : pandas.DataFrame
        Every unit in every scenario: ``scenario``, ``unit_id``, ``final_score``, ``score``, ``tier``, ``rank``.
    values : pandas.DataFrame
        Scenario × factor: the value drawn (a criterion's position in its range from 0 to 1, a bound,
        the rounding alternative, the bootstrap replicate; blank for rows drawn one by one).
    """

    name: str
    draws: int
    seed: int
    factors: pd.DataFrame
    skipped: pd.DataFrame
    units: pd.DataFrame
    flips: pd.DataFrame
    spread: pd.DataFrame
    scenarios: pd.DataFrame
    values: pd.DataFrame
    level: float = LEVEL
    _factors: list = field(default_factory=list, repr=False)
    _year: object = field(default=None, repr=False)

    @property
    def total(self) -> int:
        return len(self.units)

    @property
    def stable(self) -> int:
        """Units keeping their published tier in at least 95 % of the scenarios."""
        return int(self.units["stable"].sum())

    @property
    def unstable(self) -> pd.DataFrame:
        """The units that are not tier-stable, least stable first."""
        out = self.units[~self.units["stable"]]
        return out.sort_values(["stability", "order_in_report"], kind="stable")

    @property
    def varies(self) -> bool:
        """Whether any declared value applies to the year."""
        return len(self.factors) > 0

    def scenario(self, k: int) -> dict:
        """What scenario ``k`` takes for each declared value, to look at it or to run it through the engine.

        Returns
        -------
        dict
            ``precision`` (:class:`~evaluation.inputs.rules.Precision` or None when the rounding does not
            vary), ``mins`` (tier id → lower bound, the bounds that vary), ``maxima`` (criteria set,
            criterion → maximum, every criterion of a set whose maxima vary), ``amounts`` (row of the
            adjustments input → amount, the rows that vary) and ``bootstrap`` (factor id → replicate).
        """
        y: _Year = self._year
        out: dict = {"precision": None, "mins": {}, "maxima": {}, "amounts": {}, "bootstrap": {}}
        active = list(self._factors)
        for f in active:
            if f.kind == "rounding":
                a = f.vary.alternatives[f.values[k]]
                rules = y.ev.rules
                out["precision"] = _published(rules, a)
            elif f.kind == "tier_min":
                out["mins"][f.vary.tier] = float(f.values[k])
            elif f.kind == "up_to":
                rows = y.ev.inputs.tables["adjustments"].table["_row"].to_numpy()
                out["amounts"].update({int(rows[r]): float(f.amounts[k, j]) for j, r in enumerate(f.rows)})
            elif f.kind == "survey":
                out["bootstrap"][f.id] = int(f.values[k])
        crit = [f for f in active if f.kind == "criterion_max"]
        if crit:
            maxima = _maxima(y, crit, np.array([k]))[:, 0]
            touched = np.isin(y.line_set, [y.line_set[line] for f in crit for line in f.lines])
            out["maxima"] = {(s, c): float(m) for s, c, m in zip(y.line_set[touched], y.line_criterion[touched],
                                                                 maxima[touched], strict=True)}
        return out


def analyse(ev: Evaluation, declaration: Uncertainty | None = None, *, draws: int | None = None,
            seed: int | None = None) -> Sensitivity:
    """Score and classify the year in ``draws`` scenarios of its declared uncertainty.

    Parameters
    ----------
    ev : Evaluation
    declaration : Uncertainty, optional
        Default: the one the year's params name (none: nothing varies).  Checked against the rules.
    draws, seed : int, optional
        Default: the declaration's.

    Returns
    -------
    Sensitivity

    Raises
    ------
    InputError
        The declaration does not fit the year's rules (every problem, with its place).
    """
    rules = ev.rules
    if declaration is None:
        declaration = ev.inputs.uncertainty
    if declaration is None:
        declaration = Uncertainty(name="Không khai báo giá trị nào thay đổi")
    declaration = checked_uncertainty(declaration, rules)
    n = draws or declaration.draws
    seed = declaration.seed if seed is None else seed
    if n < 1:
        raise ValueError(f"draws must be ≥ 1, not {n}")
    rng = np.random.default_rng(seed)
    y = _year(ev)
    factors, skipped = _factors(y, declaration, rng, n)

    published = ev.ranked.set_index("unit_id").loc[y.ids]
    index = {t: i for i, t in enumerate(rules.tier_ids)}
    pub_level = published["tier"].map(index).to_numpy(dtype=np.int64)
    joint = _classify(y, _scores(y, factors, n), factors, n, ranks=True)

    flips = np.zeros((len(y.ids), len(factors)))
    spread = np.zeros((len(y.ids), len(factors)))
    for j, f in enumerate(factors):  # one at a time: a loop over the declared values
        final = _scores(y, [f], n)
        alone = _classify(y, final, [f], n, ranks=False)
        flips[:, j] = (alone.level != pub_level[:, None]).mean(axis=1)
        if f.kind in DETAIL_KINDS:  # bounds and rounding leave the final score as it is
            spread[:, j] = final.std(axis=1)

    units = _units(ev, y, published, joint, pub_level, flips, spread, factors)
    ids = pd.Index(y.ids, name="unit_id")
    columns = [f.id for f in factors]
    factor_table = pd.DataFrame({
        "factor": columns, "kind": [f.kind for f in factors], "label": [f.label for f in factors],
        "span": [f.span for f in factors], "note": [f.note for f in factors],
        "units_moved": (flips > 0).sum(axis=0).astype("int64"),
        "units_unstable": (flips > 1 - LEVEL).sum(axis=0).astype("int64"),
        "score_sd": spread.max(axis=0, initial=0.0) if len(factors) else np.zeros(0),
    })
    tier_ids = np.array(rules.tier_ids, dtype=object)
    scenarios = pd.DataFrame({
        "scenario": np.tile(np.arange(n), len(y.ids)),
        "unit_id": np.repeat(y.ids.to_numpy(dtype=object), n),
        "final_score": np.ascontiguousarray(joint.final).reshape(-1),
        "score": joint.score.reshape(-1),
        "tier": tier_ids[joint.level.reshape(-1)],
        "rank": joint.rank.reshape(-1),
    }).astype({"unit_id": "string", "tier": "string"})
    values = pd.DataFrame({f.id: (f.values if f.values is not None else np.full(n, np.nan)) for f in factors},
                          index=pd.RangeIndex(n, name="scenario"))
    return Sensitivity(declaration.name, n, seed, factor_table, skipped, units,
                       pd.DataFrame(flips, index=ids, columns=columns), pd.DataFrame(spread, index=ids, columns=columns),
                       scenarios, values, LEVEL, factors, y)


def _units(ev: Evaluation, y: _Year, published: pd.DataFrame, joint: _Batch, pub_level: np.ndarray,
           flips: np.ndarray, spread: np.ndarray, factors: list[_Factor]) -> pd.DataFrame:
    rules = ev.rules
    out = pd.DataFrame({"unit_id": y.ids, "unit": published["unit"].to_numpy(),
                        "group": published["group"].to_numpy(), "score": published["score"].to_numpy(),
                        "tier": published["tier"].to_numpy(), "rank": published["rank"].to_numpy()})
    for i, t in enumerate(rules.tier_ids):
        out[f"share_{t}"] = (joint.level == i).mean(axis=1)
    out["stability"] = (joint.level == pub_level[:, None]).mean(axis=1)
    out["stable"] = out["stability"] >= LEVEL - 1e-12
    lo, mid, hi = np.quantile(joint.rank, QUANTILES, axis=1, method="inverted_cdf")
    out["rank_low"], out["rank_median"], out["rank_high"] = lo.astype("int64"), mid.astype("int64"), hi.astype("int64")
    s_lo, _, s_hi = np.quantile(joint.score, QUANTILES, axis=1, method="inverted_cdf")
    out["score_low"], out["score_high"] = s_lo, s_hi
    if factors:
        # The most tier changes first (steps of 1/draws ≥ 10⁻⁵); then the largest spread of the final score.
        key = flips * 1e9 + np.minimum(spread, 1e3)
        best = key.argmax(axis=1)
        moved = key.max(axis=1) > 0
        ids = np.array([f.id for f in factors], dtype=object)
        labels = np.array([f.label for f in factors], dtype=object)
        out["driver"] = pd.array(np.where(moved, ids[best], None), dtype="string")
        out["driver_label"] = pd.array(np.where(moved, labels[best], None), dtype="string")
        out["driver_flips"] = np.where(moved, flips[np.arange(len(best)), best], 0.0)
    else:
        out["driver"] = pd.array([None] * len(out), dtype="string")
        out["driver_label"] = pd.array([None] * len(out), dtype="string")
        out["driver_flips"] = 0.0
    # In the report's order (groups as in the rules, score descending).
    order = ev.ranked[["unit_id"]].reset_index(drop=True).reset_index(names="order_in_report")
    out = out.merge(order.astype({"unit_id": "string"}), on="unit_id", how="left")
    return out.sort_values("order_in_report", kind="stable").reset_index(drop=True)


def survey_intervals(ev: Evaluation, *, draws: int | None = None, seed: int | None = None,
                     level: float = LEVEL) -> pd.DataFrame | None:
    """The sampling interval of every unit's points on each survey criterion (bootstrap of its forms).

    Each unit's forms are drawn again with replacement within each kind of rater (as :func:`analyse`
    does), ``draws`` times; the interval is the central ``level`` of the points the drawn means give,
    at the rules' maxima.  Defaults: the declaration's draws and seed, else 1,000 and 0.

    Returns
    -------
    pandas.DataFrame or None
        ``unit_id``, ``criterion``, ``survey``, ``forms``, ``points``, ``low``, ``high``; None when
        the year has no survey.  Criteria that do not count (too few forms) have no interval.
    """
    if ev.detail is None or ev.detail.survey is None or "survey" not in ev.inputs.tables:
        return None
    u = ev.inputs.uncertainty
    n = draws or (u.draws if u else DEFAULT_DRAWS)
    seed = (u.seed if u else DEFAULT_SEED) if seed is None else seed
    y = _year(ev)
    surveys = [s.id for s in ev.rules.surveys]
    lines, ratios = _bootstrap_lines(y, surveys, n, np.random.default_rng(seed))
    points = round_values(ratios * y.line_max[lines][None, :], y.stages.criterion)
    tail = (1 - level) / 2
    # Quantiles that are drawn values (as the ranks and scores of analyse): points at the criterion precision.
    lo, hi = np.quantile(points, [tail, 1 - tail], axis=0, method="inverted_cdf")
    forms = ev.detail.survey.set_index(["unit_id", "criterion"])["forms"]
    key = pd.MultiIndex.from_arrays([y.ids[y.line_unit[lines]], y.line_criterion[lines]])
    return pd.DataFrame({
        "unit_id": y.ids[y.line_unit[lines]], "criterion": y.line_criterion[lines].astype(str),
        "survey": y.line_survey[lines].astype(str), "forms": forms.reindex(key).to_numpy(),
        "points": ev.detail.lines.set_index(["unit_id", "criterion"])["points"].reindex(key).to_numpy(),
        "low": lo, "high": hi,
    }).astype({"unit_id": "string", "criterion": "string", "survey": "string"})
