"""The relevance screen of rule judging (CLUE, arXiv 2501.00192, §3.1: a rule applies only where its
preconditions hold), and the judge the rules setting runs.

:class:`RulesJudge` takes each rule request through its precondition chain first: precondition *k* is asked as
a yes/no question about the same content (:func:`judgeanything.rules.contrast.with_asked`), in chain order, by
the **screen judge** (raw answers; the fast judge of a cascade). The first precondition answered "no" stops the
chain: the rule is *skipped* — recorded as the verdict ``n/a`` with the screen's answers in
``extra["screen"]``, and not counted in the verdict metrics. Rules whose chain holds go to the **verdict judge**
(debiased and/or a cascade). Token usage of every call is summed into the unit's usage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.parsing import parse_output
from judgeanything.rules.contrast import with_asked
from judgeanything.rules.debias import add_usage, p_yes
from judgeanything.rules.prompt import question_text
from judgeanything.schema import NOT_APPLICABLE, OVERALL, Failure, RuleItem, Verdict


def _answer(res: JudgeResult) -> tuple[str | None, dict[str, Any]]:
    """A precondition answer (``"yes"``/``"no"``, or None when unusable) and its record; a judge's text is read
    by :func:`judgeanything.parsing.parse_output` (strategy ``auto``)."""
    rec: dict[str, Any] = {"raw": res.raw[:500]}
    if res.failure is None and res.outcomes is None:
        res.outcomes = list(parse_output(res.raw, "rules", [OVERALL], n_responses=0,
                                         finish_reason=res.finish_reason))
    if res.failure is not None or not res.outcomes or not isinstance(res.outcomes[0], Verdict):
        f = res.failure or (res.outcomes[0] if res.outcomes else Failure("parse_fail", "no answer"))
        rec["failure"] = f.to_dict() if isinstance(f, Failure) else str(f)
        return None, rec
    v = res.outcomes[0]
    rec["value"] = v.value
    p = p_yes(v)
    if p is not None:
        rec["p_yes"] = p
    return (str(v.value) if v.value in ("yes", "no") else None), rec


class RulesJudge(Judge):
    """The rules setting's judge: relevance screen, then the verdict judge (module docstring).

    Args:
        verdict_judge: gives the verdict of rules that apply (possibly a DebiasedJudge or a CascadeJudge).
        screen_judge: answers the preconditions (raw yes/no); ``None`` = no screen (every rule applies).
        close_screen: whether :meth:`aclose` closes the screen judge too (False when it is part of the verdict
            judge, e.g. the raw judge inside a DebiasedJudge).
    """

    def __init__(self, verdict_judge: Judge, screen_judge: Judge | None, *, close_screen: bool = False) -> None:
        self.verdict_judge, self.screen_judge, self.close_screen = verdict_judge, screen_judge, close_screen
        self.name, self.kind = verdict_judge.name, verdict_judge.kind
        self.needs_media = verdict_judge.needs_media
        self.capabilities = verdict_judge.capabilities
        self.downgrades = getattr(verdict_judge, "downgrades", None)
        self.batch_size, self.concurrency = verdict_judge.batch_size, verdict_judge.concurrency
        self.max_attempts, self.max_wait_s = verdict_judge.max_attempts, verdict_judge.max_wait_s
        self.settings = frozenset({"rules"})

    def fingerprint(self) -> dict[str, Any]:
        return {**self.verdict_judge.fingerprint(),
                "screen": self.screen_judge.fingerprint() if self.screen_judge is not None else None}

    def notes(self) -> list[str]:
        screen = (f"preconditions screened by {self.screen_judge.name!r}" if self.screen_judge is not None
                  else "no relevance screen: every rule is judged on every item")
        return [*self.verdict_judge.notes(), screen]

    def is_transient(self, fault: BaseException | Failure) -> bool:
        return self.verdict_judge.is_transient(fault)

    def is_overload(self, fault: BaseException | Failure) -> bool:
        return self.verdict_judge.is_overload(fault)

    def prebuild(self, req: JudgeRequest) -> None:
        self.verdict_judge.prebuild(req)

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        done: dict[int, JudgeResult] = {}
        screens: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(requests))}
        usage: dict[int, dict[str, int]] = {i: {} for i in range(len(requests))}
        if self.screen_judge is not None:
            await self._screen(requests, done, screens, usage)
        go = [i for i in range(len(requests)) if i not in done]
        got = await self.verdict_judge.judge([requests[i] for i in go]) if go else []
        for i, res in zip(go, got, strict=True):
            res.usage = add_usage(usage[i], res.usage)
            done[i] = res
        for i, res in done.items():
            if screens[i]:
                res.extra = {**res.extra, "screen": screens[i]}
        return [done[i] for i in range(len(requests))]

    async def _screen(self, requests: Sequence[JudgeRequest], done: dict[int, JudgeResult],
                      screens: dict[int, list[dict[str, Any]]], usage: dict[int, dict[str, int]]) -> None:
        """Ask each request's preconditions in chain order; a "no" skips the rule, an unusable answer fails it."""
        assert self.screen_judge is not None
        chains = {i: r.item.rule.preconditions if isinstance(r.item, RuleItem) else () for i, r in enumerate(requests)}
        depth = max((len(c) for c in chains.values()), default=0)
        for k in range(depth):
            ask = [i for i in chains if i not in done and k < len(chains[i])]
            if not ask:
                return
            asked = [self._precondition(requests[i], chains[i][k], k) for i in ask]
            for a in asked:
                self.screen_judge.prebuild(a)
            for i, res in zip(ask, await self.screen_judge.judge(asked), strict=True):
                usage[i] = add_usage(usage[i], res.usage)
                value, rec = _answer(res)
                screens[i].append({"precondition": chains[i][k], **rec})
                if value == "no":
                    done[i] = JudgeResult(raw=res.raw, finish_reason=res.finish_reason, model=res.model,
                                          outcomes=[Verdict(OVERALL, NOT_APPLICABLE,
                                                            f"precondition {k + 1} does not hold: {chains[i][k]}")])
                elif value is None:
                    f = res.failure or next((o for o in res.outcomes or [] if isinstance(o, Failure)),
                                            Failure("parse_fail", "unreadable precondition answer"))
                    done[i] = JudgeResult(raw=res.raw, finish_reason=res.finish_reason, model=res.model,
                                          failure=Failure(f.kind, f"precondition {k + 1}: {f.detail}"),
                                          fault=res.fault, retry_after_s=res.retry_after_s)
                if i in done:
                    done[i].usage = dict(usage[i])

    @staticmethod
    def _precondition(req: JudgeRequest, statement: str, k: int) -> JudgeRequest:
        version = req.prompt.version.split("/", 1)[0]
        return with_asked(req, question_text(statement, "precondition", version=version), f"pre{k + 1}")

    async def aclose(self) -> None:
        await self.verdict_judge.aclose()
        if self.screen_judge is not None and self.close_screen:
            await self.screen_judge.aclose()


__all__ = ["RulesJudge"]
