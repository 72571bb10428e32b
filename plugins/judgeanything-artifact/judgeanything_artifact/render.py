"""Render an HTML / SVG / JS artifact in headless Chromium through Playwright and capture timed screenshots.

The protocol follows ArtifactsBench (Tencent Hunyuan, arXiv 2507.04952, §3.3 and its harness): open the
artifact's file, wait for the ``load`` event, then take screenshots at fixed times after it (default 0, 1
and 2 s: three states of any animation), and optionally after scripted interactions (click a selector,
type into one, press a key), each followed by a screenshot.

Isolation: the network is off. Every request whose URL is not ``file://`` inside the artifact's scope
(its own file, or the folder holding it with its assets), ``data:``, ``blob:`` or ``about:`` is aborted
(and recorded), WebSockets are closed, service workers blocked, the context is offline, and host-name
resolution fails for every name (``--host-resolver-rules``). A whole render has a wall-clock limit.

Failures are typed (:class:`RenderError` ``.kind``): ``syntax_error`` (a script of the page does not
parse), ``timeout`` (the page did not load or finish within the limit, e.g. an endless loop), ``crash``
(the renderer process died), ``blank`` (every screenshot is one flat colour: nothing was drawn),
``interaction`` (a scripted step's selector never appeared), ``browser`` (Chromium could not start).
Uncaught runtime errors do not fail a render by default (a half-working page is still judged, as in
ArtifactsBench); they are recorded with their messages, and with ``fail_on_page_error`` they fail it
(``page_error``).
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
from PIL import Image

#: Chromium flags for a headless, sandbox-free (containers run as root), network-silent browser.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run", "--disable-default-apps", "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
#: Browsers tried when ``executable_path`` is not given (Debian's package first).
BROWSER_CANDIDATES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "chrome")
FAILURE_KINDS: tuple[str, ...] = ("syntax_error", "page_error", "timeout", "crash", "blank", "interaction",
                                  "browser")
_ALWAYS_ALLOWED = ("data", "blob", "about")
#: Seconds beyond a render's own limit after which a silent browser is given up (startup, teardown).
GUARD_S = 60.0


class RenderError(Exception):
    """An artifact could not be rendered; ``kind`` is one of :data:`FAILURE_KINDS`, ``reason`` says why."""

    def __init__(self, kind: str, reason: str) -> None:
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown render failure kind {kind!r}")
        self.kind, self.reason = kind, reason
        super().__init__(f"{kind}: {reason}")


@dataclass(frozen=True)
class Interaction:
    """One scripted step after the timed screenshots: ``action`` ``click`` (``selector``), ``type``
    (``text`` into ``selector``), ``press`` (key ``text``, e.g. ``ArrowUp``, into ``selector`` or the page)
    or ``wait``; then ``settle_s`` seconds and, when ``capture``, a screenshot."""

    action: str
    selector: str | None = None
    text: str | None = None
    settle_s: float = 0.5
    capture: bool = True

    def __post_init__(self) -> None:
        if self.action not in ("click", "type", "press", "wait"):
            raise ValueError(f"interaction action must be click, type, press or wait, got {self.action!r}")
        if self.action in ("click", "type") and not self.selector:
            raise ValueError(f"a {self.action} interaction needs a selector")
        if self.action in ("type", "press") and self.text is None:
            raise ValueError(f"a {self.action} interaction needs text")

    @property
    def label(self) -> str:
        what = f" {self.selector}" if self.selector else ""
        return f"after {self.action}{what}" + (f" {self.text!r}" if self.text is not None else "")


@dataclass(frozen=True)
class RenderSpec:
    """How to render: viewport (px), capture times (s after ``load``), interactions, the wall-clock limit
    of the whole render (s), full-page screenshots (padded to one height, at most ``max_page_height``) and
    the flatness under which a screenshot counts as blank (standard deviation of its grey levels), and
    whether an uncaught runtime error fails the render."""

    width: int = 1024
    height: int = 768
    capture_times: tuple[float, ...] = (0.0, 1.0, 2.0)
    interactions: tuple[Interaction, ...] = ()
    timeout_s: float = 20.0
    full_page: bool = False
    max_page_height: int = 4096
    blank_std: float = 1.0
    scope: str = "folder"  # "folder": the entry's folder and below; "file": the entry file only
    fail_on_page_error: bool = False

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16:
            raise ValueError(f"viewport {self.width}x{self.height} is too small")
        if not self.capture_times or any(t < 0 for t in self.capture_times) \
                or list(self.capture_times) != sorted(self.capture_times):
            raise ValueError(f"capture_times must be non-empty, non-negative and increasing: {self.capture_times}")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if self.scope not in ("folder", "file"):
            raise ValueError(f"scope must be 'folder' or 'file', got {self.scope!r}")


@dataclass
class RenderResult:
    """Screenshots ``frames`` ``(T, H, W, 3) uint8`` with ``timestamps`` (s after ``load``) and ``labels``
    (``t=1.0s``, ``after click #go``), plus ``page_errors`` (uncaught errors, ``Name: message``),
    ``console_errors`` and ``blocked`` (URLs the network policy aborted)."""

    frames: np.ndarray
    timestamps: list[float]
    labels: list[str]
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    browser_version: str = ""


def find_browser(executable_path: str | None = None) -> str:
    """The Chromium executable: ``executable_path``, ``$JUDGEANYTHING_CHROMIUM``, or the first of
    :data:`BROWSER_CANDIDATES` on ``PATH``.

    Raises:
        RenderError: ``browser`` — none found (Debian: ``apt-get install chromium``).
    """
    for cand in (executable_path, os.environ.get("JUDGEANYTHING_CHROMIUM"), *BROWSER_CANDIDATES):
        if cand and (found := shutil.which(cand)):
            return found
    raise RenderError("browser", "no Chromium found (install Debian's chromium, or set artifact.executable_path "
                                 "or $JUDGEANYTHING_CHROMIUM)")


def _allowed(url: str, scope: Path, scope_is_file: bool) -> bool:
    u = urlparse(url)
    if u.scheme in _ALWAYS_ALLOWED:
        return True
    if u.scheme != "file":
        return False
    # resolved, so that a symbolic link inside the folder cannot reach a file outside it
    p = Path(os.path.realpath(unquote(u.path)))
    return p == scope if scope_is_file else (p == scope or scope in p.parents)


def _png_to_rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _stack(shots: Sequence[np.ndarray], max_h: int) -> np.ndarray:
    """One ``(T, H, W, 3)`` array: full-page shots of different heights padded with white to the tallest
    (at most ``max_h``)."""
    h = min(max(s.shape[0] for s in shots), max_h)
    w = max(s.shape[1] for s in shots)
    out = np.full((len(shots), h, w, 3), 255, dtype=np.uint8)
    for i, s in enumerate(shots):
        out[i, : min(h, s.shape[0]), : s.shape[1]] = s[:h]
    return out


def is_blank(frames: np.ndarray, blank_std: float) -> bool:
    """Whether every frame is (nearly) one flat colour: grey-level standard deviation ≤ ``blank_std``."""
    grey = frames.astype(np.float32).mean(axis=3)
    return bool((grey.reshape(len(frames), -1).std(axis=1) <= blank_std).all())


class _Session:
    """One artifact's page in its own browser context, with the network policy and event records."""

    def __init__(self, browser: Any, entry: Path, spec: RenderSpec) -> None:
        self.spec = spec
        self.page_errors: list[str] = []
        self.syntax_errors: list[str] = []
        self.console_errors: list[str] = []
        self.blocked: list[str] = []
        self.crashed = False
        scope_is_file = spec.scope == "file"
        scope = Path(os.path.realpath(entry if scope_is_file else entry.parent))
        self.ctx = browser.new_context(viewport={"width": spec.width, "height": spec.height},
                                       service_workers="block", offline=True, java_script_enabled=True)

        def route(r: Any) -> None:
            if _allowed(r.request.url, scope, scope_is_file):
                r.continue_()
            else:
                self.blocked.append(r.request.url[:200])
                r.abort("blockedbyclient")

        def socket(ws: Any) -> None:
            self.blocked.append(ws.url[:200])
            ws.close()

        self.ctx.route("**/*", route)
        self.ctx.route_web_socket("**/*", socket)
        self.page = self.ctx.new_page()
        self.page.on("pageerror", self._on_error)
        self.page.on("crash", lambda _p: setattr(self, "crashed", True))
        self.page.on("console", lambda m: self.console_errors.append(m.text[:500]) if m.type == "error" else None)

    def _on_error(self, err: Any) -> None:
        name = getattr(err, "name", "") or "Error"
        msg = f"{name}: {getattr(err, 'message', str(err))}"[:500]
        (self.syntax_errors if name == "SyntaxError" else self.page_errors).append(msg)

    def shot(self) -> np.ndarray:
        data = self.page.screenshot(full_page=self.spec.full_page, animations="allow", caret="initial")
        return _png_to_rgb(data)

    def close(self) -> None:
        try:
            self.ctx.close()
        except Exception:  # a crashed or hung page: the context may already be gone
            pass


def _classify(e: Exception, session: _Session | None, timeout_s: float) -> RenderError:
    """A Playwright exception as a typed :class:`RenderError`."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    if (session is not None and session.crashed) or "crash" in text.lower():
        return RenderError("crash", f"the page's renderer process crashed ({text})")
    if type(e).__name__ == "TimeoutError" or "Timeout" in text:
        return RenderError("timeout", f"the page did not load and render within {timeout_s:g} s ({text})")
    return RenderError("crash", f"the browser failed while rendering ({type(e).__name__}: {text})")


def _capture(s: _Session, entry: Path, spec: RenderSpec, deadline: float) -> RenderResult:
    ms = lambda sec: max(1.0, sec * 1000.0)  # noqa: E731 - Playwright takes milliseconds
    s.page.goto(entry.as_uri(), wait_until="load", timeout=ms(deadline - time.monotonic()))
    t0 = time.monotonic()
    if s.syntax_errors:
        raise RenderError("syntax_error", f"a script of the page does not parse: {s.syntax_errors[0]}")
    shots, stamps, labels = [], [], []
    for t in spec.capture_times:
        wait = t0 + t - time.monotonic()
        if wait > 0:
            s.page.wait_for_timeout(ms(wait))
        if time.monotonic() > deadline:
            raise RenderError("timeout", f"the render took longer than {spec.timeout_s:g} s")
        stamps.append(round(time.monotonic() - t0, 3))
        shots.append(s.shot())
        labels.append(f"t={t:g}s")
    for step in spec.interactions:
        left = ms(deadline - time.monotonic())
        try:
            if step.action == "click":
                s.page.click(str(step.selector), timeout=left)
            elif step.action == "type":
                s.page.fill(str(step.selector), str(step.text), timeout=left)
            elif step.action == "press":
                (s.page.press(step.selector, str(step.text), timeout=left) if step.selector
                 else s.page.keyboard.press(str(step.text)))
        except Exception as e:
            if type(e).__name__ == "TimeoutError" and step.selector:
                raise RenderError("interaction", f"{step.label}: no element matches {step.selector!r} "
                                                 f"within the time left") from None
            raise
        s.page.wait_for_timeout(ms(step.settle_s))
        if step.capture:
            stamps.append(round(time.monotonic() - t0, 3))
            shots.append(s.shot())
            labels.append(step.label)
    if spec.fail_on_page_error and s.page_errors:
        raise RenderError("page_error", f"the page raised an uncaught error: {s.page_errors[0]}")
    frames = _stack(shots, spec.max_page_height)
    if is_blank(frames, spec.blank_std):
        raise RenderError("blank", f"every screenshot is one flat colour (RGB {frames[0, 0, 0].tolist()}): the "
                                   "page drew nothing" + (f"; it raised {s.page_errors[0]}" if s.page_errors else ""))
    return RenderResult(frames, stamps, labels, s.page_errors, s.console_errors, s.blocked)


class Renderer:
    """Owns one headless Chromium on a worker thread of its own (Playwright's sync API is bound to the
    thread that started it and refuses to run inside an asyncio loop; the runner prepares units on
    several threads) and renders artifacts one at a time through it. Start is lazy; :meth:`close` stops
    it (also at interpreter exit, as a daemon thread)."""

    def __init__(self, executable_path: str | None = None, args: Sequence[str] = CHROMIUM_ARGS) -> None:
        self.executable_path = executable_path
        self.args = tuple(args)
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.version = ""

    def _launch(self, pw: Any) -> Any:
        try:
            browser = pw.chromium.launch(executable_path=find_browser(self.executable_path), headless=True,
                                         args=list(self.args))
        except RenderError:
            raise
        except Exception as e:
            raise RenderError("browser", f"Chromium did not start: {type(e).__name__}: "
                                         f"{str(e).splitlines()[0] if str(e) else ''}") from None
        self.version = browser.version
        return browser

    def _loop(self, ready: Future[None], jobs: queue.Queue[Any]) -> None:
        from playwright.sync_api import sync_playwright

        try:
            pw = sync_playwright().start()
        except Exception as e:
            ready.set_exception(RenderError("browser", f"Playwright did not start: {type(e).__name__}: {e}"))
            return
        try:
            browser = self._launch(pw)
        except RenderError as e:
            pw.stop()
            ready.set_exception(e)
            return
        ready.set_result(None)
        try:
            while (job := jobs.get()) is not None:
                fn, fut = job
                try:
                    if not browser.is_connected():  # the browser died (a crash): start a new one
                        browser = self._launch(pw)
                    fut.set_result(fn(browser))
                except BaseException as e:
                    fut.set_exception(e)
        finally:
            with contextlib.suppress(Exception):
                browser.close()
            pw.stop()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            ready: Future[None] = Future()
            self._thread = threading.Thread(target=self._loop, args=(ready, self._jobs), name="artifact-renderer",
                                            daemon=True)
            self._thread.start()
        try:
            ready.result(timeout=120)
        except BaseException:
            with self._lock:
                self._thread = None
            raise

    def render(self, entry: Path, spec: RenderSpec) -> RenderResult:
        """Render the artifact whose entry file is ``entry`` (absolute).

        Raises:
            RenderError: see the module docstring.
        """
        self._start()

        def job(browser: Any) -> RenderResult:
            deadline = time.monotonic() + spec.timeout_s
            s: _Session | None = None
            try:
                s = _Session(browser, entry, spec)
                res = _capture(s, entry, spec, deadline)
                res.browser_version = browser.version
                return res
            except RenderError:
                raise
            except Exception as e:
                raise _classify(e, s, spec.timeout_s) from None
            finally:
                if s is not None:
                    s.close()

        fut: Future[RenderResult] = Future()
        self._jobs.put((job, fut))
        # Playwright enforces the limit inside the job; this guard covers a browser that stops answering at
        # all (then the stuck worker is abandoned, as a daemon thread, and the next render starts afresh)
        try:
            return fut.result(timeout=spec.timeout_s + GUARD_S)
        except FutureTimeout:
            self._abandon()
            raise RenderError("timeout", f"the browser did not answer within {spec.timeout_s + GUARD_S:g} s; "
                                         "it was abandoned and a new one will be started") from None

    def _abandon(self) -> None:
        with self._lock:
            self._thread = None
            self._jobs = queue.Queue()

    def close(self) -> None:
        """Stop the browser thread (a later :meth:`render` starts a new one)."""
        with self._lock:
            t, self._thread = self._thread, None
        if t is not None and t.is_alive():
            self._jobs.put(None)
            t.join(timeout=30)
