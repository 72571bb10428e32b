"""The package's one finite-float rule and one JSON sanitiser."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from judgeanything.jsonsafe import finite_or_none, json_safe


@pytest.mark.parametrize(("x", "want"), [
    (None, None), ("", None), ("  ", None), ("abc", None), (math.nan, None), (math.inf, None), (-math.inf, None),
    (np.float64("nan"), None), ([1.0], None), (0, 0.0), (True, 1.0), (np.int64(3), 3.0), (np.float32(0.5), 0.5),
    ("0.25", 0.25), (2.5, 2.5),
])
def test_finite_or_none(x: object, want: float | None) -> None:
    got = finite_or_none(x)
    assert got == want and (got is None or type(got) is float)


def test_json_safe_makes_json_types_and_names_what_it_nulled() -> None:
    found: list[str] = []
    o = {"a": [1.0, math.nan, {"b": np.float64("inf")}], 3: np.int64(7), "t": (np.bool_(True), Path("/x/y")),
         "arr": np.array([[1, 2]]), "s": {5}}
    out = json_safe(o, found)
    assert out == {"a": [1.0, None, {"b": None}], "3": 7, "t": [True, "/x/y"], "arr": [[1, 2]], "s": [5]}
    assert [type(x) for x in (out["3"], out["t"][0])] == [int, bool]
    assert found == ["a[1]", "a[2].b"]
    json.dumps(out, allow_nan=False)  # strict JSON
    found.clear()
    assert json_safe(math.nan, found) is None and found == ["<row>"]
