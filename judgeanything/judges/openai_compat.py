"""``openai``: any OpenAI-compatible chat-completions server through the official ``openai`` SDK.

Works with OpenAI, vLLM / SGLang servers, Ollama, OpenRouter, Gemini's compatible endpoint and
``transformers serve``. The API key is read from the environment variable *named* in the config
(``api_key_env``); the key itself never enters a config, a log or a report. Transient faults (rate
limits, timeouts, connection errors, 5xx) are retried with exponential backoff and jitter (tenacity);
anything else becomes an ``api_error`` failure for that request only.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlparse

import openai
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.judges.capabilities import validate_downgrades
from judgeanything.judges.openai_params import (
    UnsupportedParameterError,
    apply_shape,
    check_sampling,
    rejected_parameter,
    request_shape,
)
from judgeanything.judges.openai_payload import chat_messages
from judgeanything.judges.sampling import SamplingConfig
from judgeanything.schema import Failure

#: Errors worth retrying: the server or network may recover.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    openai.RateLimitError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.InternalServerError,
)

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


class OpenAIJudge(Judge):
    """A judge behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    Args:
        model: the served model id.
        base_url: e.g. ``http://127.0.0.1:8000/v1``; ``None`` = api.openai.com.
        api_key_env: name of the environment variable holding the key. For a loopback ``base_url`` a
            missing variable is allowed (local servers need no key).
        name: display name (default: the model id).
        sampling: decoding options (:class:`~judgeanything.judges.sampling.SamplingConfig`, or its fields
            as a mapping; Hydra ``judge.sampling.*``); greedy (temperature 0) and 1024 tokens by default.
            ``top_k`` is sent in the extra body (vLLM/SGLang read it; OpenAI has no such field).
        response_format: ``json_object`` (default; request JSON output), ``json_schema`` (send the
            prompt's JSON schema, strict), or ``none`` (servers that reject the field, e.g.
            ``transformers serve``).
        capabilities: modalities the model accepts natively (default text + image).
        downgrades: allowed visible downgrades, e.g. ``{"video": "frames"}`` (see judges/capabilities.py).
        video_mode, image_format, audio_format: how media are sent (see :mod:`.openai_payload`).
        concurrency: simultaneous requests; timeout: seconds per request; max_attempts: tries per
            request on transient errors.
        extra_body: extra JSON fields for servers with non-standard options.
        reasoning: ``None`` = detect a reasoning model (o-series, GPT-5 family) from the model id;
            ``True`` / ``False`` force it. A reasoning model is sent ``max_completion_tokens`` (= ``max_tokens``)
            and no temperature / top_p (see :mod:`.openai_params`).
        reasoning_effort: ``minimal`` / ``low`` / ``medium`` / ``high``… for reasoning models; None = default.

    Raises:
        JudgeConfigError: an unknown ``response_format``, downgrade or ``reasoning_effort`` (at
            construction); a non-local server and the key variable unset or empty (when the client is first
            made, on the first request).
        UnsupportedParameterError: (a ``JudgeConfigError``, from ``judge``) the server rejected a request
            parameter for this model; the message names it.
    """

    needs_media = True
    kind = "api"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        name: str | None = None,
        sampling: SamplingConfig | Mapping[str, Any] | None = None,
        response_format: Literal["json_object", "json_schema", "none"] = "json_object",
        capabilities: Sequence[str] = ("text", "image"),
        downgrades: Mapping[str, str] | None = None,
        video_mode: Literal["frames", "video_url"] = "frames",
        image_format: Literal["png", "jpeg"] = "png",
        audio_format: Literal["wav", "mp3"] = "wav",
        concurrency: int = 8,
        timeout: float = 120.0,
        max_attempts: int = 6,
        max_wait_s: float = 60.0,
        extra_body: Mapping[str, Any] | None = None,
        reasoning: bool | None = None,
        reasoning_effort: str | None = None,
    ) -> None:
        if response_format not in ("json_object", "json_schema", "none"):
            raise JudgeConfigError(f"openai judge: response_format {response_format!r} is not one of "
                                   "json_object, json_schema, none")
        self.model, self.base_url, self.api_key_env = model, base_url, api_key_env
        self.name = name or model
        self.sampling = SamplingConfig.of(sampling)
        self.response_format = response_format
        self.capabilities = frozenset(capabilities) | {"text"}
        try:
            self.downgrades = validate_downgrades(downgrades)
        except ValueError as e:  # else every unit's request building would raise it, mid-run
            raise JudgeConfigError(f"openai judge: {e}") from e
        self.video_mode, self.image_format, self.audio_format = video_mode, image_format, audio_format
        self.concurrency, self.timeout = int(concurrency), float(timeout)
        self.max_attempts, self.max_wait_s = int(max_attempts), float(max_wait_s)
        self.extra_body = dict(extra_body or {})
        self.shape = request_shape(model, reasoning, reasoning_effort)
        check_sampling(self.shape, self.sampling.fingerprint(), model)
        self._client: openai.AsyncOpenAI | None = None

    # -- config ---------------------------------------------------------------------------------------

    def _api_key(self) -> str:
        key = os.environ.get(self.api_key_env, "")
        if key:
            return key
        host = urlparse(self.base_url or "https://api.openai.com/v1").hostname or ""
        if host in _LOCAL_HOSTS:
            return "EMPTY"  # local servers ignore the key, but the SDK requires a non-empty one
        raise JudgeConfigError(f"openai judge: environment variable {self.api_key_env} is not set "
                               f"(needed for {self.base_url or 'api.openai.com'})")

    def client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            # The SDK's own retries are off: tenacity below owns retrying, so attempts are counted once.
            self._client = openai.AsyncOpenAI(api_key=self._api_key(), base_url=self.base_url,
                                              timeout=self.timeout, max_retries=0)
        return self._client

    def _scrub(self, message: str) -> str:
        """An error message from the server, shortened, with the API key removed: some servers and proxies
        echo the key they were sent (``Incorrect API key provided: sk-...``), and the message is written
        to the run log and the report."""
        key = os.environ.get(self.api_key_env, "")
        text = str(message)
        if len(key) >= 4:
            text = text.replace(key, "***")
        return _short(text)

    def fingerprint(self) -> dict[str, Any]:
        # base_url is left out on purpose: the same model behind a restarted server (another port or host)
        # is the same judge, so a run resumes across it; run.json still records the URL.
        return {"name": self.name, "kind": "openai", "model": self.model,
                **self.sampling.fingerprint(), "response_format": self.response_format,
                "video_mode": self.video_mode, "image_format": self.image_format,
                "audio_format": self.audio_format,
                # only when set, so the identity of runs made before request shaping existed is unchanged
                **({"reasoning": True, "reasoning_effort": self.shape.reasoning_effort}
                   if self.shape.reasoning else {})}

    def notes(self) -> list[str]:
        note = self.shape.note(self.model)
        return [note] if note else []

    # -- requests -------------------------------------------------------------------------------------

    def request_body(self, req: JudgeRequest) -> dict[str, Any]:
        """The chat-completions keyword arguments for one request (messages included)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": chat_messages(req.prompt.system, req.parts, image_format=self.image_format,
                                      audio_format=self.audio_format, video_mode=self.video_mode),
            **sampling_fields(self.sampling),
        }
        if self.response_format == "json_object":
            body["response_format"] = {"type": "json_object"}
        elif self.response_format == "json_schema":
            # providers' strict mode rejects document-level keywords; the structure itself is kept
            schema = {k: v for k, v in req.prompt.output_schema.items() if k not in ("$schema", "title")}
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "verdict", "schema": schema, "strict": True}}
        extra = dict(self.extra_body)
        if self.sampling.top_k is not None:
            extra.setdefault("top_k", self.sampling.top_k)
        if extra:
            body["extra_body"] = extra
        return apply_shape(body, self.shape)

    async def _one(self, req: JudgeRequest) -> JudgeResult:
        t0 = time.perf_counter()
        try:
            body = self.request_body(req)
        except (ValueError, TypeError) as e:
            return JudgeResult(failure=Failure("media_error", f"could not build the request: {e}"))
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(TRANSIENT_ERRORS),
                wait=wait_exponential_jitter(initial=1.0, max=self.max_wait_s),
                stop=stop_after_attempt(self.max_attempts),
                reraise=True,
            ):
                with attempt:
                    resp = await self.client().chat.completions.create(**body)
        except openai.APIStatusError as e:
            param = rejected_parameter(e.status_code, e.body, e.message)
            if param is not None:  # every request would be rejected alike: stop the run with the reason
                raise UnsupportedParameterError(self.model, param, self._scrub(e.message)) from e
            return JudgeResult(failure=Failure("api_error", f"HTTP {e.status_code}: {self._scrub(e.message)}"),
                               latency_s=time.perf_counter() - t0, model=self.model)
        except openai.OpenAIError as e:
            return JudgeResult(failure=Failure("api_error", f"{type(e).__name__}: {self._scrub(str(e))}"),
                               latency_s=time.perf_counter() - t0, model=self.model)
        latency = time.perf_counter() - t0
        if not resp.choices:
            return JudgeResult(failure=Failure("api_error", "the server returned no choices"),
                               latency_s=latency, model=resp.model or self.model)
        choice = resp.choices[0]
        usage = usage_counts(resp.usage)
        model = resp.model or self.model
        provenance = {}
        if getattr(resp, "system_fingerprint", None):
            # the backend configuration that answered (recorded per verdict; it changes far more often than the
            # model snapshot, so it is provenance, not identity)
            provenance["system_fingerprint"] = str(resp.system_fingerprint)
        message = getattr(choice, "message", None)
        if message is None:
            return JudgeResult(failure=Failure("api_error", "the server returned a choice without a message"),
                               finish_reason=choice.finish_reason, usage=usage, latency_s=latency, model=model)
        raw = message_text(message.content)
        if raw is None:
            return JudgeResult(failure=Failure("api_error", f"the server returned message content that is not "
                                               f"text: {_short(repr(message.content), 120)}"),
                               finish_reason=choice.finish_reason, usage=usage, latency_s=latency, model=model)
        refusal = getattr(message, "refusal", None)
        failure = None
        if choice.finish_reason == "content_filter":
            failure = Failure("safety_block", "the provider's content filter stopped the answer")
        elif refusal:
            # the API's own refusal signal (structured outputs): whatever text came with it is no verdict
            failure = Failure("refusal", _short(str(refusal)))
        return JudgeResult(raw=raw, finish_reason=choice.finish_reason, failure=failure, usage=usage,
                           latency_s=latency, model=model, extra=provenance)

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        return list(await asyncio.gather(*(self._one(r) for r in requests)))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def sampling_fields(s: SamplingConfig) -> dict[str, Any]:
    """The chat-completions fields of a sampling config (those set; ``top_k`` is not an API field)."""
    fields: dict[str, Any] = {"temperature": 0.0 if s.temperature is None else s.temperature}
    for name in ("top_p", "max_tokens", "seed", "frequency_penalty", "presence_penalty"):
        v = getattr(s, name)
        if v is not None:
            fields[name] = v
    if s.stop:
        fields["stop"] = list(s.stop)
    return fields


