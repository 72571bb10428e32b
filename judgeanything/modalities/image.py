"""Images: decode with Pillow, show them as a person would see them, as RGB.

Normalisation, in order (each step recorded in ``provenance``):

1. EXIF orientation applied (``ImageOps.exif_transpose``): phone photos are stored sideways and carry an
   orientation tag that VLM loaders have ignored (sglang #33449, ollama #18418);
2. the first frame of an animated GIF/WebP/TIFF (``n_frames`` recorded);
3. to RGB: palette/grey/RGB images with transparency, ``LA``, ``PA`` and ``RGBA`` are composited on
   **white** (flattening alpha to black made black content invisible, Qwen3-VL #661); ``CMYK`` and
   ``YCbCr`` go through Pillow's converters; 16-bit and float greyscale are scaled to 8 bits;
4. optional ``max_side``: the longer side is brought down to ``max_side`` pixels, aspect kept, with
   Lanczos resampling (never enlarged).
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from judgeanything.modalities._files import (
    TRUNCATED,
    UNSUPPORTED_SOURCE,
    checked_media_file,
    not_decodable,
    sha256_bytes,
    sha256_file,
)
from judgeanything.modalities.base import EncodedImage, MediaError
from judgeanything.modalities.limits import DEFAULT_LIMITS, OVER_LIMIT, MediaLimits
from judgeanything.schema import MediaRef

_EXIF_ORIENTATION = 0x0112
#: EXIF orientations 5–8 swap width and height (a quarter turn, possibly mirrored).
_SWAPS_AXES = {5, 6, 7, 8}
_WHITE = (255, 255, 255)


def fit_within(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """The (width, height) of ``size`` scaled down so the longer side is at most ``max_side`` pixels.

    Aspect ratio kept, each side at least 1 px; unchanged when already small enough or ``max_side`` is
    None.

    Raises:
        ValueError: ``max_side`` < 1.
    """
    if max_side is None:
        return size
    if max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side}")
    w, h = size
    longest = max(w, h)
    if longest <= max_side:
        return size
    scale = max_side / longest
    return max(1, round(w * scale)), max(1, round(h * scale))


def to_rgb(img: Image.Image) -> tuple[Image.Image, dict[str, Any]]:
    """Convert any Pillow image to mode ``RGB``; alpha is composited on white.

    Returns:
        The RGB image and what was done (``{"alpha_composited_on": "white"}``, ``{"scaled_bits": 16}``…).
    """
    info: dict[str, Any] = {}
    mode = img.mode
    if mode == "RGB":
        if "transparency" not in img.info:
            return img, info
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img).astype(np.float64)
        if mode.startswith("I;16"):
            top = 65535.0
        else:  # 32-bit int / float: scale by the image's own maximum when it exceeds 8 bits
            top = float(arr.max()) if arr.size and arr.max() > 255 else 255.0
        arr = np.clip(arr / (top or 1.0) * 255.0, 0, 255).astype(np.uint8)
        info["scaled_bits"] = 16 if mode.startswith("I;16") else 32
        return Image.fromarray(arr, mode="L").convert("RGB"), info
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        page = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        page.alpha_composite(rgba)
        info["alpha_composited_on"] = "white"
        return page.convert("RGB"), info
    return img.convert("RGB"), info


#: Serialises the moments when Pillow's own bomb guard is off (see :func:`_open_header`).
_PIL_GUARD = threading.Lock()


def _open_header(source: Path | bytes, shown: str, limits: MediaLimits) -> Image.Image:
    """Open an image lazily (header only, no pixels decoded) and check its size against ``limits``.

    Pillow's ``Image.open`` runs its own decompression-bomb check on the header size (a warning on the
    console at 89 MP, an exception at 179 MP) before we could see the size; ``limits.max_pixels``
    replaces it (see :mod:`.limits`), so Pillow's guard is off for the header read only, under a lock
    (``MAX_IMAGE_PIXELS`` is a module global) — decoding the pixels happens with it back on.

    Raises:
        MediaError: not an image, or over ``limits.max_pixels``.
    """
    try:
        with _PIL_GUARD:
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                img = Image.open(source if isinstance(source, Path) else io.BytesIO(source))
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except UnidentifiedImageError:
        raise MediaError(shown, f"{not_decodable('image')} (Pillow cannot identify it)",
                         backend="PIL") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # Pillow's plugins raise these for bad headers
        raise MediaError(shown, f"{not_decodable('image')}: {e or type(e).__name__}", backend="PIL") from None
    try:
        limits.check_pixels(shown, img.width, img.height)
    except MediaError:
        img.close()
        raise
    return img


def _open(source: Path | bytes, shown: str, limits: MediaLimits = DEFAULT_LIMITS) -> Image.Image:
    img = _open_header(source, shown, limits)
    try:
        _load(img, shown)
    except BaseException:
        img.close()  # the file stays open otherwise, and Python says so later ("unclosed file")
        raise
    return img


def _load(img: Image.Image, shown: str) -> None:
    """Decode the pixels of an opened image; a decoder error becomes a :class:`MediaError` naming ``shown``."""
    try:
        with warnings.catch_warnings():
            # the header passed our limit; a frame that grows past Pillow's guard while loading is refused
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise MediaError(shown, f"{OVER_LIMIT}: {e}", backend="PIL") from None
    except OSError as e:
        msg = str(e)
        if "truncated" in msg.lower() or "broken data stream" in msg.lower():
            raise MediaError(shown, f"{TRUNCATED}: {msg}", backend="PIL") from None
        raise MediaError(shown, f"{not_decodable('image')}: {msg or type(e).__name__}",
                         backend="PIL") from None
    except (SyntaxError, ValueError, EOFError) as e:  # Pillow's plugins raise these for bad data
        raise MediaError(shown, f"{not_decodable('image')}: {e or type(e).__name__}", backend="PIL") from None


def decode_image(source: Path | bytes, shown: str, max_side: int | None = None,
                 limits: MediaLimits = DEFAULT_LIMITS) -> tuple[Image.Image, dict[str, Any]]:
    """Decode one image file or byte string into an RGB ``PIL.Image`` as displayed.

    Args:
        source: a checked file path, or the encoded bytes.
        shown: the name used in errors (the dataset's path).
        max_side: see the module docstring.
        limits: the media limits (pixels are checked from the header, before decoding).

    Returns:
        ``(image, provenance)``; provenance has ``format``, ``mode`` (original), ``original_size``
        ``[w, h]`` as stored, ``exif_orientation``, ``exif_rotated``, ``displayed_size``, ``final_size``,
        ``resized`` and, when relevant, ``n_frames``, ``alpha_composited_on``, ``scaled_bits``,
        ``icc_profile_ignored``.

    Raises:
        MediaError: not an image (``"not a decodable image file"``), truncated, or over a limit
            (``"over the media limit"``).
    """
    opened = _open(source, shown, limits)
    try:
        img, prov = _displayed(opened, max_side)
        if img is opened and prov.get("n_frames"):
            img = opened.copy()  # a multi-frame file stays open behind its image: keep a detached copy
    except BaseException:
        opened.close()
        raise
    if img is not opened:  # the result is a converted copy: release the file behind the original
        opened.close()
    return img, prov


def _displayed(img: Image.Image, max_side: int | None) -> tuple[Image.Image, dict[str, Any]]:
    """The steps of :func:`decode_image` after decoding: frame, orientation, RGB, size."""
    prov: dict[str, Any] = {"format": img.format, "mode": img.mode, "original_size": [img.width, img.height]}
    n_frames = int(getattr(img, "n_frames", 1) or 1)
    if n_frames > 1:
        prov["n_frames"] = n_frames
        prov["frame_used"] = 0
        img.seek(0)
    orientation = int(img.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    prov["exif_orientation"] = orientation
    if orientation != 1:
        transposed = ImageOps.exif_transpose(img)
        img = transposed if transposed is not None else img
    prov["exif_rotated"] = orientation != 1
    if img.info.get("icc_profile"):
        prov["icc_profile_ignored"] = True
    img, how = to_rgb(img)
    prov.update(how)
    prov["displayed_size"] = [img.width, img.height]
    target = fit_within(img.size, max_side)
    if target != img.size:
        img = img.resize(target, Image.Resampling.LANCZOS)
    prov["resized"] = list(target) != prov["displayed_size"]
    prov["final_size"] = [img.width, img.height]
    return img, prov


def image_header_size(source: Path | bytes, limits: MediaLimits = DEFAULT_LIMITS,
                      shown: str | None = None) -> tuple[int, int]:
    """(width, height) as displayed, read from the header only (EXIF orientations 5–8 swap them).

    Raises:
        MediaError: not an image, or over ``limits.max_pixels``.
    """
    shown = shown or (str(source) if isinstance(source, Path) else "<image bytes>")
    img = _open_header(source, shown, limits)
    try:
        w, h = img.size
        orientation = int(img.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except (OSError, SyntaxError, ValueError) as e:
        raise MediaError(shown, f"{not_decodable('image')}: {e}", backend="PIL") from None
    finally:
        img.close()
    return (h, w) if orientation in _SWAPS_AXES else (w, h)


class ImageEncoder:
    """The ``image`` modality (options from ``conf/modality/image.yaml``).

    Args:
        max_side: the longest side in pixels after resizing (None: keep the size).
        limits: the media limits (``media.limits``; pixels and file bytes are checked before decoding).
    """

    name = "image"

    def __init__(self, max_side: int | None = 1024, limits: MediaLimits = DEFAULT_LIMITS) -> None:
        if max_side is not None and int(max_side) < 1:
            raise ValueError(f"image max_side must be a positive number of pixels or null, got {max_side}")
        self.max_side = int(max_side) if max_side is not None else None
        self.limits = limits

    def _source(self, ref: MediaRef, root: Path | None) -> tuple[Path | bytes, str, os.stat_result | None]:
        """The bytes or checked file to decode, the name errors show, and the file's ``stat`` (``None`` for
        bytes)."""
        if ref.frames:
            raise MediaError(ref.label, f"{UNSUPPORTED_SOURCE}: a list of frames is a video; "
                                        f"give it the video modality")
        if ref.data is not None:
            self.limits.check_bytes("<image bytes>", len(ref.data))
            return ref.data, "<image bytes>", None
        path, st = checked_media_file(ref, root, limits=self.limits)
        return path, ref.path or str(path), st

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> EncodedImage:
        """Decode ``ref`` into an :class:`EncodedImage` (RGB ``PIL.Image``, see the module docstring).

        Raises:
            MediaError: missing, empty, escaping the root, not an image, truncated, or a URL source.
        """
        source, shown, st = self._source(ref, root)
        digest = sha256_bytes(source) if isinstance(source, bytes) else sha256_file(source, st)
        img, prov = decode_image(source, shown, self.max_side, self.limits)
        prov = {"source": shown, "sha256": digest, **prov, "max_side": self.max_side}
        return EncodedImage(image=img, role=role, provenance=prov)

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]:
        """``width``, ``height`` (px, as displayed, before resizing), ``pixels`` and ``count`` (= 1), read
        from the header without decoding the pixels.

        Raises:
            MediaError: as :meth:`encode` for a missing or undecodable file.
        """
        source, shown, _ = self._source(ref, root)
        w, h = image_header_size(source, self.limits, shown)
        return {"width": float(w), "height": float(h), "pixels": float(w * h), "count": 1.0}
