"""Stage: survey forms (phiếu đánh giá) → criterion points, with the minimum-response flag.

One form is one rater's answers about one unit in one survey.  Each form's
answers are averaged first, so every form weighs the same however many
questions it answered; the unit's mean is the mean of its forms.  The rules'
formula turns the mean into points:

* ``mean_over_max``: mean ÷ scale maximum × criterion maximum;
* ``mean_min_max``: (mean − scale minimum) ÷ (scale maximum − minimum) × criterion maximum.

A unit with fewer forms than the survey's ``min_responses`` is *flagged*, and
the survey's ``below_minimum`` decides what the criterion counts: not applicable
(prorated), zero, or the score anyway.  It is never scored silently.

All functions are vectorised over the responses (groupby on categorical codes)
and take DataFrames only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .precision import round_values

__all__ = ["score_survey", "survey_forms", "survey_ratio", "response_counts", "answer_distribution"]


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and their labels; a categorical column is used as is (no re-hashing of strings)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype=np.int64), values.cat.categories
    codes, labels = pd.factorize(values)
    return codes.astype(np.int64, copy=False), pd.Index(labels)


def _survey_codes(responses: pd.DataFrame, questions: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """The survey of each answer (as codes into the returned survey ids), from its question."""
    qc, qlabels = _codes(responses["question"])
    names = pd.Index(pd.unique(questions["survey"]))
    survey_of = pd.Series(questions["survey"].to_numpy(), index=questions["question"].to_numpy())
    # One extra slot at the end: a question the rules do not know (code -1) has no survey.
    q_to_s = np.append(names.get_indexer(survey_of.reindex(qlabels).to_numpy()), -1)
    return q_to_s[qc], names


def survey_forms(responses: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    """One row per form (survey × unit rated × rater kind × rater): ``answers`` and ``mean``.

    The four keys are combined into one int64 per answer, so the grouping is a
    single factorize and two ``bincount`` — linear in the number of answers.
    Key columns may be categorical (recommended at national size: their codes
    are used directly).
    """
    sc, names = _survey_codes(responses, questions)
    uc, ulabels = _codes(responses["unit_id"])
    kc, klabels = _codes(responses["rater_kind"])
    rc, rlabels = _codes(responses["rater"])
    answer = responses["answer"].to_numpy(dtype="float64")
    ok = (sc >= 0) & (uc >= 0) & (kc >= 0) & (rc >= 0) & ~np.isnan(answer)
    nu, nk, nr = max(len(ulabels), 1), max(len(klabels), 1), max(len(rlabels), 1)
    key = ((sc[ok] * nu + uc[ok]) * nk + kc[ok]) * nr + rc[ok]
    form, keys = pd.factorize(key)
    n = np.bincount(form, minlength=len(keys))
    total = np.bincount(form, weights=answer[ok], minlength=len(keys))
    r, rest = np.divmod(keys, nr)[::-1]
    k, rest = np.divmod(rest, nk)[::-1]
    u, s = np.divmod(rest, nu)[::-1]
    return pd.DataFrame({
        "survey": pd.Categorical.from_codes(s, categories=names),
        "unit_id": pd.Categorical.from_codes(u, categories=ulabels),
        "rater_kind": pd.Categorical.from_codes(k, categories=klabels),
        "rater": pd.Categorical.from_codes(r, categories=rlabels),
        "answers": n.astype("int64"),
        "mean": total / n,
    })


def survey_ratio(mean: np.ndarray, lo: np.ndarray, hi: np.ndarray, formula: np.ndarray) -> np.ndarray:
    """The share of the criterion's maximum a mean answer earns, by the rules' formula.

    ``mean_over_max``: mean ÷ scale maximum; ``mean_min_max``: (mean − minimum) ÷ (maximum − minimum).
    Arrays broadcast, so a matrix of resampled means (the sensitivity analysis) works as one mean does.
    """
    return np.where(formula == "mean_min_max", (mean - lo) / (hi - lo), mean / hi)


def score_survey(forms: pd.DataFrame, surveys: pd.DataFrame, sets: pd.DataFrame,
                 catalogue: pd.DataFrame, precision=None) -> pd.DataFrame:
    """Criterion points of every unit rated by a survey.

    Parameters
    ----------
    forms : pandas.DataFrame
        :func:`survey_forms` of the checked answers.
    surveys : pandas.DataFrame
        :func:`evaluation.inputs.catalogue.surveys_frame`: one row per (survey,
        criteria set) with ``criterion``, ``scale_min``, ``scale_max``,
        ``formula``, ``min_responses``, ``below_minimum``.
    sets : pandas.DataFrame
        ``unit_id``, ``criteria_set`` of every unit evaluated.
    catalogue : pandas.DataFrame
        :func:`evaluation.inputs.catalogue.criteria_frame` (for the criteria's maxima).
    precision : Stages, optional
        The rules' ``precision.stages``: the mean answer is rounded as ``survey`` says, then the
        points from it as ``criterion`` says ("TB 4,62/5 → 9,24").

    Returns
    -------
    pandas.DataFrame
        A new table, one row per unit × survey that rates it (units with no
        form included, with 0 forms): ``unit_id``, ``criteria_set``,
        ``survey``, ``criterion``, ``forms``, ``answers``, ``mean``,
        ``ratio``, ``max_points``, ``points`` (NaN when it does not count),
        ``applicable``, ``flag`` (fewer forms than ``min_responses``),
        ``min_responses``, ``scale_max``.
    """
    su = forms["survey"].cat.codes.to_numpy(np.int64) * max(len(forms["unit_id"].cat.categories), 1) \
        + forms["unit_id"].cat.codes.to_numpy(np.int64)
    group, firsts = pd.factorize(su)
    first = np.zeros(len(firsts), dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]      # first form of each (survey, unit)
    n = np.bincount(group, minlength=len(firsts))
    per_unit = pd.DataFrame({
        "survey": forms["survey"].to_numpy()[first].astype(str),
        "unit_id": forms["unit_id"].to_numpy()[first].astype(str),
        "forms": n,
        "answers": np.bincount(group, weights=forms["answers"].to_numpy(), minlength=len(firsts)).astype("int64"),
        "mean": np.bincount(group, weights=forms["mean"].to_numpy(), minlength=len(firsts)) / n,
    }).astype({"survey": "string", "unit_id": "string"})

    grid = sets[["unit_id", "criteria_set"]].astype({"unit_id": "string", "criteria_set": "string"}).merge(
        surveys.astype({"criteria_set": "string", "survey": "string"}), on="criteria_set", sort=False)
    grid = grid.merge(catalogue[["criteria_set", "criterion", "max_points"]].astype(
        {"criteria_set": "string", "criterion": "string"}), on=["criteria_set", "criterion"], sort=False)
    grid = grid.merge(per_unit, on=["survey", "unit_id"], how="left", sort=False)
    grid["forms"] = grid["forms"].fillna(0).astype("int64")
    grid["answers"] = grid["answers"].fillna(0).astype("int64")

    mean = round_values(grid["mean"].to_numpy(dtype="float64", na_value=np.nan),
                        precision.survey if precision is not None else None)
    lo, hi = grid["scale_min"].to_numpy(dtype="float64"), grid["scale_max"].to_numpy(dtype="float64")
    ratio = survey_ratio(mean, lo, hi, grid["formula"].to_numpy())
    maxima = grid["max_points"].to_numpy(dtype="float64")
    points = round_values(ratio * maxima, precision.criterion if precision is not None else None)
    flag = grid["forms"].to_numpy() < grid["min_responses"].to_numpy()
    below = grid["below_minimum"].to_numpy()
    applicable = ~(flag & (below == "not_applicable"))
    points = np.where(flag & (below == "zero"), 0.0, points)
    points = np.where(applicable, points, np.nan)
    return pd.DataFrame({
        "unit_id": grid["unit_id"].to_numpy(), "criteria_set": grid["criteria_set"].to_numpy(),
        "survey": grid["survey"].to_numpy(), "criterion": grid["criterion"].to_numpy(),
        "forms": grid["forms"].to_numpy(), "answers": grid["answers"].to_numpy(), "mean": mean,
        "ratio": ratio, "max_points": maxima, "points": points, "applicable": applicable, "flag": flag,
        "min_responses": grid["min_responses"].to_numpy(dtype="int64"), "scale_max": hi,
    })


def response_counts(forms: pd.DataFrame) -> pd.DataFrame:
    """Forms, answers and units rated per survey × rater kind (from :func:`survey_forms`).

    Returns
    -------
    pandas.DataFrame
        ``survey``, ``rater_kind``, ``raters`` (distinct raters), ``forms``,
        ``answers``, ``units`` (distinct units rated).
    """
    g = forms.groupby(["survey", "rater_kind"], observed=True, sort=True)
    return g.agg(raters=("rater", "nunique"), forms=("mean", "size"), answers=("answers", "sum"),
                 units=("unit_id", "nunique")).reset_index().astype({"survey": "string", "rater_kind": "string"})


def answer_distribution(responses: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    """How many answers of each value per survey × rater kind (``survey``, ``rater_kind``, ``answer``, ``count``)."""
    sc, names = _survey_codes(responses, questions)
    kc, klabels = _codes(responses["rater_kind"])
    ac, alabels = _codes(responses["answer"])
    ok = (sc >= 0) & (kc >= 0) & (ac >= 0)
    nk, na = max(len(klabels), 1), max(len(alabels), 1)
    counts = np.bincount((sc[ok] * nk + kc[ok]) * na + ac[ok], minlength=len(names) * nk * na)
    key = np.flatnonzero(counts)
    rest, a = np.divmod(key, na)
    s_, k = np.divmod(rest, nk)
    out = pd.DataFrame({"survey": names.to_numpy()[s_], "rater_kind": klabels.to_numpy()[k],
                        "answer": alabels.to_numpy()[a], "count": counts[key]})
    out = out.astype({"survey": "string", "rater_kind": "string", "answer": "float64", "count": "int64"})
    return out.sort_values(["survey", "rater_kind", "answer"], kind="stable").reset_index(drop=True)
