"""Render a UTF-8 text or Markdown document onto a white page (``EncodedImage``).

Real rendering with Pillow: greedy word wrap measured with the font's own advance widths
(``FreeTypeFont.getlength``), Markdown headings (``#``…) in a larger size, ``-``/``*`` bullets as "•".
The page height fits the text, up to ``max_height``; lines that do not fit are left out and counted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from judgeanything.modalities import EncodedImage, MediaError, resolve_media_path
from judgeanything.schema import MediaRef

_SUFFIXES = {".txt", ".md", ".markdown"}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 with FreeType: a scalable font
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()


def _wrap(text: str, font: Any, width: int) -> list[str]:
    words = text.split()
    if not words:
        return [""]
    lines, cur = [], words[0]
    for w in words[1:]:
        trial = f"{cur} {w}"
        if font.getlength(trial) <= width:
            cur = trial
        else:
            lines.append(cur)
            cur = w
    lines.append(cur)
    return lines


def render_page(text: str, page_width: int = 640, max_height: int = 1280, font_size: int = 16,
                margin: int = 32) -> tuple[Image.Image, dict[str, Any]]:
    """Render ``text`` (plain or Markdown) black on a white RGB page ``page_width`` px wide.

    Returns:
        ``(image, info)`` with ``lines_total``, ``lines_rendered`` and ``headings``.
    """
    body, head = _font(font_size), _font(int(font_size * 1.5))
    inner = page_width - 2 * margin
    laid: list[tuple[str, Any, int]] = []  # (text, font, line height)
    headings = 0
    for raw in text.splitlines():
        s = raw.rstrip()
        font, step = body, int(font_size * 1.4)
        if s.startswith("#"):
            s, font, step = s.lstrip("#").strip(), head, int(font_size * 2.1)
            headings += 1
        elif s.lstrip().startswith(("- ", "* ")):
            s = "• " + s.lstrip()[2:]
        laid.extend((line, font, step) for line in _wrap(s, font, inner))
    total = len(laid)
    height, kept = 2 * margin, []
    for item in laid:
        if height + item[2] > max_height:
            break
        kept.append(item)
        height += item[2]
    page = Image.new("RGB", (page_width, max(height, 2 * margin + 1)), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    y = margin
    for line, font, step in kept:
        draw.text((margin, y), line, fill=(0, 0, 0), font=font)
        y += step
    return page, {"lines_total": total, "lines_rendered": len(kept), "headings": headings}


class DocumentEncoder:
    """The ``document`` modality: a ``.txt``/``.md`` file (or inline text) → an :class:`EncodedImage`."""

    name = "document"

    def __init__(self, page_width: int = 640, max_height: int = 1280, font_size: int = 16,
                 margin: int = 32) -> None:
        if page_width <= 2 * margin or font_size < 4 or max_height <= 2 * margin:
            raise ValueError("document page too small for its margins / font size")
        self.page_width, self.max_height = page_width, max_height
        self.font_size, self.margin = font_size, margin

    def _text(self, ref: MediaRef, root: Path | None) -> tuple[str, str]:
        if ref.text is not None:
            return ref.text, "<inline document>"
        if ref.path is None:
            raise MediaError(ref.label, "unsupported source: documents are read from files or inline text")
        path = resolve_media_path(root, ref.path)
        if not path.is_file():
            raise MediaError(ref.path, f"file not found ({path})")
        if path.suffix.lower() not in _SUFFIXES:
            known = ", ".join(sorted(_SUFFIXES))
            raise MediaError(ref.path, f"not a decodable document file (supported: {known})")
        data = path.read_bytes()
        if not data:
            raise MediaError(ref.path, "empty file (0 bytes)")
        try:
            return data.decode("utf-8-sig"), ref.path
        except UnicodeDecodeError:
            raise MediaError(ref.path, "not a decodable document file (not UTF-8)") from None

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> EncodedImage:
        """Render the document; provenance has ``source_modality: document``.

        Raises:
            MediaError: missing, empty, escaping the root, not UTF-8 text/Markdown.
        """
        text, shown = self._text(ref, root)
        page, info = render_page(text, self.page_width, self.max_height, self.font_size, self.margin)
        prov = {"source_modality": "document", "source": shown,
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), **info,
                "final_size": [page.width, page.height], "font_size": self.font_size}
        return EncodedImage(image=page, role=role, provenance=prov)

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]:
        """``chars``, ``words`` and ``lines`` of the document text."""
        text, _ = self._text(ref, root)
        return {"chars": float(len(text)), "words": float(len(text.split())),
                "lines": float(len(text.splitlines()))}
