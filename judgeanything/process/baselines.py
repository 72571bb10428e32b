"""What the reference baselines answer in process judging, and the metrics that follow from it.

* ``random`` — each step independently ``correct`` or ``incorrect`` with probability ½ (seeded per case id,
  step and seed), and an incorrect step's error type uniform over ProJudgeBench's seven;
* ``first`` — the first step verdict, ``correct``, for every step (it never flags an error).

Their expected metrics on a labelled set (:func:`expected_metrics`) — with ``π`` the share of incorrect
steps and ``k`` a case's first error (``n`` its steps when it has none):

============================  ===========================  ==========================================
metric                        ``random``                   ``first``
============================  ===========================  ==========================================
step_accuracy                 ½                            1 − π
error_precision               π                            0 (nothing flagged; ``zero_division=0``)
error_recall                  ½                            0
error_f1                      2·π·½ / (π + ½)  (large n)   0
first_error_accuracy          mean of ½ᵏ (correct: ½ⁿ)     share of correct solutions
error_type_accuracy           ½ · 1/7 = 1/14               0
============================  ===========================  ==========================================
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from judgeanything.process.taxonomy import CORRECT, ERROR_TYPES, INCORRECT
from judgeanything.schema import item_seed

BASELINES = ("random", "first")


def random_steps(case_id: str, n_steps: int, seed: int = 0) -> list[tuple[str, str | None]]:
    """The ``random`` baseline's verdicts on a solution of ``n_steps`` steps (reproducible)."""
    rng = np.random.default_rng(item_seed(case_id, "process-random", seed))
    types = list(ERROR_TYPES)
    out: list[tuple[str, str | None]] = []
    for _ in range(n_steps):
        wrong = bool(rng.integers(2))
        t = types[int(rng.integers(len(types)))]
        out.append((INCORRECT, t) if wrong else (CORRECT, None))
    return out


def first_steps(n_steps: int) -> list[tuple[str, str | None]]:
    """The ``first`` baseline's verdicts: ``correct`` for every step."""
    return [(CORRECT, None)] * n_steps


def baseline_steps(name: str, case_id: str, n_steps: int, seed: int = 0) -> list[tuple[str, str | None]]:
    """The verdicts of baseline ``name`` (:data:`BASELINES`).

    Raises:
        ValueError: an unknown baseline.
    """
    if name == "random":
        return random_steps(case_id, n_steps, seed)
    if name == "first":
        return first_steps(n_steps)
    raise ValueError(f"unknown process baseline {name!r}; expected one of {BASELINES}")


def answer_json(steps: Sequence[tuple[str, str | None]]) -> str:
    """Step verdicts written as the answer the process prompt asks for (``{"steps": [...]}``), so a
    baseline's verdicts travel through the same per-step reader as a model's."""
    return json.dumps({"steps": [{"step": i + 1, "verdict": v, **({"error_type": t} if t else {})}
                                 for i, (v, t) in enumerate(steps)]})


def expected_metrics(name: str, cases: Sequence[Any]) -> dict[str, float]:
    """The metrics baseline ``name`` is expected to reach on ``cases`` (table in the module docstring).

    Raises:
        ValueError: an unknown baseline or no steps.
    """
    steps = [lab for c in cases for lab in c.labels]
    if not steps:
        raise ValueError("no steps to compute expected metrics on")
    pi = sum(lab.is_error for lab in steps) / len(steps)
    typed = sum(lab.is_error and lab.error_type is not None for lab in steps)
    if name == "random":
        k = [c.first_error or len(c.labels) for c in cases]
        return {"step_accuracy": 0.5, "error_precision": pi, "error_recall": 0.5,
                "error_f1": 2 * pi * 0.5 / (pi + 0.5) if pi else 0.0,
                "first_error_accuracy": float(np.mean([0.5 ** x for x in k])),
                "error_type_accuracy": 0.5 / len(ERROR_TYPES) if typed else math.nan}
    if name == "first":
        return {"step_accuracy": 1 - pi, "error_precision": 0.0, "error_recall": 0.0, "error_f1": 0.0,
                "first_error_accuracy": float(np.mean([c.first_error is None for c in cases])),
                "error_type_accuracy": 0.0 if typed else math.nan}
    raise ValueError(f"unknown process baseline {name!r}; expected one of {BASELINES}")


__all__ = ["BASELINES", "answer_json", "baseline_steps", "expected_metrics", "first_steps", "random_steps"]
