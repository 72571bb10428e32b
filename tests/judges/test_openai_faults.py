"""The openai judge + the runner's retry policy against a fault-injecting loopback server, through the official
SDK: a total deadline against a trickling body, Retry-After honoured and capped, garbled or empty 200s
retried as transient api_errors logged in one line, replicas shared by load. Bounded in time: every wait
here is well under a second."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from judgeanything.judges.base import JudgeConfigError, JudgeRequest
from judgeanything.judges.openai_compat import OpenAIJudge, retry_after_s
from judgeanything.retry import RetryPolicy, RetryStats, judge_with_retries
from judgeanything.schema import PairItem, Prompt, Query, Response, TextPart
from tests.support.fault_openai import Fault, FaultServer


def _request(key: str = "k1") -> JudgeRequest:
    q = Query("u1", "Text2Text", "What is 2+2?")
    item = PairItem("u1::a_vs_b", q, Response("r1", "u1", "a", "text", text="4"),
                    Response("r2", "u1", "b", "text", text="5"))
    prompt = Prompt("pair", "overall", ("overall",), "You are a judge.", (TextPart("Compare."),), "v1/pair_overall",
                    {"type": "object"}, 2)
    return JudgeRequest(key, item, prompt, (0, 1), 0, [TextPart("Compare the two.")])


def _run(judge: OpenAIJudge, n: int = 1, stats: RetryStats | None = None):
    async def go():
        try:
            return await judge_with_retries(judge, [_request(f"k{i}") for i in range(n)], RetryPolicy.for_judge(judge),
                                            stats=stats)
        finally:
            await judge.aclose()

    return asyncio.run(go())


def test_a_trickling_body_cannot_hold_a_request_past_the_deadline():
    # ~300 bytes at one byte per 0.1 s would take 30 s; the per-read timeout of the HTTP client never trips
    with FaultServer(default=Fault("trickle", interval_s=0.1)) as srv:
        t0 = time.monotonic()
        res = _run(OpenAIJudge(model="m", base_url=srv.base_url, timeout=0.5, max_attempts=2, max_wait_s=0.01))[0]
        elapsed = time.monotonic() - t0
    assert res.failure is not None and res.failure.kind == "api_error"
    assert "DeadlineExceeded" in res.failure.detail and "judge.timeout=0.5s" in res.failure.detail
    assert srv.n_requests == 2 and elapsed < 3.0  # two tries of 0.5 s each, not 60 s


def test_a_trickle_then_success_is_retried_to_the_verdict():
    with FaultServer([Fault("trickle", interval_s=0.1)]) as srv:
        res = _run(OpenAIJudge(model="m", base_url=srv.base_url, timeout=0.4, max_wait_s=0.01))[0]
    assert res.failure is None and res.raw.startswith('{"overall_comment"') and srv.n_requests == 2


@pytest.mark.parametrize(("headers", "max_wait", "low", "high"), [
    ({"retry-after-ms": "400"}, 5.0, 0.4, 0.9),            # OpenAI's millisecond header (not the 1-2 s backoff)
    ({"Retry-After": "1"}, 5.0, 1.0, 1.5),                 # seconds (RFC 9110)
    ({"Retry-After": "30", "retry-after-ms": "30000"}, 0.2, 0.0, 1.0),  # capped by max_wait_s
])
def test_retry_after_is_honoured_and_capped(headers, max_wait, low, high):
    with FaultServer([Fault("status", 429, headers)]) as srv:
        res = _run(OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=max_wait))[0]
    assert res.failure is None and srv.n_requests == 2
    gap = srv.arrivals[1] - srv.arrivals[0]
    assert low <= gap < high, gap


def test_retry_after_header_forms():
    class E(Exception):
        def __init__(self, headers):
            self.response = type("R", (), {"headers": headers})()

    assert retry_after_s(E({"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(E({"retry-after": "3"})) == 3.0
    assert retry_after_s(E({"retry-after": "soon"})) is None and retry_after_s(E({})) is None
    assert retry_after_s(E({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0  # a date in the past
    assert retry_after_s(ValueError()) is None


@pytest.mark.parametrize(("fault", "kind"), [
    (Fault("html"), "InvalidCompletion"),
    (Fault("cut"), "InvalidCompletion"),
    (Fault("no_choices"), "InvalidCompletion"),
    (Fault("empty"), "EmptyCompletion"),
    (Fault("status", 500), "HTTP 500"),
    (Fault("status", 503), "HTTP 503"),
    (Fault("drop"), "APIConnectionError"),
])
def test_a_garbled_or_failed_answer_is_a_transient_api_error_retried_and_logged_in_one_line(fault, kind, caplog):
    stats = RetryStats()
    with caplog.at_level(logging.WARNING), FaultServer([fault]) as srv:
        res = _run(OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=0.01), stats=stats)[0]
    assert res.failure is None and res.raw.startswith('{"overall_comment"') and srv.n_requests == 2
    assert stats.transient_faults == {kind: 1} and (stats.attempts, stats.retries, stats.gave_up) == (2, 1, 0)
    ours = [r for r in caplog.records if r.name.startswith("judgeanything")]
    assert len(ours) == 1 and ours[0].exc_info is None and "\n" not in ours[0].getMessage()
    assert "failed transiently" in ours[0].getMessage()


def test_persistent_garbage_becomes_an_api_error_after_the_last_try(caplog):
    stats = RetryStats()
    with caplog.at_level(logging.WARNING), FaultServer(default=Fault("html")) as srv:
        res = _run(OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=0.01, max_attempts=3), stats=stats)[0]
    assert res.failure is not None and res.failure.kind == "api_error" and srv.n_requests == 3
    assert "InvalidCompletion: the server's 200 body is not a chat completion: '<html>" in res.failure.detail
    assert stats.gave_up == 1 and all(r.exc_info is None for r in caplog.records)
    assert "still failing after 3 tries" in caplog.records[-1].getMessage()


def test_an_empty_answer_cut_at_the_token_limit_is_truncated_not_retried():
    from tests.support.fake_openai import FakeServer, Script

    with FakeServer(Script(reply="", finish_reason="length")) as srv:
        res = _run(OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=0.01))[0]
    assert res.failure is None and res.raw == "" and res.finish_reason == "length"
    assert len(srv.script.requests) == 1


def test_client_errors_are_not_transient():
    with FaultServer([Fault("status", 400), Fault("status", 404)]) as srv:
        res = _run(OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=0.01), n=2)
    assert [r.failure.kind for r in res] == ["api_error", "api_error"] and srv.n_requests == 2


def test_replicas_share_the_load_and_a_dead_one_is_passed_over():
    with FaultServer(default=Fault(delay_s=0.05)) as a, FaultServer(default=Fault(delay_s=0.05)) as b:
        dead = FaultServer().base_url  # nothing listens there
        judge = OpenAIJudge(model="m", base_url=[a.base_url, dead, b.base_url], max_wait_s=0.01, concurrency=8)
        res = _run(judge, n=40)
    assert all(r.failure is None for r in res)
    assert a.n_requests + b.n_requests == 40 and min(a.n_requests, b.n_requests) >= 10


def test_empty_completions_still_empty_after_the_last_try_are_retried_on_resume(tmp_path):
    import json

    from judgeanything.datasets.base import BenchmarkData
    from judgeanything.runner import Runner, RunOptions
    from judgeanything.store import RunLog

    base = _request().item
    items = [PairItem(f"u{i}::p", base.query, base.response_a, base.response_b) for i in range(4)]
    data = BenchmarkData(name="toy", setting="pair", items=items)
    with FaultServer([Fault("empty")] * 4) as srv:  # every unit's only try comes back empty
        judge = OpenAIJudge(model="m", base_url=srv.base_url, response_format="none", max_attempts=1)
        counts = Runner(data, judge, tmp_path, RunOptions(progress=False, concurrency=1)).run()
    assert counts["failures"] == 4
    with RunLog(tmp_path) as log:
        details = {o["detail"] for r in log for o in r["outcomes"]}
    assert details == {"EmptyCompletion: the server returned an empty completion (finish_reason='stop')"}
    with FaultServer() as srv:  # the resume judges exactly those units again; the latest attempt counts
        judge = OpenAIJudge(model="m", base_url=srv.base_url, response_format="none")
        counts = Runner(data, judge, tmp_path, RunOptions(progress=False)).run()
        assert srv.n_requests == 4 and counts == {**counts, "retried": 4, "failures": 0}
    lines = [json.loads(x) for x in (tmp_path / "verdicts.jsonl").read_text().splitlines()]
    assert len(lines) == 8 and all(r["outcomes"][0].get("value") == "first" for r in lines[4:])


def test_a_hydra_list_of_base_urls_makes_replicas_and_keeps_the_judge_identity():
    from tests.support.compose import judge_of

    a = judge_of("judge=openai", "judge.base_url=http://127.0.0.1:8000/v1")
    b = judge_of("judge=openai", "judge.base_url=[http://127.0.0.1:8000/v1,http://127.0.0.1:8001/v1]")
    assert [r.base_url for r in b._replicas] == ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1"]
    assert a.fingerprint() == b.fingerprint()  # more replicas of the same model: the same judge, the run resumes
    with pytest.raises(JudgeConfigError, match="base_url is an empty list"):
        OpenAIJudge(model="m", base_url=[])
