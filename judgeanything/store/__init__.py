"""The run store: an append-only JSONL run log, resumable after any crash (docs/architecture.md §3).

A run directory holds:

* ``run.json`` — what ran: benchmark, setting, mode, judge fingerprint, config (secrets removed), versions.
* ``items.jsonl`` — one line per item: :func:`~judgeanything.schema.item_to_dict` plus ``sizes`` (per
  response, dataset order, from the modality encoders' ``measure``), ``input_modalities``,
  ``output_modality`` and ``family`` (``mmu``/``mmg``).
* ``labels.jsonl`` — one :class:`~judgeanything.schema.HumanLabel` per line.
* ``verdicts.jsonl`` — the run log, one line per judged unit, appended (and fsync'ed) as each lands: a
  :class:`~judgeanything.store.record.RunRecord` (its attributes are the line's fields; ``to_dict`` writes it,
  ``from_dict`` reads and checks it). Outcomes are always in **dataset orientation**.

Resume: reopening a run directory reads the log, drops a torn last line left by a kill (truncating the
file back to its last complete line, so appends stay valid JSONL), and reports the finished keys; the
runner skips them. Each key is written at most once per run directory: while a run appends, it holds
an exclusive lock on ``<run_dir>/.lock`` (:class:`RunDirLock`), so a second run on the same directory stops
with a clear error; a log written before the lock (duplicate keys) is read with the first record per key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping
from pathlib import Path
from typing import Any

import orjson

from judgeanything.jsonsafe import json_safe
from judgeanything.redaction import redact_values
from judgeanything.store.record import RunRecord as RunRecord
from judgeanything.store.record import check_value as check_value
from judgeanything.store.record import record_attempt as record_attempt
from judgeanything.store.record import supersedes as supersedes

log = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

VERDICTS = "verdicts.jsonl"
ITEMS = "items.jsonl"
LABELS = "labels.jsonl"
RUN = "run.json"


class StoreError(RuntimeError):
    """The run log cannot be read or written (names the file and line)."""


def iter_jsonl_lines(path: Path, *, tolerate_torn_tail: bool = False) -> Iterator[tuple[int, Any]]:
    """Stream a JSONL file as ``(1-based line number, value)`` pairs, one line in memory at a time; blank
    lines are skipped.

    Parsing uses ``orjson`` (strict: a lone surrogate escape is an error, see :func:`_dumps`).

    Args:
        path: the file (absent → nothing).
        tolerate_torn_tail: ignore an unterminated, unparseable last line (a write cut by a kill).

    Raises:
        StoreError: a malformed line (naming file and line number), other than a tolerated torn tail.
    """
    if not path.exists():
        return
    with path.open("rb") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                if tolerate_torn_tail and not line.endswith(b"\n"):  # only the last line can lack one
                    return
                raise StoreError(f"{path}: line {i} is not valid JSON ({e.msg})") from e
            yield i, value


def read_jsonl_lines(path: Path, *, tolerate_torn_tail: bool = False) -> list[tuple[int, Any]]:
    """:func:`iter_jsonl_lines` as a list."""
    return list(iter_jsonl_lines(path, tolerate_torn_tail=tolerate_torn_tail))


def read_jsonl(path: Path, *, tolerate_torn_tail: bool = False) -> list[dict[str, Any]]:
    """Read a JSONL file into its rows (see :func:`read_jsonl_lines`)."""
    return [row for _, row in read_jsonl_lines(path, tolerate_torn_tail=tolerate_torn_tail)]


def cap_text(text: str, max_chars: int | None) -> tuple[str, dict[str, int]]:
    """``text`` shortened to at most ``max_chars`` characters, keeping its head and its tail (a judge's verdict
    is often at the end, its reasoning at the start) around a marker that says how much was cut, plus what to
    record beside it: ``{}`` when nothing was cut, else ``{"raw_chars": full length, "raw_cap": max_chars}``.

    One 20 MB answer made a 63 MB run log and a 63 MB report before the cap; the verdict is parsed from the
    full text before it is stored, so the cap never changes a verdict.
    """
    if max_chars is None or len(text) <= max_chars:
        return text, {}
    marker = f"\n[… {len(text) - max_chars:,} characters cut (run.max_raw_chars={max_chars:,}) …]\n"
    keep = max(0, max_chars - len(marker))
    head, tail = keep - keep // 2, keep // 2
    shortened = text[:head] + marker + (text[len(text) - tail:] if tail else "")
    return shortened, {"raw_chars": len(text), "raw_cap": int(max_chars)}


def check_usage(usage: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A judge's token usage split into what may be recorded and what is impossible: a ``*tokens`` count
    (top level, or one level down, e.g. ``completion_tokens_details.reasoning_tokens``) that is not a
    non-negative integer — a negative count, a fraction, text — is removed and returned apart, so that a
    server's bad accounting is flagged (``usage_invalid`` in the record) instead of summed into costs.

    Returns:
        ``(usage to record, {dotted field: the impossible value})``.
    """
    def bad(k: str, v: Any) -> bool:
        return k.endswith("tokens") and v is not None and (
            isinstance(v, bool) or not isinstance(v, int) or v < 0)

    kept: dict[str, Any] = {}
    invalid: dict[str, Any] = {}
    for k, v in usage.items():
        if isinstance(v, Mapping):
            inner = {ik: iv for ik, iv in v.items() if not bad(str(ik), iv)}
            invalid.update({f"{k}.{ik}": iv for ik, iv in v.items() if bad(str(ik), iv)})
            kept[k] = inner
        elif bad(str(k), v):
            invalid[str(k)] = v
        else:
            kept[k] = v
    return kept, invalid


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write rows atomically (temp file + rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(_dumps(r) + "\n")
    os.replace(tmp, path)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps(row: Mapping[str, Any]) -> str:
    """One JSON line, UTF-8-encodable: a lone UTF-16 surrogate in a string (a judge output cut inside an
    emoji's escape pair, ``"\\ud83d"``) becomes U+FFFD. Written raw it cannot be encoded (the append
    raised and stopped the run); escaped, the reader (orjson) rejects the line. A NaN or infinite number
    (not JSON: Python would write ``NaN``, which no reader of the file accepts) is written as ``null``, and
    the field is named in a warning."""
    try:
        line = json.dumps(row, ensure_ascii=False, default=_json_default, allow_nan=False)
    except ValueError:
        fields: list[str] = []
        line = json.dumps(json_safe(row, fields), ensure_ascii=False, default=_json_default, allow_nan=False)
        log.warning("a non-finite number (NaN/Infinity) written as null at %s", ", ".join(fields[:5]))
    return _LONE_SURROGATE.sub("\ufffd", line)


def _json_default(o: Any) -> Any:
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


class RunDirLock:
    """An exclusive, advisory lock on a run directory (``flock`` on ``<run_dir>/.lock``), held while a
    run appends to its log: a second run started on the same directory stops with a clear error instead
    of judging every unit again and writing each key twice. The kernel drops the lock when its process
    dies (even by SIGKILL), so a killed run never blocks its resume.

    Raises:
        StoreError: another process holds the lock (its pid is named when known).
    """

    NAME = ".lock"

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / self.NAME
        self._fh: Any = self.path.open("a+", encoding="utf-8")
        if fcntl is None:  # no flock (Windows): no protection, as before
            return
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self._fh.seek(0)
            holder = self._fh.read().strip()
            self._fh.close()
            raise StoreError(f"{run_dir}: another run is writing this run directory"
                             f"{f' (pid {holder})' if holder else ''}; wait for it to finish, or choose "
                             f"another hydra.run.dir") from e
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(str(os.getpid()))
        self._fh.flush()

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if not self._fh.closed:
            self._fh.close()  # closing the descriptor drops the flock


def _failures(r: Mapping[str, Any]) -> tuple[str, ...]:
    """The failure kinds among a record's outcomes (``()`` for a record of verdicts only)."""
    outs = r.get("outcomes")
    if not isinstance(outs, list):
        return ()
    return tuple(sorted({str(o["failure"]) for o in outs if isinstance(o, dict) and o.get("failure")}))


def _latest_lines(scan: Iterable[tuple[int, Mapping[str, Any]]]) -> dict[int, int]:
    """The lines of a run log that count — the latest attempt of each key (:func:`supersedes`) — as
    ``{line number: position of its key's first record}``; only ``key → (line, attempt, position)`` is held."""
    best: dict[str, tuple[int, int, int]] = {}
    for i, r in scan:
        prev = best.get(r["key"])
        a = record_attempt(r)
        if supersedes(a, None if prev is None else prev[1]):
            best[r["key"]] = (i, a, len(best) if prev is None else prev[2])
    return {line: pos for line, _, pos in best.values()}


def iter_latest_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a run log that count (the latest attempt of each key), in file order, streamed (two
    passes: only the chosen line numbers are held). Lenient, for costs and summaries of a log being written: a
    torn last line, a line that is not JSON or not an object with a string ``key`` is skipped."""
    if not path.exists():
        return
    chosen = _latest_lines(_lenient_scan(path))
    for i, r in _lenient_scan(path):
        if i in chosen:
            yield r


def _lenient_scan(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as f:
        for i, line in enumerate(f):
            if not line.strip() or not line.endswith(b"\n"):
                continue
            try:
                r = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(r, dict) and isinstance(r.get("key"), str):
                yield i, r


class RunLog:
    """The append-only verdict log of one run directory.

    Thread-safe appends; every record is written and flushed to the OS before :meth:`append` returns, so a
    SIGKILL loses at most the record being written, never a finished one; it is fsync'ed (on disk, safe from
    a power cut) before :meth:`append` returns, or — ``sync=False`` — by the runner's :class:`GroupSync`, off
    the event loop, for all the records landed meanwhile (one fsync costs 2–12 ms on a shared disk: one per
    verdict on the event loop capped a run at a few hundred verdicts per second). A unit is logged once,
    unless it is retried: a record with a higher ``attempt`` than the latest one of its key supersedes it
    (analysis counts the latest attempt of each key).

    Args:
        run_dir: the run directory.
        lock: take the directory lock here (False when the caller already holds a :class:`RunDirLock`).
        tally: what else the caller needs of each record that counts, computed in the same read of the log
            (e.g. the cost of each latest record, for a resumed run's budget); the values are
            :attr:`tallied_at_open`.

    Attributes:
        tallied_at_open: ``tally`` of the latest record of each key as the log was when opened, in file order —
            the records :func:`iter_latest_records` yields, in its order (``[]`` without ``tally``; records
            appended since are not in it).
    """

    def __init__(self, run_dir: Path | str, *, lock: bool = True,
                 tally: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / VERDICTS
        self._lock = threading.Lock()
        self._dir_lock = RunDirLock(self.run_dir) if lock else None
        try:
            self._repair_tail()
            self.latest: dict[str, tuple[int, tuple[str, ...]]] = {}
            self.tallied_at_open: list[Any] = self._read(tally)
            self._fh = self.path.open("a", encoding="utf-8")
            self.appended = 0  # records appended by this writer (GroupSync counts what an fsync covers)
        except BaseException:
            if self._dir_lock is not None:
                self._dir_lock.release()
            raise

    def _read(self, tally: Callable[[dict[str, Any]], Any] | None) -> list[Any]:
        """One pass over the log: :attr:`latest` — key → (attempt, failure kinds) of its latest record, what
        resume needs, never the records themselves (holding every record made a rerun peak as high as the run
        that wrote them) — and the ``tally`` of each latest record (by key: ``(line, value)``, a later attempt
        replacing an earlier one), returned in line order."""
        tallied: dict[str, tuple[int, Any]] = {}
        for i, r in self._scan():
            prev = self.latest.get(r["key"])
            a = record_attempt(r)
            if supersedes(a, None if prev is None else prev[0]):
                self.latest[r["key"]] = (a, _failures(r))
                if tally is not None:
                    tallied[r["key"]] = (i, tally(r))
        return [v for _, v in sorted(tallied.values(), key=lambda lv: lv[0])]

    @property
    def done(self) -> KeysView[str]:
        """Keys with a logged record: a live, set-like view (O(1) membership; it was a fresh set per
        access, which made the runner's per-unit ``key not in log.done`` quadratic on resume)."""
        return self.latest.keys()

    @property
    def records(self) -> list[dict[str, Any]]:
        """The latest record of each key, in first-logged order, read back from the file (two streamed
        passes: only the chosen records are held)."""
        chosen = _latest_lines(self._scan())
        out: list[dict[str, Any]] = [{} for _ in chosen]
        for i, r in self._scan():
            if i in chosen:
                out[chosen[i]] = r
        return out

    def retryable(self, kinds: Iterable[str]) -> dict[str, int]:
        """Keys whose latest record failed with one of ``kinds`` (e.g. ``api_error`` after an outage) →
        the attempt number a retry should carry."""
        kinds = set(kinds)
        return {k: a + 1 for k, (a, failed) in self.latest.items() if kinds.intersection(failed)}

    def _scan(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(line number, record)`` of the log, streamed one line at a time.

        Raises:
            StoreError: a line that is not JSON or not a verdict record (naming file and line).
        """
        for i, r in iter_jsonl_lines(self.path):
            if not isinstance(r, dict) or not isinstance(r.get("key"), str):
                raise StoreError(f"{self.path}: line {i} is not a verdict record (a JSON object with a "
                                 f"string 'key')")
            yield i, r

    def _repair_tail(self) -> None:
        """Truncate a torn last line (no trailing newline) left by a killed writer; reads the file backwards
        from its end, never the whole log."""
        if not self.path.exists():
            return
        with self.path.open("r+b") as f:
            end = f.seek(0, os.SEEK_END)
            if end == 0:
                return
            f.seek(end - 1)
            if f.read(1) == b"\n":
                return
            pos = end
            while pos > 0:
                step = min(65536, pos)
                pos -= step
                f.seek(pos)
                nl = f.read(step).rfind(b"\n")
                if nl >= 0:
                    f.truncate(pos + nl + 1)
                    return
            f.truncate(0)

    def append(self, record: RunRecord | Mapping[str, Any], *, sync: bool = True) -> bool:
        """Append one record (fsync'ed now, or at the next :meth:`sync` when ``sync`` is False); returns False
        (and writes nothing) if its key is already logged with the same or a later attempt. Credentials in its
        strings (a server echoing the key into its completion or an error) are masked first
        (:func:`judgeanything.redaction.redact_values`): the log is a sink."""
        row = redact_values(record.to_dict() if isinstance(record, RunRecord) else record)
        line = _dumps(row)
        with self._lock:
            prev = self.latest.get(row["key"])
            if not supersedes(record_attempt(row), None if prev is None else prev[0]):
                return False
            self._fh.write(line + "\n")
            self._fh.flush()
            self.appended += 1
            if sync:
                os.fsync(self._fh.fileno())
            self.latest[row["key"]] = (record_attempt(row), _failures(row))
        return True

    def sync(self) -> None:
        """fsync the log: every record appended before this call is on disk when it returns."""
        os.fsync(self._fh.fileno())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()
            if self._dir_lock is not None:
                self._dir_lock.release()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GroupSync:
    """Group commit for a :class:`RunLog` written with ``append(..., sync=False)``.

    Each record is already written and flushed to the OS when it lands (a killed process loses nothing
    finished); this puts it on disk (safe from a power cut) without the event loop ever waiting on the disk:
    :meth:`kick` starts a background fsync, in a worker thread, that repeats until it has covered every record
    appended so far — one fsync for all the records landed while the previous one ran, instead of one per
    verdict. Each fsync waits ``delay_s`` first to gather more records (group commit with a commit delay, as
    PostgreSQL's ``commit_delay``): at one request at a time against a fast server an fsync per verdict cost
    more CPU than the rest of the runner's work on it. At any moment at most the records of the last
    ``delay_s`` plus one fsync are not yet on disk; :meth:`durable` waits until everything appended before the
    call is.

    Raises (from :meth:`kick` / :meth:`durable`):
        OSError: an fsync failed (the disk is gone or full): the run stops, as with a synchronous append.
    """

    def __init__(self, log: RunLog, delay_s: float = 0.05) -> None:
        self.log, self.delay_s = log, float(delay_s)
        self.synced = 0
        self.fsyncs = 0
        self._task: asyncio.Future[None] | None = None
        self._error: OSError | None = None
        self._hurry = asyncio.Event()  # set while durable() waits: fsync now
        self._waiting = 0

    def kick(self) -> None:
        """Make sure a background fsync will cover the records appended so far (returns at once)."""
        if self._error is not None:
            raise self._error
        if self._task is None and self.synced < self.log.appended:
            self._task = asyncio.ensure_future(self._fsync())

    async def durable(self) -> None:
        """Return once every record appended before the call is fsync'ed. A pending commit delay is cut short:
        whoever asks is waiting (the end of a run), and no more records are coming to gather."""
        target = self.log.appended
        self._waiting += 1
        self._hurry.set()
        try:
            while self.synced < target:
                self.kick()
                if self._task is not None:
                    await asyncio.shield(self._task)
        finally:
            self._waiting -= 1
            if not self._waiting:
                self._hurry.clear()  # records landing from now on are gathered again
        if self._error is not None:
            raise self._error

    async def aclose(self) -> None:
        """Stop the background fsync, if one runs (a run that stops on an error: the log is synced and closed
        by its owner next, and a task waking after that would write to a closed file)."""
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _fsync(self) -> None:
        try:
            while self.synced < self.log.appended:
                if self.delay_s > 0 and not self._hurry.is_set():
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._hurry.wait(), self.delay_s)
                upto = self.log.appended
                await asyncio.to_thread(self.log.sync)
                self.synced = max(self.synced, upto)
                self.fsyncs += 1
        except OSError as e:
            self._error = e
        finally:
            self._task = None
