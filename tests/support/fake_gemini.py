"""A loopback server speaking the Gemini API's REST protocol (``v1beta`` or ``v1``, recorded), for the ``gemini``
judge's tests with the real ``google-genai`` SDK (FastAPI + uvicorn in a thread).

What it implements, as the public API documents it:

* Files API, resumable upload: ``POST /upload/v1beta/files`` with ``X-Goog-Upload-Protocol: resumable`` and
  ``X-Goog-Upload-Command: start`` (declared size and type in ``X-Goog-Upload-Header-Content-*``) answers
  an ``X-Goog-Upload-URL``; ``POST`` of the bytes there with ``upload, finalize`` answers
  ``X-Goog-Upload-Status: final`` and ``{"file": File}``;
* ``GET /v1beta/files/{id}``: the File; ``state`` goes ``PROCESSING`` → ``ACTIVE`` after
  ``Script.processing_polls`` reads (or → ``FAILED`` with ``error`` for a scripted mime type); an unknown or
  expired file is ``403 PERMISSION_DENIED``, as the API answers for files it will not show;
* ``POST /v1beta/models/{model}:generateContent``: scripted errors first (``429 RESOURCE_EXHAUSTED`` with a
  ``google.rpc.RetryInfo`` delay, ``500 INTERNAL``, ``400 INVALID_ARGUMENT``…; a ``responseSchema`` the API
  would refuse, e.g. with ``additionalProperties`` or integer enums, is a 400), then a candidate with the
  scripted text and finish reason, or a prompt blocked by safety (``promptFeedback.blockReason``). A request
  that refers to a file that is not ACTIVE is refused like the API does (403 unknown, 400 not active).
  ``usageMetadata`` counts prompt tokens per modality as the API's published rates do (258 per image,
  32 per second of audio, 263 per second of video + its audio at 32/s), from the uploaded files' real
  durations when the test declares them (``Script.durations``: sha256 → seconds), else 1 s.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.support.loopback import ThreadedServer


@dataclass
class Script:
    """What the server does; tests edit it (under no lock: the judge's calls are awaited in order)."""

    statuses: list[int] = field(default_factory=list)   # generateContent errors returned before replies
    retry_delay_s: float = 0.0                          # RetryInfo.retryDelay of a scripted 429
    # the body of a scripted error status: code → (status, message, details), replacing the default
    error_bodies: dict[int, tuple[str, str, list[dict[str, Any]]]] = field(default_factory=dict)
    reply: str | Callable[[dict[str, Any]], str] = '{"overall_comment": "ok", "overall_choice": "0"}'
    finish_reason: str = "STOP"
    block_reason: str | None = None                    # promptFeedback.blockReason: no candidates at all
    thoughts_tokens: int = 0
    # candidate.logprobsResult sent when the request asks for responseLogprobs (None: the model gives none)
    logprobs_result: dict[str, Any] | None = None
    processing_polls: int = 1                          # files.get calls answering PROCESSING before ACTIVE
    failed_mime_prefixes: tuple[str, ...] = ()         # processing of these types ends FAILED
    durations: dict[str, float] = field(default_factory=dict)  # sha256 hex of an upload → its seconds
    ttl_s: float = 48 * 3600                           # file lifetime (the API's is 48 h)
    delay_s: float = 0.0
    # records
    generate: list[dict[str, Any]] = field(default_factory=list)
    generate_times: list[float] = field(default_factory=list)  # time.monotonic() of each generateContent
    uploads: list[dict[str, Any]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)
    api_keys: set[str] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)    # API versions the client addressed


def _error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=code)


