"""The tidy metrics table: one row per statistic, the single source of ``metrics.csv`` and ``metrics.json``.

A :class:`MetricRow` is one statistic of a run (or one fact ``metrics.json`` records beside the statistics: a
count, a test's name, an empty section). It carries

* its ``metrics.csv`` identity and numbers — ``setting, rubric, group_by, group, metric, value, ci_low, ci_high,
  n`` (``group_by`` is ``None`` for a row ``metrics.csv`` does not list);
* its place in ``metrics.json`` — ``path`` (keys from the root; an ``int`` indexes a list; ``None`` for a row
  only ``metrics.csv`` lists) and ``node``, what ``metrics.json`` holds there (a ``{value, ci_low, ci_high,
  n}`` dict, a number, a string, a record such as a Bradley–Terry row, or an empty ``{}``/``[]``).

The analysis sections (:mod:`judgeanything.analysis.sections`) produce rows, :class:`MetricTable` collects
them, :meth:`MetricTable.to_json` nests them into ``metrics.json`` (:func:`nest`) and :meth:`MetricTable.frame`
lists them as ``metrics.csv``. Each section emits its rows in ``metrics.json`` order; where ``metrics.csv``
lists a section's rows in another order (position, size and self-preference biases), the rows carry a
``rank`` (a stable sort key within the section).

Readers of a ``metrics.json``-shaped dict use :func:`lookup` and :func:`stat_triple` instead of ``.get()``
chains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from judgeanything.analysis.bootstrap import Stat
from judgeanything.jsonsafe import finite_or_none, json_safe

JsonKey = str | int
JsonPath = tuple[JsonKey, ...]
#: the columns of ``metrics.csv`` (stable; the HTML report and plots read them)
CSV_COLUMNS = ["judge", "benchmark", "setting", "mode", "rubric", "group_by", "group", "metric", "value",
               "ci_low", "ci_high", "n"]
STAT_KEYS = ("value", "ci_low", "ci_high", "n")


@dataclass(frozen=True)
class MetricRow:
    """One statistic (module docstring). ``rank``: its place among its section's ``metrics.csv`` rows."""

    setting: str
    rubric: str
    group_by: str | None
    group: str
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    path: JsonPath | None
    node: Any
    rank: tuple[int, ...] = ()

    @property
    def in_csv(self) -> bool:
        return self.group_by is not None


@dataclass(frozen=True)
class View:
    """A ``metrics.json`` node that shows another part of the same file: the node at ``path`` (already placed
    by an earlier row), or, with ``pick``, ``{group: {key: node[group][key] for key in pick}}`` of it — e.g. the
    cross-modality groups are the breakdowns' primary metric, offset, tie and failure rates."""

    path: JsonPath
    pick: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CsvKey:
    """How a ``metrics.json`` node is listed in ``metrics.csv``: its group and metric name, ``n`` for a bare
    number (a stat dict carries its own), ``fields`` naming the node's value / CI / n keys for a record node
    (a Bradley–Terry row: ``strength, ci_low, ci_high, games``), and ``rank`` (see :class:`MetricRow`)."""

    group_by: str
    group: str
    metric: str
    n: int | None = None
    fields: tuple[str, str, str, str] | None = None
    rank: tuple[int, ...] = ()


#: ``(path below the tree's root, node, the mapping holding it) → CsvKey`` (``None``: not in ``metrics.csv``)
Classifier = Callable[[JsonPath, Any, Mapping[str, Any]], CsvKey | None]


def is_stat(node: Any) -> bool:
    """Whether ``node`` is a ``{value, ci_low, ci_high, n, …}`` dict (extra keys after those four kept)."""
    return isinstance(node, Mapping) and tuple(node)[:4] == STAT_KEYS


def is_number(node: Any) -> bool:
    """A statistic ``metrics.csv`` lists: a stat dict (anything with a ``value``) or a bare number / bool."""
    if isinstance(node, Mapping):
        return "value" in node
    return isinstance(node, (int, float, bool, np.number))


