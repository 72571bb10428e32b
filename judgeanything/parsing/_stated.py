"""What a judge states about its own verdict around it: a revision ("No wait, actually 2"), a hedge
("At first glance Response 1 seems better"), and the direction of a ranking ("worst to best").

Issue 8 item 11: one output holding verdicts that disagree is a ``parse_fail``, and stated meaning is
respected — a revised verdict is never silently the first one, a ranking written worst-first is reversed
to the answer contract's best-first order.
"""

from __future__ import annotations

import re

# An explicit revision of a verdict already given. "actually" counts only as a sentence opener
# ("Actually, 2") or right before a value ("actually 2"), not inside commentary ("is actually good").
_REVISION = re.compile(
    r"\bno,?\s+wait\b|\bwait,?\s+(?:no|actually)\b|(?:^|[.!;:\]]\s*|\n)actually,|(?-i:\bActually\b)"
    r"|\bactually\s+(?:a\s+|an\s+)?(?=\d|\[\[|(?:response|assistant|answer|output)\b|(?-i:[A-E])\b)"
    r"|\bcorrection\b|\bon\s+second\s+thoughts?\b|\blet\s+me\s+(?:revise|reconsider|correct|change)\b"
    r"|\bi\s+(?:change|revise|lower|raise|adjust|update|amend)\s+my\s+(?:score|rating|verdict|answer|choice"
    r"|ranking|grade|decision)\b|\bscratch\s+that\b|\bi\s+take\s+(?:that|it)\s+back\b|\bstrike\s+that\b",
    re.I)


def revised_after(text: str, pos: int) -> int | None:
    """Where the judge first explicitly revises a verdict after position ``pos`` ("No wait", "on second
    thought", "I change my score to", "Correction:"), else None."""
    m = _REVISION.search(text, pos)
    return m.start() if m else None


# A comparative sentence that is not (yet) a verdict: hedged or superficial ("seems", "appears",
# "at first glance", "initially", "one might think"), or limited to one aspect ("better in clarity").
_HEDGE_BEFORE = re.compile(
    r"\b(?:at\s+first(?:\s+(?:glance|sight))?|initially|first\s+impression|on\s+the\s+surface|superficially"
    r"|seemingly|one\s+(?:might|could|may)|(?:might|may|could)\s+(?:seem|appear|think|argue|say)"
    r"|i\s+(?:first\s+|initially\s+|originally\s+)?(?:thought|assumed|expected)|it\s+is\s+tempting)\b"
    r"[^.!?\n]*$", re.I)
_HEDGE_IN = re.compile(r"\b(?:seems?|appears?|looks?)\b", re.I)
# after the comparative word: an aspect ("better in/at/on/for …") or a concession in the same sentence
_QUALIFIED_AFTER = re.compile(
    r"(?:\s+than\s+(?:the\s+)?\w+(?:\s+\w)?)?\s+(?:in|at|on|for|regarding|when|with|about|as\s+far|if)\b"
    r"|[^.!?\n]*\b(?:but|however|though|although|yet|whereas|while|except)\b", re.I)
# a turn after the statement, before the final verdict: "But on reflection …", "However, …"
_TURN_AFTER = re.compile(
    r"\b(?:but|however|that\s+said|on\s+(?:reflection|balance|closer\s+(?:inspection|look|reading))"
    r"|ultimately|after\s+(?:all|careful|closer|further)|nevertheless|nonetheless|still)\b", re.I)


def is_tentative(text: str, start: int, end: int, verdict_at: int) -> bool:
    """Whether the comparative sentence at ``text[start:end]`` is hedged, aspect-limited, or turned by a
    "but"/"however"/"on reflection" before the final verdict at ``verdict_at``: such a sentence is
    reasoning on the way to the verdict, not a second verdict."""
    line_start = max(text.rfind("\n", 0, start), max(text.rfind(c, 0, start) for c in ".!?")) + 1
    if _HEDGE_BEFORE.search(text[line_start:start]) or _HEDGE_IN.search(text[start:end]):
        return True
    if _QUALIFIED_AFTER.match(text, end, end + 200):
        return True
    lo, hi = (end, verdict_at) if verdict_at > end else (verdict_at, start)
    return bool(_TURN_AFTER.search(text, lo, hi))


# Ranking direction: the contract is best first; "worst to best", "ascending order of quality", "from
# lowest to highest" are worst first.
_WORST = r"(?:worst|lowest|least|weakest|poorest|bottom)"
_BEST = r"(?:best|highest|most|strongest|top)"
_ASCENDING = re.compile(r"\b" + _WORST + r"\s*(?:to|->|→|-|first)\b(?:\s*" + _BEST + r")?|\bascending\b"
                        r"|\bincreasing\s+(?:order|quality)\b|\bfrom\s+" + _WORST + r"\b", re.I)
_DESCENDING = re.compile(r"\b" + _BEST + r"\s*(?:to|->|→|-|first)\b(?:\s*" + _WORST + r")?|\bdescending\b"
                         r"|\bdecreasing\s+(?:order|quality)\b|\bfrom\s+" + _BEST + r"\b", re.I)
#: a label naming the direction with a ranking after it: "worst to best: C, A, B"
DIRECTION_LABEL = re.compile(r"(?<![A-Za-z])(?:" + _WORST + r"\s*(?:to|->|→)\s*" + _BEST + r"|" + _BEST
                             + r"\s*(?:to|->|→)\s*" + _WORST + r")(?![A-Za-z])[^:\n]{0,40}?\s*(?::|=|->)\s*",
                             re.I)


def worst_first(text: str, start: int, value_at: int) -> bool | None:
    """Whether the ranking labelled at ``text[start:value_at]`` is written worst first (True), best first
    (False), or, where the label and the line before it name both or neither direction, unstated (None).
    The label, from its line's start, and a line before it ending in ":" are looked at."""
    line_start = text.rfind("\n", 0, start) + 1
    prev_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    prev = text[prev_start:line_start] if text[prev_start:line_start].rstrip().endswith(":") else ""
    label = prev + text[line_start:value_at]
    asc, desc = bool(_ASCENDING.search(label)), bool(_DESCENDING.search(label))
    return asc if asc != desc else None