def _ts(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat().replace("+00:00", "Z")


class GeminiState:
    """Files and upload sessions of one server."""

    def __init__(self, script: Script, base: Callable[[], str]) -> None:
        self.script, self.base = script, base
        self.files: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.blobs: dict[str, bytes] = {}  # sha256 hex → the bytes uploaded
        self.ids = itertools.count(1)
        self.lock = threading.Lock()

    def file_json(self, f: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in f.items() if not k.startswith("_")}

    def expire_all(self) -> None:
        """Every file's lifetime ends now (as after 48 h): reads and references answer 403."""
        with self.lock:
            self.files.clear()

    def poll(self, fid: str) -> dict[str, Any] | None:
        with self.lock:
            f = self.files.get(fid)
            if f is None:
                return None
            if f["state"] == "PROCESSING":
                f["_polls"] += 1
                if f["_polls"] > self.script.processing_polls:
                    if f["mimeType"].startswith(self.script.failed_mime_prefixes or ("\0",)):
                        f["state"] = "FAILED"
                        f["error"] = {"code": 3, "message": "Video could not be processed: invalid stream."}
                    else:
                        f["state"] = "ACTIVE"
            return self.file_json(f)


def field_of(d: dict[str, Any], camel: str) -> Any:
    """A field as proto3 JSON allows it: lowerCamelCase or the proto's snake_case (the SDK sends nested
    fields such as ``file_uri`` in snake_case)."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return d.get(camel, d.get(snake))


#: Fields of the API's ``Schema`` (OpenAPI 3.0 subset) that a ``responseSchema`` may use.
SCHEMA_FIELDS = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
                 "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example",
                 "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"}
SCHEMA_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}


def schema_problem(schema: Any, where: str = "responseSchema") -> str | None:
    """What the API would refuse in a ``responseSchema`` (unknown fields such as ``additionalProperties`` or
    ``$schema``, a type outside its enum, non-string ``enum`` values), or None."""
    if not isinstance(schema, dict):
        return f"{where}: not an object"
    for k in schema:
        camel = "".join(w.capitalize() if i else w for i, w in enumerate(k.split("_")))
        if camel not in SCHEMA_FIELDS:
            return f'Invalid JSON payload received. Unknown name "{k}" at \'{where}\''
    t = str(schema.get("type", "")).upper()
    if t not in SCHEMA_TYPES:
        return f"{where}.type: {schema.get('type')!r} is not a Schema type"
    if "enum" in schema and not all(isinstance(e, str) for e in schema["enum"]):
        return f"{where}.enum: only string values are allowed"
    for name, sub in (schema.get("properties") or {}).items():
        problem = schema_problem(sub, f"{where}.properties[{name}]")
        if problem:
            return problem
    return schema_problem(schema["items"], f"{where}.items") if "items" in schema else None


def _modality_tokens(state: GeminiState, body: dict[str, Any]) -> tuple[dict[str, int], str | None]:
    """Prompt tokens per modality; or an error (status text) for a file reference the API would refuse."""
    counts = {"TEXT": 0, "IMAGE": 0, "AUDIO": 0, "VIDEO": 0}
    system = field_of(body, "systemInstruction") or {}
    for part in [*system.get("parts", []), *(p for c in body.get("contents", []) for p in c.get("parts", []))]:
        if "text" in part:
            counts["TEXT"] += max(1, len(part["text"]) // 4)
        elif field_of(part, "inlineData"):
            mime = field_of(field_of(part, "inlineData"), "mimeType")
            counts["IMAGE" if mime.startswith("image/") else "AUDIO"] += 258 if mime.startswith("image/") else 32
        elif field_of(part, "fileData"):
            fid = field_of(field_of(part, "fileData"), "fileUri").rsplit("/", 1)[-1]
            f = state.files.get(fid)
            if f is None:
                return counts, "403"
            if f["state"] != "ACTIVE":
                return counts, "400"
            secs = state.script.durations.get(f["_sha256"], 1.0)
            if f["mimeType"].startswith("video/"):
                counts["VIDEO"] += round(263 * secs)
                counts["AUDIO"] += round(32 * secs)
            else:
                counts["AUDIO"] += round(32 * secs)
    return counts, None


def make_app(script: Script, state: GeminiState) -> FastAPI:
    app = FastAPI()

    @app.post("/upload/{version}/files")
    async def start_upload(version: str, request: Request) -> Response:
        h = request.headers
        script.api_keys.add(h.get("x-goog-api-key", ""))
        if h.get("x-goog-upload-protocol") != "resumable" or h.get("x-goog-upload-command") != "start":
            return _error(400, "INVALID_ARGUMENT", "expected a resumable upload start")
        meta = (await request.json()).get("file") or {}
        sid = f"s{next(state.ids)}"
        state.sessions[sid] = {"meta": meta, "size": int(h["x-goog-upload-header-content-length"]),
                               "mime": h["x-goog-upload-header-content-type"], "data": b""}
        url = f"{state.base()}/upload/{version}/files?upload_id={sid}&upload_protocol=resumable"
        script.versions.add(version)
        return Response(status_code=200, headers={"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"})

    async def chunk(request: Request, sid: str) -> Response:
        version = request.url.path.split("/")[2]
        s = state.sessions.get(sid)
        if s is None:
            return _error(404, "NOT_FOUND", f"no upload session {sid}")
        cmd = request.headers.get("x-goog-upload-command", "")
        if int(request.headers.get("x-goog-upload-offset", "-1")) != len(s["data"]):
            return _error(400, "INVALID_ARGUMENT", "upload offset does not match")
        s["data"] += await request.body()
        if "finalize" not in cmd:
            return Response(status_code=200, headers={"X-Goog-Upload-Status": "active"})
        if len(s["data"]) != s["size"]:
            return _error(400, "INVALID_ARGUMENT", f"declared {s['size']} bytes, received {len(s['data'])}")
        fid = f"f{next(state.ids):04d}"
        now = time.time()
        digest = hashlib.sha256(s["data"]).hexdigest()
        f = {"name": f"files/{fid}", "displayName": field_of(s["meta"], "displayName") or "", "mimeType": s["mime"],
             "sizeBytes": str(s["size"]), "createTime": _ts(now), "updateTime": _ts(now),
             "expirationTime": _ts(now + script.ttl_s),
             "sha256Hash": base64.b64encode(digest.encode()).decode(),
             "uri": f"{state.base()}/{version}/files/{fid}", "state": "PROCESSING", "source": "UPLOADED",
             "_polls": 0, "_sha256": digest}
        with state.lock:
            state.files[fid] = f
            state.blobs[digest] = s["data"]
        del state.sessions[sid]
        script.uploads.append({"name": f["name"], "mime": s["mime"], "size": s["size"], "sha256": digest,
                               "display_name": f["displayName"]})
        return JSONResponse({"file": state.file_json(f)}, headers={"X-Goog-Upload-Status": "final"})

    @app.middleware("http")
    async def route_upload_chunks(request: Request, call_next: Any) -> Response:
        sid = request.query_params.get("upload_id")
        if request.method == "POST" and request.url.path.startswith("/upload/") and sid:
            return await chunk(request, sid)
        return await call_next(request)  # type: ignore[no-any-return]

    @app.get("/{version}/files/{fid}")
    async def get_file(version: str, fid: str) -> JSONResponse:
        script.versions.add(version)
        script.gets.append(fid)
        f = state.poll(fid)
        if f is None:
            return _error(403, "PERMISSION_DENIED",
                          f"You do not have permission to access the File {fid} or it may not exist.")
        return JSONResponse(f)

    @app.post("/{version}/models/{model_action}")
    async def generate(version: str, model_action: str, request: Request) -> JSONResponse:
        script.versions.add(version)
        model, _, action = model_action.partition(":")
        if action != "generateContent":
            return _error(404, "NOT_FOUND", f"unknown action {action!r}")
        body = await request.json()
        script.api_keys.add(request.headers.get("x-goog-api-key", ""))
        script.generate.append(body)
        script.generate_times.append(time.monotonic())
        if script.delay_s:
            await asyncio.sleep(script.delay_s)
        if script.statuses:
            code = script.statuses.pop(0)
            if code in script.error_bodies:
                return _error(code, *script.error_bodies[code])
            if code == 429:
                return _error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                              [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                "retryDelay": f"{script.retry_delay_s:g}s"}])
            status = {500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}.get(code, "X")
            return _error(code, status, f"scripted {code}")
        gen = field_of(body, "generationConfig") or {}
        problem = schema_problem(field_of(gen, "responseSchema")) if field_of(gen, "responseSchema") else None
        if problem:
            return _error(400, "INVALID_ARGUMENT", problem)
        counts, refused = _modality_tokens(state, body)
        if refused == "403":
            return _error(403, "PERMISSION_DENIED", "You do not have permission to access the File or it may "
                                                    "not exist.")
        if refused == "400":
            return _error(400, "FAILED_PRECONDITION", "The File is not in an ACTIVE state and usage is not allowed.")
        details = [{"modality": m, "tokenCount": n} for m, n in counts.items() if n]
        prompt_tokens = sum(counts.values())
        usage: dict[str, Any] = {"promptTokenCount": prompt_tokens, "promptTokensDetails": details}
        if script.block_reason:
            return JSONResponse({"promptFeedback": {"blockReason": script.block_reason, "safetyRatings": [
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
                "usageMetadata": {**usage, "totalTokenCount": prompt_tokens}, "modelVersion": model})
        text = script.reply(body) if callable(script.reply) else script.reply
        parts = [{"text": text}] if script.finish_reason != "SAFETY" else []
        out_tokens = max(1, len(text) // 4)
        usage.update(candidatesTokenCount=out_tokens, totalTokenCount=prompt_tokens + out_tokens
                     + script.thoughts_tokens)
        if script.thoughts_tokens:
            usage["thoughtsTokenCount"] = script.thoughts_tokens
        cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "finishReason": script.finish_reason,
                                "index": 0}
        if field_of(gen, "responseLogprobs") and script.logprobs_result is not None:
            cand["logprobsResult"] = script.logprobs_result
        if script.finish_reason == "SAFETY":
            cand["safetyRatings"] = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH",
                                      "blocked": True}]
        return JSONResponse({"candidates": [cand], "usageMetadata": usage, "modelVersion": f"{model}-001",
                             "responseId": "r1"})

    return app


class FakeGemini(ThreadedServer):
    """Run the server in a background thread; ``base_url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.state = GeminiState(self.script, lambda: self.base_url)
        super().__init__(make_app(self.script, self.state), "fake Gemini")

    @property
    def base_url(self) -> str:
        return self.url
