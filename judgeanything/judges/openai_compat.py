"""``openai``: any OpenAI-compatible chat-completions server through the official ``openai`` SDK.

Works with OpenAI, vLLM / SGLang servers, Ollama, OpenRouter, Gemini's compatible endpoint and
``transformers serve``. The API key is read from the environment variable *named* in the config
(``api_key_env``); the key itself never enters a config, a log or a report.

Each call makes ONE attempt per request, within a total deadline (``timeout``: connect + a body however
slowly it trickles in). A fault becomes an ``api_error`` result carrying the exception and the server's
``Retry-After``; :meth:`OpenAIJudge.is_transient` says which faults are worth another try (rate limits,
timeouts, connection errors, 408/409/5xx, a 200 whose body is not a completion, an empty completion) and
the runner's one retry policy (:mod:`judgeanything.retry`) retries them. Several ``base_url`` s (e.g.
``vllm serve`` replicas) share the load: each request goes to the replica with the fewest requests in
flight, skipping for a while one that just failed to connect.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlparse

import openai
from openai.types.chat import ChatCompletion

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.judges.capabilities import validate_downgrades
from judgeanything.judges.hf_logprob import PREFILL_VERSION
from judgeanything.judges.openai_logprob import READER_VERSION, prefill_verdicts, shape_request, token_stream
from judgeanything.judges.openai_params import (
    UnsupportedParameterError,
    apply_shape,
    check_sampling,
    rejected_parameter,
    request_shape,
)
from judgeanything.judges.openai_payload import chat_messages
from judgeanything.judges.sampling import SamplingConfig
from judgeanything.judges.token_verdicts import with_token_verdicts
from judgeanything.parsing import is_token_limit
from judgeanything.redaction import redact_text, shown_env_name
from judgeanything.schema import Failure, TextPart
from judgeanything.text import one_line


class CompletionFault(Exception):
    """A request that got no usable completion although the HTTP exchange itself did not fail."""


class InvalidCompletion(CompletionFault):
    """A 200 whose body is not a chat completion (an HTML page from a proxy, cut-off JSON, no choices)."""


class EmptyCompletion(CompletionFault):
    """A completion with no text that was neither cut at the token limit nor stopped by a filter."""


class DeadlineExceeded(CompletionFault, TimeoutError):
    """No complete answer within the judge's total per-request deadline (``judge.timeout``)."""


#: Faults worth another try: the server or network may recover (status errors are decided by status code).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    CompletionFault,
)

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
#: Seconds a replica is passed over after it refused a connection (it may be restarting).
REPLICA_COOLDOWN_S = 5.0


