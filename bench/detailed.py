"""A detailed year of any number of units, on disk, for the benchmark (not a product feature).

The illustrative year 2021 has the province's 61 units.  :func:`make_year` writes a
registry with synthetic units added (district-level People's Committees and public
service units, whose criteria sets the rules assign by group and kind) and runs
``scripts/make_example_year.py`` on the illustrative year's plan with that registry: the
same storyline, surveys and bonus/penalty rows, at the size asked, from a fixed seed.
The params name the illustrative year's declaration of uncertainty.
"""

from __future__ import annotations

import csv
import importlib.util
import io
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "scripts" / "example-2021.plan.yaml"


def _generator():
    spec = importlib.util.spec_from_file_location("make_example_year", ROOT / "scripts" / "make_example_year.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registry(path: Path, units: int) -> None:
    """The real registry plus synthetic units up to ``units`` valid in the year (half districts, half agencies)."""
    text = (ROOT / "data" / "units.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    valid = sum(1 for r in rows if not r["valid_to"])
    extra = max(0, units - valid)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    for i in range(extra):
        district = i % 2 == 0
        writer.writerow({"id": f"bench-{'huyen' if district else 'dvsn'}-{i:03d}",
                         "name": f"{'Ủy ban nhân dân huyện' if district else 'Đơn vị sự nghiệp'} Thử nghiệm {i:03d}",
                         "short_name": f"{'Huyện' if district else 'Đơn vị'} Thử nghiệm {i:03d}",
                         "group": "ubnd_huyen" if district else "don_vi_su_nghiep",
                         "kind": "huyện" if district else "", "valid_from": "", "valid_to": "",
                         "predecessors": "", "aliases": ""})
    path.write_text(buf.getvalue(), encoding="utf-8")


def make_year(folder: Path | str, units: int = 180) -> Path:
    """Write a detailed year of ``units`` units under ``folder``; return its params file."""
    folder = Path(folder)
    (folder / "params").mkdir(parents=True, exist_ok=True)
    _registry(folder / "units.csv", units)
    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    plan.update(rules=str(ROOT / "params" / "rules" / "thanh-hoa-2016.yaml"), registry=str(folder / "units.csv"),
                out=str(folder / "data"), params=str(folder / "params" / "bench.yaml"),
                uncertainty=str(ROOT / "params" / "uncertainty" / "thanh-hoa-2016.yaml"))
    plan_path = folder / "bench.plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    generator = _generator()
    with open(folder / "generator.log", "w", encoding="utf-8") as log:
        import contextlib

        with contextlib.redirect_stdout(log):
            generator.main(plan_path)
    return folder / "params" / "bench.yaml"
