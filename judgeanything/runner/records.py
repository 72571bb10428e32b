"""The run-log record of one judged unit (:class:`judgeanything.store.RunRecord`).

Every outcome is stored in dataset orientation (:func:`~judgeanything.orders.to_dataset_orientation`); raw text
a judge returned is read here by :func:`~judgeanything.parsing.parse_output` unless the judge gave structured
outcomes itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from judgeanything.judges.base import JudgeRequest, JudgeResult
from judgeanything.orders import to_dataset_orientation
from judgeanything.parsing import parse_output
from judgeanything.runner.rundir import now
from judgeanything.runner.units import Unit
from judgeanything.schema import Failure, Outcome, item_content_hash
from judgeanything.store import RunRecord, cap_text, check_usage


def failure_record(unit: Unit, f: Failure, *, mode: str, rubrics: Sequence[str], judge: str,
                   prompt_version: str) -> RunRecord:
    """The record of a unit that never reached the judge (its media could not be used): ``f`` per rubric."""
    item = unit.item
    return RunRecord(
        key=unit.key, item_id=item.item_id, item_content=unit.content or item_content_hash(item),
        task_name=item.query.task_name, setting=item.setting, mode=mode, rubrics=tuple(rubrics), order=unit.order,
        repeat=unit.repeat, judge=judge, prompt_version=prompt_version, attempt=unit.attempt,
        outcomes=tuple(Failure(f.kind, f.detail, r) for r in rubrics), raw="", finish_reason=None, usage={},
        latency_s=0.0, model="", ts=now())


def result_outcomes(unit: Unit, req: JudgeRequest, res: JudgeResult, *, parse: str = "auto") -> list[Outcome]:
    """The per-rubric outcomes of a judge's result, in dataset orientation: the whole-request failure for every
    rubric, the judge's structured outcomes, or its raw text parsed with strategy ``parse``
    (:data:`judgeanything.parsing.STRATEGIES`)."""
    rubrics = list(req.prompt.rubrics)
    if res.failure is not None:
        outcomes: list[Outcome] = [Failure(res.failure.kind, res.failure.detail, r) for r in rubrics]
    elif res.outcomes is not None:
        outcomes = list(res.outcomes)
    else:
        outcomes = parse_output(res.raw, unit.item.setting, rubrics, n_responses=len(unit.item.responses),
                                finish_reason=res.finish_reason, strategy=parse, scale=req.prompt.scale,
                                n_steps=len(getattr(unit.item, "steps", ())))
    return [to_dataset_orientation(o, unit.order) for o in outcomes]


def result_record(unit: Unit, req: JudgeRequest, res: JudgeResult, *, mode: str, rubrics: Sequence[str],
                  judge: str, parse: str = "auto", max_raw_chars: int | None = None) -> RunRecord:
    """The record of a unit the judge answered (``parse``: the parsing strategy for raw text, which is read in
    full and then stored capped at ``max_raw_chars`` by :func:`judgeanything.store.cap_text`). Token counts that
    cannot be true are kept apart as ``usage_invalid`` (:func:`judgeanything.store.check_usage`)."""
    item = unit.item
    raw, cut = cap_text(res.raw, max_raw_chars)
    usage, impossible = check_usage(res.usage)
    return RunRecord(
        key=unit.key, item_id=item.item_id, item_content=unit.content or item_content_hash(item),
        task_name=item.query.task_name, setting=item.setting, mode=mode, rubrics=tuple(rubrics), order=unit.order,
        repeat=unit.repeat, judge=judge, prompt_version=req.prompt.version, attempt=unit.attempt,
        outcomes=tuple(result_outcomes(unit, req, res, parse=parse)), raw=raw, raw_chars=cut.get("raw_chars"),
        raw_cap=cut.get("raw_cap"), usage_invalid=impossible or None, finish_reason=res.finish_reason,
        usage=usage, latency_s=round(res.latency_s, 6), model=res.model, media=tuple(req.meta.get("media", ())),
        downgrades=tuple(req.meta.get("downgrades", ())), ts=now(), extra=res.extra or None)


__all__ = ["failure_record", "result_outcomes", "result_record"]
