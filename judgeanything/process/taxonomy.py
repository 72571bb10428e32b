"""ProJudgeBench's error taxonomy (Ai et al., "ProJudge", arXiv 2503.06553, §3.1: seven error types that
cover the mistakes of long scientific reasoning chains), and the step verdicts of process judging.

Canonical names are snake_case; :func:`error_type` reads the release's spellings ("Reasoning Error",
"Numerical Calculation Error", …) and common variants.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Step verdicts, in the order the ``first`` baseline takes the first of.
STEP_VERDICTS: tuple[str, ...] = ("correct", "incorrect")
CORRECT, INCORRECT = STEP_VERDICTS

#: The seven error types of ProJudgeBench, with the paper's description.
ERROR_TYPES: Mapping[str, str] = {
    "reasoning": "a logical gap or invalid inference between steps",
    "visual_interpretation": "a misreading of a figure, diagram, chart or image",
    "numerical_calculation": "an arithmetic mistake",
    "symbolic_calculation": "a mistake manipulating algebraic or symbolic expressions",
    "knowledge": "a wrong or misapplied fact, formula or concept",
    "question_understanding": "a misreading of what the question gives or asks",
    "no_solution": "no solution given, or the instructions not followed",
}

_ALIASES = {
    "reasoning": "reasoning", "logic": "reasoning", "logical": "reasoning",
    "visual interpretation": "visual_interpretation", "visual": "visual_interpretation",
    "image interpretation": "visual_interpretation", "visual perception": "visual_interpretation",
    "numerical calculation": "numerical_calculation", "numerical": "numerical_calculation",
    "calculation": "numerical_calculation", "arithmetic": "numerical_calculation",
    "computation": "numerical_calculation", "computational": "numerical_calculation",
    "symbolic calculation": "symbolic_calculation", "symbolic": "symbolic_calculation",
    "algebraic": "symbolic_calculation",
    "knowledge": "knowledge", "conceptual": "knowledge", "concept": "knowledge",
    "question understanding": "question_understanding", "question misunderstanding": "question_understanding",
    "misunderstanding": "question_understanding", "understanding": "question_understanding",
    "no solution provided": "no_solution", "no solution": "no_solution", "no_solution": "no_solution",
    "instruction": "no_solution",
}
_SUFFIX = re.compile(r"\b(errors?|mistakes?|type)\b", re.I)


def error_type(name: object) -> str | None:
    """The canonical error type of a name (``"Numerical Calculation Error"`` → ``"numerical_calculation"``);
    ``None`` for an empty name or one that is not a ProJudgeBench error type."""
    if not isinstance(name, str):
        return None
    s = name.strip().lower().replace("_", " ").replace("-", " ")
    s = re.sub(r"\s+", " ", _SUFFIX.sub("", s)).strip(" .:")
    if s.replace(" ", "_") in ERROR_TYPES:
        return s.replace(" ", "_")
    return _ALIASES.get(s)


__all__ = ["CORRECT", "ERROR_TYPES", "INCORRECT", "STEP_VERDICTS", "error_type"]
