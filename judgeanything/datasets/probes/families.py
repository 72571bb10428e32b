"""The registry of probe families, in TaskAnything task-type order (schema.TASK_TYPES)."""

from __future__ import annotations

from judgeanything.datasets.probes import injection, motion, shapes, speech, sync, text, tones
from judgeanything.datasets.probes.core import Family
from judgeanything.schema import TASK_TYPES

FAMILIES: tuple[Family, ...] = tuple(sorted(
    (*text.FAMILIES, *shapes.FAMILIES, *motion.FAMILIES, *tones.FAMILIES, *sync.FAMILIES, *speech.FAMILIES,
     *injection.FAMILIES),
    key=lambda f: TASK_TYPES.index(f.task)))
FAMILY_BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}

if len(FAMILY_BY_NAME) != len(FAMILIES):  # pragma: no cover - a programming error caught at import
    raise RuntimeError("two probe families share a name")
