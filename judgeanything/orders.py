"""Presentation orders, and the two maps between presentation and dataset orientation.

An *order* ``o`` is a tuple of dataset slots: ``o[k]`` is the dataset response shown at position ``k``. The
runner judges an item in one or more orders (position-bias control: pair comparison in both orders, batch
ranking over cyclic shifts or Williams-square rows) and stores every verdict in *dataset orientation*
(:func:`to_dataset_orientation`); the ``replay`` judge re-expresses a recorded dataset-orientation verdict in the
order it is asked for (:func:`to_presented`). Both maps are here so that they stay inverse to each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from judgeanything.errors import RunConfigError
from judgeanything.schema import BatchItem, Failure, Item, Outcome, PairItem, Verdict, item_seed, swap_choice

PAIR_ORDERS = ("fixed", "random", "both")
BATCH_PERMUTATIONS = ("none", "cyclic", "latin", "random")

def williams_rows(n: int) -> list[tuple[int, ...]]:
    """The first ``n`` rows of a Williams (balanced Latin) square on ``n`` slots: each response appears
    once in every position, and for even ``n`` each ordered neighbour pair once (Williams, 1949)."""
    first = [0]
    lo, hi = 1, n - 1
    for k in range(1, n):
        if k % 2:
            first.append(lo)
            lo += 1
        else:
            first.append(hi)
            hi -= 1
    return [tuple((x + r) % n for x in first) for r in range(n)]


def presentation_orders(item: Item, *, pair_order: str = "fixed", batch_permutations: str = "none",
                        n_permutations: int | None = None, seed: int = 0) -> list[tuple[int, ...]]:
    """The presentation orders to judge an item in (``order[k]`` = dataset slot shown at position k).

    Pair: ``fixed`` (dataset order), ``random`` (one order drawn per item from a seed derived from its
    id — alpaca_eval's seeded switching), ``both`` (both orders, for position-bias analysis).
    Batch: ``none``, ``cyclic`` (N cyclic shifts), ``latin`` (Williams square rows), ``random``
    (``n_permutations`` seeded shuffles).

    Raises:
        RunConfigError: an unknown policy, or ``n_permutations`` < 1.
    """
    if n_permutations is not None and int(n_permutations) < 1:
        # 0 gave no order at all for `cyclic` (the item was silently never judged), a negative count
        # sliced rows off the end for `latin`
        raise RunConfigError(f"setting.n_permutations={n_permutations}: must be at least 1 (or null)")
    n = len(item.responses)
    ident = tuple(range(n))
    if item.setting == "score":
        return [ident]
    if item.setting == "pair":
        if pair_order == "fixed":
            return [ident]
        if pair_order == "both":
            return [(0, 1), (1, 0)]
        if pair_order == "random":
            return [(1, 0)] if item_seed(item.item_id, "order", seed) % 2 else [(0, 1)]
        raise RunConfigError(f"setting.order={pair_order!r}: expected fixed, random or both")
    k = n if n_permutations is None else int(n_permutations)
    if batch_permutations == "none":
        return [ident]
    if batch_permutations == "cyclic":
        return [tuple((i + s) % n for i in range(n)) for s in range(min(k, n))]
    if batch_permutations == "latin":
        return williams_rows(n)[: min(k, n)]
    if batch_permutations == "random":
        rng = np.random.default_rng(item_seed(item.item_id, "perm", seed))
        return [tuple(int(x) for x in rng.permutation(n)) for _ in range(max(1, n_permutations or 1))]
    raise RunConfigError(f"setting.permutations={batch_permutations!r}: expected none, cyclic, latin or random")


def present(item: Item, order: Sequence[int]) -> Item:
    """The item with its responses in presentation order."""
    if isinstance(item, PairItem):
        rs = item.responses
        return replace(item, response_a=rs[order[0]], response_b=rs[order[1]])
    if isinstance(item, BatchItem):
        return replace(item, responses=tuple(item.responses[i] for i in order))
    return item


def _swap_probs(probs: Mapping[str, float] | None) -> dict[str, float] | None:
    """Choice probabilities seen from the other pair order: ``first`` ↔ ``second``; ``tie`` and any other
    key (a judge may report the mass it could not place) keep their name."""
    if probs is None:
        return None
    return {swap_choice(k) if k in ("first", "second") else k: p for k, p in probs.items()}


def _reorient(v: Verdict, order: Sequence[int], slot_of: Mapping[int, int]) -> Verdict:
    """``v`` with a pair choice swapped when ``order`` is ``(1, 0)`` and each slot ``s`` of a ranking
    replaced by ``slot_of[s]`` (a slot outside the map — a recorded slot naming no response — stays as given).
    The two orientations differ only in ``slot_of``: a pair swap is its own inverse."""
    value: Any = v.value
    probs = v.probs
    if isinstance(value, str) and tuple(order) == (1, 0):
        value = swap_choice(value)
        probs = _swap_probs(probs)
    elif isinstance(value, tuple):
        value = tuple(slot_of.get(s, s) for s in value)
    return replace(v, value=value, probs=probs)  # every other field (comment, expected, parsed_by) kept


def to_dataset_orientation(o: Outcome, order: Sequence[int]) -> Outcome:
    """Map a verdict given on the presented item back to the dataset's response slots (a failure is
    returned as is): position ``k`` of the presentation is dataset slot ``order[k]``."""
    if isinstance(o, Failure):
        return o
    return _reorient(o, order, dict(enumerate(order)))


def to_presented(v: Verdict, order: Sequence[int]) -> Verdict:
    """Express a dataset-orientation verdict in presentation order ``order``: the inverse of
    :func:`to_dataset_orientation`, so a replayed verdict survives any order."""
    return _reorient(v, order, {slot: k for k, slot in enumerate(order)})


__all__ = ["BATCH_PERMUTATIONS", "PAIR_ORDERS", "RunConfigError", "present", "presentation_orders",
           "to_dataset_orientation", "to_presented", "williams_rows"]
