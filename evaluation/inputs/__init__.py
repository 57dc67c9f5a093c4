"""Read and check: everything a year's evaluation takes in, and nothing it computes.

Owns: reading CSV and Excel tables (:mod:`.tables`, :mod:`.workbook`, :mod:`.limits`), the
table schemas and their validation (:mod:`.schemas`, :mod:`.validate`, :mod:`.domains`), the
unit registry (:mod:`.registry`), the rules file (:mod:`.rules`), the yearly params file
(:mod:`.params`), the catalogues derived from the rules (:mod:`.catalogue`), the checks of the
detailed tables (:mod:`.detail_checks`) and the checksums of every input (:mod:`.provenance`).

May import: the foundation modules only (:mod:`evaluation.errors`, :mod:`evaluation.text`,
:mod:`evaluation.fmt`, :mod:`evaluation.files`).
"""
