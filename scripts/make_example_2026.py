"""Generate the illustrative year 2026 (DỮ LIỆU MINH HỌA): a reorganised province under Nghị định 335/2025.

Usage::

    .venv/bin/python scripts/make_example_2026.py [scripts/example-2026.plan.yaml]

From the plan, the rules and the real unit registry, writes into the plan's ``out`` folder:

* the illustrative registry of commune-level units: as many units as the plan's ``communes.total``
  minus the real ones already in the registry, each named after the former district whose area it
  takes (``xã Thọ Xuân 02``), marked ``illustrative`` and linked to that district by an area
  succession;
* ``periods.csv`` (a score per unit and quarter), ``conditions.csv`` (units rated «không hoàn thành»
  whatever their score) and ``README.md``;

and the params file the plan names.  The random generator is seeded from the plan, so the same plan,
rules and registry give byte-identical files.  The script knows no province, unit or period: the
storyline (quality by group, fixed means, conditions, missing periods) is data in the plan.  It
checks that the quota of the rules binds in every group and that a tie straddles the quota's edge
in the plan's ``tie_group``, and stops if the plan no longer gives them.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluation.inputs.registry import REGISTRY_COLUMNS, load_registry  # noqa: E402
from evaluation.inputs.rules import load_rules  # noqa: E402
from evaluation.text import fold  # noqa: E402

DEFAULT_PLAN = Path(__file__).with_name("example-2026.plan.yaml")
# Printed in the report's annex: said in words, without the generator's file name.
ILLUSTRATIVE_SOURCE = ("tên minh họa, sinh ngẫu nhiên với hạt giống cố định (danh sách đơn vị cấp xã thật "
                       "chưa có); địa bàn lấy từ đơn vị cấp huyện cũ là giả định")


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _vi(value: float) -> str:
    """A number as a Vietnamese spreadsheet shows it: decimal comma, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _place_name(unit: pd.Series) -> str:
    """«Thọ Xuân» from «Ủy ban nhân dân huyện Thọ Xuân» (the kind names where the name starts)."""
    name = unit["name"]
    return name.split(f" {unit['kind']} ", 1)[1] if f" {unit['kind']} " in name else unit["short_name"]


def illustrative_communes(plan: dict, rng: np.random.Generator, registry) -> pd.DataFrame:
    """The commune-level units the real registry lacks, spread over the former districts."""
    spec = plan["communes"]
    units = registry.units
    real = units[units["group"] == spec["group"]]
    districts = units[units["succession"].eq("tasks") & units["valid_to"].eq(2024)
                      & units["group"].eq("ubnd_huyen")]
    wards = {d: int(n) for d, n in spec["urban"].items()}
    n_wards = spec["wards"] - int((real["kind"] == "phường").sum())
    if sum(wards.values()) != n_wards:
        raise SystemExit(f"communes.urban: {sum(wards.values())} phường, cần {n_wards}")
    n_communes = spec["total"] - len(real) - n_wards
    base, extra = divmod(n_communes, len(districts))
    bonus = set(rng.choice(districts.index.to_numpy(), size=extra, replace=False))
    rows = []
    for did, district in districts.iterrows():
        place = _place_name(district)
        slug = fold(place).replace(" ", "-")
        for kind, prefix, n in (("phường", "phuong", wards.get(did, 0)),
                                ("xã", "xa", base + (did in bonus))):
            for i in range(1, n + 1):
                short = f"{kind} {place} {i:02d}"
                rows.append({"id": f"{prefix}-{slug}-{i:02d}", "name": f"Ủy ban nhân dân {short}",
                             "short_name": short, "group": spec["group"], "kind": kind,
                             "valid_from": spec["valid_from"], "valid_to": "", "predecessors": did,
                             "aliases": f"UBND {short}", "succession": "area", "illustrative": "có",
                             "source": ILLUSTRATIVE_SOURCE})
    return pd.DataFrame(rows, columns=REGISTRY_COLUMNS)


def _step(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values * 2) / 2, 0, 100)


def _published(mean: Fraction, decimals: int) -> Fraction:
    """The mean as the rules publish it (rounding down, as nd-335-2025 says)."""
    q = Fraction(1, 10**decimals)
    return math.floor(mean / q) * q


