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
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "scripts" / "example-2021.plan.yaml"


def _generator():
    spec = importlib.util.spec_from_file_location("make_example_year", ROOT / "scripts" / "make_example_year.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registry(path: Path, units: int, year: int) -> None:
    """The real registry plus synthetic units up to ``units`` valid in ``year`` (half districts, half agencies)."""
    from evaluation.inputs.registry import load_registry

    text = (ROOT / "data" / "units.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    # The registry spans the 2025 reform: count the units of the year, as the evaluation will.
    valid = int(load_registry(ROOT / "data" / "units.csv").valid_in(year).sum())
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
    # The rules and the declaration are copied in: a year reads only files inside its own project.
    copies = {}
    for kind in ("rules", "uncertainty"):
        target = folder / "params" / kind / "thanh-hoa-2016.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "params" / kind / "thanh-hoa-2016.yaml", target)
        copies[kind] = str(target)
    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    _registry(folder / "units.csv", units, int(plan["year"]))
    plan.update(registry=str(folder / "units.csv"), out=str(folder / "data"),
                params=str(folder / "params" / "bench.yaml"), **copies)
    plan_path = folder / "bench.plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    generator = _generator()
    with open(folder / "generator.log", "w", encoding="utf-8") as log:
        import contextlib

        with contextlib.redirect_stdout(log):
            generator.main(plan_path)
    return folder / "params" / "bench.yaml"
