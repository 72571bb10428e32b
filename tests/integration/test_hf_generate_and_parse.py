"""Generate-and-parse in a run (in-process, composed as the CLI composes it): the smoke Qwen2.5-Omni thinker
generates text for image, audio, video and audio+video inputs of the probe suite, and every output is parsed
into a verdict or a typed failure that keeps the raw text (random weights: mostly parse failures, never a silent
score)."""

from __future__ import annotations

import json

import pytest

from judgeanything.parsing import parse_output
from judgeanything.schema import FAILURE_KINDS
from tests.support.compose import run_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_smoke_generate_mode_records_raw_and_parse_outcome(tmp_path, monkeypatch):
    run = tmp_path / "run"
    monkeypatch.setenv("JUDGEANYTHING_CACHE", str(tmp_path / "c"))  # the smoke model built here, offline
    run_app("judge=smoke", "judge.verdict=generate", "judge.sampling.max_tokens=12", "setting=score",
            # one probe family per task type: each media path once (the other audio families add nothing here)
            "benchmark.families=[count_shapes,beep_count,motion_direction,av_sync]", "analysis.html=false",
            "analysis.bootstrap=20", f"hydra.run.dir={run}")
    recs = [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]
    assert recs and {r["task_name"] for r in recs} == {"Image2Text", "Audio2Text", "Video2Text", "AudioVideo2Text"}
    for r in recs:
        assert r["finish_reason"] in ("stop", "length") and r["usage"]["completion_tokens"] > 0
        (o,) = r["outcomes"]
        again = parse_output(r["raw"], "score", ["overall"], finish_reason=r["finish_reason"])[0]
        if "failure" in o:
            assert o["failure"] in FAILURE_KINDS and o["detail"] and o["failure"] == again.kind
        else:
            assert 1 <= o["value"] <= 5 and o["value"] == again.value
        kinds = {m["modality"] for m in r["media"]}
        assert {"Image2Text": {"image"}, "Audio2Text": {"audio"}, "Video2Text": {"video"},
                "AudioVideo2Text": {"video", "audio"}}[r["task_name"]] <= kinds
