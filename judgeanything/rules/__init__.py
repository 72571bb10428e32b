"""Rule judging (``setting=rules``; CLUE, arXiv 2501.00192): a constitution of objective rules, a relevance
screen over their precondition chains, debiased token-probability verdicts against a contrast input, and a
confidence cascade (:mod:`judgeanything.judges.cascade`). See ``docs/rules.md``.

Modules: :mod:`.constitution` (the rule files), :mod:`.prompt` (the yes/no question prompt), :mod:`.contrast`
(contrast inputs), :mod:`.debias` (the debiased margin), :mod:`.screen` (the relevance screen and the setting's
judge), :mod:`.probes` (the rule probe family), :mod:`.setup` (the run's data and judge from the config).
"""
