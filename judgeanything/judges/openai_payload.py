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
import io
from collections.abc import Sequence
from typing import Any, Literal

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


def image_data_url(image: Any, fmt: Literal["png", "jpeg"] = "png", quality: int = 90) -> str:
    """A PIL RGB image as a ``data:image/<fmt>;base64,…`` URL."""
    return f"data:image/{fmt};base64,{base64.b64encode(image_bytes(image, fmt, quality)).decode()}"


def audio_base64(samples: np.ndarray, sample_rate: int, fmt: Literal["wav", "mp3"] = "wav") -> str:
    """Mono ``(N,) float32`` samples at ``sample_rate`` Hz → base64 of a WAV (PCM 16) or MP3 file.

    Raises:
        ValueError: an unknown format.
    """
    return base64.b64encode(audio_bytes(samples, sample_rate, fmt)).decode()


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
                for t, frame in zip(p.timestamps, p.frames, strict=True):
                    text(f"[t={t:.2f}s]")
                    out.append({"type": "image_url",
                                "image_url": {"url": image_data_url(_frame_image(frame), image_format)}})
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
