"""The cascade is a judge of any setting: on pair comparison of the probe suite, with ``first`` as the fast
judge (no probabilities: fully confident) and ``random`` as the slow one, threshold 0 gives exactly ``first``'s
verdicts and threshold 1 exactly ``random``'s (every unit escalated, ``random`` drawing as it does alone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.compose import composed

pytestmark = pytest.mark.integration  # the app's runs, composed as the CLI composes them

STAGES = ("~judge.fast", "~judge.slow", "+judge.fast={_target_: judgeanything.judges.baselines.FirstJudge}",
          "+judge.slow={_target_: judgeanything.judges.baselines.RandomJudge}")


def _values(out: Path, *overrides: str) -> dict[str, object]:
    from judgeanything.cli import run_from_config

    run_from_config(composed("setting=pair", "benchmark.families=[count_shapes,tone]", "run.progress=false",
                            "analysis.bootstrap=0", "analysis.html=false", "analysis.plots=false", *overrides), out)
    recs = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    return {r["item_id"]: r["outcomes"][0]["value"] for r in recs}


def test_threshold_0_is_fast_and_1_is_slow_in_pair_comparison(tmp_path: Path):
    first = _values(tmp_path / "first", "judge=first")
    random = _values(tmp_path / "random", "judge=random")
    c0 = _values(tmp_path / "c0", "judge=cascade", "judge.threshold=0", *STAGES)
    c1 = _values(tmp_path / "c1", "judge=cascade", "judge.threshold=1", *STAGES)
    assert set(first) == set(c0) == set(c1) and len(first) >= 4
    assert c0 == first and c1 == random
    assert set(first.values()) == {"first"} and len(set(random.values())) > 1


def test_the_fast_stage_reads_text_with_the_runs_parse_strategy():
    """The cascade reads its fast judge's text itself (to decide on escalation), so it must read it as the run
    is configured (judge.parse): prose is a verdict under lenient reading and a parse_fail under strict."""
    import asyncio
    from collections.abc import Sequence

    from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
    from judgeanything.judges.baselines import RandomJudge
    from judgeanything.judges.cascade import CascadeJudge
    from judgeanything.schema import TextPart
    from tests.judges.conftest import make_request

    class Prose(Judge):
        name = "prose"

        async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
            return [JudgeResult(raw="Response A is clearly better here. Verdict: [[A]]", finish_reason="stop")
                    for _ in requests]

    def read(parse: str) -> object:
        cascade = CascadeJudge(Prose(), RandomJudge(), threshold=0.0)
        req = make_request("a", "pair", [TextPart("Compare.")])
        req.parse = parse  # set by the runner's RequestPreparer from judge.parse
        (res,) = asyncio.run(cascade.judge([req]))
        (o,) = res.outcomes
        return o.to_dict().get("value", o.to_dict().get("failure"))

    assert read("lenient") == "first"
    assert read("strict") == "parse_fail"


def test_the_runner_hands_its_parse_strategy_to_the_cascade_on_each_request(tmp_path) -> None:
    """judge.parse reaches the cascade through the run's requests (not through the judge's constructor, which
    a judge built anywhere else — the checklist CLI, a test — would leave at its default)."""
    from collections.abc import Sequence

    from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
    from judgeanything.judges.baselines import RandomJudge
    from judgeanything.judges.cascade import CascadeJudge
    from judgeanything.runner import Runner, RunOptions
    from judgeanything.store import RunLog
    from tests.support.items import toy_pairs

    class Prose(Judge):
        name = "prose"

        async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
            return [JudgeResult(raw="Response A is clearly better here. Verdict: [[A]]", finish_reason="stop")
                    for _ in requests]

    def values(parse: str) -> set[str]:
        run = tmp_path / parse
        Runner(toy_pairs(3), CascadeJudge(Prose(), RandomJudge(), threshold=0.0), run,
               RunOptions(progress=False, parse=parse)).run()
        with RunLog(run) as log:
            return {o.get("value", o.get("failure")) for r in log for o in r["outcomes"]}

    assert values("lenient") == {"first"}
    assert values("strict") == {"parse_fail"}
