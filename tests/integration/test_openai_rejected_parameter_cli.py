"""A server that rejects a request parameter stops the run with the parameter's name (exit 2), instead of
recording an api_error for every unit that each resume would retry."""

from __future__ import annotations

import pytest

from tests.integration.conftest import cli
from tests.judges.test_openai_params import reasoning_model_rules
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration


def test_rejected_parameter_stops_the_run_then_reasoning_true_judges_it(tmp_path, tiny_pair_benchmark):
    f, media, n = tiny_pair_benchmark
    run = tmp_path / "run"
    args = ["setting=pair", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20",
            "benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}",
            "judge=openai", "judge.model=house-reasoner", "judge.response_format=none", "judge.concurrency=1",
            f"hydra.run.dir={run}"]
    with FakeServer(Script(check=reasoning_model_rules)) as srv:
        p = cli(*args, f"judge.base_url={srv.base_url}", check=False)
        assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
        assert "'max_tokens'" in p.stderr and "judge.reasoning=true" in p.stderr
        assert len(srv.script.requests) == 1
        log = run / "verdicts.jsonl"
        assert not log.exists() or "api_error" not in log.read_text()
        # another request shape is another judge identity: the (empty) run is started afresh
        cli(*args, f"judge.base_url={srv.base_url}", "judge.reasoning=true", "run.overwrite=true")
    assert len((run / "verdicts.jsonl").read_text().splitlines()) == n
    assert all("max_completion_tokens" in r and "temperature" not in r for r in srv.script.requests[1:])
