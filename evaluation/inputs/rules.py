"""The regulation as data: tiers, bounds, groups, precision, conditions and quotas.

A rules file (``params/rules/*.yaml``) is read with ``yaml.safe_load`` and
checked by the models below; every problem is reported at once with its
place in the file (``tiers[2].min``).  Python holds no number, tier or group
of any province: they all come from the file.

Every item that the source document does not confirm carries
``confirmed: false``; :meth:`Rules.unconfirmed` lists them for the report.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ..errors import InputError, Problem, os_error_text, parser_text
from .limits import MAX_YAML_BYTES
from .provenance import TooLarge, read_input

__all__ = ["Rules", "Tier", "Group", "Precision", "Rounding", "Stages", "Criterion", "CriteriaSet", "RaterKind",
           "Survey", "Item", "Scope", "Adjustments", "Quota", "QuotaLimit", "QuotaTies", "Ranking", "Wording", "Period",
           "Periods", "NotEvaluated", "TIE_KEYS", "ROUNDING_WORDS", "load_rules", "load_yaml", "read_yaml_model",
           "Uncertainty", "VaryCriterionMax", "VaryRounding", "RoundingAlternative", "VaryTierMin", "VarySurvey",
           "VaryUpTo", "load_uncertainty", "checked_uncertainty", "derive_uncertainty", "uncertainty_problems",
           "VARY_KINDS", "DETAIL_KINDS"]


def _decimal(value: Any) -> Any:
    """Numbers as exact decimals; "0,5" (Vietnamese comma) is accepted as 0.5."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            return Decimal(text)
        except InvalidOperation:
            return value
    return value


Number = Annotated[Decimal, BeforeValidator(_decimal)]
SCALE_LIMIT = 1_000_000  # no regulation scores in millions; keeps exact integer arithmetic safe
Text = Annotated[str, Field(min_length=1)]
Id = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")]
# Codes typed by users in input files (criteria, questions, bonus/penalty items): upper case.
Code = Annotated[str, Field(pattern=r"^[A-Z0-9]+(?:[-_.][A-Z0-9]+)*$")]
Positive = Annotated[Decimal, BeforeValidator(_decimal), Field(gt=0)]


class _Model(BaseModel):
    # Unknown keys are refused: a misspelt key would otherwise be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Confirmable(_Model):
    confirmed: bool = True
    source: str | None = None


class Regulation(Confirmable):
    """A basis document.  ``kind`` is its document type as printed before its number
    ("Nghị định", "Quyết định", "Công văn"…); without it only the number is printed.  The report's
    opening sentence cites it as "<kind> số <number> ngày <date> của <issuer> <title>" (``title`` as
    the sentence quotes it: "quy định về việc …", lower case first)."""

    id: Id
    kind: Text | None = None
    number: Text
    date: str | None = None
    issuer: str = ""
    title: Text

    @property
    def citation(self) -> str:
        """"Nghị định số 335/2025/NĐ-CP ngày 21/12/2025" (plain text, no title)."""
        date = f" ngày {self.date}" if self.date else ""
        return f"{self.kind} số {self.number}{date}" if self.kind else f"{self.number}{date}"


class Body(Confirmable):
    """An appraising body and what it scores."""

    id: Id
    name: Text
    role: str = ""
    short: str = ""          # column heading in the report's tables (default: the name)

    @property
    def label(self) -> str:
        return self.short or self.name


class Scale(Confirmable):
    appraisal_max: Number = Field(gt=0)
    adjustment_max: Number = Field(ge=0)
    score_min: Number = Decimal(0)
    score_max: Number

    @model_validator(mode="after")
    def _consistent(self) -> Scale:
        if self.score_max <= self.score_min:
            raise ValueError("score_max phải lớn hơn score_min")
        if max(abs(self.score_min), abs(self.score_max)) > SCALE_LIMIT:
            # Scores are compared as integers of 10⁻⁹ points (int64): a larger scale would overflow.
            raise ValueError(f"thang điểm phải nằm trong khoảng ±{SCALE_LIMIT:,}".replace(",", "."))
        return self


RoundingMode = Literal["down", "half_up", "half_even", "up"]
# How each rounding mode is said to readers (never the code value).
ROUNDING_WORDS = {"down": "bỏ phần lẻ", "up": "làm tròn lên", "half_up": "làm tròn, từ 5 trở lên làm tròn lên",
                  "half_even": "làm tròn về số chẵn gần nhất"}


class Rounding(Confirmable):
    """The precision of one stage's numbers: how many decimals, and how they are rounded."""

    decimals: int = Field(ge=0, le=6)
    rounding: RoundingMode = "half_up"


class Stages(_Model):
    """Precision of every stage before publication (years scored from their parts).

    ``criterion``: the points of each criterion (appraised, self-scored, the credit of a criterion
    that does not apply, the points a survey gives); ``survey``: the mean answer of a survey;
    ``adjustment``: each bonus or penalty amount; ``total``: every sum (the appraisal, the self
    score, bonus − penalty, the score before publication).  A sum is never coarser than its parts
    (checked), so the printed parts always add up to the printed total; the published score is then
    rounded as ``precision.decimals``/``rounding`` say.
    """

    criterion: Rounding = Rounding(decimals=2)
    survey: Rounding = Rounding(decimals=2)
    adjustment: Rounding = Rounding(decimals=2)
    total: Rounding = Rounding(decimals=2)


class Precision(Confirmable):
    """The published score's precision (``decimals``, ``rounding``) and that of each stage."""

    decimals: int = Field(ge=0, le=6)
    rounding: RoundingMode
    note: str | None = None
    stages: Stages = Stages()


class Tier(Confirmable):
    """A tier of the classification, or — ``classified: false``, last in the list only — the
    declared outcome below every tier ("Không xếp loại"), for regimes whose lowest tier starts
    above the bottom of the scale."""

    id: Id
    name: Text
    short: Text
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
    min: Number
    max: Number | None = None
    classified: bool = True


class Group(Confirmable):
    id: Id
    numeral: Text
    name: Text
    count_label: Text
    summary_label: Text
    regulation: Id
    kinds: list[Text] = []


class Condition(Confirmable):
    id: Id
    name: Text
    max_tier: Id


class QuotaLimit(Confirmable):
    """How the allowed number is computed from the base count: ``max_ratio`` × base, rounded.

    The base is the number of units in ``of`` (or in the partition, for ``all``) as a reader
    counts them: before this quota moves anyone down (after conditions and earlier quotas).
    """

    rounding: Literal["floor", "half_up", "ceil"] = "floor"


# Tie-break keys of a quota, best first; each puts the unit it favours first and the other last.
TIE_KEYS = {
    "raw_score": "điểm trước khi làm tròn cao hơn",
    "self_score": "điểm tự chấm cao hơn",
    "gap": "chênh lệch giữa điểm tự chấm và điểm đánh giá nhỏ hơn",
}


