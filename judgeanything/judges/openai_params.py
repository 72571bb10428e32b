"""Per-model request shaping for OpenAI-compatible chat completions (reasoning models vs the rest).

OpenAI's reasoning models — the o-series (``o1``, ``o3``, ``o4-mini``…) and the GPT-5 family (``gpt-5``,
``gpt-5-mini``, ``gpt-5.1``…; not ``gpt-5-chat-*``, which is a chat model) — reject parameters that every
other chat model takes (OpenAI API reference, "Reasoning models"):

* ``max_tokens`` → they take ``max_completion_tokens`` (a budget that also covers the hidden reasoning
  tokens, so give them more than a chat model needs);
* ``temperature`` / ``top_p`` other than the default 1 → ``unsupported_value``; they are left out;
* ``logprobs`` / ``top_logprobs`` → not supported, so token-probability verdicts cannot use them;
* ``reasoning_effort`` (``minimal`` / ``low`` / ``medium`` / ``high``…) is theirs alone.

:func:`request_shape` decides from the model id (provider prefixes such as ``openai/`` are ignored) or
from an explicit ``reasoning`` setting; :func:`apply_shape` rewrites a request body accordingly. When a
server still rejects a parameter, :func:`rejected_parameter` recognises the 400 and
:class:`UnsupportedParameterError` (a :class:`JudgeConfigError`, so the run stops with the message instead
of recording the same ``api_error`` for every unit and retrying it on every resume) names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from judgeanything.judges.base import JudgeConfigError

#: Model ids (after any ``provider/`` prefix) of reasoning models.
REASONING_MODEL_RE = re.compile(r"^(o\d+(-[\w.-]*)?|gpt-5(?![\w.-]*-chat)[\w.-]*)$", re.IGNORECASE)
#: Values of ``reasoning_effort`` the OpenAI API documents (``none`` for gpt-5.1, ``xhigh`` for later ones).
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
_TOO_MANY_LOGPROBS = re.compile(r"logprobs.{0,40}(greater than|exceeds?|more than|at most|max)", re.IGNORECASE)
#: Error codes OpenAI gives a request parameter the model does not take.
REJECTION_CODES = ("unsupported_parameter", "unsupported_value")


class UnsupportedParameterError(JudgeConfigError):
    """The server rejected a request parameter for this model (HTTP 400 ``unsupported_parameter`` /
    ``unsupported_value``). Every request would fail alike, so the run stops.

    Attributes:
        param: the parameter the server named (``"max_tokens"``, ``"temperature"``…), or ``""``.
    """

    def __init__(self, model: str, param: str, message: str) -> None:
        self.param = param
        if param in VALUE_HINTS and "unsupported value" in message.lower():
            hint = VALUE_HINTS[param]  # the parameter is taken, this value of it is not
        else:
            hint = HINTS.get(param, "remove it from judge.extra_body or the judge config")
        what = f"parameter {param!r}" if param else "a parameter"
        super().__init__(f"openai judge: the server rejects {what} for model {model!r} ({message}); {hint}")


#: What to do when a parameter is taken but not the value sent (``unsupported_value``).
VALUE_HINTS: dict[str, str] = {
    "reasoning_effort": "the model takes another reasoning_effort: set judge.reasoning_effort to one it lists "
                        "(or null)",
    "temperature": "set judge.reasoning=true (sends no temperature) or judge.sampling.temperature=1",
}

#: What to do about each commonly rejected parameter.
HINTS: dict[str, str] = {
    "max_tokens": "a reasoning model: set judge.reasoning=true (sends max_completion_tokens)",
    "temperature": "set judge.reasoning=true (sends no temperature) or judge.sampling.temperature=null",
    "top_p": "set judge.reasoning=true or judge.sampling.top_p=null",
    "max_completion_tokens": "an older server or model: set judge.reasoning=false (sends max_tokens)",
    "reasoning_effort": "not a reasoning model: set judge.reasoning_effort=null",
    "logprobs": "the model gives no token probabilities: use judge.verdict=generate",
    "top_logprobs": "lower judge.top_logprobs (vLLM allows --max-logprobs, default 20) or use judge.verdict=generate",
    "seed": "set judge.sampling.seed=null",
    "response_format": "set judge.response_format=none",
}


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` names an OpenAI reasoning model (``o3-mini``, ``openai/gpt-5-mini`` → True;
    ``gpt-4o``, ``gpt-5-chat-latest``, ``Qwen/Qwen2.5-VL-7B`` → False)."""
    return bool(REASONING_MODEL_RE.match(model.rsplit("/", 1)[-1].strip()))


@dataclass(frozen=True)
class RequestShape:
    """How requests to one model are shaped.

    ``reasoning``: send ``max_completion_tokens``, no ``temperature`` / ``top_p``; ``reasoning_effort``:
    sent when set; ``detected``: whether ``reasoning`` came from the model id (else from config).
    """

    reasoning: bool
    reasoning_effort: str | None = None
    detected: bool = False

    def note(self, model: str) -> str | None:
        """A line for the run's report, or None for a plain chat model."""
        if not self.reasoning:
            return None
        how = "detected from the model id" if self.detected else "set by judge.reasoning"
        effort = f", reasoning_effort={self.reasoning_effort}" if self.reasoning_effort else ""
        return (f"{model} treated as a reasoning model ({how}): max_completion_tokens sent, temperature/top_p "
                f"left at the provider's default{effort}")


