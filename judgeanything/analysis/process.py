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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from judgeanything.analysis.load import contents_of, items_by_id, set_aside_reason
from judgeanything.analysis.metrics import CSV_COLUMNS
from judgeanything.jsonsafe import finite_or_none
from judgeanything.schema import INCORRECT, StepLabel
from judgeanything.store import VERDICTS
from judgeanything.usage import iter_latest_records

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


@dataclass(frozen=True)
class RunCase:
    """A case as a process run directory records it (``items.jsonl``): id, reference steps, groups."""

    case_id: str
    labels: tuple[Any, ...]
    discipline: str
    modality: str

    @property
    def first_error(self) -> int | None:
        return first_error([(lab.verdict, lab.error_type) for lab in self.labels])


def load_process_run(run_dir: Path) -> tuple[list[RunCase], dict[str, Steps | None], dict[str, int]]:
    """The cases of a process run (``items.jsonl``: ``meta.reference_steps``), the judge's steps per case from
    the latest record of each unit (``verdicts.jsonl``: the verdict's ``steps``; ``None`` for a failure), and the
    failures by kind. A record of an item removed since, or judged on other content, is set aside.

    Raises:
        FileNotFoundError: the run has no verdicts.jsonl or no items.jsonl.
        ValueError: an item without reference steps (names it).
        SchemaError: a reference step with an unknown verdict or error type.
    """
    run_dir = Path(run_dir)
    if not (run_dir / VERDICTS).exists():
        raise FileNotFoundError(f"{run_dir / VERDICTS}: no run log")
    items = items_by_id(run_dir)
    contents = contents_of(items)
    cases = []
    for iid, d in items.items():
        meta = d.get("meta") or {}
        ref = meta.get("reference_steps")
        if not isinstance(ref, list):
            raise ValueError(f"{run_dir / 'items.jsonl'}: item {iid!r} has no meta.reference_steps")
        cases.append(RunCase(iid, tuple(StepLabel(str(r["verdict"]), r.get("error_type")) for r in ref),
                             str(meta.get("discipline", "")), str(meta.get("modality", ""))))
    judged: dict[str, Steps | None] = {}
    failures: dict[str, int] = {}
    for rec in iter_latest_records(run_dir / VERDICTS):
        if set_aside_reason(str(rec.get("item_id")), rec.get("item_content"), contents) is not None:
            continue
        o = (rec.get("outcomes") or [{}])[0]
        if "failure" in o or o.get("steps") is None:
            kind = str(o.get("failure", "parse_fail"))
            failures[kind] = failures.get(kind, 0) + 1
            judged[rec["item_id"]] = None
        else:
            judged[rec["item_id"]] = [(str(x["verdict"]), x.get("error_type")) for x in o["steps"]]
    return cases, judged, failures


def metric_rows(metrics: Mapping[str, Any], context: Mapping[str, Any]) -> pd.DataFrame:
    """The tidy ``metrics.csv`` rows of :func:`process_metrics`' output (``group_by`` all / discipline /
    modality), in :data:`judgeanything.analysis.metrics.CSV_COLUMNS`."""
    rows = []
    blocks = [("all", {"all": metrics["pooled"]}), ("discipline", metrics["discipline"]),
              ("modality", metrics["modality"])]
    for group_by, groups in blocks:
        for g, ms in groups.items():
            for m, v in ms.items():
                rows.append({**context, "group_by": group_by, "group": g, "metric": m,
                             "value": finite_or_none(v),
                             "ci_low": None, "ci_high": None, "n": None})
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def leaderboard_block(metrics: Mapping[str, Any], *, judge: str, kind: str, benchmark: str) -> dict[str, Any]:
    """The ``run`` / ``settings`` blocks every run's ``metrics.json`` has, so that ``judgeanything-compare`` and
    sweep leaderboards list a process run by its step accuracy (the setting's primary metric,
    :data:`judgeanything.analysis.agreement.PRIMARY`), error F1 beside it and a per-discipline breakdown."""
    cov = metrics["coverage"]
    pooled = metrics["pooled"]

    val = finite_or_none

    return {"run": {"judge": judge, "judge_kind": kind, "benchmark": benchmark, "mode": "overall"},
            "settings": {"process": {
                "headline_rubric": "overall",
                "counts": {"items": cov["cases"], "judged_items": cov["judged"]},
                "rubrics": {"overall": {
                    "pooled": {m: {"value": val(pooled.get(m))} for m in METRICS},
                    "failures": {"failure_rate": cov["failed"] / max(1, cov["cases"])},
                    "breakdowns": {"discipline": {g: {"step_accuracy": {"value": val(m.get("step_accuracy"))}}
                                                  for g, m in metrics["discipline"].items()}}}}}}}


__all__ = ["METRICS", "RunCase", "first_error", "leaderboard_block", "load_process_run", "metric_rows",
           "process_metrics", "step_metrics"]
