"""Runner input checks and run-directory policies: duplicate item ids, run.overwrite."""

from __future__ import annotations

import pytest

from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges.baselines import FirstJudge
from judgeanything.runner import RunConfigError, Runner, RunOptions
from judgeanything.schema import PairItem, Query, Response
from judgeanything.store import RunLog


def _item(i: int, item_id: str | None = None) -> PairItem:
    q = Query(f"u{i}", "Text2Text", f"question {i}")
    return PairItem(item_id or f"u{i}::a_vs_b", q, Response("a", q.uniq_id, "ma", "text", text="yes"),
                    Response("b", q.uniq_id, "mb", "text", text="no"))


def test_a_duplicate_item_id_is_named():
    items = [_item(0), _item(1, "same"), _item(2), _item(3, "same")]
    with pytest.raises(RunConfigError, match="duplicate item id 'same'"):
        Runner(BenchmarkData("toy", "pair", items), FirstJudge(), "unused", RunOptions(progress=False))


def test_overwrite_sets_the_old_log_aside_and_judges_afresh(tmp_path):
    data = BenchmarkData("toy", "pair", [_item(i) for i in range(3)])
    assert Runner(data, FirstJudge(), tmp_path, RunOptions(progress=False)).run()["judged"] == 3
    assert Runner(data, FirstJudge(), tmp_path, RunOptions(progress=False)).run()["skipped"] == 3
    counts = Runner(data, FirstJudge(), tmp_path, RunOptions(progress=False, overwrite=True)).run()
    assert counts["judged"] == 3 and counts["skipped"] == 0
    (old,) = tmp_path.glob("verdicts.jsonl.replaced-*")
    assert len(old.read_text().splitlines()) == 3
    with RunLog(tmp_path) as log:
        assert len(log.records) == 3


def test_run_json_says_why_a_response_could_not_be_measured(tmp_path):
    import json

    from PIL import Image

    from judgeanything.judges.baselines import LongerJudge
    from judgeanything.schema import MediaRef

    Image.new("RGB", (4, 3)).save(tmp_path / "a.png")
    q = Query("u", "Text2Image", "draw a cat")
    item = PairItem("u::a_vs_b", q, Response("a", "u", "ma", "image", media=(MediaRef("image", path="a.png"),)),
                    Response("b", "u", "mb", "image", media=(MediaRef("image", path="gone.png"),)))
    data = BenchmarkData("toy", "pair", [item], data_root=tmp_path)
    run_dir = tmp_path / "run"
    assert Runner(data, LongerJudge(), run_dir, RunOptions(progress=False)).run()["failures"] == 1
    cache = json.loads((run_dir / "run.json").read_text())["media_cache"]
    assert cache["measure_errors"]["gone.png"].startswith("file not found")
    assert {"hits", "misses", "items", "decode_seconds"} <= set(cache)
