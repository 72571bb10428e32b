"""Judging units: an item × presentation order × repeat, each with a stable key (what resume skips)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judgeanything.orders import presentation_orders
from judgeanything.schema import Item, item_content_hash, stable_hash


@dataclass(frozen=True)
class Unit:
    """One judging unit: an item in one presentation order, one repeat; ``attempt`` counts retries of a
    unit whose last logged attempt failed with a retryable failure kind."""

    key: str
    item: Item
    order: tuple[int, ...]
    repeat: int
    attempt: int = 0
    content: str = ""  # item_content_hash(item), recorded with the verdict


def plan_units(items: Sequence[Item], *, mode: str, rubrics: Sequence[str], judge_fp: Mapping[str, Any],
               prompt_version: str, repeats: int = 1, pair_order: str = "fixed",
               batch_permutations: str = "none", n_permutations: int | None = None,
               seed: int = 0, contents: Sequence[str] | None = None) -> list[Unit]:
    """All units of a run, in a stable order (item, then order, then repeat).

    A unit's key hashes the item's content (instruction, responses, media references — so a dataset edited
    under the same item id is judged again, not resumed), the setting, mode, rubrics, order, repeat, the
    judge's fingerprint and the prompt version. Media bytes are not hashed here (that would read every file
    before the first verdict); the decoded media's SHA-256 is recorded per verdict in ``media``. ``contents``:
    the items' :func:`~judgeanything.schema.item_content_hash` in ``items`` order, when already computed.

    Raises:
        RunConfigError: an unknown order policy (see :func:`~judgeanything.orders.presentation_orders`).
    """
    units = []
    for i, item in enumerate(items):
        content = contents[i] if contents is not None else item_content_hash(item)
        for order in presentation_orders(item, pair_order=pair_order, batch_permutations=batch_permutations,
                                         n_permutations=n_permutations, seed=seed):
            for rep in range(repeats):
                key = stable_hash(item.item_id, content, item.setting, mode, list(rubrics), list(order), rep,
                                  dict(judge_fp), prompt_version, n=24)
                units.append(Unit(key, item, order, rep, content=content))
    return units


__all__ = ["Unit", "plan_units"]
