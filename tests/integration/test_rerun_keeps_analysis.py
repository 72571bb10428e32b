"""A rerun that judges nothing keeps the analysis it finds (same log, items, labels and options): it is not
analysed, held in memory and rendered again; anything that changes one of them analyses again."""

from __future__ import annotations

import json

import pytest

from tests.support.compose import run_app

pytestmark = pytest.mark.integration

ARGS = ["judge=first", "setting=pair", "run.limit=6", "analysis.bootstrap=30", "analysis.plots=false",
        "run.progress=false"]


def test_a_rerun_that_judged_nothing_keeps_the_analysis(tmp_path):
    run = tmp_path / "run"
    first = run_app(*ARGS, f"hydra.run.dir={run}")
    assert "up to date" not in first
    written = {p: (run / p).stat().st_mtime_ns for p in ("metrics.json", "metrics.csv", "report.md", "report.html")}
    again = run_app(*ARGS, f"hydra.run.dir={run}")
    assert "analysis up to date" in again and "accuracy_with_tie" in again  # the headline
    assert {p: (run / p).stat().st_mtime_ns for p in written} == written
    assert json.loads((run / "run.json").read_text())["counts"]["skipped"] == 6
    # other analysis options: analysed again
    other = run_app(*ARGS, "analysis.bootstrap=40", f"hydra.run.dir={run}")
    assert "up to date" not in other
    assert json.loads((run / "metrics.json").read_text())["params"]["bootstrap"] == 40
    # a report deleted by hand is written again
    (run / "report.html").unlink()
    run_app(*ARGS, "analysis.bootstrap=40", f"hydra.run.dir={run}")
    assert (run / "report.html").is_file()
    # two more items judged: analysed again
    grown = run_app(*[a for a in ARGS if not a.startswith("run.limit")], "run.limit=8", "analysis.bootstrap=40",
                f"hydra.run.dir={run}")
    assert "up to date" not in grown
    assert json.loads((run / "run.json").read_text())["counts"]["judged"] == 2
    assert json.loads((run / "metrics.json").read_text())["settings"]["pair"]["counts"]["items"] == 8
