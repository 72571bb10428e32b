"""The judging loop: pending units → requests → judge → run log, with bounded concurrency.

Async, in three stages on one event loop (:mod:`.stages`): requests prepared ahead, ``concurrency`` senders,
records written behind them. A unit is counted when its record is in the run log (written and flushed at once,
fsync'ed by a background group commit), so a killed run resumes without redoing or losing finished work —
only the units in flight, and answers not yet written (bounded, :class:`.stages.Landing`), are asked again.
What a unit is and its key: :mod:`.units`; building its request: :mod:`.prepare`; the record it leaves:
:mod:`.records`; the run directory's identity and ``run.json``: :mod:`.rundir`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from judgeanything.budget import Budget
from judgeanything.cache import JudgeCache, judge_with_cache
from judgeanything.datasets.base import BenchmarkData
from judgeanything.errors import RunConfigError
from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.modalities.cache import MediaCache
from judgeanything.modalities.limits import MediaLimits
from judgeanything.parsing import STRATEGIES
from judgeanything.prompts import PROMPT_VERSION
from judgeanything.ratecontrol import AdaptiveWindow, RateConfigError, RateLimits, RateOptions
from judgeanything.retry import RetryPolicy, RetryStats, judge_with_retries
from judgeanything.runner import rundir
from judgeanything.runner.prepare import RequestPreparer, Unprepared
from judgeanything.runner.records import failure_record, result_record
from judgeanything.runner.stages import Landing, Prepared, prepare_ahead, run_stages
from judgeanything.runner.units import Unit, plan_units
from judgeanything.schema import DEFAULT_SCORE_SCALE, FAILURE_KINDS, Item, MediaRef, ScoreScale, item_content_hash
from judgeanything.shard import Shard, ShardSpecError, select
from judgeanything.store import GroupSync, RunDirLock, RunLog, RunRecord, check_usage
from judgeanything.usage import is_cache_hit, paid_cost, price_of

log = logging.getLogger("judgeanything.runner")

#: a judged unit whose record is still to be built and written: the unit, its request, the judge's result
Answered = tuple[Unit, JudgeRequest, JudgeResult]


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
    shard: str | None = None  # run.shard: "i/n", judge only shard i of n (judgeanything/shard.py)
    budget_usd: float | None = None  # run.budget_usd: stop sending before the run costs more (budget.py)

    def __post_init__(self) -> None:
        if self.max_raw_chars is not None and (isinstance(self.max_raw_chars, bool) or int(self.max_raw_chars) < 200):
            raise RunConfigError(f"run.max_raw_chars={self.max_raw_chars!r}: must be at least 200 (or null: no cap)")
        if not isinstance(self.rate, RateOptions):
            try:
                self.rate = RateOptions(**dict(self.rate))
            except (TypeError, RateConfigError) as e:
                raise RunConfigError(f"run.rate: {e}") from e
        try:
            Shard.parse(self.shard)
        except ShardSpecError as e:
            raise RunConfigError(str(e)) from e
        if self.budget_usd is not None and not 0 <= float(self.budget_usd) < float("inf"):
            raise RunConfigError(f"run.budget_usd={self.budget_usd!r}: must be a finite number >= 0 (or null)")
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
        judge_cache: the judge cache (``None``: every request goes to the judge).
        price: the judge's price as :func:`judgeanything.usage.resolve_price` records it (``None``: unknown).

    Raises:
        JudgeConfigError: the judge does not support the benchmark's setting.
        RunConfigError: duplicate item ids; a budget without a price for a judge that costs something.
    """

    def __init__(self, data: BenchmarkData, judge: Judge, run_dir: Path, options: RunOptions,
                 media_options: Mapping[str, Mapping[str, Any]] | None = None,
                 identity: Mapping[str, Any] | None = None, config: Mapping[str, Any] | None = None,
                 notes: Sequence[str] = (), judge_cache: JudgeCache | None = None,
                 price: Mapping[str, Any] | None = None) -> None:
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
        items = list(data.items)[: options.limit] if options.limit else list(data.items)
        dup = next((i for i, c in Counter(it.item_id for it in items).items() if c > 1), None)
        if dup is not None:
            raise RunConfigError(f"benchmark {data.name!r} has duplicate item id {dup!r}")
        # a shard is cut after run.limit, so the shards of a limited run are exactly the unsharded run's items
        self.shard = Shard.parse(options.shard)
        self.n_items_total = len(items)
        self.items, self.positions = select(items, self.shard)
        self.judge_cache = judge_cache
        self.price = dict(price) if price else None
        if options.budget_usd is not None and self.price is None and judge.kind not in ("baseline", "replay"):
            raise RunConfigError(f"run.budget_usd={options.budget_usd} needs the price of judge {judge.name!r} "
                                 f"(model {judge.fingerprint().get('model', '?')!r}): add it to conf/prices.yaml or "
                                 "pass cost.price={input_per_mtok: .., output_per_mtok: ..}")
        self.budget = Budget(None, None)
        self._settled = asyncio.Event()  # set whenever a unit's answer is in (a budget waiting for a first cost)
        self.preparer = RequestPreparer(judge, self.cache, mode=options.mode, rubrics=options.rubrics,
                                        prompt_version=options.prompt_version, scale=options.scale,
                                        parse=options.parse)
        self.counts = {"judged": 0, "skipped": 0, "retried": 0, "failures": 0}
        self.requests = RetryStats()
        self.retry_policy = RetryPolicy.for_judge(judge)
        self.window = AdaptiveWindow(1)

    def run(self) -> dict[str, Any]:
        """Run to completion (blocking); returns counts ``{judged, skipped, retried, failures}``."""
        return asyncio.run(self.arun())

    async def arun(self) -> dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        lock = RunDirLock(self.run_dir)  # before anything in the directory is read, renamed or written
        try:
            with collector_for_bulk_work():
                return await self._arun_locked()
        finally:
            lock.release()

    async def _arun_locked(self) -> dict[str, Any]:
        if self.opt.overwrite:
            rundir.set_aside_log(self.run_dir)
        else:
            rundir.check_identity(self.run_dir, self.identity)
        contents = [item_content_hash(it) for it in self.items]  # once: items.jsonl and the unit keys
        sizes = rundir.write_items_and_labels(self.run_dir, self.data, self.items, self.cache, contents)
        rundir.write_run_json(self.run_dir, self._run_info(started=rundir.now()))
        o = self.opt
        units = plan_units(self.items, mode=o.mode, rubrics=o.rubrics, judge_fp=self.judge.fingerprint(),
                           prompt_version=o.prompt_version, repeats=o.repeats, pair_order=o.pair_order,
                           batch_permutations=o.batch_permutations, n_permutations=o.n_permutations, seed=o.seed,
                           contents=contents)
        with RunLog(self.run_dir, lock=False, tally=self._budget_tally()) as runlog:
            self.budget = self._budget(runlog.tallied_at_open)
            await self._judge_all(self._pending(units, runlog), runlog, sizes)
        extra: dict[str, Any] = {}
        if self.judge_cache is not None:
            extra["cache"] = self.judge_cache.summary()
        if self.opt.budget_usd is not None:
            extra["budget"] = self.budget.summary()
        rundir.write_run_json(self.run_dir, self._run_info(
            started=None, finished=None if self.budget.stopped else rundir.now(), counts=self.counts,
            n_units=len(units), **extra,
            requests={**self.requests.to_dict(), "window": self.window.stats()},
            media_cache={**self.cache.stats(), "measured": self.cache.measured,
                         "measure_errors": dict(self.cache.measure_errors)}))
        await self.judge.aclose()
        return self.counts

    def _pending(self, units: Sequence[Unit], runlog: RunLog) -> list[Unit]:
        """The units still to judge: never logged, or last logged with a retryable failure (attempt counted)."""
        retry = runlog.retryable(self.opt.retry_failures)
        pending = [u if u.key not in retry else replace(u, attempt=retry[u.key])
                   for u in units if u.key not in runlog.done or u.key in retry]
        self.counts["skipped"] = len(units) - len(pending)
        self.counts["retried"] = sum(u.key in retry for u in pending)
        if self.counts["retried"]:
            log.info("retrying %d units whose last attempt failed with %s", self.counts["retried"],
                     "/".join(self.opt.retry_failures))
        if self.counts["skipped"]:
            log.info("resuming %s: %d of %d units already judged", self.run_dir, self.counts["skipped"], len(units))
        return pending

    def _budget_tally(self) -> Callable[[dict[str, Any]], float | None] | None:
        """What the budget needs of each record the run log holds already — its :func:`paid_cost` — taken as
        the :class:`RunLog` reads the log to resume (one read; a separate pass for the budget read it twice
        more); ``None`` when no budget applies or the judge costs nothing."""
        price = price_of(self.price) if self.opt.budget_usd is not None else None
        return None if price is None else functools.partial(paid_cost, price=price)

    def _budget(self, paid_before: Sequence[float | None]) -> Budget:
        """The run's budget; what earlier sessions of this run directory spent counts against it
        (``paid_before``: :meth:`_budget_tally` of each record that counts, in log order; ``None``: a cache hit)."""
        if self.opt.budget_usd is None:
            return Budget(None, None)
        price = price_of(self.price)
        if price is None:
            return Budget(float(self.opt.budget_usd), None)
        spent, calls = 0.0, 0
        for usd in paid_before:  # added in log order, as summarise_usage adds them: the same float
            if usd is not None:
                spent, calls = spent + usd, calls + 1
        return Budget(float(self.opt.budget_usd), price, spent_before=round(spent, 6) or 0.0, calls_before=calls)

    def _run_info(self, **extra: Any) -> dict[str, Any]:
        """``run.json``'s content: what ran (identity, judge, notes, redacted config, versions) plus ``extra``."""
        if self.shard is not None:
            extra["shard"] = {"index": self.shard.index, "count": self.shard.count,
                              "n_items_total": self.n_items_total, "positions": self.positions}
        if self.price is not None:
            extra["price"] = self.price
        return {
            "benchmark": self.data.name, "setting": self.data.setting, "mode": self.opt.mode,
            "rubrics": list(self.opt.rubrics), "judge": self.judge.name, "judge_kind": self.judge.kind,
            "judge_fingerprint": self.judge.fingerprint(), "prompt_version": self.opt.prompt_version,
            "data_root": str(self.data.data_root) if self.data.data_root else None, "n_items": len(self.items),
            # the judge's score scale and the human labels' (the analysis maps the first onto the second)
            "score_scale": self.opt.scale.to_dict(), "label_scale": self.data.label_scale.to_dict(),
            "identity": self.identity, "notes": self.notes, "judge_notes": self.judge_notes,
            "config": self.config, "versions": rundir.package_versions(), **extra,
        }

    async def _judge_all(self, pending: list[Unit], runlog: RunLog, sizes: Mapping[str, Any]) -> None:
        """Judge ``pending`` in chunks of the batch size, ``concurrency`` chunks at a time: requests prepared
        ahead and records written behind the senders (:mod:`.stages`)."""
        from tqdm.auto import tqdm

        bs = max(1, int(self.opt.batch_size or self.judge.batch_size))
        conc = max(1, int(self.opt.concurrency or self.judge.concurrency))
        rate = self.opt.rate if isinstance(self.opt.rate, RateOptions) else RateOptions(**self.opt.rate)
        self.window = AdaptiveWindow(conc, rate.min_concurrency, adaptive=rate.adaptive)
        limits = RateLimits(rate.rpm, rate.tpm)
        self._settled = asyncio.Event()
        chunks = [pending[i: i + bs] for i in range(0, len(pending), bs)]
        n_senders = min(conc, max(1, len(chunks)))
        bar = tqdm(total=len(pending), desc=f"judging ({self.judge.name})", unit="unit",
                   disable=not self.opt.progress or not pending)
        durable = GroupSync(runlog)

        def land(done: RunRecord | Answered) -> None:
            self._land(runlog, done if isinstance(done, RunRecord) else self._record(*done), bar)
            durable.kick()  # flushed already; on disk within one background fsync

        landing: Landing[RunRecord | Answered] = Landing(land)
        ready: asyncio.Queue[Prepared[list[Unit], list[JudgeRequest | Unprepared]] | None] = asyncio.Queue(
            maxsize=n_senders)

        def prepare(chunk: list[Unit]) -> list[JudgeRequest | Unprepared]:
            return [self.preparer.prepare(u, sizes.get(u.item.item_id, [])) for u in chunk]

        try:
            await run_stages([prepare_ahead(chunks, ready, n_senders, prepare, self._needs_thread,
                                            media_of=lambda chunk: {m for u in chunk for m in _media(u.item)},
                                            skip=lambda: self.budget.stopped),
                              *(self._sender(ready, landing, limits, n_senders * bs) for _ in range(n_senders))],
                             landing)
            await durable.durable()
        finally:
            bar.close()
            await durable.aclose()
            runlog.sync()
        if self.budget.stopped:
            s = self.budget.summary()
            log.warning("run.budget_usd=%s reached (spent %.4f USD): %d units not judged; everything judged is "
                        "kept — rerun with a higher run.budget_usd to continue", s["limit_usd"], s["spent_usd"],
                        self.counts.get("left_by_budget", 0))

    async def _sender(self, ready: asyncio.Queue[Prepared[list[Unit], list[JudgeRequest | Unprepared]] | None],
                      landing: Landing[RunRecord | Answered], limits: RateLimits, in_flight: int) -> None:
        """One sender: take prepared chunks until the preparer's ``None``, judge each (admitted by the budget),
        hand what is to land to ``landing``; ``in_flight``: the most units all senders can have out at once."""
        while (got := await ready.get()) is not None:
            chunk, preparation = got
            if self.budget.stopped:
                preparation.cancel()  # a decode still running for it is not waited for
                prepared = None
            else:
                prepared = await preparation
            if prepared is None or not await self._admit(len(chunk)):
                # the budget is spent: every chunk left is counted, none is sent
                self.counts["left_by_budget"] = self.counts.get("left_by_budget", 0) + len(chunk)
                continue
            for done in await self._judge_chunk(chunk, prepared, limits):
                self._settle(done)
                landing.push(done)
            # a judge that answers without waiting (a baseline, judge-cache hits) would otherwise queue the whole
            # run for the one writer: wait while more is queued than can be in flight at once
            await landing.room(in_flight)

    async def _admit(self, n: int) -> bool:
        """Wait until the budget admits ``n`` more units (the first cost is measured by one request at a
        time); False once it never will."""
        while not self.budget.admit(n):
            if self.budget.stopped or not self.budget.wait_needed():
                return False
            self._settled.clear()
            await self._settled.wait()
        return True

    async def _judge_chunk(self, chunk: list[Unit], prepared: list[JudgeRequest | Unprepared],
                           limits: RateLimits) -> list[RunRecord | Answered]:
        """Judge one prepared chunk in one call; what is to land of each unit: the record of a unit that could
        not be prepared, the answer of one that was judged (its record is built behind the senders)."""
        o = self.opt
        recs: list[RunRecord | Answered] = [
            failure_record(u, p.failure, mode=o.mode, rubrics=o.rubrics, judge=self.judge.name,
                           prompt_version=p.prompt_version)
            for u, p in zip(chunk, prepared, strict=True) if isinstance(p, Unprepared)]
        reqs = [(u, p) for u, p in zip(chunk, prepared, strict=True) if isinstance(p, JudgeRequest)]
        if not reqs:
            return recs
        # a JudgeConfigError (no API key, a model that cannot load) fails every unit alike: it stops the run
        # with the message (the CLI exits 2); the units already logged are kept
        async def call(rs: list[JudgeRequest]) -> list[JudgeResult]:
            return await judge_with_retries(self.judge, rs, self.retry_policy, stats=self.requests,
                                            window=self.window, limits=limits)

        results = await judge_with_cache(self.judge, [p for _, p in reqs], self.judge_cache, call)
        return recs + [(u, req, res) for (u, req), res in zip(reqs, results, strict=True)]

    def _record(self, unit: Unit, req: JudgeRequest, res: JudgeResult) -> RunRecord:
        """The record of a judged unit (its raw text parsed, :func:`.records.result_record`)."""
        o = self.opt
        return result_record(unit, req, res, mode=o.mode, rubrics=o.rubrics, judge=self.judge.name,
                             parse=o.parse, max_raw_chars=o.max_raw_chars)

    def _needs_thread(self, chunk: Sequence[Unit]) -> bool:
        """Whether a chunk's requests must be prepared in a worker thread: some unit carries media for the judge
        that the media cache has not decoded yet (decoding blocks). Otherwise they are prepared on the event
        loop: rendering a prompt and looking decoded media up costs less than a thread hop, and the worker
        thread would contend for the GIL with the loop."""
        return self.judge.needs_media and not all(self.cache.ready(m) for u in chunk for m in _media(u.item))

    def _land(self, runlog: RunLog, rec: RunRecord, bar: Any) -> None:
        """Write a unit's record (flushed now, fsync'ed by the background ``GroupSync``) and count it."""
        if rec.usage_invalid:
            self._flag_usage(rec.usage_invalid)
        if runlog.append(rec, sync=False):
            self.counts["judged"] += 1
            if rec.failed:
                self.counts["failures"] += 1
            if is_cache_hit(rec):
                self.counts["cached"] = self.counts.get("cached", 0) + 1
        bar.update(1)

    def _settle(self, done: RunRecord | Answered) -> None:
        """Account a unit in the budget as soon as its answer is in, not when its record is written: its cost
        reservation is released and its cost counted (the usage the record will keep: impossible counts left
        out, :func:`judgeanything.store.check_usage`); a judge-cache hit costs nothing."""
        if self.budget.active:
            if isinstance(done, RunRecord):
                usage, hit = done.usage, is_cache_hit(done)
            else:
                res = done[2]
                usage, hit = check_usage(res.usage)[0], is_cache_hit(res)
            self.budget.settle(usage, cached=hit)
        self._settled.set()

    def _flag_usage(self, impossible: Mapping[str, Any]) -> None:
        """Count a record whose token usage was impossible (kept apart as ``usage_invalid``); warn once."""
        self.counts["usage_invalid"] = self.counts.get("usage_invalid", 0) + 1
        if self.counts["usage_invalid"] == 1:
            log.warning("judge %s reported impossible token counts (%s): not recorded as usage, kept as "
                        "usage_invalid in the run log (run.json counts.usage_invalid says how many records)",
                        self.judge.name, ", ".join(f"{k}={v!r}" for k, v in impossible.items()))


