"""The report on metrics written by the analysis layer (format compatibility, not a fixture of ours)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from judgeanything.analysis import analyze_run
from judgeanything.analysis.agreement import PRIMARY
from judgeanything.report._run import read_run, run_metrics
from judgeanything.report.html import write_html_report
from judgeanything.report.plots import AGREEMENT_PNG, agreement_by_task, calibration
from judgeanything.store import read_jsonl, write_jsonl


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
    panels = agreement_by_task(run_metrics(pair_run))
    assert [(p.setting, p.metric) for p in panels] == [("pair", "accuracy_with_tie")]
    assert panels[0].values == {"overall": want}

    html = write_html_report(pair_run).read_text(encoding="utf-8")
    assert (pair_run / "plots" / AGREEMENT_PNG).is_file()
    pooled = next(r for r in rows if r["group_by"] == "pooled" and r["metric"] == "accuracy_with_tie")
    assert f"<td>accuracy_with_tie</td><td>{float(pooled['value']):.3f} [" in html


def test_report_counts_what_the_analysis_counts(pair_run: Path) -> None:
    """A retried failure and a key logged twice: the header, the cards and the calibration count the latest
    attempt of each key (the first record among equal attempts), as metrics.csv does."""
    before = calibration(read_run(pair_run))
    recs = read_jsonl(pair_run / "verdicts.jsonl")
    failed = next(r for r in recs if r["item_id"] == "p-av" and r["order"] == [0, 1])
    retry = {**failed, "attempt": 1, "raw": "RETRY-RAW", "outcomes": [{"rubric": "overall", "value": "first"}]}
    dup = next(r for r in recs if r["item_id"] == "p-txt" and r["order"] == [0, 1])
    dup = {**dup, "raw": "DUPLICATE-RAW", "outcomes": [
        {"rubric": "overall", "value": "first", "probs": {"first": 0.9, "tie": 0.05, "second": 0.05}}]}
    write_jsonl(pair_run / "verdicts.jsonl", [*recs, retry, dup])
    (pair_run / "metrics.csv").unlink()
    m = analyze_run(pair_run, bootstrap=0)
    assert m["settings"]["pair"]["coverage"]["failures"] == 0

    html = write_html_report(pair_run).read_text(encoding="utf-8")
    assert "<tr><th>failures</th><td>0</td></tr>" in html and "100.0%" in html
    assert "failure: parse_fail" not in html and "flag-failed" not in html
    assert "RETRY-RAW" in html and "DUPLICATE-RAW" not in html
    assert "superseded records (a retried failure, a key logged twice)</th><td>2</td>" in html
    after = calibration(read_run(pair_run))
    assert before is not None and after is not None
    assert after.confidence.tolist() == before.confidence.tolist() and after.ece == before.ece
