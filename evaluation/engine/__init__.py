"""Score, classify, rank, summarise: the arithmetic of the regulation, on checked tables.

Owns: scores from their parts (:mod:`.criteria`, :mod:`.survey`, :mod:`.adjust`,
:mod:`.score`, run together by :mod:`.detail`), classification into tiers with conditions and
quotas (:mod:`.classify`), ranks (:mod:`.rank`), counts and summary sentences
(:mod:`.summarise`), one year end to end (:func:`.pipeline.evaluate`) and rescoring under
changed rules (:mod:`.whatif`).  Every stage returns a new table and never changes the one it
read.

May import: the foundation modules and :mod:`evaluation.inputs`.
"""
