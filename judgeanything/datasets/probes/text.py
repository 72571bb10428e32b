"""Text2Text probes with exact answers: arithmetic and sorting a list of numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from judgeanything.datasets.probes.core import Candidate, Family, ProbeSpec, phrase_all, pick

# ------------------------------------------------------------------------------------------------
# arithmetic
# ------------------------------------------------------------------------------------------------

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "×": lambda a, b: a * b}

_ARITH_TEMPLATES = (
    "{v}",
    "The result is {v}.",
    "{a} {op} {b} = {v}",
    "Answer: {v}",
    "Working it out step by step, {a} {op} {b} comes to {v}.",
    "It equals {v}.",
)


def arithmetic_class(value: int, a: int, b: int, op: str) -> int:
    """Score of a stated ``value`` for ``a op b`` (the family's rule, in check order): the exact result 5;
    off by one 4; off by a power of ten (a digit slip: ±10, ±100, …) 3; the result of another of +, −, ×
    on the same operands 2; anything else 1."""
    true = _OPS[op](a, b)
    err = abs(value - true)
    if err == 0:
        return 5
    if err == 1:
        return 4
    if err >= 10 and 10 ** round(np.log10(err)) == err:
        return 3
    if value in {f(a, b) for o, f in _OPS.items() if o != op}:
        return 2
    return 1


def _build_arithmetic(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    digits, op = int(knobs["digits"]), str(knobs["op"])
    lo, hi = 10 ** (digits - 1), 10**digits - 1
    while True:
        a, b = int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
        if op == "-" and a < b:
            a, b = b, a
        true = _OPS[op](a, b)
        if true < 10:
            continue
        k = int(rng.integers(1, len(str(true))))  # a digit slip in a non-leading digit position
        slip = true + (10**k if rng.random() < 0.5 or true - 10**k < 0 else -(10**k))
        off1 = true + (1 if rng.random() < 0.5 else -1)
        wrong = sorted(f(a, b) for o, f in _OPS.items() if o != op)
        wrong_op = pick(rng, wrong)
        values = {"exact": true, "off_by_one": off1, "digit_slip": slip, "wrong_operation": wrong_op}
        # each constructed value must be classified as intended by the family's rule (no coincidences)
        if all(arithmetic_class(v, a, b, op) == s for v, s in
               zip(values.values(), (5, 4, 3, 2), strict=True)) and wrong_op >= 0:
            break
    names = ["exact", "exact_alt", "digit_slip", "wrong_operation"] if tie else list(values)
    vals = [true if n == "exact_alt" else values[n] for n in names]
    scores = [arithmetic_class(v, a, b, op) for v in vals]
    tpl = phrase_all(rng, _ARITH_TEMPLATES, 4, distinct_pairs=[(0, 1)] if tie else [])
    cands = tuple(Candidate(n, s, text=_ARITH_TEMPLATES[t].format(v=v, a=a, b=b, op=op),
                            meta={"stated_value": v})
                  for n, s, v, t in zip(names, scores, vals, tpl, strict=True))
    return ProbeSpec(
        question=f"What is {a} {op} {b}? Reply with the result.",
        inputs=(),
        candidates=cands,
        truth={"answer": true, "a": a, "b": b, "op": op},
        checklist=("Does the response state a single number as the result?",
                   "Is the stated result arithmetically correct?"),
    )


ARITHMETIC = Family(
    name="arithmetic",
    task="Text2Text",
    summary="Compute a + b, a − b or a × b; candidates state the exact result, an off-by-one, a digit slip "
            "or the result of the wrong operation.",
    knobs={"digits": (2, 3, 4), "op": ("+", "-", "×")},
    build=_build_arithmetic,
)

# ------------------------------------------------------------------------------------------------
# sort_numbers
# ------------------------------------------------------------------------------------------------

_SORT_TEMPLATES = (
    "{lst}",
    "Sorted: {lst}",
    "Here are the numbers in ascending order: {lst}.",
    "From smallest to largest: {lst}",
    "The sorted list is {lst}.",
)


def inversions(seq: list[int]) -> int:
    """Number of pairs out of ascending order (Kendall distance to the sorted list)."""
    return sum(seq[i] > seq[j] for i in range(len(seq)) for j in range(i + 1, len(seq)))


def sort_score(answer: list[int], given: list[int]) -> int:
    """Score of a stated ordering of ``given``: a different multiset of numbers 1; otherwise by its
    inversion count d (max M = n(n−1)/2): 0 → 5, 1 → 4, 2–3 → 3, 4 ≤ d < M → 2, d = M (descending) → 1."""
    if sorted(answer) != sorted(given):
        return 1
    d, m = inversions(answer), len(given) * (len(given) - 1) // 2
    return 5 if d == 0 else 4 if d == 1 else 3 if d <= 3 else 2 if d < m else 1


def _swap(seq: list[int], i: int) -> list[int]:
    out = list(seq)
    out[i], out[i + 1] = out[i + 1], out[i]
    return out


def _build_sort(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    n, max_value = int(knobs["n"]), int(knobs["max_value"])
    given = [int(v) for v in rng.choice(np.arange(1, max_value + 1), size=n, replace=False)]
    asc = sorted(given)
    i = int(rng.integers(n - 1))
    j = pick(rng, [k for k in range(n - 1) if abs(k - i) >= 2])  # disjoint swaps: exactly two inversions
    seqs = {
        "exact": asc,
        "one_swap": _swap(asc, i),
        "two_swaps": _swap(_swap(asc, i), j),
        "descending": asc[::-1],
    }
    if tie:
        seqs = {"exact": asc, "one_swap": _swap(asc, i), "one_swap_alt": _swap(asc, j),
                "descending": asc[::-1]}
    tpl = phrase_all(rng, _SORT_TEMPLATES, 4)
    cands = tuple(
        Candidate(name, sort_score(seq, given), text=_SORT_TEMPLATES[t].format(lst=", ".join(map(str, seq))),
                  meta={"stated_order": seq, "inversions": inversions(seq)})
        for (name, seq), t in zip(seqs.items(), tpl, strict=True))
    return ProbeSpec(
        question=f"Sort these numbers from smallest to largest: {', '.join(map(str, given))}. "
                 f"Reply with the sorted list.",
        inputs=(),
        candidates=cands,
        truth={"given": given, "sorted": asc},
        checklist=("Does the response list every given number exactly once?",
                   "Is every number smaller than the one after it?"),
    )


SORT_NUMBERS = Family(
    name="sort_numbers",
    task="Text2Text",
    summary="Sort n distinct numbers ascending; candidates are sorted, off by one or two adjacent swaps, or "
            "fully descending.",
    knobs={"n": (5, 7, 9), "max_value": (99, 999)},
    build=_build_sort,
)

FAMILIES = (ARITHMETIC, SORT_NUMBERS)
