"""Token-probability verdicts from an OpenAI-compatible API (``judge=openai judge.verdict=logprob``).

The ``hf`` judge reads candidate probabilities from its own logits after a prefill (:mod:`.hf_logprob`); an API
gives no logits but returns, with ``logprobs=true, top_logprobs=k``, each generated token's log-probability
and its ``k`` most likely alternatives (OpenAI, vLLM, SGLang). So:

1. the request asks for them (:func:`shape_request`). With ``response_format=json_schema`` the schema keeps
   only the verdict keys (``{"overall_choice": "2"}``, no comments) and ``max_tokens`` is cut to a few
   tokens per rubric: the verdict is read without a written justification before it, as with the ``hf``
   judge's prefill. Otherwise the model writes its usual answer and the verdicts are read where they stand;
2. for each rubric, the token carrying the verdict value — the first character after
   ``"<rubric>_choice": "`` or ``"<rubric>_score": `` in the generated text — is located in
   ``choices[0].logprobs.content`` (:func:`read_token_verdicts`); its alternatives that spell a candidate at
   the same position (``"2`` and ``2"`` and ``2`` all spell ``2`` after the same prefix) are summed per
   candidate; a candidate absent from the top ``k`` has probability 0;
3. the candidates' probabilities are renormalised and turned into a verdict by the same reader as the ``hf``
   judge (:func:`.token_verdicts.read_verdict`: ``probs``, ``expected`` for scores, the argmax).

A server that returns no ``logprobs`` (OpenAI's reasoning models, ``transformers serve``, Gemini's compatible
endpoint) makes every unit unreadable: :class:`NoLogprobsError` (a config error) stops the run.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judgeanything.judges.base import JudgeConfigError
from judgeanything.judges.token_verdicts import TokenVerdict, answer_key, candidates_for, read_verdict
from judgeanything.schema import comment_key

#: Recorded in the judge's fingerprint: change it when requests or the reading change.
READER_VERSION = "api-top-logprobs-v1"
#: Tokens allowed per rubric for a verdict-only JSON answer (key, value, punctuation), plus the braces.
TOKENS_PER_RUBRIC, TOKENS_BASE = 12, 8


class NoLogprobsError(JudgeConfigError):
    """The server answered without ``logprobs``: token-probability verdicts cannot be read from it."""


@dataclass(frozen=True)
class StreamToken:
    """One generated token: its text, log-probability, and the top alternatives ``(text, logprob)``."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...]


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def token_stream(logprobs: Any) -> list[StreamToken] | None:
    """``choices[0].logprobs`` (the SDK's object, or a dict) as tokens; None when the server sent none."""
    content = _get(logprobs, "content") if logprobs is not None else None
    if not content:
        return None
    out = []
    for t in content:
        top = tuple((str(_get(a, "token")), float(_get(a, "logprob"))) for a in (_get(t, "top_logprobs") or []))
        out.append(StreamToken(str(_get(t, "token")), float(_get(t, "logprob")), top))
    return out


def shape_request(body: dict[str, Any], setting: str, rubrics: Sequence[str], output_schema: Mapping[str, Any],
                  top_logprobs: int) -> dict[str, Any]:
    """Ask for log-probabilities; with a ``json_schema`` response format, ask for the verdict keys only and
    cut ``max_tokens`` to what they need. Returns ``body``."""
    body["logprobs"] = True
    body["top_logprobs"] = int(top_logprobs)
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema" and output_schema.get("properties"):
        keys = [answer_key(setting, r) for r in rubrics]
        props = {k: v for k, v in output_schema["properties"].items() if k in keys}
        fmt["json_schema"] = {**fmt["json_schema"], "schema": {
            "type": "object", "properties": props, "required": list(props), "additionalProperties": False}}
        need = TOKENS_BASE + TOKENS_PER_RUBRIC * len(rubrics)
        body["max_tokens"] = min(int(body.get("max_tokens") or need), need)
    return body


def _candidate_after(alt: str, prefix: str, candidates: Sequence[str]) -> str | None:
    """The candidate ``alt`` spells right after ``prefix`` (``"2"`` in ``' "2'`` after ``' "'``), or None; a
    digit run longer than the candidate (``"45"``) is no candidate."""
    if not alt.startswith(prefix):
        return None
    rest = alt[len(prefix):]
    for c in sorted(candidates, key=len, reverse=True):
        if rest.startswith(c) and (len(rest) == len(c) or not rest[len(c)].isdigit()):
            return c
    return None


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def read_token_verdicts(stream: Sequence[StreamToken], setting: str,
                        rubrics: Sequence[str]) -> tuple[list[TokenVerdict], str | None]:
    """Each rubric's verdict from the token that carries it (see the module docstring).

    Returns ``(readings, None)``, or ``([], why)`` when a rubric's verdict is not in the answer or is not a
    candidate (the caller then leaves the text to the parser, which records what is wrong with it).
    """
    text = "".join(t.token for t in stream)
    starts = [0]
    for t in stream:
        starts.append(starts[-1] + len(t.token))
    candidates = list(candidates_for(setting))
    readings: list[TokenVerdict] = []
    for rubric in rubrics:
        key = answer_key(setting, rubric)
        m = re.search(re.escape(json.dumps(key)) + r'\s*:\s*"?', text)
        if m is None or m.end() >= len(text):
            return [], f"no {key} value in the answer"
        v = m.end()
        i = bisect.bisect_right(starts, v) - 1
        tok = stream[i]
        prefix = text[starts[i]:v]
        chosen = _candidate_after(tok.token, prefix, candidates)
        if chosen is None:
            return [], f"{key}: the answer's value {text[v:v + 4]!r} is not one of {', '.join(candidates)}"
        alts = dict(tok.top)
        alts.setdefault(tok.token, tok.logprob)  # top_logprobs=0 servers list no alternatives
        lp = dict.fromkeys(candidates, -math.inf)
        for alt, logprob in alts.items():
            c = _candidate_after(alt, prefix, candidates)
            if c is not None:
                lp[c] = _logaddexp(lp[c], logprob)
        readings.append(read_verdict(setting, rubric, lp, 0.0))
    return readings, None


def comments(raw: str, rubrics: Sequence[str]) -> dict[str, str]:
    """The ``<rubric>_comment`` fields of an answer that is a JSON object (else none)."""
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return {}
    if not isinstance(obj, dict):
        return {}
    return {r: str(obj[comment_key(r)]) for r in rubrics if isinstance(obj.get(comment_key(r)), str)}


__all__ = ["READER_VERSION", "NoLogprobsError", "StreamToken", "comments", "read_token_verdicts", "shape_request",
           "token_stream"]
