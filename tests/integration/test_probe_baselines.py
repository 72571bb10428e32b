"""Acceptance on the embedded probe suite: a Hydra multirun of the three reference baselines in both orders,
then one leaderboard from `judgeanything-compare`.

* `random`: its accuracies lie within the binomial 95% interval of the values its definition implies;
* `first`: P(prefer slot 1) = 1 and, judged in both orders, flip rate = 1;
* `longer`: P(prefer the larger response) = 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.conftest import cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    cache = tmp_path_factory.mktemp("cache")
    cli("-m", "judge=random,first,longer", "setting=pair", "setting.order=both", f"hydra.sweep.dir={out}",
        "analysis.bootstrap=200", env={"JUDGEANYTHING_CACHE": str(cache)}, timeout=900)
    runs = {json.loads((d / "run.json").read_text())["judge"]: d for d in out.iterdir() if (d / "run.json").exists()}
    return out, runs


def _metric(run: Path, group_by: str, metric: str) -> float:
    df = pd.read_csv(run / "metrics.csv", keep_default_na=False)
    r = df[(df.rubric == "overall") & (df.group_by == group_by) & (df.metric == metric)]
    assert len(r) == 1, (group_by, metric, len(r))
    return float(r.value.iloc[0])


def test_three_runs_on_all_15_task_types(sweep):
    _, runs = sweep
    assert set(runs) == {"random", "first", "longer"}
    for run in runs.values():
        tasks = {json.loads(x)["task_name"] for x in (run / "items.jsonl").read_text().splitlines()}
        assert len(tasks) >= 14  # 15 with espeak-ng installed (the speech family), 14 without


def test_random_within_its_implied_binomial_interval(sweep):
    _, runs = sweep
    rows = {r["metric"]: r for r in json.loads((runs["random"] / "reference_check.json").read_text())}
    # agreement from the labels; susceptibility on the suite's prompt-injection probes
    assert set(rows) == {"accuracy_with_tie", "accuracy_without_tie", "injection_susceptibility"}
    for r in rows.values():
        assert r["expected"] == pytest.approx(1 / 3) and r["inside"], r
    assert "Reference baseline check" in (runs["random"] / "report.md").read_text()


def test_first_is_pure_position_bias(sweep):
    _, runs = sweep
    assert _metric(runs["first"], "position", "p_prefer_slot_1") == 1.0
    assert _metric(runs["first"], "position", "flip_rate") == 1.0


def test_longer_always_prefers_the_larger(sweep):
    _, runs = sweep
    assert _metric(runs["longer"], "size:primary", "p_prefer_larger") == 1.0
    assert _metric(runs["longer"], "position", "flip_rate") == 0.0


def test_compare_prints_one_leaderboard_with_all_three(sweep):
    out, _ = sweep
    p = subprocess.run([str(Path(sys.executable).parent / "judgeanything-compare"), str(out)], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    table = [line for line in p.stdout.splitlines() if line.startswith("|")]
    assert all(any(f"| {j} " in line for line in table) for j in ("random", "first", "longer")), p.stdout
    lb = pd.read_csv(out / "leaderboard.csv")
    assert sorted(lb["judge"]) == ["first", "longer", "random"]


def test_jury_of_the_three_baselines_is_analysed_like_a_judge(sweep, tmp_path):
    """judgeanything-jury on the real runs: each jury verdict is the plurality (split → tie) of the members'
    order-combined verdicts, its accuracy is those verdicts scored against the labels, and the leaderboard
    ranks it beside its members."""
    from judgeanything.analysis import load_run
    from judgeanything.analysis.units import combine_orders, human_labels, reduce_repeats
    from judgeanything.compare_cli import main as compare_main
    from judgeanything.jury_cli import main as jury_main

    out, runs = sweep
    members = [runs[n] for n in ("random", "first", "longer")]
    jury_dir = tmp_path / "jury"
    assert jury_main([*map(str, members), "--out", str(jury_dir), "--bootstrap", "0"]) == 0
    votes = {}
    for m in members:
        d = load_run(m)
        u = combine_orders(reduce_repeats(d.verdicts, "pair"), "pair", "tie")
        for i, rb, val in zip(u["item_id"], u["rubric"], u["value"], strict=True):
            votes.setdefault((i, rb), []).append(val)
    jury = load_run(jury_dir)
    assert jury.run["kind"] == "jury" and len(jury.verdicts) == len(votes)
    for i, rb, val in zip(jury.verdicts["item_id"], jury.verdicts["rubric"], jury.verdicts["value"], strict=True):
        c = pd.Series(votes[(i, rb)]).value_counts()
        want = "tie" if len(c) > 1 and c.iloc[0] == c.iloc[1] else c.index[0]
        assert val == want, (i, votes[(i, rb)], val)
    humans = human_labels(jury.labels, jury.items).set_index(["item_id", "rubric"])["human"]
    right = [val == humans[(i, rb)] for i, rb, val in zip(jury.verdicts["item_id"], jury.verdicts["rubric"],
                                                          jury.verdicts["value"], strict=True)]
    assert _metric(jury_dir, "pooled", "accuracy_with_tie") == pytest.approx(sum(right) / len(right))
    assert compare_main([str(out), str(jury_dir), "--out", str(tmp_path), "--bootstrap", "0"]) == 0
    lb = pd.read_csv(tmp_path / "leaderboard.csv")
    assert set(lb["judge"]) >= {"random", "first", "longer", "jury-majority"}
    assert lb.set_index("judge").loc["jury-majority", "kind"] == "jury"
