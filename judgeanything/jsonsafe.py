"""Numbers and trees made safe for JSON, CSV cells and messages: one copy of each rule for the whole package.

JSON has no NaN or infinity (Python's ``json`` would write ``NaN``, which no strict reader accepts) and no numpy
types; every file the package writes goes through :func:`json_safe`, and every "a finite float or nothing" reading
through :func:`finite_or_none`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def finite_or_none(x: Any) -> float | None:
    """``x`` as a finite float, else ``None``: for ``None``, ``""``, text that is not a number, NaN and ±inf.

    Accepts numbers, numpy scalars, bools (``True`` → 1.0) and numeric text (a CSV cell ``"0.5"`` → 0.5).
    """
    if x is None or (isinstance(x, (str, bytes)) and not x.strip()):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def json_safe(o: Any, found: list[str] | None = None, path: str = "") -> Any:
    """``o`` rebuilt from JSON types: NaN / ±inf → ``None``, numpy scalars and arrays → Python, tuples and sets →
    lists, paths → ``str``, mapping keys → ``str``. Anything else is kept as it is (``json.dumps`` then rejects
    what JSON cannot hold).

    Args:
        found: when given, the dotted path of every non-finite number replaced is appended (``a.b[2]``; the root
            is ``<row>``), for a warning that names the fields.
    """
    if isinstance(o, Mapping):
        return {str(k): json_safe(v, found, f"{path}.{k}" if path else str(k)) for k, v in o.items()}
    if isinstance(o, (list, tuple, set, frozenset)):
        return [json_safe(v, found, f"{path}[{i}]") for i, v in enumerate(o)]
    if isinstance(o, PurePath):
        return str(o)
    if hasattr(o, "tolist") and not isinstance(o, (str, bytes)):  # numpy scalars and arrays
        return json_safe(o.tolist(), found, path)
    if isinstance(o, float) and not math.isfinite(o):
        if found is not None:
            found.append(path or "<row>")
        return None
    return o


__all__ = ["finite_or_none", "json_safe"]
