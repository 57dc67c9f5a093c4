"""Generate an illustrative year (DỮ LIỆU MINH HỌA) from a plan, the rules and the real unit registry.

Usage::

    .venv/bin/python scripts/make_example_year.py [scripts/example-2021.plan.yaml]

Writes ``criteria.csv``, ``survey.csv``, ``adjustments.csv`` and ``README.md`` into
the plan's ``out`` folder and the params file the plan names.  The random
generator is seeded from the plan, so the same plan, rules and registry give
byte-identical files.  The storyline (which units inflate their self scores,
which criteria do not apply, where caps bite) is data in the plan; this script
knows no province, unit or item.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluation.inputs.catalogue import criteria_frame, item_scope, items_frame, unit_sets  # noqa: E402
from evaluation.inputs.registry import load_registry  # noqa: E402
from evaluation.inputs.rules import load_rules  # noqa: E402

DEFAULT_PLAN = Path(__file__).with_name("example-2021.plan.yaml")


def _vi(value: float) -> str:
    """A number as a Vietnamese spreadsheet shows it: decimal comma, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _step(values: np.ndarray, maxima: np.ndarray) -> np.ndarray:
    """Points in the steps appraisers use: quarters below 10 points, halves above."""
    step = np.where(maxima < 10, 0.25, 0.5)
    return np.clip(np.round(values / step) * step, 0, maxima)


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def criteria_rows(plan: dict, rng: np.random.Generator, units: pd.DataFrame, sets: pd.DataFrame,
                  catalogue: pd.DataFrame, quality: pd.Series) -> list[list[object]]:
    grid = sets.merge(catalogue, on="criteria_set").sort_values(["order", "position"], kind="stable")
    n = len(grid)
    q = grid["unit_id"].map(quality).to_numpy()
    maxima = grid["max_points"].to_numpy()
    appraised = _step(maxima * np.clip(q + rng.normal(0, 0.04, n), 0.45, 1.0), maxima)
    inflated = grid["unit_id"].isin(plan["inflated"]).to_numpy()
    lift = np.where(inflated, rng.uniform(0.08, 0.22, n), rng.uniform(0.0, 0.07, n))
    self_points = _step(appraised + lift * maxima, maxima)
    na = pd.MultiIndex.from_frame(grid[["unit_id", "criterion"]]).isin(
        [(c["unit"], c["criterion"]) for c in plan["not_applicable"]])
    by_survey = grid["survey"].notna().to_numpy()
    na_text = "không áp dụng"
    self_text = np.where(na, np.where(np.arange(n) % 2, "", na_text), [_vi(v) for v in self_points])
    points_text = np.where(na, na_text, np.where(by_survey, "", [_vi(v) for v in appraised]))
    row_no = grid["unit_id"].map(units["_row"]).astype(int).map("{:03d}".format)
    evidence = np.where(na | by_survey, "", "Hồ sơ " + grid["criterion"] + "-" + row_no)
    # Points claimed without evidence, explained (section 4b of the 2020 report: self-assessments without
    # evidence per criterion); the forms refuse a claim with neither.
    unexplained = {(c["unit"], c["criterion"]): c["explanation"] for c in plan.get("no_evidence", [])}
    keys = list(zip(grid["unit_id"], grid["criterion"], strict=True))
    explanation = np.array([unexplained.get(k, "") for k in keys], dtype=object)
    evidence = np.where(explanation != "", "", evidence)
    note = np.where(na, "đơn vị không có nhiệm vụ này trong năm", "")
    table = pd.DataFrame({"unit": grid["unit_id"].map(units["short_name"]).to_numpy(),
                          "criterion": grid["criterion"].to_numpy(), "self": self_text, "points": points_text,
                          "evidence": evidence, "explanation": explanation, "note": note})
    return table.to_numpy().tolist()


