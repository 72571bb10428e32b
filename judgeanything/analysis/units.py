"""From verdict rows to one judge verdict per (item × rubric), joined to the human label.

Steps (all in dataset orientation):

1. :func:`reduce_repeats` — records of the same (item, rubric, order) with different ``repeat`` are
   reduced (:func:`judgeanything.analysis.repeats.reduce_values`).
2. :func:`combine_orders` — one verdict per (item, rubric) from the orders that were run. When the orders
   agree that verdict is kept; an *inconsistent* pair is handled by the policy: ``tie`` (count as a tie,
   FastChat llm_judge's convention), ``drop`` (leave the item out), ``average`` (average the orders'
   ``probs`` and take the most probable choice — a tie between the top two is ``"tie"`` — or ``"tie"``
   when a record has no usable ``probs``). Inconsistent batch rankings are combined by Borda count
   (``drop`` drops them). Scores judged in several orders (not normally) are averaged.
3. :func:`human_labels` / :func:`join` — the human consensus per (item, rubric) (see
   :mod:`.agreement`) and the item attributes used for breakdowns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from judgeanything.analysis.agreement import borda, consensus
from judgeanything.analysis.load import check_value
from judgeanything.analysis.repeats import reduce_values
from judgeanything.schema import PAIR_CHOICES, SchemaError

POLICIES = ("tie", "drop", "average")
ITEM_ATTRS = ["task_name", "input_modality", "output_modality", "family", "modality_pair", "models", "sizes",
              "meta", "n_responses"]


def ok_rows(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Verdict rows without failures."""
    return verdicts[verdicts["failure"].isna()]


def _avg_probs(probs: Sequence[Any]) -> dict[str, float] | None:
    ps = [p for p in probs if isinstance(p, dict) and p]
    if len(ps) != len(probs):
        return None
    keys = sorted({k for p in ps for k in p})
    return {k: float(np.mean([float(p.get(k, 0.0)) for p in ps])) for k in keys}


def reduce_repeats(verdicts: pd.DataFrame, setting: str, reducer: str = "mode") -> pd.DataFrame:
    """One row per (item_id, rubric, order): columns ``item_id, rubric, order, value, probs, expected,
    n_repeats`` (failed repeats ignored). Units judged once are passed through without grouping."""
    ok = ok_rows(verdicts)
    cols = ["item_id", "rubric", "order", "value", "probs", "expected", "n_repeats"]
    if ok.empty:
        return pd.DataFrame(columns=cols)
    keys = ["item_id", "rubric", "order"]
    dup = ok.duplicated(keys, keep=False).to_numpy()
    single = ok.loc[~dup, cols[:-1]].assign(n_repeats=1)
    rows = []
    for (item, rubric, order), g in ok[dup].groupby(keys, sort=False):
        vals = list(g["value"])
        ex = g["expected"].to_numpy(dtype=np.float64)
        rows.append({"item_id": item, "rubric": rubric, "order": order,
                     "value": reduce_values(setting, vals, reducer),
                     "probs": _avg_probs(list(g["probs"])),
                     "expected": float(np.nanmean(ex)) if np.isfinite(ex).any() else np.nan,
                     "n_repeats": len(vals)})
    out = pd.concat([single, pd.DataFrame(rows, columns=cols)], ignore_index=True) if rows else single
    return out.sort_values(["item_id", "rubric"], kind="stable").reset_index(drop=True)


def _argmax_choice(p: dict[str, float]) -> str | None:
    q = {c: float(p.get(c, 0.0)) for c in PAIR_CHOICES}
    if not any(k in PAIR_CHOICES for k in p):
        return None
    best = sorted(q.values(), reverse=True)
    if best[0] == best[1]:
        return "tie"
    return max(q, key=lambda c: q[c])


