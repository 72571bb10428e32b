"""The report on metrics written by the analysis layer (format compatibility, not a fixture of ours)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from judgeanything.analysis import analyze_run
from judgeanything.analysis.agreement import PRIMARY
from judgeanything.report.html import write_html_report
from judgeanything.report.plots import AGREEMENT_PNG, agreement_by_task


def _f(x: str) -> float | None:
    return float(x) if x not in ("", None) and math.isfinite(float(x)) else None


def test_report_reads_analysis_metrics(pair_run: Path) -> None:
    (pair_run / "metrics.csv").unlink()  # the fixture's hand-written one
    analyze_run(pair_run, bootstrap=100)
    rows = list(csv.DictReader((pair_run / "metrics.csv").open(encoding="utf-8")))
    want = {
        r["group"]: (float(r["value"]), _f(r["ci_low"]), _f(r["ci_high"]))
        for r in rows
        if r["group_by"] == "task_type"
        and r["metric"] == PRIMARY["pair"]
        and r["rubric"] == "overall"
        and _f(r["value"]) is not None
    }
    assert set(want) == {"Image2Text", "Text2Audio", "Text2Video", "AudioVideo2Text", "Text2Text"}
    panels = agreement_by_task(pair_run)
    assert [(p.setting, p.metric) for p in panels] == [("pair", "accuracy_with_tie")]
    assert panels[0].values == {"overall": want}

    html = write_html_report(pair_run).read_text(encoding="utf-8")
    assert (pair_run / "plots" / AGREEMENT_PNG).is_file()
    pooled = next(r for r in rows if r["group_by"] == "pooled" and r["metric"] == "accuracy_with_tie")
    assert f"<td>accuracy_with_tie</td><td>{float(pooled['value']):.3f} [" in html
