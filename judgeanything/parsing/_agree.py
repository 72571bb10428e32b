"""Several readings of one rubric's verdict reduced to one: they must agree, or the output is a ``parse_fail``
(issue 8 item 11: two verdicts that disagree are never resolved by taking the last one)."""

from __future__ import annotations

from collections.abc import Sequence

from judgeanything.parsing._common import Reading, bad
from judgeanything.parsing._json import comment_of, verdict_keys
from judgeanything.parsing._values import ValueReader


def json_reading(objects: Sequence[tuple[dict, tuple[int, int]]], rubric: str, single: bool, rd: ValueReader
               ) -> tuple[Reading | None, str]:
    """The rubric's reading from the JSON objects holding a verdict key: the last one, unless two objects
    give different verdicts (a ``parse_fail``). An object whose value cannot be read — an echoed answer
    template such as ``"overall_choice": "<0, 1 or 2>"`` — does not compete with a readable one."""
    found: list[tuple[Reading, str]] = []
    for flat, _span in objects:
        for k in verdict_keys(rd.name, rubric, single):
            if k in flat and not isinstance(flat[k], dict):
                r = rd.json(flat[k])
                found.append((Reading(r.kind, r.value, f"{k}: {r.detail}" if r.detail else "", "json"),
                              comment_of(flat, rubric, single)))
                break
    if not found:
        return None, ""
    return agreed([r for r, _ in found], "JSON answers"), found[-1][1]


def agreed(readings: Sequence[Reading], what: str) -> Reading:
    """One reading from several of equal strength: the last readable one when all readable ones agree;
    a ``parse_fail`` naming both when two disagree (an out-of-range value counts as a verdict here);
    the last one when none is readable."""
    usable = [r for r in readings if r.kind != "bad"]
    values = list(dict.fromkeys(repr(r.value) if r.kind == "ok" else f"out of range ({r.detail})"
                                for r in usable))
    if len(values) > 1:
        return bad(f"{what} disagree: {values[0]} and {values[-1]}")
    return usable[-1] if usable else readings[-1]