class QuotaTies(Confirmable):
    """Units tied on the published score across the quota's edge.

    ``break_by``: keys tried in order (see :data:`TIE_KEYS`); a unit without the value
    (no self score) comes after every unit that has it.  ``otherwise``: what happens to
    units still tied after every key — ``demote_all`` (the quota is never exceeded; fewer
    units than allowed may stay) or ``keep_all`` (the whole tie stays; the quota may be
    exceeded by the tie).  Never row order.
    """

    break_by: list[Literal["raw_score", "self_score", "gap"]] = []
    otherwise: Literal["demote_all", "keep_all"] = "demote_all"


class Quota(Confirmable):
    """At most ``max_ratio`` × (units in ``of``) units in ``tier``, per ``scope``.

    Units over the limit move to ``demote_to`` (default: the next tier), lowest published
    score first; ``ties`` settles a tie at the edge.
    """

    tier: Id
    max_ratio: Number = Field(gt=0)
    of: Id | Literal["all"]
    scope: Literal["all", "group"] = "all"
    demote_to: Id | None = None
    note: str | None = None
    limit: QuotaLimit = QuotaLimit()
    ties: QuotaTies = QuotaTies()


class Ranking(Confirmable):
    """How ranks are given within a group: ``score`` (published score only, the 2020 report)
    or ``tier_then_score`` (tier first: a unit moved down by a condition or a quota ranks
    below every unit of a better tier)."""

    by: Literal["score", "tier_then_score"] = "score"


class Wording(_Model):
    """The words of the classification, as the regime's documents say them.

    ``classification``: the verb phrase in sentences ("11 cơ quan, đơn vị *dự kiến xếp loại*
    …"; a published final classification says "được xếp loại"); ``classification_heading``:
    the same as a column heading; ``subject``: what is classified ("đánh giá, xếp loại
    *mức độ hoàn thành nhiệm vụ*"); ``units``: the noun for the units counted.
    """

    classification: Text = "dự kiến xếp loại"
    classification_heading: Text = "Dự kiến xếp loại"
    subject: Text = "mức độ hoàn thành nhiệm vụ"
    units: Text = "cơ quan, đơn vị"


class Period(_Model):
    code: Code
    name: Text
    weight: Positive = Decimal(1)


class Periods(Confirmable):
    """Scores given per period (quarters, months) and how they make the year's score.

    ``aggregate``: ``mean`` — the weighted mean (``weight``, default 1 each) of the
    periods a unit has, before rounding to the published precision.  ``missing``: a
    unit without a score for some period is an input error (``error``) or is scored on
    the periods it has and flagged (``partial``), provided it has at least
    ``min_periods``.
    """

    items: list[Period] = Field(min_length=1)
    aggregate: Literal["mean"] = "mean"
    missing: Literal["error", "partial"] = "error"
    min_periods: int = Field(default=1, ge=1)


class NotEvaluated(_Model):
    """A group of the registry that this regime does not evaluate: its units valid in a
    year are left out of that year (with the reason said), not refused as unknown.  ``name``:
    how the report names the group when it says it is not evaluated."""

    group: Id
    reason: Text
    name: Text | None = None


# -- detailed scoring: criteria, survey forms, bonus and penalty items -------------------------


class Criterion(Confirmable):
    """One criterion of a criteria set: its maximum and the body that appraises it."""

    code: Code
    name: Text
    max: Positive
    body: Id


class CriteriaSet(Confirmable):
    """The criteria of one kind of unit; maxima sum to ``scale.appraisal_max``.

    A unit uses the set whose ``group`` is its group, whose ``kinds`` (when
    given) include its kind and whose ``units`` (when given) name it.  Every
    unit must use exactly one set (checked against the registry).
    """

    id: Id
    name: Text
    short: str = ""          # column heading in the report's tables (default: the name)
    group: Id
    kinds: list[Text] = []
    units: list[Id] = []
    criteria: list[Criterion] = Field(min_length=1)

    @property
    def label(self) -> str:
        return self.short or self.name

    @property
    def total(self) -> Decimal:
        return sum((c.max for c in self.criteria), Decimal(0))


class RaterKind(Confirmable):
    """Who fills in survey forms (districts, departments, enterprises, other agencies).

    ``groups``: when the raters are the evaluated units of these groups (districts rating
    departments), each of those units fills in its own form and is known by its registry id;
    otherwise (enterprises, other agencies) the raters are not in the registry and one form
    per kind gathers them, each rater under a code of its own.
    """

    id: Id
    name: Text
    groups: list[Id] = []


class Question(_Model):
    code: Code
    text: Text


class Survey(Confirmable):
    """A survey form (phiếu đánh giá) that scores one criterion from answers.

    ``formula``: ``mean_over_max`` — mean answer ÷ scale maximum × criterion
    maximum; ``mean_min_max`` — (mean − scale minimum) ÷ (maximum − minimum) ×
    criterion maximum.  The mean is over forms (one rater's answers averaged
    first, so every form weighs the same).  With fewer than ``min_responses``
    forms the criterion is flagged and ``below_minimum`` says what it counts:
    ``not_applicable`` (prorated like a criterion that does not apply),
    ``zero`` or ``score`` (scored anyway, flagged).
    """

    id: Id
    name: Text
    criterion: Code
    sets: list[Id] = Field(min_length=1)
    raters: list[Id] = Field(min_length=1)
    scale_min: Number = Decimal(1)
    scale_max: Number
    formula: Literal["mean_over_max", "mean_min_max"] = "mean_over_max"
    min_responses: int = Field(ge=1)
    below_minimum: Literal["not_applicable", "zero", "score"] = "not_applicable"
    questions: list[Question] = Field(min_length=1)


class Scope(_Model):
    """Which units an item applies to; empty means every unit.

    A unit is in scope when its group is in ``groups`` (and, if ``kinds`` is
    given, its kind is in ``kinds``), or when ``units`` names it.
    """

    groups: list[Id] = []
    kinds: list[Text] = []
    units: list[Id] = []

    @property
    def everyone(self) -> bool:
        return not (self.groups or self.kinds or self.units)


class Item(Confirmable):
    """A bonus or penalty item decided by the council.

    ``points``: fixed points per occurrence (the input gives a count).
    ``up_to``: the council gives an amount, at most ``up_to`` per occurrence.
    Neither: the council gives an amount bounded only by ``cap`` and the total bound.
    ``cap``: at most this much per unit for the item, whatever the occurrences.
    """

    code: Code
    kind: Literal["bonus", "penalty"]
    name: Text
    text: Text
    points: Positive | None = None
    up_to: Positive | None = None
    cap: Positive | None = None
    scope: Scope = Scope()

    @model_validator(mode="after")
    def _one_rate(self) -> Item:
        if self.points is not None and self.up_to is not None:
            raise ValueError("chỉ ghi một trong hai khóa «points» (điểm cố định) hoặc «up_to» (tối đa)")
        if self.cap is not None and self.points is not None and self.cap < self.points:
            raise ValueError(f"cap ({self.cap}) nhỏ hơn điểm một lần ({self.points})")
        return self


