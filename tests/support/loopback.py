"""What every loopback server of the tests and benchmarks shares: a free TCP port on 127.0.0.1, and an ASGI
app (the FastAPI fakes of the OpenAI, Gemini and Hub protocols) served by uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, TypeVar

import uvicorn

S = TypeVar("S", bound="ThreadedServer")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that the OS reported free (bound to port 0, then released). Another process
    may take it before the caller binds it; on loopback, within a test, that race is rare enough to accept."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadedServer:
    """``with ThreadedServer(app, "fake Hub") as s: s.url`` — ``app`` served on ``127.0.0.1:<port>`` by uvicorn
    in a daemon thread, from ``__enter__`` (which returns once uvicorn is listening; ``RuntimeError`` naming
    ``what`` after 10 s) until ``__exit__``."""

    def __init__(self, app: Any, what: str) -> None:
        self.what = what
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self: S) -> S:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError(f"{self.what} server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
