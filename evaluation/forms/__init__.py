"""Forms for the parties who supply a year's numbers, and the set-up of a new year.

Owns: the Excel input forms generated from the rules and the registry (:mod:`.forms`) and the
``new-year`` command that writes a new year's params and forms (:mod:`.newyear`).

May import: the foundation modules, :mod:`evaluation.inputs` and :mod:`evaluation.engine`
(never :mod:`evaluation.report`: a form is not a report).
"""