class Adjustments(Confirmable):
    """Bonus and penalty items and how their total is bounded by ``scale.adjustment_max``.

    ``bound``: ``net`` — bonus − penalty is kept within ±adjustment_max;
    ``each`` — bonus and penalty are each at most adjustment_max.
    """

    bound: Literal["net", "each"] = "net"
    # Who decides the items (the party that returns the bonus/penalty form).
    council: str = ""
    items: list[Item] = []


class Rules(_Model):
    """A whole rules file.  Tiers are listed best first."""

    id: Id
    name: Text
    regulations: list[Regulation] = Field(min_length=1)
    scale: Scale
    precision: Precision
    bodies: list[Body] = []
    method_notes: list[Text] = []
    tiers: list[Tier] = Field(min_length=2)
    groups: list[Group] = Field(min_length=1)
    conditions: list[Condition] = []
    quotas: list[Quota] = []
    ranking: Ranking = Ranking()
    wording: Wording = Wording()
    # Groups of the registry this regime leaves out (their units are not evaluated).
    not_evaluated: list[NotEvaluated] = []
    # Scores per period (quarters, months) aggregated into the year: years with inputs.periods.
    periods: Periods | None = None
    # Order of the groups in the summary sentences (default: the order of `groups`).
    summary_order: list[Id] = []
    # Detailed scoring (years that publish points by criterion): empty for totals-only rules.
    criteria_sets: list[CriteriaSet] = []
    rater_kinds: list[RaterKind] = []
    surveys: list[Survey] = []
    adjustments: Adjustments = Adjustments()

    @model_validator(mode="after")
    def _check(self) -> Rules:
        errors: list[str] = []
        for kind, items in (("tiers", self.tiers), ("groups", self.groups), ("bodies", self.bodies),
                            ("regulations", self.regulations), ("conditions", self.conditions)):
            ids = [i.id for i in items]
            errors += [f"{kind}: mã «{i}» bị lặp" for i in sorted({i for i in ids if ids.count(i) > 1})]
        errors += _tier_problems(self.tiers, self.scale)
        tier_ids = {t.id for t in self.tiers}
        regs = {r.id for r in self.regulations}
        errors += [f"groups[{i}].regulation: «{g.regulation}» không có trong regulations"
                   for i, g in enumerate(self.groups) if g.regulation not in regs]
        errors += [f"summary_order[{i}]: «{g}» không có trong groups"
                   for i, g in enumerate(self.summary_order) if g not in {x.id for x in self.groups}]
        errors += [f"conditions[{i}].max_tier: «{c.max_tier}» không có trong tiers"
                   for i, c in enumerate(self.conditions) if c.max_tier not in tier_ids]
        group_ids = {g.id for g in self.groups}
        errors += [f"not_evaluated[{i}].group: «{n.group}» là một nhóm được đánh giá (có trong groups)"
                   for i, n in enumerate(self.not_evaluated) if n.group in group_ids]
        errors += _duplicates("not_evaluated", [n.group for n in self.not_evaluated])
        if self.periods is not None:
            errors += [f"periods.items: {e}" for e in _duplicates("mã kỳ", [p.code for p in self.periods.items])]
            if self.periods.min_periods > len(self.periods.items):
                errors.append(f"periods.min_periods: {self.periods.min_periods} lớn hơn số kỳ "
                              f"({len(self.periods.items)})")
        for i, q in enumerate(self.quotas):
            unknown = False
            for key in ("tier", "of", "demote_to"):
                value = getattr(q, key)
                if value is not None and value != "all" and value not in tier_ids:
                    errors.append(f"quotas[{i}].{key}: «{value}» không có trong tiers")
                    unknown = True
            if not unknown:
                errors += _quota_problems(i, q, self.tier_ids, self.tiers)
        errors += _decimals_problems(self)
        errors += _detail_problems(self)
        if errors:
            raise RuleErrors(errors)
        return self

    # -- conveniences used by the stages ------------------------------------------
    def tier(self, tier_id: str) -> Tier:
        return next(t for t in self.tiers if t.id == tier_id)

    def group(self, group_id: str) -> Group:
        return next(g for g in self.groups if g.id == group_id)

    @property
    def tier_ids(self) -> list[str]:
        return [t.id for t in self.tiers]

    @property
    def classified_tiers(self) -> list[Tier]:
        """The tiers proper, without the declared "not classified" outcome (if any)."""
        return [t for t in self.tiers if t.classified]

    @property
    def has_adjustments(self) -> bool:
        """False when the regime has no bonus and no penalty (``scale.adjustment_max: 0``)."""
        return self.scale.adjustment_max > 0

    def regulation(self, regulation_id: str) -> Regulation:
        return next(r for r in self.regulations if r.id == regulation_id)

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]

    @property
    def summary_groups(self) -> list[Group]:
        order = self.summary_order or self.group_ids
        return [self.group(g) for g in order] + [g for g in self.groups if g.id not in order]

    @property
    def detailed(self) -> bool:
        """True when the rules carry a criteria catalogue."""
        return bool(self.criteria_sets)

    def criteria_set(self, set_id: str) -> CriteriaSet:
        return next(c for c in self.criteria_sets if c.id == set_id)

    def survey(self, survey_id: str) -> Survey:
        return next(s for s in self.surveys if s.id == survey_id)

    def body(self, body_id: str) -> Body:
        return next(b for b in self.bodies if b.id == body_id)

    def unconfirmed_detail(self) -> list[tuple[str, str]]:
        """Unconfirmed items of the detailed scoring (criteria, surveys, bonus/penalty items).

        Kept apart from :meth:`unconfirmed` so that a totals-only report does not list them.
        """
        out: list[tuple[str, str]] = []
        for i, cs in enumerate(self.criteria_sets):
            if not cs.confirmed:
                out.append((f"criteria_sets[{i}]", f"các đơn vị thuộc bộ tiêu chí «{cs.name}»"))
            loose = [c.code for c in cs.criteria if not c.confirmed]
            if len(loose) == len(cs.criteria):
                out.append((f"criteria_sets[{i}].criteria", f"điểm tối đa của mọi tiêu chí trong bộ «{cs.name}»"))
            elif loose:
                out.append((f"criteria_sets[{i}].criteria",
                            f"điểm tối đa các tiêu chí của bộ «{cs.name}»: " + ", ".join(loose)))
        for i, s in enumerate(self.surveys):
            if not s.confirmed:
                out.append((f"surveys[{i}]", f"thang điểm, công thức và số phiếu tối thiểu của «{s.name}»"))
        stage_names = {"criterion": "điểm từng tiêu chí", "survey": "điểm trung bình phiếu đánh giá",
                       "adjustment": "từng khoản điểm thưởng, điểm trừ", "total": "các tổng điểm"}
        loose_stages = [f"{stage_names[k]} {getattr(self.precision.stages, k).decimals} chữ số thập phân"
                        for k in stage_names if not getattr(self.precision.stages, k).confirmed]
        if loose_stages:
            out.append(("precision.stages", "làm tròn trong khi tính: " + "; ".join(loose_stages)))
        if not self.adjustments.confirmed:
            out.append(("adjustments.bound", "cách giới hạn tổng điểm thưởng, điểm trừ"))
        loose_items = [it.code for it in self.adjustments.items if not it.confirmed]
        if loose_items:
            out.append(("adjustments.items", "phạm vi áp dụng hoặc cách tách các nội dung thưởng, trừ: "
                        + ", ".join(loose_items)))
        return out

    def unconfirmed(self) -> list[tuple[str, str]]:
        """Items not confirmed by the source: (place in the file, what it says)."""
        out: list[tuple[str, str]] = []
        if not self.scale.confirmed:
            out.append(("scale", "thang điểm"))
        if not self.precision.confirmed:
            out.append(("precision", f"làm tròn {self.precision.decimals} chữ số thập phân "
                                     f"({ROUNDING_WORDS[self.precision.rounding]})"))
        for i, t in enumerate(self.tiers):
            if not t.confirmed:
                # A tier from the bottom of the scale is bounded only from above: "từ 0 điểm" says nothing.
                bound = (f"dưới {t.max} điểm" if t.min <= self.scale.score_min and t.max is not None
                         else f"từ {t.min} điểm")
                out.append((f"tiers[{i}]", f"ngưỡng «{t.name}» {bound}"))
        for i, r in enumerate(self.regulations):
            if not r.confirmed:
                out.append((f"regulations[{i}]", r.number))
        for i, g in enumerate(self.groups):
            if not g.confirmed:
                out.append((f"groups[{i}]", f"nhóm «{g.name}» và văn bản áp dụng cho nhóm"))
        for i, c in enumerate(self.conditions):
            if not c.confirmed:
                out.append((f"conditions[{i}]", c.name))
        for i, q in enumerate(self.quotas):
            name = self.tier(q.tier).name
            if not q.confirmed:
                out.append((f"quotas[{i}]", f"hạn mức «{name}»"))
            if not q.limit.confirmed:
                out.append((f"quotas[{i}].limit", f"cách làm tròn số đơn vị tối đa của hạn mức «{name}»"))
            if not q.ties.confirmed:
                out.append((f"quotas[{i}].ties", f"cách xử lý các đơn vị bằng điểm ở giới hạn của hạn mức «{name}»"))
        if not self.ranking.confirmed:
            out.append(("ranking", "cách xếp thứ hạng trong nhóm"))
        if self.periods is not None and not self.periods.confirmed:
            out.append(("periods", "điểm theo kỳ, cách tính điểm năm từ điểm các kỳ và xử lý kỳ thiếu điểm"))
        return out


