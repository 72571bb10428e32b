"""Per-step reading of a process judge's answer (``setting=process``; ProJudge, arXiv 2503.06553).

The prompt asks for ``{"steps": [{"step": 1, "verdict": "correct" | "incorrect", "error_type": <one of the
seven>, "comment": ...}, ...]}``. Read, in order of preference:

* ``json`` — a JSON object with a ``steps`` list (or a bare list of step objects); a step's verdict may also
  be written ``correct: true/false``, ``is_correct``, ``label: 1/0`` (ProJudgeBench's correctness code);
* ``lines`` — one line per step, ``Step 3: incorrect (numerical calculation error)`` / ``Step 2 — correct``.

Every step 1..n must be judged exactly once: a missing step, a step number outside 1..n, or a step given two
different verdicts is a ``parse_fail`` naming the steps (a partial reading is never padded with a default);
at a token-limit stop an incomplete reading is ``truncated``. An ``incorrect`` step whose error type is not
one of the seven keeps ``error_type=None`` (its detection still counts; its type is wrong).

Imports only :mod:`judgeanything.schema` (where the step verdicts and error types live) and this package's
shared helpers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judgeanything.parsing._common import is_token_limit, normalise, snip, strip_reasoning
from judgeanything.parsing._json import json_objects, norm_key
from judgeanything.schema import CORRECT, INCORRECT, Failure, FailureKind, error_type

StepReading = tuple[str, str | None]  # (correct | incorrect, canonical error type or None)

_TRUE = {"correct", "true", "1", "yes", "right", "valid"}
_FALSE = {"incorrect", "false", "0", "no", "wrong", "invalid", "error", "erroneous"}
_LINE = re.compile(r"^\W*step\s*#?\s*(\d+)[ \t:.)*\-]*(?:is[ \t]+)?\**[ \t]*(incorrect|correct|wrong|right|error)\b"
                   r"[ \t*,:;(\-]*(?:type[ \t]*:?[ \t]*)?([A-Za-z _]+)?", re.I | re.M)


@dataclass(frozen=True)
class ProcessParse:
    """The reading of one answer: ``steps`` (one per step, in order) and the rule, or ``failure``."""

    steps: tuple[StepReading, ...] = ()
    rule: str = ""
    failure: Failure | None = None


def _verdict(v: Any) -> str | None:
    if isinstance(v, bool):
        return CORRECT if v else INCORRECT
    if isinstance(v, (int, float)) and v in (0, 1):
        return CORRECT if v == 1 else INCORRECT
    s = str(v).strip().lower() if isinstance(v, str) else ""
    return CORRECT if s in _TRUE else (INCORRECT if s in _FALSE else None)


def _step_of(obj: Mapping[str, Any]) -> tuple[int, str, str | None] | None:
    """(step number, verdict, error type) of one step object, or None when it is not one."""
    o = {norm_key(k): v for k, v in obj.items()}
    num = next((o[k] for k in ("step", "step_number", "index", "step_index", "id") if k in o), None)
    if isinstance(num, str) and num.strip().isdigit():
        num = int(num.strip())
    if not isinstance(num, int) or isinstance(num, bool):
        return None
    raw = next((o[k] for k in ("verdict", "correctness", "correct", "is_correct", "label", "judgment",
                                "judgement", "status") if k in o), None)
    v = _verdict(raw)
    if v is None:
        return None
    et = error_type(next((o[k] for k in ("error_type", "type", "error", "category") if k in o), None))
    return num, v, et if v == INCORRECT else None


def _from_json(text: str) -> list[tuple[int, str, str | None]] | None:
    found: list[tuple[int, str, str | None]] = []
    for _s, _e, obj in json_objects(text):
        steps = next((v for k, v in obj.items() if norm_key(k) in ("steps", "step_evaluations", "evaluation",
                                                                     "process_evaluation")), None)
        if isinstance(steps, list):
            return [s for x in steps if isinstance(x, Mapping) and (s := _step_of(x)) is not None]
        s = _step_of(obj)
        if s is not None:
            found.append(s)
    return found or None


def _from_lines(text: str) -> list[tuple[int, str, str | None]] | None:
    out = []
    for m in _LINE.finditer(text):
        v = CORRECT if m.group(2).lower() in ("correct", "right") else INCORRECT
        out.append((int(m.group(1)), v, error_type(m.group(3)) if v == INCORRECT else None))
    return out or None


def _assemble(found: Sequence[tuple[int, str, str | None]], n: int) -> tuple[tuple[StepReading, ...] | None, str]:
    """The readings in step order, or None and why (missing / out-of-range / contradictory steps)."""
    by: dict[int, StepReading] = {}
    clash, outside = [], []
    for num, v, et in found:
        if not 1 <= num <= n:
            outside.append(num)
        elif num in by and by[num][0] != v:
            clash.append(num)
        else:
            by.setdefault(num, (v, et))
    missing = [k for k in range(1, n + 1) if k not in by]
    if clash or outside or missing:
        why = "; ".join(x for x in (f"steps {sorted(set(clash))} judged both ways" if clash else "",
                                    f"step numbers {sorted(set(outside))} outside 1..{n}" if outside else "",
                                    f"steps {missing} not judged" if missing else "") if x)
        return None, why
    return tuple(by[k] for k in range(1, n + 1)), ""


def parse_process(raw: str, n_steps: int, *, finish_reason: str | None = None) -> ProcessParse:
    """Read a judge's per-step verdicts on a solution of ``n_steps`` steps (module docstring).

    Returns:
        :class:`ProcessParse` with ``steps`` (``n_steps`` pairs) and ``rule`` (``json``/``lines``), or
        ``failure`` (``parse_fail`` / ``truncated``, rubric ``overall``) whose detail names what was wrong.
    """
    text = normalise(strip_reasoning(raw or ""))
    why = "no per-step verdicts found"
    for rule, reader in (("json", _from_json), ("lines", _from_lines)):
        found = reader(text)
        if not found:
            continue
        steps, why = _assemble(found, n_steps)
        if steps is not None:
            return ProcessParse(steps, f"process/{rule}")
        break  # the first format that answered is the answer; a broken JSON answer is not rescued by prose
    kind: FailureKind = "truncated" if is_token_limit(finish_reason) else "parse_fail"
    return ProcessParse(failure=Failure(kind, f"{why}: {snip(text)!r}", "overall", "process"))


__all__ = ["ProcessParse", "StepReading", "parse_process"]
