"""Read a run directory for the plots and the HTML report, and compare a judge's verdict with the humans'.

The run-directory format is specified in :mod:`judgeanything.store`. This module reads the four files as
plain dicts (the report shows them as they are; the statistics live in :mod:`judgeanything.analysis`).

Several annotators of one item × rubric are combined with the analysis layer's consensus rule
(:func:`judgeanything.analysis.agreement.consensus`: pair majority vote with ``"tie"`` on a split, score
mean, batch most frequent ranking or Borda order), so the report's flags match ``metrics.csv``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judgeanything.analysis.agreement import consensus
from judgeanything.schema import TEXT, SchemaError, TaskType
from judgeanything.store import ITEMS, LABELS, RUN, VERDICTS, StoreError, read_jsonl


@dataclass
class RunFiles:
    """The files of one run directory, as dicts.

    Attributes:
        run_dir: the directory.
        run: ``run.json``.
        items: ``items.jsonl`` rows, file order.
        labels: ``labels.jsonl`` rows.
        verdicts: ``verdicts.jsonl`` records (a torn last line from a running writer is ignored).
    """

    run_dir: Path
    run: dict[str, Any]
    items: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]
    _labels_by_item: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict, repr=False)
    _verdicts_by_item: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        lab: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for row in self.labels:
            lab[row["item_id"]][row["rubric"]].append(row)
        self._labels_by_item = {k: dict(v) for k, v in lab.items()}
        ver: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rec in self.verdicts:
            ver[rec["item_id"]].append(rec)
        self._verdicts_by_item = dict(ver)

    def labels_of(self, item_id: str) -> dict[str, list[dict[str, Any]]]:
        """Human label rows of one item, by rubric."""
        return self._labels_by_item.get(item_id, {})

    def verdicts_of(self, item_id: str) -> list[dict[str, Any]]:
        """Verdict records of one item, in log order."""
        return self._verdicts_by_item.get(item_id, [])

    def setting_of(self, item: dict[str, Any]) -> str:
        """The item's setting (``score``/``pair``/``batch``), else the run's."""
        return str(item.get("setting") or self.run.get("setting") or "")


def read_run(run_dir: Path | str) -> RunFiles:
    """Read a run directory.

    Raises:
        FileNotFoundError: ``run_dir`` or its ``run.json`` does not exist (not a run directory).
        StoreError: a malformed JSONL line or ``run.json`` (names the file and line), or a row without the
            ``item_id`` / ``rubric`` fields the report needs.
    """
    run_dir = Path(run_dir)
    run_path = run_dir / RUN
    if not run_path.is_file():
        raise FileNotFoundError(f"{run_path} not found: {run_dir} is not a run directory")
    try:
        run = json.loads(run_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise StoreError(f"{run_path}: not valid JSON ({e.msg}, line {e.lineno})") from e
    if not isinstance(run, dict):
        raise StoreError(f"{run_path}: expected a JSON object, got {type(run).__name__}")
    items = read_jsonl(run_dir / ITEMS)
    labels = read_jsonl(run_dir / LABELS)
    verdicts = read_jsonl(run_dir / VERDICTS, tolerate_torn_tail=True)
    for name, rows, needed in (
        (ITEMS, items, ("item_id",)),
        (LABELS, labels, ("item_id", "rubric", "value")),
        (VERDICTS, verdicts, ("item_id",)),
    ):
        for i, row in enumerate(rows, start=1):
            for f in needed:
                if f not in row:
                    raise StoreError(f"{run_dir / name}: row {i} has no field {f!r}")
    return RunFiles(run_dir, run, items, labels, verdicts)


def as_value(v: Any) -> Any:
    """A JSON label/verdict value in its internal form (rankings as tuples)."""
    return tuple(v) if isinstance(v, list) else v


def human_consensus(setting: str, values: Sequence[Any]) -> Any:
    """The humans' label of one item × rubric: :func:`judgeanything.analysis.agreement.consensus` of the
    annotators' values (JSON lists read as ranking tuples); ``None`` when there are no values.

    Raises:
        SchemaError: a score label that is not a number.
    """
    vals = [as_value(v) for v in values]
    if not vals:
        return None
    try:
        return consensus(setting, vals)
    except (TypeError, ValueError) as e:
        raise SchemaError(f"human labels {vals!r} cannot be combined for the {setting} setting ({e})") from e


def agrees(setting: str, judge: Any, human: Any) -> bool | None:
    """Whether a judge's verdict value equals the human consensus; ``None`` when there is no label.

    Exact agreement as in the analysis layer's ``exact`` / ``accuracy_with_tie``: the same score (so a
    fractional mean of several annotators never matches), the same pair choice, the same ranking.
    """
    if human is None or judge is None:
        return None
    if setting == "score":
        try:
            return float(judge) == float(human)
        except (TypeError, ValueError):
            return False
    return as_value(judge) == as_value(human)


def input_modality(item: dict[str, Any]) -> str:
    """The item's non-text inputs joined with ``+`` (``"audio+video"``), or ``"text"`` for a Text2X task
    (the convention of :mod:`judgeanything.analysis.load`, so plots and ``metrics.csv`` name groups alike)."""
    mods = item.get("input_modalities")
    if not mods:
        mods = list(TaskType.parse(str(item.get("task_name", ""))).inputs)
    return "+".join(m for m in mods if m != TEXT) or TEXT


def output_modality(item: dict[str, Any]) -> str:
    """The item's output modality (``items.jsonl`` field, else parsed from the task type)."""
    return str(item.get("output_modality") or TaskType.parse(str(item.get("task_name", ""))).output)


def finite(x: Any) -> float | None:
    """``x`` as a float, or ``None`` when it is missing, empty or not finite (CSV cells)."""
    if x is None or x == "":
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None
