"""Whether a run directory's analysis is up to date, so that a rerun which judged nothing does not analyse
(and hold in memory, and re-render) the same run again.

After an analysis, ``analysis.stamp.json`` records the analysis options, the package version and the
SHA-256 and size of the files the analysis reads (``verdicts.jsonl``, ``items.jsonl``, ``labels.jsonl``,
``run.json``'s price) and of the ``metrics.json`` it wrote (anything that rewrites it — e.g.
``judgeanything-compare --recompute`` with other options — makes the stamp stale); the analysis is current
when all of these are the same and its outputs are all there.
Digests, not modification times: a rerun rewrites ``items.jsonl`` with the same content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from judgeanything.analysis.options import METRICS_JSON
from judgeanything.modalities._files import sha256_file
from judgeanything.store import ITEMS, LABELS, RUN, VERDICTS

STAMP = "analysis.stamp.json"
_FORMAT = 1


def _digest(path: Path) -> list[Any]:
    if not path.is_file():
        return [None, None]
    return [path.stat().st_size, sha256_file(path)]


def _price(run_dir: Path) -> Any:
    try:
        return json.loads((run_dir / RUN).read_text(encoding="utf-8")).get("price")
    except (OSError, ValueError, AttributeError):
        return None


def stamp(run_dir: Path, analysis: Mapping[str, Any]) -> dict[str, Any]:
    """What the analysis of ``run_dir`` with ``analysis`` options depends on."""
    import importlib.metadata as md

    try:
        version = md.version("judgeanything")
    except md.PackageNotFoundError:
        version = None
    return {"format": _FORMAT, "version": version,
            "analysis": json.loads(json.dumps(dict(analysis), sort_keys=True, default=str)),
            "files": {name: _digest(run_dir / name) for name in (VERDICTS, ITEMS, LABELS, METRICS_JSON)},
            "price": _price(run_dir)}


def write_stamp(run_dir: Path, analysis: Mapping[str, Any]) -> None:
    """Record that ``run_dir`` was just analysed with ``analysis``."""
    tmp = run_dir / (STAMP + ".tmp")
    tmp.write_text(json.dumps(stamp(run_dir, analysis), indent=1), encoding="utf-8")
    tmp.replace(run_dir / STAMP)


def is_current(run_dir: Path, analysis: Mapping[str, Any], outputs: list[str]) -> bool:
    """Whether the recorded analysis matches the files and options now and ``outputs`` all exist."""
    try:
        old = json.loads((run_dir / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all((run_dir / o).is_file() for o in outputs) and old == stamp(run_dir, analysis)


__all__ = ["STAMP", "is_current", "stamp", "write_stamp"]
