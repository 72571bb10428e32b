"""The MLLM-as-a-Judge benchmark (Chen et al., ICML 2024), human-labelled HQ subset.

Files (JSON Lines, one judging unit per line), all ``Image2Text``:

* ``HQ_Pair.jsonl`` — pair comparison: ``answer1``/``answer2`` ``{name, answer}``; human label
  ``human_answer`` ``A``/``B``/``C`` (C = tie) → ``first``/``second``/``tie``; the recorded judge's verdict
  ``result {name, judge, analysis}`` (``result.judge`` a letter, ``result.analysis`` its text).
* ``HQ_Score.jsonl`` — score evaluation: ``name``, ``answer``; ``Human_answer`` 1–5 (int or string); the
  recorded judge's clean score ``evaluator.judge_Evaluator`` (``result.judge`` is free text, often a run of
  digits, kept as the raw text).
* ``HQ_Batch.jsonl`` — batch ranking: ``answers`` ``[{name, answer}]`` labelled A, B, C, D in order;
  human ranking ``human_answer`` like ``"CDAB"`` (best first) → ``(2, 3, 0, 1)``; the recorded judge's
  ranking ``evaluator.judge_evaluator`` (its text ``evaluator.judge``).

Every row's query: ``uniq_id`` = ``id`` (shared by rows about the same image and instruction), question =
``instruction``, one image ``image_path`` (relative to ``data_dir``), task ``Image2Text``, meta
``original_dataset``. Field-name variants seen in the release are accepted (``Human_answer`` /
``human_answer``, ``judge_Evaluator`` / ``judge_evaluator``).

Item ids: ``mllmj-pair::{pair_id}``, ``mllmj-score::{score_id}``, ``mllmj-batch::{id}`` (batch rows have
unique ``id`` s; ``mllmj-batch::row{N}`` when a file's ids repeat). The release repeats a few keys: every row
stays an item of its own, as the published per-row metrics count them — an exact copy of an earlier row
(HQ_Score.jsonl lines 29 and 30) and rows that share a key but differ (HQ_Pair.jsonl ``pair_id`` 1229 on
lines 25 and 34, two different images) — each repeated id suffixed with ``@row{N}``. Both are stated
in ``BenchmarkData.notes``.

Ranking quirks of HQ_Batch.jsonl, kept as given and stated in the notes: some human rankings are partial
(3 letters for 4 answers, or 2) — the given slots are kept and nothing is invented; some rows with 3
answers have a 4-letter ranking ending in ``D`` (the annotation form had 4 slots) — a trailing letter naming
no answer, after a complete ranking of the real answers, is kept as given by default (``phantom_slots:
keep``, so agreement matches the published per-row numbers) or dropped (``phantom_slots: drop``).

This subset holds rows where the recorded judges did well, so their agreement with humans is high by
construction (see ``shared/README.md``): it tests the pipeline against published numbers, not judges.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from judgeanything.datasets._io import PathLike, Record, parse_score, read_records, resolve
from judgeanything.datasets.base import BenchmarkData
from judgeanything.datasets.release import expand_files, resolve_root
from judgeanything.schema import (
    IMAGE,
    OVERALL,
    SETTINGS,
    TEXT,
    BatchItem,
    HumanLabel,
    Item,
    LabelValue,
    MediaRef,
    PairItem,
    Query,
    Response,
    ScoreItem,
    Verdict,
    pair_choice_from_letter,
    ranking_from_letters,
)

__all__ = ["TASK_NAME", "MLLMJudgeDataset", "parse_ranking"]

#: Every MLLM-as-a-Judge query is an image plus an instruction, answered in text.
TASK_NAME = "Image2Text"
_PREFIX = "mllmj"


@dataclass
class _Loaded:
    """What reading the files of one setting produced, before it becomes :class:`BenchmarkData`.

    ``annotator`` names whoever labelled the rows being read (the file's stem when several per-annotator
    files are given, ``"human"`` for one file); an item read again from a later file adds only its label.
    """

    items: list[Item] = field(default_factory=list)
    labels: list[HumanLabel] = field(default_factory=list)
    recorded: dict[str, dict[str, list[Verdict]]] = field(default_factory=dict)
    raw: dict[str, dict[str, str]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    keep_phantom: bool = True
    annotator: str = "human"
    ids: set[str] = field(default_factory=set)

    def add_item(self, item: Item) -> None:
        """Keep ``item`` unless an earlier file already gave it."""
        if item.item_id not in self.ids:
            self.ids.add(item.item_id)
            self.items.append(item)

    def add_label(self, item_id: str, value: LabelValue) -> None:
        self.labels.append(HumanLabel(item_id, OVERALL, value, self.annotator))

    def record(self, judge: str, item_id: str, verdict: Verdict | None, raw: str) -> None:
        """Keep a recorded judge's verdict; ``None`` (unreadable) keeps only its raw text, so a replay
        reports it as a failure instead of inventing a value."""
        self.recorded.setdefault(judge, {})[item_id] = [verdict] if verdict is not None else []
        self.raw.setdefault(judge, {})[item_id] = raw

    def keep_first(self, n: int) -> None:
        """Keep the first ``n`` items and what belongs to them."""
        self.items = self.items[:n]
        keep = {it.item_id for it in self.items}
        self.labels = [lab for lab in self.labels if lab.item_id in keep]
        for verdicts in self.recorded.values():
            for k in [k for k in verdicts if k not in keep]:
                del verdicts[k]
        for raws in self.raw.values():
            for k in [k for k in raws if k not in keep]:
                del raws[k]


class MLLMJudgeDataset:
    """Dataset adapter for MLLM-as-a-Judge's files (``conf/benchmark/mllm_judge*.yaml``).

    Each ``*_file`` is one file, a list of files or a glob. Several files of one setting are read as
    several annotators' labels of the same items — the per-annotator files of the release
    (``Dataset/Benchmark/arxiv_data/pair/marker{1,3,4,5}_arxiv_pair.jsonl``): rows with the same key
    (``pair_id`` / ``score_id`` / ``id``) are one item labelled by each file (annotator = file stem), which
    gives the analysis its human–human ceiling.

    Args:
        pair_file: pair comparison file(s) (HQ ``Pair.jsonl``, Lite ``pair_lite.jsonl``, per-annotator files).
        score_file: score evaluation file(s).
        batch_file: batch ranking file(s).
        data_dir: image root (``image/<id>.jpg`` paths are relative to it); may be absent.
        limit: keep the first N items (file order), for quick runs.
        phantom_slots: batch rankings of 3 answers written with a trailing 4th letter (``"CABD"``; the
            annotation form had 4 slots): ``keep`` (default) keeps the letter as given, so agreement
            equals the published per-row computation on the raw strings; ``drop`` removes it.
        root: the release folder (or ``hf://shuaishuaicdp/MLLM-Judge``, fetched into the HF cache): relative
            file paths and ``data_dir`` are taken under it.
        recorded_files: recorded judges' outputs the release ships (``step3/<Setting>/<Judge>.jsonl``: the
            items' rows with ``result {name, judge, analysis}``), file(s) or a glob, for the setting being
            loaded; each file is one judge named by its stem, matched to the loaded items by key.

    Raises:
        ValueError: ``limit`` below 1, a bad ``phantom_slots``.
    """

    name = "mllm_judge"

    def __init__(
        self,
        pair_file: FileSpec = None,
        score_file: FileSpec = None,
        batch_file: FileSpec = None,
        data_dir: PathLike | None = None,
        limit: int | None = None,
        phantom_slots: str = "keep",
        root: PathLike | None = None,
        recorded_files: FileSpec = None,
    ) -> None:
        if limit is not None and int(limit) < 1:
            raise ValueError(f"mllm_judge: limit must be at least 1 (or null for all), got {limit}")
        if phantom_slots not in ("keep", "drop"):
            raise ValueError(f"mllm_judge: phantom_slots must be keep or drop, got {phantom_slots!r}")
        self.phantom_slots = phantom_slots
        self.files: dict[str, FileSpec] = {"pair": pair_file, "score": score_file, "batch": batch_file}
        self.data_dir = data_dir
        self.limit = None if limit is None else int(limit)
        self.root = root
        self.recorded_files = recorded_files

    def load(self, setting: str) -> BenchmarkData:
        """Load one setting with its human labels and the recorded judge verdicts.

        Returns:
            :class:`BenchmarkData`; ``recorded`` maps the recorded judge's name (``gpt4``, ``gemini``, a
            recorded file's stem) → item id → ``[Verdict("overall", ...)]`` (empty list when its value could
            not be read), and ``recorded_raw`` its text.

        Raises:
            ValueError: an unknown setting, or no file configured for it.
            SchemaError: bad input, naming file, row and field.
            ReleaseNotFound: a Hub root that is not cached while downloads are off, a glob matching nothing.
        """
        if setting not in SETTINGS:
            raise ValueError(f"mllm_judge: unknown setting {setting!r}; "
                             f"expected one of {', '.join(SETTINGS)}")
        if setting == "rules":
            raise ValueError("no rule items (setting=rules runs on benchmark=probes, the rule probe family)")
        if setting == "process":
            raise ValueError("no process items (setting=process runs on benchmark=probes, the process probe family, "
                             "or benchmark=projudgebench)")
        spec = self.files[setting]
        if spec is None:
            raise ValueError(f"mllm_judge: the {setting} setting needs {setting}_file (HQ_"
                             f"{setting.capitalize()}.jsonl); set benchmark.{setting}_file=<path>")
        base = self._root(setting)
        paths = expand_files(spec, base=base, what=f"mllm_judge {setting}_file")
        got = _Loaded(keep_phantom=self.phantom_slots == "keep")
        notes = _read_files(setting, paths, got)
        if self.limit is not None:
            got.keep_first(self.limit)
        for path in expand_files(self.recorded_files, base=base, what="mllm_judge recorded_files"):
            notes.append(_read_recorded(setting, path, got))
        notes.extend(_notes(setting, got, ", ".join(map(str, paths))))
        data_dir = self._data_dir(base)
        if data_dir is not None and not data_dir.is_dir():
            notes.append(f"image root {data_dir} does not exist: only judges that need no media "
                         f"(baselines, replay) can run")
        return BenchmarkData(name=self.name, setting=setting, items=got.items, labels=got.labels,
                             data_root=data_dir, recorded=got.recorded, recorded_raw=got.raw,
                             notes=notes)

    def _root(self, setting: str) -> Path | None:
        if self.root is None:
            return None
        wanted = [self.files[setting], self.recorded_files]
        patterns = [os.fspath(p) for spec in wanted if spec is not None
                    for p in ([spec] if isinstance(spec, str | os.PathLike) else spec)]
        return resolve_root(self.root, patterns, what="MLLM-as-a-Judge")

    def _data_dir(self, base: Path | None) -> Path | None:
        d = resolve(self.data_dir)
        if d is not None and base is not None and not d.is_absolute():
            return base / d
        return d


#: One file, a list of files, or glob patterns.
FileSpec = PathLike | Sequence[PathLike] | None


def _read_files(setting: str, paths: Sequence[Path], got: _Loaded) -> list[str]:
    """Read every file of a setting into ``got``; several files = several annotators of the same items.

    Raises:
        SchemaError: bad rows, or a row whose key names an item of an earlier file but whose query or
            answers differ (naming both places).
    """
    notes: list[str] = []
    first: dict[str, tuple[str, int, str]] = {}
    several = len(paths) > 1
    for path in paths:
        got.annotator = path.stem if several else "human"
        recs = read_records(path, what=f"{setting} file ({setting}_file)")
        keyed, file_notes = _assign_ids(recs, _ID_OF[setting])
        notes.extend(f"{path.name}: {n}" if several else n for n in file_notes)
        for rec, item_id in keyed:
            fp = _fingerprint(rec)
            if item_id in first and first[item_id][2] != fp:
                f0, r0, _ = first[item_id]
                raise rec.error(f"the key of item {item_id!r} was first read at {f0} row {r0} with another "
                                f"query or answers: per-annotator files must label the same items",
                                _KEY_FIELD[setting])
            first.setdefault(item_id, (rec.file, rec.row, fp))
            _READERS[setting](rec, item_id, got)
    if several:
        per_item = Counter(lab.item_id for lab in got.labels)
        spread = Counter(per_item.values())
        notes.append(f"{len(paths)} per-annotator files (annotator = file name): "
                     f"{len(got.items)} items; annotators per item: {dict(sorted(spread.items()))}")
    return notes


def _fingerprint(rec: Record) -> str:
    """What must agree between two annotators' rows of one item: the query and the answers."""
    keys = ("instruction", "image_path", "answer1", "answer2", "answers", "name", "answer")
    return json.dumps({k: rec.data.get(k) for k in keys}, sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------------


def _pair_key(rec: Record) -> str:
    return f"{_PREFIX}-pair::{rec.require_str('pair_id')}"


def _score_key(rec: Record) -> str:
    return f"{_PREFIX}-score::{rec.require_str('score_id')}"


def _batch_key(rec: Record) -> str:
    return f"{_PREFIX}-batch::{rec.require_str('id')}"


_ID_OF: dict[str, Callable[[Record], str]] = {"pair": _pair_key, "score": _score_key, "batch": _batch_key}
_KEY_FIELD = {"pair": "pair_id", "score": "score_id", "batch": "id"}


def _assign_ids(recs: Sequence[Record],
                key_of: Callable[[Record], str]) -> tuple[list[tuple[Record, str]], list[str]]:
    """Stable, unique item ids for a whole file (decided before any ``limit``).

    Every row is an item (an exact copy of an earlier row too: published metrics count rows); rows
    sharing a key each get ``@row{N}`` appended (batch files fall back to ``mllmj-batch::row{N}`` for
    every row).
    """
    notes: list[str] = []
    canon: dict[str, int] = {}
    repeats: list[str] = []
    for rec in recs:
        blob = json.dumps(rec.data, sort_keys=True, ensure_ascii=False)
        if blob in canon:
            repeats.append(f"row {rec.row} repeats row {canon[blob]}")
        else:
            canon[blob] = rec.row
    keys = [key_of(rec) for rec in recs]
    n = Counter(keys)
    if key_of is _batch_key and any(c > 1 for c in n.values()):
        notes.append("batch ids repeat in this file: items are keyed by row (mllmj-batch::row<N>)")
        return [(rec, f"{_PREFIX}-batch::row{rec.row}") for rec in recs], notes
    out = [(rec, k if n[k] == 1 else f"{k}@row{rec.row}") for rec, k in zip(recs, keys, strict=True)]
    if repeats:
        notes.append(f"{len(repeats)} rows are exact copies of earlier rows and are kept as rows of their "
                     f"own, as the published per-row metrics count them ({'; '.join(repeats)})")
    shared = sorted(k for k, c in n.items() if c > 1)
    if shared:
        notes.append(f"rows sharing an id but differing were kept apart with @row<N>: {', '.join(shared)}")
    return out, notes


# --------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------


def _query(rec: Record) -> Query:
    uid = rec.require_str("id")
    image = rec.require_text("image_path")
    meta = {"original_dataset": rec.get("original_dataset", default="")}
    question = rec.require_text("instruction", allow_empty=True)
    return Query(uid, TASK_NAME, question, (MediaRef(IMAGE, path=image),), meta=meta)


def _answer(rec: Record, field_name: str, value: object, q: Query, item_id: str, slot: str) -> Response:
    """One ``{name, answer}`` object → a text :class:`Response` (id ``<item_id>::<slot letter>``)."""
    sub = rec.child(field_name, value)
    name, text = sub.require_text("name"), sub.require_text("answer", allow_empty=True)
    return Response(f"{item_id}::{slot}", q.uniq_id, name, TEXT, text=text)


def _read_pair(rec: Record, item_id: str, got: _Loaded) -> None:
    q = _query(rec)
    a = _answer(rec, "answer1", rec.require("answer1"), q, item_id, "A")
    b = _answer(rec, "answer2", rec.require("answer2"), q, item_id, "B")
    meta = {k: rec.data[k] for k in ("pair_id", "turn", "comparison") if k in rec.data}
    got.add_item(PairItem(item_id, q, a, b, meta={**meta, "row": rec.row}))
    human_field, human = human_label(rec)
    try:
        got.add_label(item_id, pair_choice_from_letter(human))
    except ValueError as e:
        raise rec.error(str(e), human_field) from e
    if rec.has("result"):
        res = rec.sub("result")
        judge = res.require_text("name")
        raw = res.get_text("analysis")
        try:
            verdict: Verdict | None = Verdict(OVERALL, pair_choice_from_letter(res.require("judge")), raw)
        except ValueError:
            got.counts["unreadable recorded verdicts"] += 1
            verdict = None
        got.record(judge, item_id, verdict, raw)


def _read_score(rec: Record, item_id: str, got: _Loaded) -> None:
    q = _query(rec)
    r = Response(f"{item_id}::A", q.uniq_id, rec.require_text("name"), TEXT,
                 text=rec.require_text("answer", allow_empty=True))
    meta = {k: rec.data[k] for k in ("score_id",) if k in rec.data}
    got.add_item(ScoreItem(item_id, q, r, meta={**meta, "row": rec.row}))
    human_field, human = human_label(rec)
    got.add_label(item_id, parse_score(rec, human_field, human))
    if rec.has("evaluator"):
        ev = rec.sub("evaluator")
        res = rec.sub("result") if rec.has("result") else None
        # a judge's name is text: a number or a list there is a malformed row, not a name to convert
        judge = (res.get_text("name") if res else "") or ev.get_text("name") or "recorded"
        raw = str(res.get("judge", default="")) if res else ""
        comment = res.get_text("analysis") if res else ""
        value_field = "judge_Evaluator" if ev.has("judge_Evaluator") else "judge_evaluator"
        value = ev.get(value_field)
        verdict: Verdict | None = None
        if value is not None:
            try:
                verdict = Verdict(OVERALL, parse_score(ev, value_field, value), comment)
            except ValueError:
                got.counts["unreadable recorded verdicts"] += 1
        if value is not None or raw:
            got.record(judge, item_id, verdict, raw)


def _read_batch(rec: Record, item_id: str, got: _Loaded) -> None:
    q = _query(rec)
    answers = rec.require("answers")
    if not isinstance(answers, list) or not 2 <= len(answers) <= 26:
        raise rec.error("expected a list of 2 to 26 answers {name, answer}", "answers")
    rs = tuple(_answer(rec, f"answers[{i}]", a, q, item_id, chr(ord("A") + i)) for i, a in enumerate(answers))
    meta = {k: rec.data[k] for k in ("comparison",) if k in rec.data}
    got.add_item(BatchItem(item_id, q, rs, meta={**meta, "row": rec.row}))
    human_field, raw_human = human_label(rec)
    human, dropped = parse_ranking(rec, human_field, raw_human, len(rs), keep_phantom=got.keep_phantom)
    got.add_label(item_id, human)
    what = "kept as given" if got.keep_phantom else "dropped"
    got.counts[f"human rankings ending in a letter that names no answer ({what})"] += bool(dropped)
    if len(human) < len(rs):
        got.counts[f"partial human rankings ({len(human)} of {len(rs)} slots)"] += 1
    if rec.has("evaluator"):
        ev = rec.sub("evaluator")
        value_field = "judge_evaluator" if ev.has("judge_evaluator") else "judge_Evaluator"
        value = ev.get(value_field)
        raw = str(ev.get("judge", default=""))
        verdict: Verdict | None = None
        if value is not None:
            try:
                ranking, dropped = parse_ranking(ev, value_field, value, len(rs),
                                                 keep_phantom=got.keep_phantom)
                verdict = Verdict(OVERALL, ranking, raw)
                got.counts[f"recorded rankings ending in a letter that names no answer ({what})"] += \
                    bool(dropped)
            except ValueError:
                got.counts["unreadable recorded verdicts"] += 1
        if value is not None or raw:
            got.record(ev.get_text("name") or "recorded", item_id, verdict, raw)


_READERS: dict[str, Callable[[Record, str, _Loaded], None]] = {
    "pair": _read_pair, "score": _read_score, "batch": _read_batch,
}


def _key_index(setting: str, items: Sequence[Item]) -> dict[str, list[Item]]:
    """Loaded items by their row key (``pair_id`` / ``score_id`` / batch ``id``), as a recorded file names
    them."""
    out: dict[str, list[Item]] = {}
    for it in items:
        key = it.query.uniq_id if setting == "batch" else it.meta.get(_KEY_FIELD[setting])
        if key is not None:
            out.setdefault(str(key), []).append(it)
    return out


def _read_recorded(setting: str, path: Path, got: _Loaded) -> str:
    """One recorded judge's output file (``step3/<Setting>/<Judge>.jsonl``: the items' rows plus
    ``result {name, judge, analysis}``; some rows spell it ``{name, jduge, oral}`` with the raw text also in
    ``gpt_output``) → ``got.recorded[<file stem>]`` for the loaded items. An unreadable verdict keeps only
    its raw text (a replay reports it as a failure). Returns the note stating what matched.

    Raises:
        SchemaError: a row without its key or without ``result`` (naming file, row and field).
    """
    judge = path.stem
    index = _key_index(setting, got.items)
    counts: Counter[str] = Counter()
    for rec in read_records(path, what="recorded judge file (recorded_files)"):
        key = rec.require_str(_KEY_FIELD[setting])
        res = rec.sub("result")
        hits = index.get(key, [])
        if len(hits) != 1:
            counts["not loaded" if not hits else "ambiguous key"] += 1
            continue
        item = hits[0]
        raw = str(res.get("analysis", "oral", default="") or rec.get("gpt_output", default=""))
        verdict = _recorded_verdict(setting, res, item, got.keep_phantom)
        counts["matched"] += 1
        counts["unreadable"] += verdict is None
        got.record(judge, item.item_id, verdict, raw)
    return (f"recorded judge {judge!r} from {path}: {counts['matched']} verdicts for loaded items "
            f"({counts['unreadable']} unreadable, kept as raw text only); {counts['not loaded']} rows for "
            f"items not loaded" + (f"; {counts['ambiguous key']} rows whose key names several items (skipped)"
                                   if counts["ambiguous key"] else ""))


def _recorded_verdict(setting: str, res: Record, item: Item, keep_phantom: bool) -> Verdict | None:
    """The verdict in ``result.judge`` (``jduge`` in some rows), or ``None`` when it cannot be read."""
    value = res.get("judge", "jduge")
    if value is None:
        return None
    try:
        if setting == "pair":
            return Verdict(OVERALL, pair_choice_from_letter(value))
        if setting == "score":
            return Verdict(OVERALL, parse_score(res, "judge", value))
        assert isinstance(item, BatchItem)
        ranking, _ = parse_ranking(res, "judge", value, len(item.responses), keep_phantom=keep_phantom)
        return Verdict(OVERALL, ranking)
    except ValueError:
        return None


#: Names the human label goes by in the release's files and in third-party copies of them (compared
#: without regard to case): ``human_answer`` (HQ / Lite / per-annotator files), ``Human_answer`` (HQ
#: Score.jsonl), ``human`` (loaders of the Hub copy), ``human_label`` / ``human_ranking`` / ``human_score``.
HUMAN_KEYS: tuple[str, ...] = ("human_answer", "human", "human_label", "human_ranking", "human_score")


def human_label(rec: Record) -> tuple[str, object]:
    """The human label of a row and the field it was found under (any case of :data:`HUMAN_KEYS`).

    Raises:
        SchemaError: no such field, or two of them with different values (naming the row and the fields).
    """
    found = [(k, v) for k, v in rec.data.items()
             if isinstance(k, str) and k.lower() in HUMAN_KEYS and v is not None]
    if not found:
        raise rec.error(f"missing required field (the human label; also read as any case of "
                        f"{', '.join(map(repr, HUMAN_KEYS[1:]))})", "human_answer")
    if len({json.dumps(v, sort_keys=True) for _, v in found}) > 1:
        raise rec.error(f"two different human labels: {', '.join(f'{k}={v!r}' for k, v in found)}", found[1][0])
    return found[0]


def parse_ranking(rec: Record, field_name: str, value: object, n: int, *,
                  keep_phantom: bool = False) -> tuple[tuple[int, ...], int]:
    """A letter ranking (``"CDAB"``, best first) of ``n`` answers → 0-based slots, and how many trailing
    letters name no answer.

    Letters naming no answer are allowed only when they trail a complete ranking of the ``n`` answers
    (``"CABD"`` for 3 answers: HQ_Batch.jsonl's form had 4 slots); they are kept (``keep_phantom``:
    ``(2, 0, 1, 3)``) or dropped (``(2, 0, 1)``). A partial ranking (``"CA"`` for 4 answers) is kept as
    given.

    Raises:
        SchemaError: not a string of letters, a repeated letter, or a letter naming no answer anywhere else.
    """
    if not isinstance(value, str):
        raise rec.error(f"expected a ranking string such as 'CDAB', got {type(value).__name__} {value!r}",
                        field_name)
    try:
        slots = ranking_from_letters(value)
    except ValueError as e:
        raise rec.error(str(e), field_name) from e
    real = tuple(s for s in slots if s < n)
    if len(real) == len(slots):
        return slots, 0
    if slots[: len(real)] == real and len(real) == n:
        return (slots if keep_phantom else real), len(slots) - len(real)
    letters = "".join(sorted({chr(ord("A") + s) for s in slots if s >= n}))
    raise rec.error(f"ranking {value!r} names {letters}, but there are only {n} answers", field_name)


def _notes(setting: str, got: _Loaded, path: PathLike) -> list[str]:
    notes = [f"{len(got.items)} {setting} items from {path} (MLLM-as-a-Judge HQ subset: rows where the "
             f"recorded judges did well, so their agreement with humans is high by construction)"]
    notes.append({"pair": "human labels: human_answer A/B/C → first/second/tie",
                  "score": "human labels: Human_answer 1–5; recorded score: evaluator.judge_Evaluator "
                           "(raw text: result.judge)",
                  "batch": "human labels: human_answer letter ranking, best first → 0-based slots; "
                           "recorded ranking: evaluator.judge_evaluator"}[setting])
    for judge, per in sorted(got.recorded.items()):
        n = sum(bool(v) for v in per.values())
        notes.append(f"recorded judge {judge!r}: {n} verdicts on {len(per)} items")
    for what, c in sorted(got.counts.items()):
        if c:
            notes.append(f"{c} {what}")
    return notes
