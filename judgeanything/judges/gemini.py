"""``gemini``: Google's Gemini models through the official ``google-genai`` SDK (the Gemini Developer API).

Unlike the OpenAI-compatible endpoint, the native API hears audio and watches video with its sound track:

* media as :mod:`.gemini_payload` lays them out — images inline, audio and video as uploaded Files (the
  video's own file, with its sound), uploaded once per content hash across items and runs
  (:mod:`.gemini_files`), waited for until ACTIVE; FAILED processing → ``media_error``;
* the answer constrained by ``response_schema`` built from the prompt's answer schema (score, pair, batch;
  every rubric), ``response_mime_type="application/json"``;
* ``thinking_budget`` / ``thinking_level`` passed as ``ThinkingConfig`` (thinking tokens are recorded as
  ``reasoning_tokens``);
* usage with the prompt tokens per modality (``image_prompt_tokens``, ``audio_prompt_tokens``,
  ``video_prompt_tokens``…);
* a prompt blocked by the provider (``prompt_feedback.block_reason``) or an answer stopped by its filters
  (finish reason ``SAFETY``, ``PROHIBITED_CONTENT``, ``BLOCKLIST``, ``SPII``, ``IMAGE_SAFETY``,
  ``RECITATION``) → ``safety_block``; ``MAX_TOKENS`` → finish reason ``length`` (the parser records a cut
  answer as ``truncated``).

Failures and retries follow the ``openai`` judge: one attempt per request, each fault an ``api_error`` result
carrying the exception and a 429's ``RetryInfo`` delay; the runner's retry policy (:mod:`judgeanything.retry`)
tries again what :meth:`GeminiJudge.is_transient` calls transient (408, 429, 5xx, timeouts, dropped
connections). A File the API no longer has (expired or deleted) is uploaded again once within the attempt.
A bad API key or an unknown model stops the run (:class:`JudgeConfigError`). The key is read from ``GEMINI_API_KEY`` or
``GOOGLE_API_KEY`` (or the variable named by ``api_key_env``) and is never written anywhere.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import httpx2
from google import genai
from google.genai import errors, types

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.judges.capabilities import validate_downgrades
from judgeanything.judges.gemini_files import FileUploader, MediaUploadError, UploadRegistry, UsedFile
from judgeanything.judges.gemini_payload import (
    INLINE_LIMIT_BYTES,
    Plan,
    Upload,
    plan_parts,
    response_schema,
    usage_counts,
)
from judgeanything.judges.sampling import SamplingConfig
from judgeanything.judges.token_verdicts import StreamToken, verdict_only_schema, with_token_verdicts
from judgeanything.models.tiny import default_cache_dir
from judgeanything.schema import Failure, FailureKind
from judgeanything.text import shorten

#: Key variables, in the order they are read when ``api_key_env`` is not set (the SDK's own names).
KEY_ENVS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
#: Status codes worth retrying: the server or network may recover.
TRANSIENT_CODES = frozenset({408, 429, 500, 502, 503, 504})


def _transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(transient, all) transport exceptions of the HTTP clients the SDK may use: ``httpx2`` always,
    ``aiohttp`` when installed (the SDK then prefers it for async calls)."""
    transient: list[type[BaseException]] = [httpx2.TimeoutException, httpx2.TransportError, asyncio.TimeoutError]
    every: list[type[BaseException]] = [httpx2.HTTPError, asyncio.TimeoutError, OSError]
    try:
        import aiohttp
    except ImportError:
        return tuple(transient), tuple(every)
    transient += [aiohttp.ClientConnectionError, aiohttp.ClientPayloadError]
    every.append(aiohttp.ClientError)
    return tuple(transient), tuple(every)


TRANSIENT_TRANSPORT, TRANSPORT_ERRORS = _transport_errors()
#: Candidate finish reasons that mean the provider's filters stopped the answer.
SAFETY_FINISH = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY",
                           "IMAGE_PROHIBITED_CONTENT", "RECITATION", "IMAGE_RECITATION"})
#: Version of the request layout (recorded in the fingerprint): change it when plan_parts changes.
PAYLOAD_VERSION = "gemini-parts-v1"
#: Version of the logprob reading (recorded in the fingerprint in ``logprob`` mode).
LOGPROB_READER = "gemini-logprobs-result-v1"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)s\s*$")


