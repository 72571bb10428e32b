"""Read a run directory for the plots and the HTML report, and compare a judge's verdict with the humans'.

The run-directory format is specified in :mod:`judgeanything.store`. Everything counted comes from the
analysis loader (:func:`judgeanything.analysis.load_run`), so the report counts what ``metrics.csv``
counts: the latest attempt of each unit key (a retried failure, or a key logged twice, is counted once),
a whole-request failure once per rubric asked, and the human consensus of several annotators by
:func:`judgeanything.analysis.units.human_labels` (pair majority vote with ``"tie"`` on a split, score
mean, batch most frequent ranking or Borda order). The report additionally reads the rows of
``items.jsonl`` and the counted records of ``verdicts.jsonl`` as plain dicts, for what it shows and the
analysis frames leave out (question, media, rationales, raw output), and ``metrics.csv`` once for the
summary table and the plots.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from judgeanything.analysis.load import RunData, load_run
from judgeanything.analysis.metrics import METRICS_CSV, read_metrics_csv
from judgeanything.analysis.units import human_labels
from judgeanything.jsonsafe import finite_or_none
from judgeanything.store import ITEMS, RUN, VERDICTS, RunRecord, StoreError, iter_jsonl_lines

#: The metrics.csv columns the report reads.
NEEDED_COLUMNS = ("setting", "rubric", "group_by", "group", "metric", "value", "ci_low", "ci_high", "n")


@dataclass
class RunFiles:
    """One run directory, read for the report.

    Attributes:
        run_dir: the directory.
        data: the analysis frames (:class:`~judgeanything.analysis.load.RunData`).
        items: ``items.jsonl`` rows, file order (the first ``max_items`` of :func:`read_run`).
        verdicts: the ``verdicts.jsonl`` records that count (the rows of ``data.records``) of those items,
            log order.
        n_logged: records in the log, superseded ones included (a torn last line is ignored).
        metrics: ``metrics.csv`` (:func:`run_metrics`; empty when the run was not analysed).
        n_items, n_counted: all items, all records that count (whatever ``max_items`` kept).
        prompt_versions, models: over all records that count.
    """

    run_dir: Path
    data: RunData
    items: list[dict[str, Any]]
    verdicts: list[RunRecord]
    n_logged: int
    metrics: pd.DataFrame
    n_items: int = 0
    n_counted: int = 0
    prompt_versions: frozenset[str] = frozenset()
    models: frozenset[str] = frozenset()
    _labels_by_item: dict[str, dict[str, list[tuple[str, Any]]]] = field(default_factory=dict, repr=False)
    _human: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    _verdicts_by_item: dict[str, list[RunRecord]] = field(default_factory=dict, repr=False)

    @property
    def ci_label(self) -> str:
        """The run's bootstrap confidence level as shown in titles (``analysis.ci`` of its config): ``"95%"``."""
        ci = ((self.data.run.get("config") or {}).get("analysis") or {}).get("ci", 0.95)
        try:
            pct = 100 * float(ci)
        except (TypeError, ValueError):
            pct = 95.0
        return f"{pct:g}%"

    def __post_init__(self) -> None:
        # built from lists alone (not by read_run): the totals are those of the lists
        self.n_items = self.n_items or len(self.items)
        self.n_counted = self.n_counted or len(self.verdicts)
        self.prompt_versions = self.prompt_versions or frozenset(
            v.prompt_version for v in self.verdicts if v.prompt_version)
        self.models = self.models or frozenset(v.model for v in self.verdicts if v.model)
        lab: dict[str, dict[str, list[tuple[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        labels = self.data.labels
        for item_id, rubric, annotator, value in zip(labels["item_id"], labels["rubric"], labels["annotator"],
                                                      labels["value"], strict=True):
            lab[item_id][rubric].append((annotator, value))
        self._labels_by_item = {k: dict(v) for k, v in lab.items()}
        humans = human_labels(labels, self.data.items)
        self._human = dict(zip(zip(humans["item_id"], humans["rubric"], strict=True), humans["human"],
                               strict=True))
        ver: dict[str, list[RunRecord]] = defaultdict(list)
        for rec in self.verdicts:
            ver[rec.item_id].append(rec)
        self._verdicts_by_item = dict(ver)

    @property
    def run(self) -> dict[str, Any]:
        """``run.json``."""
        return self.data.run

    def labels_of(self, item_id: str) -> dict[str, list[tuple[str, Any]]]:
        """Human labels of one item, by rubric: ``(annotator, value)`` in file order (rankings as tuples)."""
        return self._labels_by_item.get(item_id, {})

    def human(self, item_id: str, rubric: str) -> Any:
        """The human consensus of one item × rubric, ``None`` without a label."""
        return self._human.get((item_id, rubric))

    def verdicts_of(self, item_id: str) -> list[RunRecord]:
        """Counted verdict records of one item, in log order."""
        return self._verdicts_by_item.get(item_id, [])

    def setting_of(self, item: dict[str, Any]) -> str:
        """The item's setting (``score``/``pair``/``batch``), else the run's."""
        return str(item.get("setting") or self.run.get("setting") or "")


def read_run(run_dir: Path | str, data: RunData | None = None, *, max_items: int | None = None) -> RunFiles:
    """Read a run directory (``data``: its :func:`~judgeanything.analysis.load_run` result when the caller
    already has it). The item and verdict files are streamed; only the first ``max_items`` items (all when
    ``None``) and their counted records are kept — the HTML report shows a bounded number of item cards, and
    holding every record of a large run only to show 500 of them was most of a run's memory peak.

    Raises:
        FileNotFoundError: ``run_dir`` or its ``run.json`` does not exist (not a run directory).
        StoreError / SchemaError: what :func:`judgeanything.analysis.load_run` raises for a missing
            ``verdicts.jsonl`` or a malformed row (naming the file, line and field); a ``metrics.csv``
            that cannot be read (:func:`run_metrics`).
    """
    run_dir = Path(run_dir)
    run_path = run_dir / RUN
    if not run_path.is_file():
        raise FileNotFoundError(f"{run_path} not found: {run_dir} is not a run directory")
    data = load_run(run_dir) if data is None else data
    items: list[dict[str, Any]] = []
    n_items = 0
    for _, row in iter_jsonl_lines(run_dir / ITEMS):
        n_items += 1
        if max_items is None or len(items) < max_items:
            items.append(row)
    keep = {str(it.get("item_id")) for it in items}
    counted = set(data.records["line"])
    verdicts: list[RunRecord] = []
    n_logged = n_counted = 0
    versions: set[str] = set()
    models: set[str] = set()
    path = run_dir / VERDICTS
    for line, row in iter_jsonl_lines(path, tolerate_torn_tail=True):
        n_logged += 1
        if line not in counted:
            continue
        n_counted += 1
        rec = RunRecord.from_dict(row, file=str(path), line=line)
        if rec.prompt_version:
            versions.add(rec.prompt_version)
        if rec.model:
            models.add(rec.model)
        if rec.item_id in keep:
            verdicts.append(rec)
    return RunFiles(run_dir, data, items, verdicts, n_logged, run_metrics(run_dir), n_items=n_items,
                    n_counted=n_counted, prompt_versions=frozenset(versions), models=frozenset(models))


def run_metrics(run_dir: Path | str) -> pd.DataFrame:
    """``run_dir/metrics.csv`` read by :func:`judgeanything.analysis.read_metrics_csv` (an empty frame
    when the file does not exist: the plots and the report then say the metrics are missing).

    Raises:
        StoreError: the file lacks one of :data:`NEEDED_COLUMNS` or cannot be parsed.
    """
    path = Path(run_dir) / METRICS_CSV
    if not path.is_file():
        return pd.DataFrame(columns=list(NEEDED_COLUMNS))
    try:
        df = read_metrics_csv(path)
    except (KeyError, ValueError) as e:  # pandas: a missing column, a malformed row
        raise StoreError(f"{path}: cannot be read as a metrics.csv ({type(e).__name__}: {e})") from e
    missing = set(NEEDED_COLUMNS) - set(df.columns)
    if missing:
        raise StoreError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    return df


def as_value(v: Any) -> Any:
    """A JSON label/verdict value in its internal form (rankings as tuples)."""
    return tuple(v) if isinstance(v, list) else v


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


#: ``x`` as a float, or ``None`` when it is missing, empty or not finite (CSV cells)
finite = finite_or_none
