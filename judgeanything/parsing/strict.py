"""The ``strict`` strategy: the output *is* the answer the prompt's contract asks for, or nothing is read.

Strict means: after reasoning blocks are removed, the whole output is one JSON object (optionally inside one
Markdown code fence) holding ``<rubric>_<suffix>`` for each rubric (:func:`judgeanything.schema.verdict_key`),
with values of the contract's types: score an integer on the scale (or a string of one), pair the 0/1/2 pair
code (:data:`judgeanything.schema.PAIR_CODE`), batch a string or list of response letters. This is what a
judge with structured output (``response_format=json_schema``) or a compliant prompted judge writes; the
share of verdicts read this way is the *strict-parse rate* shown per judge in the report.

:func:`complete_answers` is the reading used when the backend stopped at its token limit: only answers
that are complete structures count there (see :mod:`judgeanything.parsing`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from judgeanything.parsing._agree import json_reading
from judgeanything.parsing._common import Reading, bad, ok, oor, shown
from judgeanything.parsing._json import VERDICT_SUFFIXES, answer_objects
from judgeanything.parsing._values import ValueReader, letters_to_ranking
from judgeanything.schema import PAIR_CODE, RULE_VERDICTS, ScoreScale, comment_key, verdict_key

_FENCE = re.compile(r"\A```[A-Za-z0-9_-]*[^\S\n]*\n(.*)\n[^\S\n]*```\Z", re.S)


def contract_object(text: str) -> dict[str, Any] | None:
    """The JSON object that is the whole of ``text`` (one code fence allowed), else None."""
    s = text.strip()
    m = _FENCE.match(s)
    if m:
        s = m.group(1).strip()
    if not (s.startswith("{") and s.endswith("}")):
        return None
    try:
        obj = json.loads(s)
    except (json.JSONDecodeError, RecursionError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def value(setting: str, v: Any, n_responses: int, scale: ScoreScale) -> Reading:
    """A contract value: the types the prompt's JSON schema names (digit strings accepted for scores and
    pair codes, as models often quote them)."""
    if setting == "score":
        if isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int | float):
            return bad(f"score {shown(v)} is not an integer")
        if not float(v).is_integer() or not scale.min <= int(v) <= scale.max:
            return oor(f"score {shown(v)} is outside {scale.min}..{scale.max}")
        return ok(int(v), "json")
    if setting == "rules":
        if isinstance(v, str) and v.strip().lower() in RULE_VERDICTS:
            return ok(v.strip().lower(), "json")
        return bad(f"violation {shown(v)} is not \"yes\" or \"no\"")
    if setting == "pair":
        code = str(v).strip() if isinstance(v, str | int) and not isinstance(v, bool) else None
        if code is not None and code in PAIR_CODE:
            return ok(PAIR_CODE[code], "json")
        if code is not None and re.fullmatch(r"-?\d+", code):
            return oor(f"choice {shown(v)} is not 0 (first), 1 (tie) or 2 (second)")
        return bad(f"choice {shown(v)} is not the pair code 0/1/2")
    if isinstance(v, list) and all(isinstance(x, str) and len(x.strip()) == 1 for x in v):
        v = "".join(x.strip() for x in v)
    if not isinstance(v, str) or not re.fullmatch(r"[A-Z]+", v.strip()):
        return bad(f"ranking {shown(v)} is not a string of response letters")
    r = letters_to_ranking(v.strip(), n_responses, repr(v))
    return Reading(r.kind, r.value, r.detail, "json")


def read(text: str, setting: str, rubrics: Sequence[str], n_responses: int, scale: ScoreScale
         ) -> tuple[dict[str, Reading | None], dict[str, str]]:
    """Per rubric, the reading of the contract answer (None: the output is not one, or lacks the key)."""
    obj = contract_object(text)
    readings: dict[str, Reading | None] = {r: None for r in rubrics}
    comments: dict[str, str] = {r: "" for r in rubrics}
    if obj is None:
        return readings, comments
    for r in rubrics:
        key = verdict_key(setting, r)
        if key in obj:
            readings[r] = value(setting, obj[key], n_responses, scale)
            c = obj.get(comment_key(r))
            comments[r] = c.strip() if isinstance(c, str) else ""
    return readings, comments


def _terminated_pairs(text: str, rubric: str) -> list[str]:
    """Values of ``"<rubric>_<suffix>": value`` pairs that were written to their end (a comma or closing
    brace follows) — complete even though the object around them was cut off."""
    keys = "|".join(re.escape(f"{rubric}_{s}") for s in VERDICT_SUFFIXES)
    rx = re.compile(r"[\"'](?:" + keys + r")[\"']\s*:\s*(\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|[-\w.]{1,20})\s*[,}]")
    return [m.group(1) for m in rx.finditer(text)]


def complete_answers(text: str, rubrics: Sequence[str], rd: ValueReader
                     ) -> tuple[dict[str, Reading | None], dict[str, str]]:
    """Readings that count when the generation hit its token limit: from the complete JSON objects holding
    the rubric's verdict key (which must agree), else from a verdict key-value pair written to its end
    inside an object that was cut off. Prose statements are never complete answers here."""
    single = len(rubrics) == 1
    readings: dict[str, Reading | None] = {r: None for r in rubrics}
    comments: dict[str, str] = {r: "" for r in rubrics}
    objects = answer_objects(text, rd.name, rubrics)
    for r in rubrics:
        readings[r], comments[r] = json_reading(objects, r, single, rd)
        if readings[r] is None:
            pairs = _terminated_pairs(text, r)
            if pairs:
                got = rd.json(pairs[-1].strip("\"'") if pairs[-1][:1] in "\"'" else _number_or_text(pairs[-1]))
                readings[r] = Reading(got.kind, got.value, got.detail, "json-prefix")
    return readings, comments


def _number_or_text(s: str) -> Any:
    try:
        return json.loads(s)
    except ValueError:
        return s
