"""One year's report: what readers see, and how it is built.

Owns: the report's content as HTML fragments (:mod:`.present`, :mod:`.present_detail`, rendered
by :mod:`.render` from the Jinja2 templates in ``templates/fragments/``), the charts (:mod:`.plot`, :mod:`.plot_detail`, drawn
by worker processes in :mod:`.charts`), the result tables for users and machines
(:mod:`.export`), the build of the notebook into HTML and PDF in a kernel of its own (:mod:`.build`),
the typeface check and the Word document (:mod:`.publish`), the reliability of the tiers
(:mod:`.present_sensitivity`) and the analysts' views for JupyterLab (:mod:`.explore`).

May import: the foundation modules, :mod:`evaluation.inputs` and :mod:`evaluation.engine`.
"""
