"""Build the comparison of years: compute it, run ``notebooks/compare.ipynb``, render HTML and PDF.

Uses the year report's builder (:func:`evaluation.report.build.build_notebook`):
same temporary folder, same atomic swap, same template.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..files import RECORD, reusable, write_record
from ..report.build import ROOT, SUMMARY, Built, build_notebook, build_sources, input_folders, write_json

__all__ = ["build_comparison", "comparison_name", "compare_sources", "COMPARE_NOTEBOOK", "COMPARE_FILES",
           "COMPARE_DIR"]

COMPARE_NOTEBOOK = ROOT / "notebooks" / "compare.ipynb"
COMPARE_FILES = ("compare.ipynb", "compare.html", "compare.pdf", "changes.csv", "figures", SUMMARY, RECORD)
COMPARE_DIR = "compare"

def comparison_name(ids: Sequence[str]) -> str:
    """Folder of a comparison under ``outputs/compare/``: ``<first>-<last>`` of the params ids."""
    return f"{ids[0]}-{ids[-1]}"


def compare_sources(params_paths: Sequence[Path | str], folder: Path, *, notebook: Path = COMPARE_NOTEBOOK,
                    kernel_name: str = "python3") -> dict:
    """What the comparison in ``folder`` depends on besides its input files (``params_paths`` oldest first)."""
    return build_sources("compare", folder, notebook, kernel_name,
                         years=[os.path.relpath(Path(p).resolve(), folder) for p in params_paths])


def build_comparison(params_paths: Sequence[Path | str], out_root: Path | str = "outputs", *,
                     notebook: Path = COMPARE_NOTEBOOK, kernel_name: str = "python3", force: bool = False) -> Built:
    """Build ``out_root/compare/<first>-<last>/`` comparing the years of ``params_paths``.

    The comparison in place is kept (``Built.reused``) when nothing it was made from has changed
    (as :func:`evaluation.report.build.build_report`; ``force`` builds it anyway).

    Every year's inputs are checked, and the comparison computed, in this process
    first: bad input raises :class:`~evaluation.errors.InputError` before any
    kernel starts and nothing is written.  Then as :func:`build_report`: the
    notebook ``compare.ipynb`` through papermill, HTML and PDF with the report's
    template, an atomic swap into place.

    Raises
    ------
    InputError
        Bad input in any year (every problem listed), or fewer than two years.
    ReportError
        A notebook cell or a renderer failed; the previous comparison is untouched.
    """
    from ..engine.pipeline import handing_down
    from ..inputs.provenance import pinned
    from ..report.build import font_check
    from .compare import comparability, compare_years

    font = font_check()
    cmp = compare_years(params_paths)
    paths = [ev.params.path for ev in cmp.years]  # oldest first
    name = comparison_name([ev.params.id for ev in cmp.years])
    final = Path(out_root).resolve() / COMPARE_DIR / name
    sources = compare_sources(paths, final, notebook=notebook, kernel_name=kernel_name)
    why = "--force" if force else reusable(final, sources)
    if why is None:
        return Built(name, final, stem="compare", reused=True)

    def parameters(work: Path) -> dict[str, object]:
        return {"params_files": [os.path.relpath(p, notebook.parent) for p in paths], "output_dir": str(work)}

    summary = {"ids": [ev.params.id for ev in cmp.years], "labels": cmp.labels, "title": cmp.title,
               "illustrative": cmp.illustrative,
               "rules_differ": [list(pair.labels) for pair in cmp.pairs if not pair.comparable],
               # What can be set side by side, pair by pair (years.compare.comparability).
               "comparability": [{"years": list(pair.labels),
                                  "statements": json.loads(comparability(pair).to_json(orient="records",
                                                                                       force_ascii=False))}
                                 for pair in cmp.pairs],
               "evaluation_version": __version__}
    read = {path: digest for ev in cmp.years for path, digest in ev.inputs.read.items()}
    folders = sorted({folder for ev in cmp.years for folder in input_folders(ev)})

    def before_swap(work: Path) -> None:
        write_json(summary, work / SUMMARY)
        write_record(work, sources, read, digests={p: d for p, (_, d) in read.items()}, folders=folders)

    # The kernel compares the bytes checked here, and takes the years evaluated here as made.
    with pinned(read), handing_down(cmp.years):
        build_notebook(final, "compare", notebook, parameters, expected=COMPARE_FILES, title=cmp.title,
               illustrative=cmp.illustrative, kernel_name=kernel_name, before_swap=before_swap, font=font)
    return Built(name, final, stem="compare", why=why)
