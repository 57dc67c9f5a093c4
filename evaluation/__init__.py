"""Đánh giá, xếp loại mức độ hoàn thành nhiệm vụ: scoring, classification and reporting.

The package is laid out as the data flows (``docs/architecture.md`` has the picture):

- foundation modules, importable by every stage: :mod:`~evaluation.errors` (problems and
  exceptions), :mod:`~evaluation.text` (NFC, name keys, numbers as typed),
  :mod:`~evaluation.fmt` (numbers written the Vietnamese way), :mod:`~evaluation.files`
  (deterministic files, one build of a folder at a time, atomic swaps);
- :mod:`evaluation.inputs`: read and check tables, registry, rules and params;
- :mod:`evaluation.engine`: score, classify, rank, summarise
  (:func:`evaluation.engine.pipeline.evaluate` runs a year end to end);
- :mod:`evaluation.report`: one year's report (HTML fragments from Jinja2 templates, charts,
  exports, the notebook build into HTML and PDF);
- :mod:`evaluation.forms`: the forms that parties fill in, and a new year's set-up;
- :mod:`evaluation.years`: every year at once, years compared, the index page;
- :mod:`evaluation.cli`: the command line (``python -m evaluation``).

Each stage imports only the stages before it (``tests/test_architecture.py``); every stage
returns a new table and never changes the one it read.
"""

__version__ = "0.1.0"
