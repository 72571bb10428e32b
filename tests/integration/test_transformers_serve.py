"""The `openai` judge against a REAL OpenAI-compatible server: `transformers serve` on loopback, serving a
tiny random-weight Qwen2 saved to a temp dir (built offline). Random weights give garbage text, so the
verdicts are mostly failures — what is checked is that every unit is recorded with its raw output and kind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.compose import config_error, run_app
from tests.support.loopback import free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def served_tiny_qwen2(tmp_path_factory):
    from judgeanything.models.tiny import build_tiny_model

    d = build_tiny_model("qwen2", tmp_path_factory.mktemp("tiny") / "tiny-qwen2")
    # Judge Anything's Text2Text prompts run to ~12k tokens with the tiny byte-level vocabulary, and
    # `transformers serve` (≥ 5.25) refuses prompts past the model's context: give the served copy a
    # longer one (RoPE has no learned position weights, so the weights are unchanged).
    cfg = json.loads((d / "config.json").read_text())
    cfg["max_position_embeddings"] = 32768
    (d / "config.json").write_text(json.dumps(cfg))
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "transformers"), "serve", str(d), "--host",
                             "127.0.0.1", "--port", str(port), "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"transformers serve did not come up:\n{proc.stdout.read()}")
            time.sleep(0.5)
        yield str(d), f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_judgeanything_text2text_through_transformers_serve(tmp_path, shared_dir, served_tiny_qwen2):
    model, base_url = served_tiny_qwen2
    ja = shared_dir / "data" / "judgeanything"
    run_dir = tmp_path / "run"
    run_app("benchmark=judgeanything", "benchmark.tasks=[Text2Text]", "run.limit=3",
            f"benchmark.task_anything={ja / 'TaskAnything.json'}",
            f"benchmark.judge_anything={ja / 'JudgeAnything.json'}", "judge=openai", f"judge.model={model}",
            f"judge.base_url={base_url}", "judge.name=tiny-qwen2", "judge.response_format=none",
            "judge.sampling.max_tokens=24", "judge.concurrency=2", "analysis.bootstrap=20", f"hydra.run.dir={run_dir}")
    recs = [json.loads(x) for x in (run_dir / "verdicts.jsonl").read_text().splitlines()]
    assert len(recs) == 3 == len({r["key"] for r in recs})
    for r in recs:
        assert r["task_name"] == "Text2Text" and r["model"].startswith(model)
        assert isinstance(r["raw"], str) and r["finish_reason"] in ("stop", "length")
        assert r["usage"]["prompt_tokens"] > 0
        for o in r["outcomes"]:
            assert ("failure" in o and o["failure"] and o["detail"]) or o["value"] in ("first", "tie", "second")
    run = json.loads((run_dir / "run.json").read_text())
    assert run["judge"] == "tiny-qwen2" and run["counts"]["judged"] == 3


def _short_text2text(shared_dir: Path, out: Path) -> tuple[Path, Path]:
    """The first Text2Text query of the release with its responses, each text cut to 200 characters (the tiny
    model's context is 4096 tokens of a byte-level vocabulary), in the release's layout."""
    ja = shared_dir / "data" / "judgeanything"
    queries = [q for q in json.loads((ja / "TaskAnything.json").read_text()) if q["task_name"] == "Text2Text"][:1]
    qid = queries[0]["uniq_id"]
    queries[0]["question"] = queries[0]["question"][:200]
    responses = [r for r in json.loads((ja / "JudgeAnything.json").read_text()) if r["uniq_id"] == qid]
    for r in responses:
        r["response"]["content"] = str(r["response"]["content"])[:200]
    out.mkdir(parents=True, exist_ok=True)
    (out / "TaskAnything.json").write_text(json.dumps(queries))
    (out / "JudgeAnything.json").write_text(json.dumps(responses))
    return out / "TaskAnything.json", out / "JudgeAnything.json"


def test_logprob_verdicts_refused_by_a_server_that_returns_none(tmp_path, shared_dir, served_tiny_qwen2):
    """`transformers serve` ignores `logprobs`/`top_logprobs` (it lists them among its unused fields): the
    run stops with a config error at the first answer instead of recording unreadable verdicts."""
    model, base_url = served_tiny_qwen2
    tasks, responses = _short_text2text(shared_dir, tmp_path / "data")
    err = config_error(tmp_path / "run", "benchmark=judgeanything", "benchmark.tasks=[Text2Text]", "run.limit=2",
                       f"benchmark.task_anything={tasks}", f"benchmark.judge_anything={responses}", "judge=openai",
                       f"judge.model={model}", f"judge.base_url={base_url}", "judge.name=tiny-qwen2-logprob",
                       "judge.response_format=none", "judge.verdict=logprob", "judge.sampling.max_tokens=24",
                       "judge.concurrency=1")
    assert "returned no logprobs" in err and "judge.verdict=generate" in err
