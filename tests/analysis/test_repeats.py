"""Repeat reducers and stability."""

from __future__ import annotations

import pandas as pd
import pytest

from judgeanything.analysis.repeats import reduce_values, repeat_stats


def test_reducers() -> None:
    assert reduce_values("score", [1, 2, 2, 5]) == 2.0
    assert reduce_values("score", [1, 1, 5, 5, 3]) == 1.0  # tied modes: closest to the median (3), then lower
    assert reduce_values("score", [1, 2, 6], "median") == 2.0
    assert reduce_values("score", [1, 2, 6], "mean") == 3.0
    assert reduce_values("pair", ["first", "second", "first"]) == "first"
    assert reduce_values("pair", ["first", "second"]) == "tie"
    assert reduce_values("batch", [(0, 1), (0, 1), (1, 0)]) == (0, 1)
    with pytest.raises(ValueError, match="reducer"):
        reduce_values("score", [1], "max")


def test_repeat_stats() -> None:
    rows = []
    for item, vals in {"a": [1, 1, 1], "b": [2, 4, 3], "c": [5, 5, 4]}.items():
        for r, x in enumerate(vals):
            rows.append({"item_id": item, "rubric": "overall", "order": (0,), "repeat": r, "value": x,
                         "failure": None})
    rows.append({"item_id": "d", "rubric": "overall", "order": (0,), "repeat": 0, "value": 3, "failure": None})
    st = repeat_stats(pd.DataFrame(rows), "score")
    assert st["n_units"] == 3
    assert st["all_same_rate"] == pytest.approx(1 / 3)
    assert st["mean_mode_share"] == pytest.approx((1 + 1 / 3 + 2 / 3) / 3)
    assert st["mean_variance"] == pytest.approx((0 + 1 + 1 / 3) / 3)
    assert repeat_stats(pd.DataFrame(rows[-1:]), "score") == {"n_units": 0}
