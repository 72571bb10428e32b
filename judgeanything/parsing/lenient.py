"""The ``lenient`` strategy: read a verdict wherever a judge wrote one — any JSON object holding a verdict
key, else prose (recorded judges, models that ignore the format).

Order per rubric: the *last* JSON object holding a verdict key (an answer-format example echoed before the
answer comes first); else anchored text on the NFKC-normalised output without markdown: ``<rubric>: value``
lines and tables, then for a single rubric the whole output as a bare value, then the statements judges
write (``[[A]]``, ``Final verdict: …``, ``Score — 4``, ``[RESULT] 4``, ``Response 2 is better``). Strong
anchors beat weak ones; within the strongest tier every statement must agree — two verdicts that disagree
are a ``parse_fail`` — except that an echoed example of the answer format (``Answer with [[A]], [[B]] or
[[C]]``, ``Score: <1-5>``) is not a statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from judgeanything.parsing._agree import agreed, json_reading
from judgeanything.parsing._common import Reading, bad, collapse, normalise, with_rule
from judgeanything.parsing._echo import is_conditional, is_echo
from judgeanything.parsing._json import COMMENT_SUFFIXES, answer_objects, unclosed_json
from judgeanything.parsing._stated import DIRECTION_LABEL, is_tentative, revised_after, worst_first
from judgeanything.parsing._values import PAIR_SENTENCES, ValueReader
from judgeanything.schema import ANSWER_SUFFIX

_MARKDOWN = re.compile(r"\*\*|__|`|(?<![A-Za-z0-9])\*(?=\S)|(?<=\S)\*(?![A-Za-z0-9])")
_AFTER_NAME = re.compile(
    r"(?:[\s_*|:=\"'`()]|-(?!\d))*"
    r"(?:(score|rating|choice|ranking|rank|verdict|judge?ment|preference|winner)(?![A-Za-z]))?"
    r"(?:\s*\(\s*\d\s*-\s*\d+\s*\)"
    r"|\s*\([^)\n]{0,30}?(?:worst|best|lowest|highest|ascending|descending|least|most)[^)\n]{0,30}\))?"
    r"(?:[\s_*|:=\"'`>]|-(?!\d))*", re.I)
_COMMENT_AFTER_NAME = re.compile(r"[\s_\"']*(?:" + "|".join(COMMENT_SUFFIXES) + r")(?![A-Za-z])", re.I)


@dataclass
class LenientReading:
    """Per rubric: the reading (None = nothing found) and the comment; whether any JSON object held a
    verdict key (``had_json``), and whether the text opens a JSON object it never closes."""

    readings: dict[str, Reading | None]
    comments: dict[str, str]
    had_json: bool
    writing_json: bool


def read(text: str, rubrics: Sequence[str], rd: ValueReader) -> LenientReading:
    """Readings for every rubric from ``text`` (reasoning blocks already removed)."""
    single = len(rubrics) == 1
    readings: dict[str, Reading | None] = {r: None for r in rubrics}
    comments: dict[str, str] = {r: "" for r in rubrics}
    objects = answer_objects(text, rd.name, rubrics)
    writing_json = not objects and unclosed_json(text)
    rest = text
    if objects:
        for r in rubrics:
            readings[r], comments[r] = json_reading(objects, r, single, rd)
        for _flat, (start, end) in reversed(objects):  # prose around the JSON is read for missing rubrics
            rest = rest[:start] + rest[end:]
    plain = collapse(_MARKDOWN.sub("", normalise(rest)))
    for r in rubrics:
        got = readings[r]
        if got is None:
            readings[r] = _from_text(plain, r, single, rd, keys_only=writing_json)
        elif got.kind == "ok" and revised_after(text, objects[-1][1][1]) is not None:
            readings[r] = bad(f"the judge revises its JSON answer {got.value!r} after giving it")
        elif got.kind == "ok":
            readings[r] = _against_prose(got, plain, r, single, rd)
    return LenientReading(readings, comments, bool(objects), writing_json)


def _against_prose(got: Reading, plain: str, rubric: str, single: bool, rd: ValueReader) -> Reading:
    """A JSON verdict checked against the strongest verdicts written outside the JSON (the rubric's own
    line, ``[[B]]``, ``Final verdict: …``): one that disagrees makes the output a ``parse_fail``."""
    hits = [r for _pos, r in _named(plain, rubric, rd, keys_only=False)]
    if single:
        hits += [r for tier, _pos, r in _anchored(plain, rd) if tier == 1]
    other = next((h.value for h in hits if h.kind == "ok" and h.value != got.value), None)
    if other is None:
        return _against_sentences(got, plain, len(plain), rd) if single else got
    return bad(f"two verdicts disagree: the JSON answer {got.value!r} and {other!r} in the text")


def _line_rest(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[pos:] if end < 0 else text[pos:end]


def _named(text: str, rubric: str, rd: ValueReader, keys_only: bool) -> list[tuple[int, Reading]]:
    """Readings written right after the rubric's name: ``Relevance: 4/5``, ``| Clarity | 5 |``,
    ``"clarity_choice": "2"``, ``Coherence ranking: CADB``. ``keys_only``: only key-like forms
    (``clarity_score``), for output that was writing JSON."""
    out = []
    name = re.escape(rubric).replace("_", "[_ ]")
    for m in re.finditer(r"(?<![A-Za-z])" + name + r"(?![A-Za-z])", text, re.I):
        rest = _line_rest(text, m.end())
        if _COMMENT_AFTER_NAME.match(rest):
            continue
        a = _AFTER_NAME.match(rest)
        if a is None or a.end() == 0 or (keys_only and not a.group(1)):
            continue
        key_like = bool(a.group(1)) and a.group(1).lower() == ANSWER_SUFFIX[rd.name]
        value = rest[a.end():]
        if not value.strip() and re.search(r"[:=]|->", rest):  # "Clarity:" with the value on the next line
            value = _line_rest(text, m.end() + len(rest) + 1)
        r = rd.prefix(value, key_like)
        if r is not None:
            out.append((m.start(), with_rule(_directed(r, text, m.start(), m.end() + a.end(), rd), "named")))
    return out


def _directed(r: Reading, text: str, start: int, value_at: int, rd: ValueReader) -> Reading:
    """A ranking labelled worst first ("Ranking from worst to best: C > A > B") in the contract's best-first
    order; every other reading unchanged."""
    if rd.name != "batch" or r.kind != "ok" or not isinstance(r.value, tuple):
        return r
    if worst_first(text, start, value_at):
        return Reading(r.kind, tuple(reversed(r.value)), r.detail, r.rule)
    return r


def _anchored(text: str, rd: ValueReader) -> list[tuple[int, int, Reading]]:
    """(tier, position, reading) for every general anchor whose value can be read, except echoed
    examples of the answer format (``Answer: A, B or C``, ``"[[A]]" if assistant A is better``)."""
    hits = []
    anchors = rd.anchors + (((1, DIRECTION_LABEL, "after"),) if rd.name == "batch" else ())
    for tier, rx, where in anchors:
        for m in rx.finditer(text):
            value = m.group(0) if where == "at" else text[m.end():]
            if is_echo(text, m.start(), m.end(), value, where, rd.name):
                continue
            key_like = rd.name == "pair" and m.group(0).strip().lower().startswith(ANSWER_SUFFIX["pair"])
            r = rd.prefix(value, key_like)
            if r is not None:
                hits.append((tier, m.start(), with_rule(_directed(r, text, m.start(), m.end(), rd), "anchor")))
    if rd.name == "pair":
        for rx, fn in PAIR_SENTENCES:
            for m in rx.finditer(text):
                choice = fn(m)
                if choice is not None and not is_conditional(text, m.start()):
                    hits.append((3, m.start(), Reading("ok", choice, rule="sentence")))
    return hits


def _last_line(text: str, rd: ValueReader) -> list[tuple[int, int, Reading]]:
    """The answer alone on the output's last line (``...\n\nB``, ``...\n\n4/5``), as strong as a labelled
    statement (tier 2): a judge that reasons first and then writes just the value."""
    stripped = text.rstrip()
    start = stripped.rfind("\n") + 1
    if start == 0:
        return []  # a one-line output is the bare rule's
    b = rd.bare(stripped[start:].strip().strip("*.\"'` ").strip())
    return [(2, start, with_rule(b, "last-line"))] if b is not None and b.kind == "ok" else []


def _from_text(text: str, rubric: str, single: bool, rd: ValueReader, keys_only: bool) -> Reading | None:
    """The verdict for one rubric from plain text: the strongest anchor tier decides; within it every
    statement must agree (``_agree.agreed``), so a verdict restated agrees with itself and two that
    disagree are a ``parse_fail``, never the last one silently."""
    hits: list[tuple[int, int, Reading]] = [(1, pos, r) for pos, r in _named(text, rubric, rd, keys_only)]
    if single and not keys_only:
        b = rd.bare(text.strip().strip("*.\"'` ").strip())
        if b is not None:
            return with_rule(b, "bare")
        hits += _anchored(text, rd) + _last_line(text, rd)
    if not hits:
        return None
    best = min(h[0] for h in hits)
    deciding = sorted((h for h in hits if h[0] == best), key=lambda h: h[1])
    got = agreed([h[2] for h in deciding], "two verdicts")
    if got.kind == "bad":
        return got
    last = deciding[-1][1]
    revision = revised_after(text, last)
    if revision is not None and not any(p > revision and r.kind == "ok" and r.value == got.value
                                        for _t, p, r in hits):
        return bad(f"the judge revises its verdict {got.value!r} after giving it (\"no wait\", \"on second "
                   "thought\", \"I change my score\"): which one is meant is not stated in a verdict")
    return _against_sentences(got, text, last, rd) if best < 3 else got


def _against_sentences(got: Reading, text: str, verdict_at: int, rd: ValueReader) -> Reading:
    """A pair verdict from an anchor (``[[B]]``, ``Final verdict: B``) checked against the asserted
    comparative sentences ("Response 1 is better than Response 2."): one naming the other response is a
    second verdict that disagrees, a ``parse_fail``. Conditional, denied, hedged ("seems", "at first
    glance"), aspect-limited ("better in clarity") and turned ("..., but on reflection") sentences are
    reasoning, not verdicts."""
    if rd.name != "pair" or got.kind != "ok":
        return got
    for rx, fn in PAIR_SENTENCES:
        for m in rx.finditer(text):
            choice = fn(m)
            if (choice is None or choice == got.value or is_conditional(text, m.start())
                    or is_tentative(text, m.start(), m.end(), verdict_at)):
                continue
            return bad(f"two verdicts disagree: {got.value!r} and the sentence {m.group(0)!r}")
    return got


__all__ = ["LenientReading", "read"]
