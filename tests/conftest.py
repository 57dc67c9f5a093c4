"""Shared fixtures: paths of the repository, the seed and small fixture years."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

# Property tests (tests/test_properties.py): the same examples on every run ("ci", the default)
# so a red suite is never a matter of luck; "dev" explores more and differently each time:
# pytest --hypothesis-profile=dev --hypothesis-show-statistics tests/test_properties.py
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=1000, deadline=None)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_SEED = ROOT.parent / "shared" / "seed" / "bao-cao-xep-loai-2020.txt"
SEED_COPY = FIXTURES / "seed" / "bao-cao-xep-loai-2020.txt"
SEED = SHARED_SEED if SHARED_SEED.exists() else SEED_COPY
PARAMS_2020 = ROOT / "params" / "2020.yaml"

_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(.+?)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*(.+?)\s*\|$")
_GROUP = re.compile(r"^\|\s*(I|II|III)\s*\|")


def parse_seed_table(path: Path = SEED) -> pd.DataFrame:
    """The 2020 table of the seed report, straight from its text (not from data/)."""
    group = None
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := _GROUP.match(line):
            group = m.group(1)
        elif m := _ROW.match(line):
            tt, name, self_score, score, tier = m.groups()
            rows.append({"numeral": group, "tt": int(tt), "name": unicodedata.normalize("NFC", name),
                         "self_score": float(self_score), "score": float(score),
                         "tier_name": tier.strip()})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def seed_table() -> pd.DataFrame:
    assert SEED.exists(), f"the seed report is expected at {SEED} (shared material)"
    return parse_seed_table()


@pytest.fixture(scope="session")
def evaluation_2020():
    from evaluation.engine.pipeline import evaluate

    return evaluate(PARAMS_2020)


@pytest.fixture
def fixture_dir() -> Path:
    return FIXTURES


def copy_year(dest: Path, *, scores: bytes | str | None = None, params_id: str = "2020") -> Path:
    """A copy of the repository's params and data in ``dest``, optionally with another scores file.

    Returns the copied params file.
    """
    import shutil

    shutil.copytree(ROOT / "params", dest / "params")
    shutil.copytree(ROOT / "data", dest / "data")
    if scores is not None:
        target = dest / "data" / "2020" / "scores.csv"
        if isinstance(scores, str):
            target.write_text(scores, encoding="utf-8")
        else:
            target.write_bytes(scores)
    return dest / "params" / f"{params_id}.yaml"


def scores_2020_text() -> str:
    return (ROOT / "data" / "2020" / "scores.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def party_forms(tmp_path_factory):
    """A copy of the project with a year to collect (the illustrative year's params, an empty data
    folder) and every party's form written by ``python -m evaluation forms``.  Read only: tests copy
    the forms they fill."""
    from evaluation.cli import main

    root = tmp_path_factory.mktemp("party-forms")
    copy_year(root)
    text = (ROOT / "params" / "example-2021.yaml").read_text(encoding="utf-8")
    (root / "params" / "collected-2021.yaml").write_text(
        text.replace("data: ../data/example-2021", "data: ../data/collected-2021"), encoding="utf-8")
    (root / "data" / "collected-2021").mkdir()
    assert main(["--params-dir", str(root / "params"), "forms", "--year", "collected-2021"]) == 0
    return root
