"""The run directory's identity and description: ``run.json``, ``items.jsonl``, ``labels.jsonl``.

A run directory holds one run (benchmark × setting × mode × judge …): :func:`check_identity` refuses to resume
a directory whose ``run.json`` describes another run, :func:`write_run_json` records what ran (the config with
secrets removed by :func:`judgeanything.redaction.redact_config`, the project's one redaction), and
:func:`write_items_and_labels` writes the item features the analysis reads (response sizes for verbosity
bias and the ``longer`` baseline, modality family). The run-log format itself is :mod:`judgeanything.store`'s.
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.metadata as md
import json
import platform
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from judgeanything.datasets.base import BenchmarkData
from judgeanything.errors import RunConfigError
from judgeanything.modalities.cache import MediaCache
from judgeanything.redaction import redact_config, redact_values
from judgeanything.schema import Item, MediaRef, Response, TaskType, item_content_hash, item_to_dict
from judgeanything.store import ITEMS, LABELS, RUN, VERDICTS, StoreError, write_jsonl

#: The run directory's saved media measurements (see :func:`write_items_and_labels`).
MEASURES = "media_measures.json"

#: The project's one redaction (see :mod:`judgeanything.redaction`), under the name this module exports.
redact = redact_config


def now() -> str:
    """The current UTC time, ISO 8601 to the second (``run.json``'s ``started``/``finished``, records' ``ts``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def check_identity(run_dir: Path, identity: Mapping[str, Any]) -> None:
    """Refuse to resume ``run_dir`` when its ``run.json`` describes a different run.

    Raises:
        StoreError: ``run.json`` is not valid JSON or not a run description.
        RunConfigError: the recorded identity differs (the message lists the differing keys).
    """
    run_json = run_dir / RUN
    if not run_json.exists():
        return
    try:
        old = json.loads(run_json.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StoreError(f"{run_json}: not valid JSON ({e}); it cannot say which run this directory holds "
                         "— choose another hydra.run.dir, or pass run.overwrite=true") from e
    old = old.get("identity", {}) if isinstance(old, dict) else None
    if not isinstance(old, dict):
        raise StoreError(f"{run_json}: not a run description (expected a JSON object with 'identity')")
    mine = redact_config(dict(identity))  # as run.json holds it
    if old and old != mine:
        diff = sorted(k for k in set(old) | set(mine) if old.get(k) != mine.get(k))
        raise RunConfigError(
            f"run directory {run_dir} holds a different run (differs in: {', '.join(diff)}); "
            "choose another hydra.run.dir, or pass run.overwrite=true to start it afresh")


def set_aside_log(run_dir: Path) -> None:
    """``run.overwrite=true``: keep the old run log as ``verdicts.jsonl.replaced-<unix time>`` (nothing is lost)."""
    log_path = run_dir / VERDICTS
    if log_path.exists():
        log_path.rename(run_dir / f"{VERDICTS}.replaced-{int(time.time())}")


@functools.lru_cache(maxsize=1)
def _package_versions() -> tuple[tuple[str, str | None], ...]:
    def ver(p: str) -> str | None:
        try:
            return md.version(p)
        except md.PackageNotFoundError:
            return None

    return (("python", platform.python_version()),
            *((p, ver(p)) for p in ("judgeanything", "torch", "transformers", "openai")))


def package_versions() -> dict[str, str | None]:
    """Python's and the judging stack's versions (``None`` for a package that is not installed). Looked up once
    per process (~9 ms of package metadata reads, and every run writes ``run.json`` twice)."""
    return dict(_package_versions())


#: ``run.json`` sections that hold configuration (what a user wrote: a value under a secret-looking key is
#: masked whatever it is); the others are the run's own accounts (counts, budget, cache, requests…), whose
#: keys are ours — ``budget.spent_this_session_usd`` is a number, not a session secret
_CONFIG_SECTIONS = frozenset({"config", "identity", "judge_fingerprint"})


def write_run_json(run_dir: Path, info: Mapping[str, Any]) -> None:
    """Write ``run.json`` atomically (a temporary file renamed over it), redacted throughout: the configuration
    sections by :func:`judgeanything.redaction.redact_config` (values under secret-looking keys masked), every
    string of the others by :func:`judgeanything.redaction.redact_values` (known secrets and credential shapes)."""
    out = {k: redact_config(v) if k in _CONFIG_SECTIONS else redact_values(v) for k, v in info.items()}
    tmp = run_dir / (RUN + ".tmp")
    tmp.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    tmp.replace(run_dir / RUN)


def response_sizes(resp: Response, measures: Mapping[MediaRef, Mapping[str, float]]) -> dict[str, float]:
    """Size features of one response (for verbosity/size bias and the ``longer`` baseline).

    Text: ``chars``, ``words``. Media: the encoder's measure of each media ref from ``measures``
    (:meth:`MediaCache.measure`; seconds for ``duration_s``, pixels for images) with ``count`` = number of refs;
    {} where nothing is measurable.
    """
    if resp.text is not None:
        return {"chars": float(len(resp.text)), "words": float(len(resp.text.split()))}
    out: dict[str, float] = {}
    for ref in resp.media:
        for k, v in measures[ref].items():
            out[k] = out.get(k, 0.0) + float(v) if k in ("duration_s", "count") else float(v)
    if resp.media and out:
        out.setdefault("count", float(len(resp.media)))
    return out


def item_record(item: Item, measures: Mapping[MediaRef, Mapping[str, float]], content: str | None = None
                ) -> dict[str, Any]:
    """The ``items.jsonl`` line of an item (see :mod:`judgeanything.store`; ``measures``: each of its responses'
    media measured; ``content``: its :func:`~judgeanything.schema.item_content_hash` when already computed)."""
    d = item_to_dict(item)
    d["content"] = content if content is not None else item_content_hash(item)
    task = TaskType.parse(item.query.task_name)
    d["input_modalities"] = list(task.non_text_inputs) or ["text"]
    d["output_modality"] = task.output
    d["family"] = task.family
    d["sizes"] = [response_sizes(r, measures) for r in item.responses]
    return d


def write_items_and_labels(run_dir: Path, data: BenchmarkData, items: Sequence[Item], cache: MediaCache,
                           contents: Sequence[str] | None = None) -> dict[str, list[dict[str, float]]]:
    """Write ``items.jsonl`` and ``labels.jsonl`` (the labels of ``items`` only); returns each item's response
    sizes in dataset order, by item id (``contents``: the items' content hashes in order, when computed).

    Each distinct media reference is measured once, in a few threads (probing a video or audio file waits on
    a subprocess); the item records are then built in this thread from the measurements (a dataset shows one
    query's media in many items, and a thread hop per item would cost more than the lookup). The measurements
    are kept in ``media_measures.json`` (by file path, size and mtime), so a rerun of the run measures only the
    files that changed."""
    saved = run_dir / MEASURES
    cache.load_measures(saved)
    distinct = list(dict.fromkeys(ref for it in items for r in it.responses for ref in r.media))
    measures: dict[MediaRef, dict[str, float]] = {}
    if distinct:
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="measure") as pool:
            measures = dict(zip(distinct, pool.map(cache.measure, distinct), strict=True))
    records = [item_record(it, measures, contents[i] if contents is not None else None)
               for i, it in enumerate(items)]
    cache.save_measures(saved)
    write_jsonl(run_dir / ITEMS, records)
    keep = {it.item_id for it in items}
    write_jsonl(run_dir / LABELS, (lab.to_dict() for lab in data.labels if lab.item_id in keep))
    return {rec["item_id"]: rec["sizes"] for rec in records}


__all__ = ["check_identity", "item_record", "now", "package_versions", "redact", "response_sizes",
           "set_aside_log", "write_items_and_labels", "write_run_json"]