def survey_rows(plan: dict, rng: np.random.Generator, rules, units: pd.DataFrame, sets: pd.DataFrame,
                quality: pd.Series) -> list[list[object]]:
    evaluated = sets.merge(units[["group"]], left_on="unit_id", right_index=True)
    forms = []   # (survey, rater_kind, rater, unit_id)
    for sv in rules.surveys:
        targets = evaluated.loc[evaluated["criteria_set"].isin(sv.sets), "unit_id"].tolist()
        for kind in sv.raters:
            if kind in plan["unit_raters"]:
                raters = evaluated.loc[evaluated["group"] == plan["unit_raters"][kind], "unit_id"].tolist()
                forms += [(sv.id, kind, r, t) for r in raters for t in targets if r != t]
            elif kind == plan["agency_kind"]:
                forms += [(sv.id, kind, a, t) for a in plan["agencies"] for t in targets if a != t]
            elif kind == plan["enterprise_kind"]:
                per = plan["enterprise_forms"][sv.id]
                few = {f["unit"] for f in plan["few_forms"] if f["survey"] == sv.id}
                pool = [t for t in targets if t not in few]
                for e in range(1, plan["enterprises"] + 1):
                    chosen = rng.choice(len(pool), size=min(per, len(pool)), replace=False)
                    forms += [(sv.id, kind, f"DN{e:03d}", pool[j]) for j in sorted(chosen)]
                for t in sorted(few):
                    picked = rng.choice(plan["enterprises"], size=plan["enterprises"] // 30, replace=False)
                    forms += [(sv.id, kind, f"DN{e + 1:03d}", t) for e in sorted(picked)]
    frame = pd.DataFrame(forms, columns=["survey", "rater_kind", "rater", "unit_id"])
    for f in plan["few_forms"]:
        sel = (frame["survey"] == f["survey"]) & (frame["unit_id"] == f["unit"])
        drop = frame.index[sel][f["forms"]:]
        frame = frame.drop(index=drop)
    frame = frame.reset_index(drop=True)
    questions = pd.DataFrame([(sv.id, q.code, float(sv.scale_min), float(sv.scale_max))
                              for sv in rules.surveys for q in sv.questions],
                             columns=["survey", "question", "lo", "hi"])
    # The form's overall impression, then each answer around it.
    level = np.clip(frame["unit_id"].map(quality).to_numpy() + rng.normal(0, 0.10, len(frame)), 0, 1)
    answers = frame.assign(level=level, form=np.arange(len(frame))).merge(questions, on="survey", sort=False)
    answers = answers.sort_values(["form", "question"], kind="stable")
    target = answers["lo"] + (answers["hi"] - answers["lo"]) * answers["level"]
    spread = 0.14 * (answers["hi"] - answers["lo"])
    value = np.clip(np.round(target + rng.normal(0, 1, len(answers)) * spread), answers["lo"], answers["hi"])
    table = pd.DataFrame({"kind": answers["rater_kind"], "rater": answers["rater"],
                          "unit": answers["unit_id"].map(units["short_name"]), "question": answers["question"],
                          "answer": value.map(_vi)})
    return table.to_numpy().tolist()


def adjustment_rows(plan: dict, rng: np.random.Generator, rules, units: pd.DataFrame,
                    evaluated: pd.DataFrame) -> list[list[object]]:
    items = items_frame(rules).set_index("item")
    scope = item_scope(evaluated, rules)
    rows = [dict(c) for c in plan["cases"]]
    used = {r["item"] for r in rows}
    extra = [it for it in items.index if it not in used]
    picks = list(extra)
    for kind, n in plan["random_adjustments"].items():
        picks += list(rng.choice(items.index[items["kind"] == kind].to_numpy(), size=n))
    taken = {(r["unit"], r["item"]) for r in rows}
    for it in picks:
        allowed = scope.loc[scope["item"] == it, "unit_id"].tolist()
        # An item that can happen once a year ("được thưởng 02 điểm") is not drawn twice for a unit:
        # the planned cases show that cap; random rows should look like real decisions.
        once = items.at[it, "rate"] != "amount" and items.at[it, "cap"] <= np.nan_to_num(
            items.at[it, "points"], nan=items.at[it, "up_to"])
        if once:
            allowed = [u for u in allowed if (u, it) not in taken]
            if not allowed:
                continue
        unit = allowed[int(rng.integers(len(allowed)))]
        taken.add((unit, it))
        rate = items.at[it, "rate"]
        row = {"unit": unit, "item": it}
        if rate == "points":
            row["count"] = 1 if not np.isnan(items.at[it, "cap"]) else int(rng.integers(1, 3))
        else:
            top = items.at[it, "up_to"] if rate == "up_to" else 1.0
            row["amount"] = float(np.round(rng.uniform(0.25, top) * 4) / 4)
        rows.append(row)
    out = []
    missing = rng.random(len(rows)) < plan["missing_evidence"]
    for k, r in enumerate(rows, start=1):
        evidence = "" if missing[k - 1] and k > len(plan["cases"]) else f"Văn bản số {100 + k}/{plan['year']}"
        out.append([units.at[r["unit"], "short_name"], r["item"],
                    "" if r.get("count") is None else str(r["count"]),
                    "" if r.get("amount") is None else _vi(r["amount"]),
                    r.get("source", plan["sources"][r["item"]]), evidence, r.get("note", "")])
    return out


def readme(plan: dict, rules, sets: pd.DataFrame, units: pd.DataFrame, counts: dict[str, int]) -> str:
    by_set = []
    for cs in rules.criteria_sets:
        names = [units.at[u, "short_name"] for u in sets.loc[sets["criteria_set"] == cs.id, "unit_id"]]
        mark = "" if cs.confirmed else " (giá trị tạm, `confirmed: false`)"
        by_set.append(f"- **{cs.name}**{mark}: {len(names)} đơn vị — " + ", ".join(names))
    return f"""# DỮ LIỆU MINH HỌA — năm {plan['year']}

**Không phải số liệu thật.** Các tệp trong thư mục này được sinh ngẫu nhiên (hạt giống {plan['seed']})
bởi `scripts/make_example_year.py` theo kịch bản `scripts/example-2021.plan.yaml`, trên danh mục đơn vị
thật (`data/units.csv`, hiệu lực năm {plan['year']}) và quy định `params/rules/thanh-hoa-2016.yaml`.
Chúng minh họa cách công cụ chấm điểm theo tiêu chí: không sửa tay, hãy sửa kịch bản và chạy lại script.
Mọi báo cáo lập từ dữ liệu này ghi «Dữ liệu minh họa» trên mọi trang và trong tệp CSV.

| Tệp | Dòng | Nội dung |
| --- | ---: | --- |
| `criteria.csv` | {counts['criteria']} | điểm tự chấm và điểm thẩm định theo tiêu chí; «không áp dụng» được quy đổi |
| `survey.csv` | {counts['survey']} | câu trả lời phiếu đánh giá (UBND cấp huyện ↔ sở, {plan['enterprises']} doanh nghiệp, các cơ quan) |
| `adjustments.csv` | {counts['adjustments']} | điểm thưởng, điểm trừ: mọi nội dung của quy định, các trường hợp bị giới hạn |

Cột và cách ghi: xem mô tả các bảng `criteria`, `survey`, `adjustments` trong `evaluation/inputs/schemas.py`.
Tiêu chí chấm qua phiếu đánh giá để trống cột «Điểm thẩm định» (điểm tính từ phiếu).

## Đơn vị theo bộ tiêu chí

Báo cáo năm 2020 (mục 4a) nêu các nhóm sở kinh tế tổng hợp, kỹ thuật, văn hóa - xã hội nhưng không
nêu sở nào thuộc nhóm nào: cách xếp dưới đây (khai báo trong tệp quy định, `criteria_sets[].units`) là
giá trị tạm, ghi `confirmed: false` và được chú thích trong báo cáo. Điểm tối đa từng tiêu chí cũng là
giá trị tạm.

{chr(10).join(by_set)}

## Kịch bản

- Tiêu chí không áp dụng: {', '.join(f"{units.at[c['unit'], 'short_name']} ({c['criterion']})"
                                     for c in plan['not_applicable'])}.
- Đơn vị nhận ít phiếu hơn mức tối thiểu: {', '.join(f"{units.at[c['unit'], 'short_name']} ({c['forms']} phiếu)"
                                                   for c in plan['few_forms'])}.
- Đơn vị tự chấm cao hơn nhiều so với thẩm định: {', '.join(units.at[u, 'short_name'] for u in plan['inflated'])}.
- Tự chấm không có minh chứng, có giải trình: {', '.join(f"{units.at[c['unit'], 'short_name']} ({c['criterion']})"
                                                      for c in plan.get('no_evidence', []))}.
- Điểm thưởng, điểm trừ: mọi nội dung của quy định xuất hiện ít nhất một lần; các trường hợp giới hạn
  theo nội dung, «tối đa», tổng ±{rules.scale.adjustment_max} đều xảy ra. Giới hạn [{rules.scale.score_min},
  {rules.scale.score_max}] của điểm cuối cùng không thể xảy ra với thang điểm này
  ({rules.scale.appraisal_max} + {rules.scale.adjustment_max} = {rules.scale.score_max}); nó được kiểm
  thử bằng số liệu tự tính (`tests/test_detail_engine.py`).
"""


def main(plan_path: Path = DEFAULT_PLAN) -> None:
    """Generate the year the plan describes (see the module docstring)."""
    plan_path = Path(plan_path).resolve()
    base = plan_path.parent
    plan = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    rng = np.random.default_rng(plan["seed"])
    rules = load_rules(base / plan["rules"])
    # One registry file, or several read as one (the real registry and an illustrative one beside it).
    many = isinstance(plan["registry"], list)
    registry = load_registry([base / p for p in plan["registry"]] if many else base / plan["registry"])
    units = registry.units
    evaluated = units[registry.valid_in(plan["year"]) & units["group"].isin(rules.group_ids)]
    sets = unit_sets(evaluated, rules).assign(order=lambda f: f["unit_id"].map(units["_row"]))
    catalogue = criteria_frame(rules)
    lo, hi = plan["quality"]
    quality = pd.Series(rng.uniform(lo, hi, len(evaluated)), index=evaluated.index)

    out = (base / plan["out"]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    crit = criteria_rows(plan, rng, units, sets, catalogue, quality)
    surv = survey_rows(plan, rng, rules, units, sets, quality)
    adj = adjustment_rows(plan, rng, rules, units, evaluated)
    _write_csv(out / "criteria.csv", ["Đơn vị", "Mã tiêu chí", "Điểm tự chấm", "Điểm thẩm định", "Minh chứng",
                                      "Giải trình", "Ghi chú"], crit)
    _write_csv(out / "survey.csv", ["Loại người đánh giá", "Mã người đánh giá", "Đơn vị được đánh giá",
                                    "Mã câu hỏi", "Điểm"], surv)
    _write_csv(out / "adjustments.csv", ["Đơn vị", "Mã nội dung", "Số lần", "Số điểm", "Cơ quan đề nghị",
                                         "Minh chứng", "Ghi chú"], adj)
    counts = {"criteria": len(crit), "survey": len(surv), "adjustments": len(adj)}
    (out / "README.md").write_text(readme(plan, rules, sets, units, counts), encoding="utf-8")

    params_path = (base / plan["params"]).resolve()
    rel = lambda p: os.path.relpath((base / p).resolve(), params_path.parent)  # noqa: E731
    params = {
        "year": plan["year"],
        "rules": rel(plan["rules"]),
        "registry": [rel(p) for p in plan["registry"]] if many else rel(plan["registry"]),
        "data": rel(plan["out"]),
        **({"uncertainty": rel(plan["uncertainty"])} if plan.get("uncertainty") else {}),
        "inputs": {"criteria": "criteria.csv", "survey": "survey.csv", "adjustments": "adjustments.csv"},
        "illustrative": True,
        "report": plan["report"],
    }
    header = (f"# Tham số năm minh họa {plan['year']} — DỮ LIỆU MINH HỌA, sinh bởi scripts/make_example_year.py\n"
              f"# từ scripts/{plan_path.name}; không sửa tay. Đường dẫn tính từ thư mục chứa tệp này.\n")
    params_path.write_text(header + yaml.safe_dump(params, allow_unicode=True, sort_keys=False, width=100),
                           encoding="utf-8")
    for name, n in counts.items():
        print(f"{out / name}.csv: {n} dòng")
    print(params_path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PLAN)
