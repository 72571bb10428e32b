"""Media limits: how large a media item may be before it is refused (config ``media.limits``).

Every path that opens a media file checks them *before* the expensive step — the file's size before it is
hashed or copied, an image's header size before its pixels are decoded, an audio or video header's
duration before samples or frames are read — so one hostile or accidental file (a 30000×30000
single-colour PNG is 150 KB on disk and 2.7 GB decoded; a sparse multi-GB file; a ten-hour recording)
fails *its own item* with a ``media_error`` that names the file and the limit, and never stops a run.

The pixel limit replaces Pillow's own decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``, a
``DecompressionBombWarning`` printed at 89 MP and an exception at 179 MP): ours is configurable, named in
the error, applied to video frames too, and prints nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from judgeanything.modalities.base import MediaError

#: The reason prefix of every limit failure (tests and the report match on it).
OVER_LIMIT = "over the media limit"

#: The config section the limits come from (named in errors, so a user knows what to raise).
SECTION = "media.limits"


@dataclass(frozen=True)
class MediaLimits:
    """Caps on one media item; ``None`` disables a cap.

    Attributes:
        max_pixels: pixels (width × height, as stored) of one image or one video frame. Default 100 MP:
            above Pillow's 89 MP warning threshold, below the 179 MP at which it refuses to open.
        max_file_bytes: bytes of one media file (or inline media bytes). Default 2 GiB.
        max_audio_seconds: duration of one audio file, seconds, as its header declares. Default 4 h.
        max_video_seconds: duration of one video (or frame list at its assumed rate), seconds. Default 4 h.

    These refuse an item; they are not the encoders' cuts (``media.audio.max_seconds`` keeps the first
    seconds of an audio file that is within the limit, ``media.image.max_side`` resizes).
    """

    max_pixels: int | None = 100_000_000
    max_file_bytes: int | None = 2 * 1024**3
    max_audio_seconds: float | None = 4 * 3600.0
    max_video_seconds: float | None = 4 * 3600.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{SECTION}.{f.name}={v!r}: must be a positive number or null")

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> MediaLimits:
        """Limits from the ``media.limits`` config mapping (absent keys keep their defaults).

        Raises:
            ValueError: an unknown key, or a value that is not a positive number or null (names the key).
        """
        section = dict(section or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"{SECTION}: unknown option(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        out: dict[str, Any] = {}
        for k, v in section.items():
            if v is None:
                out[k] = None
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"{SECTION}.{k}={v!r}: must be a positive number or null")
            else:
                out[k] = int(v) if k in ("max_pixels", "max_file_bytes") else float(v)
        return cls(**out)

    def to_dict(self) -> dict[str, Any]:
        """The limits as a plain mapping (recorded in ``run.json``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- checks ---------------------------------------------------------------------------------------

    def check_bytes(self, shown: str, n_bytes: int) -> None:
        """Raises :class:`MediaError` when ``n_bytes`` exceeds ``max_file_bytes``."""
        if self.max_file_bytes is not None and n_bytes > self.max_file_bytes:
            raise MediaError(shown, f"{OVER_LIMIT}: {n_bytes:,} bytes > {SECTION}.max_file_bytes="
                                    f"{self.max_file_bytes:,}")

    def check_pixels(self, shown: str, width: int, height: int, what: str = "image") -> None:
        """Raises :class:`MediaError` when ``width × height`` exceeds ``max_pixels`` (``what``: "image",
        "video frame")."""
        n = int(width) * int(height)
        if self.max_pixels is not None and n > self.max_pixels:
            raise MediaError(shown, f"{OVER_LIMIT}: {what} of {width}×{height} = {n:,} pixels > "
                                    f"{SECTION}.max_pixels={self.max_pixels:,}")

    def check_seconds(self, shown: str, seconds: float | None, modality: str) -> None:
        """Raises :class:`MediaError` when an ``audio``/``video`` duration (seconds) exceeds its limit; an
        unknown duration (None) passes (the decoders cap what they read)."""
        cap = self.max_audio_seconds if modality == "audio" else self.max_video_seconds
        if cap is not None and seconds is not None and seconds > cap:
            raise MediaError(shown, f"{OVER_LIMIT}: {modality} of {seconds:,.1f} s > "
                                    f"{SECTION}.max_{modality}_seconds={cap:,.1f}")


#: The limits used when none are configured.
DEFAULT_LIMITS = MediaLimits()

__all__ = ["DEFAULT_LIMITS", "OVER_LIMIT", "SECTION", "MediaLimits"]
