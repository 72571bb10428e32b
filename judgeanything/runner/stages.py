"""The judging loop's three stages on one event loop: prepare ahead → send → land behind.

A request's critical path is the time from one answer arriving to the next request leaving. With ``c``
requests in flight against a server that answers after a fixed latency, the answers come back in waves, and
whatever CPU work sits between "answer in" and "next request out" is paid ``c`` times per wave, one after
another, by the requests at the back of the wave. Rendering the next prompt and writing the finished unit's
record (parse, build, redact, encode, write) were on that path; at ``c = 32`` and 200 ms a cycle took ~235 ms
(one-off measurement, benchmarks/README.md), and two shard processes sharing two cores reached 0.66–0.84 of
the ideal (``results/bench_throughput_c64*.json``; 0.89 with the stages).

So the runner splits the work:

* **prepare ahead** (:func:`prepare_ahead`): one task renders requests while the senders wait on the
  network, handing them out in the planned order through a queue of one chunk per sender, and yielding to the
  loop after each so that an answer that has arrived is handled first. A chunk whose media are not decoded yet
  is prepared in a worker thread (:data:`PREPARE_THREADS` at once) by a task of its own, which first waits for
  any chunk decoding one of the same media (then usually finds it decoded) — the preparer itself never waits on
  a decode;
* **send**: the senders only take a prepared chunk, wait for admission (budget, rate limits, window) and
  send it;
* **land behind** (:class:`Landing`): answers are queued and written by one task, one record per turn of the
  event loop, so that sending never waits behind writing; a sender waits only when more answers are queued
  than the senders can have in flight at once (:meth:`Landing.room`), which happens only with judges that
  answer without waiting (baselines, judge-cache hits).

Asyncio has no task priorities; yielding after every unit of background work is what keeps the senders
first: a loop iteration runs every callback that is ready, so a sender whose answer arrived waits at most one
background step (a fraction of a millisecond), not the whole backlog.

What this costs: a unit whose answer has arrived but whose record is not yet written (at most one answer per
request the senders can have in flight) is asked again
after a SIGKILL, like a request still in flight (from the judge cache, when it is on). Errors and
cancellation write every queued record before they propagate (:meth:`Landing.drain`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Hashable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
P = TypeVar("P")

log = logging.getLogger("judgeanything.runner")

#: chunks decoded in worker threads at once. The decodes share the default executor with the senders' own
#: short thread hops (media request bodies, judge-cache lookups, the group-commit fsync); unbounded, a wave of
#: decodes ahead held those hops back by ~0.6 s each in a reviewer's reproduction (a 1024² PNG per unit,
#: concurrency 32; not a kept benchmark). Decoders release
#: the GIL in part: more than a few threads only contend on a small machine.
PREPARE_THREADS = 4


class Landing(Generic[T]):
    """Finished work written behind the senders: :meth:`push` queues (returns at once), :meth:`run` writes
    what is queued with ``land``, one item per turn of the event loop, until :meth:`close` and the queue is
    empty; :meth:`room` lets a sender wait while too much is queued.

    Raises (from :meth:`run`): whatever ``land`` raises (e.g. ``OSError``: the disk is full). The item that
    raised is not tried again (its unit is not counted; a record the disk refused part of may still reach the
    file with the next write, and a resume judges that unit again either way).
    """

    def __init__(self, land: Callable[[T], None]) -> None:
        self._land = land
        self._queue: deque[T] = deque()
        self._wake = asyncio.Event()
        self._taken = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._queue)

    def push(self, item: T) -> None:
        self._queue.append(item)
        self._wake.set()

    async def room(self, limit: int) -> None:
        """Return once at most ``limit`` items are queued (at once when there are)."""
        while len(self._queue) > limit:
            self._taken.clear()
            await self._taken.wait()

    def close(self) -> None:
        """No more items will come; :meth:`run` returns once the queue is empty."""
        self._closed = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            while self._queue:
                self._land(self._queue.popleft())
                self._taken.set()
                await asyncio.sleep(0)  # one record per turn: an answer that came in meanwhile goes first
            if self._closed:
                return
            self._wake.clear()
            await self._wake.wait()

    def drain(self) -> None:
        """Write everything queued now, without yielding (on errors and cancellation). An item whose ``land``
        raises does not stop the others (a full disk may refuse one record and take the next); the first error
        is raised once all were tried."""
        errors: list[Exception] = []
        while self._queue:
            try:
                self._land(self._queue.popleft())
            except Exception as e:  # each record gets its own chance to be written
                errors.append(e)
        if errors:
            if len(errors) > 1:
                log.error("%d answers received before the run stopped could not be written (first: %s); a "
                          "resume judges them again", len(errors), errors[0])
            raise errors[0]


#: what the preparer hands a sender: a chunk and its preparation (done, or a task preparing it; its result is
#: ``None`` for a chunk passed on unprepared), in the chunks' order; ``None`` when there are no more
Prepared = tuple[T, asyncio.Future[P | None]]


async def prepare_ahead(chunks: Sequence[T], out: asyncio.Queue[Prepared[T, P] | None], n_senders: int,
                        prepare: Callable[[T], P], needs_thread: Callable[[T], bool],
                        media_of: Callable[[T], Collection[Hashable]], skip: Callable[[], bool]) -> None:
    """Prepare ``chunks`` for the senders, handing them out through ``out`` (a bounded queue: this waits while
    it is full) in the chunks' order — so one sender sends in the planned order, and the run log of a sequential
    judge reads in it — then put one ``None`` per sender.

    Args:
        prepare: builds a chunk's requests (blocking; called on the loop or in a worker thread).
        needs_thread: whether a chunk must be prepared in a worker thread (media still to decode).
        media_of: the media a chunk shows: a chunk sharing one with a chunk being prepared in a thread waits
            for it (then usually finds its media decoded) instead of decoding the same file again at once;
            chunks behind it go on being prepared meanwhile.
        skip: checked before each chunk: when true the chunk is passed on unprepared (result ``None``), e.g.
            once the budget is spent.

    Raises: whatever ``prepare`` raises on the loop; an error preparing a chunk in a task of its own is raised
    to the sender that awaits that chunk (the run stops with either).
    """
    loop = asyncio.get_running_loop()
    threads = asyncio.Semaphore(PREPARE_THREADS)
    # chunks being prepared by tasks of their own, with their media; a task leaves when it is done, so nothing
    # here holds a prepared request (its media payloads) once the sender has it
    decoding: dict[asyncio.Future[P | None], Collection[Hashable]] = {}

    def done(value: P | None) -> asyncio.Future[P | None]:
        fut: asyncio.Future[P | None] = loop.create_future()
        fut.set_result(value)
        return fut

    async def in_thread(chunk: T, shared: list[asyncio.Future[P | None]]) -> P | None:
        if shared:
            await asyncio.wait(shared)
            if not needs_thread(chunk):  # the shared media are decoded now: a lookup, on the loop
                return prepare(chunk)
        async with threads:
            return await asyncio.to_thread(prepare, chunk)

    try:
        for chunk in chunks:
            if skip():
                await out.put((chunk, done(None)))
            elif needs_thread(chunk):
                mine = media_of(chunk)
                shared = [t for t, media in decoding.items() if any(m in media for m in mine)]
                task = asyncio.ensure_future(in_thread(chunk, shared))
                decoding[task] = mine
                task.add_done_callback(_forget(decoding))
                await out.put((chunk, task))
            else:
                await out.put((chunk, done(prepare(chunk))))
                await asyncio.sleep(0)  # let the senders whose answers arrived go first
    except BaseException:
        for t in list(decoding):
            t.cancel()
        raise
    for _ in range(n_senders):
        await out.put(None)


def _forget(decoding: dict[asyncio.Future[P | None], Collection[Hashable]]
            ) -> Callable[[asyncio.Future[P | None]], None]:
    """A done-callback that drops a finished preparation from ``decoding`` and marks its exception as seen:
    the sender awaiting it still gets the exception; one never awaited (the run stopped first) is not
    reported again as 'never retrieved'."""
    def forget(task: asyncio.Future[P | None]) -> None:
        decoding.pop(task, None)
        if not task.cancelled():
            task.exception()
    return forget


async def run_stages(stages: Sequence[Awaitable[None]], landing: Landing[T]) -> None:
    """Run the stages (preparer, senders) and ``landing`` together until all are done.

    The first of them to raise (the landing included: a full disk) cancels the others; the queued records are
    written (:meth:`Landing.drain`) before the exception propagates, and so on cancellation: nothing judged is
    lost. An error while draining after another error is logged, and the first error propagates.
    """
    tasks = [asyncio.ensure_future(s) for s in stages]
    lander = asyncio.ensure_future(landing.run())
    try:
        await _until_done(tasks, also_watch=lander)
        landing.close()
        await lander
    finally:
        for t in [*tasks, lander]:
            t.cancel()
        _drain_after(landing)  # before waiting: a second cancellation during the wait must not lose them
        await asyncio.gather(*tasks, lander, return_exceptions=True)
        _drain_after(landing)


def _drain_after(landing: Landing[T]) -> None:
    """:meth:`Landing.drain`; while another exception is propagating, a drain error is logged instead of
    replacing it (a configuration error must still reach the user as itself)."""
    if sys.exc_info()[1] is None:
        landing.drain()
        return
    try:
        landing.drain()
    except Exception:  # not hidden: logged with its traceback; the unwritten units are not counted (a resume
        # judges them again), and the error that stopped the run propagates as itself
        log.exception("writing the answers received before the run stopped failed")


async def _until_done(tasks: Sequence[asyncio.Future[None]], also_watch: asyncio.Future[None]) -> None:
    """Return when every task is done; raise the first exception of a task or of ``also_watch`` at once (a
    task's before ``also_watch``'s when both are done: a stage's error, e.g. a configuration error, is the cause
    a failing landing would only follow)."""
    waiting = {*tasks, also_watch}
    while any(not t.done() for t in tasks):
        done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for t in [*(t for t in tasks if t in done), *([also_watch] if also_watch in done else [])]:
            if not t.cancelled() and (error := t.exception()) is not None:
                raise error


__all__ = ["PREPARE_THREADS", "Landing", "Prepared", "prepare_ahead", "run_stages"]