def request_shape(model: str, reasoning: bool | None = None, reasoning_effort: str | None = None) -> RequestShape:
    """The shape of requests to ``model``.

    Args:
        model: the served model id.
        reasoning: ``None`` = detect from the id (:func:`is_reasoning_model`); ``True`` / ``False`` force it.
        reasoning_effort: one of :data:`REASONING_EFFORTS`, or ``None`` (the provider's default).

    Raises:
        JudgeConfigError: an unknown ``reasoning_effort``, or one given for a model that is not a reasoning
            model (the server would reject it on every request).
    """
    detected = reasoning is None
    is_reasoning = is_reasoning_model(model) if reasoning is None else bool(reasoning)
    if reasoning_effort is not None:
        if str(reasoning_effort) not in REASONING_EFFORTS:
            raise JudgeConfigError(f"openai judge: reasoning_effort {reasoning_effort!r} is not one of "
                                   f"{', '.join(REASONING_EFFORTS)}")
        if not is_reasoning:
            raise JudgeConfigError(f"openai judge: reasoning_effort is set but {model!r} is not a reasoning "
                                   "model; set judge.reasoning=true if it is one")
    return RequestShape(is_reasoning, None if reasoning_effort is None else str(reasoning_effort), detected)


#: Sampling fields a reasoning model does not take, with the one value each may keep (sent as nothing).
REASONING_DROPS: dict[str, tuple[float | None, ...]] = {
    "temperature": (None, 0.0, 1.0),  # 0 is the judges' greedy default; the model decodes its own way
    "top_p": (None, 1.0),
    "frequency_penalty": (None, 0.0),
    "presence_penalty": (None, 0.0),
}


def check_sampling(shape: RequestShape, sampling: Mapping[str, Any], model: str) -> None:
    """Refuse sampling options a reasoning model would silently not get.

    ``sampling``: field → value (e.g. ``SamplingConfig.fingerprint()``). Greedy ``temperature: 0`` (the
    default) is allowed and simply not sent.

    Raises:
        JudgeConfigError: a reasoning model with, e.g., ``temperature=0.7`` or ``top_p=0.9``.
    """
    if not shape.reasoning:
        return
    for name, allowed in REASONING_DROPS.items():
        v = sampling.get(name)
        if v not in allowed:
            raise JudgeConfigError(f"openai judge: {model!r} is a reasoning model, which takes no {name}; "
                                   f"judge.sampling.{name}={v!r} would not be sent — set it to null "
                                   "(or judge.reasoning=false if the model is not a reasoning model)")


def apply_shape(body: dict[str, Any], shape: RequestShape) -> dict[str, Any]:
    """Rewrite a chat-completions body (as built for a chat model) for ``shape``; returns ``body``.

    A reasoning model gets ``max_completion_tokens`` instead of ``max_tokens``, none of
    :data:`REASONING_DROPS` (check them first with :func:`check_sampling`), and ``reasoning_effort`` when set.
    """
    if not shape.reasoning:
        return body
    if "max_tokens" in body:
        body["max_completion_tokens"] = body.pop("max_tokens")
    for name in REASONING_DROPS:
        body.pop(name, None)
    if shape.reasoning_effort is not None:
        body["reasoning_effort"] = shape.reasoning_effort
    return body


def rejected_parameter(status: int, body: Any, message: str) -> str | None:
    """The parameter a 400 response rejects, or None when the error is something else.

    Reads OpenAI's error object (``{"code": "unsupported_parameter", "param": "max_tokens", ...}``, given
    as ``body``: the SDK's ``e.body``, either that object or ``{"error": {...}}``); proxies that drop
    ``code`` are recognised by the message (``"Unsupported parameter: 'max_tokens' is not supported…"``).
    Returns ``""`` when the error is a rejection but names no parameter.
    """
    if status != 400:
        return None
    err = body.get("error", body) if isinstance(body, dict) else {}
    err = err if isinstance(err, dict) else {}
    code = str(err.get("code") or "")
    text = str(err.get("message") or message or "")
    m = re.match(r"\s*Unsupported (?:parameter|value):\s*'([^']+)'", text)
    if code not in REJECTION_CODES and not m:
        # vLLM / SGLang refuse more alternatives than the server was started with, for every request alike
        # ("Requested sample logprobs of 20, which is greater than max allowed: 5")
        return "top_logprobs" if _TOO_MANY_LOGPROBS.search(text) else None
    param = err.get("param")
    return str(param) if param else (m.group(1) if m else "")


__all__ = ["HINTS", "REASONING_DROPS", "REASONING_EFFORTS", "REASONING_MODEL_RE", "VALUE_HINTS", "RequestShape",
           "UnsupportedParameterError", "apply_shape", "check_sampling", "is_reasoning_model", "rejected_parameter",
           "request_shape"]
