"""Read a judge's raw output into one verdict or failure per requested rubric (DESIGN §2, §5).

``parse_output`` returns verdicts in *presentation* orientation (the runner maps them back to dataset
order): pair ``"first"|"tie"|"second"``, score ``int`` 1–5, batch a tuple of 0-based presented slots, best
first. Anything that cannot be read is a :class:`~judgeanything.schema.Failure` with a short ``detail`` of
what was seen, never a default score.

Strategy, in order:

1. Reasoning blocks (``<think>…</think>``, also unclosed or only closed) are removed.
2. Empty text → ``truncated`` when the generation hit its token limit, else ``parse_fail``.
3. JSON: every balanced ``{…}`` object in the text (fenced or not, chatter around it allowed; Python-style
   dicts with single quotes or trailing commas too). The *last* object holding an expected key is used, so
   an answer-format example echoed before the answer is not mistaken for it. Keys per rubric are
   ``<rubric>_score|_choice|_ranking`` (the prompt's format, :mod:`judgeanything.prompts`), with common
   variants (``_rating``, ``_verdict``, nested ``{"clarity": {"score": 4}}``) and, for a single rubric, bare
   ``choice``/``score``/``rating``/``verdict``/``ranking``.
4. Anchored text: ``<rubric>: value`` lines (markdown tables, ``Relevance: 4/5``), then for a single rubric
   the statements judges write: ``[[A]]``/``[[B]]``/``[[C]]`` (FastChat / MLLM-as-a-Judge; C = tie),
   ``[[4]]``, ``Final verdict: …``, ``Answer: B``, ``Score: 3``, ``Rating: 4/5``, ``Response 2 is better``,
   ``Rank: [[A], [C], [D], [B]]``. Strong anchors beat weak ones; among equals the *last* wins, so a
   rubric or scale echoed at the top is not read as the verdict.
5. Nothing found → ``truncated`` (token limit hit), ``refusal`` (an apology / "I can't" answer), else
   ``parse_fail``.

Values are never rescaled: ``8/10`` or ``0`` is ``out_of_range``; a bare run of digits such as
``2141342145`` (seen in MLLM-as-a-Judge's recorded score outputs) and a range or alternatives (``3-4``,
``3 or 4``) are ``parse_fail``. Pair letters: ``A`` =
first, ``B`` = second, and ``C`` means a tie only inside ``[[C]]``. The pair digits follow the Judge
Anything release's convention (``0`` first better, ``1`` tie, ``2`` second better) where the output uses the
prompt's ``choice`` key; elsewhere a lone ``1`` (Response 1, or tie?) is ambiguous and fails.

This module imports only :mod:`judgeanything.schema`.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from judgeanything.schema import (
    SCORE_MAX,
    SCORE_MIN,
    SETTINGS,
    Failure,
    Outcome,
    Verdict,
    pair_choice_from_judgeanything,
    swap_choice,
)

#: Verdict-key suffix per setting; the same table as ``judgeanything.prompts.ANSWER_SUFFIX`` (kept in both
#: layers because neither may import the other; tests check that they agree).
ANSWER_SUFFIX: Mapping[str, str] = {"score": "score", "pair": "choice", "batch": "ranking"}
#: finish reasons that mean "stopped at the token limit" (OpenAI ``length``, Anthropic ``max_tokens``,
#: Gemini ``MAX_TOKENS``).
TRUNCATION_REASONS = frozenset({"length", "max_tokens", "max_output_tokens"})

_VERDICT_SUFFIXES = ("score", "choice", "ranking", "rating", "verdict", "rank", "preference", "winner",
                     "judgement", "judgment", "result", "answer")
_BARE_VERDICT_KEYS = ("choice", "score", "rating", "verdict", "ranking", "rank", "preference", "winner",
                      "judgement", "judgment", "result", "answer", "final_verdict", "final_answer",
                      "final_score", "final_ranking")
_COMMENT_SUFFIXES = ("comment", "reason", "reasoning", "explanation", "justification", "rationale",
                     "analysis")
_MAX_JSON_STARTS = 200  # "{" positions tried per output; with _MAX_JSON_SPAN bounds the scan's cost
_MAX_JSON_SPAN = 20_000  # longest {...} object looked for (judge answers are far shorter)

_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.I)
_THINK_OPEN = re.compile(r"<(?:think|thinking|reasoning)>", re.I)
_THINK_TAG = re.compile(r"</?(think|thinking|reasoning)>", re.I)
_MARKDOWN = re.compile(r"\*\*|__|`")
_WS_RUN = re.compile(r"[^\S\n]+")
_WS_NEWLINE = re.compile(r" ?\n\s*")
_REFUSAL = re.compile(
    r"\b(?:i['’]?m\s+sorry|i\s+am\s+sorry|i\s+apologi[sz]e"
    r"|i\s+(?:can(?:not|['’]t)|am\s+(?:not\s+able|unable)|won['’]t|will\s+not|must\s+decline)"
    r"\s+(?:to\s+)?(?:help|assist|comply|provide|do\s+that|evaluate|compare|judge|rate|rank|fulfil|complete)"
    r"|as\s+an\s+ai\b[^.]{0,60}\b(?:cannot|can['’]t|unable))",
    re.I)

Kind = Literal["ok", "out_of_range", "bad"]


@dataclass(frozen=True)
class _Reading:
    """One value read from the output: ``ok`` with the verdict value, or why it is not one."""

    kind: Kind
    value: Any = None
    detail: str = ""


def _ok(v: Any) -> _Reading:
    return _Reading("ok", v)


def _bad(detail: str) -> _Reading:
    return _Reading("bad", detail=detail)


def _oor(detail: str) -> _Reading:
    return _Reading("out_of_range", detail=detail)


def _val(v: Any, n: int = 80) -> str:
    """``repr(v)`` cut to ``n`` characters, for failure details (the judge's full text is in ``raw``)."""
    r = repr(v)
    return r if len(r) <= n else r[: n - 1] + "…"


def _collapse(text: str) -> str:
    """Runs of whitespace → one space, or one newline when they contain a line break. Keeps lines (for
    tables and ``Rubric: value`` lines) and keeps every text pattern below free of long ambiguous runs."""
    return _WS_NEWLINE.sub("\n", _WS_RUN.sub(" ", text))


def _snip(text: str, n: int = 70) -> str:
    t = " ".join(text.split())
    return repr(t) if len(t) <= 2 * n else repr(t[:n] + " … " + t[-n:])


# --------------------------------------------------------------------------------------------------
# Reasoning blocks
# --------------------------------------------------------------------------------------------------


def strip_reasoning(raw: str) -> str:
    """Remove ``<think>…</think>`` blocks (also ``<thinking>``/``<reasoning>``), the text before a lone
    closing tag (templates that open the block inside the prompt), and an unclosed block to the end.

    Linear in the length of ``raw``: the blocks are found from one scan of the tags, not with the regex
    ``<(think)>.*?</\\1>``, which rescans to the end of the text from every opening tag that has no
    matching close (quadratic: 100,000 repeated ``<think>`` tags took minutes)."""
    text = _remove_blocks(raw)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end():]
    m = _THINK_OPEN.search(text)
    if m:
        text = text[:m.start()]
    return text.strip()


