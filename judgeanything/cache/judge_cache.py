"""The judge cache: answers looked up by :func:`~judgeanything.cache.key.request_key` before a judge is
called, and stored after.

What is cached is the judge's *answer* (:class:`~judgeanything.judges.base.JudgeResult`: raw text, finish
reason, structured outcomes of token-probability judges, token usage, latency, reported model snapshot),
never the parsed verdict: every run parses the cached text again, so an improved parser applies to cached
answers too.

Which answers may be cached (:data:`CACHEABLE_FAILURES`):

* an answer with no failure — including text that later fails to parse (``parse_fail``, ``out_of_range``,
  ``truncated``): it is what the model said, the same request at the same sampling would pay for the same
  text, and the parser decides per run;
* ``refusal`` and ``safety_block``: the model's (or the provider's filter's) answer to *this* content —
  reproducible, and paid for;
* never ``api_error`` (an outage, a rate limit, a bad key: the next run must try again — caching it would
  make the failure permanent), nor ``media_error`` / ``unsupported_modality`` (decided on this machine
  before any call: cheap to redo, and a fixed file or configured downgrade must take effect).

Only judges that cost something to call are cached (:data:`CACHED_JUDGE_KINDS`: ``api``, ``local``,
``smoke``); baselines and replay answer instantly from their inputs.

Nothing secret reaches the store: the key is a hash, and the stored answer passes through the project's one
redaction (:func:`judgeanything.redaction.redact_values`: known secret values and credential shapes masked)
before it is written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from judgeanything.cache.key import CACHE_FORMAT, fingerprint_id, request_key
from judgeanything.cache.store import Store, open_store
from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.redaction import redact_values
from judgeanything.schema import FAILURE_KINDS, Failure, Outcome, TextPart, Verdict

log = logging.getLogger(__name__)

CACHE_MODES = ("off", "read", "write", "readwrite")
CACHEABLE_FAILURES: tuple[str, ...] = ("refusal", "safety_block")
#: Failure kinds that may never be cached, whatever the configuration says (see the module docstring).
NEVER_CACHED = frozenset({"api_error", "media_error", "unsupported_modality"})
CACHED_JUDGE_KINDS = frozenset({"api", "local", "smoke"})
#: ``cache.max_answer_chars``: ten times the run log's default ``run.max_raw_chars`` (100,000); judges'
#: answers are a few thousand characters
DEFAULT_MAX_ANSWER_CHARS = 1_000_000
ENV_DIR = "JUDGEANYTHING_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$JUDGEANYTHING_CACHE_DIR``, else ``$XDG_CACHE_HOME/judgeanything/judge-cache``, else
    ``~/.cache/judgeanything/judge-cache``."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "judgeanything" / "judge-cache"


@dataclass(frozen=True)
class CacheOptions:
    """The ``cache`` config section.

    Attributes:
        mode: ``off`` | ``read`` (use entries, store none) | ``write`` (judge everything, store answers:
            refreshes the cache) | ``readwrite`` (default).
        dir: the cache directory (``None``: :func:`default_cache_dir`). Every run and sweep pointing at the
            same directory shares its answers; it may be on a shared filesystem.
        backend: ``auto`` | ``sqlite`` | ``files`` (see :mod:`judgeanything.cache.store`).
        failures: failure kinds whose answers are cached (a subset of :data:`CACHEABLE_FAILURES`).
        max_answer_chars: an answer whose raw text is longer is not stored (counted as ``too_long`` among
            the uncacheable): a judge looping until its token limit, or a hostile server streaming megabytes,
            must not grow a cache that every run shares and reads back. The text is never cut for the cache
            (a cut answer could parse to another verdict on a hit); such an answer is simply asked again.
            ``None``: no limit.

    Raises:
        ValueError: an unknown mode or backend, a failure kind that may never be cached, a limit below 1.
    """

    mode: str = "readwrite"
    dir: str | None = None
    backend: str = "auto"
    failures: tuple[str, ...] = CACHEABLE_FAILURES
    max_answer_chars: int | None = DEFAULT_MAX_ANSWER_CHARS

    def __post_init__(self) -> None:
        if self.mode not in CACHE_MODES:
            raise ValueError(f"cache.mode={self.mode!r}: expected one of {', '.join(CACHE_MODES)}")
        if self.backend not in ("auto", "sqlite", "files"):
            raise ValueError(f"cache.backend={self.backend!r}: expected auto, sqlite or files")
        for k in self.failures:
            if k not in FAILURE_KINDS:
                raise ValueError(f"cache.failures: unknown failure kind {k!r}")
            if k in NEVER_CACHED:
                raise ValueError(f"cache.failures: {k!r} answers are never cached (the next run must try "
                                 "again)")
        cap = self.max_answer_chars
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValueError(f"cache.max_answer_chars={cap!r}: expected a positive whole number of characters "
                             "or null (no limit)")

    @classmethod
    def from_config(cls, node: Mapping[str, Any] | None) -> CacheOptions:
        """From a ``cache`` config mapping (missing keys take their defaults)."""
        node = dict(node or {})
        failures = node.get("failures")
        return cls(mode=str(node.get("mode", "readwrite")), dir=node.get("dir") or None,
                   backend=str(node.get("backend", "auto")),
                   failures=CACHEABLE_FAILURES if failures is None else tuple(str(k) for k in failures),
                   max_answer_chars=node.get("max_answer_chars", DEFAULT_MAX_ANSWER_CHARS))


@dataclass
class CacheStats:
    """Counts for ``run.json``: lookups answered (``hits``), missed, answers stored, answers not stored
    (``uncacheable``, by failure kind, or ``too_long``: over ``cache.max_answer_chars``)."""

    hits: int = 0
    misses: int = 0
    stored: int = 0
    uncacheable: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"hits": self.hits, "misses": self.misses, "stored": self.stored,
                "uncacheable": dict(self.uncacheable)}


def encode_result(res: JudgeResult) -> bytes:
    """A judge answer as stored (JSON), secrets redacted."""
    entry = {
        "format": CACHE_FORMAT,
        "raw": res.raw,
        "finish_reason": res.finish_reason,
        "outcomes": None if res.outcomes is None else [o.to_dict() for o in res.outcomes],
        "failure": None if res.failure is None else res.failure.to_dict(),
        "usage": dict(res.usage),
        "latency_s": res.latency_s,
        "model": res.model,
        "extra": {k: v for k, v in res.extra.items() if k != "cache"},
    }
    return orjson.dumps(redact_values(entry), default=str)


def _outcome(d: Mapping[str, Any]) -> Outcome:
    return Failure.from_dict(d) if "failure" in d else Verdict.from_dict(d)


def decode_result(blob: bytes) -> JudgeResult | None:
    """A stored answer back as a :class:`JudgeResult`; ``None`` for an entry of another format or one that
    cannot be read (a damaged entry is a miss, asked again, never a stopped run or a wrong verdict)."""
    try:
        d = orjson.loads(blob)
        if not isinstance(d, dict) or d.get("format") != CACHE_FORMAT:
            return None
        outcomes = None if d["outcomes"] is None else [_outcome(o) for o in d["outcomes"]]
        failure = None if d["failure"] is None else Failure.from_dict(d["failure"])
        return JudgeResult(raw=d["raw"], finish_reason=d["finish_reason"], outcomes=outcomes, failure=failure,
                           usage=dict(d["usage"]), latency_s=float(d["latency_s"]), model=d["model"],
                           extra=dict(d["extra"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        log.warning("judge cache: an unreadable entry is ignored (%s: %s)", type(e).__name__, e)
        return None


class JudgeCache:
    """Look up and store judge answers (see the module docstring).

    Args:
        options: the ``cache`` config section.
        store: an open store (tests); default: opened from ``options.dir`` / ``options.backend``.

    Raises:
        CacheStoreError: the store cannot be opened.
    """

    def __init__(self, options: CacheOptions, store: Store | None = None) -> None:
        self.options = options
        self.store: Store | None = None
        if options.mode != "off":
            self.store = store or open_store(Path(options.dir) if options.dir else default_cache_dir(),
                                             options.backend)
        self.stats = CacheStats()
        self._snapshots: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def reads(self) -> bool:
        return self.options.mode in ("read", "readwrite")

    @property
    def writes(self) -> bool:
        return self.options.mode in ("write", "readwrite")

    @property
    def location(self) -> str | None:
        return None if self.store is None else str(self.store.path)

    def applies_to(self, judge: Judge) -> bool:
        """Whether answers of ``judge`` go through the cache."""
        return self.store is not None and judge.kind in CACHED_JUDGE_KINDS

    # -- snapshots ------------------------------------------------------------------------------------

    def snapshot(self, fp_id: str) -> str:
        """The provider snapshot last reported for a judge fingerprint (``""`` when none yet)."""
        with self._lock:
            hit = self._snapshots.get(fp_id)
        if hit is None and self.store is not None:
            hit = self.store.get_meta(f"snapshot-{fp_id}") or ""
            with self._lock:
                self._snapshots[fp_id] = hit
        return hit or ""

    def note_snapshot(self, fp_id: str, snapshot: str) -> None:
        """Record the snapshot a live answer reported: later keys of this fingerprint include it, so
        answers from a model the provider has replaced behind the same id stop matching."""
        if not snapshot or self.store is None:
            return
        with self._lock:
            if self._snapshots.get(fp_id) == snapshot:
                return
            self._snapshots[fp_id] = snapshot
        if self.writes:
            self.store.set_meta(f"snapshot-{fp_id}", snapshot)

    # -- entries --------------------------------------------------------------------------------------

    def keys(self, requests: Sequence[JudgeRequest], judge_fp: Mapping[str, Any], snapshot: str) -> list[str]:
        return [request_key(r.prompt, r.parts, order=r.order, repeat=r.repeat, judge_fingerprint=judge_fp,
                            snapshot=snapshot) for r in requests]

    def lookup(self, keys: Sequence[str]) -> dict[str, JudgeResult]:
        """The cached answers among ``keys`` (empty unless the mode reads)."""
        if self.store is None or not self.reads:
            return {}
        found: dict[str, JudgeResult] = {}
        for k, blob in self.store.get_many(keys).items():
            res = decode_result(blob)
            if res is not None:
                res.extra["cache"] = "hit"
                found[k] = res
        with self._lock:
            self.stats.hits += len(found)
            self.stats.misses += len(keys) - len(found)
        return found

    def _not_stored_because(self, res: JudgeResult) -> str | None:
        """Why an answer is not stored (a failure kind, or ``too_long``; see the module docstring); ``None``
        when it may be."""
        if res.failure is not None and (res.failure.kind not in self.options.failures
                                        or res.failure.kind in NEVER_CACHED):
            return res.failure.kind
        cap = self.options.max_answer_chars
        if cap is not None and len(res.raw or "") > cap:
            return "too_long"
        return None

    def store_many(self, entries: Sequence[tuple[str, JudgeResult]]) -> None:
        """Store the cacheable answers (no-op unless the mode writes)."""
        if self.store is None or not self.writes:
            return
        stored = 0
        skipped: dict[str, int] = {}
        for k, res in entries:
            why = self._not_stored_because(res)
            if why is not None:
                skipped[why] = skipped.get(why, 0) + 1
                continue
            stored += self.store.put(k, encode_result(res))
        with self._lock:
            self.stats.stored += stored
            for skipped_kind, n in skipped.items():
                self.stats.uncacheable[skipped_kind] = self.stats.uncacheable.get(skipped_kind, 0) + n

    def summary(self) -> dict[str, Any]:
        """What ``run.json`` records: mode, location and counts."""
        return {"mode": self.options.mode, "dir": self.location, **self.stats.to_dict()}

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _has_media(requests: Sequence[JudgeRequest]) -> bool:
    return any(not isinstance(p, TextPart) for r in requests for p in r.parts)


async def judge_with_cache(judge: Judge, requests: Sequence[JudgeRequest], cache: JudgeCache | None,
                           call: Callable[[list[JudgeRequest]], Awaitable[list[JudgeResult]]] | None = None,
                           ) -> list[JudgeResult]:
    """Judge ``requests``, answering from ``cache`` what it holds and storing what comes back.

    Args:
        call: how to judge the misses (the runner's retrying call); default ``judge.judge``.

    Returns one result per request, in order; cached ones carry ``extra["cache"] == "hit"``. Only the
    misses reach the judge (none at all when every request is cached).
    """
    call = call or judge.judge
    if cache is None or not cache.applies_to(judge):
        return await call(list(requests))
    fp = judge.fingerprint()
    fp_id = fingerprint_id(fp)
    snapshot = cache.snapshot(fp_id)
    if _has_media(requests):  # hashing decoded media is CPU work: keep it off the event loop
        keys = await asyncio.to_thread(cache.keys, requests, fp, snapshot)
        hits = await asyncio.to_thread(cache.lookup, keys) if cache.reads else {}
    else:
        # text only: hashing and a primary-key lookup in a local WAL database take tens of microseconds,
        # less than handing them to a thread (measured: the hop was a third of a warm relaunch's time)
        keys = cache.keys(requests, fp, snapshot)
        hits = cache.lookup(keys) if cache.reads else {}
    todo = [i for i, k in enumerate(keys) if k not in hits]
    fresh: list[JudgeResult] = await call([requests[i] for i in todo]) if todo else []
    if len(fresh) != len(todo):
        raise RuntimeError(f"judge {judge.name} returned {len(fresh)} results for {len(todo)} requests")
    entries: list[tuple[str, JudgeResult]] = []
    out: list[JudgeResult | None] = [hits.get(k) for k in keys]
    for i, res in zip(todo, fresh, strict=True):
        out[i] = res
        # an answer is stored under the snapshot that produced it; the newest one becomes the pointer
        reported = res.model if res.failure is None else ""
        key = keys[i]
        if reported and reported != snapshot:
            cache.note_snapshot(fp_id, reported)
            key = cache.keys([requests[i]], fp, reported)[0]
        entries.append((key, res))
    if entries and cache.writes:
        await asyncio.to_thread(cache.store_many, entries)
    return [r for r in out if r is not None]

__all__ = ["CACHEABLE_FAILURES", "CACHED_JUDGE_KINDS", "CACHE_MODES", "NEVER_CACHED", "CacheOptions",
           "CacheStats", "JudgeCache", "decode_result", "default_cache_dir", "encode_result", "judge_with_cache"]
