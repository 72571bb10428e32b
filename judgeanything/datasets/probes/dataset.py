"""``ProbesDataset``: the probe suite as a benchmark (score / pair / batch), generated deterministically
from a seed and cached on disk.

Layout of the cache (``$JUDGEANYTHING_CACHE`` or ``~/.cache/judgeanything``, then
``probes/<version>-<size>-s<seed>[-d<difficulty hash>]``), which is also the ``data_root``::

    <family>/manifest.json     version, size, seed, design points, and the sha256 of every file below
    <family>/records.json      queries, candidates (slot order), scores, ground truth
    <family>/0000/input1.png   query media        (paths in MediaRef are relative to the root)
    <family>/0000/response1.png ... response4.png  candidate media, in shuffled slot order

Each family directory is built in a temporary directory next to it and renamed into place, so a reader
never sees half a family; a later load reuses it after checking every file against the manifest, and
rebuilds it (with a note) when a check fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from judgeanything.datasets.base import BenchmarkData
from judgeanything.datasets.probes.core import Family, Media, check_spec, design_points, is_tie_variant
from judgeanything.datasets.probes.families import CORE_FAMILIES, FAMILIES, FAMILY_BY_NAME
from judgeanything.datasets.probes.media import write_audio, write_mp4, write_png
from judgeanything.modalities._files import sha256_file
from judgeanything.schema import (
    SETTINGS,
    TASK_TYPES,
    BatchItem,
    HumanLabel,
    Item,
    MediaRef,
    PairItem,
    Query,
    Response,
    ScoreItem,
    TaskType,
    stable_hash,
)

#: Bump when any generator, encoder setting or record field changes (it names the cache directory).
PROBES_VERSION = "1"
SIZES: tuple[str, ...] = ("small", "medium", "large")
ANNOTATOR = "construction"
_PASSES = {"medium": 2, "large": 6}  # passes through a family's design points per size


def queries_per_family(size: str, n_designs: int) -> int:
    """Queries generated per family: ``small`` 2 (design points 0 and 1: one distinct, one tie variant),
    ``medium`` 2 per design point (one of each variant), ``large`` 6 per design point.

    Raises:
        ValueError: unknown size.
    """
    if size == "small":
        return 2
    if size not in _PASSES:
        raise ValueError(f"unknown probes size {size!r} (known: {', '.join(SIZES)})")
    return _PASSES[size] * n_designs


def default_cache_root() -> Path:
    """``$JUDGEANYTHING_CACHE`` or ``~/.cache/judgeanything``."""
    env = os.environ.get("JUDGEANYTHING_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "judgeanything"


def _family_key(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def _plain(v: Any) -> Any:
    """A knob value from Hydra/OmegaConf or numpy as a plain Python value."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _values(v: Any) -> list[Any]:
    if isinstance(v, Sequence) and not isinstance(v, str):
        return [_plain(x) for x in v]
    return [_plain(v)]


def _check_knob_value(family: Family, knob: str, value: Any) -> None:
    """Raise ValueError when ``value`` does not have the type of the knob's declared values."""
    declared = family.knobs[knob]
    kinds = {type(x) for x in declared if x is not None}
    ok = (value is None and None in declared) or type(value) in kinds \
        or (float in kinds and type(value) is int)
    if not ok:
        raise ValueError(f"difficulty: family {family.name} knob {knob!r} takes values like "
                         f"{list(declared)}, got {value!r}")