def _remove_blocks(raw: str) -> str:
    """``raw`` without its reasoning blocks: the same result as
    ``re.sub(r"<(think|thinking|reasoning)>.*?</\\1>", "", raw, flags=re.S | re.I)`` (leftmost opening
    tag first, each closed by the nearest following closing tag of the same name), in O(tags · log tags)."""
    tags = [(m.start(), m.end(), m.group(1).lower(), m.group(0)[1] == "/") for m in _THINK_TAG.finditer(raw)]
    closes: dict[str, list[int]] = {}
    for k, (_s, _e, name, is_close) in enumerate(tags):
        if is_close:
            closes.setdefault(name, []).append(k)
    keep, pos = [], 0
    for k, (start, _end, name, is_close) in enumerate(tags):
        if is_close or start < pos:
            continue
        idx = closes.get(name, [])
        j = bisect.bisect_right(idx, k)
        if j == len(idx):
            continue  # never closed: left for the unclosed-block rule
        close = tags[idx[j]]
        keep.append(raw[pos:start])
        pos = close[1]
    keep.append(raw[pos:])
    return "".join(keep)


# --------------------------------------------------------------------------------------------------
# Value readers, one per setting
# --------------------------------------------------------------------------------------------------

_NUM = r"(-?\d+(?:\.\d+)?)(?:\s*(?:/|out\s+of)\s*(\d+(?:\.\d+)?))?(?!\d)"
_SCORE_PREFIX = re.compile(r"\[\[\s*" + _NUM + r"\s*\]\]|" + _NUM, re.I)
_SCORE_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_SCORE_ALTERNATIVE = re.compile(r"[^\S\n]*(?:-|–|—|to|or)[^\S\n]*\d+", re.I)


