"""A small OpenAI-compatible chat-completions server on loopback for tests (FastAPI + uvicorn).

Behaviour is scripted per test: a queue of HTTP statuses to return first (e.g. 429, 500), a fixed
reply text or a function of the request, a delay, and a record of every request body received.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.loopback import ThreadedServer


@dataclass
class Script:
    statuses: list[int] = field(default_factory=list)       # returned (with an error body) before replies
    reply: str | Callable[[dict[str, Any]], str] = '{"overall_comment": "ok", "overall_choice": "0"}'
    finish_reason: str = "stop"
    # fields merged into the choice / the whole response as sent (e.g. {"message": None}, {"usage": "x"}):
    # malformed responses a real server may send
    choice: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] = field(default_factory=dict)
    # the message of a scripted error status: text, or a function of the request headers (a server that
    # echoes what it was sent)
    error_message: str | Callable[[dict[str, str]], str] | None = None
    response: dict[str, Any] = field(default_factory=dict)
    # a model's parameter validation: a function of the request body returning an OpenAI error object
    # ({"message", "type", "param", "code"}) to answer with HTTP 400, or None to accept the request
    check: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    # a request header whose value the reply quotes (``Authorization``: a server echoing the caller's key)
    echo_header: str | None = None


def make_app(script: Script) -> FastAPI:
    app = FastAPI()
    lock = threading.Lock()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        with lock:
            script.requests.append(body)
            status = script.statuses.pop(0) if script.statuses else 200
        if script.delay_s:
            await asyncio.sleep(script.delay_s)
        rejected = script.check(body) if script.check is not None and status == 200 else None
        if rejected is not None:
            return JSONResponse({"error": rejected}, status_code=400)
        if status != 200:
            msg = script.error_message
            msg = msg(dict(request.headers)) if callable(msg) else (msg or f"scripted {status}")
            return JSONResponse({"error": {"message": msg, "type": "test"}}, status_code=status)
        text = script.reply(body) if callable(script.reply) else script.reply
        if script.echo_header is not None:
            text += f"\n(you sent {script.echo_header}: {request.headers.get(script.echo_header, '')})"
        choice = {"index": 0, "finish_reason": script.finish_reason,
                  "message": {"role": "assistant", "content": text},
                  **(script.choice(body) if callable(script.choice) else script.choice)}
        return JSONResponse({
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"), "system_fingerprint": "fp_test",
            "choices": [choice],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
            **script.response,
        })

    return app


class FakeServer(ThreadedServer):
    """Run :func:`make_app` in a background thread; ``base_url`` is ``http://127.0.0.1:<port>/v1``."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        super().__init__(make_app(self.script), "fake OpenAI")

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"
