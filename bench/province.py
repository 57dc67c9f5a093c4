"""An illustrative detailed year at the size of a reorganised province, made in a scratch project.

``make_province(folder, units=180)`` copies ``params/`` and ``data/`` into ``folder``, adds
illustrative units to the registry (``data/units-province.csv``: public service units and
commune-level units, «có» in its ``illustrative`` column) until the year has ``units`` units, and
runs the example-year generator (``scripts/make_example_year.py``) on a copy of the example-2021
plan with a fixed seed.  The departments stay the real 20: a province has about twenty of them
whatever its size, and the surveys where departments and local units rate each other then grow
linearly with the number of units, as they do in a real province.  The enterprises' forms grow
with the local units, so every unit still receives the minimum number of forms.

Nothing is written under the project: the params file is ``folder/params/province-<units>.yaml``
and its data ``folder/data/province-<units>/``.  Same ``units`` and seed, same bytes.
Used by ``bench/bench.py`` (``province_report_seconds``, ``province_growth``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["make_province", "SEED"]

SEED = 18180
# Groups that grow with the province (and the kind their illustrative units get), with what each
# illustrative unit is called.  A share of the added units each: local units are most of a province.
_GROWN = (("ubnd_huyen", "huyện", 0.65, "Ủy ban nhân dân huyện Minh Họa {n:03d}", "Huyện Minh Họa {n:03d}"),
          ("don_vi_su_nghiep", "", 0.35, "Đơn vị sự nghiệp Minh Họa {n:03d}", "ĐVSN Minh Họa {n:03d}"))
_SOURCE = "tên minh họa, sinh bởi bench/province.py để đo báo cáo cỡ một tỉnh; không phải đơn vị thật"


def _registry_rows(extra: int) -> list[list[str]]:
    rows = []
    left = extra
    for i, (group, kind, share, name, short) in enumerate(_GROWN):
        count = left if i == len(_GROWN) - 1 else math.floor(extra * share)
        left -= count
        prefix = group.replace("_", "-")
        for n in range(1, count + 1):
            rows.append([f"mh-{prefix}-{n:03d}", name.format(n=n), short.format(n=n), group, kind, "", "", "", "",
                         "", "có", _SOURCE])
    return rows


def make_province(folder: Path | str, units: int = 180, *, seed: int = SEED) -> Path:
    """Write a scratch project with an illustrative detailed year of ``units`` units; its params file.

    Raises
    ------
    ValueError
        ``units`` is smaller than the real registry's units evaluated in that year.
    """
    folder = Path(folder)
    # The rules and the declared uncertainty the example year names (its report has the reliability section).
    for sub in ("rules", "uncertainty"):
        shutil.copytree(ROOT / "params" / sub, folder / "params" / sub, dirs_exist_ok=True)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for name in ("units.csv", "abbreviations.csv"):
        shutil.copyfile(ROOT / "data" / name, folder / "data" / name)
    plan = yaml.safe_load((ROOT / "scripts" / "example-2021.plan.yaml").read_text(encoding="utf-8"))

    sys.path.insert(0, str(ROOT))
    from evaluation.inputs.registry import REGISTRY_COLUMNS, load_registry
    from evaluation.inputs.rules import load_rules

    rules = load_rules(folder / "params" / "rules" / "thanh-hoa-2016.yaml")
    registry = load_registry(folder / "data" / "units.csv")
    real = registry.units[registry.valid_in(plan["year"]) & registry.units["group"].isin(rules.group_ids)]
    extra = units - len(real)
    if extra < 0:
        raise ValueError(f"{units} units: the registry already has {len(real)} in {plan['year']}")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REGISTRY_COLUMNS)
    writer.writerows(_registry_rows(extra))
    (folder / "data" / "units-province.csv").write_text(buf.getvalue(), encoding="utf-8")

    name = f"province-{units}"
    local = int((real["group"] == "ubnd_huyen").sum())
    grown_local = local + math.floor(extra * _GROWN[0][2])
    plan.update(seed=seed, params_id=name, registry=["../data/units.csv", "../data/units-province.csv"],
                out=f"../data/{name}", params=f"../params/{name}.yaml")
    # Each enterprise rates as many local units as it did in proportion: the forms per unit stay.
    forms = plan["enterprise_forms"]
    forms["phieu-doanh-nghiep-danh-gia-huyen"] = math.ceil(forms["phieu-doanh-nghiep-danh-gia-huyen"]
                                                           * grown_local / local)
    plan["report"]["title"] = plan["report"]["title"].replace(
        "(DỮ LIỆU MINH HỌA)", f"(DỮ LIỆU MINH HỌA, {units} ĐƠN VỊ)")
    (folder / "scripts").mkdir(exist_ok=True)
    plan_path = folder / "scripts" / f"{name}.plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")

    import importlib.util

    spec = importlib.util.spec_from_file_location("make_example_year", ROOT / "scripts" / "make_example_year.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    with contextlib.redirect_stdout(io.StringIO()):  # its listing of what it wrote
        generator.main(plan_path)
    return folder / "params" / f"{name}.yaml"


if __name__ == "__main__":
    print(make_province(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 180))
