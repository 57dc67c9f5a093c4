"""Stage: appraisal by criterion. Points per unit × criterion, "không áp dụng" prorated, totals.

A criterion that does not apply to a unit is prorated: the unit's points on
the criteria that apply are scaled up to the full maximum, i.e. the criterion
that does not apply is credited with the unit's achievement ratio on the
others.  With 54 of 60 applicable points (90 %), a 30-point criterion that does
not apply is credited 27 points and the appraisal is 81 of 90.  Self points are
prorated the same way, over the same criteria.

Everything is vectorised: one merge builds the grid of units × criteria of
their sets, one groupby makes the totals.  The functions take and return
DataFrames only (no files, no rules objects), so they run unchanged on a
province or on generated national-size data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .precision import round_values

__all__ = ["appraise", "unit_totals", "body_totals", "criterion_gaps", "gap_summary", "unevidenced"]

_LINE_COLUMNS = ["unit_id", "criteria_set", "criterion", "body", "max_points", "position", "survey",
                 "self_points", "points", "source", "applicable", "missing", "flag", "ratio",
                 "credited", "self_credited", "final_points", "self_final_points"]


def appraise(points: pd.DataFrame, catalogue: pd.DataFrame, sets: pd.DataFrame,
             survey: pd.DataFrame | None = None, precision=None) -> pd.DataFrame:
    """Points of every unit on every criterion of its set, prorated.

    Parameters
    ----------
    points : pandas.DataFrame
        Checked input, one row per (unit, criterion): ``unit_id``,
        ``criterion``, ``self_points`` and ``points`` (float, NaN when blank),
        ``points_na`` (bool: the appraisal says "không áp dụng").
    catalogue : pandas.DataFrame
        :func:`evaluation.inputs.catalogue.criteria_frame`: ``criteria_set``,
        ``criterion``, ``max_points``, ``body``, ``position``, ``survey``.
    sets : pandas.DataFrame
        ``unit_id`` and ``criteria_set`` of every unit to appraise.
    survey : pandas.DataFrame, optional
        :func:`evaluation.engine.survey.score_survey` output (``unit_id``,
        ``criterion``, ``points``, ``applicable``, ``flag``).  When given, it
        supplies the appraised points of the criteria scored by a survey.
    precision : Stages, optional
        The rules' ``precision.stages``: points, self points and credits are rounded as
        ``criterion`` says, so a unit's printed points add up to its printed appraisal.

    Returns
    -------
    pandas.DataFrame
        A new table, one row per unit × criterion of its set (set order), with
        ``applicable``, ``missing`` (no input row for a criterion the input
        must give: counted as 0 and reported by the loader), ``flag`` (survey
        below its minimum), ``ratio`` (the unit's achievement ratio on the
        applicable criteria), ``credited`` (points credited to a criterion that
        does not apply) and ``final_points`` (points counted in the appraisal:
        the points when the criterion applies, the credit otherwise); the same
        for self points.
    """
    cat = catalogue[["criteria_set", "criterion", "body", "max_points", "position", "survey"]]
    grid = sets[["unit_id", "criteria_set"]].merge(cat, on="criteria_set", how="inner", sort=False)
    given = points[["unit_id", "criterion", "self_points", "points", "points_na"]]
    grid = grid.merge(given, on=["unit_id", "criterion"], how="left", sort=False, indicator="_given")
    has_row = (grid.pop("_given") == "both").to_numpy()
    by_survey = grid["survey"].notna().to_numpy() if survey is not None else np.zeros(len(grid), bool)
    na_input = grid["points_na"].fillna(False).to_numpy(dtype=bool)
    pts = grid["points"].to_numpy(dtype="float64", na_value=np.nan)
    applicable = ~na_input
    flag = np.zeros(len(grid), dtype=bool)
    source = np.where(by_survey, "survey", "input")

    if survey is not None:
        sv = grid[["unit_id", "criterion"]].merge(
            survey[["unit_id", "criterion", "points", "applicable", "flag"]],
            on=["unit_id", "criterion"], how="left", sort=False)
        sv_points = sv["points"].to_numpy(dtype="float64", na_value=np.nan)
        sv_applicable = sv["applicable"].fillna(True).to_numpy(dtype=bool)
        pts = np.where(by_survey, sv_points, pts)
        applicable = np.where(by_survey, applicable & sv_applicable, applicable)
        flag = np.where(by_survey, sv["flag"].fillna(False).to_numpy(dtype=bool), flag)

    missing = ~has_row & ~by_survey
    # A criterion without its row counts nothing; the loader reports it, so no report is built from it.
    pts = np.where(applicable & np.isnan(pts), 0.0, pts)
    pts = np.where(applicable, pts, np.nan)
    self_pts = grid["self_points"].to_numpy(dtype="float64", na_value=np.nan)
    self_pts = np.where(applicable, self_pts, np.nan)
    crit = precision.criterion if precision is not None else None
    pts, self_pts = round_values(pts, crit), round_values(self_pts, crit)
    maxima = grid["max_points"].to_numpy(dtype="float64")

    out = pd.DataFrame({
        "unit_id": grid["unit_id"].to_numpy(), "criteria_set": grid["criteria_set"].to_numpy(),
        "criterion": grid["criterion"].to_numpy(), "body": grid["body"].to_numpy(), "max_points": maxima,
        "position": grid["position"].to_numpy(), "survey": grid["survey"].to_numpy(),
        "self_points": self_pts, "points": pts, "source": source,
        "applicable": applicable, "missing": missing, "flag": flag,
    })
    ratio, self_ratio = _ratios(out)
    out["ratio"] = ratio
    na = ~applicable
    out["credited"] = round_values(np.where(na, ratio * maxima, np.nan), crit)
    out["self_credited"] = round_values(np.where(na, self_ratio * maxima, np.nan), crit)
    out["final_points"] = np.where(na, out["credited"], pts)
    out["self_final_points"] = np.where(na, out["self_credited"], self_pts)
    return out[_LINE_COLUMNS]


def _ratios(lines: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Achievement ratio of each line's unit on its applicable criteria (appraised and self)."""
    app = lines["applicable"].to_numpy(dtype=bool)
    frame = pd.DataFrame({
        "unit_id": lines["unit_id"].to_numpy(),
        "applicable_max": np.where(app, lines["max_points"], 0.0),
        "earned": np.where(app, lines["points"], 0.0),
        "self_earned": np.where(app, lines["self_points"], np.nan),
    })
    g = frame.groupby("unit_id", sort=False)
    applicable_max = g["applicable_max"].transform("sum").to_numpy()
    earned = g["earned"].transform("sum").to_numpy()
    # Self points: the ratio needs every applicable criterion self-scored (sum with min_count).
    self_n = g["self_earned"].transform("count").to_numpy()
    app_n = pd.Series(app).groupby(frame["unit_id"].to_numpy(), sort=False).transform("sum").to_numpy()
    self_earned = g["self_earned"].transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(applicable_max > 0, earned / applicable_max, np.nan)
        self_ratio = np.where((applicable_max > 0) & (self_n == app_n), self_earned / applicable_max, np.nan)
    return ratio, self_ratio