def combine_orders(per_order: pd.DataFrame, setting: str, policy: str = "tie") -> pd.DataFrame:
    """One row per (item_id, rubric): ``value, probs, expected, n_orders, consistent`` (``consistent``
    is NaN when only one order was judged). Units judged in one order are passed through.

    Raises:
        ValueError: an unknown policy.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown inconsistency policy {policy!r}; expected one of {POLICIES}")
    cols = ["item_id", "rubric", "value", "probs", "expected", "n_orders", "consistent"]
    if per_order.empty:
        return pd.DataFrame(columns=cols)
    keys = ["item_id", "rubric"]
    dup = per_order.duplicated(keys, keep=False).to_numpy()
    single = per_order.loc[~dup, cols[:5]].assign(n_orders=1, consistent=np.nan)
    rows = []
    for (item, rubric), g in per_order[dup].groupby(keys, sort=False):
        vals = list(g["value"])
        ex = g["expected"].to_numpy(dtype=np.float64)
        expected = float(np.nanmean(ex)) if np.isfinite(ex).any() else np.nan
        probs = _avg_probs(list(g["probs"]))
        same = all(x == vals[0] for x in vals)
        if setting == "score":
            value: Any = float(np.mean(vals))
        elif same:
            value = vals[0]
        elif policy == "drop":
            continue
        elif setting == "batch":
            value = borda(vals)
        elif policy == "average":
            value = (_argmax_choice(probs) if probs else None) or "tie"
        else:
            value = "tie"
        rows.append({"item_id": item, "rubric": rubric, "value": value, "probs": probs, "expected": expected,
                     "n_orders": len(vals), "consistent": float(same)})
    out = pd.concat([single, pd.DataFrame(rows, columns=cols)], ignore_index=True) if rows else single
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def human_labels(labels: pd.DataFrame, items: pd.DataFrame, file: str = "labels.jsonl") -> pd.DataFrame:
    """Human consensus per (item_id, rubric): ``human, n_annotators, annotator_values`` (list, annotator
    order as in the file). Labels of items not in the run are ignored.

    Raises:
        SchemaError: a label value of the wrong kind for its item's setting (names file and line), or an
            item with an unknown setting.
    """
    cols = ["item_id", "rubric", "human", "n_annotators", "annotator_values"]
    if labels.empty:
        return pd.DataFrame(columns=cols)
    setting_of = dict(zip(items["item_id"], items["setting"], strict=True))
    lab = labels[labels["item_id"].isin(setting_of)]
    vals = []
    for item, val, line in zip(lab["item_id"], lab["value"], lab["line"], strict=True):
        setting = setting_of[item]
        if setting not in ("pair", "score", "batch"):
            raise SchemaError(f"item {item!r} has unknown setting {setting!r}", file="items.jsonl",
                              field="setting")
        vals.append(check_value(setting, val, file=file, row=int(line), field="value"))
    lab = lab.assign(value=pd.Series(vals, index=lab.index, dtype=object))
    keys = ["item_id", "rubric"]
    dup = lab.duplicated(keys, keep=False).to_numpy()
    one = lab.loc[~dup]
    single = pd.DataFrame({"item_id": one["item_id"], "rubric": one["rubric"], "human": one["value"],
                           "n_annotators": 1, "annotator_values": [[x] for x in one["value"]]})
    rows = []
    for (item, rubric), g in lab[dup].groupby(keys, sort=False):
        v = list(g["value"])
        rows.append({"item_id": item, "rubric": rubric, "human": consensus(setting_of[item], v),
                     "n_annotators": len(v), "annotator_values": v})
    out = pd.concat([single, pd.DataFrame(rows, columns=cols)], ignore_index=True) if rows else single
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def join(units: pd.DataFrame, humans: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Units with the human consensus (inner join on item_id, rubric) and item attributes."""
    attrs = items.set_index("item_id")[ITEM_ATTRS]
    j = units.merge(humans, on=["item_id", "rubric"], how="inner")
    return j.join(attrs, on="item_id")


def attach_items(df: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Add the item attributes to any frame with an ``item_id`` column."""
    return df.join(items.set_index("item_id")[ITEM_ATTRS], on="item_id")
