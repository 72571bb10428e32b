"""Text: inline text (a text response, an instruction) or a UTF-8 text file."""

from __future__ import annotations

from pathlib import Path

from judgeanything.modalities._files import UNSUPPORTED_SOURCE, media_file, not_decodable, sha256_bytes
from judgeanything.modalities.base import EncodedText, MediaError
from judgeanything.modalities.limits import DEFAULT_LIMITS, MediaLimits
from judgeanything.schema import MediaRef


class TextEncoder:
    """The ``text`` modality (options from ``conf/modality/text.yaml``).

    Args:
        max_chars: keep at most this many characters (None: all); a cut is recorded as
            ``provenance["truncated_to_chars"]`` together with the original length.
        limits: the media limits (``media.limits.max_file_bytes`` for a text file or text bytes).
    """

    name = "text"

    def __init__(self, max_chars: int | None = None, limits: MediaLimits = DEFAULT_LIMITS) -> None:
        if max_chars is not None and int(max_chars) < 1:
            raise ValueError(f"text max_chars must be a positive number or null, got {max_chars}")
        self.max_chars = int(max_chars) if max_chars is not None else None
        self.limits = limits

    def _text(self, ref: MediaRef, root: Path | None) -> tuple[str, str]:
        if ref.text is not None:
            return ref.text, "<inline text>"
        if ref.frames:
            raise MediaError(ref.label, f"{UNSUPPORTED_SOURCE}: a list of frames is not text")
        if ref.data is not None:
            self.limits.check_bytes("<text bytes>", len(ref.data))
            raw, shown = ref.data, "<text bytes>"
        else:
            path = media_file(ref, root, limits=self.limits)
            raw, shown = path.read_bytes(), ref.path or str(path)
        try:
            return raw.decode("utf-8-sig"), shown
        except UnicodeDecodeError as e:
            raise MediaError(shown, f"{not_decodable('text')} (not UTF-8: byte {e.start})") from None

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> EncodedText:
        """The text of ``ref`` as :class:`EncodedText` (``provenance``: ``source``, ``sha256``, ``chars``).

        Raises:
            MediaError: a file that is missing, empty, escaping the root or not UTF-8; a URL source.
        """
        text, shown = self._text(ref, root)
        prov: dict[str, object] = {"source": shown, "sha256": sha256_bytes(text.encode("utf-8")),
                                   "chars": len(text)}
        if self.max_chars is not None and len(text) > self.max_chars:
            text = text[: self.max_chars]
            prov["truncated_to_chars"] = self.max_chars
        return EncodedText(text=text, role=role, provenance=prov)

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]:
        """``chars`` and ``words`` (whitespace-separated) of the full text.

        Raises:
            MediaError: as :meth:`encode`.
        """
        text, _ = self._text(ref, root)
        return {"chars": float(len(text)), "words": float(len(text.split()))}
