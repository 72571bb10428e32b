"""Read a judge's raw output into one verdict or failure per requested rubric (docs/parsing.md).

:func:`parse_output` returns verdicts in *presentation* orientation (the runner maps them back to dataset
order): pair ``"first"|"tie"|"second"``, score an ``int`` on the :class:`~judgeanything.schema.ScoreScale`
(1–5 by default), batch a tuple of 0-based presented slots, best first. Anything that cannot be read is a
:class:`~judgeanything.schema.Failure` with a short ``detail`` of what was seen, never a default score.

Strategies (``judge.parse``), each recorded on every outcome as ``parsed_by`` (``<strategy>/<rule>``):

* ``strict`` (:mod:`~judgeanything.parsing.strict`): the output is the JSON answer of the prompt's
  contract (:func:`judgeanything.schema.verdict_key`, the 0/1/2 pair code), nothing else is read;
* ``lenient`` (:mod:`~judgeanything.parsing.lenient`): any JSON object with a verdict key, else prose
  anchors (``[[A]]``, ``Score — 4``, ``Response 2 is better``), for recorded or non-compliant judges;
* ``auto`` (default): ``strict`` when it reads every rubric, else ``lenient``.

Common to all: reasoning blocks (``<think>…</think>``, also unclosed or only closed) are removed first.
When the backend reports a token-limit stop (``finish_reason`` in :data:`TRUNCATION_REASONS` or another spelling
of it, :func:`is_token_limit`), only a
*complete structured answer* counts — a JSON object holding the verdict key, or a verdict key-value pair
written to its end before the cut (rule ``limit/json`` / ``limit/json-prefix``); everything else is
``truncated``, since a statement in cut-off prose ("I would give it a 5 if the") is not a verdict. Nothing
found otherwise → ``refusal`` (an apology / "I can't" answer) or ``parse_fail``.

Values are never rescaled: ``8/10`` on a 1–5 scale is ``out_of_range``; a bare run of digits such as
``2141342145`` (seen in MLLM-as-a-Judge's recorded score outputs) and a range or alternatives (``3-4``,
``3 or 4``) are ``parse_fail``. Pair letters: ``A`` = first, ``B`` = second, and ``C`` means a tie only
inside ``[[C]]``. Pair digits follow the prompt's pair code (``0`` first better, ``1`` tie, ``2`` second
better) where the output uses the prompt's ``choice`` key; elsewhere a lone ``1`` (Response 1, or tie?) is
ambiguous and fails.

This package imports only :mod:`judgeanything.schema`.
"""

from __future__ import annotations

import re as _re
from collections.abc import Sequence
from typing import Literal

from judgeanything.parsing import lenient, strict
from judgeanything.parsing._common import (
    TRUNCATION_REASONS,
    Reading,
    is_token_limit,
    normalise,
    snip,
    strip_reasoning,
)
from judgeanything.parsing._values import reader_for
from judgeanything.schema import (
    ANSWER_SUFFIX,
    DEFAULT_SCORE_SCALE,
    INCORRECT,
    OVERALL,
    SETTINGS,
    Failure,
    FailureKind,
    Outcome,
    ScoreScale,
    Verdict,
)

Strategy = Literal["strict", "lenient", "auto"]
#: The parsing strategies a judge config may name (``judge.parse``).
STRATEGIES: tuple[str, ...] = ("auto", "strict", "lenient")
#: ``parsed_by`` prefix of verdicts read by the strict strategy (the strict-parse rate counts these).
STRICT = "strict"

_REFUSAL = _re.compile(
    r"\b(?:i['’]?m\s+sorry|i\s+am\s+sorry|i\s+apologi[sz]e"
    r"|i\s+(?:can(?:not|['’]t)|am\s+(?:not\s+able|unable)|won['’]t|will\s+not|must\s+decline)"
    r"\s+(?:to\s+)?(?:help|assist|comply|provide|do\s+that|evaluate|compare|judge|rate|rank|fulfil|complete)"
    r"|as\s+an\s+ai\b[^.]{0,60}\b(?:cannot|can['’]t|unable))",
    _re.I)


