"""``replay``: verdicts recorded in the dataset files, re-read as if a judge had just produced them.

Sources: MLLM-as-a-Judge's ``result`` / ``evaluator`` fields, or a Judge Anything judging-script output file
(rows ``{uniq_id, task_name, model_pair|model_name, rubric_name, choice|score, comment}``), both turned into
:class:`~judgeanything.schema.Verdict` s by the dataset adapter (``BenchmarkData.recorded``). This lets the
whole pipeline — run log, resume, analysis, report — be checked against published numbers, and lets a
recorded judge sit on the same leaderboard as live ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.orders import to_presented
from judgeanything.schema import CORE_MODALITIES, Failure, Outcome, Verdict

_ALL = frozenset(CORE_MODALITIES)


class ReplayJudge(Judge):
    """Replays recorded verdicts.

    Args:
        judge_name: which recorded judge to replay (e.g. ``"gpt4"``); ``None`` = whichever judge is
            recorded for each item (the MLLM-as-a-Judge rows each carry one).
        name: display name (default ``replay`` or ``replay:<judge_name>``).
        recorded: the benchmark's recorded verdicts, judge name → item id → verdicts in dataset orientation
            (:attr:`~judgeanything.datasets.base.BenchmarkData.recorded`).
        recorded_raw: the recorded judges' raw texts, judge name → item id → text.

    Raises:
        JudgeConfigError: ``judge_name`` is not among the recorded judges, or nothing is recorded.

    An item with no recorded verdict for a rubric gets a ``parse_fail`` failure saying so (nothing is
    invented).
    """

    needs_media = False
    capabilities = _ALL
    kind = "replay"

    def __init__(self, judge_name: str | None = None, name: str | None = None, *,
                 recorded: Mapping[str, Mapping[str, Sequence[Verdict]]] | None = None,
                 recorded_raw: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.judge_name = judge_name
        self.name = name or (f"replay:{judge_name}" if judge_name else "replay")
        self._recorded: dict[str, list[Verdict]] = {}
        self._raw: dict[str, str] = {}
        self._source: dict[str, str] = {}
        self._take(recorded or {}, recorded_raw or {})

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "replay", "judge_name": self.judge_name}

    def _take(self, recorded: Mapping[str, Mapping[str, Sequence[Verdict]]],
              recorded_raw: Mapping[str, Mapping[str, str]]) -> None:
        """Index the recorded verdicts by item; with no ``judge_name``, the first recorded judge (by name)
        that has an item gives its verdicts.

        Raises:
            JudgeConfigError: ``judge_name`` is not recorded, or nothing is recorded at all.
        """
        names = [self.judge_name] if self.judge_name else sorted(recorded)
        missing = [n for n in names if n not in recorded]
        if missing:
            raise JudgeConfigError(f"replay: no recorded judge named {missing[0]!r} in this benchmark "
                                   f"(recorded: {sorted(recorded) or 'none'})")
        if not names:
            raise JudgeConfigError("replay: this benchmark has no recorded verdicts to replay")
        for n in names:
            for item_id, vs in recorded[n].items():
                if item_id in self._recorded:
                    continue
                self._recorded[item_id] = list(vs)
                self._raw[item_id] = recorded_raw.get(n, {}).get(item_id, "")
                self._source[item_id] = n

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        out = []
        for req in requests:
            vs = {v.rubric: v for v in self._recorded.get(req.item.item_id, [])}
            outcomes: list[Outcome] = []
            for rubric in req.prompt.rubrics:
                if rubric in vs:
                    outcomes.append(to_presented(vs[rubric], req.order))
                else:
                    outcomes.append(Failure("parse_fail", f"replay: no recorded verdict for rubric {rubric!r}",
                                            rubric))
            src = self._source.get(req.item.item_id, "")
            out.append(JudgeResult(raw=self._raw.get(req.item.item_id, ""), outcomes=outcomes,
                                   model=f"recorded:{src}" if src else "recorded"))
        return out
