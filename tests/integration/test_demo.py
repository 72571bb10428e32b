"""The README's main job (`make demo` = `judgeanything experiment=demo` + `judgeanything-compare`), end to end
through the console scripts: the probe suite judged by the three reference baselines and the random-weight smoke
judge through the real `hf` path, in both orders, then one leaderboard. The same runs are the baselines'
acceptance on the embedded probe suite:

* `random`: its accuracies lie within the binomial 95% interval of the values its definition implies;
* `first`: P(prefer slot 1) = 1 and, judged in both orders, flip rate = 1;
* `longer`: P(prefer the larger response) = 1;
* a jury of the three is analysed like a judge.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.conftest import BIN, cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The demo sweep folder and its run directories by judge name."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    cli("experiment=demo", f"hydra.sweep.dir={out}", timeout=900)
    runs = {json.loads((d / "run.json").read_text())["judge"]: d for d in out.iterdir() if (d / "run.json").exists()}
    return out, runs


def test_demo_sweep_and_leaderboard(demo):
    out, runs = demo
    assert set(runs) == {"random", "first", "longer", "smoke-omni-tiny"}
    smoke = runs["smoke-omni-tiny"]
    report = (smoke / "report.md").read_text()
    assert "RANDOM weights" in report and "judge=openai" in report and "judge=hf" in report
    recs = [json.loads(x) for x in (smoke / "verdicts.jsonl").read_text().splitlines()]
    items = {json.loads(x)["item_id"]: json.loads(x) for x in (smoke / "items.jsonl").read_text().splitlines()}
    assert len(recs) == 2 * len(items)  # both orders
    seen = set()
    for r in recs:
        (o,) = r["outcomes"]
        if "failure" in o:
            assert o["detail"]
            continue
        assert abs(sum(o["probs"].values()) - 1) < 1e-5 and o["value"] == max(o["probs"], key=o["probs"].get)
        seen.update(m["modality"] for m in r["media"])
    assert {"image", "audio", "video"} <= seen  # every medium reached the judge
    av = [r for r in recs if r["task_name"] == "AudioVideo2Text"]
    assert av and all(any(m["modality"] == "video" for m in r["media"]) for r in av)
    for name in ("report.html", "metrics.csv", "metrics.json"):
        assert (smoke / name).stat().st_size > 0
    p = subprocess.run([str(Path(sys.executable).parent / "judgeanything-compare"), str(out), "--out", str(out)],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    assert (out / "leaderboard.md").read_text().count("| probes |") == 4
    table = [line for line in p.stdout.splitlines() if line.startswith("|")]  # printed too
    assert all(any(f"| {j} " in line for line in table) for j in runs), p.stdout


def _metric(run: Path, group_by: str, metric: str) -> float:
    df = pd.read_csv(run / "metrics.csv", keep_default_na=False)
    r = df[(df.rubric == "overall") & (df.group_by == group_by) & (df.metric == metric)]
    assert len(r) == 1, (group_by, metric, len(r))
    return float(r.value.iloc[0])


def test_every_run_covers_all_15_task_types(demo):
    _, runs = demo
    assert len(runs) == 4
    for run in runs.values():
        tasks = {json.loads(x)["task_name"] for x in (run / "items.jsonl").read_text().splitlines()}
        assert len(tasks) >= 14  # 15 with espeak-ng installed (the speech family), 14 without


def test_random_within_its_implied_binomial_interval(demo):
    _, runs = demo
    rows = {r["metric"]: r for r in json.loads((runs["random"] / "reference_check.json").read_text())}
    # agreement from the labels; susceptibility on the suite's prompt-injection probes
    assert set(rows) == {"accuracy_with_tie", "accuracy_without_tie", "injection_susceptibility"}
    for r in rows.values():
        assert r["expected"] == pytest.approx(1 / 3) and r["inside"], r
    assert "Reference baseline check" in (runs["random"] / "report.md").read_text()


def test_first_is_pure_position_bias(demo):
    _, runs = demo
    assert _metric(runs["first"], "position", "p_prefer_slot_1") == 1.0
    assert _metric(runs["first"], "position", "flip_rate") == 1.0


def test_longer_always_prefers_the_larger(demo):
    _, runs = demo
    assert _metric(runs["longer"], "size:primary", "p_prefer_larger") == 1.0
    assert _metric(runs["longer"], "position", "flip_rate") == 0.0


def test_jury_of_the_three_baselines_is_analysed_like_a_judge(demo, tmp_path):
    """judgeanything-jury on the real runs: each jury verdict is the plurality (split → tie) of the members'
    order-combined verdicts, its accuracy is those verdicts scored against the labels, and the leaderboard
    ranks it beside its members."""
    from judgeanything.analysis import load_run
    from judgeanything.analysis.units import combine_orders, human_labels, reduce_repeats
    from judgeanything.compare_cli import main as compare_main

    out, runs = demo
    members = [runs[n] for n in ("random", "first", "longer")]
    jury_dir = tmp_path / "jury"
    p = subprocess.run([str(BIN / "judgeanything-jury"), *map(str, members), "--out", str(jury_dir), "--bootstrap",
                        "0"], capture_output=True, text=True, timeout=300)  # the console script end to end
    assert p.returncode == 0, p.stderr
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