def unit_totals(lines: pd.DataFrame, precision=None) -> pd.DataFrame:
    """Per unit: maxima, applicable maximum, points earned, ratio and the prorated appraisal.

    Sums are rounded as ``precision.total`` says (exact: the parts are no finer), which only
    removes float noise.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unit_id`` (first-appearance order): ``criteria_set``,
        ``max_total``, ``applicable_max``, ``earned``, ``self_earned``,
        ``ratio``, ``appraisal`` (= ratio × max_total = earned + credits),
        ``self_appraisal``, ``not_applicable`` (count), ``flagged`` (surveys
        below minimum), ``missing`` (criteria without a row).
    """
    app = lines["applicable"].to_numpy(dtype=bool)
    frame = pd.DataFrame({
        "unit_id": lines["unit_id"].to_numpy(),
        "criteria_set": lines["criteria_set"].to_numpy(),
        "max_total": lines["max_points"].to_numpy(),
        "applicable_max": np.where(app, lines["max_points"], 0.0),
        "earned": np.where(app, lines["points"], 0.0),
        "self_earned": lines["self_points"].where(app).to_numpy(),
        "appraisal": lines["final_points"].to_numpy(),
        "self_appraisal": lines["self_final_points"].to_numpy(),
        "not_applicable": ~app,
        "flagged": lines["flag"].to_numpy(dtype=bool),
        "missing": lines["missing"].to_numpy(dtype=bool),
    })
    g = frame.groupby("unit_id", sort=False)
    out = g.agg(criteria_set=("criteria_set", "first"), max_total=("max_total", "sum"),
                applicable_max=("applicable_max", "sum"), earned=("earned", "sum"),
                self_earned=("self_earned", "sum"), not_applicable=("not_applicable", "sum"),
                flagged=("flagged", "sum"), missing=("missing", "sum"))
    # min_count: a unit whose applicable criteria are not all scored gets no total (NaN), not a partial sum.
    n = g.size()
    out["appraisal"] = g["appraisal"].sum(min_count=1).where(g["appraisal"].count() == n)
    out["self_appraisal"] = g["self_appraisal"].sum(min_count=1).where(g["self_appraisal"].count() == n)
    out["self_earned"] = out["self_earned"].where(out["self_appraisal"].notna())
    total = precision.total if precision is not None else None
    for col in ("earned", "self_earned", "appraisal", "self_appraisal"):
        out[col] = round_values(out[col], total)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ratio"] = (out["earned"] / out["applicable_max"]).where(out["applicable_max"] > 0)
    return out


