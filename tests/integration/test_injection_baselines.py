"""Prompt-injection susceptibility end to end: the injection probes judged by the reference baselines
(runs composed as the CLI composes them, in-process) land at the values the baselines' definitions imply, in
metrics.csv, report.md and the leaderboard.

* ``first`` judged in both orders chooses the injected candidate in exactly half of the pair
  presentations, and with cyclic batch permutations ranks it first in exactly a quarter;
* ``random`` (uniform over first / tie / second; 1–5; permutations) lies inside the 99.9 % Clopper–Pearson
  interval of ⅓ (pair), ⅕ (score).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import binomtest

from judgeanything.analysis.leaderboard import build_leaderboard
from tests.support.compose import run_app

pytestmark = pytest.mark.integration

FAMILIES = "benchmark.families=[injection_text,injection_image,injection_video,injection_audio]"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    out = tmp_path_factory.mktemp("inj")
    common = [FAMILIES, "benchmark.size=small", "analysis.bootstrap=100", "run.progress=false"]
    settings = {"pair": ["setting=pair", "setting.order=both"],
                "batch": ["setting=batch", "setting.permutations=cyclic"], "score": ["setting=score"]}
    found = {}
    for judge, setting in [("first", "pair"), ("random", "pair"), ("first", "batch"), ("random", "batch"),
                           ("random", "score")]:
        run = out / f"{judge}-{setting}"
        run_app(f"judge={judge}", *settings[setting], *common, f"hydra.run.dir={run}")
        info = json.loads((run / "run.json").read_text())
        assert (info["judge"], info["setting"]) == (judge, setting)
        found[(judge, setting)] = run
    return found


def _rows(run: Path, metric: str) -> pd.DataFrame:
    df = pd.read_csv(run / "metrics.csv", keep_default_na=False)
    return df[(df.rubric == "overall") & (df.group_by == "prompt_injection") & (df.metric == metric)]


def test_first_chooses_the_injected_candidate_in_exactly_half_the_pair_presentations(runs) -> None:
    run = runs[("first", "pair")]
    for metric, value in (("susceptibility", 0.5), ("control_rate", 0.5), ("lift", 0.0)):
        r = _rows(run, metric)
        assert set(r.group) >= {"all", "text", "image", "video"}, r
        assert (r.value.astype(float) == value).all(), r
    assert int(_rows(run, "susceptibility").set_index("group").loc["all", "n"]) > 0


def test_first_ranks_the_injected_candidate_first_in_exactly_a_quarter_of_batches(runs) -> None:
    r = _rows(runs[("first", "batch")], "susceptibility")
    assert (r.value.astype(float) == 0.25).all(), r


@pytest.mark.parametrize(("setting", "p"), [("pair", 1 / 3), ("batch", 1 / 4), ("score", 1 / 5)])
def test_random_is_inside_the_binomial_interval_of_its_definition(runs, setting: str, p: float) -> None:
    for metric in ("susceptibility", "control_rate"):
        r = _rows(runs[("random", setting)], metric).set_index("group").loc["all"]
        n = int(r["n"])
        k = round(float(r["value"]) * n)
        lo, hi = binomtest(k, n, p).proportion_ci(confidence_level=0.999, method="exact")
        assert lo <= p <= hi, (setting, metric, k, n)


@pytest.mark.parametrize(("setting", "p"), [("pair", 1 / 3), ("batch", 1 / 4), ("score", 1 / 5)])
def test_random_reference_check_states_the_implied_susceptibility(runs, setting: str, p: float) -> None:
    rows = json.loads((runs[("random", setting)] / "reference_check.json").read_text())
    row = next(r for r in rows if r["metric"] == "injection_susceptibility")
    assert row["expected"] == pytest.approx(p) and row["inside"] and row["n"] > 0, row
    assert "| injection_susceptibility |" in (runs[("random", setting)] / "report.md").read_text()


def test_report_and_leaderboard_show_susceptibility(runs) -> None:
    assert "### Prompt-injection susceptibility" in (runs[("first", "pair")] / "report.md").read_text()
    assert "prompt_injection" in (runs[("first", "pair")] / "report.html").read_text()
    lb = build_leaderboard(list(runs.values()))
    first = lb[(lb.judge == "first") & (lb.setting == "pair")].iloc[0]
    assert first["injection_susceptibility"] == 0.5
    assert first["injection[out=image]"] == 0.5
    assert {"injection_susceptibility_ci_low", "injection[out=video]"} <= set(lb.columns)
