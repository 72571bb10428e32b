"""Encoded content parts → OpenAI chat-completions message content (official SDK types).

* image → ``image_url`` with a base64 data URL (PNG or JPEG);
* audio → ``input_audio`` (base64 WAV 16-bit PCM, or MP3 when asked and an encoder is available);
* video → either its sampled frames as images, each preceded by a timestamp line, plus the audio track
  as ``input_audio`` (``video_mode="frames"``), or ``video_url`` (``video_mode="video_url"``: a local path
  or URL of the source file, which vLLM / SGLang / ``transformers serve`` accept), configurable;
* text → ``text``.

The result validates against ``openai.types.chat.ChatCompletionMessageParam`` (checked in tests).
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import soundfile as sf

from judgeanything.modalities.base import Encoded, EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import TextPart


def image_bytes(image: Any, fmt: Literal["png", "jpeg"] = "png", quality: int = 90) -> bytes:
    """A PIL RGB image encoded as a PNG or JPEG file (also what the ``gemini`` judge sends inline)."""
    buf = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buf, format="JPEG", quality=quality)
    else:
        image.save(buf, format="PNG")
    return buf.getvalue()


@dataclass(frozen=True, slots=True)
class FileBytes:
    """A media file as a judge sends it — PNG / JPEG / WAV bytes — with their SHA-256 hex digest, computed once
    beside the bytes and cached with them (:data:`PAYLOADS`): the ``gemini`` judge names uploads and each
    medium's provenance by the digest, and hashing ~100 KB per medium per request cost as much as a cache hit
    saved."""

    data: bytes
    sha256: str

    @classmethod
    def of(cls, data: bytes) -> FileBytes:
        return cls(data, hashlib.sha256(data).hexdigest())

    def __len__(self) -> int:  # the size :class:`PayloadCache` holds
        return len(self.data)


_Payload = TypeVar("_Payload", str, bytes, FileBytes)


class PayloadCache:
    """Encoded media payloads (base64 data URLs / audio; the PNG / WAV file bytes the ``gemini`` judge sends) by
    the hash of the pixels or samples they encode.

    A query's image reaches the judge in the prompt of every response, order and repeat of it, and a probe
    image in many items: PNG-encoding and base64 it each time cost ~4 ms per image per request. The key is
    a BLAKE2b digest of the decoded array's bytes with its shape, type and the target format, so equal
    content shares one entry whatever file it came from and a different decode never hits. Least recently
    used entries go first once ``max_bytes`` of payload text are held. Thread-safe (requests are built in
    worker threads)."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_bytes = int(max_bytes)
        self.hits = self.misses = 0
        self._held = 0
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], make: Callable[[], _Payload]) -> _Payload:
        with self._lock:
            got = self._items.get(key)
            if got is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return got
        value = make()  # outside the lock: encoding is the slow part; a rare double encode is harmless
        with self._lock:
            self.misses += 1
            if key not in self._items:
                self._items[key] = value
                self._held += len(value)
                while self._held > self.max_bytes and len(self._items) > 1:
                    _, old = self._items.popitem(last=False)
                    self._held -= len(old)
        return value


#: The process-wide payload cache of the openai judge.
PAYLOADS = PayloadCache()


