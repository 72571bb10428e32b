"""judge.parse end to end: each outcome in verdicts.jsonl records parsed_by, and the strict-parse rate
reaches metrics.json, metrics.csv, report.md and the leaderboard; the strict strategy reads only the JSON
answer of the prompt's contract; an unknown strategy is a config error."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from judgeanything.analysis.leaderboard import build_leaderboard
from tests.support.compose import config_error, run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration

BASE = ["setting=pair", "analysis.plots=false", "analysis.bootstrap=0",
        "judge=openai", "judge.model=fake", "judge.response_format=none", "judge.max_attempts=1"]


def _reply(body: dict[str, Any]) -> str:
    """Even items: the prompt's JSON answer; odd items: MT-Bench-style prose ("[[B]]")."""
    i = int(re.search(r"dots are in image (\d+)", json.dumps(body)).group(1))  # type: ignore[union-attr]
    return '{"overall_comment": "ok", "overall_choice": "2"}' if i % 2 == 0 else "B explains more. [[B]]"


@pytest.mark.parametrize("strategy", ["auto", "strict"])
def test_parsed_by_and_strict_parse_rate(tmp_path, tiny_pair_benchmark, strategy: str) -> None:
    f, media, n = tiny_pair_benchmark
    run = tmp_path / strategy
    with FakeServer(Script(reply=_reply)) as srv:
        run_app(*BASE, "benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}",
                f"judge.base_url={srv.base_url}", f"judge.parse={strategy}", f"hydra.run.dir={run}")
    recs = [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]
    by = sorted(o.get("parsed_by") for r in recs for o in r["outcomes"])
    if strategy == "auto":
        assert by == ["lenient/anchor"] * (n // 2) + ["strict/json"] * (n // 2)
        assert all(o.get("value") is not None for r in recs for o in r["outcomes"])
    else:  # prose is not the contract: a parse failure under strict, never a verdict
        assert by == ["strict"] * (n // 2) + ["strict/json"] * (n // 2)
        assert sum(o.get("failure") == "parse_fail" for r in recs for o in r["outcomes"]) == n // 2
    parsing = json.loads((run / "metrics.json").read_text())["settings"]["pair"]["parsing"]
    assert parsing["strict_parse_rate"] == 0.5 and parsing["parsed_rows"] == n
    csv = [x for x in (run / "metrics.csv").read_text().splitlines() if ",strict_parse_rate," in x]
    assert len(csv) == 1 and csv[0].endswith(f",0.5,,,{n}")
    assert "Strict-parse rate: **0.500**" in (run / "report.md").read_text()
    assert "<th>strict-parse rate</th><td>50.0%</td>" in (run / "report.html").read_text()
    assert build_leaderboard([run])["strict_parse_rate"].tolist() == [0.5]
    run_json = json.loads((run / "run.json").read_text())
    identity = run_json["identity"]
    assert identity.get("parse") == (strategy if strategy != "auto" else None)  # default: earlier identity


def test_unknown_parse_strategy_is_a_config_error(tmp_path) -> None:
    err = config_error(tmp_path, *BASE, "judge.parse=loose", "judge.base_url=http://127.0.0.1:9/v1")
    assert "judge.parse" in err and "strict" in err


def test_token_limit_stops_are_truncated_failures_in_the_run(tmp_path, tiny_pair_benchmark) -> None:
    """A server that stops at the token limit mid-prose: every unit is a `truncated` failure, counted."""
    f, media, n = tiny_pair_benchmark
    run = tmp_path / "cut"
    with FakeServer(Script(reply="Response 2 is better, so [[B]] unless the", finish_reason="length")) as srv:
        run_app(*BASE, "benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}",
                f"judge.base_url={srv.base_url}", f"hydra.run.dir={run}")
    recs = [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]
    assert [o["failure"] for r in recs for o in r["outcomes"]] == ["truncated"] * n
    failures = json.loads((run / "metrics.json").read_text())["settings"]["pair"]["coverage"]
    assert failures["by_kind"] == {"truncated": n} and failures["coverage"] == 0
