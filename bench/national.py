"""Generated national-size inputs for the scoring engine (benchmark only; not a product feature).

A country-wide roll-out means every province, district and commune: about
12,000 units, 60 criteria each, 3,000,000 survey answers and 50,000
bonus/penalty rows.  :func:`generate` builds such inputs directly as the
DataFrames :func:`evaluation.engine.detail.score_detail` takes, from a fixed seed,
at any fraction of that size.  The bonus/penalty items are the real ones of a
rules file, so their caps bite as they would in a province.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.inputs.catalogue import items_frame
from evaluation.inputs.rules import Rules

FULL = {"units": 12_000, "criteria": 60, "responses": 3_000_000, "items": 50_000}
SETS = 4            # criteria sets (sectors): each has its own 60 criteria
SURVEYED = 2        # criteria per set scored by a survey
QUESTIONS = 5       # questions per survey
RATER_KINDS = ("ubnd-cap-huyen", "so-nganh", "doanh-nghiep", "co-quan-khac")


@dataclass(frozen=True)
class National:
    """Inputs of :func:`evaluation.engine.detail.score_detail`, as keyword arguments."""

    kwargs: dict

    @property
    def rows(self) -> dict[str, int]:
        k = self.kwargs
        return {"units": len(k["units"]), "criteria_rows": len(k["points"]),
                "responses": len(k["responses"]), "items": len(k["items"])}


def _cat(values, categories) -> pd.Categorical:
    return pd.Categorical.from_codes(values, categories=pd.Index(categories, dtype="string"))


def generate(rules: Rules, *, scale: float = 1.0, seed: int = 2024) -> National:
    """Inputs at ``scale`` × the national size (1.0 = 12,000 units, 3 M answers…).

    Key columns are categorical, as a loader would make them for data this size.
    """
    rng = np.random.default_rng(seed)
    n_units = max(SETS, int(FULL["units"] * scale))
    n_crit = FULL["criteria"]
    n_resp = int(FULL["responses"] * scale)
    n_items = int(FULL["items"] * scale)
    max_points = float(rules.scale.appraisal_max) / n_crit

    set_ids = [f"set-{s}" for s in range(SETS)]
    crit_ids = [f"C{c:02d}" for c in range(n_crit)]
    survey_ids = [f"survey-{s}" for s in range(SETS * SURVEYED)]
    # Catalogue: every set has the 60 criteria; criteria 0..SURVEYED-1 of each set come from a survey.
    cat_set = np.repeat(np.arange(SETS), n_crit)
    cat_crit = np.tile(np.arange(n_crit), SETS)
    surveyed = cat_crit < SURVEYED
    survey_of = np.where(surveyed, cat_set * SURVEYED + cat_crit, -1)
    catalogue = pd.DataFrame({
        "criteria_set": _cat(cat_set, set_ids),
        "criterion": _cat(cat_crit, crit_ids),
        "name": pd.array([f"Tiêu chí {c}" for c in cat_crit], dtype="string"),
        "max_points": np.full(len(cat_set), max_points),
        "body": pd.array(np.array(["so-noi-vu", "thanh-tra-tinh"], dtype=object)[cat_crit % 2], dtype="string"),
        "survey": pd.array(np.where(surveyed, np.array(survey_ids, dtype=object)[np.maximum(survey_of, 0)], None),
                           dtype="string"),
        "position": cat_crit.astype("int64"),
        "confirmed": np.zeros(len(cat_set), dtype=bool),
    })
    q_survey = np.repeat(np.arange(len(survey_ids)), QUESTIONS)
    questions = pd.DataFrame({
        "question": pd.array([f"Q{s}-{q}" for s in range(len(survey_ids)) for q in range(QUESTIONS)], dtype="string"),
        "text": pd.array([f"Câu hỏi {q}" for q in range(len(q_survey))], dtype="string"),
        "survey": pd.array(np.array(survey_ids, dtype=object)[q_survey], dtype="string"),
        "criterion": pd.array(np.array(crit_ids, dtype=object)[q_survey % SURVEYED], dtype="string"),
        "scale_min": 1.0, "scale_max": 5.0, "formula": "mean_over_max", "min_responses": 10,
        "below_minimum": "not_applicable",
    })
    s_rows = np.arange(len(survey_ids))
    surveys = pd.DataFrame({
        "survey": pd.array(survey_ids, dtype="string"),
        "criteria_set": pd.array(np.array(set_ids, dtype=object)[s_rows // SURVEYED], dtype="string"),
        "criterion": pd.array(np.array(crit_ids, dtype=object)[s_rows % SURVEYED], dtype="string"),
        "scale_min": 1.0, "scale_max": 5.0, "formula": "mean_over_max", "min_responses": 10,
        "below_minimum": "not_applicable",
    })

    unit_ids = [f"u{u:05d}" for u in range(n_units)]
    unit_set = rng.integers(0, SETS, n_units)
    # Every table's keys share one set of categories, as one loader would give them: joins on codes.
    units = pd.DataFrame({"unit_id": _cat(np.arange(n_units), unit_ids),
                          "unit": pd.array([f"Đơn vị {u}" for u in range(n_units)], dtype="string"),
                          "group": pd.array(np.array(["a", "b", "c"], dtype=object)[np.arange(n_units) % 3],
                                            dtype="string"),
                          "input_order": np.arange(n_units, dtype="int64")})
    sets = pd.DataFrame({"unit_id": units["unit_id"], "criteria_set": _cat(unit_set, set_ids)})

    # Points: every unit × every criterion of its set; about 3 % not applicable.
    pu = np.repeat(np.arange(n_units), n_crit)
    pc = np.tile(np.arange(n_crit), n_units)
    na = rng.random(len(pu)) < 0.03
    appraised = np.round(rng.uniform(0.6, 1.0, len(pu)) * max_points, 2)
    self_points = np.minimum(max_points, np.round(appraised + rng.uniform(0, 0.2, len(pu)), 2))
    points = pd.DataFrame({
        "unit_id": _cat(pu, unit_ids), "criterion": _cat(pc, crit_ids),
        "self_points": np.where(na, np.nan, self_points), "points": np.where(na, np.nan, appraised),
        "self_points_na": na, "points_na": na,
    })

    # Survey answers: raters answer every question of the survey of the unit's set.
    forms = n_resp // QUESTIONS
    fu = rng.integers(0, n_units, forms)
    fs = unit_set[fu] * SURVEYED + rng.integers(0, SURVEYED, forms)
    fk = rng.integers(0, len(RATER_KINDS), forms)
    fr = rng.integers(0, 400, forms)                       # 400 raters of each kind
    q = np.tile(np.arange(QUESTIONS), forms)
    rater_ids = [f"r{r:03d}" for r in range(400)]
    responses = pd.DataFrame({
        "rater_kind": _cat(np.repeat(fk, QUESTIONS), RATER_KINDS),
        "rater": _cat(np.repeat(fr, QUESTIONS), rater_ids),
        "unit_id": _cat(np.repeat(fu, QUESTIONS), unit_ids),
        "question": _cat(np.repeat(fs, QUESTIONS) * QUESTIONS + q, list(questions["question"])),
        "answer": rng.integers(1, 6, forms * QUESTIONS).astype("float64"),
    })

    item_catalogue = items_frame(rules)
    codes = item_catalogue["item"].to_numpy()
    pick = rng.integers(0, len(codes), n_items)
    up_to = item_catalogue["up_to"].notna().to_numpy()[pick]
    items = pd.DataFrame({
        "unit_id": _cat(rng.integers(0, n_units, n_items), unit_ids),
        "item": _cat(pick, list(codes)),
        "count": np.where(up_to, np.nan, rng.integers(1, 6, n_items)).astype("float64"),
        "amount": np.where(up_to, np.round(rng.uniform(0, 3, n_items), 2), np.nan),
    })
    s = rules.scale
    return National({
        "units": units, "sets": sets, "catalogue": catalogue, "points": points,
        "appraisal_max": float(s.appraisal_max), "adjustment_max": float(s.adjustment_max),
        "score_min": float(s.score_min), "score_max": float(s.score_max),
        "responses": responses, "questions": questions, "surveys": surveys,
        "items": items, "item_catalogue": item_catalogue,
    })
