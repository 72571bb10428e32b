"""Value readers, one per setting: a verdict value from a JSON value, or at the start of a piece of text.

Score readers take the :class:`~judgeanything.schema.ScoreScale` (min, max, named levels) they read on, so a
1–10, 0–100 or labelled scale plugs in without touching the strategies. Nothing is ever rescaled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from judgeanything.parsing._anchors import BATCH_ANCHORS, PAIR_ANCHORS, SCORE_ANCHORS, YES_NO_ANCHORS, Anchor
from judgeanything.parsing._common import Reading, bad, ok, oor, shown
from judgeanything.schema import DEFAULT_SCORE_SCALE, PAIR_CODE, ScoreScale, swap_choice

Prefix = Callable[[str, bool], Reading | None]


@dataclass(frozen=True)
class ValueReader:
    """How one setting reads values: from a JSON value, at the start of a text, which anchors, and a
    whole output that is only a value (``bare``)."""

    name: str
    json: Callable[[Any], Reading]
    prefix: Prefix
    anchors: tuple[Anchor, ...]
    bare: Callable[[str], Reading | None]


def reader_for(setting: str, n_responses: int, scale: ScoreScale = DEFAULT_SCORE_SCALE) -> ValueReader:
    """The :class:`ValueReader` of ``setting`` (``score`` on ``scale``; ``batch`` over ``n_responses``)."""
    if setting == "score":
        return ScoreValues(scale).reader()
    if setting == "pair":
        return ValueReader("pair", pair_json, pair_prefix, PAIR_ANCHORS, pair_bare)
    if setting == "rules":
        return ValueReader("rules", yes_no_json, yes_no_prefix, YES_NO_ANCHORS, yes_no_bare)
    return batch_reader(n_responses)


# --------------------------------------------------------------------------------------------------
# Score evaluation
# --------------------------------------------------------------------------------------------------

_NUM = r"(-?\d+(?:\.\d+)?)(?:\s*(?:(?:points?|stars?)\s*)?(?:/|out\s+of)\s*(\d+(?:\.\d+)?))?(?!\d)"
_SCORE_PREFIX = re.compile(r"\[\[\s*" + _NUM + r"\s*\]\]|" + _NUM, re.I)
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10}
_SCORE_ALTERNATIVE = re.compile(r"[^\S\n]*(?:-|to|or)[^\S\n]*\d+", re.I)
#: A scale named right after a score without a slash: "4 (on a scale of 10)", "4 on a scale from 1 to 10",
#: "4 on a 10-point scale" — the number is the scale's top, read like the "/10" of "4/10" (never rescaled).
_SCALE_AFTER = re.compile(r"[^\S\n]*[(\[,]?[^\S\n]*on[^\S\n]+an?[^\S\n]+(?:scale[^\S\n]+(?:of|from)[^\S\n]+"
                          r"(?:\d+[^\S\n]*(?:-|–|to)[^\S\n]*)?(\d+)|(\d+)[- ]point[^\S\n]+scale)", re.I)
_SCORE_BARE = re.compile(r"\[\[\s*\d+\s*\]\]|\d+(?:\.\d+)?(?:\s*(?:/|out\s+of)\s*\d+)?", re.I)


class ScoreValues:
    """Score readers on one :class:`ScoreScale`."""

    def __init__(self, scale: ScoreScale) -> None:
        self.scale = scale
        # longest number that can be a score; longer runs of digits ("2141342145") are not scores
        self.max_digits = max(2, len(str(abs(scale.max))), len(str(abs(scale.min))))

    def reader(self) -> ValueReader:
        return ValueReader("score", self.json, self.prefix, SCORE_ANCHORS, self.bare)

    def from_numbers(self, num: str, den: str | None, text: bool = True) -> Reading:
        """Check a score read as ``num`` (``/den``): integer, on the scale, never rescaled. ``text``: it came
        from text, where a number longer than any score on the scale is a run of digits."""
        lo, hi = self.scale.min, self.scale.max
        written = num + (f"/{den}" if den else "")
        if text and den is None and re.fullmatch(r"\d+", num) and len(num) > self.max_digits:
            return bad(f"a run of digits {num[:40]!r} is not a score")
        if den is not None and float(den) != hi:
            return oor(f"score {written} is on another scale (never rescaled)")
        value = float(num)
        if not value.is_integer():
            return oor(f"score {written} is not an integer {lo}..{hi}")
        if not lo <= int(value) <= hi:
            return oor(f"score {written} is outside {lo}..{hi}")
        return ok(int(value))

    def prefix(self, s: str, key_like: bool = False) -> Reading | None:
        """A score at the start of ``s``: ``4``, ``4/5``, ``4 out of 5``, ``[[4]]``, ``four``, a named level."""
        m = _SCORE_PREFIX.match(s)
        if m:
            num, den = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(3), m.group(4))
            alt = _SCORE_ALTERNATIVE.match(s, m.end())
            if alt:  # "3-4", "3 or 4": two scores, not one
                return bad(f"{(m.group(0) + alt.group(0)).strip()!r} gives a range or alternatives, not one score")
            named = _SCALE_AFTER.match(s, m.end()) if den is None else None
            if named:
                den = named.group(1) or named.group(2)
            return self.from_numbers(num, den)
        w = re.match(r"([a-z]+(?:[ -][a-z]+)*)", s, re.I)
        if not w:
            return None
        if self.scale.labels:
            for k in range(len(w.group(1).split()), 0, -1):  # longest named level first ("very good")
                v = self.scale.label_value(" ".join(w.group(1).split()[:k]))
                if v is not None:
                    return ok(v)
        word = w.group(1).split()[0].split("-")[0].lower()
        if word in _NUMBER_WORDS and not re.match(r"[a-z]+\s+of\b", s, re.I):  # "one of the best" is no score
            return self.from_numbers(str(_NUMBER_WORDS[word]), None)
        return None

    def json(self, v: Any) -> Reading:
        if isinstance(v, bool):
            return bad(f"score {shown(v)} is a boolean")
        if isinstance(v, int | float):
            return self.from_numbers(str(v), None, text=False)
        if isinstance(v, str):
            r = self.prefix(" ".join(v.split()).strip("*\"'` ").strip())
            return r if r is not None else bad(f"score value {shown(v)} has no number")
        return bad(f"score value {shown(v)} is a {type(v).__name__}")

    def bare(self, s: str) -> Reading | None:
        """The whole output is a score: ``4``, ``4/5``, ``[[4]]``. A run of digits such as ``2141342145``
        (MLLM-as-a-Judge's recorded score outputs contain such runs) or ``53`` is not a score."""
        hi = str(self.scale.max)
        # two or more digits on a one-digit scale, or more digits than the scale's maximum has; "10" and
        # "100" are kept as numbers (scores on another scale: out_of_range)
        if re.fullmatch(r"\d{2,}", s) and s not in ("10", "100") and (len(hi) == 1 or len(s) > len(hi)):
            return bad(f"a run of digits {s[:40]!r} is not a score")
        if self.scale.labels and self.scale.label_value(s) is not None:
            return ok(self.scale.label_value(s))
        return self.prefix(s) if _SCORE_BARE.fullmatch(s) else None


# --------------------------------------------------------------------------------------------------
# Pair comparison
# --------------------------------------------------------------------------------------------------

# "Response 2", "Assistant B", "Answer (1)", "Output (a)", "Candidate #2", "Model B", "Option 1"
LABEL_WORDS = r"(?:response|answer|assistant|output|candidate|option|model|completion|submission)"
_LABEL_ID = r"(?:#\s*|no\.\s*|number\s+)?\(?([12AB])\)?"
_PAIR_LABEL = re.compile(LABEL_WORDS + r"\s*" + _LABEL_ID + r"(?![A-Za-z0-9])", re.I)
_PAIR_ORDINAL = re.compile(r"(?:the\s+)?(first|second|former|latter)(?![a-z])", re.I)
# "tie"/"draw" start a tie verdict; the weak words ("both", "neither", "same", "equal") only when they are
# the whole value ("Verdict: neither."), since "Both have flaws, but Response 2 is better" names a winner.
_PAIR_TIE = re.compile(r"(?:(?:it['’]?s\s+|it\s+is\s+)?an?\s+)?(?:tie|draw)(?![a-z])"
                       r"|(?:equal(?:ly\s+good)?|both(?:\s+equally)?|neither|same)[^\S\n]*(?:$|[\n.,;:!)\]}|\"'])",
                       re.I)
_PAIR_LETTER = re.compile(r"([AB])(?=\s*$|\s*[.,;:)\]}\"'!/]|\s+(?:is|was|wins|better)\b)")
_PAIR_DIGIT = re.compile(r"([0-9])(?![\d.])")
_BRACKET_LETTER = re.compile(r"\[\[\s*([A-Za-z])\s*\]\]")
_PAREN_LETTER = re.compile(r"[\"']?\(\s*([ABab12])\s*\)(?![A-Za-z0-9])")
PAIR_OF = {"1": "first", "a": "first", "first": "first", "former": "first",
           "2": "second", "b": "second", "second": "second", "latter": "second"}
_PAIR_BARE = re.compile(
    r"(?:" + LABEL_WORDS + r"\s*)?\(?[12ab]\)?|c|first|second|tie|\[\[[abc]\]\]", re.I)

# Comparative praise: "better", and "more accurate" for the qualities a judge is asked about (not "more
# detailed" or "longer", which describe without judging); "less accurate" names the other response.
_QUALITIES = r"(?:accurate|helpful|relevant|correct|faithful|precise|informative|coherent|appropriate|useful)"
_BETTER = r"(?:clearly\s+|slightly\s+|much\s+|significantly\s+|somewhat\s+|overall\s+|the\s+|far\s+)?" \
          r"(better|superior|stronger|preferable|preferred|winner|worse|weaker|inferior" \
          r"|(?:more|less)\s+" + _QUALITIES + r")"
_WORSE = ("worse", "weaker", "inferior")
_SUBJECT = LABEL_WORDS + r"\s*" + _LABEL_ID
_NEGATED = r"(?:is|was|seems|appears)(?:\s+not|n['’]t|\s+never|\s+no)\s+(?:to\s+be\s+)?" + _BETTER


def _flip_if_worse(choice: str, word: str) -> str:
    w = word.lower()
    return swap_choice(choice) if w in _WORSE or w.startswith("less") else choice


def _choice(m: re.Match[str], g: int = 1) -> str:
    return PAIR_OF[m.group(g).lower()]


PAIR_SENTENCES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    # negation first: "Response 2 is not better than Response 1" says nothing about which is better
    # (it may be a tie), so it is matched (never read as "Response 2 is better") and yields no verdict
    (re.compile(r"(?:" + _SUBJECT + r"|(?:the\s+)?(?:first|second)\s+(?:response|answer|one|output))"
                r"(?:['’]s\s+\w+)?\s+" + _NEGATED, re.I), lambda m: None),
    (re.compile(_SUBJECT + r"(?:['’]s\s+\w+)?\s+(?:is|was|seems|appears|performs)\s+(?:to\s+be\s+)?" + _BETTER,
                re.I),
     lambda m: _flip_if_worse(_choice(m), m.group(2))),
    (re.compile(r"(?:the\s+)?(first|second)\s+(?:response|answer|one|output)\s+(?:is|was|seems|appears)\s+"
                r"(?:to\s+be\s+)?" + _BETTER, re.I),
     lambda m: _flip_if_worse(_choice(m), m.group(2))),
    (re.compile(r"\bi(?:\s+would|['’]d)?\s+(?:prefer|choose|pick|select|go\s+with)\s+(?:the\s+)?"
                r"(?:" + LABEL_WORDS + r"\s*" + _LABEL_ID + r"|(first|second|former|latter))", re.I),
     lambda m: PAIR_OF[(m.group(1) or m.group(2)).lower()]),
    (re.compile(_SUBJECT + r"\s+(?:wins|is\s+the\s+winner)", re.I), lambda m: _choice(m)),
    (re.compile(r"\b(?:it['’]?s|it\s+is|this\s+is|call\s+it|declare|result\s+is)\s+a\s+tie\b"
                r"|\bboth\s+(?:responses\s+|answers\s+)?(?:are|were|perform)\s+equally\b"
                r"|\bequally\s+(?:good|bad|strong|weak|helpful|accurate|valid|well)\b"
                r"|\bneither\s+(?:response\s+|answer\s+|one\s+)?is\s+(?:clearly\s+)?better\b"
                r"|\bno\s+clear\s+winner\b|\bof\s+(?:equal|comparable|similar)\s+quality\b", re.I),
     lambda m: "tie"),
)

