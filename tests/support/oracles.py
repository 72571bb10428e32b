"""Textbook reference computations that tests check the product's numbers against, written independently of
the libraries the product uses."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Edit distance between two sequences (insertion, deletion, substitution, each costing 1) by the
    Wagner–Fischer dynamic programme (Wagner & Fischer, J. ACM 1974), independent of rapidfuzz."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]