def _score_from_numbers(num: str, den: str | None, text: bool = True) -> _Reading:
    """Check a score read as ``num`` (``/den``): integer, on the 1..5 scale, never rescaled. ``text``: it
    came from text, where three or more bare digits are a run of digits rather than a number."""
    shown = num + (f"/{den}" if den else "")
    if text and den is None and re.fullmatch(r"\d{3,}", num):
        return _bad(f"a run of digits {num[:40]!r} is not a score")
    if den is not None and float(den) != SCORE_MAX:
        return _oor(f"score {shown} is on another scale (never rescaled)")
    value = float(num)
    if not value.is_integer():
        return _oor(f"score {shown} is not an integer {SCORE_MIN}..{SCORE_MAX}")
    if not SCORE_MIN <= int(value) <= SCORE_MAX:
        return _oor(f"score {shown} is outside {SCORE_MIN}..{SCORE_MAX}")
    return _ok(int(value))


def _score_prefix(s: str, key_like: bool = False) -> _Reading | None:
    """A score at the start of ``s``: ``4``, ``4/5``, ``4 out of 5``, ``[[4]]``, ``four``."""
    m = _SCORE_PREFIX.match(s)
    if m:
        num, den = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(3), m.group(4))
        alt = _SCORE_ALTERNATIVE.match(s, m.end())
        if alt:  # "3-4", "3 or 4": two scores, not one
            return _bad(f"{(m.group(0) + alt.group(0)).strip()!r} gives a range or alternatives, not one score")
        return _score_from_numbers(num, den)
    w = re.match(r"([a-z]+)\b", s, re.I)
    if w and w.group(1).lower() in _SCORE_WORDS:
        return _ok(_SCORE_WORDS[w.group(1).lower()])
    return None


def _score_json(v: Any) -> _Reading:
    if isinstance(v, bool):
        return _bad(f"score {_val(v)} is a boolean")
    if isinstance(v, int | float):
        return _score_from_numbers(str(v), None, text=False)
    if isinstance(v, str):
        r = _score_prefix(" ".join(v.split()).strip("*\"'` ").strip())
        return r if r is not None else _bad(f"score value {_val(v)} has no number")
    return _bad(f"score value {_val(v)} is a {type(v).__name__}")


_PAIR_LABEL = re.compile(
    r"(?:response|answer|assistant|output|candidate|option)\s*#?\s*([12AB])(?![A-Za-z0-9])", re.I)
_PAIR_ORDINAL = re.compile(r"(?:the\s+)?(first|second)(?![a-z])", re.I)
# "tie"/"draw" start a tie verdict; the weak words ("both", "neither", "same", "equal") only when they are the
# whole value ("Verdict: neither."), since "Both have flaws, but Response 2 is better" names a winner.
_PAIR_TIE = re.compile(r"(?:tie|draw)(?![a-z])"
                       r"|(?:equal(?:ly\s+good)?|both(?:\s+equally)?|neither|same)[^\S\n]*(?:$|[\n.,;:!)\]}|\"'])",
                       re.I)
_PAIR_LETTER = re.compile(r"([AB])(?=\s*$|\s*[.,;:)\]}\"'!/]|\s+(?:is|was|wins|better)\b)")
_PAIR_DIGIT = re.compile(r"([0-9])(?![\d.])")
_BRACKET_LETTER = re.compile(r"\[\[\s*([A-Za-z])\s*\]\]")
_PAIR_OF = {"1": "first", "a": "first", "first": "first", "2": "second", "b": "second", "second": "second"}


def _pair_prefix(s: str, key_like: bool = False) -> _Reading | None:
    """A pair choice at the start of ``s``: ``[[A]]``, ``Response 2``, ``second``, ``tie``, ``B``, or a
    digit (the 0/1/2 convention after a ``choice`` key; otherwise ``1`` is ambiguous)."""
    s = s.lstrip("\"'([ ") if not s.startswith("[[") else s
    m = _BRACKET_LETTER.match(s)
    if m:
        letter = m.group(1).upper()
        if letter in "AB":
            return _ok(_PAIR_OF[letter.lower()])
        if letter == "C":
            return _ok("tie")
        return _bad(f"[[{letter}]] is not A, B or C")
    for rx, fn in _PAIR_SENTENCES:  # a statement ("Response 1 is worse") decides, not its first words
        m = rx.match(s)
        if m:
            return _ok(fn(m))
    for rx in (_PAIR_LABEL, _PAIR_ORDINAL):
        m = rx.match(s)
        if m:
            return _ok(_PAIR_OF[m.group(1).lower()])
    if _PAIR_TIE.match(s):
        return _ok("tie")
    m = _PAIR_LETTER.match(s)
    if m:
        judged = _LETTER_JUDGED.match(s, m.end())  # "A is worse than B"
        choice = _PAIR_OF[m.group(1).lower()]
        return _ok(_flip_if_worse(choice, judged.group(1)) if judged else choice)
    if re.match(r"C(?![A-Za-z])", s):
        return _bad("letter C outside [[C]] is ambiguous (tie only as [[C]] or in words)")
    m = _PAIR_DIGIT.match(s)
    if m:
        d = m.group(1)
        if key_like:
            return _ok(pair_choice_from_judgeanything(d)) if d in "012" else \
                _oor(f"choice {d} is not 0 (first), 1 (tie) or 2 (second)")
        if d == "0":
            return _ok("first")
        if d == "2":
            return _ok("second")
        if d == "1":
            return _bad("a lone '1' may mean Response 1 or a tie (0/1/2 convention)")
        return None
    return None