#: After a bare letter verdict: "A is worse …" (read only right after an anchor, where the letter is a verdict).
_LETTER_JUDGED = re.compile(r"\s+(?:is|was|seems|appears)\s+(?:to\s+be\s+)?" + _BETTER, re.I)


def pair_sentence(s: str) -> Reading | None:
    """The last 'Response 2 is better' / 'I prefer the first' / tie statement in ``s`` (negated statements
    are skipped: they name no winner)."""
    hits = [(m.start(), fn(m)) for rx, fn in PAIR_SENTENCES for m in rx.finditer(s)]
    hits = [h for h in hits if h[1] is not None]
    return ok(max(hits)[1], "sentence") if hits else None


def pair_prefix(s: str, key_like: bool = False) -> Reading | None:
    """A pair choice at the start of ``s``: ``[[A]]``, ``Response 2``, ``second``, ``tie``, ``B``, or a
    digit (the 0/1/2 pair code after the prompt's ``choice`` key; otherwise ``1`` is ambiguous)."""
    m = _PAREN_LETTER.match(s)  # "(b)", "(A)": a label in parentheses, either case
    if m:
        return ok(PAIR_OF[m.group(1).lower()])
    s = s.lstrip("\"'([ ") if not s.startswith("[[") else s
    m = _BRACKET_LETTER.match(s)
    if m:
        letter = m.group(1).upper()
        if letter in "AB":
            return ok(PAIR_OF[letter.lower()])
        if letter == "C":
            return ok("tie")
        return bad(f"[[{letter}]] is not A, B or C")
    for rx, fn in PAIR_SENTENCES:  # a statement ("Response 1 is worse") decides, not its first words
        m = rx.match(s)
        if m:
            value = fn(m)
            return ok(value) if value is not None else bad(f"{m.group(0)!r} is negated: it names no winner")
    for rx in (_PAIR_LABEL, _PAIR_ORDINAL):
        m = rx.match(s)
        if m:
            return ok(_choice(m))
    if _PAIR_TIE.match(s):
        return ok("tie")
    m = _PAIR_LETTER.match(s)
    if m:
        judged = _LETTER_JUDGED.match(s, m.end())  # "A is worse than B"
        choice = _choice(m)
        return ok(_flip_if_worse(choice, judged.group(1)) if judged else choice)
    if re.match(r"C(?![A-Za-z])", s):
        return bad("letter C outside [[C]] is ambiguous (tie only as [[C]] or in words)")
    m = _PAIR_DIGIT.match(s)
    return _pair_digit(m.group(1), key_like) if m else None


