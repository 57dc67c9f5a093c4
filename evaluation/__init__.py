"""Đánh giá, xếp loại mức độ hoàn thành nhiệm vụ: scoring, classification and reporting.

Stages, one module each (every stage returns a new table and never changes
the one it read):

load and check (:mod:`~evaluation.tables`, :mod:`~evaluation.validate`,
:mod:`~evaluation.registry`, :mod:`~evaluation.rules`, :mod:`~evaluation.params`)
→ score (:mod:`~evaluation.score`) → classify (:mod:`~evaluation.classify`)
→ rank (:mod:`~evaluation.rank`) → summarise (:mod:`~evaluation.summarise`).
:func:`evaluation.pipeline.evaluate` runs them for one year.

Years scored from their parts add, between load and classify: appraisal by
criterion (:mod:`~evaluation.criteria`), survey forms (:mod:`~evaluation.survey`),
bonus and penalty items (:mod:`~evaluation.adjust`) and the final score
(:func:`evaluation.score.score_from_components`), run together by
:func:`evaluation.detailed.score_detail` on plain DataFrames.
"""

__version__ = "0.1.0"
