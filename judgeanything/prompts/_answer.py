"""The answer format the prompts ask for: JSON keys, the JSON schema, and answers written in that format.

Keys (one pair per rubric, comment first):

* score: ``<rubric>_comment`` + ``<rubric>_score`` (integer 1–5, Judge Anything §3.2);
* pair: ``<rubric>_comment`` + ``<rubric>_choice`` (``"0"`` first better, ``"1"`` tie, ``"2"`` second better:
  the convention of the Judge Anything release);
* batch: ``<rubric>_comment`` + ``<rubric>_ranking`` (the responses' letters best first, e.g. ``"CADB"``,
  as in MLLM-as-a-Judge's batch ranking);
* rules: ``<rubric>_comment`` + ``<rubric>_violation`` (``"yes"`` the content violates the rule, ``"no"``).

:mod:`judgeanything.parsing` reads this format. The contract itself (key suffixes, batch letters, the pair
code) lives once, in :mod:`judgeanything.schema`; this module re-exports it and adds the JSON schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from judgeanything.schema import (
    ANSWER_SUFFIX,
    DEFAULT_SCORE_SCALE,
    LETTERS,
    PAIR_CHOICES,
    PAIR_CODE,
    RULE_VERDICTS,
    SETTINGS,
    LabelValue,
    ScoreScale,
    comment_key,
    pair_choice_to_judgeanything,
    ranking_to_letters,
    verdict_key,
)


def _verdict_schema(setting: str, n_responses: int, scale: ScoreScale = DEFAULT_SCORE_SCALE) -> dict[str, Any]:
    if setting == "score":
        if scale.labels:
            return {"type": "string", "enum": list(scale.labels),
                    "description": f"one of {', '.join(scale.labels)} (worst to best)"}
        if len(scale.values) > 20:  # a long enum is hard for structured-output engines; a range says the same
            return {"type": "integer", "minimum": scale.min, "maximum": scale.max,
                    "description": f"score from {scale.min} (worst) to {scale.max} (best)"}
        return {"type": "integer", "enum": list(scale.values),
                "description": f"score from {scale.min} (worst) to {scale.max} (best)"}
    if setting == "rules":
        return {"type": "string", "enum": list(RULE_VERDICTS),
                "description": '"yes" the content violates the rule (its statement is true of it), "no" it does not'}
    if setting == "pair":
        return {"type": "string", "enum": list(PAIR_CODE),
                "description": '"0" the first response is better, "1" tie, "2" the second response is better'}
    letters = LETTERS[:n_responses]
    # A regex cannot say "each letter once" without back-references, which structured-output engines
    # do not support; the parser checks that the ranking is a permutation.
    return {"type": "string", "pattern": f"^[{letters[0]}-{letters[-1]}]{{{n_responses}}}$",
            "description": f"the letters {letters} ordered best to worst, each exactly once"}


def output_schema(setting: str, rubrics: Sequence[str], n_responses: int = 2, *,
                  scale: ScoreScale = DEFAULT_SCORE_SCALE) -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of the answer a prompt asks for.

    An object with exactly the keys ``<rubric>_comment`` (string) and ``<rubric>_<suffix>`` for each rubric,
    in order, all required, no others (``additionalProperties: false``, as strict structured-output modes
    require). Verdict values: score ``integer`` enum 1..5; pair ``string`` enum ``"0"/"1"/"2"``; batch a
    ``string`` of ``n_responses`` letters.

    Raises:
        ValueError: unknown setting, no rubrics, repeated rubrics, or fewer than 2 (more than 26) batch
            responses.
    """
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; expected one of {', '.join(SETTINGS)}")
    if not rubrics:
        raise ValueError("at least one rubric is needed")
    if len(set(rubrics)) != len(rubrics):
        raise ValueError(f"rubrics repeat: {list(rubrics)}")
    if setting == "batch" and not 2 <= n_responses <= len(LETTERS):
        raise ValueError(f"batch ranking needs 2..{len(LETTERS)} responses, got {n_responses}")
    props: dict[str, Any] = {}
    for r in rubrics:
        props[comment_key(r)] = {"type": "string", "description": f"short justification for {r}"}
        props[verdict_key(setting, r)] = _verdict_schema(setting, n_responses, scale)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"judge_{setting}_answer",
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def render_answer(setting: str, values: Mapping[str, LabelValue], *, n_responses: int = 2,
                  comments: Mapping[str, str] | None = None, scale: ScoreScale = DEFAULT_SCORE_SCALE) -> str:
    """Write verdicts (internal convention, presentation orientation) as the JSON answer a prompt asks for.

    ``values`` maps rubric → score ``int`` / pair choice ``"first"|"tie"|"second"`` / batch ranking tuple
    of 0-based slots. The inverse of :func:`judgeanything.parsing.parse_output`; used by tests, demos and
    judges that fabricate answers (baselines).

    Raises:
        ValueError: a value that does not fit the setting.
    """
    out: dict[str, Any] = {}
    for rubric, v in values.items():
        out[comment_key(rubric)] = (comments or {}).get(rubric, "")
        if setting == "score":
            if isinstance(v, bool) or not isinstance(v, int) or not scale.min <= v <= scale.max:
                raise ValueError(f"{rubric}: score {v!r} is not an integer {scale.min}..{scale.max}")
            out[verdict_key(setting, rubric)] = scale.label(v) or v
        elif setting == "pair":
            if v not in PAIR_CHOICES:
                raise ValueError(f"{rubric}: pair choice {v!r} is not one of {PAIR_CHOICES}")
            out[verdict_key(setting, rubric)] = pair_choice_to_judgeanything(str(v))
        elif setting == "batch":
            if not isinstance(v, tuple) or sorted(v) != list(range(n_responses)):
                raise ValueError(f"{rubric}: ranking {v!r} is not a permutation of 0..{n_responses - 1}")
            out[verdict_key(setting, rubric)] = ranking_to_letters(v)
        elif setting == "rules":
            if v not in RULE_VERDICTS:
                raise ValueError(f"{rubric}: rule verdict {v!r} is not one of {RULE_VERDICTS}")
            out[verdict_key(setting, rubric)] = v
        else:
            raise ValueError(f"unknown setting {setting!r}; expected one of {', '.join(SETTINGS)}")
    return json.dumps(out, ensure_ascii=False)


__all__ = ["ANSWER_SUFFIX", "LETTERS", "comment_key", "output_schema", "render_answer", "verdict_key"]
