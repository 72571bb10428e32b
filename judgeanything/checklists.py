"""Writing per-query checklists with any model judge (Judge Anything §3.3), in the release's formats.

For every query: the checklist prompt (:func:`judgeanything.prompts.build_checklist_prompt`, versioned in
``conf/prompts/<version>/checklist_generate.j2``) with the query's media, sent to the judge like a judging
request (same media encoders, capability checks and retry policy as a run); the JSON answer is read into
per-rubric items that are short (≤ ``max_words`` words), deduplicated (case and punctuation insensitive,
within the query across rubrics) and capped (``max_items`` per rubric). Unusable output is a failure
recorded with its raw text, never a checklist.

Every query's result is appended (and fsync'ed) to ``generation.jsonl`` with the judge's fingerprint and
the prompt version, so a rerun resumes where it stopped and the files say which judge wrote each list.
The release formats are written from that log: per-task ``<Task>.json`` (rows ``{uniq_id, checklists:
[{checklist, rubric}], generated_by}``) or one ``checklist.json`` (rows ``{uniq_id, rubric, checklists:
[str], generated_by}``); both read back with ``benchmark.checklist=<folder or file>``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.judges.capabilities import UnsupportedModality, adapt_parts
from judgeanything.modalities.base import Encoded, MediaError
from judgeanything.modalities.cache import MediaCache
from judgeanything.parsing import is_token_limit
from judgeanything.prompts._checklist import build_checklist_prompt
from judgeanything.prompts._templates import PROMPT_VERSION
from judgeanything.redaction import redact_values
from judgeanything.retry import RetryPolicy, judge_with_retries
from judgeanything.schema import RUBRICS, Query, Response, ScoreItem, TextPart

LOG = "generation.jsonl"
_BULLET = re.compile(r"^\s*(?:[-*•]+|\(?\d+[.)]|\(?[a-zA-Z][.)])\s+")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class ChecklistOptions:
    """What to write: ``rubrics``, at most ``max_items`` points of at most ``max_words`` words each."""

    rubrics: tuple[str, ...] = RUBRICS
    max_items: int = 5
    max_words: int = 25
    prompt_version: str = PROMPT_VERSION
    batch_size: int | None = None
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if self.max_items < 1 or self.max_words < 3:
            raise ValueError(f"checklists: max_items must be ≥ 1 and max_words ≥ 3, got {self.max_items}, "
                             f"{self.max_words}")


class ChecklistParseError(ValueError):
    """A judge's answer holds no usable checklist (the message says why)."""


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def clean_items(items: Sequence[object], *, max_items: int, max_words: int, seen: set[str]) -> list[str]:
    """Checklist points as written → kept points: bullets/numbering and surrounding space removed, empty,
    non-string and over-long (> ``max_words`` words) points dropped, repeats of ``seen`` (updated) dropped,
    at most ``max_items`` kept in order."""
    out: list[str] = []
    for x in items:
        if not isinstance(x, str):
            continue
        text = " ".join(_BULLET.sub("", x).split())
        k = _key(text)
        if not k or len(text.split()) > max_words or k in seen:
            continue
        seen.add(k)
        out.append(text)
        if len(out) == max_items:
            break
    return out


def _json_object(raw: str) -> Any:
    fenced = _FENCE.search(raw)
    text = fenced.group(1) if fenced else raw
    start = text.find("{")
    if start < 0:
        raise ChecklistParseError("no JSON object in the answer")
    try:
        obj, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as e:
        raise ChecklistParseError(f"the JSON object is not valid ({e.msg} at column {e.colno})") from e
    return obj


def parse_checklists(raw: str, rubrics: Sequence[str], *, max_items: int, max_words: int) -> dict[str, tuple[str, ...]]:
    """A judge's answer ``{"<rubric>": ["point", ...], ...}`` → rubric → cleaned points (:func:`clean_items`;
    rubric keys matched without regard to case; points deduplicated across the query's rubrics).

    Raises:
        ChecklistParseError: no JSON object, not an object, or no rubric with a usable point.
    """
    obj = _json_object(raw)
    if not isinstance(obj, Mapping):
        raise ChecklistParseError(f"expected a JSON object of rubric → list of points, got {type(obj).__name__}")
    by_lower = {str(k).strip().lower(): v for k, v in obj.items()}
    seen: set[str] = set()
    out: dict[str, tuple[str, ...]] = {}
    for r in rubrics:
        v = by_lower.get(r)
        items = v if isinstance(v, list) else [v] if isinstance(v, str) else []
        kept = clean_items(items, max_items=max_items, max_words=max_words, seen=seen)
        if kept:
            out[r] = tuple(kept)
    if not out:
        raise ChecklistParseError(f"no usable checklist point for any of {', '.join(rubrics)}")
    return out


