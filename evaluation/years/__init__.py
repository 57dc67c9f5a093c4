"""Many years: every year built at once, years compared, the index of reports.

Owns: the parallel batch of every params file (:mod:`.batch`), unit lineage across renames,
merges and splits (:mod:`.lineage`), the comparison of years (:mod:`.compare`, shown by
:mod:`.present_compare` and :mod:`.plot_compare`, built by :mod:`.build_compare`) and the
index page of all reports (:mod:`.index`).

May import: the foundation modules, :mod:`evaluation.inputs`, :mod:`evaluation.engine` and
:mod:`evaluation.report`.
"""