def _pair_digit(d: str, key_like: bool) -> Reading | None:
    if key_like:
        return ok(PAIR_CODE[d]) if d in PAIR_CODE else oor(f"choice {d} is not 0 (first), 1 (tie) or 2 (second)")
    if d == "0":
        return ok("first")
    if d == "2":
        return ok("second")
    if d == "1":
        return bad("a lone '1' may mean Response 1 or a tie (0/1/2 pair code)")
    return None


def pair_json(v: Any) -> Reading:
    if isinstance(v, bool):
        return bad(f"choice {shown(v)} is a boolean")
    if isinstance(v, int | float):
        if float(v) in (0.0, 1.0, 2.0):
            return ok(PAIR_CODE[str(int(v))])
        return oor(f"choice {shown(v)} is not 0 (first), 1 (tie) or 2 (second)")
    if isinstance(v, str):
        s = " ".join(v.split()).strip("*\"'` ").strip()
        if re.fullmatch(r"-?\d+(?:\.\d+)?", s):
            return pair_json(float(s))
        r = pair_sentence(s)  # "Response 1 is good, but Response 2 is better" → the statement, not the prefix
        if r is None:
            r = pair_prefix(s, key_like=True)
        return r if r is not None else bad(f"choice value {shown(v)} names no response")
    return bad(f"choice value {shown(v)} is a {type(v).__name__}")