def _count(n: Any) -> int | None:
    return None if n is None else int(n)


class Rows:
    """Builds the rows of one (setting, rubric): every row gets that context."""

    def __init__(self, setting: str, rubric: str) -> None:
        self.setting, self.rubric = setting, rubric
        self.rows: list[MetricRow] = []

    def put(self, path: JsonPath | None, node: Any, key: CsvKey | None = None) -> None:
        """One row: ``node`` at ``path`` in ``metrics.json`` and, with ``key``, a ``metrics.csv`` row."""
        if key is None:
            self.rows.append(MetricRow(self.setting, self.rubric, None, "", "", None, None, None, None, path, node))
            return
        names = key.fields or (STAT_KEYS if isinstance(node, Mapping) else None)
        if names is not None:
            v, lo, hi, n = (node.get(k) for k in names)
        else:
            v, lo, hi, n = node, None, None, key.n
        self.rows.append(MetricRow(self.setting, self.rubric, key.group_by, str(key.group), key.metric,
                                   finite_or_none(v), finite_or_none(lo), finite_or_none(hi), _count(n), path,
                                   node, key.rank))

    def csv(self, group_by: str, group: str, metric: str, value: Any, n: Any = None,
            rank: tuple[int, ...] = ()) -> None:
        """A ``metrics.csv``-only row (a number derived for the table, e.g. coverage = 1 − failure rate)."""
        self.rows.append(MetricRow(self.setting, self.rubric, group_by, str(group), metric, finite_or_none(value),
                                   None, None, _count(n), None, None, rank))

    def stats(self, path: JsonPath, group_by: str, group: str, stats: Mapping[str, Stat]) -> None:
        """``{metric: Stat}`` at ``path`` (created, ``{}`` when empty), each listed as (group_by, group, metric)."""
        self.put(path, {})
        for m, s in stats.items():
            self.put((*path, m), s.as_dict(), CsvKey(group_by, group, m))

    def tree(self, path: JsonPath, node: Any, classify: Classifier | None = None) -> None:
        """``node`` (nested dicts / lists) at ``path``, one row per leaf — a stat dict, a number, a string, an
        empty container, or a node ``classify`` gives a :class:`CsvKey` (which also lists it in ``metrics.csv``).
        Mapping keys become ``str`` (as JSON writes them); list positions ``int``."""
        self._walk(path, (), node, {}, classify)

    def _walk(self, root: JsonPath, sub: JsonPath, node: Any, parent: Mapping[str, Any],
              classify: Classifier | None) -> None:
        key = classify(sub, node, parent) if classify is not None and sub else None
        if key is not None or is_stat(node):
            self.put((*root, *sub), node, key)
        elif isinstance(node, Mapping) and node:
            for k, x in node.items():
                self._walk(root, (*sub, str(k)), x, node, classify)
        elif isinstance(node, (list, tuple)) and node:
            for i, x in enumerate(node):
                self._walk(root, (*sub, i), x, {}, classify)
        else:
            self.put((*root, *sub), node)


@dataclass
class MetricTable:
    """Every row of a run's analysis, in ``metrics.json`` order, and the ``metrics.csv`` order of the listed ones.

    ``columns``: the ``metrics.csv`` columns every row shares (``judge``, ``benchmark``, ``mode``).
    """

    columns: dict[str, Any] = field(default_factory=dict)
    rows: list[MetricRow] = field(default_factory=list)
    csv_rows: list[MetricRow] = field(default_factory=list)

    def add(self, rows: Sequence[MetricRow]) -> None:
        """Append one section's rows (its ``metrics.csv`` rows sorted by ``rank``, stably)."""
        self.rows.extend(rows)
        self.csv_rows.extend(sorted((r for r in rows if r.in_csv), key=lambda r: r.rank))

    def to_json(self) -> dict[str, Any]:
        """``metrics.json``: :func:`nest` of the rows, JSON-safe (NaN → None, numpy → Python)."""
        return json_safe(nest(self.rows))

    def frame(self) -> pd.DataFrame:
        """``metrics.csv``: one row per listed statistic, :data:`CSV_COLUMNS`, ``n`` as nullable ``Int64``."""
        recs = [{**self.columns, "setting": r.setting, "rubric": r.rubric, "group_by": r.group_by,
                 "group": r.group, "metric": r.metric, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high,
                 "n": r.n} for r in self.csv_rows]
        df = pd.DataFrame(recs, columns=CSV_COLUMNS)
        df["n"] = df["n"].astype("Int64")
        return df