@dataclass
class QueryChecklist:
    """One query's result: ``checklists`` (rubric → points) or ``failure`` (``{kind, detail}``)."""

    uniq_id: str
    task_name: str
    checklists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    failure: dict[str, str] | None = None
    raw: str = ""
    model: str = ""

    def to_record(self, judge: Mapping[str, Any], prompt_version: str) -> dict[str, Any]:
        rec: dict[str, Any] = {"uniq_id": self.uniq_id, "task_name": self.task_name, "judge": dict(judge),
                               "model": self.model, "prompt_version": prompt_version, "raw": self.raw}
        if self.failure:
            rec["failure"] = self.failure
        else:
            rec["checklists"] = {r: list(v) for r, v in self.checklists.items()}
        return rec


class ChecklistWriter:
    """Writes checklists for queries with one judge into ``out_dir`` (resumable; see the module docstring).

    Args:
        judge: any judge that answers in text (``openai``, ``gemini``, ``hf`` in generate mode).
        out_dir: where ``generation.jsonl`` and the release files go.
        media_root: the folder the queries' media paths are relative to.
        media_options: per-modality encoder options, as in a run.
    """

    def __init__(self, judge: Judge, out_dir: Path, options: ChecklistOptions, *, media_root: Path | None,
                 media_options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.judge, self.out_dir, self.opt = judge, Path(out_dir), options
        self.cache = MediaCache(media_root, media_options or {})
        self.identity = {**judge.fingerprint(), "rubrics": list(options.rubrics), "max_items": options.max_items,
                         "max_words": options.max_words}

    @property
    def prompt_version(self) -> str:
        return f"{self.opt.prompt_version}/checklist_generate"

    def done(self) -> dict[str, dict[str, Any]]:
        """Queries already written by this judge and these options (failures excluded: they are retried)."""
        path = self.out_dir / LOG
        out: dict[str, dict[str, Any]] = {}
        if not path.exists():
            return out
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line) if line.strip() else None
            if rec and rec.get("judge") == self.identity and rec.get("prompt_version") == self.prompt_version:
                if "failure" in rec:
                    out.pop(rec["uniq_id"], None)
                else:
                    out[rec["uniq_id"]] = rec
        return out

    def run(self, queries: Sequence[Query]) -> list[dict[str, Any]]:
        """Write checklists for the ``queries`` not done yet; returns every successful record of this judge
        (earlier and new), in query order."""
        return asyncio.run(self.arun(queries))

    async def arun(self, queries: Sequence[Query]) -> list[dict[str, Any]]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        done = self.done()
        todo = [q for q in queries if q.uniq_id not in done]
        policy = RetryPolicy.for_judge(self.judge)
        bs = max(1, int(self.opt.batch_size or self.judge.batch_size))
        sem = asyncio.Semaphore(max(1, int(self.opt.concurrency or self.judge.concurrency)))

        async def one_batch(batch: Sequence[Query]) -> None:
            async with sem:
                prepared = [self._request(q) for q in batch]
                reqs = [p for p in prepared if isinstance(p, JudgeRequest)]
                results = iter(await judge_with_retries(self.judge, reqs, policy) if reqs else [])
                for q, p in zip(batch, prepared, strict=True):
                    res = self._read(q, next(results)) if isinstance(p, JudgeRequest) else p
                    rec = res.to_record(self.identity, self.prompt_version)
                    self._append(rec)
                    if res.failure is None:
                        done[q.uniq_id] = rec

        await asyncio.gather(*(one_batch(todo[i: i + bs]) for i in range(0, len(todo), bs)))
        return [done[q.uniq_id] for q in queries if q.uniq_id in done]

    def _request(self, q: Query) -> JudgeRequest | QueryChecklist:
        prompt = build_checklist_prompt(q, self.opt.rubrics, max_items=self.opt.max_items,
                                        max_words=self.opt.max_words, version=self.opt.prompt_version)
        # The judge interface carries an item; a checklist is written before any response exists, so the
        # item holds the query and an empty placeholder response that no template shows.
        key = f"checklist::{q.uniq_id}"
        item = ScoreItem(key, q, Response(key, q.uniq_id, "", q.task.output))
        req = JudgeRequest(key=key, item=item, prompt=prompt)
        if not self.judge.needs_media:
            return req
        try:
            parts: list[TextPart | Encoded] = []
            for p in prompt.parts:  # every part a media item encodes to (e.g. an artifact's frames and code)
                parts.extend((p,) if isinstance(p, TextPart) else self.cache.encode_parts(p.ref, p.role))
            req.parts, req.meta["downgrades"] = adapt_parts(parts, self.judge.capabilities,
                                                            getattr(self.judge, "downgrades", None),
                                                            judge=self.judge.name)
        except MediaError as e:
            return QueryChecklist(q.uniq_id, q.task_name, failure={"kind": "media_error", "detail": str(e)})
        except UnsupportedModality as e:
            f = e.to_failure()
            return QueryChecklist(q.uniq_id, q.task_name, failure={"kind": f.kind, "detail": f.detail})
        return req

    def _read(self, q: Query, res: JudgeResult) -> QueryChecklist:
        out = QueryChecklist(q.uniq_id, q.task_name, raw=res.raw, model=res.model)
        if res.failure is not None:
            out.failure = {"kind": res.failure.kind, "detail": res.failure.detail}
        elif is_token_limit(res.finish_reason):
            out.failure = {"kind": "truncated", "detail": "the answer was cut off at the token limit"}
        elif not res.raw.strip():
            what = "structured verdicts only (a baseline or replay judge)" if res.outcomes else "an empty answer"
            out.failure = {"kind": "parse_fail", "detail": f"the judge gave {what}: no checklist text"}
        else:
            try:
                out.checklists = parse_checklists(res.raw, self.opt.rubrics, max_items=self.opt.max_items,
                                                  max_words=self.opt.max_words)
            except ChecklistParseError as e:
                out.failure = {"kind": "parse_fail", "detail": str(e)}
        return out

    def _append(self, rec: Mapping[str, Any]) -> None:
        with open(self.out_dir / LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(redact_values(rec), ensure_ascii=False) + "\n")  # raw answers may echo a key
            f.flush()
            os.fsync(f.fileno())