def _pair_json(v: Any) -> _Reading:
    if isinstance(v, bool):
        return _bad(f"choice {_val(v)} is a boolean")
    if isinstance(v, int | float):
        if float(v) in (0.0, 1.0, 2.0):
            return _ok(pair_choice_from_judgeanything(int(v)))
        return _oor(f"choice {_val(v)} is not 0 (first), 1 (tie) or 2 (second)")
    if isinstance(v, str):
        s = " ".join(v.split()).strip("*\"'` ").strip()
        if re.fullmatch(r"-?\d+(?:\.\d+)?", s):
            return _pair_json(float(s))
        r = _pair_sentence(s)  # "Response 1 is good, but Response 2 is better" → the statement, not the prefix
        if r is None:
            r = _pair_prefix(s, key_like=True)
        return r if r is not None else _bad(f"choice value {_val(v)} names no response")
    return _bad(f"choice value {_val(v)} is a {type(v).__name__}")


_BETTER = r"(?:clearly\s+|slightly\s+|much\s+|significantly\s+|somewhat\s+|overall\s+|the\s+)?" \
          r"(better|superior|stronger|preferable|preferred|winner|worse|weaker|inferior)"
_PAIR_SENTENCES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"(?:response|answer|assistant|output|candidate)\s*([12AB])(?:['’]s\s+\w+)?\s+"
                r"(?:is|was|seems|appears|performs)\s+(?:to\s+be\s+)?" + _BETTER, re.I),
     lambda m: _flip_if_worse(_PAIR_OF[m.group(1).lower()], m.group(2))),
    (re.compile(r"(?:the\s+)?(first|second)\s+(?:response|answer|one|output)\s+(?:is|was|seems|appears)\s+"
                r"(?:to\s+be\s+)?" + _BETTER, re.I),
     lambda m: _flip_if_worse(_PAIR_OF[m.group(1).lower()], m.group(2))),
    (re.compile(r"\bi\s+(?:would\s+)?(?:prefer|choose|pick|select)\s+(?:the\s+)?"
                r"(?:(?:response|answer|assistant|output)\s*([12AB])|(first|second))", re.I),
     lambda m: _PAIR_OF[(m.group(1) or m.group(2)).lower()]),
    (re.compile(r"(?:response|answer|assistant|output)\s*([12AB])\s+(?:wins|is\s+the\s+winner)", re.I),
     lambda m: _PAIR_OF[m.group(1).lower()]),
    (re.compile(r"\b(?:it['’]?s|it\s+is|this\s+is|call\s+it|declare|result\s+is)\s+a\s+tie\b"
                r"|\bboth\s+(?:responses\s+|answers\s+)?(?:are|were|perform)\s+equally\b"
                r"|\bequally\s+(?:good|bad|strong|weak|helpful|accurate|valid|well)\b"
                r"|\bneither\s+(?:response\s+|answer\s+|one\s+)?is\s+(?:clearly\s+)?better\b"
                r"|\bno\s+clear\s+winner\b|\bof\s+(?:equal|comparable|similar)\s+quality\b", re.I),
     lambda m: "tie"),
)

#: After a bare letter verdict: "A is worse …" (read only right after an anchor, where the letter is a verdict).
_LETTER_JUDGED = re.compile(r"\s+(?:is|was|seems|appears)\s+(?:to\s+be\s+)?" + _BETTER, re.I)


def _flip_if_worse(choice: str, word: str) -> str:
    return swap_choice(choice) if word.lower() in ("worse", "weaker", "inferior") else choice


def _pair_sentence(s: str) -> _Reading | None:
    """The last 'Response 2 is better' / 'I prefer the first' / tie statement in ``s``."""
    hits = [(m.start(), fn(m)) for rx, fn in _PAIR_SENTENCES for m in rx.finditer(s)]
    return _ok(max(hits)[1]) if hits else None


