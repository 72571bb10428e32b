"""Outputs pinned byte for byte (a report rendered from stored metrics against the file rendered before)."""

from __future__ import annotations

import difflib


def assert_matches_pinned(got: str, pinned: str) -> None:
    """``AssertionError`` unless ``got`` equals ``pinned`` exactly; its message is the unified diff from the
    pinned text to ``got``, so a change of layout, wording or number formatting reads as lines."""
    diff = "".join(difflib.unified_diff(pinned.splitlines(True), got.splitlines(True), "pinned", "rendered"))
    assert got == pinned, diff
