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

**Prefill** (``judge.logprob_prefill=true``, for vLLM / SGLang, which continue a final assistant message with
``continue_final_message``): exactly the ``hf`` judge's method. One request per rubric, the assistant turn
prefilled with the answer JSON up to the verdict (:func:`.hf_logprob.prefill`: ``{"overall_choice": "``),
``max_tokens=1``; the one generated token's alternatives are the next-token distribution over the candidates;
later rubrics' prefills carry the earlier rubrics' argmax verdicts (:func:`prefill_verdicts`). OpenAI's API
does not continue assistant messages, so there use the default.

A server that returns no ``logprobs`` (OpenAI's reasoning models, ``transformers serve``, Gemini's compatible
endpoint) makes every unit unreadable: :class:`~.token_verdicts.NoLogprobsError` (a config error) stops the
run (:func:`.token_verdicts.with_token_verdicts`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from judgeanything.judges.base import JudgeResult
from judgeanything.judges.hf_logprob import closed_answer, prefill
from judgeanything.judges.token_verdicts import (
    NoLogprobsError,
    StreamToken,
    TokenVerdict,
    UnusableLogits,
    candidate_logprobs,
    candidates_for,
    comments,
    read_token_verdicts,
    read_verdict,
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



#: The request fields that make vLLM / SGLang continue the prefilled assistant message instead of starting a new one.
CONTINUE_FIELDS = {"continue_final_message": True, "add_generation_prompt": False}


async def prefill_verdicts(body: Mapping[str, Any], setting: str, rubrics: Sequence[str], top_logprobs: int,
                           complete: Callable[[dict[str, Any]], Awaitable[Any]], *, who: str) -> JudgeResult:
    """Token-probability verdicts by prefill, one request per rubric (see the module docstring).

    ``body``: the request as built for the answer (its messages are kept; ``response_format`` is dropped:
    a grammar would restart at the prefill); ``complete``: sends one body, returns the chat completion.

    Raises:
        NoLogprobsError: the server answered without logprobs.
        Whatever ``complete`` raises (the judge turns transport and status faults into ``api_error``).
    """
    answers: list[tuple[str, str]] = []
    readings: list[TokenVerdict] = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    model = ""
    for rubric in rubrics:
        req = {k: v for k, v in body.items() if k not in ("response_format", "max_tokens", "max_completion_tokens")}
        req["messages"] = [*body["messages"], {"role": "assistant", "content": prefill(setting, rubric, answers)}]
        req.update(max_tokens=1, logprobs=True, top_logprobs=int(top_logprobs))
        req["extra_body"] = {**dict(body.get("extra_body") or {}), **CONTINUE_FIELDS}
        resp = await complete(req)
        for k in usage:
            usage[k] += int(getattr(resp.usage, k, 0) or 0) if resp.usage is not None else 0
        model = resp.model or model
        stream = token_stream(getattr(resp.choices[0], "logprobs", None))
        if not stream:
            raise NoLogprobsError(f"{who}: the server returned no logprobs although they were asked for; use "
                                  "judge.verdict=generate (or a server that returns them, e.g. vLLM)")
        lp = candidate_logprobs(stream[0], "", list(candidates_for(setting)))
        try:
            if all(v == float("-inf") for v in lp.values()):
                raise UnusableLogits(f"no candidate among the top {top_logprobs} tokens after the {rubric} prefill")
            reading = read_verdict(setting, rubric, lp, 0.0)
        except UnusableLogits as e:  # the parser then reads (and fails on) the text alone
            return JudgeResult(raw=closed_answer(setting, answers) if answers else stream[0].token,
                               finish_reason="stop", usage=usage, model=model,
                               extra={"verdict_mode": "logprob", "logprob_prefill": True, "logprob_unread": str(e)})
        readings.append(reading)
        answers.append((rubric, reading.token))
    return JudgeResult(raw=closed_answer(setting, answers), finish_reason="stop", usage=usage, model=model,
                       outcomes=[r.verdict for r in readings],
                       extra={"verdict_mode": "logprob", "logprob_prefill": True,
                              "candidate_mass": {r.verdict.rubric: r.mass for r in readings}})

__all__ = [
    "CONTINUE_FIELDS",
    "READER_VERSION",
    "NoLogprobsError",
    "StreamToken",
    "comments",
    "prefill_verdicts",
    "read_token_verdicts",
    "shape_request",
    "token_stream",
]  # StreamToken, comments, read_token_verdicts: re-exported from token_verdicts
