"""Đánh giá, xếp loại mức độ hoàn thành nhiệm vụ: scoring, classification and reporting.

Stages, one module each (every stage returns a new table and never changes
the one it read):

load and check (:mod:`~evaluation.tables`, :mod:`~evaluation.validate`,
:mod:`~evaluation.registry`, :mod:`~evaluation.rules`, :mod:`~evaluation.params`)
→ score (:mod:`~evaluation.score`) → classify (:mod:`~evaluation.classify`)
→ rank (:mod:`~evaluation.rank`) → summarise (:mod:`~evaluation.summarise`).
:func:`evaluation.pipeline.evaluate` runs them for one year.
"""

__version__ = "0.1.0"
