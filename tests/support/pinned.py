"""Outputs pinned byte for byte (a report rendered from stored inputs against the file rendered before)."""

from __future__ import annotations

import difflib
from pathlib import Path


def assert_matches_pinned(got: str, pinned: str | Path) -> None:
    """``AssertionError`` unless ``got`` equals the pinned text exactly (``pinned``: the text, or a UTF-8 file
    holding it); its message is the unified diff from the pinned text to ``got``, so a change of layout,
    wording or number formatting reads as lines."""
    expected = pinned.read_text(encoding="utf-8") if isinstance(pinned, Path) else pinned
    diff = "".join(difflib.unified_diff(expected.splitlines(True), got.splitlines(True), "pinned", "rendered"))
    assert got == expected, diff