def resolve_designs(family: Family, overrides: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The family's design points after applying ``overrides`` (knob → value, or list of values to
    sweep): every design point where the knob applies (is not ``None``) takes each given value; duplicates
    are dropped, order kept.

    Raises:
        ValueError: an unknown knob or a value of the wrong type.
    """
    designs = [dict(d) for d in (family.designs or design_points(family.knobs))]
    for knob, value in overrides.items():
        if knob not in family.knobs:
            raise ValueError(f"difficulty: family {family.name} has no knob {knob!r} "
                             f"(knobs: {', '.join(family.knobs)})")
        vals = _values(value)
        for v in vals:
            _check_knob_value(family, knob, v)
        expanded: list[dict[str, Any]] = []
        for d in designs:
            expanded.extend([d] if d[knob] is None else [{**d, knob: v} for v in vals])
        designs = []
        for d in expanded:
            if d not in designs:
                designs.append(d)
    return designs


@dataclass(frozen=True)
class _FamilyPlan:
    family: Family
    designs: list[dict[str, Any]]
    n_queries: int


class ProbesDataset:
    """The probe suite: queries with ground truth known by construction for all 15 TaskAnything task
    types, four candidate responses each, labelled 1–5 by a documented error measure (docs/probes.md).

    Args:
        size: ``small`` (2 queries per family, all task types; the default demo benchmark), ``medium`` or
            ``large`` (sweeps of the difficulty knobs).
        seed: generation seed; the same seed gives byte-identical files.
        cache_dir: cache root (default ``$JUDGEANYTHING_CACHE`` or ``~/.cache/judgeanything``); the data
            goes to ``<cache_dir>/probes/<version>-<size>-s<seed>[-d<hash>]``.
        tasks: keep only these task types (names from ``schema.TASK_TYPES``, or a plugin family's).
        families: keep only these families (names in ``docs/probes.md``). A plugin's families
            (``judgeanything.probe_families`` entry points) are used only when named here, or when their
            task type is named in ``tasks``.
        difficulty: knob overrides, ``{knob: value or [values]}`` for every selected family having the
            knob, or ``{family: {knob: value or [values]}}`` for one family.

    Raises:
        ValueError: unknown size, task, family or knob, a knob value of the wrong type, or a filter that
            leaves no family.
    """

    name = "probes"

    def __init__(self, size: str = "small", seed: int = 0, cache_dir: str | None = None,
                 tasks: list[str] | None = None, families: list[str] | None = None,
                 difficulty: dict | None = None) -> None:
        if size not in SIZES:
            raise ValueError(f"unknown probes size {size!r} (known: {', '.join(SIZES)})")
        self.size, self.seed = size, int(seed)
        tasks_l = [str(t) for t in tasks] if tasks else None
        fams_l = [str(f) for f in families] if families else None
        known_tasks = list(dict.fromkeys([*TASK_TYPES, *(f.task for f in FAMILIES)]))
        for t in tasks_l or []:
            if t not in known_tasks:
                raise ValueError(f"unknown task type {t!r} in tasks (known: {', '.join(known_tasks)})")
        for f in fams_l or []:
            if f not in FAMILY_BY_NAME:
                raise ValueError(f"unknown probe family {f!r} (known: {', '.join(FAMILY_BY_NAME)})")
        core = {f.name for f in CORE_FAMILIES}
        # a plugin's families join only when asked for by name or task type, so installing a plugin never
        # changes the default suite (its size, its task types, what a demo renders)
        selected = [f for f in FAMILIES if (tasks_l is None or f.task in tasks_l)
                    and (fams_l is None or f.name in fams_l)
                    and (f.name in core or (fams_l is not None and f.name in fams_l)
                         or (tasks_l is not None and f.task in tasks_l))]
        if not selected:
            raise ValueError(f"no probe family matches tasks={tasks_l} families={fams_l}")
        overrides = self._split_overrides(difficulty or {}, selected)
        self._plans = []
        for fam in selected:
            designs = resolve_designs(fam, overrides.get(fam.name, {}))
            self._plans.append(_FamilyPlan(fam, designs, queries_per_family(size, len(designs))))
        base = Path(cache_dir).expanduser() if cache_dir else default_cache_root()
        suffix = f"-d{stable_hash(self._normalised(difficulty or {}), n=8)}" if difficulty else ""
        self.root = base / "probes" / f"{PROBES_VERSION}-{size}-s{self.seed}{suffix}"
        self._records: list[dict[str, Any]] | None = None
        self._notes: list[str] = []

    # -------------------------------------------------------------------------------------------
    # public API
    # -------------------------------------------------------------------------------------------

    @property
    def family_names(self) -> list[str]:
        """The selected families, in task-type order."""
        return [p.family.name for p in self._plans]

    def prepare(self) -> Path:
        """Generate (or verify the cache of) every selected family; returns the data root."""
        self._ensure()
        return self.root

    def load_rules(self, constitution: Any) -> BenchmarkData:
        """The rule probe family (``setting=rules``): generated contents × the rules of ``constitution``,
        labelled by construction (:func:`judgeanything.rules.probes.rule_probes`; same size and seed)."""
        from judgeanything.rules.probes import rule_probes

        return rule_probes(self.root.parent, constitution, size=self.size, seed=self.seed)

    def load(self, setting: str) -> BenchmarkData:
        """Items and construction labels for ``setting``:

        * ``score``: one item per candidate (``probe::<task>::<family>::<index>::<model>``), label 1–5;
        * ``pair``: responses 1 vs 2 and 3 vs 4 as Judge Anything forms them
          (``…::<model_a>_vs_<model_b>``), label ``first`` / ``tie`` / ``second`` from the two scores;
        * ``batch``: the four responses in slot order (``probe::<task>::<family>::<index>``), label the
          slots by descending score, ties broken by the lower slot first.

        Raises:
            ValueError: unknown setting.
            RuntimeError: a family could not be generated (the message names it).
        """
        if setting not in SETTINGS:
            raise ValueError(f"unknown setting {setting!r} (known: {', '.join(SETTINGS)})")
        if setting == "rules":  # the rule probe family under the packaged probe constitution
            from judgeanything.rules.constitution import load_constitution

            return self.load_rules(load_constitution())
        if setting == "process":  # the process probe family (figures rendered next to this suite's cache)
            from judgeanything.process.data import probe_data

            return probe_data(self)
        records = self._ensure()
        items: list[Item] = []
        labels: list[HumanLabel] = []
        for rec in records:
            query, responses, scores = self._objects(rec)
            meta = dict(query.meta)
            if setting == "score":
                for r, s in zip(responses, scores, strict=True):
                    iid = f"{query.uniq_id}::{r.model_name}"
                    items.append(ScoreItem(iid, query, r, meta=meta))
                    labels.append(HumanLabel(iid, "overall", s, ANNOTATOR))
            elif setting == "pair":
                for a, b in ((0, 1), (2, 3)):
                    ra, rb = responses[a], responses[b]
                    iid = f"{query.uniq_id}::{ra.model_name}_vs_{rb.model_name}"
                    items.append(PairItem(iid, query, ra, rb, meta=meta))
                    labels.append(HumanLabel(iid, "overall", pair_label(scores[a], scores[b]), ANNOTATOR))
            else:
                items.append(BatchItem(query.uniq_id, query, tuple(responses), meta=meta))
                labels.append(HumanLabel(query.uniq_id, "overall", batch_label(scores), ANNOTATOR))
        return BenchmarkData(name=self.name, setting=setting, items=items, labels=labels, data_root=self.root,
                             notes=self._summary(records) + list(self._notes))

    # -------------------------------------------------------------------------------------------
    # overrides
    # -------------------------------------------------------------------------------------------

    @staticmethod
    def _normalised(difficulty: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in difficulty.items():
            out[str(k)] = ProbesDataset._normalised(v) if isinstance(v, Mapping) else _values(v)
        return out

    @staticmethod
    def _split_overrides(difficulty: Mapping[str, Any], selected: list[Family]) -> dict[str, dict[str, Any]]:
        per: dict[str, dict[str, Any]] = {f.name: {} for f in selected}
        for key, value in difficulty.items():
            key = str(key)
            if key in FAMILY_BY_NAME:
                if not isinstance(value, Mapping):
                    raise ValueError(f"difficulty: {key!r} is a family; give it a mapping of knob → value")
                if key in per:
                    per[key].update({str(k): v for k, v in value.items()})
                continue
            users = [f.name for f in selected if key in f.knobs]
            if not users:
                known = sorted({k for f in selected for k in f.knobs})
                raise ValueError(f"difficulty: no selected probe family has a knob or name {key!r} "
                                 f"(knobs: {', '.join(known)})")
            for name in users:
                per[name].setdefault(key, value)
        return per

    # -------------------------------------------------------------------------------------------
    # generation and cache
    # -------------------------------------------------------------------------------------------

    def _ensure(self) -> list[dict[str, Any]]:
        if self._records is not None:
            return self._records
        self.root.mkdir(parents=True, exist_ok=True)
        records: list[dict[str, Any]] = []
        for plan in self._plans:
            missing = [exe for exe in plan.family.requires if shutil.which(exe) is None]
            header = self._header(plan)
            fdir = self.root / plan.family.name
            problem = verify_family_dir(fdir, header)
            if problem is None:
                records.extend(_read_json(fdir / "records.json"))
                continue
            if missing:
                self._notes.append(f"Probe family {plan.family.name} ({plan.family.task}) skipped: "
                                   f"{', '.join(missing)} is not installed (Debian: apt-get install "
                                   f"{' '.join(missing)}).")
                continue
            if fdir.exists():
                self._notes.append(f"Probe family {plan.family.name}: cache rebuilt ({problem}).")
            records.extend(self._build_family(plan, header, fdir))
        if not records:
            raise RuntimeError(f"no probe family could be generated under {self.root}: {' '.join(self._notes)}")
        self._records = records
        return records

    def _header(self, plan: _FamilyPlan) -> dict[str, Any]:
        return {"probes_version": PROBES_VERSION, "family": plan.family.name, "task": plan.family.task,
                "size": self.size, "seed": self.seed, "designs": plan.designs, "n_queries": plan.n_queries}

    def _build_family(self, plan: _FamilyPlan, header: dict[str, Any], fdir: Path) -> list[dict[str, Any]]:
        tmp = Path(tempfile.mkdtemp(prefix=f".{plan.family.name}.build-", dir=self.root))
        try:
            records = [generate_query(plan.family, i, plan.designs, self.seed, tmp)
                       for i in range(plan.n_queries)]
            _write_json(tmp / "records.json", records)
            # the records as every later load reads them (keys sorted): a run's items.jsonl is then the same
            # whether its probes were just generated or read from the cache
            records = _read_json(tmp / "records.json")
            files = {p.relative_to(tmp).as_posix(): sha256_file(p)
                     for p in sorted(tmp.rglob("*")) if p.is_file()}
            _write_json(tmp / "manifest.json", {**header, "files": files})
            if fdir.exists() and verify_family_dir(fdir, header) is None:
                shutil.rmtree(tmp, ignore_errors=True)  # another process finished the same family first
                return _read_json(fdir / "records.json")
            if fdir.exists():  # a stale or corrupt copy: move it aside, then drop it
                stale = Path(tempfile.mkdtemp(prefix=f".{plan.family.name}.stale-", dir=self.root))
                os.replace(fdir, stale / "old")
                shutil.rmtree(stale, ignore_errors=True)
            try:
                os.rename(tmp, fdir)
            except OSError:
                # another process renamed its copy into place first: use it if it verifies
                if verify_family_dir(fdir, header) is not None:
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
                return _read_json(fdir / "records.json")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return records

    # -------------------------------------------------------------------------------------------
    # records → schema objects
    # -------------------------------------------------------------------------------------------

    @staticmethod
    def _objects(rec: Mapping[str, Any]) -> tuple[Query, list[Response], list[int]]:
        meta = {"benchmark": "probes", "family": rec["family"], "probe_index": rec["index"],
                "difficulty": dict(rec["difficulty"]), "variant": rec["variant"], "truth": dict(rec["truth"])}
        query = Query(
            uniq_id=rec["uniq_id"], task_name=rec["task"], question=rec["question"],
            media=tuple(MediaRef(m["modality"], path=m["path"]) for m in rec["inputs"]),
            checklist={"overall": tuple(rec["checklist"])} if rec["checklist"] else None, meta=meta)
        responses, scores = [], []
        for r in rec["responses"]:
            rmeta = {"construction": r["model_name"], **r["meta"]}
            if r["text"] is not None:
                rmeta["chars"] = len(r["text"])
            responses.append(Response(
                response_id=f"{rec['uniq_id']}::response{r['slot'] + 1}", uniq_id=rec["uniq_id"],
                model_name=r["model_name"], modality=r["modality"], text=r["text"],
                media=(MediaRef(r["modality"], path=r["path"]),) if r["path"] else (), meta=rmeta))
            scores.append(int(r["score"]))
        return query, responses, scores

    def _summary(self, records: list[dict[str, Any]]) -> list[str]:
        tasks = sorted({r["task"] for r in records}, key=_task_order)
        fams = sorted({r["family"] for r in records})
        n_tie = sum(r["variant"] == "tie" for r in records)
        return [
            f"Probe suite v{PROBES_VERSION} (size {self.size}, seed {self.seed}): {len(records)} queries from "
            f"{len(fams)} families covering {len(tasks)} task types ({sum(t in TASK_TYPES for t in tasks)} of "
            f"TaskAnything's {len(TASK_TYPES)}); media under "
            f"{self.root}.",
            "Labels are by construction (annotator 'construction'): each candidate's 1–5 score is its family's "
            "documented error measure (docs/probes.md); a pair label compares the two scores (equal → tie); a "
            "batch label orders the slots by score, ties broken by the lower slot first.",
            f"{n_tie} of {len(records)} queries are tie variants (two candidates of equal score, placed in the "
            f"same Judge Anything pair).",
        ]


def _task_order(task: str) -> tuple[int, str]:
    """TaskAnything order first, then plugin task types by name."""
    return (TASK_TYPES.index(task), "") if task in TASK_TYPES else (len(TASK_TYPES), task)


# ------------------------------------------------------------------------------------------------
# labels
# ------------------------------------------------------------------------------------------------


def pair_label(score_a: int, score_b: int) -> str:
    """``first`` if the first response scores higher, ``second`` if lower, ``tie`` if equal."""
    return "first" if score_a > score_b else "second" if score_a < score_b else "tie"


def batch_label(scores: Sequence[int]) -> tuple[int, ...]:
    """Slots ordered best first by score; equal scores keep slot order (lower slot first)."""
    return tuple(sorted(range(len(scores)), key=lambda s: (-scores[s], s)))


# ------------------------------------------------------------------------------------------------
# one query
# ------------------------------------------------------------------------------------------------


def shuffle_slots(rng: np.random.Generator, scores: Sequence[int]) -> list[int]:
    """A seeded order of the candidates (``order[slot]`` = candidate index). When two candidates tie, the
    order is drawn uniformly among those that put them in the same Judge Anything pair (slots 1–2 or
    3–4), so that the pair's label is ``tie``."""
    n = len(scores)
    tied = [(a, b) for a in range(n) for b in range(a + 1, n) if scores[a] == scores[b]]
    while True:
        order = [int(i) for i in rng.permutation(n)]
        if not tied:
            return order
        slot = {c: s for s, c in enumerate(order)}
        if all(slot[a] // 2 == slot[b] // 2 for a, b in tied):
            return order


def _write_media(media: Media, path: Path) -> None:
    if media.modality == "image":
        write_png(path, media.array)
    elif media.modality == "audio":
        write_audio(path, media.array, int(media.rate))
    elif media.modality == "video":
        write_mp4(path, media.array, media.rate, media.audio, media.audio_rate)
    elif media.array.dtype == np.uint8 and media.array.ndim == 1:  # a plugin modality: the file's bytes
        path.write_bytes(media.array.tobytes())
    else:
        raise ValueError(f"{path}: media of modality {media.modality!r} must be the file's bytes, (N,) uint8; "
                         f"got {media.array.shape} {media.array.dtype}")


def generate_query(family: Family, index: int, designs: Sequence[Mapping[str, Any]], seed: int,
                   family_dir: Path) -> dict[str, Any]:
    """Build query ``index`` of ``family``, write its media under ``family_dir/<index:04d>/`` and return
    its record (paths relative to the data root, i.e. prefixed with the family name).

    Content draws from ``numpy.random.default_rng([seed, key(family), index, 0])``, the slot order from
    stream ``[…, 1]``, so neither depends on other families or on the size.

    Raises:
        RuntimeError: the family failed; the message names the family, index and knobs.
    """
    design = dict(designs[index % len(designs)])
    tie = is_tie_variant(index, len(designs))
    key = _family_key(family.name)
    try:
        spec = family.build(np.random.default_rng([seed, key, index, 0]), design, tie)
        check_spec(spec, family.name, tie, family.task)
    except (ValueError, RuntimeError) as e:
        raise RuntimeError(f"probe family {family.name} query {index} (knobs {design}, "
                           f"{'tie' if tie else 'distinct'} variant): {e}") from e
    order = shuffle_slots(np.random.default_rng([seed, key, index, 1]), [c.score for c in spec.candidates])
    qdir = family_dir / f"{index:04d}"
    qdir.mkdir(parents=True, exist_ok=False)
    rel = f"{family.name}/{index:04d}"
    inputs = []
    for k, m in enumerate(spec.inputs, start=1):
        _write_media(m, qdir / f"input{k}.{m.ext}")
        inputs.append({"modality": m.modality, "path": f"{rel}/input{k}.{m.ext}"})
    output = TaskType.parse(family.task).output
    responses = []
    for slot, ci in enumerate(order):
        c = spec.candidates[ci]
        path = None
        if c.media is not None:
            name = f"response{slot + 1}.{c.media.ext}"
            _write_media(c.media, qdir / name)
            path = f"{rel}/{name}"
        responses.append({"slot": slot, "model_name": c.name, "score": c.score, "modality": output,
                          "text": c.text, "path": path, "meta": dict(c.meta)})
    return {
        "uniq_id": f"probe::{family.task}::{family.name}::{index}",
        "task": family.task, "family": family.name, "index": index, "question": spec.question,
        "inputs": inputs, "checklist": list(spec.checklist), "difficulty": design,
        "variant": "tie" if tie else "distinct", "truth": dict(spec.truth), "responses": responses,
    }


# ------------------------------------------------------------------------------------------------
# manifest
# ------------------------------------------------------------------------------------------------


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def verify_family_dir(fdir: Path, header: Mapping[str, Any]) -> str | None:
    """``None`` when ``fdir`` holds a complete family matching ``header`` (version, size, seed, design
    points) whose files all match the manifest's sha256; otherwise the first problem found, in words."""
    manifest_path = fdir / "manifest.json"
    if not manifest_path.is_file():
        return "no manifest.json" if fdir.exists() else "not generated yet"
    try:
        manifest = _read_json(manifest_path)
    except (OSError, json.JSONDecodeError) as e:
        return f"unreadable manifest.json: {e}"
    for k, v in header.items():
        if manifest.get(k) != v:
            return f"manifest field {k!r} is {manifest.get(k)!r}, expected {v!r}"
    files = manifest.get("files")
    if not isinstance(files, dict) or "records.json" not in files:
        return "manifest lists no records.json"
    for rel, digest in files.items():
        p = fdir / rel
        if not p.is_file():
            return f"missing file {rel}"
        if sha256_file(p) != digest:
            return f"checksum mismatch for {rel}"
    return None