def period_scores(plan: dict, rng: np.random.Generator, units: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """One row per unit and period: appraised and self scores (half points)."""
    n, k = len(units), len(periods)
    mean = np.array([rng.normal(*plan["quality"][g]) for g in units["group"]])
    fixed = pd.Series(plan.get("fixed_means", {}), dtype="float64")
    unknown = sorted(set(fixed.index) - set(units.index))
    if unknown:
        raise SystemExit(f"fixed_means: không có trong các đơn vị năm {plan['year']}: {', '.join(unknown)}")
    mean = np.where(units.index.isin(fixed.index), units.index.map(fixed).to_numpy(dtype="float64"), mean)
    appraised = _step(mean[:, None] + rng.normal(0, plan["quarter_noise"], (n, k)))
    lift = np.where(units.index.isin(plan["inflated"])[:, None], rng.uniform(*plan["inflated_lift"], (n, k)),
                    rng.uniform(*plan["self_lift"], (n, k)))
    self_scores = _step(appraised + lift)
    frame = pd.DataFrame({
        "unit_id": np.repeat(units.index.to_numpy(), k), "period": np.tile(periods, n),
        "self": self_scores.ravel(), "final": appraised.ravel()})
    missing = pd.MultiIndex.from_frame(pd.DataFrame(plan["missing_periods"])[["unit", "period"]])
    return frame[~pd.MultiIndex.from_frame(frame[["unit_id", "period"]]).isin(missing)].reset_index(drop=True)


def make_tie(frame: pd.DataFrame, units: pd.DataFrame, rules, plan: dict) -> tuple[str, str]:
    """Give the unit just past the quota's limit in ``tie_group`` the scores of the last one kept.

    Returns the two unit ids (kept by the tie-break, moved down by it).
    """
    quota = rules.quotas[0]
    decimals = rules.precision.decimals
    capped = {c["unit"] for c in plan["conditions"]}
    group = units.index[(units["group"] == plan["tie_group"]) & ~units.index.isin(capped)]
    complete = frame.groupby("unit_id")["period"].size() == len(rules.periods.items)
    means = frame.groupby("unit_id")["final"].apply(lambda s: _published(Fraction(str(s.mean())), decimals))
    top, good = rules.tier(quota.tier).min, rules.tier(quota.of).min
    scores = means[group]
    n_of = int(((scores >= Fraction(str(good))) & (scores < Fraction(str(top)))).sum())
    limit = math.floor(Fraction(str(quota.max_ratio)) * n_of)
    best = scores[(scores >= Fraction(str(top))) & complete[group]].sort_values(ascending=False, kind="stable")
    if len(best) <= limit:
        raise SystemExit(f"{plan['tie_group']}: the quota does not bind ({len(best)} ≤ {limit})")
    kept, moved = best.index[limit - 1], best.index[limit]
    source = frame[frame["unit_id"] == kept].set_index("period")["final"]
    rows = frame["unit_id"] == moved
    frame.loc[rows, "final"] = frame.loc[rows, "period"].map(source).to_numpy()
    # The one moved down claims more: its self scores are the kept one's plus a point each.
    self_source = frame[frame["unit_id"] == kept].set_index("period")["self"]
    frame.loc[rows, "self"] = np.minimum(frame.loc[rows, "period"].map(self_source).to_numpy() + 1, 100)
    return kept, moved


def check_quota_binds(frame: pd.DataFrame, units: pd.DataFrame, rules, plan: dict) -> dict[str, tuple[int, int]]:
    """Per group: (units «xuất sắc» by score, allowed) — stops when the quota would not bind."""
    quota = rules.quotas[0]
    capped = {c["unit"] for c in plan["conditions"]}
    means = frame.groupby("unit_id")["final"].apply(
        lambda s: _published(Fraction(str(s.mean())), rules.precision.decimals))
    out = {}
    for g in rules.group_ids:
        scores = means[units.index[(units["group"] == g) & ~units.index.isin(capped)]]
        n_top = int((scores >= Fraction(str(rules.tier(quota.tier).min))).sum())
        n_of = int(((scores >= Fraction(str(rules.tier(quota.of).min)))
                    & (scores < Fraction(str(rules.tier(quota.tier).min)))).sum())
        limit = math.floor(Fraction(str(quota.max_ratio)) * n_of)
        if n_top <= limit:
            raise SystemExit(f"group {g}: the quota does not bind ({n_top} ≤ {limit}); change the plan")
        out[g] = (n_top, limit)
    return out


def readme(plan: dict, rules, units: pd.DataFrame, communes: pd.DataFrame, tie: tuple[str, str],
           binds: dict[str, tuple[int, int]], counts: dict[str, int]) -> str:
    names = units["short_name"]
    groups = "\n".join(f"| {rules.group(g).name} | {int((units['group'] == g).sum())} | {n} | {limit} |"
                       for g, (n, limit) in binds.items())
    conditions = "; ".join(f"{names[c['unit']]} ({rules.conditions[[x.id for x in rules.conditions].index(c['condition'])].name})"
                           for c in plan["conditions"])
    missing = "; ".join(f"{names[m['unit']]} (thiếu {m['period']})" for m in plan["missing_periods"])
    return f"""# DỮ LIỆU MINH HỌA — năm {plan['year']}

**Không phải số liệu thật.** Các tệp trong thư mục này được sinh ngẫu nhiên (hạt giống {plan['seed']})
bởi `scripts/make_example_2026.py` theo kịch bản `scripts/example-2026.plan.yaml`, trên danh mục đơn vị
thật (`data/units.csv`, hiệu lực năm {plan['year']}: các sở sau hợp nhất năm 2025, đơn vị sự nghiệp và 4
xã, phường có tên trong nguồn) và quy định `params/rules/nd-335-2025.yaml` (Nghị định 335/2025/NĐ-CP).
Không sửa tay: sửa kịch bản và chạy lại script. Mọi báo cáo lập từ dữ liệu này ghi «Dữ liệu minh họa».

| Tệp | Dòng | Nội dung |
| --- | ---: | --- |
| `{plan['illustrative_registry']}` | {len(communes)} | danh mục {len(communes)} đơn vị cấp xã **tên minh họa** (cột `illustrative`), mỗi đơn vị trên địa bàn một đơn vị cấp huyện cũ (`succession: area`) |
| `periods.csv` | {counts['periods']} | điểm tự chấm và điểm đánh giá từng quý (Q1–Q4) |
| `conditions.csv` | {counts['conditions']} | đơn vị xếp «không hoàn thành nhiệm vụ» bất kể điểm |

## Kịch bản

Số đơn vị và hạn mức «xuất sắc» (tối đa 20% số «tốt», đếm trước khi hạ) theo điểm, trước các
trường hợp ở `conditions.csv`:

| Nhóm | Đơn vị | «Xuất sắc» theo điểm | Tối đa |
| --- | ---: | ---: | ---: |
{groups}

- Bằng điểm ở giới hạn của hạn mức (nhóm {rules.group(plan['tie_group']).name}): {names[tie[0]]} và
  {names[tie[1]]} cùng điểm năm; quy định ưu tiên đơn vị có chênh lệch tự chấm − đánh giá nhỏ hơn.
- Xếp «không hoàn thành nhiệm vụ» bất kể điểm: {conditions}.
- Thiếu điểm một quý (chấm trên các quý có điểm, được đánh dấu): {missing}.
"""


def main(plan_path: Path = DEFAULT_PLAN) -> None:
    """Generate the year the plan describes (see the module docstring)."""
    plan_path = Path(plan_path).resolve()
    base = plan_path.parent
    plan = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    rng = np.random.default_rng(plan["seed"])
    rules = load_rules(base / plan["rules"])
    registry = load_registry(base / plan["registry"])
    out = (base / plan["out"]).resolve()
    out.mkdir(parents=True, exist_ok=True)

    communes = illustrative_communes(plan, rng, registry)
    registry_out = out / plan["illustrative_registry"]
    _write_csv(registry_out, REGISTRY_COLUMNS, communes.to_numpy().tolist())
    registry = load_registry([base / plan["registry"], registry_out])
    units = registry.units
    year = plan["year"]
    units = units[registry.valid_in(year) & units["group"].isin(rules.group_ids)]
    units = units.assign(_g=units["group"].map({g: i for i, g in enumerate(rules.group_ids)}))
    units = units.sort_values(["_g", "_pos"], kind="stable")

    periods = [p.code for p in rules.periods.items]
    frame = period_scores(plan, rng, units, periods)
    tie = make_tie(frame, units, rules, plan)
    binds = check_quota_binds(frame, units, rules, plan)
    rows = [[units.at[u, "short_name"], p, _vi(s), _vi(f), ""]
            for u, p, s, f in zip(frame["unit_id"], frame["period"], frame["self"], frame["final"], strict=True)]
    _write_csv(out / "periods.csv", ["Đơn vị", "Mã kỳ", "Điểm tự chấm", "Điểm đánh giá", "Ghi chú"], rows)
    conditions = [[units.at[c["unit"], "short_name"], c["condition"], c["note"]] for c in plan["conditions"]]
    _write_csv(out / "conditions.csv", ["Đơn vị", "Mã điều kiện", "Ghi chú"], conditions)
    counts = {"periods": len(rows), "conditions": len(conditions)}
    (out / "README.md").write_text(readme(plan, rules, units, communes, tie, binds, counts), encoding="utf-8")

    params_path = (base / plan["params"]).resolve()
    rel = lambda p: os.path.relpath(Path(p).resolve(), params_path.parent)  # noqa: E731
    params = {
        "year": year,
        "rules": rel(base / plan["rules"]),
        "registry": [rel(base / plan["registry"]), rel(registry_out)],
        "data": rel(out),
        **({"uncertainty": rel(base / plan["uncertainty"])} if plan.get("uncertainty") else {}),
        "inputs": {"periods": "periods.csv", "conditions": "conditions.csv"},
        "illustrative": True,
        "report": plan["report"],
    }
    header = (f"# Tham số năm minh họa {year} — DỮ LIỆU MINH HỌA, sinh bởi scripts/make_example_2026.py\n"
              f"# từ scripts/{plan_path.name}; không sửa tay. Đường dẫn tính từ thư mục chứa tệp này.\n")
    params_path.write_text(header + yaml.safe_dump(params, allow_unicode=True, sort_keys=False, width=100),
                           encoding="utf-8")
    print(f"{registry_out}: {len(communes)} đơn vị; {out / 'periods.csv'}: {len(rows)} dòng; {params_path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PLAN)
