"""Vectorised percentile bootstrap over items (Efron & Tibshirani 1993, ch. 13).

Resampling *n* items with replacement and counting how often each distinct observation ("cell": e.g. a
(judge value, human value) pair) was drawn gives a multinomial(n, cell frequencies) count vector. Every
statistic here is a function of those weighted cells, so one replicate costs O(#cells) instead of O(n):
the draws are exactly those of an item bootstrap, at a fraction of the cost. Continuous data simply has
one cell per item. Replicates are drawn in chunks so a chunk's count matrix stays under ``max_cells``
numbers. Random streams come from ``numpy.random.Generator`` seeded by (seed, name), so a group's CI does
not depend on which other groups were analysed.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from judgeanything.jsonsafe import finite_or_none

MAX_CELLS = 4_000_000  # numbers per chunk of replicate counts (32 MB as int64)


def rng_for(seed: int, *names: object) -> np.random.Generator:
    """A Generator seeded by ``seed`` and a stable hash of ``names`` (CRC-32 of their ``repr``)."""
    return np.random.default_rng([int(seed), zlib.crc32(repr(names).encode())])


def count_chunks(counts: np.ndarray, n_boot: int, rng: np.random.Generator,
                 max_cells: int = MAX_CELLS) -> Iterator[np.ndarray]:
    """Yield ``(b, K)`` int64 count matrices, ``sum(b) == n_boot``, each row multinomial(n, counts/n).

    Args:
        counts: ``(K,)`` non-negative ints, how often each cell occurs in the sample (``n = counts.sum()``).
        n_boot: number of bootstrap replicates.
        rng: the random stream.
        max_cells: bound on ``b × K`` per chunk.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    p = counts / n
    step = max(1, max_cells // max(1, counts.size))
    done = 0
    while done < n_boot:
        b = min(step, n_boot - done)
        yield rng.multinomial(n, p, size=b)
        done += b


def replicates(counts: np.ndarray, stat: Callable[[np.ndarray], np.ndarray], n_boot: int,
               rng: np.random.Generator) -> np.ndarray:
    """``(n_boot,)`` bootstrap replicates of ``stat``, which maps ``(b, K)`` cell weights → ``(b,)``."""
    if n_boot <= 0 or int(np.sum(counts)) == 0:
        return np.empty(0)
    return np.concatenate([np.asarray(stat(w.astype(np.float64)), dtype=np.float64)
                           for w in count_chunks(counts, n_boot, rng)])


def percentile_ci(reps: np.ndarray, ci: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite replicates; ``(nan, nan)`` when there are none."""
    r = np.asarray(reps, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return (float("nan"), float("nan"))
    a = (1.0 - ci) / 2.0
    lo, hi = np.quantile(r, [a, 1.0 - a])
    return (float(lo), float(hi))


@dataclass
class Stat:
    """One statistic: point estimate, percentile CI, sample size and the bootstrap replicates."""

    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    n: int = 0
    reps: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"value": finite_or_none(self.value), "ci_low": finite_or_none(self.ci_low),
                "ci_high": finite_or_none(self.ci_high), "n": self.n}


def make_stat(value: float, reps: np.ndarray, n: int, ci: float) -> Stat:
    """A :class:`Stat` from a point estimate and its bootstrap replicates (percentile CI)."""
    lo, hi = percentile_ci(reps, ci)
    return Stat(float(value), lo, hi, n, reps)


def mean_stat(values: np.ndarray, *, n_boot: int = 1000, ci: float = 0.95,
              rng: np.random.Generator | None = None) -> Stat:
    """Mean of per-item values (e.g. 0/1 outcomes, ½ for ties) with a percentile bootstrap CI."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return Stat(math.nan)
    u, inv = np.unique(x, return_inverse=True)
    counts = np.bincount(inv, minlength=u.size)
    reps = replicates(counts, lambda w: w @ u / w.sum(axis=1), n_boot, rng or np.random.default_rng(0))
    return make_stat(float(x.mean()), reps, int(x.size), ci)
