"""Forms for the parties who supply a year's numbers, collecting them back, and the set-up of a new year.

Owns: the one Excel workbook of a year (:mod:`.forms`) and the ``new-year`` command (:mod:`.newyear`);
who returns what (:mod:`.parties`), one workbook per party (:mod:`.workbooks`, sent by :mod:`.issue`);
a folder of returned workbooks (:mod:`.returns`) read, checked, assembled and traced (:mod:`.collect`),
the status board (:mod:`.status`) and writing the year's tables (:mod:`.store`).

May import: the foundation modules, :mod:`evaluation.inputs` and :mod:`evaluation.engine`
(never :mod:`evaluation.report`: a form is not a report).
"""
