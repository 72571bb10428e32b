"""JSON objects in a judge's text: found (fenced or not, chatter around them allowed, Python-style dicts
too), flattened, and the keys that may hold each rubric's verdict."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from judgeanything.schema import ANSWER_SUFFIX

VERDICT_SUFFIXES = ("score", "choice", "ranking", "rating", "verdict", "rank", "preference", "winner",
                    "judgement", "judgment", "result", "answer")
BARE_VERDICT_KEYS = ("choice", "score", "rating", "verdict", "ranking", "rank", "preference", "winner",
                     "judgement", "judgment", "result", "answer", "final_verdict", "final_answer",
                     "final_score", "final_ranking", "better_response", "preferred_response")
COMMENT_SUFFIXES = ("comment", "reason", "reasoning", "explanation", "justification", "rationale",
                    "analysis", "feedback")
_MAX_JSON_STARTS = 200  # "{" positions tried per output; with _MAX_JSON_SPAN bounds the scan's cost
_MAX_JSON_SPAN = 20_000  # longest {...} object looked for (judge answers are far shorter)


def norm_key(k: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(k).strip().strip("*\"'` ").lower())


def flatten(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised keys; one level of nesting lifted: ``{"clarity": {"score": 4}}`` → ``clarity_score``,
    ``{"scores": {"clarity": 4}}`` → ``clarity``."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        nk = norm_key(k)
        if isinstance(v, Mapping):
            for ik, iv in v.items():
                nik = norm_key(ik)
                out.setdefault(f"{nk}_{nik}", iv)
                out.setdefault(nik, iv)
        else:
            out[nk] = v
    return out


def balanced_end(text: str, start: int) -> int | None:
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


def _literal_dict(text: str, i: int) -> tuple[dict[str, Any] | None, int | None]:
    """A Python-style dict (single quotes, trailing commas) starting at ``i``, with its end."""
    end_b = balanced_end(text, i)
    if end_b is None:
        return None, None
    try:
        obj = ast.literal_eval(text[i:end_b])
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None, end_b
    return (obj, end_b) if isinstance(obj, dict) else (None, end_b)


def json_objects(text: str) -> list[tuple[int, int, dict[str, Any]]]:
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
            lit, end_b = _literal_dict(text, i)
            if lit is not None and end_b is not None:
                out.append((i, end_b, lit))
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


def verdict_keys(setting: str, rubric: str, single: bool) -> list[str]:
    """Keys that may hold ``rubric``'s verdict, the prompt's own (``<rubric>_<suffix>``) first."""
    keys = [f"{rubric}_{ANSWER_SUFFIX[setting]}"]
    keys += [f"{rubric}_{s}" for s in VERDICT_SUFFIXES if f"{rubric}_{s}" not in keys]
    keys.append(rubric)
    if single:
        keys += list(BARE_VERDICT_KEYS)
    return keys


def comment_of(obj: Mapping[str, Any], rubric: str, single: bool) -> str:
    keys = [f"{rubric}_{s}" for s in COMMENT_SUFFIXES]
    if single:
        keys += list(COMMENT_SUFFIXES)
    for k in keys:
        v = obj.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


def answer_objects(text: str, setting: str, rubrics: Sequence[str]
                   ) -> list[tuple[dict[str, Any], tuple[int, int]]]:
    """The flattened JSON objects of ``text`` that hold at least one key a verdict may be under, in order."""
    single = len(rubrics) == 1
    wanted = {k for r in rubrics for k in verdict_keys(setting, r, single)}
    out = []
    for start, end, obj in json_objects(text):
        flat = flatten(obj)
        if wanted & {k for k, v in flat.items() if not isinstance(v, Mapping)}:
            out.append((flat, (start, end)))
    return out


def unclosed_json(text: str) -> bool:
    """Whether the text opens a JSON object (``{"``) that never closes: the judge was writing JSON."""
    return any(balanced_end(text, m.start()) is None for m in re.finditer(r"\{\s*[\"']", text))
