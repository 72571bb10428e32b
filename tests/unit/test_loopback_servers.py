"""The loopback servers that tests and benchmarks talk to through the official ``openai`` SDK: the fault server's
reply hook and request count, and the benchmarks' server process (its own process, a fixed delay before every
answer, a verdict that follows from the prompt) on which bench_cache's "zero requests" check rests."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion

from tests.support.fault_openai import Fault, FaultServer, completion

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _ask(base_url: str, text: str, model: str = "judge") -> ChatCompletion:
    client = openai.OpenAI(base_url=base_url, api_key="EMPTY", max_retries=0, timeout=30)
    try:
        return client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])
    finally:
        client.close()


def _shout(body: dict[str, Any]) -> dict[str, Any]:
    return completion(body["model"] + "-loud", content=body["messages"][0]["content"].upper())


def test_the_reply_hook_answers_ok_requests_and_stats_counts_every_completion_request() -> None:
    with FaultServer([Fault("status", 500)], reply=_shout) as srv:
        with pytest.raises(openai.InternalServerError):
            _ask(srv.base_url, "first")
        got = _ask(srv.base_url, "second")
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/stats", timeout=5) as r:
            stats = json.loads(r.read())
    assert got.model == "judge-loud" and got.choices[0].message.content == "SECOND"
    assert stats == {"requests": 2} and srv.kinds == ["500", "ok"]


@pytest.mark.slow  # starts a server process
def test_the_benchmark_server_is_its_own_process_answers_after_its_delay_and_counts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the spawned server process inherits sys.path
    from _loopback import LoopbackServer, pair_verdict

    with LoopbackServer(0.3, reply=pair_verdict) as srv:
        assert srv.proc.pid != os.getpid() and srv.requests() == 0
        t0 = time.monotonic()
        first = _ask(srv.base_url, "question 1")
        waited = time.monotonic() - t0
        again = _ask(srv.base_url, "question 1")
        assert srv.requests() == 2
    assert not srv.proc.is_alive()
    assert waited >= 0.3
    assert first.model == "judge-2024-08-06" and first.usage is not None and first.usage.total_tokens == 458
    assert first.choices[0].message.content == again.choices[0].message.content


def test_the_benchmark_verdicts_follow_the_prompt_and_include_ties(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from _loopback import pair_verdict

    def choice(text: str) -> str:
        body = {"model": "m", "messages": [{"role": "user", "content": text}]}
        return str(json.loads(pair_verdict(body)["choices"][0]["message"]["content"])["overall_choice"])

    choices = [choice(f"question {i}") for i in range(30)]
    assert choices == [choice(f"question {i}") for i in range(30)]
    assert set(choices) == {"0", "2"}
