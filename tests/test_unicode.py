"""NFC everywhere: a year whose every file is saved in NFD gives the same, NFC, results and report text."""

from __future__ import annotations

import shutil
import unicodedata

import pandas as pd

from evaluation.engine.pipeline import evaluate
from evaluation.report import present
from evaluation.report.export import results_table
from tests.conftest import ROOT


def test_a_year_saved_in_nfd_gives_the_same_nfc_results(tmp_path, evaluation_2020):
    for folder in ("params", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    for path in [*(tmp_path / "params").rglob("*.yaml"), *(tmp_path / "data").rglob("*.csv")]:
        text = path.read_text(encoding="utf-8")
        assert text == unicodedata.normalize("NFC", text)
        path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    ev = evaluate(tmp_path / "params" / "2020.yaml")

    cols = ["unit_id", "unit", "group", "score", "tier", "rank", "order", "tier_reason"]
    pd.testing.assert_frame_equal(ev.ranked[cols], evaluation_2020.ranked[cols])
    assert ev.sentences == evaluation_2020.sentences
    table = results_table(ev)
    pd.testing.assert_frame_equal(table, results_table(evaluation_2020))
    texts = [*ev.sentences, *table.astype(str).to_numpy().ravel(), *ev.renamed["input"], *ev.renamed["unit"],
             present.title_block(ev), present.method(ev), present.summary(ev), present.group_tables(ev),
             present.notes(ev), present.closing(ev)]
    bad = [t for t in texts if not unicodedata.is_normalized("NFC", t)]
    assert bad == []
