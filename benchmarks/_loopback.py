"""Shared by the benchmarks: a loopback OpenAI-compatible server in its own process (so its memory and CPU
are not the measured process's) that answers after a fixed delay and counts the requests it answers
(``tests/support/fault_openai.py``'s server, aiohttp), and a synthetic text benchmark of pair items with
human labels."""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing as mp
import time
import urllib.request
from typing import Any

from judgeanything.datasets.base import BenchmarkData
from judgeanything.schema import HumanLabel, Item, PairItem, Query, Response
from tests.support.fault_openai import Fault, FaultServer, Reply
from tests.support.loopback import free_port

TASKS = ("Text2Text", "Image2Text", "Text2Image", "Audio2Text", "Video2Text")


def pair_verdict(body: dict[str, Any]) -> dict[str, Any]:
    """A pair-comparison completion whose verdict follows from the prompt (a hash of the messages: "0" for
    two thirds of the items, "2", a tie, for the rest) so that analysis has agreement to compute; the
    usage of a real ~420-token prompt and a dated model name as OpenAI answers them."""
    h = int(hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()[:8], 16)
    verdict = "0" if h % 3 else "2"
    text = json.dumps({"overall_comment": "The first response answers the question directly and "
                       "completely; the second is vaguer and misses a detail.", "overall_choice": verdict})
    return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"] + "-2024-08-06",
            "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 420, "completion_tokens": 38, "total_tokens": 458}}


def _serve(port: int, delay_s: float, reply: Reply | None) -> None:
    asyncio.run(FaultServer(default=Fault(delay_s=delay_s), port=port, reply=reply).serve())


class LoopbackServer:
    """``with LoopbackServer(delay_s, reply) as s: s.base_url, s.requests()`` — a server process on 127.0.0.1
    answering every chat completion after ``delay_s`` seconds with ``reply(body)`` (default: fault_openai's
    :func:`~tests.support.fault_openai.completion`, an "ok" pair verdict). ``reply`` must be a module-level
    function: the process is spawned, so it is pickled by name. ``RuntimeError`` if the server is not up
    within 60 s."""

    def __init__(self, delay_s: float = 0.0, reply: Reply | None = None) -> None:
        self.port = free_port()
        self.proc = mp.get_context("spawn").Process(target=_serve, args=(self.port, delay_s, reply), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests(self) -> int:
        """How many chat completions the server has received so far."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as r:
            return int(json.loads(r.read())["requests"])

    def __enter__(self) -> LoopbackServer:
        self.proc.start()
        deadline = time.monotonic() + 60
        while True:
            try:
                self.requests()
                return self
            except OSError:
                if time.monotonic() > deadline or not self.proc.is_alive():
                    raise RuntimeError("loopback server did not start") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.join(10)


def text_pairs(n: int, name: str = "synthetic") -> BenchmarkData:
    """``n`` text pair items over five task types, one human pair label each (deterministic)."""
    items: list[Item] = []
    labels: list[HumanLabel] = []
    for i in range(n):
        q = Query(f"q{i}", TASKS[i % len(TASKS)], f"Question {i}: explain step by step why {i} × 7 = {i * 7}, "
                  "and say which property of multiplication the explanation relies on.")
        a = Response(f"q{i}-a", q.uniq_id, "model-a", "text",
                     text=f"{i} × 7 adds seven {i} times, giving {i * 7}; it relies on repeated addition.")
        b = Response(f"q{i}-b", q.uniq_id, "model-b", "text", text=f"It is {i * 7}. Multiplication works.")
        items.append(PairItem(f"q{i}::a_vs_b", q, a, b))
        labels.append(HumanLabel(f"q{i}::a_vs_b", "overall", "first" if i % 4 else "second"))
    return BenchmarkData(name, "pair", items, labels)
