"""The modality interface: decode a :class:`~judgeanything.schema.MediaRef` into what a judge will see.

Every encoder returns one of the three core encodings below (plugins render their media into one of
them, e.g. a PDF page into an image), each with a ``provenance`` dict that records what was done:
source hash, size before/after resize, frame indices and timestamps, sample rate, duration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from judgeanything.schema import MediaRef


class MediaError(Exception):
    """A media item could not be used: missing, empty, corrupt, truncated, unsupported or escaping the
    data root. Always names the file and the reason (the decoders' own messages are often empty).

    The runner records it as a ``media_error`` failure for the item and goes on.
    """

    def __init__(self, path: str | Path, reason: str, *, backend: str | None = None) -> None:
        self.path, self.reason, self.backend = str(path), reason, backend
        via = f" [{backend}]" if backend else ""
        super().__init__(f"{path}: {reason}{via}")


@dataclass
class EncodedImage:
    """One RGB image. ``image`` is a ``PIL.Image.Image`` in mode ``RGB``."""

    image: Any
    role: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    modality: str = "image"


@dataclass
class EncodedAudio:
    """Mono audio: ``samples`` is ``(N,) float32`` in [-1, 1] at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int
    role: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    modality: str = "audio"

    @property
    def duration_s(self) -> float:
        return float(len(self.samples)) / float(self.sample_rate)


@dataclass
class EncodedVideo:
    """Sampled video frames ``(T, H, W, 3) uint8`` with their timestamps (seconds) and the real sampling
    rate ``fps`` (frames per second of the *sampled* sequence), plus the audio track when present."""

    frames: np.ndarray
    timestamps: list[float]
    fps: float
    audio: EncodedAudio | None = None
    role: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    modality: str = "video"


@dataclass
class EncodedText:
    """Inline text (a text response or a transcript)."""

    text: str
    role: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    modality: str = "text"


Encoded = EncodedImage | EncodedAudio | EncodedVideo | EncodedText
#: What an encoder returns: one encoding, or several shown one after the other in the prompt (a plugin
#: modality that is best seen two ways, e.g. a rendered web artifact as timed screenshots plus its code).
EncodedParts = Encoded | tuple[Encoded, ...]


@runtime_checkable
class ModalityEncoder(Protocol):
    """One modality's encoder (``modalities/<name>.py``), registered by name.

    ``encode`` decodes and normalises a media reference (path resolved inside ``root``) and raises
    :class:`MediaError` naming the file on any fault. ``measure`` returns cheap size features without a
    full decode (``chars``; ``width``/``height``/``count``; ``duration_s``), used by verbosity/size bias
    analysis and the ``longer`` baseline. ``encode`` may return a tuple of encodings, which the prompt shows
    in order in place of the one media item (the first is its primary view).
    """

    name: str

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> EncodedParts: ...

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]: ...
