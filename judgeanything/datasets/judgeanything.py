"""The Judge Anything benchmark (TaskAnything queries + JudgeAnything responses; arXiv 2503.17489).

Release files: ``TaskAnything.json`` (1,500 queries, 15 task types × 100) and ``JudgeAnything.json``
(6,000 responses, 4 per query, text inline, media as relative paths), plus optional human labels and
checklists (see :mod:`judgeanything.datasets.judgeanything_labels`). Loading the metadata never touches
media: ``data_dir`` may not exist (judges that need no media — baselines, replay — still run).

Conversions made here, at the dataset edge:

* Query media, in prompt order: images (``image_path``, a string or a list → one image each, in list
  order), then the video (``video_path``), then the audio (``audio_path``). ``AudioVideo2Text`` queries
  have both a video and a separate audio file: the video comes first, then its audio, so a judge sees the
  picture before the sound track (the released scripts upload only the video for this task). Other
  modalities of plugin task types follow, as ``<modality>_path`` fields in task-name order.
* Responses: ``response.type`` ``text`` → ``Response.text``; ``image``/``audio``/``video`` → a
  :class:`~judgeanything.schema.MediaRef` of that modality. ``Response.modality`` is always the task's
  output modality, while each ``MediaRef`` says what the file is. Two Audio2Video quirks of the release:
  CoDi responses are typed ``image`` with a LIST of 4 frame files, listed ``0, 2, 1, 3`` — they become
  ONE ``MediaRef(modality="video", frames=...)`` with the frames sorted by their numeric file stem
  (``0, 1, 2, 3``; a list whose stems are not all integers keeps its listed order); GlueGen responses are
  typed ``image`` with a single file — the model produced a still, kept as ``MediaRef(modality="image")``
  inside a video task (a judge sees a still where a video was asked for).
* Item ids: score ``"{uniq_id}::{model_name}"``; pair ``"{uniq_id}::{model_a}_vs_{model_b}"`` (``model_a``
  first in file order); batch ``"{uniq_id}::batch"`` (all responses in file order).
* Pairs: by default responses 1 vs 2 and 3 vs 4 of each query in JudgeAnything.json order, as the released
  judging scripts form them (3,000 pairs); ``all_pairs=True`` gives all 6 unordered pairs per query in
  file order (9,000).
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import os
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from judgeanything.datasets._io import PathLike, Record, read_records, resolve
from judgeanything.datasets.base import BenchmarkData
from judgeanything.datasets.judgeanything_labels import (
    ItemIndex,
    KnownQuery,
    LabelRead,
    check_query,
    read_checklists,
    read_human_pairing,
    read_human_scoring,
    read_judging_output,
)
from judgeanything.datasets.release import ReleaseNotFound, is_hub, require_file, resolve_root
from judgeanything.schema import (
    CORE_MODALITIES,
    SETTINGS,
    TASK_TYPES,
    TEXT,
    VIDEO,
    BatchItem,
    HumanLabel,
    Item,
    MediaRef,
    PairItem,
    Query,
    Response,
    SchemaError,
    ScoreItem,
    TaskType,
)

__all__ = ["JudgeAnythingDataset", "read_judging_output"]

#: Query media order: images, then video, then audio; other (plugin) modalities after these.
_MEDIA_ORDER = {"image": 0, "video": 1, "audio": 2}
_QUERY_FIELDS = {"uniq_id", "task_name", "question"}
_PAIRS_RELEASE = ("pairs: responses 1 vs 2 and 3 vs 4 of each query (JudgeAnything.json order), as the "
                  "released judging scripts form them")
_PAIRS_ALL = "pairs: all unordered pairs of each query's responses, in file order"


@dataclass(frozen=True)
class _Paths:
    """The files one load reads (the configured paths, or those found under ``root``)."""

    task_anything: PathLike
    judge_anything: PathLike
    data_dir: Path | None
    human_scoring: PathLike | None
    human_pairing: PathLike | None
    checklist: PathLike | None

    @classmethod
    def given(cls, ds: JudgeAnythingDataset) -> _Paths:
        return cls(ds.task_anything, ds.judge_anything, ds.data_dir, ds.human_scoring, ds.human_pairing,
                   ds.checklist)


class JudgeAnythingDataset:
    """Dataset adapter for the Judge Anything release (``conf/benchmark/judgeanything.yaml``).

    Args:
        task_anything: path to ``TaskAnything.json`` (queries).
        judge_anything: path to ``JudgeAnything.json`` (responses).
        data_dir: media root; query and response media paths are relative to it. May be absent.
        human_scoring: optional ``Preference/Human_Scoring.json`` (labels for the score setting).
        human_pairing: optional ``Preference/Human_Pairing.json`` (labels for the pair setting).
        checklist: optional ``Checklist/checklist.json`` (→ ``Query.checklist``, every setting).
        tasks: task types to keep (``None`` = all); a name not in TaskAnything.json is an error.
        all_pairs: pair setting: all 6 unordered pairs per query instead of 1-vs-2 and 3-vs-4.
        limit: keep the first N queries of each task type (TaskAnything.json order), for quick runs.
        response_dir: folder under ``data_dir`` holding the response media, when it differs from the
            query media root (the released scripts read queries from one folder and responses from
            another); ``None`` = the same root.
        recorded_outputs: recorded judges to replay: judge name → a judging-script output file (rows
            ``{uniq_id, task_name, model_pair|model_name, rubric_name, choice|score, comment}``), read
            with :func:`read_judging_output` (non-strict: an unreadable row becomes "no recorded
            verdict", never an invented one) into ``BenchmarkData.recorded``.
        root: the release folder, laid out as published (``X2XRawBenchmark/``, ``ResponseCollection/``,
            ``Preference/``, ``Checklist/``), or ``hf://pudashi/JudgeAnything`` (fetched into the HF cache;
            see :mod:`judgeanything.datasets.release`). Relative file paths and ``data_dir`` are taken
            under it.
        query_dir: folder under ``data_dir`` holding the query media (the release: ``X2XRawBenchmark``).
        download_media: with a Hub root, also fetch the media of the selected queries and their responses
            (only those files); otherwise only the JSON files are fetched.

    Raises:
        ValueError: ``limit`` below 1.
    """

    name = "judgeanything"

    def __init__(
        self,
        task_anything: PathLike,
        judge_anything: PathLike,
        data_dir: PathLike | None = None,
        human_scoring: PathLike | None = None,
        human_pairing: PathLike | None = None,
        checklist: PathLike | None = None,
        tasks: Sequence[str] | str | None = None,
        all_pairs: bool = False,
        limit: int | None = None,
        response_dir: str | None = None,
        recorded_outputs: Mapping[str, PathLike] | None = None,
        root: PathLike | None = None,
        query_dir: str | None = None,
        download_media: bool = False,
    ) -> None:
        if limit is not None and int(limit) < 1:
            raise ValueError(f"judgeanything: limit must be at least 1 (or null for all), got {limit}")
        self.task_anything = task_anything
        self.judge_anything = judge_anything
        self.data_dir = resolve(data_dir)
        self.human_scoring = human_scoring
        self.human_pairing = human_pairing
        self.checklist = checklist
        self.tasks = [tasks] if isinstance(tasks, str) else (list(tasks) if tasks is not None else None)
        self.all_pairs = bool(all_pairs)
        self.limit = None if limit is None else int(limit)
        self.response_dir = response_dir
        self.recorded_outputs = dict(recorded_outputs or {})
        self.root = root
        self.query_dir = query_dir
        self.download_media = bool(download_media)
        self._p = _Paths.given(self)

    # ------------------------------------------------------------------------------------------------

    def load(self, setting: str) -> BenchmarkData:
        """Load one setting (``score``, ``pair`` or ``batch``) with its human labels.

        Returns:
            :class:`BenchmarkData` with items in TaskAnything.json query order (responses in
            JudgeAnything.json order within a query), labels from the human file of that setting (there
            are no human batch rankings in the release), and notes on the conversions made.

        Raises:
            ValueError: an unknown setting.
            SchemaError: bad input (naming file, row and field), or a ``tasks`` name not in the file.
        """
        if setting not in SETTINGS:
            raise ValueError(f"judgeanything: unknown setting {setting!r}; "
                             f"expected one of {', '.join(SETTINGS)}")
        if setting == "rules":
            raise ValueError("no rule items (setting=rules runs on benchmark=probes, the rule probe family)")
        if setting == "process":
            raise ValueError("no process items (setting=process runs on benchmark=probes, the process probe family, "
                             "or benchmark=projudgebench)")
        notes: list[str] = []
        self._p = _Paths.given(self) if self.root is None else self._from_release(setting)
        queries = self._read_queries()
        responses = self._read_responses(queries)
        known = {uid: KnownQuery(q.task_name, tuple(r.model_name for r in responses.get(uid, ())))
                 for uid, q in queries.items()}
        if self._p.checklist is not None:
            lists = read_checklists(self._p.checklist, known)
            queries = {uid: _with_checklist(q, lists.get(uid)) for uid, q in queries.items()}
            n = sum(uid in lists for uid in queries)
            notes.append(f"checklists attached to {n} of {len(queries)} queries")
        selected = self._select(queries)
        if self.root is not None and self.download_media and is_hub(self.root):
            self._fetch_media(selected, responses, notes)
        items = self._items(setting, selected, responses, notes)
        labels = self._labels(setting, known, items, notes)
        notes.extend(_response_notes(selected, responses))
        if self._p.data_dir is not None and not self._p.data_dir.is_dir():
            notes.append(f"media root {self._p.data_dir} does not exist: only judges that need no media "
                         f"(baselines, replay) can run")
        recorded = {}
        if setting in ("score", "pair"):
            for judge_name, path in self.recorded_outputs.items():
                recorded[judge_name] = read_judging_output(path, items, strict=False)
                notes.append(f"recorded judge {judge_name!r}: verdicts for {len(recorded[judge_name])} "
                             f"of {len(items)} items from {path}")
        return BenchmarkData(name=self.name, setting=setting, items=items, labels=labels,
                             data_root=self._p.data_dir, recorded=recorded, notes=notes)

    # ------------------------------------------------------------------------------------------------

    def _from_release(self, setting: str) -> _Paths:
        """The files of the release under ``root`` (a Hub root fetches just these JSON files).

        Raises:
            ReleaseNotFound: the release or one of its configured files is missing (naming it).
        """
        wanted = {"task_anything": self.task_anything, "judge_anything": self.judge_anything,
                  "human_scoring": self.human_scoring if setting == "score" else None,
                  "human_pairing": self.human_pairing if setting == "pair" else None}
        rel = {k: os.fspath(v) for k, v in wanted.items() if v is not None}
        patterns = list(rel.values())
        checklist = None if self.checklist is None else os.fspath(self.checklist)
        if checklist is not None:  # one file, or the per-task files of the chosen task types
            folder = checklist.rstrip("/")
            patterns += [checklist] + ([f"{folder}/{t}.json" for t in self.tasks] if self.tasks
                                       else [f"{folder}/*.json"])
        base = resolve_root(self.root, patterns, what="Judge Anything")  # type: ignore[arg-type]
        found = {k: require_file(base, v, what="Judge Anything", key=k) if not os.path.isabs(v) else Path(v)
                 for k, v in rel.items()}
        cl = None
        if checklist is not None:
            cl = Path(checklist) if os.path.isabs(checklist) else base / checklist
            if not cl.exists():
                raise ReleaseNotFound(f"Judge Anything: {checklist} is missing under {base} (set "
                                      f"benchmark.checklist=null to run without checklists)")
        d = self.data_dir
        data_dir = base if d is None else (d if d.is_absolute() else base / d)
        return _Paths(found["task_anything"], found["judge_anything"], data_dir, found.get("human_scoring"),
                      found.get("human_pairing"), cl)

    def _fetch_media(self, queries: Sequence[Query], responses: Mapping[str, list[Response]],
                     notes: list[str]) -> None:
        """Fetch from the Hub exactly the media files of the selected queries and their responses."""
        files = sorted({p for q in queries for r in (q, *responses.get(q.uniq_id, ()))
                        for m in r.media for p in (m.frames or (m.path,)) if p})
        resolve_root(self.root, files, what="Judge Anything media")  # type: ignore[arg-type]
        notes.append(f"media: {len(files)} files of the selected queries and responses fetched from {self.root}")

    def _read_queries(self) -> dict[str, Query]:
        out: dict[str, Query] = {}
        rows: dict[str, int] = {}
        for rec in read_records(self._p.task_anything, what="TaskAnything.json (task_anything)"):
            q = _query_from(rec, self.query_dir)
            if q.uniq_id in out:
                raise rec.error(f"duplicate uniq_id {q.uniq_id!r} (first at row {rows[q.uniq_id]})",
                                "uniq_id")
            out[q.uniq_id], rows[q.uniq_id] = q, rec.row
        return out

    def _read_responses(self, queries: Mapping[str, Query]) -> dict[str, list[Response]]:
        out: dict[str, list[Response]] = {}
        first: dict[tuple[str, str], int] = {}
        for rec in read_records(self._p.judge_anything, what="JudgeAnything.json (judge_anything)"):
            uid, q = check_query(rec, queries)
            r = _response_from(rec, q, self.response_dir)
            key = (uid, r.model_name)
            if key in first:
                raise rec.error(f"a second response of model {r.model_name!r} to query {uid!r} "
                                f"(first at row {first[key]})", "model_name")
            first[key] = rec.row
            out.setdefault(uid, []).append(r)
        return out

    def _select(self, queries: Mapping[str, Query]) -> list[Query]:
        wanted = {q.task_name for q in queries.values()}
        present = [t for t in TASK_TYPES if t in wanted] + sorted(wanted - set(TASK_TYPES))
        if self.tasks is not None:
            unknown = [t for t in self.tasks if t not in wanted]
            if unknown:
                raise SchemaError(f"unknown task type(s) {', '.join(map(repr, unknown))}; "
                                  f"known: {', '.join(present)}", file=str(self._p.task_anything), field="tasks")
            wanted = set(self.tasks)
        per_task: Counter[str] = Counter()
        out = []
        for q in queries.values():
            if q.task_name not in wanted:
                continue
            if self.limit is not None and per_task[q.task_name] >= self.limit:
                continue
            per_task[q.task_name] += 1
            out.append(q)
        return out

    def _items(self, setting: str, queries: Sequence[Query], responses: Mapping[str, list[Response]],
               notes: list[str]) -> list[Item]:
        items: list[Item] = []
        unpaired = no_response = 0
        for q in queries:
            rs = responses.get(q.uniq_id, [])
            if not rs:
                no_response += 1
                continue
            if setting == "score":
                items.extend(ScoreItem(f"{q.uniq_id}::{r.model_name}", q, r, meta={"slot": i})
                             for i, r in enumerate(rs))
            elif setting == "pair":
                if self.all_pairs:
                    slots = list(itertools.combinations(range(len(rs)), 2))
                else:
                    slots = [(i, i + 1) for i in range(0, len(rs) - 1, 2)]
                    unpaired += len(rs) % 2
                items.extend(PairItem(f"{q.uniq_id}::{rs[i].model_name}_vs_{rs[j].model_name}", q, rs[i],
                                      rs[j], meta={"slots": [i, j]}) for i, j in slots)
            elif len(rs) >= 2:
                items.append(BatchItem(f"{q.uniq_id}::batch", q, tuple(rs)))
        if setting == "pair":
            notes.append(_PAIRS_ALL if self.all_pairs else _PAIRS_RELEASE)
        if unpaired:
            notes.append(f"{unpaired} queries have an odd number of responses: the last one is in no pair")
        if no_response:
            notes.append(f"{no_response} queries have no response in JudgeAnything.json and give no item")
        return items

    def _labels(self, setting: str, known: Mapping[str, KnownQuery], items: Sequence[Item],
                notes: list[str]) -> list[HumanLabel]:
        path = {"score": self._p.human_scoring, "pair": self._p.human_pairing}.get(setting)
        if setting == "batch":
            notes.append("no human labels: the Judge Anything release has no human batch rankings")
            return []
        if path is None:
            what = "scoring" if setting == "score" else "pairing"
            notes.append(f"no human labels: set human_{what} to the release's "
                         f"Preference/Human_{what.capitalize()}.json")
            return []
        reader = read_human_scoring if setting == "score" else read_human_pairing
        got: LabelRead = reader(path, known, ItemIndex.of(items))
        annotators = Counter(len(v) for v in _annotators_per_unit(got.labels).values())
        notes.append(f"human labels: {len(got.labels)} from {got.rows} rows of {path}; annotators per "
                     f"item×rubric: {dict(sorted(annotators.items()))}")
        for why, n in sorted(got.skipped.items()):
            notes.append(f"human labels: {n} rows skipped ({why})")
        return got.labels


def _annotators_per_unit(labels: Iterable[HumanLabel]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for lab in labels:
        out.setdefault((lab.item_id, lab.rubric), set()).add(lab.annotator)
    return out


def _with_checklist(q: Query, lists: Mapping[str, tuple[str, ...]] | None) -> Query:
    if not lists:
        return q
    return dataclasses.replace(q, checklist=dict(lists))


def _query_from(rec: Record, query_dir: str | None = None) -> Query:
    """One TaskAnything row → :class:`Query` (media order: see the module docstring)."""
    uid = rec.require_str("uniq_id")
    task_name = rec.require_text("task_name")
    try:
        task = TaskType.parse(task_name)
    except SchemaError as e:
        raise rec.error(str(e), "task_name") from e
    question = rec.require_text("question", allow_empty=True)
    order = sorted(task.non_text_inputs, key=lambda m: _MEDIA_ORDER.get(m, len(_MEDIA_ORDER)))
    media: list[MediaRef] = []
    used = set(_QUERY_FIELDS)
    for modality in dict.fromkeys(order):
        field = f"{modality}_path"
        used.add(field)
        if modality not in CORE_MODALITIES and task_name not in TASK_TYPES and not rec.has(field):
            # "Smell2Text" parses as a task shape, but no core modality is a smell and the row gives no
            # smell_path for a plugin modality: say so, not "missing smell_path"
            raise rec.error(f"unknown task type {task_name!r}: {modality!r} is not a core modality "
                            f"({', '.join(CORE_MODALITIES)}) and the row has no {field} field for a plugin "
                            f"modality (known task types: {', '.join(TASK_TYPES)})", "task_name")
        media.extend(MediaRef(modality, path=_under(query_dir, p)) for p in _paths(rec, field, rec.require(field)))
    meta = {k: v for k, v in rec.data.items() if k not in used}
    return Query(uid, task_name, question, tuple(media), meta=meta)


def _paths(rec: Record, field: str, value: object) -> list[str]:
    """A path field: a non-empty string, a non-empty list of them, or that list's Python repr as a string
    (``"['a.jpg', 'b.jpg']"``, as some release rows write ``image_path``; read with
    :func:`ast.literal_eval`, which evaluates literals only).

    Raises:
        SchemaError: anything else, naming the field.
    """
    if isinstance(value, str) and value.lstrip().startswith("["):
        text = value
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
            raise rec.error(f"a list of paths written as a string, but not a readable one: {text[:120]!r}",
                            field) from e
    vals = value if isinstance(value, list) else [value]
    if not vals or not all(isinstance(v, str) and v.strip() for v in vals):
        raise rec.error(f"expected a path or a non-empty list of paths, got {value!r}"[:200], field)
    return [str(v) for v in vals]


def _frame_order(paths: Sequence[str]) -> list[str]:
    """Frames sorted by their numeric file stem (``0.jpg, 2.jpg, 1.jpg`` → ``0, 1, 2``); the listed order
    when any stem is not an integer."""
    stems = [PurePosixPath(p).stem for p in paths]
    if all(s.isascii() and s.isdigit() for s in stems):  # not "²", which int() refuses
        return [p for _, p in sorted(zip((int(s) for s in stems), paths, strict=True), key=lambda t: t[0])]
    return list(paths)


def _response_from(rec: Record, q: Query, response_dir: str | None) -> Response:
    """One JudgeAnything row → :class:`Response` (conversions: see the module docstring)."""
    model = rec.require_text("model_name")
    rid = rec.require_str("response_id") if rec.has("response_id") else f"{q.uniq_id}::{model}"
    body = rec.sub("response")
    rtype = body.require_text("type").strip().lower()
    content = body.require("content")
    out_mod = q.task.output
    if rtype != TEXT and rtype not in CORE_MODALITIES and rtype != out_mod:
        raise body.error(f"unknown response type {rtype!r}; expected text, one of "
                         f"{', '.join(CORE_MODALITIES)} or the task's output modality {out_mod!r}", "type")
    meta: dict[str, object] = {} if rtype == out_mod else {"response_type": rtype}
    if rtype == TEXT:
        if not isinstance(content, str):
            raise body.error(f"a text response must be a string, got {type(content).__name__}", "content")
        return Response(rid, q.uniq_id, model, out_mod, text=content, meta=meta)
    paths = [_under(response_dir, p) for p in _paths(body, "content", content)]
    if isinstance(content, list) and rtype == "image" and out_mod == VIDEO:
        frames = _frame_order(paths)
        meta["frames_reordered"] = frames != paths
        media: tuple[MediaRef, ...] = (MediaRef(VIDEO, frames=tuple(frames)),)
    else:
        media = tuple(MediaRef(rtype, path=p) for p in paths)
    return Response(rid, q.uniq_id, model, out_mod, media=media, meta=meta)


def _under(folder: str | None, path: str) -> str:
    return posixpath.join(folder, path) if folder else path


def _response_notes(queries: Sequence[Query], responses: Mapping[str, list[Response]]) -> list[str]:
    """Facts for the report about the conversions applied to the selected responses."""
    frames = reordered = stills = other = 0
    for q in queries:
        for r in responses.get(q.uniq_id, ()):
            if r.media and r.media[0].frames:
                frames += 1
                reordered += bool(r.meta.get("frames_reordered"))
            elif "response_type" in r.meta:
                if r.meta["response_type"] == "image" and r.modality == VIDEO:
                    stills += 1
                else:
                    other += 1
    notes = []
    if frames:
        notes.append(f"{frames} video responses are given as image frames (Audio2Video CoDi); {reordered} "
                     f"listed out of order (0, 2, 1, 3) were sorted by frame number")
    if stills:
        notes.append(f"{stills} responses to video tasks are a single still image (Audio2Video GlueGen), "
                     f"judged as an image")
    if other:
        notes.append(f"{other} responses are of another modality than their task's output")
    return notes

