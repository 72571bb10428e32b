"""The judging loop's stages (runner/stages.py): requests prepared ahead into a bounded buffer, records written
behind the senders, and nothing answered lost when a stage fails or the run is cancelled."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from judgeanything.cache import JudgeCache
from judgeanything.cache.judge_cache import CacheOptions
from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.runner import Runner, RunOptions
from judgeanything.runner.stages import Landing, prepare_ahead, run_stages
from judgeanything.schema import MediaRef, PairItem, Query, Response
from judgeanything.store import RunLog
from tests.support.items import toy_pairs

ANSWER = '{"comment": "", "verdict": "A"}'


class _LogWatching(Judge):
    """Answers after ``delay_s``; notes how many records the run log held when each request was sent."""

    needs_media = False
    name = "log-watching"

    def __init__(self, log_path: Path, delay_s: float = 0.005) -> None:
        self.log_path, self.delay_s = log_path, delay_s
        self.lines_at_send: list[int] = []

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        text = self.log_path.read_text() if self.log_path.exists() else ""
        self.lines_at_send.append(text.count("\n"))
        await asyncio.sleep(self.delay_s)
        return [JudgeResult(raw=ANSWER, finish_reason="stop") for _ in requests]


def test_the_next_request_leaves_before_the_last_record_is_written(tmp_path: Path) -> None:
    run = tmp_path / "run"
    judge = _LogWatching(run / "verdicts.jsonl")
    counts = Runner(toy_pairs(5), judge, run, RunOptions(progress=False, concurrency=1)).run()
    assert counts == {"judged": 5, "skipped": 0, "retried": 0, "failures": 0}
    # one sender: request k goes out as soon as answer k-1 is in; record k-1 is written while k is in flight
    assert judge.lines_at_send == [0, 0, 1, 2, 3]
    with RunLog(run) as log:
        assert sorted(r["item_id"] for r in log) == [f"u{i}::a_vs_b" for i in range(5)]


class _FailsAt(Judge):
    """Answers every request at once, but raises a configuration error on the ``k``-th call."""

    needs_media = False
    name = "fails-at"

    def __init__(self, k: int) -> None:
        self.k, self.calls = k, 0

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        self.calls += 1
        if self.calls == self.k:
            raise JudgeConfigError("the key was revoked")
        return [JudgeResult(raw=ANSWER, finish_reason="stop") for _ in requests]


def test_a_config_error_keeps_every_answer_received_before_it(tmp_path: Path) -> None:
    judge = _FailsAt(4)
    with pytest.raises(JudgeConfigError, match="revoked"):
        Runner(toy_pairs(8), judge, tmp_path, RunOptions(progress=False, concurrency=1)).run()
    with RunLog(tmp_path) as log:
        assert [r["item_id"] for r in log] == [f"u{i}::a_vs_b" for i in range(3)]


# -- the stages on their own -------------------------------------------------------------------------------


def test_landing_writes_what_was_queued_when_a_stage_raises() -> None:
    landed: list[int] = []
    landing: Landing[int] = Landing(landed.append)

    async def stage() -> None:
        for i in range(3):
            landing.push(i)
        raise RuntimeError("sender broke")

    with pytest.raises(RuntimeError, match="sender broke"):
        asyncio.run(run_stages([stage()], landing))
    assert landed == [0, 1, 2]


def test_a_landing_error_stops_the_senders() -> None:
    sent = 0

    def land(i: int) -> None:
        if i == 2:
            raise OSError(28, "No space left on device")

    landing: Landing[int] = Landing(land)

    async def sender() -> None:
        nonlocal sent
        while True:  # would run forever: only the landing's error can stop it
            landing.push(sent)
            sent += 1
            await asyncio.sleep(0.001)

    with pytest.raises(OSError, match="No space left"):
        asyncio.run(asyncio.wait_for(run_stages([sender()], landing), timeout=10))
    assert sent < 50


def test_cancelling_the_run_writes_what_was_queued() -> None:
    landed: list[int] = []
    landing: Landing[int] = Landing(landed.append)
    queued = asyncio.Event()

    async def stage() -> None:
        for i in range(5):
            landing.push(i)
        queued.set()
        await asyncio.sleep(3600)

    async def main() -> None:
        task = asyncio.ensure_future(run_stages([stage()], landing))
        await queued.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert landed == [0, 1, 2, 3, 4]


def test_the_preparer_stays_at_most_one_buffer_ahead() -> None:
    prepared: list[int] = []

    async def main() -> list[int]:
        out: asyncio.Queue = asyncio.Queue(maxsize=3)
        task = asyncio.ensure_future(prepare_ahead(list(range(20)), out, 1, lambda c: prepared.append(c) or c,
                                                   needs_thread=lambda c: False, media_of=lambda c: (),
                                                   skip=lambda: False))
        for _ in range(10):
            await asyncio.sleep(0)
        ahead = len(prepared)  # nobody has taken anything yet
        got = []
        while (x := await out.get()) is not None:
            got.append(await x[1])
        await task
        assert ahead == 4  # three in the buffer, one prepared and waiting to be put
        return got

    assert asyncio.run(main()) == list(range(20))


def test_a_shared_medium_is_decoded_once_not_by_two_threads_at_once() -> None:
    decoded: set[str] = set()
    threads: list[str] = []
    lock = threading.Lock()
    media = {"c0": {"cat.png"}, "c1": {"cat.png"}, "c2": {"dog.png"}, "c3": {"cat.png", "dog.png"}}

    def prepare(chunk: str) -> str:
        with lock:
            if threading.current_thread() is not threading.main_thread():
                threads.append(chunk)
        decoded.update(media[chunk])
        return chunk

    async def main() -> list[tuple[str, str | None]]:
        out: asyncio.Queue = asyncio.Queue(maxsize=8)
        await prepare_ahead(list(media), out, 1, prepare, needs_thread=lambda c: not media[c] <= decoded,
                            media_of=lambda c: media[c], skip=lambda: False)
        handed = [x for x in (out.get_nowait() for _ in range(out.qsize())) if x is not None]
        return [(c, await f) for c, f in handed]

    got = asyncio.run(main())
    assert got == [("c0", "c0"), ("c1", "c1"), ("c2", "c2"), ("c3", "c3")]  # handed out in order
    # c1 waited for c0's decode of cat.png and found it decoded; c3 found both decoded
    assert sorted(threads) == ["c0", "c2"]


def test_chunks_after_the_budget_stops_pass_unprepared() -> None:
    stop_after = 2
    done: list[int] = []

    async def main() -> list[tuple[int, int | None] | None]:
        out: asyncio.Queue = asyncio.Queue(maxsize=10)
        await prepare_ahead(list(range(5)), out, 2, lambda c: done.append(c) or c, needs_thread=lambda c: False,
                            media_of=lambda c: (), skip=lambda: len(done) >= stop_after)
        handed = [out.get_nowait() for _ in range(out.qsize())]
        return [None if x is None else (x[0], await x[1]) for x in handed]

    assert asyncio.run(main()) == [(0, 0), (1, 1), (2, None), (3, None), (4, None), None, None]


def test_thread_preparations_finishing_out_of_order_are_handed_out_in_order() -> None:
    release = {k: threading.Event() for k in range(4)}

    def prepare(chunk: int) -> int:
        assert release[chunk].wait(10)
        return chunk * 10

    async def main() -> list[int]:
        out: asyncio.Queue = asyncio.Queue(maxsize=5)
        await prepare_ahead(list(range(4)), out, 1, prepare, needs_thread=lambda c: True,
                            media_of=lambda c: {f"m{c}"}, skip=lambda: False)
        for k in (3, 1, 2, 0):  # the last decode finishes first
            release[k].set()
        handed = [out.get_nowait() for _ in range(out.qsize())]
        assert [x[0] for x in handed[:4]] == [0, 1, 2, 3] and handed[4] is None
        return [await f for _, f in handed[:4]]

    assert asyncio.run(main()) == [0, 10, 20, 30]


def test_an_error_preparing_in_a_thread_reaches_the_sender() -> None:
    def prepare(chunk: int) -> int:
        raise ValueError(f"chunk {chunk}: checklist missing")

    async def main() -> None:
        out: asyncio.Queue = asyncio.Queue(maxsize=2)
        await prepare_ahead([7], out, 1, prepare, needs_thread=lambda c: True, media_of=lambda c: (),
                            skip=lambda: False)
        _, fut = out.get_nowait()
        await fut

    with pytest.raises(ValueError, match="chunk 7: checklist missing"):
        asyncio.run(main())


# -- bounds: what waits to be written, what stays in memory, decodes that overlap ---------------------------


class _Instant(Judge):
    """Answers at once, without ever yielding to the event loop (as a baseline or a judge-cache hit does);
    notes how many answers were not yet in the run log at each call."""

    needs_media = False
    name = "instant"
    kind = "api"

    def __init__(self, log_path: Path | None = None) -> None:
        self.log_path, self.answered, self.lag = log_path, 0, [0]

    def fingerprint(self) -> dict[str, str]:
        return {"name": self.name, "model": "instant-1"}

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        if self.log_path is not None and self.log_path.exists():
            self.lag.append(self.answered - self.log_path.read_text().count("\n"))
        self.answered += len(requests)
        return [JudgeResult(raw=ANSWER, finish_reason="stop", model="instant-1",
                            usage={"prompt_tokens": 1000, "completion_tokens": 100}) for _ in requests]


@pytest.mark.parametrize(("batch_size", "concurrency"), [(8, 1), (4, 3)])
def test_a_judge_that_never_waits_cannot_queue_the_run_for_the_writer(tmp_path: Path, batch_size: int,
                                                                      concurrency: int) -> None:
    judge = _Instant(tmp_path / "verdicts.jsonl")
    counts = Runner(toy_pairs(400), judge, tmp_path, RunOptions(progress=False, batch_size=batch_size,
                                                                concurrency=concurrency)).run()
    assert counts["judged"] == 400
    # a sender waits while more answers are queued than the senders can have in flight (n_senders × batch):
    # at most that plus one chunk per sender, pushed before it saw the limit, are ever unwritten (unbounded,
    # nearly all 400 were)
    assert 0 < max(judge.lag) <= 2 * concurrency * batch_size


def test_a_budget_is_not_spent_on_answers_still_waiting_to_be_written(tmp_path: Path) -> None:
    price = {"input_per_mtok": 1.0, "output_per_mtok": 1.0}  # 0.0011 USD per answer
    cache_dir = str(tmp_path / "cache")
    data = toy_pairs(400)
    warm = replace_items(data, data.items[10:])
    Runner(warm, _Instant(), tmp_path / "warm", RunOptions(progress=False),
           judge_cache=JudgeCache(CacheOptions(dir=cache_dir)), price=price).run()
    judge = _Instant()
    counts = Runner(data, judge, tmp_path / "run", RunOptions(progress=False, batch_size=16, concurrency=4,
                                                             budget_usd=0.05),
                    judge_cache=JudgeCache(CacheOptions(dir=cache_dir)), price=price).run()
    # 390 answers come free from the cache and 10 are paid (0.011 USD): all fit in 0.05 USD. Settled only when
    # written (even with the writer's queue bounded), the hits' cost reservations stopped the run after 48.
    assert counts["judged"] == 400 and counts.get("cached") == 390 and "left_by_budget" not in counts
    assert judge.answered == 10


def replace_items(data, items):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(data, items=list(items))


class _MediaWatching(Judge):
    """A judge of image items that keeps a weak reference to every request it is sent and notes how many of
    the earlier ones are still alive at each call."""

    needs_media = True
    capabilities = frozenset({"text", "image"})
    name = "media-watching"

    def __init__(self) -> None:
        self.seen: list[weakref.ref[JudgeRequest]] = []
        self.alive: list[int] = []

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        gc.collect()
        self.alive.append(sum(r() is not None for r in self.seen))
        self.seen.extend(weakref.ref(r) for r in requests)
        await asyncio.sleep(0.001)
        return [JudgeResult(raw=ANSWER, finish_reason="stop") for _ in requests]


def test_requests_prepared_in_threads_are_not_kept_once_judged(tmp_path: Path) -> None:
    n = 40
    items = []
    for i in range(n):  # a distinct image per item: each unit is prepared in a worker thread
        Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(tmp_path / f"img{i}.png")
        q = Query(f"u{i}", "Image2Text", f"what is in image {i}?", media=(MediaRef("image", path=f"img{i}.png"),))
        items.append(PairItem(f"u{i}::a_vs_b", q, Response("a", q.uniq_id, "ma", "text", text="a cat"),
                              Response("b", q.uniq_id, "mb", "text", text="a dog")))
    data = BenchmarkData(name="toy", setting="pair", items=items, data_root=tmp_path)
    judge = _MediaWatching()
    assert Runner(data, judge, tmp_path / "run", RunOptions(progress=False, concurrency=1)).run()["judged"] == n
    # the request in the sender's hands, the one waiting to be written, the one prepared ahead: a few, not all
    assert max(judge.alive) <= 4, judge.alive


def test_decodes_behind_a_chunk_waiting_for_a_shared_medium_go_on() -> None:
    started = {c: threading.Event() for c in ("a", "c", "d")}
    media = {"a": {"m1"}, "b": {"m1"}, "c": {"m2"}, "d": {"m3"}}
    decoded: set[str] = set()

    def prepare(chunk: str) -> str:
        if chunk in started:
            started[chunk].set()
        if chunk == "a":  # a's decode finishes only once c's and d's have started beside it
            assert started["c"].wait(10) and started["d"].wait(10), "the decodes behind b were held back"
        decoded.update(media[chunk])
        return chunk

    async def main() -> list[str | None]:
        out: asyncio.Queue = asyncio.Queue(maxsize=5)
        await prepare_ahead(list(media), out, 1, prepare, needs_thread=lambda c: not media[c] <= decoded,
                            media_of=lambda c: media[c], skip=lambda: False)
        handed = [out.get_nowait() for _ in range(4)]
        return [await f for _, f in handed]

    assert asyncio.run(main()) == ["a", "b", "c", "d"]


def test_draining_writes_every_record_it_can_then_raises_the_first_error(caplog: pytest.LogCaptureFixture) -> None:
    landed: list[int] = []

    def land(i: int) -> None:
        if i in (1, 3):
            raise OSError(28, f"No space left on device (record {i})")
        landed.append(i)

    landing: Landing[int] = Landing(land)
    for i in range(5):
        landing.push(i)
    with pytest.raises(OSError, match=r"record 1\)"):
        landing.drain()
    assert landed == [0, 2, 4] and len(landing) == 0
    assert "2 answers received before the run stopped could not be written" in caplog.text


def test_an_error_while_draining_does_not_replace_the_error_that_stopped_the_run(
        caplog: pytest.LogCaptureFixture) -> None:
    def land(i: int) -> None:
        raise OSError(28, "No space left on device")

    landing: Landing[int] = Landing(land)

    async def stage() -> None:
        landing.push(0)  # the lander tries this one (and fails) ...
        landing.push(1)  # ... this one is left to the drain after the error
        raise JudgeConfigError("the key was revoked")

    with pytest.raises(JudgeConfigError, match="revoked"):  # what the user must see (the CLI exits 2 on it)
        asyncio.run(run_stages([stage()], landing))
    assert "writing the answers received before the run stopped failed" in caplog.text


def test_a_run_that_stops_on_an_error_leaves_no_background_fsync_behind(tmp_path: Path) -> None:
    async def main() -> list[str]:
        with pytest.raises(JudgeConfigError):
            await Runner(toy_pairs(8), _FailsAt(4), tmp_path, RunOptions(progress=False, concurrency=1)).arun()
        # at once: a group commit still sleeping out its delay (it would wake to fsync a closed log) is listed
        return [repr(t) for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(main()) == []
