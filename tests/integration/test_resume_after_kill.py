"""A run (the console script) killed with SIGKILL halfway and restarted finishes with every unit judged exactly
once."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.integration.conftest import popen_cli
from tests.support.compose import run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _keys(path):
    return [json.loads(line)["key"] for line in path.read_text().splitlines() if line.strip()]


def test_sigkill_then_resume_judges_each_unit_once(tmp_path, tiny_pair_benchmark):
    pair_file, media, n = tiny_pair_benchmark
    run_dir = tmp_path / "run"
    args = ["benchmark=mllm_judge", f"benchmark.pair_file={pair_file}", f"benchmark.data_dir={media}",
            "setting=pair", "setting.order=both", "judge=openai", "judge.model=fake-judge",
            "judge.concurrency=1", "judge.response_format=none", "analysis.html=false", "analysis.plots=false",
            "analysis.bootstrap=50", f"hydra.run.dir={run_dir}"]
    log = run_dir / "verdicts.jsonl"
    with FakeServer(Script(delay_s=0.15, reply='{"overall_comment": "fine", "overall_choice": "0"}')) as srv:
        proc = popen_cli(*args, f"judge.base_url={srv.base_url}")
        deadline = time.time() + 120
        while time.time() < deadline:
            if log.exists() and len(_keys(log)) >= 6:
                break
            if proc.poll() is not None:
                raise AssertionError(f"run ended before it could be killed:\n{proc.stdout.read()}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        before = _keys(log)
        assert 6 <= len(before) < 2 * n, "the kill must land halfway"
        run_app(*args, f"judge.base_url={srv.base_url}")  # the restart (in-process: the same run_from_config)
    after = _keys(log)
    assert len(after) == 2 * n == len(set(after)), "each unit (item × order) exactly once"
    assert after[: len(before)] == before, "nothing already judged was lost or rewritten"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics  # analysis ran over the completed log
