"""Text2Text probes: answers recomputed from the question text alone."""

from __future__ import annotations

import re

from .probe_measure import integers
from .probe_sets import ProbeSet


def _arith_expected(question: str, answer: str) -> int:
    m = re.match(r"What is (\d+) ([+×-]) (\d+)\?", question)
    assert m, question
    a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
    results = {"+": a + b, "-": a - b, "×": a * b}
    true = results[op]
    stated = integers(answer)[-1]  # the result is the last number written
    err = abs(stated - true)
    if err == 0:
        return 5
    if err == 1:
        return 4
    if str(err).rstrip("0") == "1":  # 10, 100, 1000…: a digit slip
        return 3
    if stated in {v for o, v in results.items() if o != op}:
        return 2
    return 1


def test_arithmetic_labels_match_recomputed_answers(small: ProbeSet, medium_cheap: ProbeSet) -> None:
    n = 0
    for ps in (small, medium_cheap):
        for q, rs, scores in ps.queries("arithmetic"):
            got = [_arith_expected(q.question, r.text or "") for r in rs]
            assert got == scores, (q.question, [r.text for r in rs])
            assert 5 in got and max(got) == 5
            n += 1
    assert n == 2 + 2 * 5  # small: 2; medium: one distinct + one tie query per design point (5)


def _inversions(seq: list[int]) -> int:
    return sum(seq[i] > seq[j] for i in range(len(seq)) for j in range(i + 1, len(seq)))


def test_sort_numbers_labels_match_inversion_counts(small: ProbeSet, medium_cheap: ProbeSet) -> None:
    for ps in (small, medium_cheap):
        for q, rs, scores in ps.queries("sort_numbers"):
            given = integers(q.question.split(":", 1)[1])
            m = len(given) * (len(given) - 1) // 2
            for r, s in zip(rs, scores, strict=True):
                seq = integers(r.text or "")
                assert sorted(seq) == sorted(given), r.text
                d = _inversions(seq)
                expected = 5 if d == 0 else 4 if d == 1 else 3 if d <= 3 else 2 if d < m else 1
                assert expected == s, (q.question, r.text, d)