# Letters such as "[[C], [A], [D], [B]]", "C > A > D > B", "[C, B, D, A]". Whitespace runs are collapsed
# to one character before matching (see _collapse), which keeps these nested patterns linear.
_LETTER_ITEM = r"\[{0,2}\s?[A-Z](?![A-Za-z])(?:\s?\]{1,2})?"
_LETTER_SEQ = re.compile(r"\[?\s?" + _LETTER_ITEM + r"(?:\s?(?:,|;|>>?|->|→)\s?|\s)" + _LETTER_ITEM
                         + r"(?:(?:\s?(?:,|;|>>?|->|→)\s?|\s)" + _LETTER_ITEM + r")*\s?\]?")
_LETTER_RUN = re.compile(r"([A-Z]{2,26})(?![A-Za-z])")


def _letters_to_ranking(letters: str, n: int, shown: str) -> _Reading:
    slots = [ord(c) - ord("A") for c in letters]
    beyond = sorted({c for c, k in zip(letters, slots, strict=True) if k >= n})
    if beyond:
        return _oor(f"ranking {shown} names {''.join(beyond)} beyond the {n} responses")
    if len(set(slots)) != len(slots):
        return _bad(f"ranking {shown} repeats a response")
    if len(slots) != n:
        return _bad(f"ranking {shown} is partial: {len(slots)} of {n} responses")
    return _ok(tuple(slots))


def _batch_prefix_factory(n: int) -> Callable[[str, bool], _Reading | None]:
    def read(s: str, key_like: bool = False) -> _Reading | None:
        """A ranking at the start of ``s``: ``CADB``, ``C > A > D > B``, ``[[C], [A], [D], [B]]``."""
        m = _LETTER_SEQ.match(s) or _LETTER_RUN.match(s)
        if not m:
            return None
        span = m.group(0)
        return _letters_to_ranking("".join(re.findall(r"[A-Z]", span)), n, repr(span.strip()))
    return read


def _batch_json_factory(n: int) -> Callable[[Any], _Reading]:
    prefix = _batch_prefix_factory(n)

    def read(v: Any) -> _Reading:
        if isinstance(v, list):
            if all(isinstance(x, str) for x in v):
                letters = "".join(x.strip().strip("[]").strip().upper() for x in v)
                if re.fullmatch(r"[A-Z]*", letters):
                    return _letters_to_ranking(letters, n, repr(v))
            return _bad(f"ranking {_val(v)} is not a list of response letters")
        if isinstance(v, str):
            s = " ".join(v.split())
            if re.fullmatch(r"[A-Za-z]{1,26}", s):
                return _letters_to_ranking(s.upper(), n, repr(s))
            r = prefix(s.strip("\"' "), True)
            return r if r is not None else _bad(f"ranking value {_val(v)} has no response letters")
        return _bad(f"ranking value {_val(v)} is a {type(v).__name__}; expected letters such as 'CADB'")
    return read


# --------------------------------------------------------------------------------------------------
# Anchors (text fallbacks)
# --------------------------------------------------------------------------------------------------

def _anchor(words: str) -> re.Pattern[str]:
    """``<words>[ (note)][ is]:`` — a label followed by a colon or equals sign (``Score (1-5): 4``)."""
    tail = r"\s*(?:\([^)\n]{0,30}\))?\s*(?:is\s*)?[:=]\s*"
    return re.compile(r"(?<![A-Za-z_])(?:" + words + r")(?![A-Za-z])" + tail, re.I)