class RuleErrors(ValueError):
    """The cross-checks of a rules file that failed, each ``"place: what is wrong"``."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def _quota_problems(i: int, q: Quota, tier_ids: list[str], tiers: list[Tier]) -> list[str]:
    """A quota must demote to a tier below its own, and count another tier or all units."""
    level = tier_ids.index(q.tier)
    errors = []
    if not tiers[level].classified:
        errors.append(f"quotas[{i}].tier: «{tiers[level].name}» là kết quả «không xếp loại», không đặt hạn mức")
    if q.of == q.tier:
        errors.append(f"quotas[{i}].of: hạn mức của «{q.tier}» không thể tính theo chính số đơn vị «{q.tier}»")
    if q.demote_to is None and level == len(tier_ids) - 1:
        errors.append(f"quotas[{i}].tier: «{q.tier}» là bậc thấp nhất, không có bậc nào để hạ xuống")
    elif q.demote_to is not None and tier_ids.index(q.demote_to) <= level:
        errors.append(f"quotas[{i}].demote_to: «{q.demote_to}» phải là bậc thấp hơn «{q.tier}»")
    return errors


def _finer(value: Decimal, decimals: int) -> bool:
    return value % Decimal(1).scaleb(-decimals) != 0


def _decimals_problems(rules: Rules) -> list[str]:
    """Values finer than the precision of the stage that uses them, and sums coarser than their parts.

    A bound finer than the published precision is never equalled by a published score; a
    criterion maximum or an item's points finer than their stage would be rounded away; a sum
    coarser than its parts would print a total its printed parts do not add up to.
    """
    decimals = rules.precision.decimals
    stages = rules.precision.stages
    places = [(f"scale.{k}", getattr(rules.scale, k)) for k in ("score_min", "score_max")]
    for i, t in enumerate(rules.tiers):
        places += [(f"tiers[{i}].min", t.min)] + ([(f"tiers[{i}].max", t.max)] if t.max is not None else [])
    errors = [f"{place}: {value} có nhiều chữ số thập phân hơn điểm công bố ({decimals} chữ số, "
              f"precision.decimals)" for place, value in places if _finer(value, decimals)]
    for part in ("criterion", "adjustment"):
        if getattr(stages, part).decimals > stages.total.decimals:
            errors.append(f"precision.stages.{part}.decimals: {getattr(stages, part).decimals} chữ số thập phân, "
                          f"nhiều hơn tổng (precision.stages.total: {stages.total.decimals}): các phần in ra sẽ "
                          "không cộng đúng tổng")
    checks = [(f"scale.{k}", getattr(rules.scale, k), "total") for k in ("appraisal_max", "adjustment_max")]
    checks += [(f"criteria_sets[{i}].criteria[{j}].max", c.max, "criterion")
               for i, cs in enumerate(rules.criteria_sets) for j, c in enumerate(cs.criteria)]
    checks += [(f"adjustments.items[{i}].{k}", getattr(it, k), "adjustment")
               for i, it in enumerate(rules.adjustments.items) for k in ("points", "up_to", "cap")
               if getattr(it, k) is not None]
    errors += [f"{place}: {value} có nhiều chữ số thập phân hơn quy định làm tròn của bước này "
               f"({getattr(stages, stage).decimals} chữ số, precision.stages.{stage})"
               for place, value, stage in checks if _finer(value, getattr(stages, stage).decimals)]
    return errors


def _tier_problems(tiers: list[Tier], scale: Scale) -> list[str]:
    errors = []
    for i, (upper, lower) in enumerate(zip(tiers, tiers[1:], strict=False), start=1):
        if lower.min >= upper.min:
            errors.append(f"tiers[{i}].min: {lower.min} phải nhỏ hơn ngưỡng của bậc trên "
                          f"«{upper.name}» ({upper.min}); các bậc xếp từ cao xuống thấp")
        if lower.max is not None and lower.max > upper.min:
            errors.append(f"tiers[{i}].max: «{lower.name}» đến dưới {lower.max} chồng lên "
                          f"«{upper.name}» từ {upper.min}")
        elif lower.max is not None and lower.max < upper.min:
            errors.append(f"tiers[{i}].max: khoảng trống giữa {lower.max} và {upper.min} "
                          f"(giữa «{lower.name}» và «{upper.name}»)")
    if tiers[-1].min > scale.score_min:
        errors.append(f"tiers[{len(tiers) - 1}].min: bậc thấp nhất phải bắt đầu từ {scale.score_min} "
                      f"(đang là {tiers[-1].min}: điểm dưới mức này không thuộc bậc nào); nếu quy định không "
                      f"xếp loại điểm thấp hơn, thêm cuối danh sách một mục từ {scale.score_min} với "
                      "«classified: false» (ví dụ «Không xếp loại»)")
    errors += [f"tiers[{i}].classified: chỉ mục cuối cùng (dưới mọi bậc) được ghi «classified: false»"
               for i, t in enumerate(tiers[:-1]) if not t.classified]
    if sum(t.classified for t in tiers) < 2:
        errors.append("tiers: cần ít nhất hai bậc xếp loại (không kể mục «classified: false»)")
    if tiers[0].min > scale.score_max:
        errors.append(f"tiers[0].min: {tiers[0].min} vượt điểm tối đa {scale.score_max}")
    if tiers[0].max is not None and tiers[0].max <= tiers[0].min:
        errors.append("tiers[0].max phải lớn hơn tiers[0].min")
    return errors


def _duplicates(kind: str, ids: list[str]) -> list[str]:
    return [f"{kind}: mã «{i}» bị lặp" for i in sorted({i for i in ids if ids.count(i) > 1})]


def _detail_problems(rules: Rules) -> list[str]:
    """Cross-checks of the criteria sets, surveys and bonus/penalty items."""
    errors: list[str] = []
    groups = {g.id: g for g in rules.groups}
    bodies = {b.id for b in rules.bodies}
    errors += _duplicates("criteria_sets", [c.id for c in rules.criteria_sets])
    for i, cs in enumerate(rules.criteria_sets):
        where = f"criteria_sets[{i}]"
        group = groups.get(cs.group)
        if group is None:
            errors.append(f"{where}.group: «{cs.group}» không có trong groups")
        elif group.kinds:
            errors += [f"{where}.kinds: «{k}» không có trong kinds của nhóm «{cs.group}»"
                       for k in cs.kinds if k not in group.kinds]
        errors += [f"{where}.{e}" for e in _duplicates("criteria", [c.code for c in cs.criteria])]
        errors += [f"{where}.criteria[{j}].body: «{c.body}» không có trong bodies"
                   for j, c in enumerate(cs.criteria) if c.body not in bodies]
        if cs.total != rules.scale.appraisal_max:
            errors.append(f"{where}: tổng điểm tối đa các tiêu chí là {cs.total}, phải bằng "
                          f"scale.appraisal_max ({rules.scale.appraisal_max})")
    sets = {c.id: c for c in rules.criteria_sets}
    kinds = {r.id for r in rules.rater_kinds}
    errors += _duplicates("rater_kinds", [r.id for r in rules.rater_kinds])
    errors += [f"rater_kinds[{i}].groups: «{g}» không có trong groups"
               for i, r in enumerate(rules.rater_kinds) for g in r.groups if g not in groups]
    errors += _duplicates("surveys", [s.id for s in rules.surveys])
    errors += _duplicates("surveys[].questions", [q.code for s in rules.surveys for q in s.questions])
    scored: dict[tuple[str, str], str] = {}
    for i, sv in enumerate(rules.surveys):
        where = f"surveys[{i}]"
        if sv.scale_max <= sv.scale_min:
            errors.append(f"{where}.scale_max: phải lớn hơn scale_min ({sv.scale_min})")
        errors += [f"{where}.raters: «{r}» không có trong rater_kinds" for r in sv.raters if r not in kinds]
        for s in sv.sets:
            if s not in sets:
                errors.append(f"{where}.sets: «{s}» không có trong criteria_sets")
            elif sv.criterion not in {c.code for c in sets[s].criteria}:
                errors.append(f"{where}.criterion: «{sv.criterion}» không có trong bộ tiêu chí «{s}»")
            elif (s, sv.criterion) in scored:
                errors.append(f"{where}: tiêu chí «{sv.criterion}» của bộ «{s}» đã được chấm bằng phiếu "
                              f"«{scored[(s, sv.criterion)]}»")
            else:
                scored[(s, sv.criterion)] = sv.id
    errors += _duplicates("adjustments.items", [it.code for it in rules.adjustments.items])
    if rules.adjustments.items and rules.scale.adjustment_max == 0:
        errors.append(f"adjustments.items: {len(rules.adjustments.items)} nội dung thưởng, trừ nhưng quy định không "
                      "có điểm thưởng, điểm trừ (scale.adjustment_max: 0)")
    for i, it in enumerate(rules.adjustments.items):
        errors += [f"adjustments.items[{i}].scope.groups: «{g}» không có trong groups"
                   for g in it.scope.groups if g not in groups]
    return errors


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _StrictLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader (plain data only), refusing a key written twice in one mapping.

    PyYAML keeps the last of two equal keys silently: a tier with ``min`` written twice, or
    ``tiers:`` pasted twice, would lose the first without a word.
    """

    def construct_mapping(self, node, deep=False):
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *defaults" may be overridden by the keys written beside it
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):
                continue  # unhashable keys are refused by the constructor itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"khóa «{key}» bị lặp trong cùng một bảng (giá trị trước sẽ bị bỏ mất)",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _plain_text(data: Any, label: str) -> tuple[Any, list[Problem]]:
    """Every string as NFC; control characters refused with their key path.

    Shared sub-trees (YAML aliases) are visited once, so an alias bomb costs no more
    than its text.
    """
    problems: list[Problem] = []
    done: dict[int, Any] = {}

    def walk(value: Any, place: str) -> Any:
        if isinstance(value, str):
            if _CONTROL_RE.search(value):
                problems.append(Problem(label, None, place or None, _CONTROL_RE.sub("?", value),
                                        "ký tự điều khiển không in được: hãy xóa ký tự này"))
            return unicodedata.normalize("NFC", value)
        if not isinstance(value, (dict, list)):
            return value
        if id(value) in done:
            return done[id(value)]
        if isinstance(value, list):
            out: Any = []
            done[id(value)] = out
            out.extend(walk(v, f"{place}[{i}]") for i, v in enumerate(value))
        else:
            out = {}
            done[id(value)] = out
            for k, v in value.items():
                key = walk(k, place) if isinstance(k, str) else k
                out[key] = walk(v, f"{place}.{key}".lstrip("."))
        return out

    return walk(data, ""), problems


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = str(getattr(exc, "problem", None) or exc)
    tag = re.search(r"constructor for the tag '(?:tag:yaml\.org,2002:)?([^']*)'", problem)
    if tag:  # !!python/object/apply:os.system and the like: code, never run
        return (f"thẻ «!!{tag.group(1)}» không được phép: tệp chỉ chứa dữ liệu thuần "
                "(chữ, số, đúng/sai, danh sách, bảng khóa: giá trị)")
    if not problem.isascii():
        return problem  # ours (a key written twice), already in Vietnamese
    return parser_text(problem)  # PyYAML's own words are English


