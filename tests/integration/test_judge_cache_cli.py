"""The judge cache across runs (in-process), sweeps and concurrent processes (the CLI), counted at a loopback
OpenAI server: a rerun into a new directory, a relaunched 3-judge sweep and a sweep into a new folder cost zero
judge calls; media are keyed by content (moved files still hit, an edited image is asked again);
cache.mode=off asks everything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.integration.conftest import cli
from tests.support.compose import run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration

BASE = ["setting=pair", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20", "judge=openai",
        "judge.response_format=none", "judge.max_attempts=1", "run.progress=false"]


def _records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]


def _verdicts(run: Path) -> dict[str, list]:
    return {r["key"]: r["outcomes"] for r in _records(run)}


def test_a_rerun_into_new_directories_asks_nothing_and_media_are_keyed_by_content(tmp_path, tiny_pair_benchmark):
    f, media, n = tiny_pair_benchmark
    args = [*BASE, "benchmark=mllm_judge", f"benchmark.pair_file={f}", "judge.model=fake"]
    with FakeServer(Script(reply=lambda body: json.dumps(
            {"overall_comment": "ok", "overall_choice": "0" if len(json.dumps(body)) % 2 else "2"}))) as srv:
        def run(dest: str, data_dir: Path = media, *extra: str) -> Path:
            run_app(*args, f"benchmark.data_dir={data_dir}", f"judge.base_url={srv.base_url}",
                    f"hydra.run.dir={tmp_path / dest}", *extra)
            return tmp_path / dest

        first = run("a")
        assert len(srv.script.requests) == n
        again = run("b")  # another directory: resume cannot help, the cache answers everything
        assert len(srv.script.requests) == n
        assert _verdicts(again) == _verdicts(first)
        assert all(r["extra"]["cache"] == "hit" for r in _records(again))
        cache = json.loads((again / "run.json").read_text())["cache"]
        assert cache["hits"] == n and cache["misses"] == 0 and cache["mode"] == "readwrite"
        # the same images under another root: keyed by what is sent, not by path
        moved = tmp_path / "moved"
        shutil.copytree(media, moved)
        run("c", moved)
        assert len(srv.script.requests) == n
        # one image edited: only the unit showing it is asked again
        img = moved / "image" / "3.png"
        Image.fromarray(np.full((12, 16, 3), 7, np.uint8)).save(img)
        run("d", moved)
        assert len(srv.script.requests) == n + 1
        run("e", moved, "cache.mode=off")
        assert len(srv.script.requests) == 2 * n + 1
        run("f", moved, "judge.sampling.temperature=0.5")  # another sampling: another answer
        assert len(srv.script.requests) == 3 * n + 1


@pytest.mark.slow  # starts processes
def test_a_relaunched_three_judge_sweep_and_a_sweep_into_a_new_folder_cost_zero_calls(tmp_path):
    args = ["-m", *BASE, "judge.model=m1,m2,m3", "run.limit=4"]
    with FakeServer(Script(reply='{"overall_comment": "ok", "overall_choice": "2"}')) as srv:
        def sweep(folder: str) -> Path:
            cli(*args, f"judge.base_url={srv.base_url}", f"hydra.sweep.dir={tmp_path / folder}", timeout=600)
            return tmp_path / folder

        cold = sweep("cold")
        asked = len(srv.script.requests)
        assert asked > 0 and {b["model"] for b in srv.script.requests} == {"m1", "m2", "m3"}
        sweep("cold")  # relaunched: every job resumes its directory
        warm = sweep("warm")  # a new folder: every answer from the cache
        assert len(srv.script.requests) == asked
    for d in cold.iterdir():
        if (d / "run.json").exists():
            assert _verdicts(d) == _verdicts(warm / d.name)
    board = (warm / "leaderboard.csv").read_text()
    assert all(m in board for m in ("m1", "m2", "m3"))


@pytest.mark.slow  # starts processes
@pytest.mark.parametrize("backend", ["sqlite", "files"])
def test_runs_writing_one_cache_at_the_same_time_then_a_rerun_asks_nothing(tmp_path, tiny_pair_benchmark, backend):
    from tests.integration.conftest import popen_cli

    f, media, n = tiny_pair_benchmark
    args = [*BASE, "benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}",
            "judge.model=fake", f"cache.backend={backend}", f"cache.dir={tmp_path / 'shared-cache'}"]
    with FakeServer(Script(reply='{"overall_comment": "ok", "overall_choice": "2"}', delay_s=0.01)) as srv:
        procs = [popen_cli(*args, f"judge.base_url={srv.base_url}", f"hydra.run.dir={tmp_path / f'w{i}'}")
                 for i in range(3)]
        for p in procs:
            out, _ = p.communicate(timeout=300)
            assert p.returncode == 0, out
        asked = len(srv.script.requests)
        assert n <= asked <= 3 * n  # the writers overlap: each may ask what another has not stored yet
        run_app(*args, f"judge.base_url={srv.base_url}", f"hydra.run.dir={tmp_path / 'after'}")
        assert len(srv.script.requests) == asked
    assert _verdicts(tmp_path / "after") == _verdicts(tmp_path / "w0")
