"""Debiased token-probability verdicts (CLUE, arXiv 2501.00192, §3).

For one rule and one item the judge gives P(yes | input) (the probability mass of the ``yes`` answer token,
renormalised over ``yes``/``no``: :mod:`judgeanything.judges.token_verdicts`) and, on the contrast input
(:mod:`judgeanything.rules.contrast`), P(yes | contrast). The **debiased margin** is

    m = P(yes | input) − P(yes | contrast)   ∈ [−1, 1]

— how much the content itself moves the judge towards "violates" beyond its prior for the question. The
verdict is ``yes`` when m > 0 (``no`` when m ≤ 0: without evidence from the content there is no violation), and
the recorded probability is the debiased one, P_d(yes) = (1 + m) / 2, so that |P_d(yes) − P_d(no)| = |m| is the
confidence a cascade compares with its threshold. For the ``negated`` contrast P(yes | contrast) is the
probability that the *negated* claim holds, and the same m measures how much more the judge believes the
claim than its negation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.rules.contrast import check_contrast, contrast_request
from judgeanything.schema import Failure, Verdict

#: Recorded in fingerprints: change it when the debiasing formula changes.
DEBIAS_VERSION = "clue-margin-v1"


@dataclass(frozen=True)
class DebiasedReading:
    """One debiased verdict: raw P(yes | input), P(yes | contrast), the contrast kind and the margin."""

    p_yes: float
    p_yes_contrast: float
    contrast: str

    @property
    def margin(self) -> float:
        """m = P(yes | input) − P(yes | contrast)."""
        return self.p_yes - self.p_yes_contrast

    @property
    def p_debiased(self) -> float:
        """P_d(yes) = (1 + m) / 2."""
        return (1.0 + self.margin) / 2.0

    def to_dict(self) -> dict[str, Any]:
        return {"contrast": self.contrast, "p_yes": self.p_yes, "p_yes_contrast": self.p_yes_contrast,
                "margin": self.margin, "p_yes_debiased": self.p_debiased}


def p_yes(v: Verdict) -> float | None:
    """P(yes) of a rules verdict with token probabilities (renormalised over yes/no), else None."""
    if not v.probs or "yes" not in v.probs:
        return None
    total = float(v.probs.get("yes", 0.0)) + float(v.probs.get("no", 0.0))
    return float(v.probs["yes"]) / total if total > 0 else None


def debias(raw: Verdict, contrast: Verdict, kind: str) -> tuple[Verdict, DebiasedReading]:
    """The debiased verdict from the raw and the contrast verdict (both with token probabilities).

    Raises:
        ValueError: either verdict has no yes/no probabilities.
    """
    p, q = p_yes(raw), p_yes(contrast)
    if p is None or q is None:
        raise ValueError("debiasing needs yes/no token probabilities on both inputs")
    reading = DebiasedReading(p, q, kind)
    pd = reading.p_debiased
    verdict = Verdict(raw.rubric, "yes" if reading.margin > 0 else "no", raw.comment,
                      probs={"yes": pd, "no": 1.0 - pd})
    return verdict, reading


def add_usage(*usages: Mapping[str, Any]) -> dict[str, int]:
    """Token counts summed key by key (both inputs are paid for)."""
    out: dict[str, int] = {}
    for u in usages:
        for k, v in u.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + int(v)
    return out


def combine(raw: JudgeResult, con: JudgeResult, kind: str) -> JudgeResult:
    """One result from the judge's results on an input and on its contrast: the debiased verdicts, both
    probabilities and the kind in ``extra["debias"]``, the contrast's raw text in ``extra["contrast_raw"]``, usage
    summed. A failed input gives its failure; a failed contrast gives its failure, named as the contrast's."""
    usage = add_usage(raw.usage, con.usage)
    if raw.failure is not None or raw.outcomes is None:
        raw.usage = usage
        return raw
    if con.failure is not None or con.outcomes is None:
        f = con.failure or Failure("parse_fail", "no token-probability verdict")
        return JudgeResult(raw=raw.raw, failure=Failure(f.kind, f"contrast input ({kind}): {f.detail}"),
                           usage=usage, latency_s=raw.latency_s + con.latency_s, model=raw.model,
                           extra={**raw.extra, "contrast_raw": con.raw}, fault=con.fault,
                           retry_after_s=con.retry_after_s)
    outcomes: list[Verdict | Failure] = []
    readings: dict[str, Any] = {}
    for o, c in zip(raw.outcomes, con.outcomes, strict=True):
        if isinstance(o, Verdict) and isinstance(c, Verdict) and p_yes(o) is not None and p_yes(c) is not None:
            v, rd = debias(o, c, kind)
            outcomes.append(v)
            readings[o.rubric] = rd.to_dict()
        else:
            outcomes.append(o if isinstance(o, Failure) else Failure(
                "parse_fail", f"no yes/no token probabilities to debias ({kind})", o.rubric))
    return JudgeResult(raw=raw.raw, finish_reason=raw.finish_reason, outcomes=list(outcomes), usage=usage,
                       latency_s=raw.latency_s + con.latency_s, model=raw.model,
                       extra={**raw.extra, "debias": readings, "contrast_raw": con.raw})