def pair_bare(s: str) -> Reading | None:
    """The whole output is a choice: ``B``, ``Response 2``, ``[[A]]``, ``tie``."""
    return pair_prefix(s) if _PAIR_BARE.fullmatch(s) else None


# --------------------------------------------------------------------------------------------------
# Batch ranking
# --------------------------------------------------------------------------------------------------

# Letters such as "[[C], [A], [D], [B]]", "C > A > D > B", "[C, B, D, A]". Whitespace runs are collapsed
# to one character before matching (see _common.collapse), which keeps these nested patterns linear.
# A ranking stays on one line, and the pronoun "I" ("... > B I think") is not a response letter.
_SP = r"[^\S\n]"
_LETTER_ITEM = r"\[{0,2}" + _SP + r"?(?!I" + _SP + r"[a-z])[A-Z](?![A-Za-z])(?:" + _SP + r"?\]{1,2})?"
_LETTER_JOIN = r"(?:" + _SP + r"?(?:,|;|>>?|->|→)" + _SP + r"?|" + _SP + r")"
_LETTER_SEQ = re.compile(r"\[?" + _SP + r"?" + _LETTER_ITEM + _LETTER_JOIN + _LETTER_ITEM
                         + r"(?:" + _LETTER_JOIN + _LETTER_ITEM + r")*" + _SP + r"?\]?")
