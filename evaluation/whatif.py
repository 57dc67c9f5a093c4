"""What if the rules were different?  Re-classify a year under modified rules and list who moves.

The council asks "what if the bound of «xuất sắc» were 91?" or "what if at most
20% could be «xuất sắc»?".  A modified rules object is made with pydantic's
``model_copy(update=...)`` (the helpers below do it for the common cases), then
:func:`tier_changes` runs the classify and rank stages again on the year's scores
and returns the units whose tier changes.  The evaluation itself is not touched.

Rules made with ``model_copy`` skip validation, so every function here checks
the modified rules again (:func:`checked`): an impossible what-if (overlapping
tiers, an unknown tier id) is an :class:`~evaluation.errors.InputError` with the
same Vietnamese messages as a broken rules file.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from pydantic import ValidationError

from .classify import classify
from .errors import InputError
from .pipeline import Evaluation
from .rank import rank
from .rules import Quota, Rules, _problem_from_pydantic

__all__ = ["checked", "with_tier_min", "with_quota", "reclassify", "tier_changes", "tier_counts"]

LABEL = "giả định (what-if)"


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
    value = Decimal(str(bound).replace(",", "."))
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
    quota = Quota(tier=tier, max_ratio=Decimal(str(max_ratio).replace(",", ".")), of=of, scope=scope,
                  demote_to=demote_to, confirmed=False, note="giả định")
    quotas = [q for q in rules.quotas if q.tier != tier] + [quota]
    return checked(rules.model_copy(update={"quotas": quotas}))


def reclassify(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """The year's ranked table under ``rules`` (classify and rank again on the same scores).

    Returns a new table shaped like ``ev.ranked``; ``ev`` is not modified.
    """
    rules = checked(rules)
    conditions = ev.inputs.tables["conditions"].table if "conditions" in ev.inputs.tables else None
    return rank(classify(ev.scores, rules, conditions), rules)


def tier_changes(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """Units whose tier differs under ``rules``, in the report's order.

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``unit``, ``group``, ``score`` (published, under the new rules),
        ``tier_before``, ``tier_after`` (ids), ``move`` (+1 up, −1 down, by the
        position of the tiers in the new rules; 0 when a tier id is not in them),
        ``rank_before``, ``rank_after`` and ``reason`` (why the tier is not the
        score's, under the new rules).
    """
    after = reclassify(ev, rules)
    new = checked(rules)
    before = ev.ranked[["unit_id", "tier", "rank"]]
    both = after.merge(before, on="unit_id", suffixes=("_after", "_before"), validate="one_to_one")
    level = {t: i for i, t in enumerate(new.tier_ids)}
    up = both["tier_before"].map(level) - both["tier_after"].map(level)
    out = pd.DataFrame({
        "unit_id": both["unit_id"], "unit": both["unit"], "group": both["group"], "score": both["score"],
        "tier_before": both["tier_before"], "tier_after": both["tier_after"],
        "move": up.fillna(0).clip(-1, 1).astype("int64"),
        "rank_before": both["rank_before"], "rank_after": both["rank_after"], "reason": both["tier_reason"],
    })
    return out[out["tier_before"] != out["tier_after"]].reset_index(drop=True)


def tier_counts(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """Units per tier before and after (rows: the new rules' tiers, best first; then any tier they dropped)."""
    after = reclassify(ev, rules)["tier"].value_counts()
    before = ev.ranked["tier"].value_counts()
    order = checked(rules).tier_ids + [t for t in ev.rules.tier_ids if t not in checked(rules).tier_ids]
    table = pd.DataFrame({"before": before, "after": after}).reindex(order).fillna(0).astype("int64")
    table["change"] = table["after"] - table["before"]
    table.index.name = "tier"
    return table
