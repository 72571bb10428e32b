"""The cache key of one judge request: a SHA-256 over everything that can change the judge's answer.

Hashed (as canonical JSON, see :func:`request_key`): the cache format version; the judge's fingerprint
(backend, model id, sampling parameters, payload formats — :meth:`Judge.fingerprint`, no secrets); the
provider-reported model snapshot last seen for that fingerprint; the prompt version, setting, mode and
rubric (or checklist) ids; the rendered system text; every user part in order — text verbatim, media as
the digest of the decoded content the judge receives (:func:`media_digest`) with its modality and role;
the output schema; the presentation order; the repeat index.

Why decoded content and not the file: the judge is sent what the encoders produced (resized pixels,
sampled frames, resampled audio), so a changed encoder option or downgrade changes the key while a moved
or renamed file does not. The transport encoding (PNG vs JPEG, WAV, base64) is a deterministic function of
that content and of the fingerprint's ``image_format`` / ``audio_format`` / ``video_mode``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import MediaSlot, Prompt, TextPart

#: Bumped when the key material or the stored entry format changes: old entries then never match.
CACHE_FORMAT = 1


class _DigestMemo:
    """Digests of decoded media payloads, by object identity. The media cache hands every unit that shows
    the same item the same (read-only) array or image, so each payload is hashed once per run, not once per
    unit. Entries hold a reference to the payload, so an ``id`` is never reused while remembered."""

    def __init__(self, size: int = 2048) -> None:
        self._d: OrderedDict[int, tuple[Any, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, obj: Any) -> str | None:
        with self._lock:
            hit = self._d.get(id(obj))
            if hit is None or hit[0] is not obj:
                return None
            self._d.move_to_end(id(obj))
            return hit[1]

    def put(self, obj: Any, digest: str) -> None:
        with self._lock:
            self._d[id(obj)] = (obj, digest)
            while len(self._d) > self._size:
                self._d.popitem(last=False)


_MEMO = _DigestMemo()


def _array_digest(a: np.ndarray) -> str:
    hit = _MEMO.get(a)
    if hit is not None:
        return hit
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(np.ascontiguousarray(a).data)
    digest = h.hexdigest()
    _MEMO.put(a, digest)
    return digest


def _image_digest(img: Any) -> str:
    hit = _MEMO.get(img)
    if hit is not None:
        return hit
    h = hashlib.sha256(f"{img.mode}{img.size}".encode())
    h.update(img.tobytes())
    digest = h.hexdigest()
    _MEMO.put(img, digest)
    return digest


def media_digest(part: EncodedImage | EncodedAudio | EncodedVideo | EncodedText) -> str:
    """SHA-256 (hex) of the decoded content of one media part: an image's mode, size and pixels; audio's
    samples ``(N,) float32`` and sample rate; a video's frames ``(T, H, W, 3) uint8``, timestamps, fps and
    audio track; text verbatim.

    Raises:
        TypeError: ``part`` is not one of the core encodings.
    """
    if isinstance(part, EncodedImage):
        return _image_digest(part.image)
    if isinstance(part, EncodedAudio):
        return hashlib.sha256(f"{_array_digest(part.samples)}@{part.sample_rate}".encode()).hexdigest()
    if isinstance(part, EncodedVideo):
        audio = media_digest(part.audio) if part.audio is not None else ""
        blob = orjson.dumps([_array_digest(part.frames), [float(t) for t in part.timestamps], float(part.fps),
                             audio])
        return hashlib.sha256(blob).hexdigest()
    if isinstance(part, EncodedText):
        return hashlib.sha256(part.text.encode("utf-8")).hexdigest()
    raise TypeError(f"cannot hash a media part of type {type(part).__name__} (expected a core encoding)")


def _parts_material(prompt: Prompt, parts: Sequence[Any]) -> list[list[str]]:
    """The user content in order. ``parts`` are the decoded parts sent (empty for judges that take no media:
    then the prompt's own parts, media named by their reference)."""
    out: list[list[str]] = []
    for p in parts or prompt.parts:
        if isinstance(p, TextPart):
            out.append(["text", p.text])
        elif isinstance(p, MediaSlot):
            out.append(["ref", p.role, orjson.dumps(p.ref, default=str).decode()])
        else:
            out.append([p.modality, p.role, media_digest(p)])
    return out


def request_key(prompt: Prompt, parts: Sequence[Any], *, order: Sequence[int], repeat: int,
                judge_fingerprint: Mapping[str, Any], snapshot: str = "") -> str:
    """The cache key (64 hex chars) of one request (see the module docstring for what it covers).

    Args:
        prompt: the rendered prompt (system text, version, rubrics, output schema).
        parts: the parts actually sent, media decoded (``JudgeRequest.parts``).
        order: the presentation order (``order[k]`` = dataset slot shown at position ``k``).
        repeat: the repeat index (repeats are distinct samples, never each other's cache hits).
        judge_fingerprint: :meth:`Judge.fingerprint` (JSON-able, no secrets).
        snapshot: the provider-reported model snapshot for this fingerprint, ``""`` when none is known yet.
    """
    material = {
        "format": CACHE_FORMAT,
        "judge": dict(judge_fingerprint),
        "snapshot": snapshot,
        "prompt_version": prompt.version,
        "setting": prompt.setting,
        "mode": prompt.mode,
        "rubrics": list(prompt.rubrics),
        "system": prompt.system,
        "parts": _parts_material(prompt, parts),
        "schema": dict(prompt.output_schema),
        "n_responses": prompt.n_responses,
        "order": [int(i) for i in order],
        "repeat": int(repeat),
    }
    blob = orjson.dumps(material, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(blob).hexdigest()


def fingerprint_id(judge_fingerprint: Mapping[str, Any]) -> str:
    """A short stable id of a judge fingerprint (names its snapshot pointer in the store)."""
    blob = orjson.dumps(dict(judge_fingerprint), option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(blob).hexdigest()[:32]


__all__ = ["CACHE_FORMAT", "fingerprint_id", "media_digest", "request_key"]
