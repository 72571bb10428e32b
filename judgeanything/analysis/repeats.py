"""Repeated judgements of the same unit (``repeat`` > 0): reduction and stability.

Reducers (``reducer``): pair choices and batch rankings always use the mode (pair: majority vote, a tie
between the most frequent choices → ``"tie"``; ranking: most frequent, else Borda — the same rules as the
human consensus in :mod:`.agreement`). Scores: ``"mode"`` (most frequent score; several equally frequent →
the one closest to the median, then the lower), ``"median"`` or ``"mean"``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from judgeanything.analysis.agreement import consensus

REDUCERS = ("mode", "median", "mean")


def reduce_values(setting: str, values: Sequence[Any], reducer: str = "mode") -> Any:
    """Reduce the verdict values of repeated judgements of one unit (module docstring).

    Raises:
        ValueError: an unknown reducer, or no values.
    """
    if reducer not in REDUCERS:
        raise ValueError(f"unknown reducer {reducer!r}; expected one of {REDUCERS}")
    if not values:
        raise ValueError("no values to reduce")
    if setting in ("pair", "batch"):
        return consensus(setting, list(values))
    x = np.asarray(values, dtype=np.float64)
    if reducer == "mean":
        return float(x.mean())
    med = float(np.median(x))
    if reducer == "median":
        return med
    c = Counter(x.tolist()).most_common()
    top = [v for v, k in c if k == c[0][1]]
    return float(min(top, key=lambda v: (abs(v - med), v)))


def repeat_stats(verdicts: pd.DataFrame, setting: str) -> dict[str, Any]:
    """Stability across repeats of units judged more than once (failures excluded).

    Returns:
        ``{"n_units": units with ≥ 2 repeats, "max_repeats", "all_same_rate": share of those units whose
        repeats all agree, "mean_mode_share": mean share of repeats equal to the unit's most frequent value,
        and for scores "mean_variance"/"mean_std" (per-unit sample variance/SD, ddof=1)}``; only
        ``n_units: 0`` when no unit was repeated.
    """
    ok = verdicts[verdicts["failure"].isna()]
    if ok.empty or ok["repeat"].max() == 0:
        return {"n_units": 0}
    sizes: list[int] = []
    same: list[float] = []
    share: list[float] = []
    var: list[float] = []
    for _, g in ok.groupby(["item_id", "rubric", "order"], sort=False):
        vals = list(g["value"])
        if len(vals) < 2:
            continue
        sizes.append(len(vals))
        c = Counter(vals).most_common()
        same.append(float(len(c) == 1))
        share.append(c[0][1] / len(vals))
        if setting == "score":
            var.append(float(np.var(np.asarray(vals, dtype=np.float64), ddof=1)))
    if not sizes:
        return {"n_units": 0}
    out: dict[str, Any] = {"n_units": len(sizes), "max_repeats": max(sizes),
                           "all_same_rate": float(np.mean(same)), "mean_mode_share": float(np.mean(share))}
    if var:
        out["mean_variance"] = float(np.mean(var))
        out["mean_std"] = float(np.mean(np.sqrt(var)))
    return out
