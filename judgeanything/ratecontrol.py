"""Rate control of a run's requests: an adaptive concurrency window and requests/tokens-per-minute limits.

* :class:`AdaptiveWindow` — how many judge calls may be in flight at once, by AIMD (additive increase,
  multiplicative decrease: the congestion avoidance of TCP, Jacobson 1988; RFC 5681 §3.1). Each successful
  request grows the window by ``1 / window`` (≈ +1 per window's worth of successes), up to the configured
  concurrency; an overload signal (429, 503, a timeout: :meth:`~judgeanything.judges.base.Judge.is_overload`)
  halves it, at most once per window of requests sent before the cut (the requests already in flight when
  the server started refusing would otherwise halve it again and again), down to ``min_concurrency``.
* :class:`RateLimits` — hard requests-per-minute and tokens-per-minute budgets (``aiolimiter``'s leaky
  bucket), for providers whose quotas are known: every attempt, retries included, takes one request and
  its estimated tokens (:func:`estimate_tokens`: prompt + ``max_tokens``, as providers count a request
  against a TPM quota before it runs).

Config: ``run.rate.{adaptive, min_concurrency, rpm, tpm}``; the window's maximum is ``run.concurrency``
(or the judge's ``concurrency``). What the controller did is recorded in ``run.json`` (``requests.window``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter

from judgeanything.judges.base import JudgeRequest
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo
from judgeanything.schema import TextPart

#: Token estimates per medium, for TPM budgets only (providers count tokens after the fact; an estimate
#: that errs high keeps a run under its quota). Text: ~4 characters per token (OpenAI's rule of thumb for
#: English). An image or video frame: 765 tokens (OpenAI's high-detail count for a 1024×1024 image:
#: 85 + 4 tiles × 170). Audio: 10 tokens per second (OpenAI's realtime audio input, ~1 token / 100 ms).
CHARS_PER_TOKEN = 4.0
TOKENS_PER_IMAGE = 765
TOKENS_PER_AUDIO_SECOND = 10.0


class RateConfigError(ValueError):
    """A ``run.rate`` option is out of range (names it)."""


@dataclass(frozen=True)
class RateOptions:
    """The ``run.rate`` config section.

    Attributes:
        adaptive: AIMD concurrency (True) or a fixed number of requests in flight (False).
        min_concurrency: the floor of the adaptive window (≥ 1).
        rpm: requests per minute, at most (``None`` = no limit).
        tpm: estimated tokens per minute, at most (``None`` = no limit).
    """

    adaptive: bool = True
    min_concurrency: int = 1
    rpm: float | None = None
    tpm: float | None = None

    def __post_init__(self) -> None:
        if int(self.min_concurrency) < 1:
            raise RateConfigError(f"run.rate.min_concurrency={self.min_concurrency}: must be at least 1")
        for name in ("rpm", "tpm"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(float(v)) and float(v) > 0):
                raise RateConfigError(f"run.rate.{name}={v!r}: must be a positive number (or null)")


class AdaptiveWindow:
    """An AIMD limit on concurrent judge calls (see the module docstring).

    Args:
        maximum: the most calls in flight (the configured concurrency) and the starting window.
        minimum: the least the window shrinks to.
        adaptive: False = a plain semaphore of ``maximum``.
        decrease: the factor applied on an overload signal (0.5: halve).
    """

    def __init__(self, maximum: int, minimum: int = 1, *, adaptive: bool = True, decrease: float = 0.5) -> None:
        self.maximum = max(1, int(maximum))
        self.minimum = max(1, min(int(minimum), self.maximum))
        self.adaptive, self.decrease_factor = adaptive, float(decrease)
        self.limit = float(self.maximum)
        self.in_flight = 0
        self.lowest = self.maximum
        self.decreases = 0
        self._sent = 0  # calls started so far
        self._cut_at = -1  # calls started when the window was last cut
        self._cond = asyncio.Condition()
        self._waiting = 0  # calls waiting for a place

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold one place in the window for a call; yields the call's sequence number (for :meth:`observe`)."""
        if self.in_flight >= int(self.limit) or self._waiting:  # one event loop: no lock needed to look
            self._waiting += 1
            try:
                async with self._cond:
                    await self._cond.wait_for(lambda: self.in_flight < int(self.limit))
            finally:
                self._waiting -= 1
        self.in_flight += 1
        seq = self._sent
        self._sent += 1
        try:
            yield seq
        finally:
            self.in_flight -= 1
            if self._waiting:
                async with self._cond:
                    self._cond.notify(1)

    def observe(self, seq: int, ok: int, overloaded: int) -> None:
        """Feed back the outcome of call ``seq``: ``ok`` successful requests, ``overloaded`` overload signals.

        A cut happens only for a call started after the previous cut (one cut per window of calls)."""
        if not self.adaptive:
            return
        if overloaded and seq > self._cut_at:
            self.limit = max(float(self.minimum), math.floor(self.limit * self.decrease_factor))
            self._cut_at = self._sent
            self.decreases += 1
            self.lowest = min(self.lowest, int(self.limit))
        elif ok and not overloaded:
            self.limit = min(float(self.maximum), self.limit + ok / max(self.limit, 1.0))

    def stats(self) -> dict[str, Any]:
        """``{maximum, final, lowest, decreases, adaptive}`` for ``run.json``."""
        return {"adaptive": self.adaptive, "maximum": self.maximum, "final": int(self.limit),
                "lowest": self.lowest, "decreases": self.decreases}


class RateLimits:
    """Requests- and tokens-per-minute budgets (aiolimiter leaky buckets over 60 s); either may be absent."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        self.rpm = AsyncLimiter(float(rpm), 60.0) if rpm else None
        self.tpm = AsyncLimiter(float(tpm), 60.0) if tpm else None
        self.waited_s = 0.0

    @property
    def active(self) -> bool:
        return self.rpm is not None or self.tpm is not None

    async def acquire(self, requests: Sequence[JudgeRequest], max_tokens: int | None) -> None:
        """Wait until ``len(requests)`` requests and their estimated tokens fit the budgets."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        if self.rpm is not None:
            for _ in requests:
                await self.rpm.acquire(1)
        if self.tpm is not None:
            tokens = sum(estimate_tokens(r, max_tokens) for r in requests)
            # a request larger than the whole budget still goes, alone, once the bucket is empty
            await self.tpm.acquire(min(float(tokens), self.tpm.max_rate))
        self.waited_s += loop.time() - t0


def estimate_tokens(req: JudgeRequest, max_tokens: int | None) -> int:
    """A request's tokens as a provider's quota counts them, estimated before sending: the system prompt and
    text parts (≈ 4 characters per token), each image or video frame (765), audio (10 per second), plus the
    answer budget ``max_tokens``."""
    chars = len(req.prompt.system or "")
    media = 0.0
    for p in req.parts or req.prompt.parts:
        if isinstance(p, TextPart):
            chars += len(p.text)
        elif isinstance(p, EncodedImage):
            media += TOKENS_PER_IMAGE
        elif isinstance(p, EncodedVideo):
            media += TOKENS_PER_IMAGE * len(p.frames)
            if p.audio is not None:
                media += TOKENS_PER_AUDIO_SECOND * p.audio.duration_s
        elif isinstance(p, EncodedAudio):
            media += TOKENS_PER_AUDIO_SECOND * p.duration_s
        else:
            chars += len(getattr(p, "text", "") or "")
    return math.ceil(chars / CHARS_PER_TOKEN + media) + int(max_tokens or 0)


__all__ = ["AdaptiveWindow", "RateConfigError", "RateLimits", "RateOptions", "estimate_tokens"]
