"""Process-judging metrics as ProJudgeBench reports them (Ai et al., arXiv 2503.06553, §4), plus the first-error
metric of ProcessBench (Zheng et al., arXiv 2412.06559).

Inputs are per case: the reference steps and the judge's steps, each a sequence of ``(verdict, error type)``
with verdict ``"correct"``/``"incorrect"`` (:data:`judgeanything.schema.STEP_VERDICTS`), or ``None``
where the judge gave no usable answer for the case (its failure: counted in ``coverage``, left out of the
metrics). Metrics:

* ``step_accuracy`` — steps whose verdict equals the reference's;
* ``error_precision`` / ``error_recall`` / ``error_f1`` — error detection, the positive class being an
  incorrect step (scikit-learn, ``zero_division=0``);
* ``first_error_accuracy`` — cases where the judge's first incorrect step is the reference's (a correct
  solution: the judge flags none);
* ``error_type_accuracy`` — reference-incorrect steps with a typed reference that the judge marks incorrect
  with the same type (a missed error counts wrong); ``error_type_accuracy_detected`` — the same among the
  steps the judge did flag (classification given detection).

:func:`process_metrics` gives them pooled and per discipline and per modality.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from judgeanything.schema import INCORRECT

Steps = Sequence[tuple[str, str | None]]
METRICS = ("step_accuracy", "error_precision", "error_recall", "error_f1", "first_error_accuracy",
           "error_type_accuracy", "error_type_accuracy_detected")


def first_error(steps: Steps) -> int | None:
    """1-based index of the first incorrect step (None: all correct)."""
    return next((i + 1 for i, (v, _) in enumerate(steps) if v == INCORRECT), None)


def step_metrics(pairs: Sequence[tuple[Steps, Steps]]) -> dict[str, float]:
    """The metrics (module docstring) of ``(reference, judge)`` step lists of the judged cases.

    Raises:
        ValueError: a judge list whose length differs from its reference's.
    """
    if not pairs:
        return {m: math.nan for m in METRICS} | {"cases": 0, "steps": 0}
    ref_v, jud_v, typed, typed_ok, flagged, flagged_ok = [], [], 0, 0, 0, 0
    for ref, jud in pairs:
        if len(ref) != len(jud):
            raise ValueError(f"judge gave {len(jud)} steps for a solution of {len(ref)}")
        for (rv, rt), (jv, jt) in zip(ref, jud, strict=True):
            ref_v.append(rv == INCORRECT)
            jud_v.append(jv == INCORRECT)
            if rv == INCORRECT and rt is not None:
                typed += 1
                typed_ok += jv == INCORRECT and jt == rt
                if jv == INCORRECT:
                    flagged += 1
                    flagged_ok += jt == rt
    y, p = np.array(ref_v), np.array(jud_v)
    prec, rec, f1, _ = precision_recall_fscore_support(y, p, average="binary", pos_label=True, zero_division=0)
    return {"step_accuracy": float(np.mean(y == p)), "error_precision": float(prec), "error_recall": float(rec),
            "error_f1": float(f1),
            "first_error_accuracy": float(np.mean([first_error(r) == first_error(j) for r, j in pairs])),
            "error_type_accuracy": typed_ok / typed if typed else math.nan,
            "error_type_accuracy_detected": flagged_ok / flagged if flagged else math.nan,
            "cases": len(pairs), "steps": len(y)}


def process_metrics(cases: Sequence[Any], judged: Mapping[str, Steps | None]) -> dict[str, Any]:
    """Pooled and grouped metrics of a process-judging run.

    Args:
        cases: :class:`~judgeanything.process.items.ProcessCase` s (``case_id``, ``labels``, ``discipline``,
            ``modality``).
        judged: case id → the judge's steps, or ``None`` for a failed case; cases absent were not judged.

    Returns:
        ``{"coverage": {cases, judged, failed}, "pooled": {...}, "discipline": {name: {...}},
        "modality": {name: {...}}}``.
    """
    ref = {c.case_id: [(lab.verdict, lab.error_type) for lab in c.labels] for c in cases}
    ok = [c for c in cases if judged.get(c.case_id) is not None]

    def group(key: Callable[[Any], str]) -> dict[str, dict[str, float]]:
        names = sorted({key(c) for c in ok})
        return {g: step_metrics([(ref[c.case_id], judged[c.case_id]) for c in ok if key(c) == g])  # type: ignore[misc]
                for g in names}

    return {"coverage": {"cases": len(cases), "judged": len(ok),
                         "failed": sum(c.case_id in judged and judged[c.case_id] is None for c in cases)},
            "pooled": step_metrics([(ref[c.case_id], judged[c.case_id]) for c in ok]),  # type: ignore[misc]
            "discipline": group(lambda c: c.discipline or "?"), "modality": group(lambda c: c.modality or "?")}


__all__ = ["METRICS", "first_error", "process_metrics", "step_metrics"]
