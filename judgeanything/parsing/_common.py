"""What every parsing strategy shares: a reading of one value, text normalisation and reasoning blocks."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from judgeanything.text import shown as text_shown

#: finish reasons that mean "stopped at the token limit" (OpenAI ``length``, Anthropic ``max_tokens``,
#: Gemini ``MAX_TOKENS``, the Responses API's ``max_output_tokens``; the hf judge reports ``length`` when
#: ``max_new_tokens`` was reached).
TRUNCATION_REASONS = frozenset({"length", "max_tokens", "max_output_tokens"})
#: Other spellings of the same stop seen from OpenAI-compatible servers and SDKs: Mistral ``model_length``,
#: Anthropic ``model_context_window_exceeded``, transformers' ``max_new_tokens``, Cohere / Bedrock / Gemini
#: enum names written with their class (``FinishReason.MAX_TOKENS``, ``FINISH_REASON_MAX_TOKENS``).
_LIMIT_SPELLINGS = TRUNCATION_REASONS | {"model_length", "model_context_window_exceeded", "max_new_tokens",
                                         "max_completion_tokens", "token_limit", "max_length"}
_ENUM_PREFIX = re.compile(r"^(?:[a-z_]*finish_?reason[._])", re.I)


def is_token_limit(finish_reason: str | None) -> bool:
    """Whether a backend's stop reason means "stopped at the token limit", in any of the spellings above
    (case, an enum's class prefix and surrounding space ignored). ``None`` / ``"stop"`` → ``False``."""
    reason = _ENUM_PREFIX.sub("", (finish_reason or "").strip()).lower()
    return reason in _LIMIT_SPELLINGS

Kind = Literal["ok", "out_of_range", "bad"]

_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.I)
_THINK_OPEN = re.compile(r"<(?:think|thinking|reasoning)>", re.I)
_THINK_TAG = re.compile(r"</?(think|thinking|reasoning)>", re.I)
_WS_RUN = re.compile(r"[^\S\n]+")
_WS_NEWLINE = re.compile(r" ?\n\s*")
# Unicode dashes, quotes and the zero-width characters NFKC leaves alone, mapped to their ASCII forms so
# that every pattern below needs only the ASCII spelling ("Score — 4", "Verdict: “B”", "Score:\u200b4").
_PUNCT_FOLD = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u300c": '"', "\u300d": '"', "\u3010": "[", "\u3011": "]", "\u3001": ",", "\u3002": ".",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
    "\u00a0": " ", "\u3000": " ",
})


@dataclass(frozen=True)
class Reading:
    """One value read from the output: ``ok`` with the verdict value, or why it is not one."""

    kind: Kind
    value: Any = None
    detail: str = ""
    #: the rule that read it (``json``, ``anchor``, ``named``, ``bare``, ``sentence``), for ``parsed_by``
    rule: str = ""


def ok(v: Any, rule: str = "") -> Reading:
    return Reading("ok", v, rule=rule)


def bad(detail: str) -> Reading:
    return Reading("bad", detail=detail)


def oor(detail: str) -> Reading:
    return Reading("out_of_range", detail=detail)


def with_rule(r: Reading, rule: str) -> Reading:
    return Reading(r.kind, r.value, r.detail, rule)


def shown(v: Any, n: int = 80) -> str:
    """``repr(v)`` cut to ``n`` characters, for failure details (the judge's full text is in ``raw``)."""
    return text_shown(v, n)


def snip(text: str, n: int = 70) -> str:
    t = " ".join(text.split())
    return repr(t) if len(t) <= 2 * n else repr(t[:n] + " … " + t[-n:])


def collapse(text: str) -> str:
    """Runs of whitespace → one space, or one newline when they contain a line break. Keeps lines (for
    tables and ``Rubric: value`` lines) and keeps every text pattern free of long ambiguous runs."""
    return _WS_NEWLINE.sub("\n", _WS_RUN.sub(" ", text))


def normalise(text: str) -> str:
    """NFKC (full-width ``：４`` → ``:4``, ``［［Ａ］］`` → ``[[A]]``, ligatures, superscripts), then Unicode
    dashes, curly quotes, CJK brackets and zero-width characters folded to ASCII, so that one ASCII
    spelling of each pattern reads every variant. Lengths may change: positions refer to the result."""
    return unicodedata.normalize("NFKC", text).translate(_PUNCT_FOLD)


def strip_reasoning(raw: str) -> str:
    """Remove ``<think>…</think>`` blocks (also ``<thinking>``/``<reasoning>``), the text before a lone
    closing tag (templates that open the block inside the prompt), and an unclosed block to the end.

    Linear in the length of ``raw``: the blocks are found from one scan of the tags, not with the regex
    ``<(think)>.*?</\\1>``, which rescans to the end of the text from every opening tag that has no
    matching close (quadratic: 100,000 repeated ``<think>`` tags took minutes)."""
    text = remove_blocks(raw)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end():]
    m = _THINK_OPEN.search(text)
    if m:
        text = text[:m.start()]
    return text.strip()


def remove_blocks(raw: str) -> str:
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
