"""The judge of ``setting=process`` (called by the CLI, as :func:`judgeanything.rules.setup.rules_judge` is for
rules).

* the ``random`` / ``first`` reference baselines answer per step by their definition
  (:func:`judgeanything.process.baselines.baseline_steps`), written as the JSON answer the process prompt asks
  for, so that their verdicts travel through the same per-step reader as a model's
  (:mod:`judgeanything.parsing.process`, applied by the runner);
* a judge that writes text (``openai``, ``gemini``, ``hf`` in generate mode, ``smoke``) is asked the process
  prompt as it is and its text read per step by the runner;
* a judge that cannot write a free answer (token-probability verdicts, ``replay``, ``longer``) is refused with a
  :class:`~judgeanything.errors.RunConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judgeanything.errors import RunConfigError
from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.judges.baselines import FirstJudge, RandomJudge
from judgeanything.process.baselines import answer_json, baseline_steps, expected_metrics


class ProcessBaselineJudge(Judge):
    """``random`` or ``first`` in the process setting (module docstring); ``seed`` seeds ``random`` per case,
    together with the repeat index."""

    needs_media = False
    kind = "baseline"
    settings = frozenset({"process"})

    def __init__(self, base: RandomJudge | FirstJudge) -> None:
        self.base = base
        self.which = "random" if isinstance(base, RandomJudge) else "first"
        self.name, self.capabilities = base.name, base.capabilities
        self.seed = int(getattr(base, "seed", 0))
        self.deterministic = self.which == "first"

    def fingerprint(self) -> dict[str, Any]:
        return {**self.base.fingerprint(), "process": self.which}

    def notes(self) -> list[str]:
        what = ("each step correct or incorrect with probability ½, an incorrect step's error type uniform over the "
                "seven" if self.which == "random" else "every step correct (it never flags an error)")
        return [f"{self.name!r} is a reference baseline: {what}. Its expected metrics are in 'Reference baseline "
                "check' (judgeanything/process/baselines.py)."]

    def expected_metrics(self, setting: str, cases: Sequence[Any]) -> dict[str, float]:
        """The metrics this baseline is expected to reach on ``cases`` (process setting; others: none)."""
        return expected_metrics(self.which, cases) if setting == "process" else {}

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        out = []
        for req in requests:
            n = len(getattr(req.item, "steps", ()))
            steps = baseline_steps(self.which, req.item.item_id, n, self.seed + req.repeat)
            out.append(JudgeResult(raw=answer_json(steps), finish_reason="stop", model=f"baseline:{self.which}"))
        return out


class ProcessTextJudge(Judge):
    """A text-writing judge asked the process prompt; its text is read per step by the runner."""

    def __init__(self, inner: Judge) -> None:
        self.inner = inner
        for a in ("name", "kind", "capabilities", "needs_media", "batch_size", "concurrency", "max_attempts",
                  "max_wait_s"):
            setattr(self, a, getattr(inner, a))
        self.downgrades = getattr(inner, "downgrades", None)
        self.settings = frozenset({"process"})

    def fingerprint(self) -> dict[str, Any]:
        return self.inner.fingerprint()

    def notes(self) -> list[str]:
        return self.inner.notes()

    def is_transient(self, fault: Any) -> bool:
        return self.inner.is_transient(fault)

    def is_overload(self, fault: Any) -> bool:
        return self.inner.is_overload(fault)

    def prebuild(self, req: JudgeRequest) -> None:
        self.inner.prebuild(req)

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        got = await self.inner.judge(requests)
        for res in got:
            res.outcomes = None if res.failure is None else res.outcomes  # the runner reads the text per step
        return got

    async def aclose(self) -> None:
        await self.inner.aclose()


def process_judge(judge: Judge) -> Judge:
    """``judge`` set up for process judging (module docstring).

    Raises:
        RunConfigError: a judge that gives no free-text answer.
    """
    if isinstance(judge, (RandomJudge, FirstJudge)):
        return ProcessBaselineJudge(judge)
    if judge.kind in ("baseline", "replay") or getattr(judge, "verdict", "generate") == "logprob":
        raise RunConfigError(f"judge {judge.name!r} cannot judge per step (setting=process needs a judge that writes "
                             "its answer: random, first, or a model judge generating text)")
    return ProcessTextJudge(judge)


__all__ = ["ProcessBaselineJudge", "ProcessTextJudge", "process_judge"]
