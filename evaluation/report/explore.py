"""Exploring a year in JupyterLab: the functions behind ``notebooks/explore.ipynb``.

Each function takes an :class:`~evaluation.engine.pipeline.Evaluation` and returns a
new table with Vietnamese headers (numbers stay numbers, so they sort and
filter), or a figure.  :func:`show` formats a table the Vietnamese way for
display.  The notebook only calls these; what they compute is tested in
``tests/test_explore.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..engine.pipeline import Evaluation, evaluate
from ..engine.sensitivity import Sensitivity
from ..engine.whatif import scoring_changes, tier_changes, tier_counts
from ..fmt import fmt_bound
from ..fmt import number as fmt_number
from ..inputs.params import find_params
from ..inputs.rules import Group, Rules

__all__ = ["PARAMS_DIR", "years", "load_year", "find_unit", "find_group", "overview", "group_table",
           "unit_breakdown", "compare_with_group", "group_figure", "changes_table", "changes_summary",
           "counts_table", "reliability_summary", "reliability_table", "factors_table", "show"]

PARAMS_DIR = Path(__file__).resolve().parents[2] / "params"


def years(params_dir: Path | str = PARAMS_DIR) -> list[str]:
    """The years that can be loaded: the stems of ``params/*.yaml``."""
    return [p.stem for p in find_params(params_dir)]


def load_year(year: str | int, params_dir: Path | str = PARAMS_DIR) -> Evaluation:
    """Evaluate a year from ``params/<year>.yaml`` (raises InputError listing every input problem)."""
    return evaluate(Path(params_dir) / f"{year}.yaml")


def find_unit(ev: Evaluation, unit: str) -> str:
    """The id of a unit evaluated this year, from its id or any of its names (as the inputs are matched).

    Raises
    ------
    KeyError
        With the Vietnamese reason (unknown, ambiguous, not evaluated this year).
    """
    if unit in set(ev.ranked["unit_id"]):
        return unit
    match = ev.registry.match(pd.Series([unit]), year=ev.params.year).iloc[0]
    if pd.isna(match["unit_id"]):
        raise KeyError(f"«{unit}»: {match['problem']}")
    if match["unit_id"] not in set(ev.ranked["unit_id"]):
        raise KeyError(f"«{unit}»: không có trong kết quả năm {ev.params.year}")
    return str(match["unit_id"])


def find_group(rules: Rules, group: str) -> Group:
    """A group by id (``ubnd_huyen``), numeral (``III``) or name (``UBND cấp huyện``)."""
    from ..text import name_key

    for g in rules.groups:
        if group in (g.id, g.numeral) or name_key(group) == name_key(g.name):
            return g
    listed = "; ".join(f"{g.numeral}. {g.name} ({g.id})" for g in rules.groups)
    raise KeyError(f"«{group}» không phải một nhóm; các nhóm: {listed}")


def _tier_names(rules: Rules) -> dict[str, str]:
    return {t.id: t.name for t in rules.tiers}


def overview(ev: Evaluation) -> pd.DataFrame:
    """Units by tier (rows) and group (columns), with totals, named as the report names them."""
    counts = ev.counts.rename(index={**_tier_names(ev.rules), "total": "Tổng số"},
                              columns={**{g.id: f"{g.numeral}. {g.name}" for g in ev.rules.groups},
                                       "total": "Tổng số"})
    counts.index.name = "Xếp loại"
    counts.columns.name = None
    return counts.reset_index()


def group_table(ev: Evaluation, group: str) -> pd.DataFrame:
    """One group's units as the report lists them, with the gap between self and appraised scores."""
    g = find_group(ev.rules, group)
    r = ev.ranked[ev.ranked["group"] == g.id]
    return pd.DataFrame({
        "TT": r["order"], "Đơn vị": r["unit"], "Điểm tự chấm": r["self_score"], "Điểm đánh giá": r["score"],
        "Chênh lệch": (r["self_score"] - r["score"]).round(6), "Thứ hạng": r["rank"],
        "Xếp loại": r["tier"].map(_tier_names(ev.rules)), "Ghi chú xếp loại": r["tier_reason"],
    }).reset_index(drop=True)


def _bounds_text(score: float, tier_id: str, rules: Rules) -> tuple[str, str]:
    """Distance to the current tier's bound and to the next tier up, in words."""
    i = rules.tier_ids.index(tier_id)
    tier = rules.tiers[i]
    above = score - float(tier.min)
    here = f"{fmt_bound(round(above, 6))} điểm trên ngưỡng «{tier.short}» ({fmt_bound(tier.min)})"
    if i == 0:
        return here, "đã ở mức cao nhất"
    upper = rules.tiers[i - 1]
    need = float(upper.min) - score
    if need <= 0:  # the score reaches the tier above, but a condition or a quota kept the unit here
        return here, f"điểm đạt ngưỡng «{upper.short}» ({fmt_bound(upper.min)}) nhưng bị giới hạn"
    return here, f"còn thiếu {fmt_bound(round(need, 6))} điểm để đạt «{upper.short}» ({fmt_bound(upper.min)})"


def unit_breakdown(ev: Evaluation, unit: str) -> pd.DataFrame:
    """One unit, item by item: scores, gap, tier and why, rank, distance to the tier bounds.

    A two-column table (``Mục``, ``Giá trị``) of text, numbers written with a decimal comma.
    """
    uid = find_unit(ev, unit)
    row = ev.ranked.set_index("unit_id").loc[uid]
    rules = ev.rules
    group = rules.group(row["group"])
    size = int((ev.ranked["group"] == row["group"]).sum())
    here, next_up = _bounds_text(float(row["score"]), row["tier"], rules)
    gap = row["self_score"] - row["score"]
    items = [
        ("Đơn vị", ev.registry.units.at[uid, "name"]),
        ("Nhóm", f"{group.numeral}. {group.name}"),
        ("Điểm tự chấm", float(row["self_score"])),
        ("Điểm đánh giá (đã làm tròn theo quy định)", float(row["score"])),
        ("Chênh lệch tự chấm − đánh giá", None if pd.isna(gap) else round(float(gap), 6)),
        ("Xếp loại", _tier_names(rules)[row["tier"]]),
        ("Lý do xếp loại khác với điểm", row["tier_reason"] or "—"),
        ("Thứ hạng trong nhóm", f"{int(row['rank'])}/{size}"),
        ("So với ngưỡng hiện tại", here),
        ("So với mức trên", next_up),
    ]
    # Mixed values in one column: written as text, the Vietnamese way.
    text = [fmt_number(v, 1, max_decimals=3) if isinstance(v, float) else ("" if v is None else str(v))
            for _, v in items]
    return pd.DataFrame({"Mục": [k for k, _ in items], "Giá trị": text})


def compare_with_group(ev: Evaluation, unit: str) -> pd.DataFrame:
    """A unit beside its group: its value, the group's mean, median, lowest and highest, and its standing.

    Rows: appraised score, self score, gap (self − appraised).  ``Cao hơn`` is the
    share of the other units of the group whose value is lower than the unit's.
    """
    uid = find_unit(ev, unit)
    ranked = ev.ranked.assign(gap=(ev.ranked["self_score"] - ev.ranked["score"]).round(6))
    me = ranked.set_index("unit_id").loc[uid]
    peers = ranked[ranked["group"] == me["group"]]
    others = peers[peers["unit_id"] != uid]
    rows = []
    for label, col in (("Điểm đánh giá", "score"), ("Điểm tự chấm", "self_score"),
                       ("Chênh lệch tự chấm − đánh giá", "gap")):
        values = peers[col].dropna()
        mine = me[col]
        below = (others[col].dropna() < mine).mean() if len(others[col].dropna()) and pd.notna(mine) else None
        rows.append({"Chỉ số": label, me["unit"]: mine, "Trung bình nhóm": round(values.mean(), 6),
                     "Trung vị nhóm": values.median(), "Thấp nhất": values.min(), "Cao nhất": values.max(),
                     "So với trung bình": None if pd.isna(mine) else round(mine - values.mean(), 6),
                     "Cao hơn (tỷ lệ đơn vị khác trong nhóm)": below})
    return pd.DataFrame(rows)


def group_figure(ev: Evaluation, unit: str):
    """The unit's group on one axis (appraised scores), the unit marked, tier bounds drawn."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    uid = find_unit(ev, unit)
    me = ev.ranked.set_index("unit_id").loc[uid]
    peers = ev.ranked[ev.ranked["group"] == me["group"]].assign(
        who=lambda t: t["unit_id"].eq(uid).map({True: me["unit"], False: "các đơn vị khác trong nhóm"}))
    colors = {t.id: t.color for t in ev.rules.tiers}
    fig, ax = plt.subplots(figsize=(8, 2.6))
    sns.stripplot(data=peers, x="score", y="who", hue="tier", palette=colors, ax=ax, size=7, jitter=0.15,
                  legend=False)
    low, high = peers["score"].min(), peers["score"].max()
    for tier in ev.rules.tiers[:-1]:
        if low - 2 <= float(tier.min) <= high + 2:
            ax.axvline(float(tier.min), color=tier.color, linestyle="--", linewidth=1)
            ax.text(float(tier.min), 0.02, f" {tier.short} ≥ {fmt_bound(tier.min)}", color=tier.color,
                    fontsize=8, va="bottom", transform=ax.get_xaxis_transform())
    group = ev.rules.group(me["group"])
    ax.set(xlabel="Điểm đánh giá", ylabel="", title=f"{me['unit']} trong nhóm {group.numeral}. {group.name}")
    fig.tight_layout()
    plt.close(fig)  # shown once, by whoever displays it
    return fig


def changes_table(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """:func:`evaluation.engine.whatif.tier_changes` with Vietnamese headers and tier names."""
    changes = tier_changes(ev, rules)
    names = {**_tier_names(ev.rules), **_tier_names(rules)}
    groups = {g.id: f"{g.numeral}. {g.name}" for g in rules.groups}
    return pd.DataFrame({
        "Nhóm": changes["group"].map(groups), "Đơn vị": changes["unit"],
        **({"Điểm hiện nay": changes["score_before"], "Điểm theo giả định": changes["score"]}
           if scoring_changes(ev, rules) else {"Điểm đánh giá": changes["score"]}),
        "Xếp loại hiện nay": changes["tier_before"].map(names),
        "Xếp loại theo giả định": changes["tier_after"].map(names),
        "Thay đổi": changes["move"].map({1: "lên", -1: "xuống", 0: "khác"}),
        "Lý do": changes["reason"],
    })


def changes_summary(ev: Evaluation, rules: Rules) -> str:
    """One sentence: how many units would change tier, up and down."""
    moves = tier_changes(ev, rules)["move"]
    if moves.empty:
        return "Không đơn vị nào thay đổi xếp loại."
    parts = [f"{n} lên" for n in [int((moves > 0).sum())] if n] + \
            [f"{n} xuống" for n in [int((moves < 0).sum())] if n] + \
            [f"{n} sang mức khác" for n in [int((moves == 0).sum())] if n]
    return f"{len(moves)} đơn vị thay đổi xếp loại: " + ", ".join(parts) + "."


def counts_table(ev: Evaluation, rules: Rules) -> pd.DataFrame:
    """:func:`evaluation.engine.whatif.tier_counts` with Vietnamese headers and tier names."""
    counts = tier_counts(ev, rules)
    names = {**_tier_names(ev.rules), **_tier_names(rules)}
    out = counts.rename(columns={"before": "Hiện nay", "after": "Theo giả định", "change": "Chênh lệch"})
    out.index = out.index.map(names)
    out.index.name = "Xếp loại"
    return out.reset_index()


def reliability_summary(s: Sensitivity) -> str:
    """How many units keep their tier in at least 95 % of the scenarios, and what varied (Markdown)."""
    if not s.varies:
        return (f"Không giá trị nào thay đổi ({s.name}): mọi đơn vị giữ nguyên xếp loại và thứ hạng "
                f"trong {s.draws} kịch bản.")
    text = (f"**{s.stable}/{s.total}** đơn vị giữ nguyên xếp loại trong ít nhất 95% của {s.draws} kịch bản "
            f"(hạt giống {s.seed}); thay đổi: " + "; ".join(f"{r.label} ({r.span})" for r in s.factors.itertuples())
            + ".")
    if len(s.skipped):
        text += " Không áp dụng cho năm này: " + "; ".join(s.skipped["label"]) + "."
    return text


def reliability_table(ev: Evaluation, s: Sensitivity, *, unstable_only: bool = False) -> pd.DataFrame:
    """Per unit: published score and tier, the share of scenarios in each tier, the rank interval, and
    the value that moves it most (:mod:`evaluation.engine.sensitivity`), least stable first when
    ``unstable_only``."""
    u = s.unstable if unstable_only else s.units
    names = _tier_names(ev.rules)
    groups = {g.id: g.numeral for g in ev.rules.groups}
    table = pd.DataFrame({
        "Nhóm": u["group"].map(groups), "Đơn vị": u["unit"], "Điểm đánh giá": u["score"],
        "Xếp loại": u["tier"].map(names), "Tỷ lệ kịch bản giữ xếp loại": u["stability"],
        **{f"Tỷ lệ «{t.short}»": u[f"share_{t.id}"] for t in ev.rules.tiers},
        "Thứ hạng": u["rank"], "Khoảng thứ hạng (95%)": [f"{a}–{b}" if a != b else str(a)
                                                       for a, b in zip(u["rank_low"], u["rank_high"], strict=True)],
        "Yếu tố ảnh hưởng nhiều nhất": u["driver_label"].fillna("—"),
        "Tỷ lệ đổi xếp loại khi chỉ yếu tố đó thay đổi": u["driver_flips"],
    })
    return table.reset_index(drop=True)


def factors_table(s: Sensitivity) -> pd.DataFrame:
    """The declared values: how each varies and how many units it moves when it alone varies."""
    f = s.factors
    return pd.DataFrame({
        "Yếu tố": f["label"], "Thay đổi": f["span"],
        "Số đơn vị có thể đổi xếp loại (chỉ yếu tố này thay đổi)": f["units_moved"],
        "… trong hơn 5% kịch bản": f["units_unstable"],
        "Độ lệch chuẩn điểm lớn nhất": f["score_sd"].round(3), "Vì sao": f["note"],
    })


def show(table: pd.DataFrame, decimals: int = 1, max_decimals: int = 3):
    """A table for reading: decimal comma (at least ``decimals`` digits, more when the value has them),
    shares as percentages, no index, blanks for missing values."""
    share = [c for c in table.columns if str(c).startswith(("Cao hơn", "Tỷ lệ"))]
    floats = [c for c in table.select_dtypes("float").columns if c not in share]
    numbers = {c: (lambda v: fmt_number(v, decimals, max_decimals=max_decimals)) for c in floats}
    numbers |= {c: (lambda v: "" if pd.isna(v) else fmt_number(v * 100, 0) + "%") for c in share}
    return table.style.format(numbers, na_rep="").hide(axis="index")
