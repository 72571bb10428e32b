"""The one retry policy of the runner, for every judge backend (as inspect_ai retries in its model layer).

A judge makes one attempt per request and reports each fault as a failed :class:`JudgeResult` (or raises
for a whole batch); the judge's own hook :meth:`~judgeanything.judges.base.Judge.is_transient` says whether
another try may succeed. :func:`judge_with_retries` then tries the transient failures again — only those
requests, as one smaller batch — after what the server asked for (``Retry-After``), else with exponential
backoff and jitter (tenacity), never longer than the judge's ``max_wait_s``, at most ``max_attempts``
tries in all. Each fault is logged as one line (no traceback: it is the server's fault,
not ours); what is still failing after the last try is the unit's ``api_error`` in the run log, retried
again on resume (``run.retry_failures``).

An exception a judge raises for a batch that is not transient is a bug in the backend: it is logged with
its traceback and recorded as an ``api_error`` for each request of the batch, and the run goes on.
A :class:`~judgeanything.judges.base.JudgeConfigError` stops the run (every unit would fail alike).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt, wait_exponential_jitter

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.ratecontrol import AdaptiveWindow, RateLimits
from judgeanything.schema import Failure
from judgeanything.text import one_line as _one_line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry transient faults.

    Attributes:
        max_attempts: tries per request in all (1 = never retry).
        initial_wait_s: the first backoff (doubling each try, plus up to ``jitter_s`` of random jitter).
        max_wait_s: the longest wait between two tries; also caps a server's ``Retry-After``.
        jitter_s: random seconds added to each backoff (spreads the retries of many requests).
    """

    max_attempts: int = 6
    initial_wait_s: float = 1.0
    max_wait_s: float = 60.0
    jitter_s: float = 1.0

    @classmethod
    def for_judge(cls, judge: Judge) -> RetryPolicy:
        """The policy a judge asks for: its ``max_attempts``, ``max_wait_s`` and ``initial_wait_s`` (1 s when it
        has none), the jitter as large as the first backoff; neither exceeds ``max_wait_s``."""
        cap = max(0.0, float(judge.max_wait_s))
        first = min(float(getattr(judge, "initial_wait_s", 1.0)), cap)
        return cls(max_attempts=max(1, int(judge.max_attempts)), initial_wait_s=first, max_wait_s=cap,
                   jitter_s=first)


@dataclass
class RetryStats:
    """What the retry policy saw during a run (written to ``run.json`` as ``requests``).

    ``attempts``: requests sent, first tries and retries; ``retries``: of those, retries;
    ``transient_faults``: transient faults by description kind (``HTTP 429``, ``DeadlineExceeded``…);
    ``gave_up``: requests still failing transiently after the last try (recorded as ``api_error``).
    """

    attempts: int = 0
    retries: int = 0
    gave_up: int = 0
    transient_faults: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "retries": self.retries, "gave_up": self.gave_up,
                "transient_faults": dict(sorted(self.transient_faults.items()))}


async def judge_with_retries(
    judge: Judge,
    requests: Sequence[JudgeRequest],
    policy: RetryPolicy,
    *,
    stats: RetryStats | None = None,
    window: AdaptiveWindow | None = None,
    limits: RateLimits | None = None,
) -> list[JudgeResult]:
    """Judge ``requests``, retrying the transient failures as the policy allows; one result per request.

    Args:
        judge: the backend (one ``judge.judge`` call per attempt, carrying the requests still to do).
        requests: the batch.
        policy: tries and waits.
        stats: counters to update (attempts, retries, faults by kind).
        window: the adaptive concurrency window: each attempt holds a place in it (the waits between tries
            do not) and reports its successes and overload signals to it.
        limits: requests/tokens-per-minute budgets each attempt waits for.

    Raises:
        JudgeConfigError: from the judge (a misconfiguration fails every unit alike).
        RuntimeError: the judge returned a different number of results than it was given requests.
    """
    batch = _Batch(judge, requests, policy, stats if stats is not None else RetryStats(), window, limits)
    # The first try runs before tenacity is set up: almost every request succeeds at once, and a retry
    # controller per request costs more CPU than the rest of the runner's own work on it.
    if await batch.attempt() and policy.max_attempts > 1:
        await batch.retry()
    if batch.pending:
        batch.give_up()
    return [r if r is not None else JudgeResult(failure=Failure("api_error", "no result")) for r in batch.results]