def check_strategy(name: str) -> str:
    """``name`` if it is a known strategy.

    Raises:
        ValueError: an unknown strategy name (the message lists the known ones).
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown parse strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
    return name


def parse_output(raw: str, setting: str, rubrics: Sequence[str], *, n_responses: int = 2,
                 finish_reason: str | None = None, strategy: str = "auto",
                 scale: ScoreScale = DEFAULT_SCORE_SCALE, n_steps: int = 0) -> list[Outcome]:
    """Read a judge's raw text into exactly one Verdict or Failure per rubric, in ``rubrics`` order.

    Args:
        raw: the judge's text, verbatim.
        setting: ``score`` / ``pair`` / ``batch``.
        rubrics: the rubrics the prompt asked for (``("overall",)`` in overall mode).
        n_responses: responses shown (batch rankings must be permutations of ``range(n_responses)``; 0 in the
            rules setting, whose yes/no verdict is about a claim).
        finish_reason: the backend's stop reason; a token-limit stop (:data:`TRUNCATION_REASONS`) lets only
            complete structured answers count, anything else is ``truncated``.
        strategy: ``auto`` / ``strict`` / ``lenient`` (see the module docstring).
        scale: the score scale (score setting).
        n_steps: the solution's steps (process setting, whose answer is read per step by
            :func:`judgeanything.parsing.process.parse_process`: one Verdict with ``steps`` and ``value`` the
            first incorrect step, 0 for none).

    Returns:
        ``Verdict(rubric, value, comment, parsed_by=...)`` with value ``int`` on ``scale`` (score),
        ``"first"|"tie"|"second"`` (pair, presentation order) or a tuple of 0-based presented slots best
        first (batch); or ``Failure(kind, detail, rubric, parsed_by=...)`` with kind ``parse_fail``,
        ``out_of_range``, ``truncated`` or ``refusal``.

    Raises:
        ValueError: unknown setting or strategy, no rubrics, or ``n_responses`` out of 1..26 (2..26 for
            batch).
    """
    if setting == "process":  # per-step verdicts: their own reader (judgeanything/parsing/process.py)
        return _process_outcomes(raw, rubrics, n_steps, finish_reason)
    _check_args(setting, rubrics, n_responses, strategy)
    hit_limit = is_token_limit(finish_reason)
    raw = raw or ""
    text = strip_reasoning(raw)
    if not text:
        if hit_limit:
            detail = "stopped at the token limit" + (" inside a reasoning block" if raw.strip() else "")
            return [Failure("truncated", detail, r, parsed_by=strategy) for r in rubrics]
        detail = "empty output" if not raw.strip() else f"only reasoning, no answer ({len(raw)} chars)"
        return [Failure("parse_fail", detail, r, parsed_by=strategy) for r in rubrics]
    rd = reader_for(setting, n_responses, scale)
    if hit_limit:
        readings, comments = strict.complete_answers(text, rubrics, rd)
        return _outcomes(rubrics, readings, comments, "limit", _why_unanswered(text, True, False, False))
    if strategy in ("strict", "auto"):
        readings, comments = strict.read(text, setting, rubrics, n_responses, scale)
        if strategy == "strict" or all(r is not None and r.kind == "ok" for r in readings.values()):
            found = any(r is not None for r in readings.values())
            return _outcomes(rubrics, readings, comments, STRICT, _why_not_strict(text, setting, found))
    got = lenient.read(text, rubrics, rd)
    why = _why_unanswered(text, False, got.had_json, got.writing_json)
    return _outcomes(rubrics, got.readings, got.comments, "lenient", why, got.had_json)


def _process_outcomes(raw: str, rubrics: Sequence[str], n_steps: int, finish_reason: str | None) -> list[Outcome]:
    from judgeanything.parsing.process import parse_process

    if list(rubrics) != [OVERALL] or n_steps < 1:
        raise ValueError(f"process answers have one rubric, overall, and at least one step; got {list(rubrics)}, "
                         f"n_steps={n_steps}")
    got = parse_process(raw, n_steps, finish_reason=finish_reason)
    if got.failure is not None:
        return [got.failure]
    first = next((i + 1 for i, (v, _) in enumerate(got.steps) if v == INCORRECT), 0)
    return [Verdict(OVERALL, first, "", parsed_by=got.rule, steps=got.steps)]


def _check_args(setting: str, rubrics: Sequence[str], n_responses: int, strategy: str) -> None:
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; expected one of {', '.join(SETTINGS)}")
    if isinstance(rubrics, str) or not rubrics:
        raise ValueError(f"rubrics must be a non-empty sequence of names, got {rubrics!r}")
    if not {"batch": 2, "rules": 0}.get(setting, 1) <= n_responses <= 26:  # rules: a claim, no responses
        raise ValueError(f"n_responses={n_responses} is out of range for setting {setting!r}")
    check_strategy(strategy)


def _outcomes(rubrics: Sequence[str], readings: dict[str, Reading | None], comments: dict[str, str],
              strategy: str, unanswered: tuple[FailureKind, str], had_json: bool = False) -> list[Outcome]:
    out: list[Outcome] = []
    for r in rubrics:
        got = readings[r]
        if got is None:
            kind, detail = unanswered
            if had_json:
                detail = f"JSON answer has no verdict key for {r!r}; {detail}"
            out.append(Failure(kind, detail, r, parsed_by=strategy))
        elif got.kind == "ok":
            out.append(Verdict(r, got.value, comments[r], parsed_by=f"{strategy}/{got.rule or 'text'}"))
        else:
            out.append(Failure("out_of_range" if got.kind == "out_of_range" else "parse_fail", got.detail, r,
                               parsed_by=strategy))
    return out


def _why_not_strict(text: str, setting: str, found: bool) -> tuple[FailureKind, str]:
    if found:
        return "parse_fail", "the JSON answer lacks this rubric's key"
    if _REFUSAL.search(text[:600]):
        return "refusal", f"refused: {snip(text)}"
    return "parse_fail", (f"not the JSON answer the prompt asks for ({ANSWER_SUFFIX[setting]} keys; strict "
                          f"parsing) in {len(text)} chars: {snip(text)}")


def _why_unanswered(text: str, hit_limit: bool, had_json: bool, writing_json: bool) -> tuple[FailureKind, str]:
    if hit_limit:
        return "truncated", (f"stopped at the token limit before a complete structured answer; ends with "
                             f"{snip(text[-140:])}")
    if not had_json and _REFUSAL.search(normalise(text[:600])):
        return "refusal", f"refused: {snip(text)}"
    hint = " (a JSON object that never closes; output may be cut off)" if writing_json else ""
    return "parse_fail", f"no verdict found{hint} in {len(text)} chars: {snip(text)}"


__all__ = ["STRATEGIES", "STRICT", "TRUNCATION_REASONS", "ScoreScale", "Strategy", "check_strategy", "is_token_limit",
           "parse_output", "strip_reasoning"]
