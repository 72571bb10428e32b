"""Usage, cost, budget and snapshot provenance of runs (in-process, composed as the CLI composes them)
against a loopback OpenAI server that reports 11 prompt + 7 completion tokens per answer: cost in metrics.json /
report.md / the leaderboard, cache hits free; run.budget_usd stops cleanly and a rerun with a higher budget
finishes the run, each unit asked once; a provider snapshot change within a run and across compared runs is
warned."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from judgeanything.compare_cli import main as compare_main
from tests.support.compose import config_error, run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration

REPLY = '{"overall_comment": "ok", "overall_choice": "0"}'
PER_CALL = (11 + 7) * 1000 / 1e6  # USD at 1000 USD per million tokens, in and out


def _args(f: Path, media: Path, srv: FakeServer, run: Path, *extra: str) -> list[str]:
    return ["setting=pair", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20",
            "benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}", "judge=openai",
            "judge.model=m", "judge.response_format=none", "judge.max_attempts=1", f"judge.base_url={srv.base_url}",
            "cost.price={input_per_mtok: 1000, output_per_mtok: 1000}", f"hydra.run.dir={run}", *extra]


def test_cost_per_run_and_modality_and_cache_hits_cost_nothing(tmp_path, tiny_pair_benchmark):
    f, media, n = tiny_pair_benchmark
    with FakeServer(Script(reply=REPLY)) as srv:
        run_app(*_args(f, media, srv, tmp_path / "a"))
        run_app(*_args(f, media, srv, tmp_path / "b"))  # answered by the judge cache
        assert len(srv.script.requests) == n
    ua, ub = (json.loads((tmp_path / d / "metrics.json").read_text())["usage"] for d in ("a", "b"))
    assert ua["cost_usd"] == pytest.approx(n * PER_CALL) and ua["spent_usd"] == pytest.approx(n * PER_CALL)
    assert ua["tokens"] == {"prompt_tokens": 11 * n, "completion_tokens": 7 * n}
    assert ua["by_modality"]["image"]["verdicts"] == n  # MLLM-as-a-Judge pairs: image inputs
    assert ub["cost_usd"] == pytest.approx(ua["cost_usd"]) and ub["spent_usd"] == 0 and ub["cached"] == n
    assert ua["price"]["source"] == "cost.price" and ua["snapshots"] == {"m": n}
    report = (tmp_path / "a" / "report.md").read_text()
    assert "## Usage and cost" in report and f"${n * PER_CALL:.4f}" in report
    assert compare_main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path)]) == 0
    board = pd.read_csv(tmp_path / "leaderboard.csv")
    assert sorted(board["spent_usd"].round(6)) == [0.0, round(n * PER_CALL, 6)]
    assert (board["cost_usd"].round(6) == round(n * PER_CALL, 6)).all()


def test_a_budget_stops_cleanly_and_a_higher_one_finishes_the_run(tmp_path, tiny_pair_benchmark):
    f, media, n = tiny_pair_benchmark
    run = tmp_path / "run"
    with FakeServer(Script(reply=REPLY)) as srv:
        printed = run_app(*_args(f, media, srv, run, "run.budget_usd=0.1", "judge.concurrency=4"))
        asked = len(srv.script.requests)
        assert 1 <= asked <= 5  # 5 × 0.018 = 0.09 ≤ 0.1 < 6 × 0.018
        info = json.loads((run / "run.json").read_text())
        assert info["budget"]["stopped"] and info["budget"]["spent_usd"] <= 0.1
        # the run's own accounts are numbers, not masked like a config value under a "session" key
        assert info["budget"]["spent_this_session_usd"] == info["budget"]["spent_usd"]
        assert info["budget"]["spent_usd"] == pytest.approx(asked * PER_CALL)
        assert info["counts"]["left_by_budget"] == n - asked and not info.get("finished")
        assert len((run / "verdicts.jsonl").read_text().splitlines()) == asked  # everything judged is kept
        assert "stopped by run.budget_usd=0.1" in printed
        run_app(*_args(f, media, srv, run, "run.budget_usd=0.1"))  # the same budget: nothing more is sent
        assert len(srv.script.requests) == asked
        run_app(*_args(f, media, srv, run, "run.budget_usd=5"))
        assert len(srv.script.requests) == n  # each unit asked exactly once over the three sessions
    info = json.loads((run / "run.json").read_text())
    assert info["finished"] and not info["budget"]["stopped"]
    assert info["budget"]["spent_usd"] == pytest.approx(n * PER_CALL)
    assert len({json.loads(x)["key"] for x in (run / "verdicts.jsonl").read_text().splitlines()}) == n


def test_a_budget_without_a_price_is_a_config_error(tmp_path, tiny_pair_benchmark):
    f, media, _ = tiny_pair_benchmark
    with FakeServer(Script(reply=REPLY)) as srv:
        args = [a for a in _args(f, media, srv, tmp_path / "x", "run.budget_usd=1")
                if not a.startswith(("cost.", "hydra."))]
        err = config_error(tmp_path / "x", *args)
    assert "run.budget_usd=1 needs the price of judge 'm'" in err
    assert srv.script.requests == []  # refused before anything is sent


def test_a_snapshot_change_within_a_run_and_across_compared_runs_is_warned(tmp_path, tiny_pair_benchmark):
    f, media, n = tiny_pair_benchmark
    script = Script(response={"model": "m-2024-05"})

    def reply(body: dict) -> str:  # the provider swaps the model behind the id halfway through
        if len(script.requests) > n // 2:
            script.response["model"] = "m-2024-08"
        return REPLY

    script.reply = reply
    with FakeServer(script) as srv:
        run_app(*_args(f, media, srv, tmp_path / "a", "judge.concurrency=1"))
        run_app(*_args(f, media, srv, tmp_path / "b", "judge.sampling.seed=1"))  # all answered by the new one
    notes = json.loads((tmp_path / "a" / "metrics.json").read_text())["notes"]
    assert any("2 model snapshots (m-2024-05 ×" in x and "m-2024-08 ×" in x for x in notes), notes
    assert compare_main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path)]) == 0
    board_md = (tmp_path / "leaderboard.md").read_text()
    assert "## Warnings" in board_md and "different model snapshots" in board_md
