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
   ``choices[0].logprobs.content`` (:func:`.token_verdicts.read_token_verdicts`); its alternatives that
   spell a candidate at the same position (``"2`` and ``2"`` and ``2`` all spell ``2`` after the same
   prefix) are summed per candidate; a candidate absent from the top ``k`` has probability 0;
3. the candidates' probabilities are renormalised and turned into a verdict by the same reader as the ``hf``
   judge (:func:`.token_verdicts.read_verdict`: ``probs``, ``expected`` for scores, the argmax).

A server that returns no ``logprobs`` (OpenAI's reasoning models, ``transformers serve``, Gemini's compatible
endpoint) makes every unit unreadable: :class:`~.token_verdicts.NoLogprobsError` (a config error) stops the
run (:func:`.token_verdicts.with_token_verdicts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from judgeanything.judges.token_verdicts import (
    NoLogprobsError,
    StreamToken,
    comments,
    read_token_verdicts,
    verdict_only_schema,
)

#: Recorded in the judge's fingerprint: change it when requests or the reading change.
READER_VERSION = "api-top-logprobs-v1"
#: Tokens allowed per rubric for a verdict-only JSON answer (key, value, punctuation), plus the braces.
TOKENS_PER_RUBRIC, TOKENS_BASE = 12, 8


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
        fmt["json_schema"] = {**fmt["json_schema"], "schema": verdict_only_schema(output_schema, setting, rubrics)}
        need = TOKENS_BASE + TOKENS_PER_RUBRIC * len(rubrics)
        body["max_tokens"] = min(int(body.get("max_tokens") or need), need)
    return body


__all__ = ["READER_VERSION", "NoLogprobsError", "StreamToken", "comments", "read_token_verdicts", "shape_request",
           "token_stream"]  # StreamToken, comments, read_token_verdicts: re-exported from token_verdicts