def _digest(data: bytes | memoryview) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _ObjectDigests:
    """The content digest of a decoded image or array, remembered per live object: the media cache hands every
    unit the same decoded object, so its pixels are hashed once, not once per request. An entry is dropped when
    its object is collected (a weak reference), so a recycled ``id`` can never return another object's digest."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref[Any], str]] = {}
        self._lock = threading.Lock()

    def get(self, obj: Any, content: Callable[[], bytes | memoryview]) -> str:
        key = id(obj)
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and hit[0]() is obj:
            return hit[1]
        digest = _digest(content())
        def forget(r: weakref.ref[Any]) -> None:
            self._forget(key, r)

        try:
            ref = weakref.ref(obj, forget)
        except TypeError:  # an object without weak references: hashed every time
            return digest
        with self._lock:
            self._items[key] = (ref, digest)
        return digest

    def _forget(self, key: int, ref: weakref.ref[Any]) -> None:
        with self._lock:
            if key in self._items and self._items[key][0] is ref:
                del self._items[key]


_DIGESTS = _ObjectDigests()


def image_data_url(image: Any, fmt: Literal["png", "jpeg"] = "png", quality: int = 90) -> str:
    """A PIL RGB image as a ``data:image/<fmt>;base64,…`` URL (cached by pixel content: :data:`PAYLOADS`)."""
    key = ("image", fmt, quality, image.mode, image.size, _DIGESTS.get(image, image.tobytes))
    return PAYLOADS.get(key, lambda: f"data:image/{fmt};base64,"
                                     f"{base64.b64encode(image_bytes(image, fmt, quality)).decode()}")


def frame_data_url(frame: np.ndarray, fmt: Literal["png", "jpeg"] = "png", quality: int = 90,
                   *, video: np.ndarray | None = None, index: int = 0) -> str:
    """A ``(H, W, 3) uint8`` video frame as a data URL (cached by pixel content, like :func:`image_data_url`).

    ``video``/``index``: the ``(T, H, W, 3)`` array the frame is ``video[index]`` of; its content is hashed
    once for all its frames (each request's frames are fresh views, but of the same decoded array)."""
    if video is not None:
        whole = np.ascontiguousarray(video)
        content: tuple[Any, ...] = ("of", _DIGESTS.get(video, lambda: whole.data.cast("B")), whole.shape,
                                    int(index))
    else:
        frame = np.ascontiguousarray(frame)
        content = ("is", _digest(frame.data.cast("B")), frame.shape)
    key = ("frame", fmt, quality, str(frame.dtype), content)
    return PAYLOADS.get(key, lambda: f"data:image/{fmt};base64,"
                                     f"{base64.b64encode(image_bytes(_frame_image(frame), fmt, quality)).decode()}")


def image_file_bytes(image: Any, fmt: Literal["png", "jpeg"] = "png", quality: int = 90) -> FileBytes:
    """:func:`image_bytes` and their digest, cached by pixel content (:data:`PAYLOADS`): the file the ``gemini``
    judge sends."""
    key = ("image-file", fmt, quality, image.mode, image.size, _DIGESTS.get(image, image.tobytes))
    return PAYLOADS.get(key, lambda: FileBytes.of(image_bytes(image, fmt, quality)))


def frame_file_bytes(video: np.ndarray, index: int, fmt: Literal["png", "jpeg"] = "png",
                     quality: int = 90) -> FileBytes:
    """Frame ``index`` of a ``(T, H, W, 3) uint8`` video as a PNG / JPEG file's bytes and their digest, cached
    by the video's content (hashed once for all its frames, as in :func:`frame_data_url`)."""
    whole = np.ascontiguousarray(video)
    key = ("frame-file", fmt, quality, str(whole.dtype), whole.shape, int(index),
           _DIGESTS.get(video, lambda: whole.data.cast("B")))
    return PAYLOADS.get(key, lambda: FileBytes.of(image_bytes(_frame_image(whole[index]), fmt, quality)))


def audio_file_bytes(samples: np.ndarray, sample_rate: int, fmt: Literal["wav", "mp3"] = "wav") -> FileBytes:
    """:func:`audio_bytes` and their digest, cached by sample content (:data:`PAYLOADS`).

    Raises:
        ValueError: an unknown format.
    """
    arr = np.ascontiguousarray(samples, dtype=np.float32)
    key = ("audio-file", fmt, int(sample_rate), arr.shape, _DIGESTS.get(samples, lambda: arr.data.cast("B")))
    return PAYLOADS.get(key, lambda: FileBytes.of(audio_bytes(arr, sample_rate, fmt)))


def audio_base64(samples: np.ndarray, sample_rate: int, fmt: Literal["wav", "mp3"] = "wav") -> str:
    """Mono ``(N,) float32`` samples at ``sample_rate`` Hz → base64 of a WAV (PCM 16) or MP3 file.

    Raises:
        ValueError: an unknown format.
    """
    arr = np.ascontiguousarray(samples, dtype=np.float32)
    key = ("audio", fmt, int(sample_rate), arr.shape, _DIGESTS.get(samples, lambda: arr.data.cast("B")))
    return PAYLOADS.get(key, lambda: base64.b64encode(audio_bytes(arr, sample_rate, fmt)).decode())


def audio_bytes(samples: np.ndarray, sample_rate: int, fmt: Literal["wav", "mp3"] = "wav") -> bytes:
    """Mono ``(N,) float32`` samples at ``sample_rate`` Hz → a WAV (PCM 16) or MP3 file's bytes
    (deterministic: the same samples give the same bytes, so uploads can be keyed by their hash).

    Raises:
        ValueError: an unknown format.
    """
    buf = io.BytesIO()
    if fmt == "wav":
        sf.write(buf, np.asarray(samples, dtype=np.float32), int(sample_rate), format="WAV", subtype="PCM_16")
    elif fmt == "mp3":
        sf.write(buf, np.asarray(samples, dtype=np.float32), int(sample_rate), format="MP3")
    else:
        raise ValueError(f"audio format {fmt!r} is not one of wav, mp3")
    return buf.getvalue()


def _frame_image(frame: np.ndarray) -> Any:
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(frame), mode="RGB")