# (tier, pattern, where) — lower tiers are stronger. ``after``: the value is read right after the match
# (``Score: 4``); ``at``: the match is the value itself (``[[B]]``, ``4/5``, ``[[C]], [[A]], [[B]]``).
_Anchor = tuple[int, re.Pattern[str], Literal["after", "at"]]
_SCORE_ANCHORS: tuple[_Anchor, ...] = (
    (1, re.compile(r"\[\[\s*-?\d+(?:\.\d+)?\s*(?:/\s*\d+\s*)?\]\]"), "at"),
    (1, _anchor(r"final\s+(?:score|rating|grade|verdict|answer)|overall\s+(?:score|rating|grade)"), "after"),
    (2, _anchor(r"score|rating|grade|verdict|judge?ment|answer|result"), "after"),
    (2, re.compile(r"(?<![A-Za-z])(?:rated?|scored?|rate\s+(?:it|this(?:\s+response)?|the\s+response))"
                   r"\s+(?:it\s+|this\s+|the\s+response\s+)?(?:a|an|as)?\s*", re.I), "after"),
    (3, re.compile(r"(?<![A-Za-z])i\s+would\s+give\s+(?:it|this(?:\s+response)?|the\s+response)\s+"
                   r"(?:a|an)?\s*", re.I), "after"),
    (3, re.compile(r"(?<![\d./])\d+(?:\.\d+)?\s*(?:/|out\s+of)\s*\d+(?:\.\d+)?(?![\d/])", re.I), "at"),
)
_PAIR_ANCHORS: tuple[_Anchor, ...] = (
    (1, re.compile(r"\[\[\s*[A-Za-z]\s*\]\]"), "at"),
    (1, _anchor(r"final\s+(?:verdict|answer|choice|decision|judge?ment)|verdict|judge?ment|decision"),
     "after"),
    (2, _anchor(r"answer|choice|winner|preference|preferred(?:\s+response)?|better\s+response|result"
                r"|conclusion"), "after"),
)
_BATCH_ANCHORS: tuple[_Anchor, ...] = (
    (1, re.compile(r"(?<![A-Za-z])(?:final\s+)?rank(?:ing|ed)?(?![A-Za-z])[^:\n]{0,80}?[:=]\s*", re.I),
     "after"),
    (1, _anchor(r"(?:final\s+)?(?:judge?ment|verdict|order|answer)"), "after"),
    (2, re.compile(r"(?:\[\[\s*[A-Z]\s*\]\]\s*[,;>]?\s*){2,}"), "at"),
    (2, re.compile(r"(?<![A-Za-z])[A-Z](?:\s*>\s*[A-Z](?![A-Za-z]))+"), "at"),
)


@dataclass(frozen=True)
class _Setting:
    """How one setting reads values: from a JSON value, at the start of a text, and which anchors."""

    name: str
    json: Callable[[Any], _Reading]
    prefix: Callable[..., _Reading | None]
    anchors: tuple[_Anchor, ...]


def _setting(setting: str, n: int) -> _Setting:
    if setting == "score":
        return _Setting("score", _score_json, _score_prefix, _SCORE_ANCHORS)
    if setting == "pair":
        return _Setting("pair", _pair_json, _pair_prefix, _PAIR_ANCHORS)
    return _Setting("batch", _batch_json_factory(n), _batch_prefix_factory(n), _BATCH_ANCHORS)


# --------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------


def _norm_key(k: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(k).strip().strip("*\"'` ").lower())


