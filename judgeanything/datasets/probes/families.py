"""The registry of probe families, in TaskAnything task-type order (schema.TASK_TYPES), then the families
of plugins.

A plugin distribution adds families without editing this package: an entry point in the group
``judgeanything.probe_families`` whose value is a sequence of :class:`~.core.Family` (or a callable
returning one)::

    [project.entry-points."judgeanything.probe_families"]
    artifact = "judgeanything_artifact.probes:FAMILIES"

Their task types may name a plugin modality (``Text2Artifact``); their candidates' media are written as
the bytes the family gives (:class:`~.core.Media`). They are used only when asked for by name (or task
type): the default suite is :data:`CORE_FAMILIES` whatever is installed. A plugin family cannot shadow a
core one, and a plugin that fails to load only loses its own families (the reason is in
:data:`PLUGIN_FAMILY_ERRORS`).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable

from judgeanything.datasets.probes import injection, motion, shapes, speech, sync, text, tones
from judgeanything.datasets.probes.core import Family
from judgeanything.schema import TASK_TYPES

ENTRY_POINT_GROUP = "judgeanything.probe_families"
CORE_FAMILIES: tuple[Family, ...] = tuple(sorted(
    (*text.FAMILIES, *shapes.FAMILIES, *motion.FAMILIES, *tones.FAMILIES, *sync.FAMILIES, *speech.FAMILIES,
     *injection.FAMILIES),
    key=lambda f: TASK_TYPES.index(f.task)))
#: entry point → why its families were not loaded
PLUGIN_FAMILY_ERRORS: dict[str, str] = {}


def plugin_families(known: Iterable[str]) -> list[Family]:
    """The families of every ``judgeanything.probe_families`` entry point, skipping (with the reason in
    :data:`PLUGIN_FAMILY_ERRORS`) those that fail to load, are not families, or reuse a known name."""
    taken = set(known)
    out: list[Family] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        where = f"{ep.name} = {ep.value}"
        try:
            obj = ep.load()
            fams = list(obj() if callable(obj) else obj)
        except Exception as e:  # a broken plugin must not take the core suite down with it
            PLUGIN_FAMILY_ERRORS[where] = f"cannot load: {type(e).__name__}: {e}"
            continue
        for f in fams:
            if not isinstance(f, Family):
                PLUGIN_FAMILY_ERRORS[where] = f"{f!r} is not a probe Family"
            elif f.name in taken:
                PLUGIN_FAMILY_ERRORS[where] = f"family {f.name!r} ignored: the name is already taken"
            else:
                taken.add(f.name)
                out.append(f)
    return out


FAMILIES: tuple[Family, ...] = (*CORE_FAMILIES, *plugin_families(f.name for f in CORE_FAMILIES))
FAMILY_BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}

if len(FAMILY_BY_NAME) != len(FAMILIES):  # pragma: no cover - a programming error caught at import
    raise RuntimeError("two probe families share a name")
