"""A server that rejects a request parameter stops the run with a configuration error naming the parameter (the
CLI's exit 2), instead of
recording an api_error for every unit that each resume would retry."""

from __future__ import annotations

import pytest

from tests.judges.test_openai_params import reasoning_model_rules
from tests.support.compose import config_error, run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration


def test_rejected_parameter_stops_the_run_then_reasoning_true_judges_it(tmp_path, tiny_pair_benchmark):
    f, media, n = tiny_pair_benchmark
    run = tmp_path / "run"
    args = ["setting=pair", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20",
            "benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}",
            "judge=openai", "judge.model=house-reasoner", "judge.response_format=none", "judge.concurrency=1",
            ]
    with FakeServer(Script(check=reasoning_model_rules)) as srv:
        err = config_error(run, *args, f"judge.base_url={srv.base_url}")
        assert "'max_tokens'" in err and "judge.reasoning=true" in err
        assert len(srv.script.requests) == 1
        log = run / "verdicts.jsonl"
        assert not log.exists() or "api_error" not in log.read_text()
        # another request shape is another judge identity: the (empty) run is started afresh
        run_app(*args, f"judge.base_url={srv.base_url}", "judge.reasoning=true", "run.overwrite=true",
                f"hydra.run.dir={run}")
    assert len((run / "verdicts.jsonl").read_text().splitlines()) == n
    assert all("max_completion_tokens" in r and "temperature" not in r for r in srv.script.requests[1:])