_LETTER_RUN = re.compile(r"([A-Z]{2,26})(?![A-Za-z])")


def letters_to_ranking(letters: str, n: int, written: str) -> Reading:
    slots = [ord(c) - ord("A") for c in letters]
    beyond = sorted({c for c, k in zip(letters, slots, strict=True) if k >= n})
    if beyond:
        return oor(f"ranking {written} names {''.join(beyond)} beyond the {n} responses")
    if len(set(slots)) != len(slots):
        return bad(f"ranking {written} repeats a response")
    if len(slots) != n:
        return bad(f"ranking {written} is partial: {len(slots)} of {n} responses")
    return ok(tuple(slots))


# "Response B > Assistant D": the label words dropped before the letters are read
_LABELLED_LETTER = re.compile(r"(?i:" + LABEL_WORDS + r")[^\S\n]*([A-Z])(?![A-Za-z])")
# a numbered list, one response per line: "1. C\n2. Response A\n3. B"
_NUMBERED_ITEM = re.compile(r"[^\S\n]*(\d+)[.)][^\S\n]*(?:(?i:" + LABEL_WORDS + r")[^\S\n]*)?(?:\[{1,2})?"
                            r"([A-Z])(?![A-Za-z])[^\n]*(?:\n|$)")
_STARTS_LABELLED = re.compile(r"[^\S\n]*(?i:" + LABEL_WORDS + r")[^\S\n]*[A-Z](?![A-Za-z])")


_LOWER_CHAIN = re.compile(r"[^\S\n]*[a-z](?:[^\S\n]*(?:>|->|→)[^\S\n]*[a-z](?![A-Za-z]))+")
_RANKING_SPAN = 1000  # characters looked at for one ranking (26 labelled responses fit)


def _numbered_letters(s: str) -> str | None:
    """The letters of a numbered list at the start of ``s`` (numbered 1, 2, 3… in order), else None."""
    letters: list[str] = []
    pos = 0
    s = s.lstrip("\n")
    while True:
        m = _NUMBERED_ITEM.match(s, pos)
        if not m or int(m.group(1)) != len(letters) + 1:
            break
        letters.append(m.group(2))
        pos = m.end()
    return "".join(letters) if len(letters) >= 2 else None


