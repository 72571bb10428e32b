"""OmniArena as published in the Judge Anything release (``pudashi/JudgeAnything``, folder ``Arena/``).

* Battle records ``Arena/arenaresult/Result/gang_<Category>_record.json``: a JSON object ``uniq_id →
  [outcome, ...]`` (500 understanding queries × 4 battles in ``gang_Understanding_record.json``), each
  outcome a string ``"<model_a> vs <model_b> <winner> wins"``. Model names hold hyphens, dots and maybe
  spaces (``Baichuan-Omni-1.5``, ``Gemini-1.5``, ``Unified-IO2``); an outcome naming no winner, or saying
  ``draw`` / ``tie``, is a tie.
* Per-model answers ``Arena/<dir>/<File>.json``: rows ``{uniq_id, answer}``, ``answer`` a dict
  ``{type, content}`` or a list of such dicts (``type`` spelled ``text`` or ``Text``; ``content`` a string
  or a list). File names differ from the names in the battle strings (``Gemini-1.5`` →
  ``Arena/gemini/Gemini.json``, ``Next-GPT`` → ``Arena/nextgpt/nextgpt_output.json``): they are matched on
  their letters and digits (see :func:`match_models`), or given explicitly.

:class:`OmniArenaDataset` turns every battle into a pair item (the query from TaskAnything.json, the two
models' answers) labelled with the human outcome, so any judge can be run on exactly the battles humans
judged and ``judgeanything-arena`` can rank the models both ways.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judgeanything.datasets._io import PathLike, Record, read_records
from judgeanything.datasets.base import BenchmarkData
from judgeanything.datasets.release import expand_files, resolve_root
from judgeanything.schema import OVERALL, HumanLabel, Item, MediaRef, PairItem, Query, Response, SchemaError

__all__ = ["Battle", "OmniArenaDataset", "battle_item_ids", "match_models", "parse_outcome", "read_answers",
           "read_battles"]

RECORDS = "Arena/arenaresult/Result/gang_*_record.json"
_TIE_WORDS = ("draw", "tie", "tied", "no winner", "both", "neither")
_WINS = re.compile(r"\s+wins?\s*[.!]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Battle:
    """One battle: ``outcome`` is ``first`` (``model_a`` won), ``second`` or ``tie``; ``where`` says the
    file and entry it came from (``file``, ``uniq_id[index]``)."""

    uniq_id: str
    model_a: str
    model_b: str
    outcome: str
    category: str
    file: str
    index: int


def parse_outcome(text: str) -> tuple[str, str, str]:
    """``"<a> vs <b> <winner> wins"`` → ``(a, b, outcome)`` with outcome ``first`` / ``second`` / ``tie``.

    Hand-rolled because the string is not delimited: the winner is found as a trailing repeat of ``a`` or
    ``b`` (so names may hold spaces, hyphens and dots); no winner, or a trailing ``draw`` / ``tie``, is a tie.
    Only ``" vs "`` (case-insensitive, first occurrence) separates the two models.

    Raises:
        ValueError: no ``" vs "``, an empty model name, a model playing itself, or a winner naming neither.
    """
    m = re.search(r"\s+vs\.?\s+", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"outcome {text!r} is not '<model_a> vs <model_b> <winner> wins'")
    a, rest = text[: m.start()].strip(), text[m.end():].strip()
    if not a or not rest:
        raise ValueError(f"outcome {text!r} names no model on one side of 'vs'")
    won = _WINS.search(rest)
    if won is None:
        b = _strip_tie(rest)
        return _checked(text, a, b, "tie")
    core = rest[: won.start()].strip()
    if core.endswith(" " + a):
        return _checked(text, a, core[: -len(a)].strip(), "first")
    for i, ch in enumerate(core):  # "<b> <b>": the split whose two halves are equal
        if ch == " " and core[:i].strip() == core[i + 1:].strip():
            return _checked(text, a, core[:i].strip(), "second")
    raise ValueError(f"outcome {text!r}: the winner names neither {a!r} nor the other model")


def _strip_tie(s: str) -> str:
    low = s.lower()
    for w in _TIE_WORDS:
        if low.endswith(" " + w):
            return s[: -len(w) - 1].strip()
    return s


def _checked(text: str, a: str, b: str, outcome: str) -> tuple[str, str, str]:
    if not b:
        raise ValueError(f"outcome {text!r} names no second model")
    if a == b:
        raise ValueError(f"outcome {text!r}: model {a!r} plays itself")
    return a, b, outcome


def read_battles(path: PathLike) -> list[Battle]:
    """Battles of one ``gang_<Category>_record.json`` (category = the ``<Category>`` of the file name).

    Raises:
        SchemaError: not a JSON object of ``uniq_id → list of strings``, or an unreadable outcome (naming
            the file and ``uniq_id[index]`` as the field).
    """
    file = os.fspath(path)
    p = Path(os.path.expanduser(file))
    if not p.is_file():
        raise SchemaError("battle record file does not exist", file=file)
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, and a number past Python's digit cap
        raise SchemaError(f"not readable as JSON: {e}", file=file) from e
    if not isinstance(data, Mapping):
        raise SchemaError(f"expected a JSON object uniq_id → [outcome, ...], got {type(data).__name__}", file=file)
    m = re.match(r"gang_(.+?)_record$", p.stem)
    category = m.group(1) if m else p.stem
    out = []
    for uid, outcomes in data.items():
        if not isinstance(outcomes, list):
            raise SchemaError(f"expected a list of outcome strings, got {type(outcomes).__name__}", file=file,
                              field=str(uid))
        for i, text in enumerate(outcomes):
            if not isinstance(text, str):
                raise SchemaError(f"expected an outcome string, got {text!r}"[:200], file=file, field=f"{uid}[{i}]")
            try:
                a, b, outcome = parse_outcome(text)
            except ValueError as e:
                raise SchemaError(str(e), file=file, field=f"{uid}[{i}]") from e
            out.append(Battle(str(uid), a, b, outcome, category, file, i))
    return out


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def match_models(names: Sequence[str], files: Sequence[Path], given: Mapping[str, PathLike] | None = None,
                 ) -> dict[str, Path]:
    """Battle model names → their answer files.

    ``given`` wins; otherwise a name matches the file whose stem or folder, reduced to lower-case letters
    and digits, equals it, is a prefix of it or holds it (``gemini15`` ↔ ``gemini``, ``nextgpt`` ↔
    ``nextgpt_output``); the longest such key wins, and a name two files match equally is left out.
    """
    out = {n: Path(os.fspath(p)) for n, p in (given or {}).items()}
    for name in names:
        if name in out:
            continue
        key = _norm(name)
        scored: list[tuple[int, Path]] = []
        for f in files:
            for cand in {_norm(f.stem), _norm(f.parent.name)}:
                if cand and (cand == key or key.startswith(cand) or cand.startswith(key)):
                    scored.append((len(cand) + (100 if cand == key else 0), f))
        if scored:
            scored.sort(key=lambda t: -t[0])
            if len(scored) == 1 or scored[0][0] > scored[1][0] or scored[0][1] == scored[1][1]:
                out[name] = scored[0][1]
    return out


def read_answers(path: Path) -> dict[str, tuple[str, tuple[MediaRef, ...]]]:
    """One model's answers: uniq_id → (text, media). ``answer`` is a dict or a list of dicts ``{type,
    content}``; text parts are joined with newlines; media parts become :class:`MediaRef` s of their type,
    paths relative to the file's folder.

    Raises:
        SchemaError: a row without ``uniq_id`` / ``answer``, or an answer part of another shape.
    """
    out: dict[str, tuple[str, tuple[MediaRef, ...]]] = {}
    folder = path.parent
    for rec in read_records(path, what="arena answer file"):
        uid = rec.require_str("uniq_id")
        answer = rec.require("answer")
        parts = answer if isinstance(answer, list) else [answer]
        texts: list[str] = []
        media: list[MediaRef] = []
        for i, part in enumerate(parts):
            _answer_part(rec, f"answer[{i}]" if isinstance(answer, list) else "answer", part, folder, texts, media)
        out[uid] = ("\n".join(texts), tuple(media))
    return out


def _answer_part(rec: Record, name: str, part: Any, folder: Path, texts: list[str], media: list[MediaRef]) -> None:
    if isinstance(part, str):
        texts.append(part)
        return
    sub = rec.child(name, part)
    kind = sub.require_text("type").strip().lower()
    content = sub.require("content")
    values = content if isinstance(content, list) else [content]
    if not all(isinstance(v, str) for v in values):
        raise sub.error("expected a string or a list of strings", "content")
    if kind == "text":
        texts.extend(v for v in values if v)
    elif kind in ("image", "audio", "video"):
        media.extend(MediaRef(kind, path=os.fspath(folder / v)) for v in values if v)
    else:
        raise sub.error(f"unknown answer type {kind!r}; expected text, image, audio or video", "type")


class OmniArenaDataset:
    """The OmniArena battles as pair items with the human outcome as label (``conf/benchmark/omniarena.yaml``).

    Args:
        root: the Judge Anything release folder or ``hf://pudashi/JudgeAnything``.
        records: battle record file(s) or glob, relative to ``root``.
        task_anything: TaskAnything.json relative to ``root`` (the queries).
        query_dir: folder of the query media under ``root``.
        models: battle model name → answer file (relative to ``root``), overriding :func:`match_models`.
        limit: keep the first N battles.

    Raises:
        ValueError: ``limit`` below 1.
    """

    name = "omniarena"

    def __init__(self, root: PathLike, records: str | Sequence[str] = RECORDS,
                 task_anything: str = "X2XRawBenchmark/TaskAnything.json", query_dir: str = "X2XRawBenchmark",
                 models: Mapping[str, str] | None = None, limit: int | None = None) -> None:
        if limit is not None and int(limit) < 1:
            raise ValueError(f"omniarena: limit must be at least 1 (or null for all), got {limit}")
        self.root, self.records, self.task_anything = root, records, task_anything
        self.query_dir, self.models, self.limit = query_dir, dict(models or {}), limit

    def load(self, setting: str) -> BenchmarkData:
        """Battles → :class:`PairItem` s (id ``<uniq_id>::<a>_vs_<b>``, ``#<k>`` on a repeated battle) with
        one human label each (annotator ``arena``).

        Raises:
            ValueError: a setting other than ``pair``.
            SchemaError: bad battle, query or answer rows; a battle naming an unknown uniq_id.
            ReleaseNotFound: the release or a file of it is missing.
        """
        if setting != "pair":
            raise ValueError(f"omniarena: battles are pair comparisons; use setting=pair, not {setting!r}")
        recs = [self.records] if isinstance(self.records, str) else list(self.records)
        base = resolve_root(self.root, [*recs, self.task_anything, "Arena/*/*.json"], what="OmniArena")
        battles = [b for f in expand_files(recs, base=base, what="omniarena records") for b in read_battles(f)]
        queries = _queries(base / self.task_anything, self.query_dir)
        answer_files = [p for p in sorted((base / "Arena").glob("*/*.json")) if p.parent.name != "arenaresult"]
        names = sorted({m for b in battles for m in (b.model_a, b.model_b)})
        files = match_models(names, answer_files, {k: base / v for k, v in self.models.items()})
        answers = {n: read_answers(p) for n, p in files.items()}
        items, labels, skipped = _battle_items(battles, queries, answers)
        if self.limit is not None:
            items = items[: int(self.limit)]
            keep = {i.item_id for i in items}
            labels = [lab for lab in labels if lab.item_id in keep]
        notes = [f"{len(battles)} battles from {len(recs)} record pattern(s); {len(items)} pair items",
                 "answer files: " + ", ".join(f"{n} → {p.relative_to(base)}" for n, p in sorted(files.items()))]
        notes += [f"{n} battles skipped ({why})" for why, n in sorted(skipped.items())]
        return BenchmarkData(self.name, setting, list[Item](items), labels, data_root=base, notes=notes)


def _queries(path: Path, query_dir: str) -> dict[str, Query]:
    from judgeanything.datasets.judgeanything import _query_from

    return {q.uniq_id: q for q in (_query_from(rec, query_dir) for rec in read_records(path, what="TaskAnything.json"))}


def battle_item_ids(battles: Sequence[Battle]) -> list[str]:
    """The pair item id of each battle, as :class:`OmniArenaDataset` gives it: ``<uniq_id>::<a>_vs_<b>``, with
    ``#<k>`` on the k-th repeat of the same battle (so a judge run on the battles and the battle records
    name the same items, for paired statistics)."""
    seen: Counter[str] = Counter()
    out = []
    for b in battles:
        base = f"{b.uniq_id}::{b.model_a}_vs_{b.model_b}"
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return out


def _battle_items(battles: Sequence[Battle], queries: Mapping[str, Query],
                  answers: Mapping[str, Mapping[str, tuple[str, tuple[MediaRef, ...]]]],
                  ) -> tuple[list[Item], list[HumanLabel], Counter[str]]:
    items: list[Item] = []
    labels: list[HumanLabel] = []
    skipped: Counter[str] = Counter()
    for b, item_id in zip(battles, battle_item_ids(battles), strict=True):
        q = queries.get(b.uniq_id)
        if q is None:
            raise SchemaError(f"unknown uniq_id {b.uniq_id!r} (not in TaskAnything.json)", file=b.file,
                              field=f"{b.uniq_id}[{b.index}]")
        got = [answers.get(m, {}).get(b.uniq_id) for m in (b.model_a, b.model_b)]
        if any(g is None for g in got):
            missing = [m for m, g in zip((b.model_a, b.model_b), got, strict=True) if g is None]
            skipped[f"no answer of {', '.join(missing)}"] += 1
            continue
        ra, rb = (Response(f"{item_id}::{s}", b.uniq_id, m, q.task.output, text=g[0], media=g[1])
                  for s, m, g in zip("AB", (b.model_a, b.model_b), got, strict=True) if g is not None)
        items.append(PairItem(item_id, q, ra, rb, meta={"category": b.category, "battle": f"{b.file}:{b.index}"}))
        labels.append(HumanLabel(item_id, OVERALL, b.outcome, "arena"))
    return items, labels, skipped
