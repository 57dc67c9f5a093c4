"""What if the rules were different?  Re-classify a year under modified rules and list who moves.

The council asks "what if the bound of «xuất sắc» were 91?", "what if at most
20% could be «xuất sắc»?" or "what if bonus and penalty were bounded to ±5?".  A
modified rules object is made with pydantic's ``model_copy(update=...)`` (the
helpers below do it for the common cases), then :func:`tier_changes` runs the
stages again and returns the units whose tier changes: classify and rank on the
year's scores when only tiers, conditions or quotas changed; the score stage
too (criteria, surveys, bonus and penalty with their caps) when the rules it
uses changed, for years scored from their parts.  A totals-only year publishes
its final scores, so a what-if on how they are made is refused there, not
silently ignored.  The evaluation itself is not touched.

Rules made with ``model_copy`` skip validation, so every function here checks
the modified rules again (:func:`checked`): an impossible what-if (overlapping
tiers, an unknown tier id) is an :class:`~evaluation.errors.InputError` with the
same Vietnamese messages as a broken rules file.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pandas as pd
from pydantic import ValidationError

from ..errors import InputError, Problem
from ..inputs.rules import Quota, Rules, _problem_from_pydantic
from .classify import classify
from .detail import adjust_again, evaluate_detail
from .pipeline import Evaluation
from .rank import rank
from .score import score_from_periods

__all__ = ["checked", "with_tier_min", "with_quota", "with_adjustment_max", "with_item_cap", "scoring_changes",
           "rescore", "reclassify", "tier_changes", "tier_counts"]

LABEL = "giả định (what-if)"
# The parts of the rules the score stage uses (the rest — tiers, conditions, quotas — is classify's).
_SCORING = {"scale": "thang điểm", "criteria_sets": "bộ tiêu chí", "rater_kinds": "loại người đánh giá",
            "surveys": "phiếu khảo sát", "adjustments": "điểm thưởng, điểm trừ", "periods": "điểm theo kỳ"}
# The parts only the stages after the appraisal use (bonus and penalty, the final score's bounds).
_LATER = {"scale", "adjustments"}


def _decimal(value: float | str | Decimal, place: str = "") -> Decimal:
    """A number as the council writes it: ``"90,5"`` is 90.5.

    Raises
    ------
    InputError
        Not a number (said in Vietnamese, like every other problem).
    """
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise InputError([Problem(LABEL, None, place or None, str(value), "cần một số (ví dụ 0,2 hoặc 90,5)")])
    return number


def checked(rules: Rules) -> Rules:
    """Validate rules again (as a rules file is), e.g. after ``model_copy(update=...)``.

    Raises
    ------
    InputError
        Listing every problem, with its place (``tiers[1].max``).
    """
    try:
        return Rules.model_validate(rules.model_dump())
    except ValidationError as exc:
        raise InputError([_problem_from_pydantic(LABEL, err) for err in exc.errors()]) from None


def with_tier_min(rules: Rules, tier_id: str, bound: float | str | Decimal) -> Rules:
    """Rules with the lower bound of one tier moved (and the "up to" of the tier below it).

    Parameters
    ----------
    rules : Rules
    tier_id : str
        A tier of ``rules`` (``"xuat_sac"``).
    bound : number
        The new inclusive lower bound; ``"90,5"`` is read as 90.5.
    """
    value = _decimal(bound, f"{tier_id}.min")
    ids = rules.tier_ids
    if tier_id not in ids:
        raise KeyError(f"«{tier_id}» không phải một mức xếp loại; các mức: {', '.join(ids)}")
    i = ids.index(tier_id)
    tiers = list(rules.tiers)
    tiers[i] = tiers[i].model_copy(update={"min": value})
    if i + 1 < len(tiers) and tiers[i + 1].max is not None:
        tiers[i + 1] = tiers[i + 1].model_copy(update={"max": value})
    return checked(rules.model_copy(update={"tiers": tiers}))


def with_quota(rules: Rules, tier: str, max_ratio: float | str | Decimal, *, of: str = "all",
               scope: str = "all", demote_to: str | None = None) -> Rules:
    """Rules with a cap on the number of units in ``tier`` (replacing any cap on that tier).

    ``with_quota(rules, "xuat_sac", 0.2, of="tot")``: at most 20% of the number
    of units rated «tốt» may be «xuất sắc» (Nghị định 335/2025/NĐ-CP); units over
    the cap move to ``demote_to`` (default: the next tier down).
    """
    try:
        quota = Quota(tier=tier, max_ratio=_decimal(max_ratio, "max_ratio"), of=of, scope=scope,
                      demote_to=demote_to, confirmed=False, note="giả định")
    except ValidationError as exc:  # a negative ratio, an unknown scope: said as a rules file's are
        raise InputError([_problem_from_pydantic(LABEL, err) for err in exc.errors()]) from None
    quotas = [q for q in rules.quotas if q.tier != tier] + [quota]
    return checked(rules.model_copy(update={"quotas": quotas}))


def with_adjustment_max(rules: Rules, value: float | str | Decimal) -> Rules:
    """Rules with another bound on the total of bonus and penalty (``scale.adjustment_max``, e.g. 10 → 5)."""
    scale = rules.scale.model_copy(update={"adjustment_max": _decimal(value, "scale.adjustment_max")})
    return checked(rules.model_copy(update={"scale": scale}))


def with_item_cap(rules: Rules, item: str, cap: float | str | Decimal | None) -> Rules:
    """Rules with another cap per unit on one bonus/penalty item (``None``: no cap of its own).

    Parameters
    ----------
    item : str
        The item's code (``"TH02"``).
    """
    codes = [i.code for i in rules.adjustments.items]
    if item not in codes:
        raise KeyError(f"«{item}» không phải một mục điểm thưởng/trừ; các mục: {', '.join(codes) or 'không có'}")
    value = None if cap is None else _decimal(cap, f"{item}.cap")
    items = [i.model_copy(update={"cap": value}) if i.code == item else i for i in rules.adjustments.items]
    return checked(rules.model_copy(update={"adjustments": rules.adjustments.model_copy(update={"items": items})}))


def scoring_changes(ev: Evaluation, rules: Rules) -> list[str]:
    """What ``rules`` change in how scores are made, in Vietnamese (``[]``: only tiers, conditions, quotas)."""
    return [name for key, name in _SCORING.items() if getattr(rules, key) != getattr(ev.rules, key)]


def rescore(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """The score stage again under ``rules``: the year's scores table, recomputed if the rules it uses changed.

    Raises
    ------
    InputError
        ``rules`` change how scores are made but the year publishes only final scores.
    """
    return _rescore(ev, checked(rules))


def _rescore(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    changed = scoring_changes(ev, rules)
    if not changed:
        return ev.scores
    if changed == [_SCORING["periods"]] and "periods" in ev.inputs.tables and rules.periods is not None:
        # Weights or periods of a year given per period: the year's scores from the same rows again.
        return score_from_periods(ev.inputs.tables["periods"].table, ev.inputs.registry, rules)
    if ev.detail is None:
        raise InputError([Problem(
            LABEL, row=None, column=None, value=None,
            expected=(f"năm {ev.params.id} chỉ có điểm cuối cùng đã công bố, không có điểm theo tiêu chí, phiếu "
                      "khảo sát hay từng mục thưởng/trừ, nên không tính lại được điểm khi đổi "
                      + ", ".join(changed) + "; với năm này chỉ thử được ngưỡng, điều kiện và hạn mức xếp loại"))])
    if {k for k in _SCORING if getattr(rules, k) != getattr(ev.rules, k)} <= _LATER:
        # Criteria and surveys do not use what changed: only bonus/penalty and the final score run again.
        return adjust_again(ev.detail, ev.inputs.tables, rules).scores
    return evaluate_detail(ev.inputs.tables, rules, ev.inputs.registry, ev.inputs.sets, summaries=False).scores


def reclassify(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """The year's ranked table under ``rules``: scored again if need be (:func:`rescore`), classified, ranked.

    Returns a new table shaped like ``ev.ranked``; ``ev`` is not modified.
    """
    return _reclassify(ev, checked(rules))


def _reclassify(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    # ``rules`` already checked: each public function checks its rules once.
    conditions = ev.inputs.tables["conditions"].table if "conditions" in ev.inputs.tables else None
    return rank(classify(_rescore(ev, rules), rules, conditions), rules)


def tier_changes(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """Units whose tier differs under ``rules``, in the report's order.

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``unit``, ``group``, ``score_before`` and ``score`` (published,
        now and under the new rules: they differ when the rules change how scores
        are made), ``tier_before``, ``tier_after`` (ids), ``move`` (+1 up, −1 down, by the
        position of the tiers in the new rules; 0 when a tier id is not in them),
        ``rank_before``, ``rank_after`` and ``reason`` (why the tier is not the
        score's, under the new rules).
    """
    new = checked(rules)
    after = _reclassify(ev, new)
    before = ev.ranked[["unit_id", "tier", "rank", "score"]]
    both = after.merge(before, on="unit_id", suffixes=("_after", "_before"), validate="one_to_one")
    level = {t: i for i, t in enumerate(new.tier_ids)}
    up = both["tier_before"].map(level) - both["tier_after"].map(level)
    out = pd.DataFrame({
        "unit_id": both["unit_id"], "unit": both["unit"], "group": both["group"],
        "score_before": both["score_before"], "score": both["score_after"],
        "tier_before": both["tier_before"], "tier_after": both["tier_after"],
        "move": up.fillna(0).clip(-1, 1).astype("int64"),
        "rank_before": both["rank_before"], "rank_after": both["rank_after"], "reason": both["tier_reason"],
    })
    return out[out["tier_before"] != out["tier_after"]].reset_index(drop=True)


def tier_counts(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """Units per tier before and after (rows: the new rules' tiers, best first; then any tier they dropped)."""
    new = checked(rules)
    after = _reclassify(ev, new)["tier"].value_counts()
    before = ev.ranked["tier"].value_counts()
    order = new.tier_ids + [t for t in ev.rules.tier_ids if t not in new.tier_ids]
    table = pd.DataFrame({"before": before, "after": after}).reindex(order).fillna(0).astype("int64")
    table["change"] = table["after"] - table["before"]
    table.index.name = "tier"
    return table