def _flatten(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised keys; one level of nesting lifted: ``{"clarity": {"score": 4}}`` → ``clarity_score``,
    ``{"scores": {"clarity": 4}}`` → ``clarity``."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        nk = _norm_key(k)
        if isinstance(v, Mapping):
            for ik, iv in v.items():
                nik = _norm_key(ik)
                out.setdefault(f"{nk}_{nik}", iv)
                out.setdefault(nik, iv)
        else:
            out[nk] = v
    return out


def _balanced_end(text: str, start: int) -> int | None:
    """End index of the ``{…}`` starting at ``start``, skipping quoted strings; None when unbalanced.
    Hand-rolled because the span is needed for text that ``json`` rejects (single quotes, trailing
    commas), which ``ast.literal_eval`` then reads."""
    depth, quote, esc = 0, "", False
    for i in range(start, min(len(text), start + _MAX_JSON_SPAN)):
        c = text[i]
        if quote:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _json_objects(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """Every top-level dict in ``text`` with its span, in order."""
    dec = json.JSONDecoder()
    out: list[tuple[int, int, dict[str, Any]]] = []
    pos, tries = 0, 0
    while tries < _MAX_JSON_STARTS:
        i = text.find("{", pos)
        if i < 0:
            break
        tries += 1
        try:
            obj, end = dec.raw_decode(text, i)
        except (json.JSONDecodeError, RecursionError, ValueError):
            # besides syntax errors: nesting past the recursion limit, integers past
            # sys.get_int_max_str_digits() (ValueError) — judge text, so never an exception
            end_b = _balanced_end(text, i)
            obj = None
            if end_b is not None:
                try:
                    obj = ast.literal_eval(text[i:end_b])
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    obj = None
            if isinstance(obj, dict) and end_b is not None:
                out.append((i, end_b, obj))
                pos = end_b
            else:
                pos = i + 1
            continue
        if isinstance(obj, dict):
            out.append((i, end, obj))
            pos = end
        else:
            pos = i + 1
    return out


def _verdict_keys(setting: str, rubric: str, single: bool) -> list[str]:
    keys = [f"{rubric}_{ANSWER_SUFFIX[setting]}"]
    keys += [f"{rubric}_{s}" for s in _VERDICT_SUFFIXES if f"{rubric}_{s}" not in keys]
    keys.append(rubric)
    if single:
        keys += list(_BARE_VERDICT_KEYS)
    return keys


def _comment(obj: Mapping[str, Any], rubric: str, single: bool) -> str:
    keys = [f"{rubric}_{s}" for s in _COMMENT_SUFFIXES]
    if single:
        keys += list(_COMMENT_SUFFIXES)
    for k in keys:
        v = obj.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


def _pick_json(text: str, setting: str, rubrics: Sequence[str]
               ) -> tuple[dict[str, Any], tuple[int, int]] | None:
    single = len(rubrics) == 1
    wanted = {k for r in rubrics for k in _verdict_keys(setting, r, single)}
    chosen = None
    for start, end, obj in _json_objects(text):
        flat = _flatten(obj)
        if wanted & {k for k, v in flat.items() if not isinstance(v, Mapping)}:
            chosen = (flat, (start, end))  # the last one with an expected key wins (echoed examples first)
    return chosen


def _from_json(flat: Mapping[str, Any], rubric: str, single: bool, rd: _Setting) -> _Reading | None:
    for k in _verdict_keys(rd.name, rubric, single):
        if k in flat and not isinstance(flat[k], Mapping):
            r = rd.json(flat[k])
            return _Reading(r.kind, r.value, f"{k}: {r.detail}" if r.detail else "")
    return None


# --------------------------------------------------------------------------------------------------
# Text fallbacks
# --------------------------------------------------------------------------------------------------

_AFTER_NAME = re.compile(
    r"(?:[\s_*|:=–—\"'`()]|-(?!\d))*"
    r"(?:(score|rating|choice|ranking|rank|verdict|judge?ment|preference|winner)(?![A-Za-z]))?"
    r"(?:\s*\(\s*\d\s*[-–]\s*\d+\s*\))?"
    r"(?:[\s_*|:=–—\"'`]|-(?!\d))*", re.I)
_COMMENT_AFTER_NAME = re.compile(r"[\s_\"']*(?:" + "|".join(_COMMENT_SUFFIXES) + r")(?![A-Za-z])", re.I)
_PAIR_BARE = re.compile(
    r"(?:(?:response|answer|assistant|output)\s*)?[12ab]|c|first|second|tie|\[\[[abc]\]\]", re.I)
_SCORE_BARE = re.compile(r"\[\[\s*\d+\s*\]\]|\d+(?:\.\d+)?(?:\s*(?:/|out\s+of)\s*\d+)?", re.I)


def _line_rest(text: str, pos: int) -> str:
    end = text.find("\n", pos)
    return text[pos:] if end < 0 else text[pos:end]


def _named(text: str, rubric: str, rd: _Setting, keys_only: bool) -> list[tuple[int, _Reading]]:
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
        r = rd.prefix(rest[a.end():], key_like)
        if r is not None:
            out.append((m.start(), r))
    return out


def _anchored(text: str, rd: _Setting) -> list[tuple[int, int, _Reading]]:
    """(tier, position, reading) for every general anchor whose value can be read."""
    hits = []
    for tier, rx, where in rd.anchors:
        for m in rx.finditer(text):
            r = rd.prefix(m.group(0) if where == "at" else text[m.end():])
            if r is not None:
                hits.append((tier, m.start(), r))
    if rd.name == "pair":
        hits += [(3, m.start(), _ok(fn(m))) for rx, fn in _PAIR_SENTENCES for m in rx.finditer(text)]
    return hits


def _bare(text: str, rd: _Setting) -> _Reading | None:
    """The whole output is just a value: ``4``, ``4/5``, ``B``, ``Response 2``, ``CADB``. A run of digits
    such as ``2141342145`` fails (MLLM-as-a-Judge's recorded score outputs contain such runs)."""
    s = text.strip().strip("*.\"'` ").strip()
    if rd.name == "score":
        if re.fullmatch(r"\d{2,}", s) and s != "10":  # "53", "2141342145": concatenated scores
            return _bad(f"a run of digits {s[:40]!r} is not a score")
        return rd.prefix(s) if _SCORE_BARE.fullmatch(s) else None
    if rd.name == "pair":
        return rd.prefix(s) if _PAIR_BARE.fullmatch(s) else None
    return rd.prefix(s) if re.fullmatch(r"[A-Z]{2,26}", s) else None


def _from_text(text: str, rubric: str, single: bool, rd: _Setting, keys_only: bool) -> _Reading | None:
    """The verdict for one rubric from plain text: the strongest anchor tier wins, and within it the last
    statement (so an echoed rubric or scale at the top is not read as the verdict)."""
    hits: list[tuple[int, int, _Reading]] = [(1, pos, r) for pos, r in _named(text, rubric, rd, keys_only)]
    if single and not keys_only:
        bare = _bare(text, rd)
        if bare is not None:
            return bare
        hits += _anchored(text, rd)
    if not hits:
        return None
    best = min(h[0] for h in hits)
    return max((h for h in hits if h[0] == best), key=lambda h: h[1])[2]


def _unclosed_json(text: str) -> bool:
    """Whether the text opens a JSON object (``{"``) that never closes: the judge was writing JSON."""
    for m in re.finditer(r"\{\s*[\"']", text):
        if _balanced_end(text, m.start()) is None:
            return True
    return False


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------


def parse_output(raw: str, setting: str, rubrics: Sequence[str], *, n_responses: int = 2,
                 finish_reason: str | None = None) -> list[Outcome]:
    """Read a judge's raw text into exactly one Verdict or Failure per rubric, in ``rubrics`` order.

    Args:
        raw: the judge's text, verbatim.
        setting: ``score`` / ``pair`` / ``batch``.
        rubrics: the rubrics the prompt asked for (``("overall",)`` in overall mode).
        n_responses: responses shown (batch rankings must be permutations of ``range(n_responses)``).
        finish_reason: the backend's stop reason; ``length``/``max_tokens`` with no verdict → ``truncated``.

    Returns:
        ``Verdict(rubric, value, comment)`` with value ``int`` 1–5 (score), ``"first"|"tie"|"second"``
        (pair, presentation order) or a tuple of 0-based presented slots best first (batch); or
        ``Failure(kind, detail, rubric)`` with kind ``parse_fail``, ``out_of_range``, ``truncated`` or
        ``refusal``.

    Raises:
        ValueError: unknown setting, no rubrics, or ``n_responses`` out of 1..26 (2..26 for batch).
    """
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; expected one of {', '.join(SETTINGS)}")
    if isinstance(rubrics, str) or not rubrics:
        raise ValueError(f"rubrics must be a non-empty sequence of names, got {rubrics!r}")
    if not (2 if setting == "batch" else 1) <= n_responses <= 26:
        raise ValueError(f"n_responses={n_responses} is out of range for setting {setting!r}")
    hit_limit = (finish_reason or "").lower() in TRUNCATION_REASONS
    raw = raw or ""
    text = strip_reasoning(raw)
    if not text:
        if hit_limit:
            detail = "stopped at the token limit" + (" inside a reasoning block" if raw.strip() else "")
            return [Failure("truncated", detail, r) for r in rubrics]
        detail = "empty output" if not raw.strip() else f"only reasoning, no answer ({len(raw)} chars)"
        return [Failure("parse_fail", detail, r) for r in rubrics]

    rd = _setting(setting, n_responses)
    single = len(rubrics) == 1
    readings: dict[str, _Reading | None] = {r: None for r in rubrics}
    comments: dict[str, str] = {r: "" for r in rubrics}
    fallback_text = text
    picked = _pick_json(text, setting, rubrics)
    writing_json = picked is None and _unclosed_json(text)
    if picked is not None:
        flat, (start, end) = picked
        for r in rubrics:
            readings[r] = _from_json(flat, r, single, rd)
            comments[r] = _comment(flat, r, single)
        fallback_text = text[:start] + text[end:]
    plain = _collapse(_MARKDOWN.sub("", fallback_text))
    for r in rubrics:
        if readings[r] is None:
            readings[r] = _from_text(plain, r, single, rd, keys_only=writing_json)

    unanswered = _why_unanswered(text, hit_limit, picked is not None, writing_json)
    out: list[Outcome] = []
    for r in rubrics:
        rd_r = readings[r]
        if rd_r is None:
            kind, detail = unanswered
            out.append(Failure(kind, detail if not picked else f"JSON answer has no verdict key for {r!r}; "
                               + detail, r))
        elif rd_r.kind == "ok":
            out.append(Verdict(r, rd_r.value, comments[r]))
        elif rd_r.kind == "out_of_range":
            out.append(Failure("out_of_range", rd_r.detail, r))
        else:
            out.append(Failure("parse_fail", rd_r.detail, r))
    return out


def _why_unanswered(text: str, hit_limit: bool, had_json: bool, writing_json: bool) -> tuple[str, str]:
    if hit_limit:
        return "truncated", f"stopped at the token limit before a verdict; ends with {_snip(text[-140:])}"
    if not had_json and _REFUSAL.search(text[:600]):
        return "refusal", f"refused: {_snip(text)}"
    hint = " (a JSON object that never closes; output may be cut off)" if writing_json else ""
    return "parse_fail", f"no verdict found{hint} in {len(text)} chars: {_snip(text)}"


__all__ = ["ANSWER_SUFFIX", "TRUNCATION_REASONS", "parse_output", "strip_reasoning"]
