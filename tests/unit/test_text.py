"""Short texts for messages (judgeanything.text): one implementation for every error and log line."""

from __future__ import annotations

from judgeanything.text import one_line, shorten, shown


def test_shorten_keeps_short_text_and_marks_a_cut():
    assert shorten("abc", 3) == "abc"
    assert shorten("abcdef", 4) == "abc…" and len(shorten("x" * 500, 300)) == 300


def test_one_line_collapses_whitespace_before_cutting():
    assert one_line("HTTP 503\n\n  Service   Unavailable\t") == "HTTP 503 Service Unavailable"
    assert one_line(ValueError("a\nb"), 3) == "a b"
    assert one_line("word " * 100, 10) == "word word…"


def test_shown_quotes_the_value():
    assert shown("4²") == "'4²'" and shown([1, 2], 4) == "[1,…"