def retry_after_s(e: BaseException) -> float | None:
    """The wait a server asked for on an error response: ``retry-after-ms`` (milliseconds, OpenAI's),
    else ``Retry-After`` (seconds, or an HTTP date; RFC 9110 §10.2.3); ``None`` when absent or unreadable.

    The SDK reads the same headers for its own retries, in a private method; we read them here (a few lines)
    because our retries are the runner's, not the SDK's."""
    response = getattr(e, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    try:
        if ms is not None and math.isfinite(float(ms)):
            return max(0.0, float(ms) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        secs = float(value)
        return max(0.0, secs) if math.isfinite(secs) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def quiet_http_client_log() -> None:
    """Silence the HTTP client's one INFO line per request (``HTTP Request: POST … 200 OK``) unless the user
    set that logger's level: at hundreds of requests per second it costs ~5 % of the CPU, floods the console
    and the run's log file, and would write every request's URL there."""
    for name in ("httpx2", "httpx"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


class _Replica:
    """One server of the judge: its base URL, its client (made on first use), requests in flight, and
    until when it is passed over after a connection failure."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url, self.in_flight, self.down_until = base_url, 0, 0.0
        self._client: openai.AsyncOpenAI | None = None

    def client(self, judge: OpenAIJudge) -> openai.AsyncOpenAI:
        if self._client is None:
            quiet_http_client_log()
            # The SDK's own retries are off: the runner's retry policy owns retrying, so attempts are counted
            # once; the SDK's timeout (per read) stays as a backstop under our total deadline.
            self._client = openai.AsyncOpenAI(api_key=judge._api_key(self.base_url), base_url=self.base_url,
                                              timeout=judge.timeout, max_retries=0)
        return self._client

    def on_fault(self, e: BaseException) -> None:
        if isinstance(e, openai.APIConnectionError) and not isinstance(e, openai.APITimeoutError):
            self.down_until = time.monotonic() + REPLICA_COOLDOWN_S

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


class OpenAIJudge(Judge):
    """A judge behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    Args:
        model: the served model id.
        base_url: e.g. ``http://127.0.0.1:8000/v1``; ``None`` = api.openai.com; a list of URLs = replicas
            of one model (e.g. several ``vllm serve``), each request sent to the least loaded.
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
        concurrency: simultaneous requests (the most; the runner's adaptive window may use fewer).
        timeout: the total deadline of one attempt, in seconds (connect, wait and the whole body).
        max_attempts: tries per request on transient faults; max_wait_s: the longest wait between two
            tries (caps exponential backoff and the server's ``Retry-After``).
        extra_body: extra JSON fields for servers with non-standard options.
        reasoning: ``None`` = detect a reasoning model (o-series, GPT-5 family) from the model id;
            ``True`` / ``False`` force it. A reasoning model is sent ``max_completion_tokens`` (= ``max_tokens``)
            and no temperature / top_p (see :mod:`.openai_params`).
        reasoning_effort: ``minimal`` / ``low`` / ``medium`` / ``high``… for reasoning models; None = default.
        verdict: ``generate`` (text for the parser) or ``logprob`` (token-probability verdicts read from the
            API's ``top_logprobs``, pair and score settings: :mod:`.openai_logprob`).
        top_logprobs: alternatives per token asked for in ``logprob`` mode (OpenAI allows 0–20).
        logprob_prefill: ``logprob`` mode by assistant prefill, one request per rubric (vLLM / SGLang's
            ``continue_final_message``; the ``hf`` judge's method): :func:`.openai_logprob.prefill_verdicts`.

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
        base_url: str | Sequence[str] | None = None,
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
        verdict: Literal["generate", "logprob"] = "generate",
        top_logprobs: int = 20,
        logprob_prefill: bool = False,
    ) -> None:
        if response_format not in ("json_object", "json_schema", "none"):
            raise JudgeConfigError(f"openai judge: response_format {response_format!r} is not one of "
                                   "json_object, json_schema, none")
        urls = [base_url] if base_url is None or isinstance(base_url, str) else [str(u) for u in base_url]
        if not urls:
            raise JudgeConfigError("openai judge: base_url is an empty list; give a URL, a list of URLs or null")
        self.model, self.api_key_env = model, api_key_env
        self.base_url = urls[0] if len(urls) == 1 else urls
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
        if self.concurrency < 1 or self.timeout <= 0 or self.max_attempts < 1 or self.max_wait_s < 0:
            raise JudgeConfigError("openai judge: concurrency and max_attempts must be >= 1, timeout > 0, "
                                   "max_wait_s >= 0")
        self.extra_body = dict(extra_body or {})
        self.shape = request_shape(model, reasoning, reasoning_effort)
        check_sampling(self.shape, self.sampling.fingerprint(), model)
        self.verdict, self.top_logprobs, self.logprob_prefill = verdict, int(top_logprobs), bool(logprob_prefill)
        self._check_verdict_mode()
        self._replicas = [_Replica(u) for u in urls]

    # -- config ---------------------------------------------------------------------------------------

    def _api_key(self, base_url: str | None) -> str:
        key = os.environ.get(self.api_key_env, "")
        if key:
            return key
        host = urlparse(base_url or "https://api.openai.com/v1").hostname or ""
        if host in _LOCAL_HOSTS:
            return "EMPTY"  # local servers ignore the key, but the SDK requires a non-empty one
        raise JudgeConfigError(f"openai judge: environment variable {shown_env_name(self.api_key_env)} is not "
                               f"set (needed for {redact_text(base_url or 'api.openai.com')})")

    def client(self) -> openai.AsyncOpenAI:
        """The SDK client of the first (or only) server."""
        return self._replicas[0].client(self)

    def _pick_replica(self) -> _Replica:
        """The server with the fewest requests in flight, passing over those that just refused a connection
        (all of them, when every one did); the first of equals, so one server gets all of a light load."""
        now = time.monotonic()
        up = [r for r in self._replicas if r.down_until <= now] or self._replicas
        return min(up, key=lambda r: r.in_flight)

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
                   if self.shape.reasoning else {}),
                **({"verdict": "logprob", "top_logprobs": self.top_logprobs, "logprob_reader": READER_VERSION}
                   if self.verdict == "logprob" else {}),
                **({"logprob_prefill": PREFILL_VERSION} if self.verdict == "logprob" and self.logprob_prefill else {})}

    def _check_verdict_mode(self) -> None:
        """Refuse what token-probability verdicts cannot work with (at construction, not per unit)."""
        if self.verdict not in ("generate", "logprob"):
            raise JudgeConfigError(f"openai judge: verdict must be 'generate' or 'logprob', got {self.verdict!r}")
        if self.verdict != "logprob":
            return
        if self.shape.reasoning:
            raise JudgeConfigError(f"openai judge: {self.model!r} is a reasoning model, which returns no "
                                   "logprobs; use judge.verdict=generate")
        if not 1 <= self.top_logprobs <= 20:
            raise JudgeConfigError(f"openai judge: top_logprobs={self.top_logprobs} must be 1..20")
        self.settings = frozenset({"pair", "score", "rules"})  # batch ranking has no single verdict token

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
        if self.verdict == "logprob":
            shape_request(body, req.prompt.setting, tuple(req.prompt.rubrics) or ("overall",),
                          req.prompt.output_schema, self.top_logprobs)
        return apply_shape(body, self.shape)

    async def _one(self, req: JudgeRequest) -> JudgeResult:
        """One attempt at one request; every fault becomes a failed result (retrying is the runner's job,
        :mod:`judgeanything.retry`, driven by :meth:`is_transient`)."""
        t0 = time.perf_counter()
        try:
            body = req.payload
            if body is None:
                # media payloads (PNG/WAV → base64, cached by content) are built off the event loop: by the
                # runner's preparation thread (prebuild), else here in a worker thread
                media = any(not isinstance(p, TextPart) for p in req.parts)
                body = await asyncio.to_thread(self.request_body, req) if media else self.request_body(req)
        except (ValueError, TypeError) as e:
            return JudgeResult(failure=Failure("media_error", f"could not build the request: {e}"))
        replica = self._pick_replica()
        replica.in_flight += 1
        try:
            if self.verdict == "logprob" and self.logprob_prefill:
                client = replica.client(self)
                res = await prefill_verdicts(body, req.prompt.setting, tuple(req.prompt.rubrics) or ("overall",),
                                             self.top_logprobs, lambda b: self._complete(client, b),
                                             who=f"openai judge ({self.model})")
                res.latency_s, res.model = time.perf_counter() - t0, res.model or self.model
                return res
            resp = await self._complete(replica.client(self), body)
            res = self._result(resp, time.perf_counter() - t0)
            return self._token_verdicts(res, resp, req) if self.verdict == "logprob" else res
        except openai.APIStatusError as e:
            param = rejected_parameter(e.status_code, e.body, e.message)
            if param is not None:  # every request would be rejected alike: stop the run with the reason
                raise UnsupportedParameterError(self.model, param, self._scrub(e.message)) from e
            return self._fault(e, t0)
        except (openai.OpenAIError, CompletionFault) as e:
            replica.on_fault(e)
            return self._fault(e, t0)
        finally:
            replica.in_flight -= 1

    def _fault(self, e: BaseException, t0: float) -> JudgeResult:
        """An ``api_error`` result carrying the exception (for :meth:`is_transient`) and ``Retry-After``."""
        return JudgeResult(failure=Failure("api_error", self._describe(e)), fault=e,
                           retry_after_s=retry_after_s(e), latency_s=time.perf_counter() - t0, model=self.model)

    async def _complete(self, client: openai.AsyncOpenAI, body: dict[str, Any]) -> Any:
        """The server's answer to one request, within the total deadline ``timeout`` (the HTTP client's own
        timeout is per read, so a body trickling in a byte at a time would never trip it).

        Raises:
            DeadlineExceeded: no complete answer within ``timeout`` seconds.
            InvalidCompletion: a 200 whose body is not a chat completion (HTML, cut-off JSON, no choices).
            openai.OpenAIError: what the SDK raises (status errors, connection errors).
        """
        try:
            async with _deadline(self.timeout):
                # client.post with the finished JSON body (the SDK's public way to send a request as is): the
                # body is plain JSON already, so create()'s per-request walk of it against the parameter
                # TypedDicts (~0.5 ms of CPU per request, a third of the SDK's own cost) would change nothing
                resp = await client.post("/chat/completions", cast_to=ChatCompletion, body=wire_body(body))
        except asyncio.TimeoutError as e:
            raise DeadlineExceeded(f"no complete answer within judge.timeout={self.timeout:g}s") from e
        except json.JSONDecodeError as e:  # the SDK parses a 200's body as JSON and raises this when it is not
            raise InvalidCompletion(f"the server's 200 body is not valid JSON ({e.msg} at char {e.pos})") from e
        if not isinstance(resp, ChatCompletion):  # e.g. an HTML page from a proxy, returned by the SDK as a str
            raise InvalidCompletion(f"the server's 200 body is not a chat completion: {_short(repr(resp), 120)}")
        if not resp.choices:
            raise InvalidCompletion("the server's 200 body has no choices")
        return resp

    def _result(self, resp: ChatCompletion, latency: float) -> JudgeResult:
        """A chat completion → the judge's result (typed failures for unusable messages).

        Raises:
            EmptyCompletion: an answer with no text that was neither cut at the token limit nor filtered.
        """
        choice = resp.choices[0]
        usage = usage_counts(resp.usage)
        model = resp.model or self.model
        provenance = {}
        if getattr(resp, "system_fingerprint", None):
            # the backend configuration that answered (recorded per verdict; it changes far more often than the
            # model snapshot, so it is provenance, not identity)
            provenance["system_fingerprint"] = str(resp.system_fingerprint)
        message = getattr(choice, "message", None)
        if message is None:  # a garbled 200 like a missing `choices`: transient, retried
            raise InvalidCompletion("the server returned a choice without a message")
        raw = message_text(message.content)
        if raw is None:
            raise InvalidCompletion(f"the server returned message content that is not text: "
                                    f"{_short(repr(message.content), 120)}")
        refusal = getattr(message, "refusal", None)
        failure = None
        if choice.finish_reason == "content_filter":
            failure = Failure("safety_block", "the provider's content filter stopped the answer")
        elif refusal:
            # the API's own refusal signal (structured outputs): whatever text came with it is no verdict
            failure = Failure("refusal", _short(str(refusal)))
        elif not raw.strip() and not is_token_limit(choice.finish_reason):
            # a server hiccup (seen with vLLM under load and with proxies), not the judge's answer: retried;
            # an empty answer cut at the token limit stays a `truncated` verdict for the parser
            raise EmptyCompletion(f"the server returned an empty completion (finish_reason="
                                  f"{choice.finish_reason!r})")
        return JudgeResult(raw=raw, finish_reason=choice.finish_reason, failure=failure, usage=usage,
                           latency_s=latency, model=model, extra=provenance)

    def _token_verdicts(self, res: JudgeResult, resp: ChatCompletion, req: JudgeRequest) -> JudgeResult:
        """``logprob`` mode: the verdicts read from the answer's ``top_logprobs`` (:mod:`.openai_logprob`).

        Raises:
            NoLogprobsError: the server sent no logprobs (it would send none for any unit).
        """
        return with_token_verdicts(res, token_stream(getattr(resp.choices[0], "logprobs", None)),
                                   req.prompt.setting, tuple(req.prompt.rubrics) or ("overall",),
                                   who=f"openai judge ({self.model})", scale=req.prompt.scale)

    def prebuild(self, req: JudgeRequest) -> None:
        """The request body, media encoded, into ``req.payload`` (a body that cannot be built is left unset:
        :meth:`judge` reports it as that unit's ``media_error``)."""
        if any(not isinstance(p, TextPart) for p in req.parts):
            try:
                req.payload = self.request_body(req)
            except (ValueError, TypeError):
                req.payload = None

    def _describe(self, e: BaseException) -> str:
        """One line for the run log: the status and the server's message, shortened, key removed."""
        if isinstance(e, openai.APIStatusError):
            return f"HTTP {e.status_code}: {self._scrub(server_message(e))}"
        return f"{type(e).__name__}: {self._scrub(str(e))}"

    def is_transient(self, fault: BaseException | Failure) -> bool:
        """Rate limits, timeouts, connection errors, 408/409/5xx and garbled or empty 200s."""
        if isinstance(fault, openai.APIStatusError):
            return fault.status_code in (408, 409, 429) or fault.status_code >= 500
        return isinstance(fault, TRANSIENT_ERRORS)

    def is_overload(self, fault: BaseException | Failure) -> bool:
        """429, 503/529 and timeouts: the server wants fewer requests at once."""
        if isinstance(fault, openai.APIStatusError):
            return fault.status_code in (429, 503, 529)
        return isinstance(fault, (openai.APITimeoutError, DeadlineExceeded))

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        if len(requests) == 1:  # the runner's usual batch: awaited in place, not wrapped in a task of its own
            return [await self._one(requests[0])]
        return list(await asyncio.gather(*(self._one(r) for r in requests)))

    async def aclose(self) -> None:
        for r in self._replicas:
            await r.aclose()


def server_message(e: openai.APIStatusError) -> str:
    """The server's own words for a status error. The SDK reads only OpenAI's ``{"error": {"message"}}``
    shape and otherwise says just ``Error code: 400``; FastAPI-based servers (``transformers serve``, many
    proxies) answer ``{"detail": ...}`` and others a bare ``{"message": ...}`` or plain text — without them
    a rejected request (a prompt over the context length, say) cannot be told from any other 400."""
    body = e.body
    if isinstance(body, Mapping):
        err = body.get("error")
        for cand in (err.get("message") if isinstance(err, Mapping) else err, body.get("detail"), body.get("message")):
            if isinstance(cand, str) and cand.strip():
                return cand.strip() if cand.strip() in e.message else f"{e.message}: {cand.strip()}"
            if cand is not None and not isinstance(cand, str):
                return f"{e.message}: {json.dumps(cand, default=str)[:300]}"
    elif isinstance(body, str) and body.strip():
        return f"{e.message}: {body.strip()[:300]}"
    return e.message


def wire_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """A ``chat.completions.create`` keyword dict as the JSON sent: ``extra_body`` merged into the top level
    (as the SDK merges it)."""
    out = {k: v for k, v in body.items() if k != "extra_body"}
    out.update(body.get("extra_body") or {})
    return out


if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout  # cancels the awaited call in place (no extra task per request)
else:  # pragma: no cover - Python 3.10
    import contextlib

    @contextlib.asynccontextmanager
    async def _deadline(seconds: float) -> AsyncIterator[None]:
        task = asyncio.current_task()
        assert task is not None
        handle = asyncio.get_running_loop().call_later(seconds, task.cancel)
        try:
            yield
        except asyncio.CancelledError as e:
            raise asyncio.TimeoutError from e
        finally:
            handle.cancel()


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
    return one_line(s, n)