def batch_reader(n: int) -> ValueReader:
    def prefix(s: str, key_like: bool = False) -> Reading | None:
        """A ranking at the start of ``s``: ``CADB``, ``C > A > D > B``, ``[[C], [A], [D], [B]]``,
        ``Response B > Response D > …``, or a numbered list of letters one per line."""
        head = s[:_RANKING_SPAN]  # a ranking is short; bounding the look keeps every call linear-time overall
        numbered = _numbered_letters(head)
        if numbered:
            return letters_to_ranking(numbered, n, repr(numbered))
        first = head.split("\n", 1)[0]
        if _STARTS_LABELLED.match(first):
            first = _LABELLED_LETTER.sub(r"\1", first)
        lower = _LOWER_CHAIN.match(first)
        if lower:  # "c > a > b": an explicit chain, so lower-case letters are response letters too
            first = lower.group(0).upper()
        m = _LETTER_SEQ.match(first) or _LETTER_RUN.match(first)
        if not m:
            return None
        span = m.group(0)
        return letters_to_ranking("".join(re.findall(r"[A-Z]", span)), n, repr(span.strip()))

    def from_json(v: Any) -> Reading:
        if isinstance(v, list):
            if all(isinstance(x, str) for x in v):
                letters = "".join(x.strip().strip("[]").strip().upper() for x in v)
                if re.fullmatch(r"[A-Z]*", letters):
                    return letters_to_ranking(letters, n, repr(v))
            return bad(f"ranking {shown(v)} is not a list of response letters")
        if isinstance(v, str):
            s = " ".join(v.split())
            if re.fullmatch(r"[A-Za-z]{1,26}", s):
                return letters_to_ranking(s.upper(), n, repr(s))
            r = prefix(s.strip("\"' "), True)
            return r if r is not None else bad(f"ranking value {shown(v)} has no response letters")
        return bad(f"ranking value {shown(v)} is a {type(v).__name__}; expected letters such as 'CADB'")

    def bare(s: str) -> Reading | None:
        return prefix(s) if re.fullmatch(r"[A-Z]{2,26}", s) else None

    return ValueReader("batch", from_json, prefix, BATCH_ANCHORS, bare)


# --------------------------------------------------------------------------------------------------
# Rule judging: a yes/no verdict (yes = the content violates the rule)
# --------------------------------------------------------------------------------------------------

# "yes", "Yes.", "**No**", "yes, it does" — the word must end there: "yesterday", "Nothing" and "no one"
# (a pronoun, not an answer) are not verdicts. "true"/"false" and "violates"/"does not violate" read the
# same way (the claim is true = violation).
_YES = re.compile(r"(?:yes|true|violat(?:es|ed|ion)|it\s+does(?!\s*n[o']t))(?![A-Za-z])", re.I)
_NO = re.compile(r"(?:no(?!\s+(?:one|body|thing|where|longer|more|doubt)\b)|false|not\s+(?:true|violated)"
                 r"|does\s*(?:not|n't)\s+violate|no\s+violation)(?![A-Za-z])", re.I)
_YES_NO_BARE = re.compile(r"\[?\[?\s*(?:yes|no|true|false)\s*\]?\]?[.!]?", re.I)
_MIXED = re.compile(r"(?:yes|no)\s*(?:/|or|and)\s*(?:yes|no)(?![A-Za-z])", re.I)


def yes_no_prefix(s: str, key_like: bool = False) -> Reading | None:
    """A yes/no verdict at the start of ``s`` (after markup): ``"yes"`` or ``"no"``; ``yes/no`` and
    ``yes or no`` (an echoed answer template) are ``bad``."""
    t = s.lstrip("*\"'`[( ")
    if _MIXED.match(t):
        return bad(f"{shown(t[:30])} names both answers")
    if _NO.match(t):
        return ok("no")
    if _YES.match(t):
        return ok("yes")
    return None


def yes_no_json(v: Any) -> Reading:
    """A JSON value: ``"yes"``/``"no"`` (any case, markup stripped), or a boolean (true = violates)."""
    if isinstance(v, bool):
        return ok("yes" if v else "no")
    if isinstance(v, str):
        r = yes_no_prefix(" ".join(v.split()).strip())
        return r if r is not None else bad(f"violation value {shown(v)} is not yes or no")
    return bad(f"violation value {shown(v)} is a {type(v).__name__}")


def yes_no_bare(s: str) -> Reading | None:
    """The whole output is the answer: ``Yes``, ``no.``, ``[[yes]]``."""
    return yes_no_prefix(s) if _YES_NO_BARE.fullmatch(s.strip()) else None