def retry_after_s(e: BaseException) -> float | None:
    """The delay a 429 asks for (``google.rpc.RetryInfo.retryDelay``, e.g. ``"12s"``), in seconds, or None."""
    if not isinstance(e, errors.APIError) or not isinstance(e.details, Mapping):
        return None
    err = e.details.get("error", e.details)
    for d in (err.get("details") or []) if isinstance(err, Mapping) else []:
        if isinstance(d, Mapping) and str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
            m = _DURATION_RE.match(str(d.get("retryDelay", "")))
            if m:
                return float(m.group(1))
    return None


class GeminiJudge(Judge):
    """A Gemini model through the native API (see the module docstring).

    Args:
        model: e.g. ``gemini-2.5-flash``.
        name: display name (default: the model id).
        base_url: another endpoint (a proxy, a loopback test server); None = the Gemini API.
        api_version: the REST version (``v1beta``: the Files API, response schemas and thinking).
        api_key_env: the variable holding the key; None = ``GEMINI_API_KEY``, then ``GOOGLE_API_KEY``. A
            loopback ``base_url`` needs none.
        sampling: :class:`~judgeanything.judges.sampling.SamplingConfig` (``judge.sampling.*``).
        response_schema: constrain the answer to the prompt's answer schema.
        thinking_budget: thinking tokens (``0`` off where the model allows, ``-1`` dynamic); None = default.
        thinking_level: ``minimal`` / ``low`` / ``medium`` / ``high`` (Gemini 3 models); None = default.
        capabilities, downgrades: what the model takes natively / visible downgrades (judges/capabilities.py).
        image_format: inline image encoding; video_fps: frames/s the API samples from videos (None: 1).
        media_resolution: ``low`` / ``medium`` / ``high``: tokens per image or video frame (64 / 256 / 256
            zoomed, the SDK's ``MediaResolution``); None = the model's default. Low cuts a video's cost ~4×.
        inline_limit_bytes: inline image bytes per request before images are uploaded as Files.
        registry_path: the upload registry (None = ``<cache>/gemini_files.sqlite``).
        poll_interval_s, processing_timeout_s: waiting for uploaded Files to become ACTIVE.
        concurrency: simultaneous requests; timeout: seconds per HTTP call; max_attempts, max_wait_s: the
            runner's retries of transient faults (tries in all; the longest wait, which also caps ``RetryInfo``).
        safety_settings: ``{HARM_CATEGORY_…: BLOCK_…}`` passed to the API (None = its defaults).
        verdict: ``generate`` (text for the parser) or ``logprob``: token-probability verdicts (CLUE) read from
            the API's ``logprobs_result`` (``response_logprobs`` with ``top_logprobs`` alternatives per token)
            by the reader the ``openai`` and ``hf`` judges share (:mod:`.token_verdicts`); pair and score only.

    Raises:
        JudgeConfigError: bad options (at construction); the key missing (on the first request); the API
            refusing the key or not knowing the model (during ``judge``).
    """

    needs_media = True
    kind = "api"

    def __init__(
        self,
        model: str = "gemini-2.5-flash",
        name: str | None = None,
        base_url: str | None = None,
        api_version: str = "v1beta",
        api_key_env: str | None = None,
        sampling: SamplingConfig | Mapping[str, Any] | None = None,
        response_schema: bool = True,
        thinking_budget: int | None = None,
        thinking_level: str | None = None,
        capabilities: Sequence[str] = ("text", "image", "audio", "video"),
        downgrades: Mapping[str, str] | None = None,
        image_format: Literal["png", "jpeg"] = "png",
        video_fps: float | None = None,
        media_resolution: str | None = None,
        inline_limit_bytes: int = INLINE_LIMIT_BYTES,
        registry_path: str | None = None,
        poll_interval_s: float = 2.0,
        processing_timeout_s: float = 600.0,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_attempts: int = 6,
        max_wait_s: float = 60.0,
        safety_settings: Mapping[str, str] | None = None,
        verdict: Literal["generate", "logprob"] = "generate",
        top_logprobs: int = 20,
    ) -> None:
        self.model, self.name = model, name or model
        self.base_url, self.api_version, self.api_key_env = base_url, api_version, api_key_env
        self.sampling = SamplingConfig.of(sampling)
        self.use_schema = bool(response_schema)
        self.thinking = _thinking_config(thinking_budget, thinking_level)
        self.thinking_budget, self.thinking_level = thinking_budget, thinking_level
        self.capabilities = frozenset(capabilities) | {"text"}
        try:
            self.downgrades = validate_downgrades(downgrades)
        except ValueError as e:
            raise JudgeConfigError(f"gemini judge: {e}") from e
        if image_format not in ("png", "jpeg"):
            raise JudgeConfigError(f"gemini judge: image_format {image_format!r} is not png or jpeg")
        self.image_format, self.video_fps = image_format, None if video_fps is None else float(video_fps)
        self.inline_limit_bytes = int(inline_limit_bytes)
        self.media_resolution = _media_resolution(media_resolution)
        self.registry_path = Path(registry_path).expanduser() if registry_path else \
            default_cache_dir() / "gemini_files.sqlite"
        self.poll_interval_s, self.processing_timeout_s = float(poll_interval_s), float(processing_timeout_s)
        self.concurrency, self.timeout = int(concurrency), float(timeout)
        self.max_attempts, self.max_wait_s = int(max_attempts), float(max_wait_s)
        self.safety_settings = [types.SafetySetting(category=c, threshold=t)  # type: ignore[arg-type]
                                for c, t in dict(safety_settings or {}).items()]
        if verdict not in ("generate", "logprob"):
            raise JudgeConfigError(f"gemini judge: verdict must be 'generate' or 'logprob', got {verdict!r}")
        if verdict == "logprob" and not 1 <= int(top_logprobs) <= 20:
            raise JudgeConfigError(f"gemini judge: top_logprobs={top_logprobs} must be 1..20")
        self.verdict, self.top_logprobs = verdict, int(top_logprobs)
        if verdict == "logprob":
            self.settings = frozenset({"pair", "score", "rules"})  # batch ranking has no single verdict token
        self._client: genai.Client | None = None
        self._uploader: FileUploader | None = None

    # -- config ---------------------------------------------------------------------------------------

    def _api_key(self) -> str:
        names = (self.api_key_env,) if self.api_key_env else KEY_ENVS
        for n in names:
            if os.environ.get(n, "").strip():
                return os.environ[n].strip()
        host = urlparse(self.base_url or "https://generativelanguage.googleapis.com").hostname or ""
        if host in _LOCAL_HOSTS:
            return "loopback"  # local servers ignore the key, but the SDK requires one
        raise JudgeConfigError(f"gemini judge: set {' or '.join(names)} to the API key "
                               f"(needed for {self.base_url or 'the Gemini API'})")

    def client(self) -> genai.Client:
        if self._client is None:
            # vertexai=False and an explicit api_version: the SDK would otherwise read GOOGLE_GENAI_USE_VERTEXAI
            # / GOOGLE_GENAI_API_VERSION from the environment. retry_options with one attempt: without it the
            # SDK silently sleeps 1-10 s and reconnects once after a connection error; the runner's retry policy
            # counts attempts once, for every backend alike.
            http = types.HttpOptions(base_url=self.base_url, api_version=self.api_version,
                                     timeout=int(self.timeout * 1000),
                                     retry_options=types.HttpRetryOptions(attempts=1))
            self._client = genai.Client(api_key=self._api_key(), vertexai=False, http_options=http)
        return self._client

    def uploader(self) -> FileUploader:
        if self._uploader is None:
            scope = f"{self.base_url or 'https://generativelanguage.googleapis.com'}|{self.api_version}"
            try:
                registry = UploadRegistry(self.registry_path)
            except (OSError, sqlite3.Error) as e:  # every unit with audio or video would fail alike
                raise JudgeConfigError(f"gemini judge: cannot open the upload registry {self.registry_path} ({e}); "
                                       "set judge.registry_path to a writable file") from e
            self._uploader = FileUploader(self.client().aio.files, registry, scope,
                                          poll_interval_s=self.poll_interval_s,
                                          processing_timeout_s=self.processing_timeout_s)
        return self._uploader

    def fingerprint(self) -> dict[str, Any]:
        # base_url is left out as for the openai judge: the same model behind another address is the same judge
        fp: dict[str, Any] = {"name": self.name, "kind": "gemini", "model": self.model,
                              **self.sampling.fingerprint(), "response_schema": self.use_schema,
                              "image_format": self.image_format, "payload": PAYLOAD_VERSION}
        for k in ("thinking_budget", "thinking_level", "video_fps", "media_resolution"):
            if getattr(self, k) is not None:
                fp[k] = getattr(self, k)
        if self.verdict == "logprob":
            fp.update(verdict="logprob", top_logprobs=self.top_logprobs, logprob_reader=LOGPROB_READER)
        if self.safety_settings:
            fp["safety_settings"] = {str(s.category): str(s.threshold) for s in self.safety_settings}
        return fp

    def notes(self) -> list[str]:
        fps = f"{self.video_fps:g} frames/s" if self.video_fps else "the API's default 1 frame/s"
        return [f"videos sent to {self.model} as their files with the sound track, sampled by the provider at "
                f"{fps}; audio as WAV files; images inline"]

    # -- retries (the runner's policy asks these) ----------------------------------------------------

    def is_transient(self, fault: BaseException | Failure) -> bool:
        """Whether trying again may succeed: 408/429/5xx, timeouts, dropped connections."""
        if isinstance(fault, errors.APIError):
            return int(fault.code or 0) in TRANSIENT_CODES
        return isinstance(fault, TRANSIENT_TRANSPORT)

    def is_overload(self, fault: BaseException | Failure) -> bool:
        """429 (quota), 503 (overloaded) and timeouts: the server wants fewer requests at once."""
        if isinstance(fault, errors.APIError):
            return int(fault.code or 0) in (429, 503)
        return isinstance(fault, (httpx2.TimeoutException, asyncio.TimeoutError))

    # -- requests -------------------------------------------------------------------------------------

    def generate_config(self, req: JudgeRequest) -> types.GenerateContentConfig:
        """Sampling, system instruction, JSON answer schema, thinking and safety settings of one request."""
        s = self.sampling
        kw: dict[str, Any] = {"system_instruction": req.prompt.system or None,
                              "temperature": 0.0 if s.temperature is None else s.temperature,
                              "top_p": s.top_p, "top_k": s.top_k, "max_output_tokens": s.max_tokens,
                              "seed": s.seed, "stop_sequences": list(s.stop) if s.stop else None,
                              "frequency_penalty": s.frequency_penalty, "presence_penalty": s.presence_penalty,
                              "response_mime_type": "application/json"}
        if self.use_schema and req.prompt.output_schema:
            schema = req.prompt.output_schema
            if self.verdict == "logprob":  # the verdicts only: read without a written justification before them
                schema = verdict_only_schema(schema, req.prompt.setting, tuple(req.prompt.rubrics) or ("overall",))
            kw["response_schema"] = response_schema(schema)
        if self.verdict == "logprob":
            kw.update(response_logprobs=True, logprobs=self.top_logprobs)
        if self.thinking is not None:
            kw["thinking_config"] = self.thinking
        if self.media_resolution is not None:
            kw["media_resolution"] = types.MediaResolution(f"MEDIA_RESOLUTION_{self.media_resolution.upper()}")
        if self.safety_settings:
            kw["safety_settings"] = self.safety_settings
        return types.GenerateContentConfig(**{k: v for k, v in kw.items() if v is not None})

    async def _materialise(self, plan: Plan) -> tuple[list[types.Part], list[UsedFile]]:
        """The plan's parts with each :class:`Upload` replaced by its ACTIVE File."""
        uploads = [p for p in plan.parts if isinstance(p, Upload)]
        used = await asyncio.gather(*(self.uploader().ensure(u.blob) for u in uploads))
        by_sha = {u.sha256: u for u in used}
        parts: list[types.Part] = []
        for p in plan.parts:
            if isinstance(p, Upload):
                f = by_sha[p.blob.sha256].file
                meta = types.VideoMetadata(fps=p.video_fps) if p.video_fps else None
                parts.append(types.Part(file_data=types.FileData(file_uri=f.uri, mime_type=f.mime_type),
                                        video_metadata=meta))
            else:
                parts.append(p)
        return parts, list(used)

    async def _generate(self, plan: Plan,
                        config: types.GenerateContentConfig) -> tuple[types.GenerateContentResponse, list[UsedFile]]:
        """Upload what the plan needs and call ``generate_content``; a File the API no longer has (expired or
        deleted since it was registered) is uploaded again once."""
        for first in (True, False):
            parts, used = await self._materialise(plan)
            contents = [types.Content(role="user", parts=parts)]
            try:
                resp = await self.client().aio.models.generate_content(model=self.model, contents=contents,
                                                                       config=config)
                return resp, used
            except errors.APIError as e:
                if not (first and used and _file_refused(e)):
                    raise
                for u in used:
                    self.uploader().forget(u.sha256)
        raise AssertionError("unreachable")

    async def _one(self, req: JudgeRequest) -> JudgeResult:
        t0 = time.perf_counter()
        try:
            config = self.generate_config(req)
        except ValueError as e:  # an answer schema with no Gemini equivalent: every unit alike
            raise JudgeConfigError(f"gemini judge: {e}; set judge.response_schema=false") from e
        try:
            # PNG/WAV encoding and hashing are CPU work: off the event loop, as the openai judge does
            plan = await asyncio.to_thread(plan_parts, req.parts, image_format=self.image_format,
                                           inline_limit_bytes=self.inline_limit_bytes, video_fps=self.video_fps)
        except (ValueError, TypeError, OSError) as e:
            return JudgeResult(failure=Failure("media_error", f"could not build the request: {e}"))
        try:
            resp, used = await self._generate(plan, config)
        except MediaUploadError as e:
            return self._failed("media_error", str(e), t0)
        except errors.APIError as e:
            self._raise_if_config_error(e)
            return self._failed("api_error", f"HTTP {e.code} {e.status or ''}: {self._scrub(e.message or '')}", t0,
                                fault=e)
        except TRANSPORT_ERRORS as e:
            return self._failed("api_error", f"{type(e).__name__}: {self._scrub(str(e))}", t0, fault=e)
        res = read_response(resp, self.model)
        if self.verdict == "logprob":
            stream = gemini_token_stream(resp.candidates[0].logprobs_result if resp.candidates else None)
            res = with_token_verdicts(res, stream, req.prompt.setting, tuple(req.prompt.rubrics) or ("overall",),
                                      who=f"gemini judge ({self.model})", scale=req.prompt.scale)
        res.latency_s = time.perf_counter() - t0
        files = {u.sha256: u for u in used}
        res.extra["gemini_media"] = [{**m, **({"file": files[m["sha256"]].file.name,
                                               "reused": files[m["sha256"]].reused}
                                              if m.get("sha256") in files else {})} for m in plan.media]
        return res

    def _failed(self, kind: FailureKind, detail: str, t0: float, fault: BaseException | None = None) -> JudgeResult:
        return JudgeResult(failure=Failure(kind, detail), latency_s=time.perf_counter() - t0, model=self.model,
                           fault=fault, retry_after_s=retry_after_s(fault) if fault is not None else None)

    def _raise_if_config_error(self, e: errors.APIError) -> None:
        """A refused key or an unknown model fails every request alike: stop the run with the reason."""
        text = f"{e.message or ''} {e.details!r}"
        if e.code in (401,) or "API_KEY_INVALID" in text or (e.code == 400 and "API key not valid" in text):
            raise JudgeConfigError(f"gemini judge: the API refused the key ({self._scrub(e.message or '')}); "
                                   f"check {self.api_key_env or ' / '.join(KEY_ENVS)}")
        if self.verdict == "logprob" and e.code == 400 and "logprob" in (e.message or "").lower():
            raise JudgeConfigError(f"gemini judge: {self.model!r} does not return logprobs "
                                   f"({self._scrub(e.message or '')}); use judge.verdict=generate")
        if e.code == 404 and "models/" in (e.message or ""):
            raise JudgeConfigError(f"gemini judge: model {self.model!r} not found: {self._scrub(e.message or '')}")

    def _scrub(self, message: str) -> str:
        """A server message, shortened, with the API key removed (proxies may echo it)."""
        text = " ".join(str(message).split())
        for n in (self.api_key_env,) if self.api_key_env else KEY_ENVS:
            key = os.environ.get(n or "", "").strip()
            if len(key) >= 4:
                text = text.replace(key, "***")
        return shorten(text, 300)

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        if len(requests) == 1:  # the runner's usual batch: awaited in place, not wrapped in a task of its own
            return [await self._one(requests[0])]
        return list(await asyncio.gather(*(self._one(r) for r in requests)))

    async def aclose(self) -> None:
        if self._uploader is not None:
            self._uploader.registry.close()
            self._uploader = None
        if self._client is not None:
            await self._client.aio.aclose()
            self._client = None