def nest(rows: Iterable[MetricRow]) -> dict[str, Any]:
    """The nested dict of the rows' ``(path, node)`` pairs, in row order (a key's place in its dict is where its
    first row put it). A node ``{}`` / ``[]`` only creates the container; a :class:`View` is resolved against
    what earlier rows placed.

    Raises:
        ValueError: a list position out of order, or a path through a leaf.
    """
    root: dict[str, Any] = {}
    for r in rows:
        if r.path is not None:
            _place(root, r.path, _resolve(root, r.node))
    return root


def _resolve(root: Mapping[str, Any], node: Any) -> Any:
    if isinstance(node, View):
        src = lookup(root, *node.path, default={})
        if node.pick is None:
            return src
        return {g: {k: d[k] for k in node.pick if k in d} for g, d in src.items()}
    if isinstance(node, (dict, list)) and not node:
        return type(node)()  # a fresh container: later rows fill it
    return node


def _child(parent: dict[str, Any] | list[Any], key: JsonKey, make: Callable[[], Any]) -> Any:
    if isinstance(parent, list):
        if not isinstance(key, int) or key > len(parent):
            raise ValueError(f"list position {key!r} out of order (list has {len(parent)})")
        if key == len(parent):
            parent.append(make())
        return parent[key]
    if not isinstance(parent, dict):
        raise ValueError(f"path goes through a leaf at {key!r}")
    if key not in parent:
        parent[str(key)] = make()
    return parent[str(key)]


def _place(root: dict[str, Any], path: JsonPath, node: Any) -> None:
    cur: Any = root
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        cur = _child(cur, key, list if isinstance(nxt, int) else dict)
    last = path[-1]
    existing = _child(cur, last, lambda: node)
    if existing is not node and not (isinstance(node, (dict, list)) and not node and type(existing) is type(node)):
        if isinstance(cur, list):
            cur[int(last)] = node
        else:
            cur[str(last)] = node


def lookup(d: Any, *path: JsonKey, default: Any = None) -> Any:
    """The node at ``path`` in a ``metrics.json``-shaped dict (``int`` keys index lists), or ``default`` when any
    step is missing or not a container — e.g. ``lookup(m, "settings", "pair", "rubrics", "overall", "pooled",
    "accuracy_with_tie")``."""
    cur = d
    for key in path:
        if isinstance(cur, Mapping) and key in cur:
            cur = cur[key]
        elif isinstance(cur, list) and isinstance(key, int) and -len(cur) <= key < len(cur):
            cur = cur[key]
        else:
            return default
    return cur


def stat_triple(node: Any) -> tuple[Any, Any, Any]:
    """``(value, ci_low, ci_high)`` of a stat dict; ``(None, None, None)`` for anything else (e.g. missing)."""
    if not isinstance(node, Mapping):
        return (None, None, None)
    return (node.get("value"), node.get("ci_low"), node.get("ci_high"))


def stat_value(d: Any, *path: JsonKey) -> Any:
    """The ``value`` of the stat dict at ``path`` (:func:`lookup`), ``None`` when absent."""
    return stat_triple(lookup(d, *path))[0]


__all__ = ["CSV_COLUMNS", "CsvKey", "MetricRow", "MetricTable", "Rows", "View", "is_number", "is_stat", "lookup",
           "nest", "stat_triple", "stat_value"]