def message_text(content: Any) -> str | None:
    """A chat message's ``content`` as text: a string as is, ``None`` as ``""``, a list of content parts
    (servers such as Mistral's return ``[{"type": "text", "text": ...}, {"type": "thinking", ...}]``) as its
    text parts joined; anything else (a number, an object) → ``None``, for the caller to record as an
    ``api_error`` (the SDK does not validate responses, so these reach us unchecked)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, Mapping) for p in content):
        return "".join(str(p.get("text") or "") for p in content if p.get("type") == "text")
    return None


#: Token counts read from a response's ``usage`` (``details.field`` for the nested breakdowns OpenAI reports:
#: cached prompt tokens, audio input/output tokens, reasoning tokens). Absent ones are left out.
USAGE_FIELDS: tuple[tuple[str, str], ...] = (
    ("prompt_tokens", "prompt_tokens"),
    ("completion_tokens", "completion_tokens"),
    ("cached_prompt_tokens", "prompt_tokens_details.cached_tokens"),
    ("audio_prompt_tokens", "prompt_tokens_details.audio_tokens"),
    ("image_prompt_tokens", "prompt_tokens_details.image_tokens"),
    ("reasoning_tokens", "completion_tokens_details.reasoning_tokens"),
    ("audio_completion_tokens", "completion_tokens_details.audio_tokens"),
)


def usage_counts(usage: Any) -> dict[str, int]:
    """The token counts of a response's ``usage`` object: ``prompt_tokens`` and ``completion_tokens`` always
    (0 when missing), the detail counts of :data:`USAGE_FIELDS` where the server reported them."""
    if usage is None:  # the SDK does not validate responses: a server may send any shape here
        return {}
    out: dict[str, int] = {}
    for name, path in USAGE_FIELDS:
        v: Any = usage
        for attr in path.split("."):
            v = v.get(attr) if isinstance(v, Mapping) else getattr(v, attr, None)
            if v is None:
                break
        if v is not None or name in ("prompt_tokens", "completion_tokens"):
            out[name] = _count(v)
    return out


def _count(v: Any) -> int:
    """A token count from a response's ``usage`` (an int, or an integral string); 0 when missing or not a
    count: bookkeeping must never cost a verdict."""
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    return 0


def _short(s: str, n: int = 300) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"
