"""A confidence cascade of two judges (CLUE, arXiv 2501.00192, §3: a fast token-probability decision, and a
cascaded chain-of-thought judgment only where the fast one is not confident).

``judge=cascade`` wraps a **fast** judge (typically token-probability verdicts; in the rules setting they are
debiased against a contrast input) and a **slow** one (the same model generating its reasoning before the
answer, or a stronger model); both are nested Hydra judge configs. A request is **escalated** to the slow judge
when the fast verdict's confidence is at most ``threshold``:

* confidence = |P(top verdict) − P(second verdict)| over the fast verdict's probabilities (in the rules
  setting with debiasing: exactly |m|, the debiased margin); a verdict without probabilities counts as fully
  confident (1); a fast failure always escalates (when ``threshold > 0``);
* ``threshold = 0`` never escalates (the cascade is the fast judge), ``threshold = 1`` always does (the cascade
  is the slow judge; the fast judge's calls are still made and paid for).

Every result records ``extra["cascade"]``: whether it was escalated, the fast confidence, the threshold, the
fast verdict, and the token usage of each stage (the result's ``usage`` is their sum: both were paid for).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.parsing import parse_output
from judgeanything.schema import Failure, Verdict


def confidence(res: JudgeResult) -> float | None:
    """The fast result's confidence: the smallest over its verdicts of |P(top) − P(second)| (1 for a
    verdict without probabilities); ``None`` for a failed result or any failed rubric."""
    if res.failure is not None or not res.outcomes:
        return None
    conf = 1.0
    for o in res.outcomes:
        if not isinstance(o, Verdict):
            return None
        if o.probs:
            top = [*sorted((float(p) for p in o.probs.values()), reverse=True), 0.0]
            conf = min(conf, top[0] - top[1])
    return conf


def _usage_sum(a: dict[str, Any], b: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for u in (a, b):
        for k, v in u.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + int(v)
    return out


class CascadeJudge(Judge):
    """Fast judge first; the slow judge where the fast one's confidence is at most ``threshold``.

    Args:
        fast, slow: the two judges (Hydra instantiates them from the nested configs).
        threshold: escalation threshold in [0, 1] (module docstring).
        name: display name (default ``cascade(<fast>→<slow>)``).

    Raises:
        JudgeConfigError: a threshold outside [0, 1], or a judge that is not a Judge.
    """

    kind = "cascade"

    def __init__(self, fast: Judge, slow: Judge, threshold: float = 0.5, name: str | None = None) -> None:
        if not isinstance(fast, Judge) or not isinstance(slow, Judge):
            raise JudgeConfigError("cascade judge: fast and slow must be judge configs (with a _target_)")
        t = float(threshold)
        if not 0.0 <= t <= 1.0:
            raise JudgeConfigError(f"cascade judge: threshold={threshold!r} must be in [0, 1]")
        self.fast, self.slow, self.threshold = fast, slow, t
        self.name = name or f"cascade({fast.name}→{slow.name})"
        self.needs_media = fast.needs_media or slow.needs_media
        self.capabilities = frozenset(fast.capabilities) & frozenset(slow.capabilities)
        self.settings = frozenset(fast.settings) & frozenset(slow.settings)
        self.batch_size = fast.batch_size
        self.concurrency = min(fast.concurrency, slow.concurrency)
        self.max_attempts = max(fast.max_attempts, slow.max_attempts)
        self.max_wait_s = max(fast.max_wait_s, slow.max_wait_s)

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "cascade", "threshold": self.threshold,
                "fast": self.fast.fingerprint(), "slow": self.slow.fingerprint()}

    def notes(self) -> list[str]:
        return [f"{self.name!r} is a cascade: {self.fast.name!r} decides, and requests whose fast confidence is at "
                f"most {self.threshold:g} are judged again by {self.slow.name!r} (its verdict counts)",
                *self.fast.notes(), *self.slow.notes()]

    def is_transient(self, fault: BaseException | Failure) -> bool:
        return self.fast.is_transient(fault) or self.slow.is_transient(fault)

    def is_overload(self, fault: BaseException | Failure) -> bool:
        return self.fast.is_overload(fault) or self.slow.is_overload(fault)

    def escalates(self, res: JudgeResult) -> bool:
        """Whether a fast result goes to the slow judge."""
        if self.threshold <= 0.0:
            return False
        c = confidence(res)
        return c is None or c <= self.threshold

    def prebuild(self, req: JudgeRequest) -> None:
        self.fast.prebuild(req)

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        fast = await self.fast.judge(requests)
        for req, res in zip(requests, fast, strict=True):
            if res.failure is None and res.outcomes is None:  # a fast judge that writes text: read it here
                res.outcomes = list(parse_output(res.raw, req.prompt.setting, list(req.prompt.rubrics),
                                                 n_responses=len(req.item.responses),
                                                 finish_reason=res.finish_reason, scale=req.prompt.scale,
                                                 strategy=req.parse))  # as the run reads text
        up = [i for i, r in enumerate(fast) if self.escalates(r)]
        for i in up:
            requests[i].payload = None  # the fast judge's prebuilt body is not the slow judge's
            self.slow.prebuild(requests[i])
        slow = dict(zip(up, await self.slow.judge([requests[i] for i in up]) if up else [], strict=True))
        return [self._merge(f, slow.get(i)) for i, f in enumerate(fast)]

    def _merge(self, fast: JudgeResult, slow: JudgeResult | None) -> JudgeResult:
        record: dict[str, Any] = {
            "escalated": slow is not None, "threshold": self.threshold, "confidence": confidence(fast),
            "fast": {"outcomes": [o.to_dict() for o in fast.outcomes or []],
                     **({"failure": fast.failure.to_dict()} if fast.failure else {}), "usage": dict(fast.usage),
                     **({"debias": fast.extra["debias"]} if "debias" in fast.extra else {})},
        }
        if slow is None:
            fast.extra = {**fast.extra, "cascade": record}
            return fast
        record["slow"] = {"usage": dict(slow.usage), "model": slow.model}
        slow.extra = {**slow.extra, "cascade": record, "fast_raw": fast.raw}
        slow.usage = _usage_sum(fast.usage, slow.usage)
        slow.latency_s += fast.latency_s
        return slow

    async def aclose(self) -> None:
        await self.fast.aclose()
        await self.slow.aclose()


__all__ = ["CascadeJudge", "confidence"]
