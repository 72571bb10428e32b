"""Encoded prompt parts → Gemini content parts; the answer's JSON schema → ``response_schema``; usage counts.

How each medium is sent (Gemini API docs: "Image understanding", "Audio understanding", "Video
understanding"):

* image → inline bytes (PNG or JPEG) while the request's inline bytes stay under ``inline_limit_bytes``
  (the API refuses requests over 20 MB); beyond it, an uploaded File;
* audio → an uploaded File: the decoded samples as WAV (16-bit PCM at the encoder's rate, cut as the encoder
  cut them), so the judge hears exactly what the other judges are given;
* video → the source file uploaded as is, so the model hears its sound track and samples frames itself
  (``video_fps`` sets the rate; the API's default is 1 frame/s). When the file cannot be sent — decoded from
  bytes or image files (no source path), or its sound must not be heard (the encoder left the audio out, or
  the judge was configured without audio) — its sampled frames go inline with timestamp lines, followed by the
  audio track (if any) as a File.

:func:`plan_parts` returns Gemini ``Part`` s and :class:`Upload` placeholders; the judge turns the latter into
File parts once uploaded (:mod:`.gemini_files`).
"""

from __future__ import annotations

import mimetypes
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from google.genai import types

from judgeanything.judges.gemini_files import Blob
from judgeanything.judges.openai_payload import FileBytes, audio_file_bytes, frame_file_bytes, image_file_bytes
from judgeanything.modalities._files import sha256_file
from judgeanything.modalities.base import Encoded, EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import TextPart

#: The API's request limit is 20 MB; this leaves room for the text and the JSON/base64 overhead.
INLINE_LIMIT_BYTES = 14_000_000


@dataclass(frozen=True)
class Upload:
    """A medium to send as an uploaded File: its blob, and ``video_fps`` for a video (None = API default)."""

    blob: Blob
    modality: str
    role: str
    video_fps: float | None = None


@dataclass
class Plan:
    """The parts of one request in order (``Part`` or :class:`Upload`) and, per medium, how it is sent
    (``{"role", "modality", "sent_as": "inline" | "file" | "frames", "mime_type", "bytes", "sha256"}``)."""

    parts: list[types.Part | Upload] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    _text: list[str] = field(default_factory=list)
    inline_bytes: int = 0

    def text(self, t: str) -> None:
        if t:
            self._text.append(t)

    def add(self, part: types.Part | Upload) -> None:
        self.flush()
        self.parts.append(part)

    def flush(self) -> None:
        if self._text:
            self.parts.append(types.Part.from_text(text="".join(self._text)))
            self._text.clear()


def _video_sound_allowed(v: EncodedVideo) -> bool:
    """Whether the source file may be sent: its sound is what the judge is meant to hear (the audio track
    is in the part, or the file has none)."""
    return v.audio is not None or v.provenance.get("has_audio") is False


def _video_file(v: EncodedVideo) -> tuple[Path, os.stat_result] | None:
    """The video's source file to upload and its ``stat`` (one call: size, and identity for the memoised
    digest), or ``None`` when it is not to be sent or is no longer a regular file."""
    src = v.provenance.get("path")
    if not src or not _video_sound_allowed(v):
        return None
    path = Path(str(src))
    try:
        st = path.stat()
    except OSError:
        return None
    return (path, st) if stat.S_ISREG(st.st_mode) else None


def _audio_upload(a: EncodedAudio, role: str, what: str) -> Upload:
    wav = audio_file_bytes(a.samples, a.sample_rate, "wav")  # encoded and hashed once per distinct sound
    return Upload(Blob(wav.sha256, "audio/wav", len(wav.data), data=wav.data, what=f"{what} ({role})"),
                  "audio", role)


def plan_parts(parts: Sequence[TextPart | Encoded], *, image_format: Literal["png", "jpeg"] = "png",
               inline_limit_bytes: int = INLINE_LIMIT_BYTES, video_fps: float | None = None) -> Plan:
    """Lay out a prompt's parts for ``generate_content`` (see the module docstring).

    Raises:
        ValueError: a video whose frames and timestamps differ in number (sent as frames).
        TypeError: a part that is neither text nor an ``Encoded`` value.
        OSError: a video's source file cannot be read.
    """
    plan = Plan()
    mime_image = f"image/{image_format}"

    def image(file: FileBytes, role: str, modality: str = "image") -> None:
        # ``file``: the PNG / JPEG file and its digest, made once per distinct image or frame
        # (openai_payload.PAYLOADS)
        data = file.data
        if plan.inline_bytes + len(data) <= inline_limit_bytes:
            plan.inline_bytes += len(data)
            plan.add(types.Part.from_bytes(data=data, mime_type=mime_image))
            sent = "inline"
        else:
            plan.add(Upload(Blob(file.sha256, mime_image, len(data), data=data, what=f"image ({role})"),
                            "image", role))
            sent = "file"
        if modality == "image":
            plan.media.append({"role": role, "modality": "image", "sent_as": sent, "mime_type": mime_image,
                               "bytes": len(data), "sha256": file.sha256})

    def audio(a: EncodedAudio, role: str, what: str) -> None:
        up = _audio_upload(a, role, what)
        plan.add(up)
        plan.media.append({"role": role, "modality": "audio", "sent_as": "file", "mime_type": "audio/wav",
                           "bytes": up.blob.size, "sha256": up.blob.sha256, "duration_s": round(a.duration_s, 3)})

    for p in parts:
        if isinstance(p, TextPart):
            plan.text(p.text)
        elif isinstance(p, EncodedText):
            plan.text(p.text)
        elif isinstance(p, EncodedImage):
            image(image_file_bytes(p.image, image_format), p.role)
        elif isinstance(p, EncodedAudio):
            audio(p, p.role, "audio")
        elif isinstance(p, EncodedVideo):
            _video(plan, p, image, audio, video_fps, image_format)
        else:
            raise TypeError(f"cannot send a {type(p).__name__} to the gemini judge")
    plan.flush()
    return plan


