"""The runner: dataset → prompts → media → judge → parser → run log → analysis (DESIGN §1, §6).

Async with bounded concurrency; every finished unit is appended to the run log before the next is
counted, so a killed run resumes without redoing or losing work. A unit is one item × presentation
order × repeat; its key hashes the item id, setting, mode, rubrics, order, repeat, the judge's
fingerprint (model, sampling) and the prompt version.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import logging
import platform
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.judges.capabilities import UnsupportedModality, adapt_parts
from judgeanything.modalities.base import Encoded, MediaError
from judgeanything.modalities.cache import MediaCache
from judgeanything.modalities.limits import MediaLimits
from judgeanything.parsing import STRATEGIES, parse_output
from judgeanything.prompts import PROMPT_VERSION, PromptError, build_prompt
from judgeanything.ratecontrol import AdaptiveWindow, RateConfigError, RateLimits, RateOptions
from judgeanything.redaction import redact_config
from judgeanything.retry import RetryPolicy, RetryStats, judge_with_retries
from judgeanything.schema import (
    DEFAULT_SCORE_SCALE,
    FAILURE_KINDS,
    BatchItem,
    Failure,
    Item,
    Outcome,
    PairItem,
    Response,
    ScoreScale,
    TaskType,
    TextPart,
    Verdict,
    item_content_hash,
    item_seed,
    item_to_dict,
    stable_hash,
    swap_choice,
)
from judgeanything.store import (
    ITEMS,
    LABELS,
    RUN,
    VERDICTS,
    GroupSync,
    RunDirLock,
    RunLog,
    StoreError,
    cap_text,
    check_usage,
    write_jsonl,
)

log = logging.getLogger(__name__)

#: The run directory's saved media measurements (see ``Runner._write_items_and_labels``).
MEASURES = "media_measures.json"


class RunConfigError(ValueError):
    """The run cannot start as configured (names the option)."""


# --------------------------------------------------------------------------------------------------
# Presentation orders
# --------------------------------------------------------------------------------------------------


def williams_rows(n: int) -> list[tuple[int, ...]]:
    """The first ``n`` rows of a Williams (balanced Latin) square on ``n`` slots: each response appears
    once in every position, and for even ``n`` each ordered neighbour pair once (Williams, 1949)."""
    first = [0]
    lo, hi = 1, n - 1
    for k in range(1, n):
        if k % 2:
            first.append(lo)
            lo += 1
        else:
            first.append(hi)
            hi -= 1
    return [tuple((x + r) % n for x in first) for r in range(n)]


def presentation_orders(item: Item, *, pair_order: str = "fixed", batch_permutations: str = "none",
                        n_permutations: int | None = None, seed: int = 0) -> list[tuple[int, ...]]:
    """The presentation orders to judge an item in (``order[k]`` = dataset slot shown at position k).

    Pair: ``fixed`` (dataset order), ``random`` (one order drawn per item from a seed derived from its
    id — alpaca_eval's seeded switching), ``both`` (both orders, for position-bias analysis).
    Batch: ``none``, ``cyclic`` (N cyclic shifts), ``latin`` (Williams square rows), ``random``
    (``n_permutations`` seeded shuffles).

    Raises:
        RunConfigError: an unknown policy, or ``n_permutations`` < 1.
    """
    if n_permutations is not None and int(n_permutations) < 1:
        # 0 gave no order at all for `cyclic` (the item was silently never judged), a negative count
        # sliced rows off the end for `latin`
        raise RunConfigError(f"setting.n_permutations={n_permutations}: must be at least 1 (or null)")
    n = len(item.responses)
    ident = tuple(range(n))
    if item.setting == "score":
        return [ident]
    if item.setting == "pair":
        if pair_order == "fixed":
            return [ident]
        if pair_order == "both":
            return [(0, 1), (1, 0)]
        if pair_order == "random":
            return [(1, 0)] if item_seed(item.item_id, "order", seed) % 2 else [(0, 1)]
        raise RunConfigError(f"setting.order={pair_order!r}: expected fixed, random or both")
    k = n if n_permutations is None else int(n_permutations)
    if batch_permutations == "none":
        return [ident]
    if batch_permutations == "cyclic":
        return [tuple((i + s) % n for i in range(n)) for s in range(min(k, n))]
    if batch_permutations == "latin":
        return williams_rows(n)[: min(k, n)]
    if batch_permutations == "random":
        rng = np.random.default_rng(item_seed(item.item_id, "perm", seed))
        return [tuple(int(x) for x in rng.permutation(n)) for _ in range(max(1, n_permutations or 1))]
    raise RunConfigError(f"setting.permutations={batch_permutations!r}: expected none, cyclic, latin or random")


def present(item: Item, order: Sequence[int]) -> Item:
    """The item with its responses in presentation order."""
    if isinstance(item, PairItem):
        rs = item.responses
        return replace(item, response_a=rs[order[0]], response_b=rs[order[1]])
    if isinstance(item, BatchItem):
        return replace(item, responses=tuple(item.responses[i] for i in order))
    return item


def to_dataset_orientation(o: Outcome, order: Sequence[int]) -> Outcome:
    """Map a verdict given on the presented item back to the dataset's response slots."""
    if isinstance(o, Failure):
        return o
    value: Any = o.value
    probs = o.probs
    if isinstance(value, str) and tuple(order) == (1, 0):
        value = swap_choice(value)
        if probs is not None:
            probs = {swap_choice(k) if k in ("first", "second") else k: p for k, p in probs.items()}
    elif isinstance(value, tuple):
        value = tuple(order[s] if s < len(order) else s for s in value)
    return Verdict(o.rubric, value, o.comment, probs, o.expected, o.parsed_by)


# --------------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One judging unit: an item in one presentation order, one repeat."""

    key: str
    item: Item
    order: tuple[int, ...]
    repeat: int
    attempt: int = 0
    content: str = ""  # item_content_hash(item), recorded with the verdict


def plan_units(items: Sequence[Item], *, mode: str, rubrics: Sequence[str], judge_fp: Mapping[str, Any],
               prompt_version: str, repeats: int = 1, pair_order: str = "fixed",
               batch_permutations: str = "none", n_permutations: int | None = None,
               seed: int = 0) -> list[Unit]:
    """All units of a run, in a stable order (item, then order, then repeat).

    A unit's key hashes the item's content (instruction, responses, media references — so a dataset edited
    under the same item id is judged again, not resumed), the setting, mode, rubrics, order, repeat, the
    judge's fingerprint and the prompt version. Media bytes are not hashed here (that would read every file
    before the first verdict); the decoded media's SHA-256 is recorded per verdict in ``media``.
    """
    units = []
    for item in items:
        content = item_content_hash(item)
        for order in presentation_orders(item, pair_order=pair_order, batch_permutations=batch_permutations,
                                         n_permutations=n_permutations, seed=seed):
            for rep in range(repeats):
                key = stable_hash(item.item_id, content, item.setting, mode, list(rubrics), list(order), rep,
                                  dict(judge_fp), prompt_version, n=24)
                units.append(Unit(key, item, order, rep, content=content))
    return units


# --------------------------------------------------------------------------------------------------
# Item features
# --------------------------------------------------------------------------------------------------


def response_sizes(resp: Response, cache: MediaCache) -> dict[str, float]:
    """Size features of one response (for verbosity/size bias and the ``longer`` baseline).

    Text: ``chars``, ``words``. Media: the encoder's ``measure`` of each media ref (seconds for
    ``duration_s``; pixels for images) with ``count`` = number of refs; {} where nothing is measurable.
    """
    if resp.text is not None:
        return {"chars": float(len(resp.text)), "words": float(len(resp.text.split()))}
    out: dict[str, float] = {}
    for ref in resp.media:
        m = cache.measure(ref)
        for k, v in m.items():
            out[k] = out.get(k, 0.0) + float(v) if k in ("duration_s", "count") else float(v)
    if resp.media and out:
        out.setdefault("count", float(len(resp.media)))
    return out


def item_record(item: Item, cache: MediaCache) -> dict[str, Any]:
    """The ``items.jsonl`` line of an item (see :mod:`judgeanything.store`)."""
    d = item_to_dict(item)
    d["content"] = item_content_hash(item)
    task = TaskType.parse(item.query.task_name)
    d["input_modalities"] = list(task.non_text_inputs) or ["text"]
    d["output_modality"] = task.output
    d["family"] = task.family
    d["sizes"] = [response_sizes(r, cache) for r in item.responses]
    return d


# --------------------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------------------


#: The project's one redaction (see :mod:`judgeanything.redaction`), kept under its old name here.
redact = redact_config


@dataclass
class RunOptions:
    """How to run (the ``run`` and ``setting`` config sections)."""

    mode: str = "overall"
    rubrics: tuple[str, ...] = ("overall",)
    prompt_version: str = PROMPT_VERSION
    repeats: int = 1
    pair_order: str = "fixed"
    batch_permutations: str = "none"
    n_permutations: int | None = None
    seed: int = 0
    limit: int | None = None
    batch_size: int | None = None
    concurrency: int | None = None
    progress: bool = True
    overwrite: bool = False
    retry_failures: tuple[str, ...] = ("api_error",)
    parse: str = "auto"  # judge.parse: the parsing strategy for judges that return text (parsing.STRATEGIES)
    max_raw_chars: int | None = 100_000  # run.max_raw_chars: the raw output stored per record (store.cap_text)
    scale: ScoreScale = DEFAULT_SCORE_SCALE  # setting.scale: the score scale the judge is asked for
    rate: RateOptions | Mapping[str, Any] = field(default_factory=RateOptions)  # run.rate (ratecontrol.py)

    def __post_init__(self) -> None:
        if self.max_raw_chars is not None and (isinstance(self.max_raw_chars, bool) or int(self.max_raw_chars) < 200):
            raise RunConfigError(f"run.max_raw_chars={self.max_raw_chars!r}: must be at least 200 (or null: no cap)")
        if not isinstance(self.rate, RateOptions):
            try:
                self.rate = RateOptions(**dict(self.rate))
            except (TypeError, RateConfigError) as e:
                raise RunConfigError(f"run.rate: {e}") from e
        if self.parse not in STRATEGIES:
            raise RunConfigError(f"judge.parse={self.parse!r}: expected one of {', '.join(STRATEGIES)}")
        if self.limit is not None and int(self.limit) < 1:
            raise RunConfigError(f"run.limit={self.limit}: must be at least 1 (or null for all items)")
        if int(self.repeats) < 1:
            raise RunConfigError(f"run.repeats={self.repeats}: must be at least 1")
        if self.n_permutations is not None and int(self.n_permutations) < 1:
            raise RunConfigError(f"setting.n_permutations={self.n_permutations}: must be at least 1 (or null)")
        bad = [k for k in self.retry_failures if k not in FAILURE_KINDS]
        if bad:
            raise RunConfigError(f"run.retry_failures: unknown failure kind {bad[0]!r} (known: "
                                 f"{', '.join(FAILURE_KINDS)})")


class Runner:
    """Judges every pending unit of a benchmark with one judge, into one run directory.

    Args:
        data: the benchmark (items, labels, recorded verdicts).
        judge: the judge backend.
        run_dir: where the run log and results go (created; reused to resume).
        options: run options.
        media_options: per-modality encoder options (``{"video": {"num_frames": 8}, …}``).
        identity: what must match for a run directory to be resumed (benchmark, setting, judge…).
        config: the resolved config to record in ``run.json`` (secrets are redacted).
    """

    def __init__(self, data: BenchmarkData, judge: Judge, run_dir: Path, options: RunOptions,
                 media_options: Mapping[str, Mapping[str, Any]] | None = None,
                 identity: Mapping[str, Any] | None = None, config: Mapping[str, Any] | None = None,
                 notes: Sequence[str] = ()) -> None:
        self.data, self.judge, self.run_dir, self.opt = data, judge, Path(run_dir), options
        media = dict(media_options or {})
        try:
            limits = MediaLimits.from_config(media.pop("limits", None))
        except ValueError as e:
            raise RunConfigError(str(e)) from e
        self.cache = MediaCache(data.data_root, media, limits=limits)
        self.identity = dict(identity or {})
        self.config = dict(config or {})
        self.judge_notes = list(judge.notes())
        self.notes = self.judge_notes + list(data.notes) + list(notes)
        if data.setting not in judge.settings:
            raise JudgeConfigError(f"judge {judge.name!r} does not support setting {data.setting!r} "
                                   f"(it supports: {', '.join(sorted(judge.settings))})")
        self.items = list(data.items)[: options.limit] if options.limit else list(data.items)
        dup = next((i for i, c in Counter(it.item_id for it in self.items).items() if c > 1), None)
        if dup is not None:
            raise RunConfigError(f"benchmark {data.name!r} has duplicate item id {dup!r}")
        self.counts = {"judged": 0, "skipped": 0, "retried": 0, "failures": 0}
        self.requests = RetryStats()
        self.window = AdaptiveWindow(1)

    # -- run directory ------------------------------------------------------------------------------

    def _check_identity(self) -> None:
        run_json = self.run_dir / RUN
        if not run_json.exists() or self.opt.overwrite:
            return
        try:
            old = json.loads(run_json.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise StoreError(f"{run_json}: not valid JSON ({e}); it cannot say which run this directory holds "
                             "— choose another hydra.run.dir, or pass run.overwrite=true") from e
        old = old.get("identity", {}) if isinstance(old, dict) else None
        if not isinstance(old, dict):
            raise StoreError(f"{run_json}: not a run description (expected a JSON object with 'identity')")
        mine = redact_config(self.identity)  # as run.json holds it
        if old and old != mine:
            diff = sorted(k for k in set(old) | set(mine) if old.get(k) != mine.get(k))
            raise RunConfigError(
                f"run directory {self.run_dir} holds a different run (differs in: {', '.join(diff)}); "
                "choose another hydra.run.dir, or pass run.overwrite=true to start it afresh")

    def _write_run_json(self, **extra: Any) -> None:
        import importlib.metadata as md

        def ver(p: str) -> str | None:
            try:
                return md.version(p)
            except md.PackageNotFoundError:
                return None

        info = {
            "benchmark": self.data.name,
            "setting": self.data.setting,
            "mode": self.opt.mode,
            "rubrics": list(self.opt.rubrics),
            "judge": self.judge.name,
            "judge_kind": self.judge.kind,
            "judge_fingerprint": self.judge.fingerprint(),
            "prompt_version": self.opt.prompt_version,
            # the judge's score scale and the human labels' (the analysis maps the first onto the second)
            "score_scale": self.opt.scale.to_dict(),
            "label_scale": self.data.label_scale.to_dict(),
            "data_root": str(self.data.data_root) if self.data.data_root else None,
            "n_items": len(self.items),
            "identity": self.identity,
            "notes": self.notes,
            "judge_notes": self.judge_notes,
            "config": self.config,
            "versions": {"python": platform.python_version(),
                         **{p: ver(p) for p in ("judgeanything", "torch", "transformers", "openai")}},
            **extra,
        }
        tmp = self.run_dir / (RUN + ".tmp")
        tmp.write_text(json.dumps(redact_config(info), indent=2, ensure_ascii=False, default=str))
        tmp.replace(self.run_dir / RUN)

    def _write_items_and_labels(self) -> dict[str, list[dict[str, float]]]:
        """Write items.jsonl and labels.jsonl; returns each item's response sizes (dataset order).

        Media are measured in a few threads (probing a video or audio file waits on a subprocess), and the
        measurements are kept in ``media_measures.json`` (by file path, size and mtime), so a rerun of the
        run measures only the files that changed."""
        saved = self.run_dir / MEASURES
        self.cache.load_measures(saved)
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="measure") as pool:
            records = list(pool.map(lambda it: item_record(it, self.cache), self.items))
        self.cache.save_measures(saved)
        write_jsonl(self.run_dir / ITEMS, records)
        keep = {it.item_id for it in self.items}
        write_jsonl(self.run_dir / LABELS, (lab.to_dict() for lab in self.data.labels if lab.item_id in keep))
        return {rec["item_id"]: rec["sizes"] for rec in records}

    # -- one unit -------------------------------------------------------------------------------------

    def _prepare(self, unit: Unit, sizes: Sequence[Mapping[str, float]]) -> JudgeRequest | dict[str, Any]:
        """Build the request of a unit, or the failure record when its media cannot be used."""
        item = present(unit.item, unit.order)
        try:
            prompt = build_prompt(item, self.opt.mode, self.opt.rubrics, version=self.opt.prompt_version,
                                  scale=self.opt.scale)
        except PromptError as e:  # bad item data (e.g. no checklist): stop with the item named; the log is kept
            raise RunConfigError(f"item {unit.item.item_id!r} ({unit.item.query.task_name}): {e}") from e
        req = JudgeRequest(key=unit.key, item=item, prompt=prompt, order=unit.order, repeat=unit.repeat,
                           sizes=[sizes[i] for i in unit.order] if sizes else [])
        if not self.judge.needs_media:
            return req
        parts: list[TextPart | Encoded] = []
        try:
            for p in prompt.parts:
                parts.extend((p,) if isinstance(p, TextPart) else self.cache.encode_parts(p.ref, p.role))
            adapted, downgrades = adapt_parts(parts, self.judge.capabilities,
                                              getattr(self.judge, "downgrades", None), judge=self.judge.name)
        except MediaError as e:
            return self._failure_record(unit, prompt.version, Failure("media_error", str(e)))
        except UnsupportedModality as e:
            return self._failure_record(unit, prompt.version, e.to_failure())
        req.parts = adapted
        req.meta["downgrades"] = downgrades
        req.meta["media"] = [dict(p.provenance, role=p.role, modality=p.modality)
                             for p in adapted if not isinstance(p, TextPart)]
        return req

    def _base_record(self, unit: Unit, prompt_version: str) -> dict[str, Any]:
        return {"key": unit.key, "item_id": unit.item.item_id,
                "item_content": unit.content or item_content_hash(unit.item), "task_name": unit.item.query.task_name,
                "setting": unit.item.setting, "mode": self.opt.mode, "rubrics": list(self.opt.rubrics),
                "order": list(unit.order), "repeat": unit.repeat, "judge": self.judge.name,
                "prompt_version": prompt_version, **({"attempt": unit.attempt} if unit.attempt else {})}

    def _failure_record(self, unit: Unit, prompt_version: str, f: Failure) -> dict[str, Any]:
        rec = self._base_record(unit, prompt_version)
        rec.update(outcomes=[Failure(f.kind, f.detail, r).to_dict() for r in self.opt.rubrics], raw="",
                   finish_reason=None, usage={}, latency_s=0.0, model="", media=[], downgrades=[],
                   ts=_now())
        return rec

    def _result_record(self, unit: Unit, req: JudgeRequest, res: JudgeResult) -> dict[str, Any]:
        rubrics = list(req.prompt.rubrics)
        if res.failure is not None:
            outcomes: list[Outcome] = [Failure(res.failure.kind, res.failure.detail, r) for r in rubrics]
        elif res.outcomes is not None:
            outcomes = list(res.outcomes)
        else:
            outcomes = parse_output(res.raw, unit.item.setting, rubrics, n_responses=len(unit.item.responses),
                                    finish_reason=res.finish_reason, strategy=self.opt.parse,
                                    scale=req.prompt.scale)
        outcomes = [to_dataset_orientation(o, unit.order) for o in outcomes]
        rec = self._base_record(unit, req.prompt.version)
        raw, capped = cap_text(res.raw, self.opt.max_raw_chars)  # parsed above from the full text
        usage, impossible = check_usage(res.usage)
        if impossible:
            self._flag_usage(impossible)
            capped["usage_invalid"] = impossible
        rec.update(outcomes=[o.to_dict() for o in outcomes], raw=raw, **capped, finish_reason=res.finish_reason,
                   usage=usage, latency_s=round(res.latency_s, 6), model=res.model,
                   media=req.meta.get("media", []), downgrades=req.meta.get("downgrades", []),
                   ts=_now())
        if res.extra:
            rec["extra"] = res.extra
        return rec

    def _flag_usage(self, impossible: Mapping[str, Any]) -> None:
        """Count a record whose token usage was impossible (kept apart as ``usage_invalid``); warn once."""
        self.counts["usage_invalid"] = self.counts.get("usage_invalid", 0) + 1
        if self.counts["usage_invalid"] == 1:
            log.warning("judge %s reported impossible token counts (%s): not recorded as usage, kept as "
                        "usage_invalid in the run log (run.json counts.usage_invalid says how many records)",
                        self.judge.name, ", ".join(f"{k}={v!r}" for k, v in impossible.items()))

    # -- main loop ------------------------------------------------------------------------------------

    async def arun(self) -> dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        lock = RunDirLock(self.run_dir)  # before anything in the directory is read, renamed or written
        try:
            return await self._arun_locked()
        finally:
            lock.release()

    async def _arun_locked(self) -> dict[str, Any]:
        self._check_identity()
        if self.opt.overwrite:
            log_path = self.run_dir / VERDICTS
            if log_path.exists():
                log_path.rename(self.run_dir / f"{VERDICTS}.replaced-{int(time.time())}")
        self.judge.bind(self.data.recorded, self.data.recorded_raw)
        sizes = self._write_items_and_labels()
        self._write_run_json(started=_now())
        units = plan_units(self.items, mode=self.opt.mode, rubrics=self.opt.rubrics,
                           judge_fp=self.judge.fingerprint(), prompt_version=self.opt.prompt_version,
                           repeats=self.opt.repeats, pair_order=self.opt.pair_order,
                           batch_permutations=self.opt.batch_permutations,
                           n_permutations=self.opt.n_permutations, seed=self.opt.seed)
        with RunLog(self.run_dir, lock=False) as runlog:
            retry = runlog.retryable(self.opt.retry_failures)
            pending = [u if u.key not in retry else replace(u, attempt=retry[u.key])
                       for u in units if u.key not in runlog.done or u.key in retry]
            self.counts["skipped"] = len(units) - len(pending)
            self.counts["retried"] = sum(u.key in retry for u in pending)
            if self.counts["retried"]:
                log.info("retrying %d units whose last attempt failed with %s", self.counts["retried"],
                         "/".join(self.opt.retry_failures))
            if self.counts["skipped"]:
                log.info("resuming %s: %d of %d units already judged", self.run_dir, self.counts["skipped"],
                         len(units))
            await self._judge_all(pending, runlog, sizes)
        self._write_run_json(started=None, finished=_now(), counts=self.counts, n_units=len(units),
                             requests={**self.requests.to_dict(), "window": self.window.stats()},
                             media_cache={**self.cache.stats(), "measured": self.cache.measured,
                                          "measure_errors": dict(self.cache.measure_errors)})
        await self.judge.aclose()
        return self.counts

    async def _judge_all(self, pending: list[Unit], runlog: RunLog, sizes: Mapping[str, Any]) -> None:
        from tqdm.auto import tqdm

        policy = RetryPolicy.for_judge(self.judge)
        bs = max(1, int(self.opt.batch_size or self.judge.batch_size))
        conc = max(1, int(self.opt.concurrency or self.judge.concurrency))
        rate = self.opt.rate if isinstance(self.opt.rate, RateOptions) else RateOptions(**self.opt.rate)
        self.window = AdaptiveWindow(conc, rate.min_concurrency, adaptive=rate.adaptive)
        limits = RateLimits(rate.rpm, rate.tpm)
        chunks = [pending[i: i + bs] for i in range(0, len(pending), bs)]
        queue: asyncio.Queue[list[Unit]] = asyncio.Queue()
        for c in chunks:
            queue.put_nowait(c)
        bar = tqdm(total=len(pending), desc=f"judging ({self.judge.name})", unit="unit",
                   disable=not self.opt.progress or not pending)

        async def worker() -> None:
            while True:
                try:
                    chunk = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                prepared = await self._prepare_chunk(chunk, sizes)
                reqs = [(u, p) for u, p in zip(chunk, prepared, strict=True) if isinstance(p, JudgeRequest)]
                for p in prepared:
                    if not isinstance(p, JudgeRequest):
                        self._land(runlog, p, bar)
                if not reqs:
                    await durable.durable()
                    continue
                # a JudgeConfigError (no API key, a model that cannot load) fails every unit alike: it stops
                # the run with the message (the CLI exits 2); the units already logged are kept
                results = await judge_with_retries(self.judge, [p for _, p in reqs], policy, stats=self.requests,
                                                   window=self.window, limits=limits)
                for (u, req), res in zip(reqs, results, strict=True):
                    self._land(runlog, self._result_record(u, req, res), bar)
                await durable.durable()  # on disk before this worker takes more work

        durable = GroupSync(runlog)
        try:
            await asyncio.gather(*(worker() for _ in range(min(conc, max(1, len(chunks))))))
        finally:
            bar.close()
            runlog.sync()

    async def _prepare_chunk(self, chunk: Sequence[Unit],
                             sizes: Mapping[str, Any]) -> list[JudgeRequest | dict[str, Any]]:
        """The requests of a chunk of units: on the event loop when no unit carries media for the judge to see
        (rendering a text prompt costs less than handing it to a thread), else in a worker thread (decoding
        media blocks)."""
        def prepare() -> list[JudgeRequest | dict[str, Any]]:
            return [self._prepare(u, sizes.get(u.item.item_id, [])) for u in chunk]

        if not self.judge.needs_media or not any(_has_media(u.item) for u in chunk):
            return prepare()
        return await asyncio.to_thread(prepare)

    def _land(self, runlog: RunLog, rec: Mapping[str, Any], bar: Any) -> None:
        """Write a unit's record (fsync'ed by the worker's next ``GroupSync.durable``) and count it."""
        if runlog.append(rec, sync=False):
            self.counts["judged"] += 1
            if any("failure" in o for o in rec["outcomes"]):
                self.counts["failures"] += 1
        bar.update(1)

    def run(self) -> dict[str, Any]:
        """Run to completion (blocking); returns counts ``{judged, skipped, retried, failures}``."""
        return asyncio.run(self.arun())


def _has_media(item: Item) -> bool:
    return bool(item.query.media) or any(r.media for r in item.responses)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


__all__ = ["RunConfigError", "RunOptions", "Runner", "Unit", "item_record", "plan_units", "present",
           "presentation_orders", "redact", "response_sizes", "to_dataset_orientation", "williams_rows"]