def _thinking_config(budget: int | None, level: str | None) -> types.ThinkingConfig | None:
    """``ThinkingConfig`` from the options, or None to leave the model's default.

    Raises:
        JudgeConfigError: a budget below -1, an unknown level, or both given (the API takes one).
    """
    if budget is None and level is None:
        return None
    if budget is not None and level is not None:
        raise JudgeConfigError("gemini judge: give thinking_budget or thinking_level, not both")
    if budget is not None:
        if int(budget) < -1:
            raise JudgeConfigError(f"gemini judge: thinking_budget {budget} must be -1 (dynamic), 0 (off) or > 0")
        return types.ThinkingConfig(thinking_budget=int(budget))
    levels = [x.value.lower() for x in types.ThinkingLevel if x.name != "THINKING_LEVEL_UNSPECIFIED"]
    if str(level).lower() not in levels:
        raise JudgeConfigError(f"gemini judge: thinking_level {level!r} is not one of {', '.join(levels)}")
    return types.ThinkingConfig(thinking_level=types.ThinkingLevel(str(level).upper()))


def _media_resolution(value: str | None) -> str | None:
    """``low`` / ``medium`` / ``high`` (case-insensitive) or None.

    Raises:
        JudgeConfigError: any other value.
    """
    if value is None:
        return None
    v = str(value).lower()
    if v not in ("low", "medium", "high"):
        raise JudgeConfigError(f"gemini judge: media_resolution {value!r} is not one of low, medium, high")
    return v


