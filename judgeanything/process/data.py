"""Process cases as pipeline data (``setting=process``): one :class:`~judgeanything.schema.ProcessItem` per
case, its reference step labels in ``meta["reference_steps"]``, and a ``HumanLabel`` per item (rubric
``overall``, value the reference's first incorrect step, 0 for a correct solution) so that the labels file of a
run says what the reference is."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judgeanything.datasets.base import BenchmarkData
from judgeanything.process.items import ProcessCase, StepLabel
from judgeanything.process.release import load_projudgebench
from judgeanything.schema import OVERALL, HumanLabel, ProcessItem, Query, SchemaError


def to_item(case: ProcessCase) -> ProcessItem:
    """The pipeline item of one case (its reference labels in ``meta``)."""
    meta = {**{k: v for k, v in case.meta.items() if isinstance(v, (str, int, float, bool)) or v is None},
            "discipline": case.discipline, "modality": case.modality,
            "reference_steps": [lab.to_dict() for lab in case.labels]}
    task = "Image2Text" if any(m.modality == "image" for m in case.media) else "Text2Text"  # answer: text steps
    query = Query(uniq_id=case.case_id, task_name=task, question=case.question, media=case.media)
    return ProcessItem(case.case_id, query, case.steps, meta)


def to_case(item: ProcessItem) -> ProcessCase:
    """The case back from a pipeline item (its reference labels from ``meta["reference_steps"]``).

    Raises:
        SchemaError: the item carries no reference steps, or they do not match its steps.
    """
    ref = item.meta.get("reference_steps")
    if not isinstance(ref, list):
        raise SchemaError(f"process item {item.item_id!r} has no reference_steps in its meta")
    labels = tuple(StepLabel(str(r["verdict"]), r.get("error_type")) for r in ref)
    return ProcessCase(item.item_id, item.query.question, item.steps, labels, item.query.media,
                       str(item.meta.get("discipline", "")), str(item.meta.get("modality", "text")))


def process_data(name: str, cases: Sequence[ProcessCase], data_root: Path | None) -> BenchmarkData:
    """``BenchmarkData`` of setting ``process`` from ``cases`` (media relative to ``data_root``)."""
    items = [to_item(c) for c in cases]
    labels = [HumanLabel(c.case_id, OVERALL, c.first_error or 0, "reference") for c in cases]
    return BenchmarkData(name, "process", list(items), labels, data_root,
                         notes=["Process judging (ProJudge): per-step verdicts correct / incorrect with an error type; "
                                "the label value is the reference's first incorrect step (0: a correct solution)."])


#: Probe cases per kind (chart, geometry, arithmetic) per probes size.
PROBE_CASES: dict[str, int] = {"small": 12, "medium": 40, "large": 120}


def probe_data(dataset: Any) -> BenchmarkData:
    """The process probe family (:func:`judgeanything.process.probes.process_probes`) at ``benchmark=probes``'
    size and seed, its figures written next to the probe suite's cache (``dataset.root.parent``).

    Raises:
        ValueError: an unknown probes size.
    """
    from judgeanything.process.probes import process_probes

    size = str(getattr(dataset, "size", "small"))
    if size not in PROBE_CASES:
        raise ValueError(f"unknown probes size {size!r} (known: {', '.join(PROBE_CASES)})")
    seed = int(getattr(dataset, "seed", 0))
    root = Path(dataset.root).parent / f"process-{size}-s{seed}"
    return process_data("probes", process_probes(root, size=PROBE_CASES[size], seed=seed), root)


def load_process_data(dataset: Any) -> BenchmarkData:
    """The process items of a configured benchmark: the probe family for ``benchmark=probes``, the dataset's
    own ``load("process")`` otherwise (``benchmark=projudgebench``).

    Raises:
        RunConfigError: a benchmark without process items.
    """
    from judgeanything.datasets.probes import ProbesDataset
    from judgeanything.errors import RunConfigError

    if isinstance(dataset, (ProbesDataset, ProJudgeBenchDataset)):
        return dataset.load("process")
    raise RunConfigError(f"benchmark {getattr(dataset, 'name', '?')!r} has no process items; setting=process runs "
                         "on benchmark=probes (the process probe family) or benchmark=projudgebench")


class ProJudgeBenchDataset:
    """ProJudgeBench's released test file (``benchmark=projudgebench``; :mod:`judgeanything.process.release`).

    Args:
        path: ``test.parquet`` (or ``.json``/``.jsonl`` with the same rows); images relative to its folder.
        subjects: keep these disciplines only (``None``: all).
        limit: keep the first ``limit`` cases (``None``: all).
    """

    name = "projudgebench"

    def __init__(self, path: str | None = None, subjects: Sequence[str] | None = None,
                 limit: int | None = None) -> None:
        if not path:
            raise SchemaError("benchmark=projudgebench needs benchmark.path=<ProJudgeBench test.parquet>")
        self.path = Path(path)
        self.subjects = None if subjects is None else {str(s).lower() for s in subjects}
        self.limit = limit

    def load(self, setting: str) -> BenchmarkData:
        """The release's cases as process items.

        Raises:
            ValueError: a setting other than ``process``.
            SchemaError: a malformed release file (named file, row, field).
        """
        if setting != "process":
            raise ValueError(f"ProJudgeBench has process items only (setting=process), not {setting!r}")
        cases: list[Any] = load_projudgebench(self.path, subjects=self.subjects)
        if self.limit is not None:
            cases = cases[: int(self.limit)]
        return process_data(self.name, cases, self.path.parent)


__all__ = ["PROBE_CASES", "ProJudgeBenchDataset", "load_process_data", "probe_data", "process_data", "to_case",
           "to_item"]
