"""Finishing a process-judging run (``setting=process``): metrics (:mod:`judgeanything.analysis.process`) into
``metrics.json`` / ``metrics.csv``, the reference-baseline check and ``report.md``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from judgeanything.analysis.markdown import Table, fmt, markdown_environment, md_text, reference_check_table
from judgeanything.analysis.metrics import write_metrics
from judgeanything.analysis.process import METRICS, leaderboard_block, load_process_run, metric_rows, process_metrics
from judgeanything.analysis.reference import binomial_interval, poisson_binomial

#: metric → which steps/cases are its independent trials, for a baseline's binomial interval
_TRIALS = ("step_accuracy", "error_recall", "error_type_accuracy")


def _baseline(judge: Any) -> Any:
    """The judge when it states expected metrics (a reference baseline), else None."""
    return judge if callable(getattr(judge, "expected_metrics", None)) else None


def _trials(cases: Sequence[Any], metric: str) -> int:
    labs = [lab for c in cases for lab in c.labels]
    if metric == "step_accuracy":
        return len(labs)
    if metric == "error_recall":
        return sum(lab.is_error for lab in labs)
    return sum(lab.is_error and lab.error_type is not None for lab in labs)


def _poisson_binomial_interval(ps: Sequence[float], ci: float) -> tuple[float, float]:
    """The central ``ci`` interval of the mean of independent Bernoulli(pᵢ) draws, from the exact
    Poisson-binomial distribution of their sum (built by convolving the cases one at a time; n ≤ a few
    thousand, so the O(n²) convolution is cheap and, unlike a normal approximation, right for small pᵢ)."""
    cdf = np.cumsum(poisson_binomial(ps))
    lo = int(np.searchsorted(cdf, (1 - ci) / 2))
    hi = int(np.searchsorted(cdf, 1 - (1 - ci) / 2))
    return lo / len(ps), hi / len(ps)


def baseline_check(cases: Sequence[Any], expected: Mapping[str, float], observed: Mapping[str, float],
                   ci: float = 0.95, *, exact: bool = False) -> list[dict[str, Any]]:
    """Each expected metric next to the observed one, on the judged ``cases``. A deterministic baseline
    (``exact``) must match to 1e-9. A random one: step accuracy, error recall and error-type accuracy get the
    central ``ci`` binomial interval over their trials (steps, reference errors, typed reference errors; each an
    independent draw); first-error accuracy, a mean of independent Bernoulli(½ᵏ) cases, gets the interval of that
    Poisson-binomial mean. Error precision and F1 of ``random`` are ratios of counts, stated without a check."""
    out = []
    for m, p in expected.items():
        obs = observed.get(m)
        if obs is None or (isinstance(obs, float) and math.isnan(obs)) or math.isnan(p):
            continue
        row: dict[str, Any] = {"metric": m, "expected": p, "observed": float(obs)}
        if exact or p in (0.0, 1.0):
            row.update(n=len(cases), lo=p, hi=p, inside=abs(float(obs) - p) < 1e-9)
        elif m in _TRIALS:
            n = _trials(cases, m)
            lo, hi = binomial_interval(n, p, ci)
            row.update(n=n, lo=lo, hi=hi, inside=bool(lo <= obs <= hi))
        elif m == "first_error_accuracy":
            lo, hi = _poisson_binomial_interval([0.5 ** (c.first_error or len(c.labels)) for c in cases], ci)
            row.update(n=len(cases), lo=lo, hi=hi, inside=bool(lo - 1e-12 <= obs <= hi + 1e-12))
        else:
            continue
        out.append(row)
    return out


def render(metrics: Mapping[str, Any], check: Sequence[Mapping[str, Any]]) -> str:
    """``report.md`` of a process run (template ``report/templates/process.md.j2``): coverage and failures, the
    step metrics pooled and by discipline and modality, and the reference-baseline ``check`` rows of
    :func:`baseline_check`."""
    cov = metrics["coverage"]
    groups = [("all", metrics["pooled"]), *[(f"discipline {g}", m) for g, m in metrics["discipline"].items()],
              *[(f"modality {g}", m) for g, m in metrics["modality"].items()]]
    return markdown_environment("judgeanything.report").get_template("process.md.j2").render(
        judge=md_text(metrics["judge"]), benchmark=md_text(metrics["benchmark"]), cases=md_text(cov["cases"]),
        judged=md_text(cov["judged"]), failed=md_text(cov["failed"]),
        failures=md_text(", ".join(f"{k} {v}" for k, v in metrics["failures"].items())) if metrics["failures"] else "",
        groups=Table(["group", *METRICS], [[g, *[fmt(m.get(k)) for k in METRICS]] for g, m in groups]),
        check=reference_check_table(check) if check else None)


def finish_process_run(run_dir: Path, *, judge: Any, data: Any, analysis: Mapping[str, Any]) -> dict[str, Any]:
    """Analyse a process run: ``metrics.json``, ``metrics.csv``, ``report.md`` (and ``reference_check.json`` for
    a reference baseline); returns ``{"text": console summary, "metrics": ...}``."""
    run_dir = Path(run_dir)
    summary: dict[str, Any] = {"run_dir": str(run_dir)}
    cases, judged, failures = load_process_run(run_dir)
    context = {"judge": str(judge.name), "benchmark": str(getattr(data, "name", "probes")), "setting": "process",
               "mode": "overall", "rubric": "overall"}
    metrics: dict[str, Any] = {**context, "kind": str(judge.kind), **process_metrics(cases, judged),
                               "failures": failures}
    metrics.update(leaderboard_block(metrics, judge=context["judge"], kind=str(judge.kind),
                                     benchmark=context["benchmark"]))
    check: list[dict[str, Any]] = []
    baseline = _baseline(judge)
    if baseline is not None:
        ok = [c for c in cases if judged.get(c.case_id) is not None]
        check = baseline_check(ok, baseline.expected_metrics("process", ok), metrics["pooled"],
                               float(analysis.get("ci", 0.95)), exact=bool(getattr(baseline, "deterministic", False)))
        if check:
            metrics["reference_check"] = check
            (run_dir / "reference_check.json").write_text(json.dumps(check, indent=1), encoding="utf-8")
    write_metrics(run_dir, metrics, metric_rows(metrics, context))
    (run_dir / "report.md").write_text(render(metrics, check), encoding="utf-8")
    p = metrics["pooled"]
    summary["metrics"] = metrics
    summary["text"] = "\n".join([f"run directory: {run_dir}",
                                 f"step accuracy = {fmt(p.get('step_accuracy'))}, error F1 = {fmt(p.get('error_f1'))}"
                                 f", first-error accuracy = {fmt(p.get('first_error_accuracy'))} "
                                 f"({metrics['coverage']['judged']}/{metrics['coverage']['cases']} cases judged)",
                                 f"report: {run_dir / 'report.md'}"])
    return summary


__all__ = ["baseline_check", "finish_process_run", "render"]
