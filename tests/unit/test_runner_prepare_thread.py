"""Where the runner prepares requests: a unit whose media must be decoded is prepared in a worker thread (a
decode blocks), one whose media are all in the media cache already is prepared on the event loop (lookups cost
less than a thread hop and the GIL contention that comes with it). Requests are prepared ahead of sending
(runner/stages.py): a unit showing a medium that another unit is decoding in a thread waits for that decode
instead of decoding the same file again."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.runner import Runner, RunOptions
from judgeanything.schema import MediaRef, PairItem, Query, Response


class _Watching(Judge):
    """Records in which thread each request was prepared (``prebuild`` runs in the preparing thread)."""

    needs_media = True
    capabilities = frozenset({"text", "image"})
    name = "watching"

    def __init__(self) -> None:
        self.on_loop: dict[str, bool] = {}

    def prebuild(self, req: JudgeRequest) -> None:
        self.on_loop[req.item.item_id] = threading.current_thread() is threading.main_thread()

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        return [JudgeResult(raw='{"comment": "", "verdict": "A"}', finish_reason="stop") for _ in requests]


def _data(root: Path, n_items: int, images: Sequence[str]) -> BenchmarkData:
    for k, name in enumerate(images):  # different pixels: the media cache is keyed by content
        Image.fromarray(np.full((8, 8, 3), 40 * k, np.uint8)).save(root / name)
    items = []
    for i in range(n_items):
        q = Query(f"u{i}", "Image2Text", f"what is in the image {i}?",
                  media=(MediaRef("image", path=images[i % len(images)]),))
        items.append(PairItem(f"u{i}::a_vs_b", q, Response("a", q.uniq_id, "ma", "text", text="a cat"),
                              Response("b", q.uniq_id, "mb", "text", text="a dog")))
    return BenchmarkData(name="toy", setting="pair", items=items, data_root=root)


def test_only_units_needing_a_decode_leave_the_event_loop(tmp_path: Path) -> None:
    judge = _Watching()
    data = _data(tmp_path, 6, ["one.png", "two.png"])
    counts = Runner(data, judge, tmp_path / "run", RunOptions(progress=False, concurrency=1)).run()
    assert counts["judged"] == 6
    # items alternate between two images: the first unit showing each decodes it in a thread, the rest look up
    assert judge.on_loop == {"u0::a_vs_b": False, "u1::a_vs_b": False, **{f"u{i}::a_vs_b": True for i in range(2, 6)}}


def test_each_run_decodes_its_first_unit_off_the_loop(tmp_path: Path) -> None:
    data = _data(tmp_path, 3, ["one.png"])
    first = _Watching()
    Runner(data, first, tmp_path / "run1", RunOptions(progress=False, concurrency=1)).run()
    assert list(first.on_loop.values()) == [False, True, True]
    # a new run has its own media cache: nothing is ready, the first unit decodes in a thread again
    again = _Watching()
    Runner(data, again, tmp_path / "run2", RunOptions(progress=False, concurrency=1)).run()
    assert list(again.on_loop.values()) == [False, True, True]
