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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from judgeanything.datasets._io import PathLike, Record, parse_score, read_records, resolve
from judgeanything.datasets.base import BenchmarkData
from judgeanything.schema import (
    IMAGE,
    OVERALL,
    SETTINGS,
    TEXT,
    BatchItem,
    HumanLabel,
    Item,
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
    """What reading one file produced, before it becomes :class:`BenchmarkData`."""

    items: list[Item] = field(default_factory=list)
    labels: list[HumanLabel] = field(default_factory=list)
    recorded: dict[str, dict[str, list[Verdict]]] = field(default_factory=dict)
    raw: dict[str, dict[str, str]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    keep_phantom: bool = True

    def record(self, judge: str, item_id: str, verdict: Verdict | None, raw: str) -> None:
        """Keep a recorded judge's verdict; ``None`` (unreadable) keeps only its raw text, so a replay
        reports it as a failure instead of inventing a value."""
        self.recorded.setdefault(judge, {})[item_id] = [verdict] if verdict is not None else []
        self.raw.setdefault(judge, {})[item_id] = raw


class MLLMJudgeDataset:
    """Dataset adapter for MLLM-as-a-Judge's HQ files (``conf/benchmark/mllm_judge.yaml``).

    Args:
        pair_file: ``HQ_Pair.jsonl`` (needed for the ``pair`` setting only).
        score_file: ``HQ_Score.jsonl`` (``score`` setting).
        batch_file: ``HQ_Batch.jsonl`` (``batch`` setting).
        data_dir: image root (``image/<id>.jpg`` paths are relative to it); may be absent.
        limit: keep the first N items (file order), for quick runs.
        phantom_slots: batch rankings of 3 answers written with a trailing 4th letter (``"CABD"``; the
            annotation form had 4 slots): ``keep`` (default) keeps the letter as given, so agreement
            equals the published per-row computation on the raw strings; ``drop`` removes it.

    Raises:
        ValueError: ``limit`` below 1.
    """

    name = "mllm_judge"

    def __init__(
        self,
        pair_file: PathLike | None = None,
        score_file: PathLike | None = None,
        batch_file: PathLike | None = None,
        data_dir: PathLike | None = None,
        limit: int | None = None,
        phantom_slots: str = "keep",
    ) -> None:
        if limit is not None and int(limit) < 1:
            raise ValueError(f"mllm_judge: limit must be at least 1 (or null for all), got {limit}")
        if phantom_slots not in ("keep", "drop"):
            raise ValueError(f"mllm_judge: phantom_slots must be keep or drop, got {phantom_slots!r}")
        self.phantom_slots = phantom_slots
        self.files: dict[str, PathLike | None] = {"pair": pair_file, "score": score_file, "batch": batch_file}
        self.data_dir = resolve(data_dir)
        self.limit = None if limit is None else int(limit)

    def load(self, setting: str) -> BenchmarkData:
        """Load one setting with its human labels and the recorded judge verdicts.

        Returns:
            :class:`BenchmarkData`; ``recorded`` maps the recorded judge's name (``gpt4``, ``gemini``) →
            item id → ``[Verdict("overall", ...)]`` (empty list when its value could not be read), and
            ``recorded_raw`` its text.

        Raises:
            ValueError: an unknown setting, or no file configured for it.
            SchemaError: bad input, naming file, row and field.
        """
        if setting not in SETTINGS:
            raise ValueError(f"mllm_judge: unknown setting {setting!r}; "
                             f"expected one of {', '.join(SETTINGS)}")
        path = self.files[setting]
        if path is None:
            raise ValueError(f"mllm_judge: the {setting} setting needs {setting}_file (HQ_"
                             f"{setting.capitalize()}.jsonl); set benchmark.{setting}_file=<path>")
        recs = read_records(path, what=f"HQ_{setting.capitalize()}.jsonl ({setting}_file)")
        keyed, notes = _assign_ids(recs, _ID_OF[setting])
        if self.limit is not None:
            keyed = keyed[: self.limit]
        got = _Loaded(keep_phantom=self.phantom_slots == "keep")
        for rec, item_id in keyed:
            _READERS[setting](rec, item_id, got)
        notes.extend(_notes(setting, got, path))
        if self.data_dir is not None and not self.data_dir.is_dir():
            notes.append(f"image root {self.data_dir} does not exist: only judges that need no media "
                         f"(baselines, replay) can run")
        return BenchmarkData(name=self.name, setting=setting, items=got.items, labels=got.labels,
                             data_root=self.data_dir, recorded=got.recorded, recorded_raw=got.raw,
                             notes=notes)


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
    image = rec.require_str("image_path")
    meta = {"original_dataset": rec.get("original_dataset", default="")}
    question = rec.require_str("instruction", allow_empty=True)
    return Query(uid, TASK_NAME, question, (MediaRef(IMAGE, path=image),), meta=meta)


def _answer(rec: Record, field_name: str, value: object, q: Query, item_id: str, slot: str) -> Response:
    """One ``{name, answer}`` object → a text :class:`Response` (id ``<item_id>::<slot letter>``)."""
    sub = rec.child(field_name, value)
    name, text = sub.require_str("name"), sub.require_str("answer", allow_empty=True)
    return Response(f"{item_id}::{slot}", q.uniq_id, name, TEXT, text=text)


def _read_pair(rec: Record, item_id: str, got: _Loaded) -> None:
    q = _query(rec)
    a = _answer(rec, "answer1", rec.require("answer1"), q, item_id, "A")
    b = _answer(rec, "answer2", rec.require("answer2"), q, item_id, "B")
    meta = {k: rec.data[k] for k in ("pair_id", "turn", "comparison") if k in rec.data}
    got.items.append(PairItem(item_id, q, a, b, meta={**meta, "row": rec.row}))
    human = rec.require("human_answer", "Human_answer")
    try:
        got.labels.append(HumanLabel(item_id, OVERALL, pair_choice_from_letter(human)))
    except ValueError as e:
        raise rec.error(str(e), "human_answer" if rec.has("human_answer") else "Human_answer") from e
    if rec.has("result"):
        res = rec.sub("result")
        judge = res.require_str("name")
        raw = str(res.get("analysis", default=""))
        try:
            verdict: Verdict | None = Verdict(OVERALL, pair_choice_from_letter(res.require("judge")), raw)
        except ValueError:
            got.counts["unreadable recorded verdicts"] += 1
            verdict = None
        got.record(judge, item_id, verdict, raw)


def _read_score(rec: Record, item_id: str, got: _Loaded) -> None:
    q = _query(rec)
    r = Response(f"{item_id}::A", q.uniq_id, rec.require_str("name"), TEXT,
                 text=rec.require_str("answer", allow_empty=True))
    meta = {k: rec.data[k] for k in ("score_id",) if k in rec.data}
    got.items.append(ScoreItem(item_id, q, r, meta={**meta, "row": rec.row}))
    human_field = "Human_answer" if rec.has("Human_answer") else "human_answer"
    got.labels.append(HumanLabel(item_id, OVERALL, parse_score(rec, human_field,
                                                                rec.require("Human_answer", "human_answer"))))
    if rec.has("evaluator"):
        ev = rec.sub("evaluator")
        res = rec.sub("result") if rec.has("result") else None
        judge = str((res.get("name") if res else None) or ev.get("name", default="recorded"))
        raw = str(res.get("judge", default="")) if res else ""
        comment = str(res.get("analysis", default="")) if res else ""
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
    got.items.append(BatchItem(item_id, q, rs, meta={**meta, "row": rec.row}))
    human_field = "human_answer" if rec.has("human_answer") else "Human_answer"
    human, dropped = parse_ranking(rec, human_field, rec.require("human_answer", "Human_answer"), len(rs),
                                   keep_phantom=got.keep_phantom)
    got.labels.append(HumanLabel(item_id, OVERALL, human))
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
            got.record(str(ev.get("name", default="recorded")), item_id, verdict, raw)


_READERS: dict[str, Callable[[Record, str, _Loaded], None]] = {
    "pair": _read_pair, "score": _read_score, "batch": _read_batch,
}


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
