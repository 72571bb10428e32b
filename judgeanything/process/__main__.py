"""``python -m judgeanything.process``: the process probe family judged by the reference baselines, each metric
next to its theoretical value (a check of the probe labels, the per-step reader and the metrics together).

Also reads a ProJudgeBench release file (``--projudgebench test.parquet``) instead of the probes. Writes
``process_baselines.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judgeanything.analysis.markdown import fmt, md_table
from judgeanything.analysis.process import METRICS, process_metrics
from judgeanything.parsing.process import parse_process
from judgeanything.process.baselines import BASELINES, answer_json, baseline_steps, expected_metrics
from judgeanything.process.probes import process_probes
from judgeanything.process.release import load_projudgebench
from judgeanything.schema import SchemaError


def baseline_report(cases: Sequence[Any], names: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """Per baseline: the metrics (pooled, per discipline and modality) of its answers read back through the
    per-step reader, and the expected values (:func:`judgeanything.process.baselines.expected_metrics`)."""
    out: dict[str, Any] = {}
    for name in names:
        judged: dict[str, Any] = {}
        for c in cases:
            r = parse_process(answer_json(baseline_steps(name, c.case_id, len(c.steps), seed)), len(c.steps))
            judged[c.case_id] = None if r.failure else list(r.steps)
        out[name] = {"observed": process_metrics(cases, judged), "expected": expected_metrics(name, cases)}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 ok, 1 an unreadable release file."""
    ap = argparse.ArgumentParser(prog="python -m judgeanything.process", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", type=int, default=40, help="probe cases per kind (chart, geometry, arithmetic)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--projudgebench", type=Path, default=None, help="a ProJudgeBench test.parquet instead")
    ap.add_argument("--out", type=Path, default=Path("."), help="where process_baselines.json goes")
    a = ap.parse_args(argv)
    try:
        if a.projudgebench is not None:
            cases = load_projudgebench(a.projudgebench)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                cases = process_probes(tmp, size=a.size, seed=a.seed)
    except SchemaError as e:
        print(f"judgeanything.process: {e}", file=sys.stderr)
        return 1
    report = baseline_report(cases, BASELINES, a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "process_baselines.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    rows = [[name, m, fmt(r["observed"]["pooled"].get(m)), fmt(r["expected"].get(m))]
            for name, r in report.items() for m in METRICS if m in r["expected"]]
    print(md_table(["baseline", "metric", "observed", "expected"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
