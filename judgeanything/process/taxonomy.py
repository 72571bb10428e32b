"""ProJudgeBench's error taxonomy (Ai et al., "ProJudge", arXiv 2503.06553, §3.1: seven error types that
cover the mistakes of long scientific reasoning chains), and the step verdicts of process judging.

Canonical names are snake_case; :func:`error_type` reads the release's spellings ("Reasoning Error",
"Numerical Calculation Error", …) and common variants. The definitions live in :mod:`judgeanything.schema`
(the one module the parser and the analysis may both import); this module is their home for readers.
"""

from __future__ import annotations

from judgeanything.schema import CORRECT, ERROR_TYPES, INCORRECT, STEP_VERDICTS, error_type

__all__ = ["CORRECT", "ERROR_TYPES", "INCORRECT", "STEP_VERDICTS", "error_type"]
