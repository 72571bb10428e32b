"""``judge=openai judge.verdict=logprob`` end to end: token-probability verdicts from a loopback server's
OpenAI-format logprobs land in the run log as probabilities and expected scores; batch ranking is refused."""

from __future__ import annotations

import json
import math

import pytest

from tests.support.compose import config_error, run_app
from tests.support.fake_openai import FakeServer, Script
from tests.support.token_cases import logprobs

pytestmark = pytest.mark.integration

TOKENS = ['{"', "overall", "_comment", '":', ' "', "ok", '",', ' "', "overall", "_score", '":', " 4", "}"]
ALTS = {11: [(" 4", 0.6), (" 3", 0.3), (" 5", 0.1)]}


def test_score_run_records_probabilities_and_expected_scores(tmp_path, monkeypatch):
    run = tmp_path / "run"
    base = ["benchmark.tasks=[Image2Text]", "setting=score", "judge=openai", "judge.model=m", "judge.verdict=logprob",
            "judge.top_logprobs=5", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20"]
    monkeypatch.setenv("JUDGEANYTHING_CACHE", str(tmp_path / "cache"))
    with FakeServer(Script(reply="".join(TOKENS), choice={"logprobs": logprobs(TOKENS, ALTS)})) as srv:
        run_app(*base, f"judge.base_url={srv.base_url}", f"hydra.run.dir={run}")
        assert all(r["logprobs"] is True and r["top_logprobs"] == 5 for r in srv.script.requests)
        err = config_error(tmp_path / "b", *base, "setting=batch", f"judge.base_url={srv.base_url}")
    assert "does not support setting 'batch'" in err
    recs = [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]
    assert recs
    for r in recs:
        (o,) = r["outcomes"]
        assert o["value"] == 4 and o["comment"] == "ok"
        assert o["probs"] == pytest.approx({"1": 0.0, "2": 0.0, "3": 0.3, "4": 0.6, "5": 0.1})
        assert o["expected"] == pytest.approx(3 * 0.3 + 4 * 0.6 + 5 * 0.1)
        assert r["extra"]["verdict_mode"] == "logprob" and math.isclose(r["extra"]["candidate_mass"]["overall"], 1.0)
    run_json = json.loads((run / "run.json").read_text())
    assert run_json["judge_fingerprint"]["verdict"] == "logprob"
