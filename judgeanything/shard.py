"""Sharding one run across machines: ``run.shard=i/n`` judges the items whose stable hash falls in shard
``i`` of ``n`` (0-based), and :mod:`judgeanything.merge_cli` joins the shard run directories back into one
run equal to the unsharded run.

An item's shard is ``int(sha256(item_id)[:16], 16) mod n``: stable across processes, machines and Python
versions (never ``hash()``, which is salted per process), independent of the item's position, so adding
items to a dataset does not move the others between shards. Shards are taken *after* ``run.limit``, so
``run.limit=100 run.shard=0/4`` … ``3/4`` together judge exactly the 100 items an unsharded run would.

A shard's ``run.json`` records ``shard = {index, count, n_items_total, positions}``: ``positions[k]`` is
the dataset position of the ``k``-th item of its ``items.jsonl``, so the merge restores dataset order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardSpecError(ValueError):
    """A ``run.shard`` value that is not ``i/n`` with ``0 <= i < n``."""


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    @classmethod
    def parse(cls, spec: str | Shard | None) -> Shard | None:
        """``"i/n"`` → ``Shard(i, n)``; ``None`` / ``""`` → ``None`` (no sharding).

        Raises:
            ShardSpecError: not ``i/n``, ``n < 1`` or ``i`` outside ``0 … n-1``.
        """
        if spec is None or isinstance(spec, Shard):
            return spec
        text = str(spec)
        if not text.strip():
            return None
        m = _SPEC.match(text)
        if not m:
            raise ShardSpecError(f"run.shard={text!r}: expected i/n, e.g. run.shard=0/4 (shards are numbered "
                                 "from 0)")
        i, n = int(m.group(1)), int(m.group(2))
        if n < 1 or i >= n:
            raise ShardSpecError(f"run.shard={text!r}: the index must be 0 … {max(n, 1) - 1} for {n} shards "
                                 f"(shards are numbered from 0: {', '.join(f'{k}/{n}' for k in range(min(n, 3)))}"
                                 f"{' …' if n > 3 else ''})")
        return cls(i, n)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def label(self) -> str:
        """For directory names: ``shard-0-of-4``."""
        return f"shard-{self.index}-of-{self.count}"


def shard_of(item_id: str, count: int) -> int:
    """The shard (0 … ``count``-1) an item id belongs to (see the module docstring)."""
    return int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:16], 16) % count


def select(items: Sequence[T], shard: Shard | None, item_id: Any = None) -> tuple[list[T], list[int]]:
    """The items of ``shard`` and their dataset positions (all items when ``shard`` is None).

    Args:
        items: the dataset's items, in dataset order.
        item_id: how to read an item's id (default: its ``item_id`` attribute).
    """
    get = item_id or (lambda it: it.item_id)
    if shard is None:
        return list(items), list(range(len(items)))
    keep = [(k, it) for k, it in enumerate(items) if shard_of(get(it), shard.count) == shard.index]
    return [it for _, it in keep], [k for k, _ in keep]


def suffix(spec: str | None) -> str:
    """The run-directory suffix of a shard spec: ``""`` unsharded, ``"/shard-0-of-4"`` for ``0/4``
    (the Hydra resolver ``ja_shard_dir`` in the default ``hydra.run.dir``)."""
    shard = Shard.parse(spec)
    return "" if shard is None else f"/{shard.label}"


__all__ = ["Shard", "ShardSpecError", "select", "shard_of", "suffix"]
