"""Resume policies (runs in-process, composed as the CLI composes them): failed API calls are retried on the next
run (latest attempt counts), a run directory holding a different run is refused (seed included), bad run options
and a corrupt run.json are configuration errors (the CLI's exit 2, checked through the console in
test_bad_input_cli). Secrets given as overrides: test_no_secret_written."""

from __future__ import annotations

import json

import pytest

from tests.support.compose import config_error, run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration

BASE = ["setting=pair", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20"]


def test_api_errors_are_retried_on_resume(tmp_path, tiny_pair_benchmark):
    f, media, n = tiny_pair_benchmark
    run = tmp_path / "run"
    args = [*BASE, "benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}",
            "judge=openai", "judge.model=fake", "judge.response_format=none", "judge.max_attempts=1",
            f"hydra.run.dir={run}"]
    with FakeServer(Script(statuses=[500] * 5)) as srv:  # an outage: the first 5 calls fail
        run_app(*args, f"judge.base_url={srv.base_url}", "judge.concurrency=1")
    lines = (run / "verdicts.jsonl").read_text().splitlines()
    assert len(lines) == n and sum('"api_error"' in x for x in lines) == 5
    with FakeServer(Script(reply='{"overall_comment": "ok", "overall_choice": "1"}')) as srv:
        run_app(*args, f"judge.base_url={srv.base_url}")
        assert len(srv.script.requests) == 5  # only the failed units were judged again
    recs = [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]
    assert len(recs) == n + 5 and sorted(r.get("attempt", 0) for r in recs).count(1) == 5
    cov = json.loads((run / "metrics.json").read_text())["settings"]["pair"]["coverage"]
    assert json.dumps(cov).count("1.0") >= 1
    m = [x for x in (run / "metrics.csv").read_text().splitlines() if ",pooled,all,coverage," in x]
    assert m and m[0].split(",")[-4] == "1.0" and m[0].endswith(f",{n}")


def test_changed_seed_is_a_different_run(tmp_path):
    d = tmp_path / "r"
    run_app(*BASE, "judge=random", "setting.order=random", "run.limit=4", f"hydra.run.dir={d}")
    err = config_error(d, *BASE, "judge=random", "setting.order=random", "run.limit=4", "run.seed=1")
    assert "different run" in err and "seed" in err


def test_bad_options_and_corrupt_run_json(tmp_path):
    assert "run.limit" in config_error(tmp_path / "a", *BASE, "run.limit=-1")
    assert "run.repeats" in config_error(tmp_path / "b", *BASE, "run.repeats=0")
    assert "limit" in config_error(tmp_path / "c", *BASE, "benchmark=mllm_judge", "benchmark.limit=0", "judge=random")
    d = tmp_path / "d"
    run_app(*BASE, "run.limit=2", f"hydra.run.dir={d}")
    (d / "run.json").write_text('{"broken')
    assert "run.json" in config_error(d, *BASE, "run.limit=2")

