"""How a judge's verdicts were read from its text: the strict-parse rate and the count per parsing rule.

Every outcome the parser produced carries ``parsed_by`` (``strict/json``, ``lenient/anchor``, ``limit/json``,
or the bare strategy name on a failure; see :mod:`judgeanything.parsing`). The *strict-parse rate* is the
share of parsed (item × rubric) rows whose verdict was read by the strict strategy, i.e. the judge wrote
exactly the JSON answer the prompt's contract asks for — a format-compliance measure of the judge,
independent of whether its verdicts agree with humans. Outcomes a judge produced without text (baselines,
replay, token probabilities) have no ``parsed_by`` and are not counted; the rate is then ``None``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def parse_stats(verdicts: pd.DataFrame) -> dict[str, Any]:
    """Parse statistics of verdict rows (the ``verdicts`` frame of :func:`judgeanything.analysis.load.load_run`).

    Returns:
        ``{"parsed_rows": int, "strict": int, "strict_parse_rate": float | None, "by_rule": {rule: int}}``;
        ``by_rule`` keys are ``parsed_by`` values (``strict/json``…); a failure counts under its strategy
        name (``lenient``…).
    """
    col = verdicts["parsed_by"] if "parsed_by" in verdicts.columns else pd.Series([], dtype=object)
    parsed = col[col.fillna("").astype(str) != ""].astype(str)
    strict = int(parsed.str.startswith("strict/").sum())
    n = len(parsed)
    return {"parsed_rows": n, "strict": strict, "strict_parse_rate": strict / n if n else None,
            "by_rule": {str(k): int(v) for k, v in parsed.value_counts().sort_index().items()}}
