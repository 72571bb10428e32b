"""A fault-injecting OpenAI-compatible chat-completions server on loopback (aiohttp), for resilience tests,
rate-control tests and the throughput benchmark.

Each request takes the next scripted :class:`Fault` (then ``default``): an error status with headers
(``429`` + ``Retry-After``), an HTML 200, a cut-off JSON 200, a 200 without choices, an empty completion, a
body trickled one byte at a time, a delay, or a dropped connection. The server records arrival times and the
most requests it held at once, and answers ``GET /stats`` with ``{"requests": N}``. It runs in a thread with
its own event loop (``with FaultServer(...) as s``), or in a process of its own (``asyncio.run(s.serve())``,
as ``benchmarks/_loopback.py`` does) so that its CPU does not count against the client being measured.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.loopback import free_port

REPLY = '{"overall_comment": "ok", "overall_choice": "0"}'
Reply = Callable[[dict[str, Any]], dict[str, Any]]  # a request body → the chat.completion answering it


@dataclass(frozen=True)
class Fault:
    """What the server does with one request.

    ``kind``: ``ok``, ``status`` (an error ``status`` with ``headers``), ``html`` (200 with an HTML page),
    ``cut`` (200 with JSON cut off), ``no_choices``, ``empty`` (a completion with empty content),
    ``trickle`` (the completion one byte every ``interval_s``), ``drop`` (close the connection unanswered).
    ``delay_s``: wait before answering (any kind); a delay still running when the server stops ends there.
    """

    kind: str = "ok"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    interval_s: float = 0.1


def completion(model: str, content: str | None = REPLY, finish_reason: str = "stop") -> dict[str, Any]:
    return {"id": "chatcmpl-f", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": finish_reason,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


class FaultServer:
    """The server; ``base_url`` = ``http://127.0.0.1:<port>/v1``. Thread-safe script and counters.

    ``reply``: the completion an ``ok`` request gets, from its body (default :func:`completion` of its model).
    """

    def __init__(self, faults: Iterable[Fault] = (), default: Fault | None = None, port: int = 0,
                 reply: Reply | None = None) -> None:
        self.faults = list(faults)
        self.default = default or Fault()
        self.reply = reply
        self.port = port or free_port()
        self.arrivals: list[float] = []
        self.kinds: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def n_requests(self) -> int:
        return len(self.arrivals)

    def _next(self) -> Fault:
        with self._lock:
            self.arrivals.append(time.monotonic())
            f = self.faults.pop(0) if self.faults else self.default
            self.kinds.append(f.kind if f.kind != "status" else str(f.status))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return f

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        fault = self._next()
        try:
            return await self._answer(request, fault, json.loads(body))
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"requests": self.n_requests})

    async def _answer(self, request: web.Request, f: Fault, body: dict[str, Any]) -> web.StreamResponse:
        model = body.get("model", "m")
        if f.delay_s:
            await self._wait(f.delay_s)
        if f.kind == "status":
            return web.json_response({"error": {"message": f"scripted {f.status}", "type": "test"}},
                                     status=f.status, headers=f.headers)
        if f.kind == "html":
            return web.Response(text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html")
        if f.kind == "cut":
            return web.Response(text=json.dumps(completion(model))[:57], content_type="application/json")
        if f.kind == "no_choices":
            return web.json_response({"id": "x", "object": "chat.completion", "created": 0, "model": model})
        if f.kind == "empty":
            return web.json_response(completion(model, content=""))
        if f.kind == "drop":
            transport = request.transport
            if transport is not None:
                transport.close()
            return web.Response(status=500)
        if f.kind == "trickle":
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            await resp.prepare(request)
            for b in json.dumps(completion(model)).encode():
                await resp.write(bytes([b]))
                await asyncio.sleep(f.interval_s)
            await resp.write_eof()
            return resp
        return web.json_response(self.reply(body) if self.reply is not None else completion(model))

    async def _wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or until the server stops: a request held longer than the client's deadline
        (a timeout fault) must not hold the server's shutdown, which waits for its handlers."""
        if self._stop is None:
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except asyncio.TimeoutError:  # the builtin TimeoutError only from Python 3.11
            pass

    async def serve(self) -> None:
        """Serve in the running event loop until :meth:`__exit__` (or until the process ends)."""
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_get("/stats", self._stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port, backlog=1024).start()
        self._stop = asyncio.Event()
        self._started.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> FaultServer:
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.serve())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fault server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=5)

