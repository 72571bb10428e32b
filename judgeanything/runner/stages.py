"""The judging loop's three stages on one event loop: prepare ahead → send → land behind.

A request's critical path is the time from one answer arriving to the next request leaving. With ``c``
requests in flight against a server that answers after a fixed latency, the answers come back in waves, and
whatever CPU work sits between "answer in" and "next request out" is paid ``c`` times per wave, one after
another, by the requests at the back of the wave. Rendering the next prompt (~0.3 ms for a text item) and
writing the finished unit's record (~0.2 ms: parse, build, redact, encode, write) were on that path; at
``c = 32`` and 200 ms they stretched a cycle to ~235 ms (0.85 of the ideal for one process, less when two
shard processes share two cores, benchmarks/README.md).

So the runner splits the work:

* **prepare ahead** (:func:`prepare_ahead`): one task renders requests into a bounded buffer (at most one
  per sender) while the senders wait on the network, yielding to the loop after each so that an answer that
  has arrived is handled first; chunks whose media are not decoded yet go to worker threads, a few at a time;
* **send**: the senders only take a prepared request, wait for admission (budget, rate limits, window) and
  send it;
* **land behind** (:class:`Landing`): finished units are queued and written by one task, one record per
  turn of the event loop, so that sending never waits behind writing.

Asyncio has no task priorities; yielding after every unit of background work is what keeps the senders
first: a loop iteration runs every callback that is ready, so a sender whose answer arrived waits at most one
background step (a fraction of a millisecond), not the whole backlog.

What this costs: a unit whose answer has arrived but whose record is not yet written (at most the records of
one wave, written within milliseconds) is judged again after a SIGKILL, like a request still in flight.
Errors and cancellation write every queued record before they propagate (:meth:`Landing.drain`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Hashable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
P = TypeVar("P")

#: chunks whose media need decoding prepared in worker threads at once (decoders release the GIL in part;
#: more threads than this only contend on a small machine)
PREPARE_THREADS = 4


class Landing(Generic[T]):
    """Finished work written behind the senders: :meth:`push` queues (returns at once), :meth:`run` writes
    what is queued with ``land``, one item per turn of the event loop, until :meth:`close` and the queue is
    empty.

    Raises (from :meth:`run` / :meth:`drain`): whatever ``land`` raises (e.g. ``OSError``: the disk is full);
    the item that raised is not retried.
    """

    def __init__(self, land: Callable[[T], None]) -> None:
        self._land = land
        self._queue: deque[T] = deque()
        self._wake = asyncio.Event()
        self._closed = False

    def push(self, item: T) -> None:
        self._queue.append(item)
        self._wake.set()

    def close(self) -> None:
        """No more items will come; :meth:`run` returns once the queue is empty."""
        self._closed = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            while self._queue:
                self._land(self._queue.popleft())
                await asyncio.sleep(0)  # one record per turn: an answer that came in meanwhile goes first
            if self._closed:
                return
            self._wake.clear()
            await self._wake.wait()

    def drain(self) -> None:
        """Write everything queued now, without yielding (on errors and cancellation)."""
        while self._queue:
            self._land(self._queue.popleft())


#: what the preparer hands a sender: a chunk and its preparation (done, or running in a worker thread; its
#: result is ``None`` for a chunk passed on unprepared), in the chunks' order; ``None`` when there are no more
Prepared = tuple[T, asyncio.Future[P | None]]


async def prepare_ahead(chunks: Sequence[T], out: asyncio.Queue[Prepared[T, P] | None], n_senders: int,
                        prepare: Callable[[T], P], needs_thread: Callable[[T], bool],
                        media_of: Callable[[T], Collection[Hashable]], skip: Callable[[], bool]) -> None:
    """Prepare ``chunks`` for the senders, handing them out through ``out`` (a bounded queue: this waits while
    it is full) in the chunks' order — so one sender sends in the planned order, and the run log of a sequential
    judge reads in it — then put one ``None`` per sender.

    Args:
        prepare: builds a chunk's requests (blocking; called on the loop or in a worker thread).
        needs_thread: whether a chunk must be prepared in a worker thread (media still to decode); at most
            :data:`PREPARE_THREADS` at once.
        media_of: the media a chunk shows: a chunk sharing one with a chunk being prepared in a thread waits
            for it (then usually finds its media decoded) instead of decoding the same file again at once.
        skip: checked before each chunk: when true the chunk is passed on unprepared (result ``None``), e.g.
            once the budget is spent.

    Raises: whatever ``prepare`` raises on the loop; an error in a worker thread is raised to the sender that
    awaits that chunk (the run stops with either).
    """
    loop = asyncio.get_running_loop()
    threads = asyncio.Semaphore(PREPARE_THREADS)
    decoding: dict[asyncio.Future[P | None], Collection[Hashable]] = {}  # running in threads, with their media

    def done(value: P | None) -> asyncio.Future[P | None]:
        fut: asyncio.Future[P | None] = loop.create_future()
        fut.set_result(value)
        return fut

    async def after_shared_decodes(chunk: T) -> None:
        mine = set(media_of(chunk))
        while shared := [t for t, media in decoding.items() if not mine.isdisjoint(media)]:
            await asyncio.wait(shared)

    started: list[asyncio.Future[P | None]] = []
    try:
        for chunk in chunks:
            if skip():
                await out.put((chunk, done(None)))
                continue
            if needs_thread(chunk):
                await after_shared_decodes(chunk)
            if needs_thread(chunk):
                await threads.acquire()
                task: asyncio.Future[P | None] = asyncio.ensure_future(asyncio.to_thread(prepare, chunk))
                task.add_done_callback(lambda t: threads.release())
                started.append(task)
                decoding[task] = media_of(chunk)
                task.add_done_callback(decoding.pop)
                await out.put((chunk, task))
            else:
                await out.put((chunk, done(prepare(chunk))))
                await asyncio.sleep(0)  # let the senders whose answers arrived go first
    except BaseException:
        for t in started:
            t.cancel()
        raise
    for _ in range(n_senders):
        await out.put(None)


async def run_stages(stages: Sequence[Awaitable[None]], landing: Landing[T]) -> None:
    """Run the stages (preparer, senders) and ``landing`` together until all are done.

    The first of them to raise (the landing included: a full disk) cancels the others; the queued records are
    written (:meth:`Landing.drain`) before the exception propagates, and so on cancellation: nothing judged is
    lost.
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
        await asyncio.gather(*tasks, lander, return_exceptions=True)
        landing.drain()


async def _until_done(tasks: Sequence[asyncio.Future[None]], also_watch: asyncio.Future[None]) -> None:
    """Return when every task is done; raise the first exception of a task or of ``also_watch`` at once."""
    waiting = {*tasks, also_watch}
    while any(not t.done() for t in tasks):
        done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if not t.cancelled() and t.exception() is not None:
                raise t.exception()  # type: ignore[misc]


__all__ = ["PREPARE_THREADS", "Landing", "Prepared", "prepare_ahead", "run_stages"]
