"""Process judging (ProJudge, arXiv 2503.06553): a judge reads a question (+ media) and a solution in numbered
steps and says, per step, whether it is correct and, if not, the type of its error.

Modules: :mod:`.taxonomy` (ProJudgeBench's seven error types), :mod:`.items` (a process case and its step
labels), :mod:`.release` (ProJudgeBench's released ``test.parquet``), :mod:`.baselines` (what the ``random``
and ``first`` baselines answer per step). The per-step reader is :mod:`judgeanything.parsing.process`; the
metrics are :mod:`judgeanything.analysis.process`.
"""