def _file_refused(e: errors.APIError) -> bool:
    """The API refused a File the request referred to: gone (403/404) or not ACTIVE (400 FAILED_PRECONDITION)."""
    msg = (e.message or "").lower()
    return "file" in msg and (e.code in (403, 404) or (e.code == 400 and e.status == "FAILED_PRECONDITION"))


def gemini_token_stream(result: types.LogprobsResult | None) -> list[StreamToken] | None:
    """``candidate.logprobs_result`` as tokens with their alternatives (``chosen_candidates[i]`` with
    ``top_candidates[i]``); None when the API sent none."""
    if result is None or not result.chosen_candidates:
        return None
    tops = result.top_candidates or []
    out = []
    for i, c in enumerate(result.chosen_candidates):
        alts = (tops[i].candidates or []) if i < len(tops) else []
        out.append(StreamToken(c.token or "", float(c.log_probability or 0.0),
                               tuple((a.token or "", float(a.log_probability or 0.0)) for a in alts)))
    return out


def enum_text(v: Any) -> str:
    """An SDK enum's value (``"SAFETY"``); a value the SDK did not know (a newer API's) arrives as a plain
    string and is kept as is."""
    return str(getattr(v, "value", v))


def read_response(resp: types.GenerateContentResponse, model: str) -> JudgeResult:
    """A ``generate_content`` response as a :class:`JudgeResult` (text, finish reason, usage, safety)."""
    usage = usage_counts(resp.usage_metadata)
    answered_by = resp.model_version or model
    fb = resp.prompt_feedback
    if fb is not None and fb.block_reason is not None:
        why = f" ({fb.block_reason_message})" if fb.block_reason_message else ""
        return JudgeResult(failure=Failure("safety_block", f"the provider blocked the prompt: "
                                                           f"{enum_text(fb.block_reason)}{why}"),
                           usage=usage, model=answered_by)
    if not resp.candidates:
        return JudgeResult(failure=Failure("api_error", "the API returned no candidates"), usage=usage,
                           model=answered_by)
    cand = resp.candidates[0]
    reason = enum_text(cand.finish_reason) if cand.finish_reason is not None else None
    parts = cand.content.parts if cand.content is not None and cand.content.parts else []
    raw = "".join(p.text for p in parts if p.text and not p.thought)
    if reason in SAFETY_FINISH:
        flagged = [enum_text(r.category) for r in cand.safety_ratings or [] if r.blocked and r.category]
        return JudgeResult(raw=raw, finish_reason=reason.lower(), usage=usage, model=answered_by,
                           failure=Failure("safety_block", f"the provider stopped the answer: {reason}"
                                                           + (f" ({', '.join(flagged)})" if flagged else "")))
    finish = {"STOP": "stop", "MAX_TOKENS": "length"}.get(reason or "", (reason or "").lower() or None)
    return JudgeResult(raw=raw, finish_reason=finish, usage=usage, model=answered_by)


__all__ = ["KEY_ENVS", "PAYLOAD_VERSION", "SAFETY_FINISH", "TRANSIENT_CODES", "GeminiJudge", "read_response",
           "retry_after_s"]