def content_parts(parts: Sequence[TextPart | Encoded], *, image_format: Literal["png", "jpeg"] = "png",
                  audio_format: Literal["wav", "mp3"] = "wav",
                  video_mode: Literal["frames", "video_url"] = "frames") -> list[dict[str, Any]]:
    """Convert prompt parts to a list of chat content parts (dicts of the SDK's TypedDicts).

    Args:
        parts: text parts and decoded media, in prompt order.
        image_format: encoding of images and video frames.
        audio_format: encoding of audio (``input_audio.format``).
        video_mode: ``frames`` (images + timestamps) or ``video_url`` (needs ``provenance["path"]`` or
            ``provenance["url"]`` of the source file).

    Raises:
        ValueError: ``video_url`` asked for a video whose source location is unknown; a video whose
            frames and timestamps differ in number (``frames`` mode).
    """
    out: list[dict[str, Any]] = []

    def text(t: str) -> None:
        if out and out[-1]["type"] == "text":
            out[-1]["text"] += t
        else:
            out.append({"type": "text", "text": t})

    for p in parts:
        if isinstance(p, TextPart):
            if p.text:
                text(p.text)
        elif isinstance(p, EncodedText):
            text(p.text)
        elif isinstance(p, EncodedImage):
            out.append({"type": "image_url", "image_url": {"url": image_data_url(p.image, image_format)}})
        elif isinstance(p, EncodedAudio):
            out.append({"type": "input_audio",
                        "input_audio": {"data": audio_base64(p.samples, p.sample_rate, audio_format),
                                        "format": audio_format}})
        elif isinstance(p, EncodedVideo):
            if video_mode == "video_url":
                src = p.provenance.get("url") or p.provenance.get("path")
                if not src:
                    raise ValueError(f"video_url mode needs the source file of {p.role or 'a video'}; "
                                     "its provenance has no path/url")
                out.append({"type": "video_url", "video_url": {"url": str(src)}})
            else:
                if len(p.timestamps) != len(p.frames):  # zip would drop frames while the header counts them
                    raise ValueError(f"video of {p.role or 'a part'} has {len(p.frames)} frames but "
                                     f"{len(p.timestamps)} timestamps")
                text(f"[video: {len(p.frames)} frames sampled at {p.fps:.3g} fps]")
                for i, (t, frame) in enumerate(zip(p.timestamps, p.frames, strict=True)):
                    text(f"[t={t:.2f}s]")
                    url = frame_data_url(frame, image_format, video=p.frames, index=i)
                    out.append({"type": "image_url", "image_url": {"url": url}})
            if p.audio is not None:  # the audio track follows as input_audio (adapt_parts drops it if unheard)
                text("[the video's audio track]")
                out.append({"type": "input_audio",
                            "input_audio": {"data": audio_base64(p.audio.samples, p.audio.sample_rate,
                                                                 audio_format),
                                            "format": audio_format}})
        else:
            raise TypeError(f"cannot send a {type(p).__name__} to an OpenAI-compatible judge")
    return out


def chat_messages(system: str, parts: Sequence[TextPart | Encoded], **kwargs: Any) -> list[dict[str, Any]]:
    """``[system, user]`` messages for one judge request (see :func:`content_parts` for kwargs)."""
    msgs: list[dict[str, Any]] = []
    if system:
        msgs.append({"role": "system", "content": system})
    msgs.append({"role": "user", "content": content_parts(parts, **kwargs)})
    return msgs