class _Batch:
    """One batch of requests under the retry policy: each request's latest result, and those still to retry."""

    def __init__(self, judge: Judge, requests: Sequence[JudgeRequest], policy: RetryPolicy, stats: RetryStats,
                 window: AdaptiveWindow | None, limits: RateLimits | None) -> None:
        self.judge, self.requests, self.policy, self.stats = judge, requests, policy, stats
        self.window, self.limits = window, limits
        self.results: list[JudgeResult | None] = [None] * len(requests)
        self.pending = list(range(len(requests)))
        self.max_tokens = getattr(getattr(judge, "sampling", None), "max_tokens", None)
        self.backoff = wait_exponential_jitter(initial=policy.initial_wait_s, max=policy.max_wait_s,
                                               jitter=policy.jitter_s)
        self._replayed = False

    async def attempt(self) -> list[int]:
        """Send the pending requests once; returns those that failed transiently (the new pending)."""
        batch = [self.requests[i] for i in self.pending]
        self.stats.attempts += len(batch)
        if self.limits is not None and self.limits.active:
            await self.limits.acquire(batch, self.max_tokens)
        got = await self._send(batch)
        transient = [_is_transient(self.judge, r) for r in got]
        for i, r, t in zip(self.pending, got, transient, strict=True):
            self.results[i] = r
            if t:
                kind = _fault_kind(r)
                self.stats.transient_faults[kind] = self.stats.transient_faults.get(kind, 0) + 1
        self.pending = [i for i, t in zip(self.pending, transient, strict=True) if t]
        return self.pending

    async def _send(self, batch: list[JudgeRequest]) -> list[JudgeResult]:
        """One call, holding a place in the concurrency window (when there is one) and reporting to it."""
        if self.window is None:
            return await _call(self.judge, batch)
        async with self.window.slot() as seq:
            got = await _call(self.judge, batch)
            overloaded = sum(_signals_overload(self.judge, r) for r in got)
            self.window.observe(seq, ok=sum(r.failure is None for r in got), overloaded=overloaded)
        return got

    async def retry(self) -> None:
        """The tries after the first, under tenacity: the first try (already made) is its attempt 1."""
        retrying = AsyncRetrying(retry=retry_if_result(bool), stop=stop_after_attempt(self.policy.max_attempts),
                                 wait=self.wait, before_sleep=self.before_sleep, retry_error_callback=lambda s: None,
                                 reraise=False)
        await retrying(self._again)

    async def _again(self) -> list[int]:
        if not self._replayed:  # tenacity's attempt 1 is the try already made: its outcome, not a new call
            self._replayed = True
            return self.pending
        return await self.attempt()

    def wait(self, state: RetryCallState) -> float:
        """The server's own Retry-After when it gave one (as the SDK does), else exponential backoff; capped."""
        asked = [r.retry_after_s for i in self.pending
                 if (r := self.results[i]) is not None and r.retry_after_s is not None]
        return min(self.policy.max_wait_s, max(asked) if asked else float(self.backoff(state)))

    def before_sleep(self, state: RetryCallState) -> None:
        self.stats.retries += len(self.pending)
        log.warning("judge %s: %d of %d request(s) failed transiently (%s); try %d of %d in %.1f s",
                    self.judge.name, len(self.pending), len(self.requests), self._first_detail(),
                    state.attempt_number + 1, self.policy.max_attempts, state.upcoming_sleep)

    def give_up(self) -> None:
        self.stats.gave_up += len(self.pending)
        log.warning("judge %s: %d request(s) still failing after %d tries (%s): recorded as api_error, retried "
                    "on resume", self.judge.name, len(self.pending), self.policy.max_attempts, self._first_detail())

    def _first_detail(self) -> str:
        first = self.results[self.pending[0]]
        return _one_line(first.failure.detail if first is not None and first.failure is not None else "?")


async def _call(judge: Judge, batch: Sequence[JudgeRequest]) -> list[JudgeResult]:
    """One ``judge.judge`` call; an exception becomes one failed result per request (carrying it)."""
    try:
        got = await judge.judge(list(batch))
    except JudgeConfigError:
        raise
    except Exception as e:  # a backend's fault must not lose the run: recorded per unit
        if not judge.is_transient(e):
            log.exception("judge %s raised on a batch of %d", judge.name, len(batch))
        failure = Failure("api_error", _one_line(f"{type(e).__name__}: {e}"))
        return [JudgeResult(failure=failure, fault=e) for _ in batch]
    if len(got) != len(batch):
        raise RuntimeError(f"judge {judge.name} returned {len(got)} results for {len(batch)} requests")
    return list(got)


def _is_transient(judge: Judge, r: JudgeResult) -> bool:
    if r.failure is None or r.failure.kind != "api_error":
        return False
    return judge.is_transient(r.fault if r.fault is not None else r.failure)


def _signals_overload(judge: Judge, r: JudgeResult) -> bool:
    return r.failure is not None and judge.is_overload(r.fault if r.fault is not None else r.failure)


def _fault_kind(r: JudgeResult) -> str:
    """``HTTP 429``, ``DeadlineExceeded``, ``InvalidCompletion``…: the fault's class, for counting."""
    if r.fault is not None:
        # ``status_code``: openai's status errors; ``code``: google-genai's APIError
        status = getattr(r.fault, "status_code", None)
        if not isinstance(status, int):
            status = getattr(r.fault, "code", None)
        return f"HTTP {status}" if isinstance(status, int) and not isinstance(status, bool) else type(r.fault).__name__
    return r.failure.kind if r.failure is not None else "unknown"


__all__ = ["RetryPolicy", "RetryStats", "judge_with_retries"]
