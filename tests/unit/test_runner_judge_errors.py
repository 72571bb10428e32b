"""What the runner does when a judge raises: a configuration error stops the run, any other error is
recorded per unit."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.runner import Runner, RunOptions
from judgeanything.store import RunLog
from tests.support.items import toy_pairs


class _Raising(Judge):
    needs_media = False
    name = "raising"

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        self.calls += 1
        raise self.error


def test_a_judge_config_error_stops_the_run_instead_of_failing_each_unit(tmp_path):
    judge = _Raising(JudgeConfigError("openai judge: environment variable X is not set"))
    runner = Runner(toy_pairs(3), judge, tmp_path, RunOptions(progress=False, concurrency=1))
    with pytest.raises(JudgeConfigError, match="variable X is not set"):
        runner.run()
    assert judge.calls == 1  # not once per batch
    with RunLog(tmp_path) as log:
        assert log.records == []  # nothing recorded as an api_error for a resume to retry


def test_another_judge_error_is_an_api_error_per_unit(tmp_path):
    judge = _Raising(RuntimeError("backend bug"))
    counts = Runner(toy_pairs(3), judge, tmp_path, RunOptions(progress=False, concurrency=1)).run()
    assert counts["judged"] == counts["failures"] == 3
    with RunLog(tmp_path) as log:
        details = {o["detail"] for r in log for o in r["outcomes"] if o["failure"] == "api_error"}
    assert details == {"RuntimeError: backend bug"}
