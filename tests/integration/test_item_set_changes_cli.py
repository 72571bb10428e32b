"""The field report, replayed as the CLI runs it (the composed config, in-process): after a full run, the same
command with a smaller ``run.limit`` judged, then exited 2 on "verdict for item ... which is not in items.jsonl"
and left the old report. Now it finishes, analyses the current items and says how many old records it set
aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.compose import run_app

pytestmark = pytest.mark.integration


def test_a_smaller_limit_after_a_full_run_finishes_and_says_what_was_set_aside(tmp_path: Path,
                                                                               tiny_pair_benchmark) -> None:
    f, media, n = tiny_pair_benchmark
    run = tmp_path / "r"
    common = ["benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}", "judge=first",
              "analysis.bootstrap=10", "analysis.plots=false", "analysis.html=false", f"hydra.run.dir={run}"]
    run_app(*common)
    printed = run_app(*common, "run.limit=5")
    assert f"{n - 5} verdict record(s) in verdicts.jsonl were set aside" in printed
    assert json.loads((run / "metrics.json").read_text())["settings"]["pair"]["counts"]["items"] == 5
    assert f"{n - 5} verdict record(s)" in (run / "report.md").read_text()