def gives_token_probabilities(judge: Judge) -> bool:
    """Whether ``judge`` answers with token probabilities (the ``hf``/``openai``/``gemini`` judges in
    ``verdict: logprob`` mode)."""
    return getattr(judge, "verdict", None) == "logprob"


class DebiasedJudge(Judge):
    """``inner``'s token-probability verdicts debiased against a contrast input (module docstring). Each
    request and its contrast go to ``inner`` in one batch.

    Raises:
        ContrastError: an unknown contrast kind (or ``none``).
    """

    def __init__(self, inner: Judge, contrast: str, *, blur_radius: float = 8.0) -> None:
        if check_contrast(contrast) == "none":
            raise ValueError("DebiasedJudge needs a contrast kind other than 'none'")
        self.inner, self.contrast, self.blur_radius = inner, contrast, float(blur_radius)
        self.name, self.kind = inner.name, inner.kind
        self.needs_media, self.capabilities = inner.needs_media, inner.capabilities
        self.batch_size, self.concurrency = max(1, inner.batch_size // 2), inner.concurrency
        self.max_attempts, self.max_wait_s = inner.max_attempts, inner.max_wait_s
        self.settings = frozenset({"rules"})
        self.downgrades = getattr(inner, "downgrades", None)

    def fingerprint(self) -> dict[str, Any]:
        return {**self.inner.fingerprint(), "debias": {"contrast": self.contrast, "version": DEBIAS_VERSION,
                                                       **({"blur_radius": self.blur_radius}
                                                          if self.contrast == "blur" else {})}}

    def is_transient(self, fault: BaseException | Failure) -> bool:
        return self.inner.is_transient(fault)

    def is_overload(self, fault: BaseException | Failure) -> bool:
        return self.inner.is_overload(fault)

    def notes(self) -> list[str]:
        return [*self.inner.notes(), f"verdicts debiased against the '{self.contrast}' contrast input "
                "(CLUE §3): margin = P(yes | input) − P(yes | contrast)"]

    def prebuild(self, req: JudgeRequest) -> None:
        self.inner.prebuild(req)

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        contrasts = [contrast_request(r, self.contrast, blur_radius=self.blur_radius) for r in requests]
        for c in contrasts:
            self.inner.prebuild(c)
        got = await self.inner.judge([*requests, *contrasts])
        n = len(requests)
        return [combine(got[i], got[n + i], self.contrast) for i in range(n)]

    async def aclose(self) -> None:
        await self.inner.aclose()


__all__ = ["DEBIAS_VERSION", "DebiasedJudge", "DebiasedReading", "add_usage", "combine", "debias",
           "gives_token_probabilities", "p_yes"]