def load_yaml(path: Path, label: str) -> tuple[Any, list[Problem]]:
    """Safely load a YAML file (plain data only); problems instead of exceptions.

    Refused with a problem: a missing or oversized file, text not in UTF-8, invalid YAML,
    a key written twice, control characters.  Strings come back NFC-normalised.
    """
    path = Path(path)
    if not path.exists():
        return None, [Problem(label, None, None, None, "không tìm thấy tệp")]
    if not path.is_file():
        return None, [Problem(label, None, None, None, "không phải một tệp (là thư mục?)")]
    try:
        text = read_input(path, MAX_YAML_BYTES).decode("utf-8")  # once: its checksum is of these bytes
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (safe loader)
        if not isinstance(data, dict):
            return None, [Problem(label, None, None, None, "tệp YAML phải là một bảng khóa: giá trị")]
        data, problems = _plain_text(data, label)
    except UnicodeDecodeError:
        return None, [Problem(label, None, None, None, "tệp YAML phải ở dạng UTF-8")]
    except TooLarge as exc:
        return None, [Problem(label, None, None, f"{exc.size / 1024 / 1024:.0f} MB",
                              f"tệp quá lớn (giới hạn {MAX_YAML_BYTES // 1024 // 1024} MB): có lẽ nhầm tệp")]
    except OSError as exc:
        return None, [Problem(label, None, None, None, f"không đọc được tệp: {os_error_text(exc)}")]
    except RecursionError:  # PyYAML (and the walk above) recurse: "[[[[…" a few hundred deep
        return None, [Problem(label, None, None, None, "YAML không hợp lệ: các mục lồng nhau quá sâu")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        return None, [Problem(label, row, None, None, f"YAML không hợp lệ: {_yaml_problem(exc)}")]
    return (None, problems) if problems else (data, [])


def read_yaml_model(model: type[_Model], path: Path, label: str) -> tuple[Any, list[Problem]]:
    """Load a YAML file into a model; every validation error becomes a Problem."""
    data, problems = load_yaml(path, label)
    if problems:
        return None, problems
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [p for err in exc.errors() for p in _problems_from_pydantic(label, err)]


_PLACE_RE = re.compile(r"^([a-z_]+(?:\[\d*\])?(?:\.[a-z_]+(?:\[\d*\])?)*): (.*)$", re.S)


def _problems_from_pydantic(label: str, err: dict[str, Any]) -> list[Problem]:
    """One problem per failed check; cross-checks name their own place (``tiers[2].max``)."""
    cause = (err.get("ctx") or {}).get("error")
    if not isinstance(cause, RuleErrors):
        return [_problem_from_pydantic(label, err)]
    problems = []
    for text in cause.errors:
        m = _PLACE_RE.match(text)
        place, msg = (m.group(1), m.group(2)) if m else (None, text)
        problems.append(Problem(label, None, place, None, msg))
    return problems


# pydantic's messages, said in Vietnamese for the analysts who edit these files.
_PYDANTIC_VI = {
    "extra_forbidden": "khóa không được biết đến (viết sai tên khóa?)",
    "missing": "thiếu khóa bắt buộc",
    "string_pattern_mismatch": "sai dạng (cần khớp mẫu {pattern})",
    "string_too_short": "không được để trống",
    "string_type": "cần một chuỗi chữ",
    "literal_error": "cần một trong các giá trị: {expected}",
    "int_parsing": "cần một số nguyên",
    "int_type": "cần một số nguyên",
    "int_from_float": "cần một số nguyên",
    "decimal_parsing": "cần một số",
    "decimal_type": "cần một số",
    "finite_number": "cần một số hữu hạn",
    "bool_parsing": "cần true hoặc false",
    "bool_type": "cần true hoặc false",
    "greater_than": "cần lớn hơn {gt}",
    "greater_than_equal": "cần từ {ge} trở lên",
    "less_than_equal": "cần không quá {le}",
    "too_short": "cần ít nhất {min_length} mục",
    "list_type": "cần một danh sách",
    "dict_type": "cần một bảng khóa: giá trị",
    "model_type": "cần một bảng khóa: giá trị",
    "model_attributes_type": "cần một bảng khóa: giá trị",
    "union_tag_invalid": "loại «{tag}» không được biết đến; các loại: {expected_tags}",
    "union_tag_not_found": "thiếu khóa {discriminator} (loại giá trị thay đổi)",
    "less_than": "cần nhỏ hơn {lt}",
}


def _fmt_ctx(value: Any) -> str:
    text = re.sub(r"'([^']*)'", r"«\1»", str(value))
    return text.replace(" or ", " hoặc ")


def _problem_from_pydantic(label: str, err: dict[str, Any]) -> Problem:
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    value = err.get("input")
    shown = None if isinstance(value, (dict, list)) else (None if value is None else str(value))
    msg = _PYDANTIC_VI.get(err["type"], err["msg"].removeprefix("Value error, "))
    if "{" in msg:
        msg = msg.format(**{k: _fmt_ctx(v) for k, v in (err.get("ctx") or {}).items()})
    return Problem(label, None, loc or None, shown, msg)


def load_rules(path: Path, label: str | None = None) -> Rules:
    """Read a rules file.

    Raises
    ------
    InputError
        Listing every problem, each with its place in the file.
    """
    rules, problems = read_yaml_model(Rules, path, label or str(path))
    if problems:
        raise InputError(problems)
    return rules


# -- declared uncertainty: which values of the rules and inputs may vary, and how --------------------
#
# A separate file (``params/uncertainty/*.yaml``) named by a year's params (key ``uncertainty``).
# Nothing varies unless it is declared here; :func:`derive_uncertainty` makes a declaration from the
# values the rules mark ``confirmed: false``, for an analyst who asks for it.

VARY_KINDS = ("criterion_max", "rounding", "tier_min", "survey", "up_to")
# The kinds that need a year scored from its parts; a totals-only year gets the others only.
DETAIL_KINDS = ("criterion_max", "survey", "up_to")
ROUNDINGS = ("down", "half_up", "half_even", "up")


class _Vary(_Model):
    label: str | None = None      # what the report calls it (default: made from the rules)
    note: str | None = None       # why it is uncertain, said in the report


class VaryCriterionMax(_Vary):
    """A criterion's maximum within a range (``min``/``max`` in points, or ± ``spread`` of the rules' value).

    The other criteria of the set share the rest of ``scale.appraisal_max`` in their rules' proportions;
    each unit keeps its achievement on every criterion (points ÷ maximum).
    """

    kind: Literal["criterion_max"]
    criterion: Code
    sets: list[Id] = []
    min: Positive | None = None
    max: Positive | None = None
    spread: Number | None = None


def _alternative(value: Any) -> Any:
    return {"rounding": value} if isinstance(value, str) else value


class RoundingAlternative(_Model):
    rounding: Literal["down", "half_up", "half_even", "up"]
    decimals: int | None = Field(default=None, ge=0, le=6)   # default: the rules' decimals


class VaryRounding(_Vary):
    """The rounding of published scores among alternatives (``[down, half_up]``), equally likely."""

    kind: Literal["rounding"]
    alternatives: list[Annotated[RoundingAlternative, BeforeValidator(_alternative)]] = Field(min_length=2)


class VaryTierMin(_Vary):
    """A tier's lower bound anywhere on the published grid from ``min`` to ``max``, equally likely."""

    kind: Literal["tier_min"]
    tier: Id
    min: Number
    max: Number


class VarySurvey(_Vary):
    """Survey points by resampling each unit's forms with replacement (within each kind of rater)."""

    kind: Literal["survey"]
    surveys: list[Id] = Field(min_length=1)


class VaryUpTo(_Vary):
    """Items the council decides "up to" a maximum: each row anywhere from 0 to its maximum."""

    kind: Literal["up_to"]
    items: list[Code] = Field(min_length=1)


Vary = Annotated[VaryCriterionMax | VaryRounding | VaryTierMin | VarySurvey | VaryUpTo,
                 Field(discriminator="kind")]


_VARY = TypeAdapter(Vary)


class Uncertainty(_Model):
    """A declaration of uncertainty: ``draws`` scenarios from ``seed``, the values in ``vary``."""

    name: Text
    draws: int = Field(default=1000, ge=10, le=100_000)
    seed: int = Field(default=0, ge=0)
    vary: list[Vary] = []


def _on_grid(value: Decimal, decimals: int) -> bool:
    return value % Decimal(1).scaleb(-decimals) == 0


def uncertainty_problems(u: Uncertainty, rules: Rules) -> list[str]:
    """Every way ``u`` does not fit ``rules``, each ``"vary[i].key: what is wrong"`` (Vietnamese)."""
    errors: list[str] = []
    sets = {cs.id: cs for cs in rules.criteria_sets}
    tiers = rules.tier_ids
    surveys = {s.id for s in rules.surveys}
    items = {it.code: it for it in rules.adjustments.items}
    seen: dict[tuple, int] = {}
    decimals = {rules.precision.decimals}
    for v in u.vary:
        if isinstance(v, VaryRounding):
            decimals |= {a.decimals for a in v.alternatives if a.decimals is not None}
    tier_ranges: dict[int, tuple[Decimal, Decimal, int]] = {}

    def once(key: tuple, i: int, where: str, what: str) -> bool:
        """Whether ``key`` is declared here for the first time (a second declaration is a problem)."""
        if key in seen:
            errors.append(f"vary[{i}].{where}: {what} đã được khai báo ở vary[{seen[key]}]")
            return False
        seen[key] = i
        return True

    for i, v in enumerate(u.vary):
        at = f"vary[{i}]"
        if isinstance(v, VaryCriterionMax):
            having = [cs.id for cs in rules.criteria_sets if v.criterion in {c.code for c in cs.criteria}]
            if not having:
                errors.append(f"{at}.criterion: «{v.criterion}» không có trong bộ tiêu chí nào của quy định")
                continue
            bad = [s for s in v.sets if s not in having]
            errors += [f"{at}.sets: bộ «{s}» " + ("không có tiêu chí «" + v.criterion + "»" if s in sets
                                                  else "không có trong criteria_sets") for s in bad]
            if bad:
                continue
            if (v.min is None) != (v.max is None) or (v.min is None) == (v.spread is None):
                errors.append(f"{at}: ghi khoảng điểm tối đa bằng «min» và «max» (điểm) hoặc bằng «spread» "
                              "(tỷ lệ, ví dụ 0,25 = ±25%), không ghi cả hai")
                continue
            if v.spread is not None and not Decimal(0) < v.spread < Decimal(1):
                errors.append(f"{at}.spread: {v.spread} phải lớn hơn 0 và nhỏ hơn 1 (0,25 = ±25%)")
                continue
            for s in v.sets or having:
                once(("criterion_max", v.criterion, s), i, "criterion", f"điểm tối đa «{v.criterion}» của bộ «{s}»")
                cs = sets[s]
                nominal = next(c.max for c in cs.criteria if c.code == v.criterion)
                lo, hi = (v.min, v.max) if v.spread is None else (nominal * (1 - v.spread), nominal * (1 + v.spread))
                if lo >= hi:
                    errors.append(f"{at}.max: {hi} phải lớn hơn min ({lo})")
                elif not lo <= nominal <= hi:
                    errors.append(f"{at}: điểm tối đa trong quy định ({nominal}, bộ «{s}») phải nằm trong khoảng "
                                  f"{lo}–{hi}: kết quả công bố dùng giá trị này")
                elif len(cs.criteria) > 1 and hi >= rules.scale.appraisal_max:
                    errors.append(f"{at}.max: {hi} không để lại điểm cho các tiêu chí khác của bộ «{s}» "
                                  f"(tổng {rules.scale.appraisal_max})")
        elif isinstance(v, VaryRounding):
            once(("rounding",), i, "kind", "cách làm tròn")
            keys = [(a.decimals if a.decimals is not None else rules.precision.decimals, a.rounding)
                    for a in v.alternatives]
            errors += [f"{at}.alternatives[{j}]: cách làm tròn bị lặp" for j, k in enumerate(keys) if k in keys[:j]]
            if (rules.precision.decimals, rules.precision.rounding) not in keys:
                errors.append(f"{at}.alternatives: phải có cách làm tròn của quy định ({rules.precision.rounding}, "
                              f"{rules.precision.decimals} chữ số): kết quả công bố dùng cách này")
            for j, a in enumerate(v.alternatives):
                d = keys[j][0]
                off = [f"{t.min}" for t in rules.tiers if not _on_grid(t.min, d)]
                if off:
                    errors.append(f"{at}.alternatives[{j}].decimals: làm tròn {d} chữ số thì điểm công bố không bao "
                                  f"giờ bằng ngưỡng {', '.join(off)}")
        elif isinstance(v, VaryTierMin):
            if v.tier not in tiers:
                errors.append(f"{at}.tier: «{v.tier}» không có trong tiers; các mức: {', '.join(tiers)}")
                continue
            if not once(("tier_min", v.tier), i, "tier", f"ngưỡng «{v.tier}»"):
                continue
            k = tiers.index(v.tier)
            nominal = rules.tiers[k].min
            if k == len(tiers) - 1:
                errors.append(f"{at}.tier: «{v.tier}» là mức thấp nhất: ngưỡng của nó là điểm thấp nhất của thang "
                              "điểm, không thay đổi được")
                continue
            for key, value in (("min", v.min), ("max", v.max)):
                off = [d for d in sorted(decimals) if not _on_grid(value, d)]
                if off:
                    errors.append(f"{at}.{key}: {value} có nhiều chữ số thập phân hơn điểm công bố ({off[0]} chữ số)")
            if v.min >= v.max:
                errors.append(f"{at}.max: {v.max} phải lớn hơn min ({v.min})")
            elif not v.min <= nominal <= v.max:
                errors.append(f"{at}: ngưỡng trong quy định ({nominal}) phải nằm trong khoảng {v.min}–{v.max}: kết quả "
                              "công bố dùng ngưỡng này")
            elif v.min <= rules.scale.score_min or v.max > rules.scale.score_max:
                errors.append(f"{at}: khoảng {v.min}–{v.max} phải nằm trong thang điểm (trên {rules.scale.score_min}, "
                              f"đến {rules.scale.score_max})")
            else:
                tier_ranges[k] = (v.min, v.max, i)
        elif isinstance(v, VarySurvey):
            for j, s in enumerate(v.surveys):
                if s not in surveys:
                    errors.append(f"{at}.surveys[{j}]: «{s}» không có trong surveys của quy định")
                else:
                    once(("survey", s), i, f"surveys[{j}]", f"phiếu «{s}»")
        elif isinstance(v, VaryUpTo):
            for j, code in enumerate(v.items):
                it = items.get(code)
                if it is None:
                    errors.append(f"{at}.items[{j}]: «{code}» không có trong adjustments.items")
                elif it.points is not None:
                    errors.append(f"{at}.items[{j}]: «{code}» có điểm cố định ({it.points} điểm mỗi lần), không do "
                                  "Hội đồng quyết định trong một mức tối đa")
                elif it.up_to is None and it.cap is None:
                    errors.append(f"{at}.items[{j}]: «{code}» không có mức tối đa (up_to hoặc cap) để thay đổi từ 0 "
                                  "đến mức đó")
                else:
                    once(("up_to", code), i, f"items[{j}]", f"nội dung «{code}»")
    # Bounds keep their order in every scenario: a tier's range lies wholly above the next one's.
    for k in sorted(tier_ranges):
        lo, _, i = tier_ranges[k]
        below = k + 1
        hi_below = tier_ranges[below][1] if below in tier_ranges else rules.tiers[below].min
        if below < len(tiers) and lo <= hi_below:
            errors.append(f"vary[{i}].min: {lo} phải lớn hơn ngưỡng của mức dưới «{rules.tiers[below].short}» "
                          f"(có thể đến {hi_below}); các mức xếp từ cao xuống thấp")
        above = k - 1
        if above >= 0 and above not in tier_ranges and tier_ranges[k][1] >= rules.tiers[above].min:
            errors.append(f"vary[{i}].max: {tier_ranges[k][1]} phải nhỏ hơn ngưỡng của mức trên "
                          f"«{rules.tiers[above].short}» ({rules.tiers[above].min})")
    return errors


_TAG_RE = re.compile(r"(\[\d+\])\.(?:" + "|".join(VARY_KINDS) + r")(?=\.|$)")


def load_uncertainty(path: Path, rules: Rules, label: str | None = None) -> Uncertainty:
    """Read a declaration of uncertainty and check it against ``rules``.

    Each entry of ``vary`` is read on its own, so that one unreadable entry does not hide the
    problems of the others: every problem is reported at once.

    Raises
    ------
    InputError
        Listing every problem, each with its place in the file (``vary[2].max``).
    """
    label = label or str(path)
    data, problems = load_yaml(path, label)
    if problems:
        raise InputError(problems)
    entries = data.get("vary", [])
    head = {k: v for k, v in data.items() if k != "vary"}
    if isinstance(entries, list):
        head["vary"] = []
    else:
        head["vary"] = entries      # not a list: pydantic says so, with its place
        entries = []
    u = None
    try:
        u = Uncertainty.model_validate(head)
    except ValidationError as exc:
        problems += [p for err in exc.errors() for p in _problems_from_pydantic(label, err)]
    kept, places = [], []
    for i, entry in enumerate(entries):
        try:
            kept.append(_VARY.validate_python(entry))
            places.append(i)
        except ValidationError as exc:
            for err in exc.errors():
                problem = _problem_from_pydantic(label, {**err, "loc": ("vary", i, *err["loc"])})
                # pydantic names the kind in the place (vary[0].tier_min.max): the file says vary[0].max.
                problems.append(problem if problem.column is None else Problem(
                    problem.file, problem.row, _TAG_RE.sub(r"\1", problem.column), problem.value, problem.expected))
    if u is not None:
        u = u.model_copy(update={"vary": kept})
        cross = uncertainty_problems(u, rules)
        # Places count the entries read; the file counts them all.
        cross = [re.sub(r"^vary\[(\d+)\]", lambda m: f"vary[{places[int(m.group(1))]}]", e) for e in cross]
        problems += _problems_from_place(label, cross)
    if problems:
        raise InputError(sorted(problems, key=_place_order))
    return u


def _place_order(p: Problem) -> tuple:
    """Problems in the order of the file: by entry of ``vary``, then as found."""
    m = re.match(r"vary\[(\d+)\]", p.column or "")
    return (int(m.group(1)) if m else -1,)


def _problems_from_place(label: str, errors: list[str]) -> list[Problem]:
    out = []
    for text in errors:
        m = _PLACE_RE.match(text)
        place, msg = (m.group(1), m.group(2)) if m else (None, text)
        out.append(Problem(label, None, place, None, msg))
    return out


def checked_uncertainty(u: Uncertainty, rules: Rules, label: str = "khai báo độ không chắc chắn") -> Uncertainty:
    """``u`` checked again (as a file is), e.g. one made in a notebook; raises InputError."""
    try:
        u = Uncertainty.model_validate(u.model_dump())
    except ValidationError as exc:
        raise InputError([_problem_from_pydantic(label, err) for err in exc.errors()]) from None
    problems = _problems_from_place(label, uncertainty_problems(u, rules))
    if problems:
        raise InputError(problems)
    return u


def derive_uncertainty(rules: Rules, *, spread: float | str | Decimal = "0.25", bound: float | str | Decimal = 1,
                       draws: int = 1000, seed: int = 0) -> Uncertainty:
    """A declaration made from what ``rules`` mark ``confirmed: false`` — only when an analyst asks for it.

    * every unconfirmed criterion maximum: ± ``spread`` of its value (one entry per criterion code);
    * an unconfirmed rounding: every rounding at the rules' decimals;
    * every unconfirmed tier bound but the lowest: ± ``bound`` points, kept clear of the neighbours;
    * every survey: its forms resampled (a sample is uncertain whatever the rules say).
    """
    spread, bound = Decimal(str(spread)), Decimal(str(bound))
    vary: list[Any] = []
    codes: dict[str, list[str]] = {}
    for cs in rules.criteria_sets:
        for c in cs.criteria:
            if not (c.confirmed and cs.confirmed):
                codes.setdefault(c.code, []).append(cs.id)
    vary += [VaryCriterionMax(kind="criterion_max", criterion=code, sets=ids, spread=spread) for code, ids in codes.items()]
    if not rules.precision.confirmed:
        vary.append(VaryRounding(kind="rounding", alternatives=[RoundingAlternative(rounding=r) for r in ROUNDINGS]))
    step = Decimal(1).scaleb(-rules.precision.decimals)
    for k, t in enumerate(rules.tiers[:-1]):
        if t.confirmed:
            continue
        hi = min(t.min + bound, (rules.tiers[k - 1].min - bound - step) if k else rules.scale.score_max)
        lo = max(t.min - bound, rules.tiers[k + 1].min + bound + step)
        if lo < t.min or hi > t.min:
            vary.append(VaryTierMin(kind="tier_min", tier=t.id, min=min(lo, t.min), max=max(hi, t.min)))
    if rules.surveys:
        vary.append(VarySurvey(kind="survey", surveys=[s.id for s in rules.surveys]))
    return checked_uncertainty(Uncertainty(name="Các giá trị chưa được xác nhận của quy định", draws=draws, seed=seed,
                                           vary=vary), rules)