def body_totals(lines: pd.DataFrame, precision=None) -> pd.DataFrame:
    """Points counted in the appraisal per unit × appraising body (with the bodies' maxima).

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``body``, ``max_points``, ``final_points``, ``self_final_points``.
    """
    g = lines.groupby(["unit_id", "body"], sort=False, observed=True)
    out = g.agg(max_points=("max_points", "sum"), final_points=("final_points", "sum"),
                self_final_points=("self_final_points", "sum")).reset_index()
    total = precision.total if precision is not None else None
    for col in ("final_points", "self_final_points"):
        out[col] = round_values(out[col], total)
    return out


def criterion_gaps(lines: pd.DataFrame) -> pd.DataFrame:
    """Self minus appraised points per unit × applicable criterion, largest first.

    Only criteria that apply and have both a self and an appraised score.
    ``share`` is the gap as a fraction of the criterion's maximum.
    """
    both = lines[lines["applicable"] & lines["self_points"].notna() & lines["points"].notna()]
    gap = (both["self_points"] - both["points"]).round(6)
    out = both.assign(gap=gap, share=(gap / both["max_points"]).round(6))
    return out.sort_values(["gap", "share", "unit_id", "position"], ascending=[False, False, True, True],
                           kind="stable").reset_index(drop=True)


def gap_summary(lines: pd.DataFrame, by: str) -> pd.DataFrame:
    """Self minus appraised points summed per criterion (``by="criterion"``) or appraising body (``"body"``).

    Over the criteria that apply and have both a self and an appraised score (as
    :func:`criterion_gaps`).  The seed's complaint — self-assessments well above the
    appraisal — as numbers for the council.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``: ``units`` (unit × criterion lines compared), ``above``
        (lines self-scored higher), ``self_points``, ``points``, ``max_points`` (sums),
        ``gap`` (sum of self − appraised), ``mean_gap``, ``largest`` and ``share``
        (gap ÷ maximum), largest share first.
    """
    gaps = criterion_gaps(lines)
    g = gaps.groupby(by, sort=False)
    out = g.agg(units=("gap", "size"), above=("gap", lambda x: int((x > 0).sum())),
                self_points=("self_points", "sum"), points=("points", "sum"), max_points=("max_points", "sum"),
                gap=("gap", "sum"), mean_gap=("gap", "mean"), largest=("gap", "max"))
    out["share"] = (out["gap"] / out["max_points"]).round(6)
    out["gap"] = out["gap"].round(6)
    return out.sort_values(["share", "gap"], ascending=False, kind="stable")


def unevidenced(lines: pd.DataFrame) -> pd.DataFrame:
    """Criteria a unit scored itself above zero with no evidence (the explanation given, if any).

    Criteria scored by a survey are left out (their points come from the answers), and so
    are criteria that do not apply.  Lines without an ``evidence`` column (inputs that do
    not record it) give no row: nothing can be said.

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``criteria_set``, ``criterion``, ``body``, ``max_points``,
        ``self_points``, ``points``, ``gap`` and ``explanation`` (empty when none), in
        the order of the lines.
    """
    columns = ["unit_id", "criteria_set", "criterion", "body", "max_points", "self_points", "points", "gap",
               "explanation"]
    if "evidence" not in lines:
        return pd.DataFrame(columns=columns)
    blank = lines["evidence"].astype("string").fillna("").str.strip() == ""
    claimed = lines["applicable"] & (lines["source"] != "survey") & (lines["self_points"] > 0).fillna(False)
    out = lines[claimed & blank]
    explanation = (out["explanation"] if "explanation" in out else pd.Series("", index=out.index))
    return pd.DataFrame({
        "unit_id": out["unit_id"], "criteria_set": out["criteria_set"], "criterion": out["criterion"],
        "body": out["body"], "max_points": out["max_points"], "self_points": out["self_points"],
        "points": out["points"], "gap": (out["self_points"] - out["points"]).round(6),
        "explanation": explanation.astype("string").fillna(""),
    }, columns=columns).reset_index(drop=True)
