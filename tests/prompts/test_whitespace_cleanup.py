"""The prompt builder's whitespace clean-up (``drop_trailing_space``, ``squeeze_blank_lines``) is exactly the
regular expressions it replaces (``[ \\t]+\\n`` → ``\\n``, ``\\n{3,}`` → ``\\n\\n``): prompts, and so the judge
cache's keys and earlier runs' prompts, are byte for byte the same."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from judgeanything.prompts._builder import drop_trailing_space, squeeze_blank_lines

TRAILING_SPACE = re.compile(r"[ \t]+\n")
MANY_BLANK_LINES = re.compile(r"\n{3,}")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t\n\r\x0bab", max_size=80))
def test_the_same_text_as_the_regular_expressions(text: str) -> None:
    assert drop_trailing_space(text) == TRAILING_SPACE.sub("\n", text)
    assert squeeze_blank_lines(text) == MANY_BLANK_LINES.sub("\n\n", text)


def test_worked_cases() -> None:
    assert drop_trailing_space("a \t\nb  \n\t\nc  ") == "a\nb\n\nc  "  # the last line has no break after it
    assert squeeze_blank_lines("a\n\n\n\n\n\n\nb\n\nc\n\n\n") == "a\n\nb\n\nc\n\n"
