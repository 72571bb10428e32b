"""A process-judging case: a question (+ media), a solution in numbered steps, and its step labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from judgeanything.process.taxonomy import CORRECT, INCORRECT
from judgeanything.schema import MediaRef, SchemaError, StepLabel  # StepLabel: the answer contract's, in schema


@dataclass(frozen=True)
class ProcessCase:
    """One process-judging case.

    Attributes:
        case_id: unique id.
        question: the problem statement.
        steps: the solution, one string per step (shown numbered from 1).
        labels: one :class:`StepLabel` per step (the reference: human annotation or construction).
        media: the question's media (figures), in prompt order.
        discipline: ``math`` / ``physics`` / ``chemistry`` / ``biology`` / … (lower case).
        modality: ``text`` / ``single_image`` / ``multi_image`` (from the media, or the release's data type).
        meta: anything else the source gives (difficulty, source benchmark, solver model).
    """

    case_id: str
    question: str
    steps: tuple[str, ...]
    labels: tuple[StepLabel, ...]
    media: tuple[MediaRef, ...] = ()
    discipline: str = ""
    modality: str = "text"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.steps:
            raise SchemaError(f"case {self.case_id!r}: a solution needs at least one step")
        if len(self.labels) != len(self.steps):
            raise SchemaError(f"case {self.case_id!r}: {len(self.steps)} steps but {len(self.labels)} labels")

    @property
    def first_error(self) -> int | None:
        """The 1-based index of the first incorrect step, ``None`` for a correct solution."""
        return next((i + 1 for i, lab in enumerate(self.labels) if lab.is_error), None)


def modality_of(media: Sequence[MediaRef]) -> str:
    """``text`` (no media), ``single_image`` or ``multi_image`` (ProJudgeBench's modality groups)."""
    images = sum(m.modality == "image" for m in media)
    return "text" if not images else ("single_image" if images == 1 else "multi_image")


__all__ = ["CORRECT", "INCORRECT", "ProcessCase", "StepLabel", "modality_of"]