def write_release(records: Sequence[Mapping[str, Any]], out_dir: Path, layout: str = "per_task") -> list[Path]:
    """The release's checklist files from generation records.

    Args:
        layout: ``per_task`` → ``<Task>.json`` files, rows ``{uniq_id, checklists: [{checklist, rubric}],
            generated_by}``; ``single`` → ``checklist.json``, rows ``{uniq_id, rubric, checklists: [str],
            generated_by}``. ``generated_by`` = ``{judge, model, prompt_version}``.

    Raises:
        ValueError: an unknown layout.
    """
    if layout not in ("per_task", "single"):
        raise ValueError(f"checklists: unknown layout {layout!r}; expected per_task or single")
    per_task: dict[str, list[dict[str, Any]]] = {}
    single: list[dict[str, Any]] = []
    for rec in records:
        by = {"judge": rec["judge"], "model": rec.get("model", ""), "prompt_version": rec["prompt_version"]}
        lists = rec["checklists"]
        per_task.setdefault(rec["task_name"], []).append(
            {"uniq_id": rec["uniq_id"], "checklists": [{"checklist": p, "rubric": r} for r, ps in lists.items()
                                                       for p in ps], "generated_by": by})
        single.extend({"uniq_id": rec["uniq_id"], "rubric": r, "checklists": ps, "generated_by": by}
                      for r, ps in lists.items())
    files = {f"{t}.json": rows for t, rows in per_task.items()} if layout == "per_task" else {"checklist.json": single}
    out = []
    for name, rows in sorted(files.items()):
        p = out_dir / name
        tmp = p.with_suffix(".json.tmp")
        # generated text is model output: a credential it echoes is masked like in any run log
        tmp.write_text(json.dumps(redact_values(rows), indent=1, ensure_ascii=False), encoding="utf-8")
        tmp.replace(p)
        out.append(p)
    return out
