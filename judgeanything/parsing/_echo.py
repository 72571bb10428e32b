"""Echoed answer-format examples: text that shows the *shape* of a verdict rather than giving one.

Judges often restate the instruction before answering ("Answer with [[A]], [[B]] or [[C]]", MT-Bench's
``"[[A]]" if assistant A is better``, ``Score: <1-5>``, ``Answer: A, B or C``). Such a span lists the
alternatives, or is a placeholder; it is skipped, so it neither becomes the verdict nor conflicts with the
real one that follows.
"""

from __future__ import annotations

import re

from judgeanything.parsing._values import LABEL_WORDS

_Q = r"[\"'(]*"
_QE = r"[\"')]*"
_PAIR_VALUE = r"(?:\[\[\s*[A-Z0-9]\s*\]\]|(?:" + LABEL_WORDS + r"\s*)?\(?[A-C0-2]\)?(?![A-Za-z0-9]))"
# "A, B or C", "A or B", "A/B/C", "[[A]], [[B]] or [[C]]", "0, 1 or 2", "Response 1 or Response 2"
_PAIR_LIST = re.compile(r"\s*" + _Q + _PAIR_VALUE + _QE + r"(?:\s*[,/]\s*" + _Q + _PAIR_VALUE + _QE + r")*"
                        r"\s*(?:,\s*)?(?:\bor\b|/)\s*" + _Q + _PAIR_VALUE, re.I)
_PAIR_LIST_BEFORE = re.compile(_PAIR_VALUE + _QE + r"\s*(?:,|/|\bor\b)\s*" + _Q + r"$", re.I)
# three or more numbers listed: "1, 2, 3, 4 or 5"
_NUMBER_LIST = re.compile(r"\s*" + _Q + r"\d+" + _QE + r"\s*,\s*\d+\s*(?:,|\bor\b)\s*\d+")
_PLACEHOLDER = re.compile(r"\s*[\"'(\[]*<[^<>\n]{0,60}>")
_CONDITION = re.compile(r"[\"')\]]*\s+(?:if|when|means|for|=)\b", re.I)  # '"[[A]]" if assistant A is better'


_IF_BEFORE = re.compile(r"\b(?:if|whether|when|unless)\s+(?:the\s+)?$", re.I)
# an opinion denied before the statement, in the same sentence: "I don't think Response 1 is better"
_DENIED_BEFORE = re.compile(
    r"\b(?:(?:do|does|did)\s*(?:n['’]t|not)|not|never|hardly|cannot|can['’]t)\s+"
    r"(?:really\s+)?(?:think|believe|say|agree|feel|find|claim|conclude)\b(?:\s+that)?[^.!?\n]*$"
    r"|\b(?:doubt|not\s+(?:sure|convinced|clear|certain))\b(?:\s+(?:that|whether))?[^.!?\n]*$", re.I)


def is_conditional(text: str, start: int) -> bool:
    """Whether a statement at ``start`` is not asserted: the condition of a format rule ("... if assistant A
    is better") or an opinion denied before it ("I don't think Response 1 is better")."""
    before = text[max(0, start - 80):start]
    return bool(_IF_BEFORE.search(before[-20:]) or _DENIED_BEFORE.search(before))


def is_echo(text: str, start: int, end: int, value: str, where: str, setting: str) -> bool:
    """Whether the anchor matched at ``text[start:end]`` (value text ``value``) is a format example."""
    if _PLACEHOLDER.match(value):
        return True
    if setting == "batch":
        return False
    if setting == "pair" and _PAIR_LIST.match(value):
        return True
    if setting == "score" and _NUMBER_LIST.match(value):
        return True
    if where == "at":
        listed = setting == "pair" and bool(_PAIR_LIST.match(text, start, end + 80)
                                            or _PAIR_LIST_BEFORE.search(text[max(0, start - 80):start]))
        return listed or bool(_CONDITION.match(text, end, end + 40))
    return False
