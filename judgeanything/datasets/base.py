"""What a dataset adapter hands to the runner: items of one setting, their human labels, and any
recorded judge verdicts (for the ``replay`` judge)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from judgeanything.schema import DEFAULT_SCORE_SCALE, HumanLabel, Item, ScoreScale, Verdict


@dataclass
class BenchmarkData:
    """One benchmark in one setting.

    Attributes:
        name: benchmark name (``judgeanything``, ``mllm_judge``, ``probes``…).
        setting: ``score`` / ``pair`` / ``batch``.
        items: the judging units, in a stable order, with unique ``item_id`` s.
        labels: human labels (zero or more per item and rubric; several annotators allowed).
        data_root: the directory media paths are relative to (``None`` when there are no media files).
        recorded: recorded judge verdicts: judge name → item id → verdicts (one per rubric).
        recorded_raw: the recorded judge's raw text per judge name → item id (kept in the run log).
        notes: human-readable facts for the report (e.g. a label's derivation).
        label_scale: the scale of the human score labels (1–5 in every release read here); a judge asked
            on another scale (``setting.scale``) is mapped onto it in the analysis.
    """

    name: str
    setting: str
    items: list[Item]
    labels: list[HumanLabel] = field(default_factory=list)
    data_root: Path | None = None
    recorded: Mapping[str, Mapping[str, list[Verdict]]] = field(default_factory=dict)
    recorded_raw: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    label_scale: ScoreScale = DEFAULT_SCORE_SCALE


@runtime_checkable
class Dataset(Protocol):
    """A dataset adapter (instantiated by Hydra from ``conf/benchmark/*.yaml``).

    ``load`` raises :class:`~judgeanything.schema.SchemaError` naming the file, row and field for bad
    input, and ``ValueError`` for a setting the dataset does not provide.
    """

    name: str

    def load(self, setting: str) -> BenchmarkData: ...
