"""Turn a :class:`~judgeanything.judges.base.JudgeRequest` into a chat conversation plus the media arrays a
transformers processor takes (the input side of the ``hf`` judge, :mod:`judgeanything.judges.hf`).

Kept free of torch/transformers imports so it can be tested and reused cheaply. What the processor is
given, per request:

* ``messages``: ``[{"role": "system", "content": str}, {"role": "user", "content": [items...]}]``, the
  user items in prompt order: ``{"type": "text", "text": ...}`` (adjacent text merged),
  ``{"type": "image"}``, ``{"type": "video"}``, ``{"type": "audio"}`` — the chat template renders each media
  item as the model's placeholder; the arrays travel separately, in the same order:
* ``images``: PIL RGB images; ``videos``: ``(T, H, W, 3) uint8`` arrays (never re-sampled by the
  processor: the judge passes ``do_sample_frames=False``); ``video_metadata``: one dict per video (see
  :func:`video_metadata`); ``audios``: ``(N,) float32`` mono arrays at the processor's sampling rate.

A video's audio track becomes an audio item right after the video when the model hears audio (the Omni
family). Qwen2.5-Omni's own "audio in video" mode interleaves the two streams in 2 s chunks; we keep
them as two consecutive items instead, which every audio-capable processor accepts, and record it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from judgeanything.judges.capabilities import UnsupportedModality
from judgeanything.modalities.audio import resample
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import TextPart

#: Clock (Hz) of the frame indices given to video processors: frame times in milliseconds (see
#: :func:`video_metadata`).
METADATA_CLOCK_HZ = 1000.0


class BadPart(Exception):
    """A request part that is malformed (empty audio, frames of the wrong shape...) (→ ``media_error``)."""


@dataclass
class PreparedRequest:
    """What one request contributes to a processor call. ``log`` records what was changed on the way
    (audio resampled, fps fallback used, an unheard audio track dropped), for ``JudgeResult.extra``."""

    messages: list[dict[str, Any]]
    images: list[Any] = field(default_factory=list)
    videos: list[np.ndarray] = field(default_factory=list)
    video_metadata: list[dict[str, Any]] = field(default_factory=list)
    video_fps: list[float] = field(default_factory=list)
    audios: list[np.ndarray] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)


def video_metadata(frames: np.ndarray, timestamps: Sequence[float], fps: float) -> dict[str, Any]:
    """``VideoMetadata`` fields for frames that were already sampled: ``frames (T, H, W, 3)``, their real
    ``timestamps`` (seconds) and the sampled sequence's rate ``fps`` (frames per second).

    The frame indices are the frame times on a 1 kHz clock (``fps`` field = 1000, ``frames_indices`` =
    times in ms, ``total_num_frames`` = T / fps seconds × 1000). Then Qwen3-VL's per-frame
    ``<t seconds>`` markers (index / fps) are the real timestamps, even for variable frame rate sources or
    a clip that does not start at 0, and Qwen2.5-VL's ``sampled_fps`` (T / total × fps) equals ``fps``.
    """
    t = int(frames.shape[0])
    ts = [float(x) for x in timestamps] if len(timestamps) == t else [i / fps for i in range(t)]
    total = max(1, round(t / fps * METADATA_CLOCK_HZ))
    return {
        "total_num_frames": total,
        "fps": METADATA_CLOCK_HZ,
        "frames_indices": [round(x * METADATA_CLOCK_HZ) for x in ts],
        "duration": t / fps,
        "height": int(frames.shape[1]),
        "width": int(frames.shape[2]),
    }


def _check_audio(a: EncodedAudio, what: str) -> np.ndarray:
    y = np.asarray(a.samples)
    if y.ndim != 1:
        raise BadPart(f"{what}: audio must be mono (N,), got shape {tuple(y.shape)}")
    if y.size == 0:
        raise BadPart(f"{what}: audio has no samples")
    if not a.sample_rate or a.sample_rate <= 0:
        raise BadPart(f"{what}: invalid sample rate {a.sample_rate!r}")
    if not np.all(np.isfinite(y)):
        raise BadPart(f"{what}: audio contains NaN or infinite samples")
    return y.astype(np.float32, copy=False)


def _check_frames(v: EncodedVideo, what: str) -> np.ndarray:
    f = np.asarray(v.frames)
    if f.ndim != 4 or f.shape[-1] != 3 or f.shape[0] < 1:
        raise BadPart(f"{what}: video frames must be (T, H, W, 3) with T >= 1, got shape {tuple(f.shape)}")
    if f.dtype != np.uint8:
        raise BadPart(f"{what}: video frames must be uint8, got {f.dtype}")
    # Cached encodings are read-only; torch.from_numpy in the video processor needs a writable array.
    return f if f.flags.writeable else f.copy()


def _label(part: Any, index: int) -> str:
    role = getattr(part, "role", "") or ""
    return f"part {index} ({part.modality}{', ' + role if role else ''})"


def prepare_request(
    system: str,
    parts: Iterable[TextPart | EncodedText | EncodedImage | EncodedAudio | EncodedVideo],
    *,
    capabilities: frozenset[str],
    judge: str,
    sampling_rate: int | None,
    video_fps_fallback: float,
    drop_unheard_video_audio: bool = False,
    text_only: bool = False,
    max_audio_samples: int | None = None,
) -> PreparedRequest:
    """Convert a request's parts (prompt order) into a :class:`PreparedRequest`.

    ``capabilities``: modalities the model takes; ``sampling_rate``: the processor's audio rate (Hz; audio
    is resampled to it and the change logged); ``video_fps_fallback``: fps assumed when a video's ``fps``
    is missing or not positive (logged); ``drop_unheard_video_audio``: when the model cannot hear, drop a
    video's audio track and log the downgrade (True, the ``{audio: drop}`` downgrade) or refuse the
    request (False); ``text_only``: a
    tokenizer-only model whose template wants string content (the text is joined);
    ``max_audio_samples``: the processor's audio window in samples at ``sampling_rate`` (Whisper-style
    feature extractors: ``n_samples`` = chunk length × rate; 30 s for Qwen2-Audio). Longer audio is cut to
    the window and the cut logged: left to the processor, the features would be cut silently while the
    prompt kept placeholders for the whole clip.

    Raises:
        UnsupportedModality: a part the model cannot take (never dropped silently).
        BadPart: a malformed part (wrong shape/dtype, empty audio).
    """
    b = _Builder(capabilities, judge, sampling_rate, video_fps_fallback, drop_unheard_video_audio,
                 max_audio_samples)
    for i, part in enumerate(parts):
        b.add(part, i)
    user: Any = "".join(it["text"] for it in b.items) if text_only else b.items
    b.prep.messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user",
                                                                                      "content": user}]
    return b.prep


@dataclass
class _Builder:
    """The user items and media arrays of one request being prepared, one part at a time
    (:func:`prepare_request` documents the arguments)."""

    capabilities: frozenset[str]
    judge: str
    sampling_rate: int | None
    video_fps_fallback: float
    drop_unheard_video_audio: bool
    max_audio_samples: int | None
    items: list[dict[str, Any]] = field(default_factory=list)
    prep: PreparedRequest = field(default_factory=lambda: PreparedRequest(messages=[]))

    def add(self, part: Any, i: int) -> None:
        if isinstance(part, TextPart):
            self.text(part.text)
            return
        what = _label(part, i)
        if isinstance(part, EncodedText):
            self.text(part.text)
        elif isinstance(part, EncodedImage):
            self.need("image", part.role)
            self.image(part, what)
        elif isinstance(part, EncodedAudio):
            self.need("audio", part.role)
            self.audio(part, what)
        elif isinstance(part, EncodedVideo):
            self.need("video", part.role)
            self.video(part, what)
        else:
            raise BadPart(f"{what}: unknown part type {type(part).__name__}")

    def need(self, modality: str, role: str) -> None:
        if modality not in self.capabilities:
            raise UnsupportedModality(modality, self.judge, role=role, capabilities=self.capabilities)

    def text(self, text: str) -> None:
        """Text, merged into the previous item when that is text too."""
        if self.items and self.items[-1]["type"] == "text":
            self.items[-1]["text"] += text
        else:
            self.items.append({"type": "text", "text": text})

    def image(self, part: EncodedImage, what: str) -> None:
        img = part.image
        if getattr(img, "mode", "RGB") != "RGB":
            img = img.convert("RGB")
            self.prep.log.append({"part": what, "event": "converted to RGB"})
        self.items.append({"type": "image"})
        self.prep.images.append(img)

    def audio(self, a: EncodedAudio, what: str) -> None:
        """Mono float32 audio at the processor's rate (resampled), cut to its window; each change logged."""
        y = _check_audio(a, what)
        if self.sampling_rate is not None and int(a.sample_rate) != int(self.sampling_rate):
            y = resample(y, int(a.sample_rate), int(self.sampling_rate))
            self.prep.log.append({"part": what, "event": "resampled", "from_hz": int(a.sample_rate),
                                  "to_hz": int(self.sampling_rate)})
        window = self.max_audio_samples
        if window and y.shape[0] > window:
            rate = self.sampling_rate or a.sample_rate
            self.prep.log.append({"part": what, "event": "truncated", "kept_s": round(window / rate, 3),
                                  "of_s": round(y.shape[0] / rate, 3),
                                  "detail": "audio longer than the model's audio window; the rest is not heard"})
            y = y[:window]
        self.items.append({"type": "audio"})
        self.prep.audios.append(y)

    def video(self, part: EncodedVideo, what: str) -> None:
        """The sampled frames (fps fallback logged), then the audio track (:meth:`video_audio`)."""
        frames = _check_frames(part, what)
        fps = float(part.fps) if part.fps and part.fps > 0 else 0.0
        if fps <= 0:
            fps = float(self.video_fps_fallback)
            self.prep.log.append({"part": what, "event": "fps fallback", "fps": fps})
        self.items.append({"type": "video"})
        self.prep.videos.append(frames)
        self.prep.video_fps.append(fps)
        self.prep.video_metadata.append(video_metadata(frames, part.timestamps, fps))
        if part.audio is not None:
            self.video_audio(part, part.audio, what)

    def video_audio(self, part: EncodedVideo, track: EncodedAudio, what: str) -> None:
        """A video's audio track: the next audio item when the model hears, else dropped (logged) or refused."""
        if "audio" in self.capabilities:
            self.audio(track, what + " audio track")
            self.prep.log.append({"part": what, "event": "audio track as the next audio item"})
        elif self.drop_unheard_video_audio:
            self.prep.log.append({"part": what, "event": "downgrade", "from": "video+audio", "to": "video",
                                  "detail": f"judge {self.judge!r} does not hear audio; the audio track was dropped"})
        else:
            raise UnsupportedModality("audio", self.judge, role=(part.role + " audio track").strip(),
                                      capabilities=self.capabilities)


__all__ = ["METADATA_CLOCK_HZ", "BadPart", "PreparedRequest", "prepare_request",
           "video_metadata"]