def _video(plan: Plan, v: EncodedVideo, image: Any, audio: Any, video_fps: float | None,
           image_format: Literal["png", "jpeg"] = "png") -> None:
    found = _video_file(v)
    if found is not None:
        path, st = found
        mime = mimetypes.guess_type(path.name)[0] or "video/mp4"
        size = st.st_size
        digest = sha256_file(path, st)  # memoised on the file's identity: read once per process
        plan.add(Upload(Blob(digest, mime, size, path=path, what=f"video ({v.role})"), "video", v.role, video_fps))
        plan.media.append({"role": v.role, "modality": "video", "sent_as": "file", "mime_type": mime,
                           "bytes": size, "sha256": digest, "with_sound": v.audio is not None,
                           "video_fps": video_fps})
        return
    if len(v.timestamps) != len(v.frames):
        raise ValueError(f"video of {v.role or 'a part'} has {len(v.frames)} frames but {len(v.timestamps)} "
                         "timestamps")
    plan.text(f"[video: {len(v.frames)} frames sampled at {v.fps:.3g} fps]")
    for i, t in enumerate(v.timestamps):
        plan.text(f"[t={t:.2f}s]")
        image(frame_file_bytes(v.frames, i, image_format), v.role, modality="frame")
    plan.media.append({"role": v.role, "modality": "video", "sent_as": "frames", "frames": len(v.frames),
                       "with_sound": v.audio is not None})
    if v.audio is not None:
        plan.text("[the video's audio track]")
        audio(v.audio, v.role, "the video's audio track")


# -------------------------------------------------------------------------------------------- schema

_TYPES = {"object": types.Type.OBJECT, "string": types.Type.STRING, "integer": types.Type.INTEGER,
          "number": types.Type.NUMBER, "boolean": types.Type.BOOLEAN, "array": types.Type.ARRAY}


def response_schema(schema: Mapping[str, Any]) -> types.Schema:
    """The answer's JSON schema (:func:`judgeanything.prompts.output_schema`) as Gemini's ``response_schema``
    (an OpenAPI 3.0 subset).

    Object properties keep their order (``property_ordering``: each rubric's comment before its verdict, as
    the prompt asks); string enums stay enums; an integer enum (a score scale) becomes ``minimum``/``maximum``
    (the API's enums are strings only); arrays keep ``items`` and ``minItems``/``maxItems`` (checklists);
    ``pattern``, lengths and ``description`` are kept; ``$schema``, ``title`` and ``additionalProperties`` are
    dropped (``required`` lists every key).

    Raises:
        ValueError: a construct with no Gemini equivalent (``oneOf``, a missing or unknown ``type``…).
    """
    t = schema.get("type")
    if t not in _TYPES:
        raise ValueError(f"response_schema: unsupported JSON schema type {t!r} in {dict(schema)!r:.120}")
    unsupported = {"oneOf", "allOf", "not", "$ref"} & set(schema)
    if unsupported:
        raise ValueError(f"response_schema: {sorted(unsupported)[0]} has no Gemini equivalent")
    kw: dict[str, Any] = {"type": _TYPES[t]}
    if "description" in schema:
        kw["description"] = str(schema["description"])
    if t == "object":
        props = dict(schema.get("properties") or {})
        kw["properties"] = {k: response_schema(v) for k, v in props.items()}
        kw["property_ordering"] = list(props)
        kw["required"] = list(schema.get("required") or [])
    elif t == "array" and "items" in schema:
        kw["items"] = response_schema(schema["items"])
    enum = schema.get("enum")
    if enum is not None and t == "string":
        kw.update(enum=[str(e) for e in enum], format="enum")
    elif enum is not None and t in ("integer", "number"):
        kw.update(minimum=min(enum), maximum=max(enum))
    for k_json, k_api in (("minimum", "minimum"), ("maximum", "maximum"), ("pattern", "pattern"),
                          ("minItems", "min_items"), ("maxItems", "max_items"), ("minLength", "min_length"),
                          ("maxLength", "max_length")):
        if k_json in schema:
            kw[k_api] = schema[k_json]
    return types.Schema(**kw)


# -------------------------------------------------------------------------------------------- usage


def usage_counts(um: types.GenerateContentResponseUsageMetadata | None) -> dict[str, int]:
    """Token counts of a response: ``prompt_tokens``; ``completion_tokens`` (answer + thinking, as billed);
    ``reasoning_tokens`` (thinking); ``cached_prompt_tokens``; and the prompt tokens per modality
    (``text_prompt_tokens``, ``image_prompt_tokens``, ``audio_prompt_tokens``, ``video_prompt_tokens``) from
    ``prompt_tokens_details``. Absent detail counts are left out."""
    if um is None:
        return {}
    thoughts = int(um.thoughts_token_count or 0)
    out = {"prompt_tokens": int(um.prompt_token_count or 0),
           "completion_tokens": int(um.candidates_token_count or 0) + thoughts}
    if thoughts:
        out["reasoning_tokens"] = thoughts
    if um.cached_content_token_count:
        out["cached_prompt_tokens"] = int(um.cached_content_token_count)
    for d in um.prompt_tokens_details or []:
        if d.modality is not None and d.token_count is not None:
            key = f"{str(getattr(d.modality, 'value', d.modality)).lower()}_prompt_tokens"
            out[key] = out.get(key, 0) + int(d.token_count)
    return out


__all__ = ["INLINE_LIMIT_BYTES", "Plan", "Upload", "plan_parts", "response_schema", "usage_counts"]
