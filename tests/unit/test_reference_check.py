"""The reference-baseline check of a finished run states the confidence level it was computed at."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from scipy import stats

from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges.baselines import RandomJudge
from judgeanything.report.summary import finish_run
from judgeanything.runner import Runner, RunOptions
from judgeanything.schema import PAIR_CHOICES, HumanLabel
from tests.support.items import toy_pairs


def _data(n: int = 40) -> BenchmarkData:
    data = toy_pairs(n)
    return replace(data, labels=[HumanLabel(it.item_id, "overall", PAIR_CHOICES[i % 3])
                                 for i, it in enumerate(data.items)])


def test_reference_check_uses_the_configured_confidence_level(tmp_path):
    data, judge = _data(), RandomJudge()
    Runner(data, judge, tmp_path, RunOptions(progress=False)).run()
    summary = finish_run(tmp_path, analysis={"ci": 0.9, "bootstrap": 10, "html": False, "plots": False})
    rows = {r["metric"]: r for r in json.loads((tmp_path / "reference_check.json").read_text())}
    acc = rows["accuracy_with_tie"]
    assert acc["n"] == 40 and acc["expected"] == pytest.approx(1 / 3)
    lo, hi = stats.binom.ppf([0.05, 0.95], 40, 1 / 3) / 40
    assert (acc["lo"], acc["hi"]) == pytest.approx((lo, hi))
    report = (tmp_path / "report.md").read_text()
    assert "proportions get a 90% binomial interval" in report and "| 90% interval |" in report
    assert "95%" not in report.split("## Reference baseline check")[1]
    assert f"90% interval [{lo:.3f}, {hi:.3f}]" in summary["text"]
    headline = [line.split(" = ")[0] for line in summary["text"].splitlines()[1:4]]
    assert headline == ["accuracy_with_tie", "accuracy_without_tie", "coverage"]
    assert "coverage = 1.000 (n=40)" in summary["text"] and "(n=27)" in summary["text"]  # 27 non-tie labels


_OPTIONS = {"ci": 0.9, "bootstrap": 20, "seed": 7, "inconsistent": "drop", "reducer": "median",
            "families": {"^m": "toyfamily"}}


@pytest.mark.parametrize("recorded_in", ["metrics.json", "run.json"])
def test_compare_reanalyses_a_run_with_its_own_options(tmp_path, recorded_in):
    # judgeanything-compare --recompute (or a run without metrics.json) must reproduce the run's own analysis:
    # the options it was analysed with, and the report's reference-baseline section
    from judgeanything.compare_cli import main as compare

    run_dir = tmp_path / "run"
    Runner(_data(), RandomJudge(), run_dir, RunOptions(progress=False, pair_order="both"),
           config={"analysis": {**_OPTIONS, "html": False}}).run()
    finish_run(run_dir, analysis={**_OPTIONS, "html": False, "plots": False})
    before = {f: (run_dir / f).read_bytes() for f in ("metrics.json", "metrics.csv", "report.md",
                                                      "reference_check.json")}
    params = json.loads(before["metrics.json"])["params"]
    assert {k: params[k] for k in _OPTIONS} == _OPTIONS
    assert b"## Reference baseline check" in before["report.md"]
    if recorded_in == "run.json":
        (run_dir / "metrics.json").unlink()
    assert compare([str(run_dir), "--recompute", "--out", str(tmp_path)]) == 0
    after = {f: (run_dir / f).read_bytes() for f in before}
    assert after == before
    assert compare([str(run_dir), "--recompute", "--bootstrap", "0", "--out", str(tmp_path)]) == 0
    assert json.loads((run_dir / "metrics.json").read_text())["params"] == {**params, "bootstrap": 0}
