"""run.shard=i/n: parsing, a stable item → shard map, and deterministic sweep folder names."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from judgeanything.shard import Shard, ShardSpecError, select, shard_of, suffix
from judgeanything.sweep import identity_overrides, sweep_name


@pytest.mark.parametrize("spec,expected", [("0/4", Shard(0, 4)), (" 3 / 4 ", Shard(3, 4)), ("0/1", Shard(0, 1)),
                                           (None, None), ("", None)])
def test_shard_specs_parse(spec, expected):
    assert Shard.parse(spec) == expected


@pytest.mark.parametrize("spec,msg", [("4/4", r"0 … 3 for 4 shards"), ("1/0", "0 shards"), ("a/b", "expected i/n"),
                                      ("1", "expected i/n"), ("-1/2", "expected i/n"), ("1/2/3", "expected i/n")])
def test_bad_shard_specs_are_named(spec, msg):
    with pytest.raises(ShardSpecError, match=msg):
        Shard.parse(spec)


def test_shards_partition_the_items_in_dataset_order():
    ids = [f"q{i}::r{j}" for i in range(200) for j in range(2)]
    parts = [select(ids, Shard(i, 3), item_id=lambda x: x) for i in range(3)]
    got = sorted(pos for _, positions in parts for pos in positions)
    assert got == list(range(len(ids)))  # every item exactly once
    for items, positions in parts:
        assert positions == sorted(positions) and items == [ids[p] for p in positions]
    sizes = [len(items) for items, _ in parts]
    assert min(sizes) > 100  # a hash spreads 400 ids roughly evenly (expected 133 each)
    assert select(ids, None, item_id=lambda x: x) == (ids, list(range(len(ids))))


def test_an_items_shard_is_the_same_in_another_process():
    ids = [f"item-{i}" for i in range(50)]
    here = [shard_of(i, 7) for i in ids]
    code = (f"from judgeanything.shard import shard_of; print([shard_of(i, 7) for i in {ids!r}])")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "123"}).stdout
    assert eval(there) == here and len(Counter(here)) == 7


def test_shard_run_directory_suffix():
    assert suffix(None) == "" and suffix("1/4") == "/shard-1-of-4"


def test_sweep_names_are_deterministic_and_ignore_what_cannot_change_a_verdict():
    a = sweep_name(["judge=random,first,longer", "setting=pair"])
    assert a == sweep_name(["setting=pair", "judge=random,first,longer", "run.concurrency=64",
                            "judge.base_url=http://127.0.0.1:9/v1", "cache.mode=read", "run.progress=false"])
    assert a.startswith("judge=random,first,longer__setting=pair-") and len(a.rsplit("-", 1)[1]) == 8
    assert sweep_name(["judge=random,first", "setting=pair"]) != a
    assert identity_overrides(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "mode=rubrics"]) == [
        "mode=rubrics"]
    long = sweep_name([f"benchmark.tasks=[{','.join(f'Task{i}' for i in range(40))}]"])
    assert len(long) <= 80 + 9 and "/" not in long
    assert sweep_name([]).startswith("sweep-")


def test_the_leaderboard_callback_uses_the_sweeps_analysis_options(tmp_path):
    from omegaconf import OmegaConf

    from judgeanything.datasets.base import BenchmarkData
    from judgeanything.judges.baselines import FirstJudge
    from judgeanything.runner import Runner, RunOptions
    from judgeanything.schema import HumanLabel, PairItem, Query, Response
    from judgeanything.sweep import LeaderboardCallback

    items = []
    for i in range(4):
        q = Query(f"u{i}", "Text2Text", f"question {i}")
        items.append(PairItem(f"u{i}", q, Response("a", q.uniq_id, "ma", "text", text="yes"),
                              Response("b", q.uniq_id, "mb", "text", text="no")))
    data = BenchmarkData("toy", "pair", items, [HumanLabel(f"u{i}", "overall", "first") for i in range(4)])
    Runner(data, FirstJudge(), tmp_path / "0-first", RunOptions(progress=False)).run()

    def cfg(enabled: bool) -> object:
        return OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}},
                                 "analysis": {"enabled": enabled, "bootstrap": 25, "seed": 3}})

    LeaderboardCallback().on_multirun_end(cfg(False))
    assert not (tmp_path / "leaderboard.csv").exists()  # the jobs were not analysed: nor is the sweep
    LeaderboardCallback().on_multirun_end(cfg(True))
    assert (tmp_path / "leaderboard.csv").exists()
    metrics = __import__("json").loads((tmp_path / "0-first" / "metrics.json").read_text())
    assert metrics["params"]["bootstrap"] == 25 and metrics["params"]["seed"] == 3
