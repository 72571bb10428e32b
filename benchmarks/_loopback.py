"""Shared by the scale benchmarks: a loopback OpenAI-compatible server in its own process (so its memory
and CPU are not the measured process's) that counts the requests it answers, and a synthetic text
benchmark of pair items with human labels."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import socket
import time
import urllib.request
from typing import Any

from fastapi import FastAPI, Request

from judgeanything.datasets.base import BenchmarkData
from judgeanything.schema import HumanLabel, PairItem, Query, Response

TASKS = ("Text2Text", "Image2Text", "Text2Image", "Audio2Text", "Video2Text")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, delay_s: float) -> None:
    import asyncio

    import uvicorn

    app = FastAPI()
    count = {"n": 0}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict[str, Any]:
        body = await request.json()
        count["n"] += 1
        if delay_s:
            await asyncio.sleep(delay_s)
        h = int(hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()[:8], 16)
        verdict = "0" if h % 3 else "2"
        text = json.dumps({"overall_comment": "The first response answers the question directly and "
                           "completely; the second is vaguer and misses a detail.", "overall_choice": verdict})
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"] + "-2024-08-06",
                "system_fingerprint": "fp_bench",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 420, "completion_tokens": 38, "total_tokens": 458}}

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        return {"requests": count["n"]}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")


class LoopbackServer:
    """``with LoopbackServer(delay_s) as s: s.base_url, s.requests()`` — a server process on 127.0.0.1."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.port = free_port()
        self.proc = mp.get_context("spawn").Process(target=_serve, args=(self.port, delay_s), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests(self) -> int:
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
    items, labels = [], []
    for i in range(n):
        q = Query(f"q{i}", TASKS[i % len(TASKS)], f"Question {i}: explain step by step why {i} × 7 = {i * 7}, "
                  "and say which property of multiplication the explanation relies on.")
        a = Response(f"q{i}-a", q.uniq_id, "model-a", "text",
                     text=f"{i} × 7 adds seven {i} times, giving {i * 7}; it relies on repeated addition.")
        b = Response(f"q{i}-b", q.uniq_id, "model-b", "text", text=f"It is {i * 7}. Multiplication works.")
        items.append(PairItem(f"q{i}::a_vs_b", q, a, b))
        labels.append(HumanLabel(f"q{i}::a_vs_b", "overall", "first" if i % 4 else "second"))
    return BenchmarkData(name, "pair", items, labels)
