"""The runner's retry policy (retry.judge_with_retries) on a scripted judge: which requests are tried again, in
what batches, what is counted, and what a judge's exception becomes. (The official SDKs against faulty loopback
servers: tests/judges/test_openai_faults.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.prompts import build_prompt
from judgeanything.retry import RetryPolicy, RetryStats, judge_with_retries
from judgeanything.schema import Failure, PairItem, Query, Response

NO_WAIT = RetryPolicy(max_attempts=4, initial_wait_s=0.0, max_wait_s=0.0, jitter_s=0.0)


class Flaky(Exception):
    """A fault the scripted judge calls transient."""


class Scripted(Judge):
    """Answers each request from a script: per key, the outcomes of its successive tries ("ok", "flaky",
    "bad" = a non-transient api_error), the last repeated; records the keys of every call."""

    name = "scripted"
    needs_media = False

    def __init__(self, script: dict[str, list[str]], raise_on_call: BaseException | None = None,
                 short: bool = False) -> None:
        self.script, self.raise_on_call, self.short = script, raise_on_call, short
        self.calls: list[list[str]] = []

    def is_transient(self, fault: BaseException | Failure) -> bool:
        return isinstance(fault, Flaky)

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        self.calls.append([r.key for r in requests])
        if self.raise_on_call is not None:
            raise self.raise_on_call
        out = []
        for r in requests:
            tries = self.script[r.key]
            step = tries[min(sum(r.key in c for c in self.calls) - 1, len(tries) - 1)]
            if step == "ok":
                out.append(JudgeResult(raw=f"answer {r.key}"))
            elif step == "flaky":
                out.append(JudgeResult(failure=Failure("api_error", "HTTP 503"), fault=Flaky("503")))
            else:
                out.append(JudgeResult(failure=Failure("api_error", "HTTP 400")))
        return out[:-1] if self.short else out


def _requests(*keys: str) -> list[JudgeRequest]:
    q = Query("u", "Text2Text", "which is better?")
    item = PairItem("u::ab", q, Response("a", "u", "ma", "text", text="one"),
                    Response("b", "u", "mb", "text", text="two"))
    prompt = build_prompt(item, "overall", ("overall",))
    return [JudgeRequest(k, item, prompt) for k in keys]


def _run(judge: Judge, reqs: list[JudgeRequest], policy: RetryPolicy = NO_WAIT,
         stats: RetryStats | None = None) -> list[JudgeResult]:
    return asyncio.run(judge_with_retries(judge, reqs, policy, stats=stats))


def test_only_the_transient_failures_are_tried_again_as_one_smaller_batch() -> None:
    judge = Scripted({"a": ["ok"], "b": ["flaky", "ok"], "c": ["flaky", "flaky", "ok"], "d": ["bad"]})
    stats = RetryStats()
    got = _run(judge, _requests("a", "b", "c", "d"), stats=stats)
    assert judge.calls == [["a", "b", "c", "d"], ["b", "c"], ["c"]]
    assert [r.raw for r in got[:3]] == ["answer a", "answer b", "answer c"]  # in request order
    assert got[3].failure == Failure("api_error", "HTTP 400")  # not transient: never retried
    assert (stats.attempts, stats.retries, stats.gave_up) == (7, 3, 0)
    assert stats.transient_faults == {"Flaky": 3}


def test_still_failing_after_the_last_try_is_the_last_api_error_counted_as_given_up(
        caplog: pytest.LogCaptureFixture) -> None:
    judge = Scripted({"a": ["flaky"], "b": ["ok"]})
    stats = RetryStats()
    got = _run(judge, _requests("a", "b"), stats=stats)
    assert judge.calls == [["a", "b"], ["a"], ["a"], ["a"]]  # max_attempts = 4 tries in all
    assert got[0].failure == Failure("api_error", "HTTP 503") and got[1].failure is None
    assert (stats.attempts, stats.retries, stats.gave_up) == (5, 3, 1)
    assert any("still failing after 4 tries (HTTP 503)" in r.getMessage() for r in caplog.records)


def test_one_try_only_when_the_policy_allows_one() -> None:
    judge = Scripted({"a": ["flaky", "ok"]})
    stats = RetryStats()
    got = _run(judge, _requests("a"), RetryPolicy(max_attempts=1), stats=stats)
    assert judge.calls == [["a"]] and got[0].failure is not None and stats.gave_up == 1


def test_an_exception_for_a_batch_is_an_api_error_per_request_and_the_run_goes_on() -> None:
    judge = Scripted({"a": ["ok"], "b": ["ok"]}, raise_on_call=ValueError("boom"))
    got = _run(judge, _requests("a", "b"))
    assert [r.failure for r in got] == [Failure("api_error", "ValueError: boom")] * 2
    assert judge.calls == [["a", "b"]]  # a bug in the backend is not retried


def test_a_config_error_stops_the_run_and_a_short_answer_is_a_bug() -> None:
    with pytest.raises(JudgeConfigError):
        _run(Scripted({"a": ["ok"]}, raise_on_call=JudgeConfigError("no API key")), _requests("a"))
    with pytest.raises(RuntimeError, match="returned 1 results for 2 requests"):
        _run(Scripted({"a": ["ok"], "b": ["ok"]}, short=True), _requests("a", "b"))
