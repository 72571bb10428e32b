"""Small benchmarks built in code for runner tests, where what the items say does not matter."""

from __future__ import annotations

from judgeanything.datasets.base import BenchmarkData
from judgeanything.schema import Item, PairItem, Query, Response


def toy_pairs(n: int) -> BenchmarkData:
    """``n`` text pair items ``u{i}::a_vs_b`` (query ``u{i}``, Text2Text, "question {i}"; response ``a`` "yes"
    by model ``ma``, ``b`` "no" by ``mb``), no labels, in a benchmark named ``toy``."""
    items: list[Item] = []
    for i in range(n):
        q = Query(f"u{i}", "Text2Text", f"question {i}")
        items.append(PairItem(f"u{i}::a_vs_b", q, Response("a", q.uniq_id, "ma", "text", text="yes"),
                              Response("b", q.uniq_id, "mb", "text", text="no")))
    return BenchmarkData(name="toy", setting="pair", items=items)
