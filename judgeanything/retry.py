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
    stats = stats if stats is not None else RetryStats()
    results: list[JudgeResult | None] = [None] * len(requests)
    pending = list(range(len(requests)))
    max_tokens = getattr(getattr(judge, "sampling", None), "max_tokens", None)

    async def attempt() -> list[int]:
        nonlocal pending
        batch = [requests[i] for i in pending]
        stats.attempts += len(batch)
        if limits is not None and limits.active:
            await limits.acquire(batch, max_tokens)
        if window is None:
            got = await _call(judge, batch)
        else:
            async with window.slot() as seq:
                got = await _call(judge, batch)
                overloaded = sum(_signals_overload(judge, r) for r in got)
                window.observe(seq, ok=sum(r.failure is None for r in got), overloaded=overloaded)
        transient = [_is_transient(judge, r) for r in got]
        for i, r, t in zip(pending, got, transient, strict=True):
            results[i] = r
            if t:
                kind = _fault_kind(r)
                stats.transient_faults[kind] = stats.transient_faults.get(kind, 0) + 1
        pending = [i for i, t in zip(pending, transient, strict=True) if t]
        return pending

    backoff = wait_exponential_jitter(initial=policy.initial_wait_s, max=policy.max_wait_s, jitter=policy.jitter_s)

    def wait(state: RetryCallState) -> float:
        # the server's own Retry-After when it gave one (as the SDK does), else exponential backoff; capped
        asked = [r.retry_after_s for i in pending if (r := results[i]) is not None and r.retry_after_s is not None]
        return min(policy.max_wait_s, max(asked) if asked else float(backoff(state)))

    def before_sleep(state: RetryCallState) -> None:
        stats.retries += len(pending)
        first = results[pending[0]]
        detail = first.failure.detail if first is not None and first.failure is not None else "?"
        log.warning("judge %s: %d of %d request(s) failed transiently (%s); try %d of %d in %.1f s",
                    judge.name, len(pending), len(requests), _one_line(detail), state.attempt_number + 1,
                    policy.max_attempts, state.upcoming_sleep)

    # The first try runs before tenacity is set up: almost every request succeeds at once, and a retry
    # controller per request costs more CPU than the rest of the runner's own work on it. Tenacity then
    # sees that try as its attempt 1 (the first call of `again` returns its outcome) and owns the rest.
    replayed = False

    async def again() -> list[int]:
        nonlocal replayed
        if not replayed:
            replayed = True
            return pending
        return await attempt()

    if await attempt() and policy.max_attempts > 1:
        retrying = AsyncRetrying(retry=retry_if_result(bool), stop=stop_after_attempt(policy.max_attempts),
                                 wait=wait, before_sleep=before_sleep, retry_error_callback=lambda s: None,
                                 reraise=False)
        await retrying(again)
    if pending:
        stats.gave_up += len(pending)
        first = results[pending[0]]
        detail = first.failure.detail if first is not None and first.failure is not None else "?"
        log.warning("judge %s: %d request(s) still failing after %d tries (%s): recorded as api_error, retried "
                    "on resume", judge.name, len(pending), policy.max_attempts, _one_line(detail))
    return [r if r is not None else JudgeResult(failure=Failure("api_error", "no result")) for r in results]


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
