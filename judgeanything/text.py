"""Short texts for messages: failure details, log lines and errors quote a judge's output or a bad value cut to
a length (the full text is kept where it belongs — the run log's ``raw``, the input file)."""

from __future__ import annotations

from typing import Any


def shorten(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters, the last one an ellipsis when anything was cut."""
    return text if len(text) <= n else text[: n - 1] + "…"


def one_line(text: Any, n: int = 200) -> str:
    """``str(text)`` with every run of whitespace (newlines included) made one space, cut to ``n`` characters."""
    return shorten(" ".join(str(text).split()), n)


def shown(value: Any, n: int = 80) -> str:
    """``repr(value)`` cut to ``n`` characters (for naming a bad value in an error)."""
    return shorten(repr(value), n)


__all__ = ["one_line", "shorten", "shown"]