_GC_LOCK = threading.Lock()
_GC_STATE: dict[str, Any] = {"depth": 0, "before": None, "froze": False}


@contextlib.contextmanager
def collector_for_bulk_work(gen0_threshold: int = 10_000) -> Iterator[None]:
    """Tune CPython's cyclic garbage collector for the judging loop, and restore it afterwards.

    Everything alive when judging starts (the items, units and imported libraries: ~150,000 objects for a
    1,280-item image run) is moved out of the collector's view with :func:`gc.freeze`, and the youngest
    generation is collected every ``gen0_threshold`` container allocations instead of every 700. On the image
    items of ``benchmarks/bench_throughput.py`` (a one-off ``gc.callbacks`` measurement on the loaded 2-core
    machine, see benchmarks/README.md): full collections re-walked that heap ~3 times per 1,280 units and, with
    the young collections, took ~1.3 ms per unit; with these settings ~0.2–0.5 ms. Nothing is leaked:
    objects frozen here are unfrozen (collectable again) when the loop ends, and reference counting frees
    acyclic garbage as always. A process that froze objects itself (e.g. a server before forking) keeps its freeze:
    then nothing is frozen or unfrozen here, only the threshold changes (:func:`gc.unfreeze` would release the
    host's objects too). The settings are process-wide: runs that overlap in one process (threads) share them,
    the first to start sets them and the last to finish restores what was there before.
    """
    with _GC_LOCK:
        if _GC_STATE["depth"] == 0:
            before = gc.get_threshold()
            _GC_STATE["before"] = before
            _GC_STATE["froze"] = gc.get_freeze_count() == 0
            if _GC_STATE["froze"]:
                gc.freeze()
            gc.set_threshold(max(before[0], gen0_threshold), *before[1:])
        _GC_STATE["depth"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE["depth"] -= 1
            if _GC_STATE["depth"] == 0:
                gc.set_threshold(*_GC_STATE["before"])
                if _GC_STATE["froze"]:
                    gc.unfreeze()


def _media(item: Item) -> Iterator[MediaRef]:
    """Every media reference an item's prompt shows (query first, then each response's)."""
    yield from item.query.media
    for r in item.responses:
        yield from r.media


__all__ = ["RunOptions", "Runner"]
