"""The ``gemini`` judge end to end (runs in-process, composed as the CLI composes them) on the probe suite's
image, audio and video items, with the real ``google-genai`` SDK talking to a loopback server that speaks the
Gemini REST protocol."""

from __future__ import annotations

import json

import pytest

from tests.support.compose import run_app
from tests.support.fake_gemini import FakeGemini, Script, field_of

pytestmark = pytest.mark.integration

TASKS = "[Image2Text,Audio2Text,Video2Text,AudioVideo2Text]"


def test_probe_media_items_judged_through_the_files_api_and_reused_by_the_next_run(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGEANYTHING_CACHE", str(tmp_path / "cache"))  # the Files API's upload records
    args = ["judge=gemini", f"benchmark.tasks={TASKS}", "setting=pair", "analysis.html=false",
            "analysis.plots=false", "analysis.bootstrap=20", "judge.poll_interval_s=0.01", "judge.max_attempts=2",
            "judge.max_wait_s=0.05", "judge.thinking_budget=0"]
    reply = '{"overall_comment": "response 1 is right", "overall_choice": "0"}'
    with FakeGemini(Script(reply=reply, processing_polls=1)) as srv:
        run_app(*args, f"judge.base_url={srv.base_url}", f"hydra.run.dir={tmp_path / 'a'}")
        first_uploads = list(srv.script.uploads)
        run_app(*args, f"judge.base_url={srv.base_url}", f"hydra.run.dir={tmp_path / 'b'}")
    recs = [json.loads(x) for x in (tmp_path / "a" / "verdicts.jsonl").read_text().splitlines()]
    assert recs and all("failure" not in o for r in recs for o in r["outcomes"])
    assert {r["outcomes"][0]["value"] for r in recs} == {"first"}
    sent = [m for r in recs for m in r["extra"]["gemini_media"]]
    kinds = {(m["modality"], m["sent_as"]) for m in sent}
    assert {("image", "inline"), ("audio", "file"), ("video", "file")} <= kinds
    assert any(m["modality"] == "video" and m["with_sound"] for m in sent)  # AudioVideo2Text: video + its sound
    # usage carries the media tokens the API counted
    assert any(r["usage"].get("video_prompt_tokens", 0) > 0 for r in recs)
    assert any(r["usage"].get("image_prompt_tokens", 0) > 0 for r in recs)
    # each distinct audio/video content uploaded once, however many units refer to it; the second run
    # (another run directory) uploads nothing and refers to the same files
    files = {m["sha256"] for m in sent if m["sent_as"] == "file"}
    assert len(first_uploads) == len(files) == len({u["sha256"] for u in first_uploads})
    assert srv.script.uploads == first_uploads
    gen = srv.script.generate[0]["generationConfig"]
    assert field_of(gen["thinkingConfig"], "thinkingBudget") == 0 and "responseSchema" in gen
    run_json = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run_json["judge_fingerprint"]["kind"] == "gemini"


def test_rubric_scores_answered_to_the_schema_are_parsed_per_rubric(tmp_path, monkeypatch):
    """Score evaluation in rubrics mode: the server answers every key the request's responseSchema asks for,
    in its order; each rubric's score lands in the run log."""

    def answer(body: dict) -> str:
        schema = field_of(body["generationConfig"], "responseSchema")
        keys = field_of(schema, "propertyOrdering")
        return json.dumps({k: (3 if k.endswith("_score") else "fine") for k in keys})

    run = tmp_path / "run"
    with FakeGemini(Script(reply=answer, processing_polls=0)) as srv:
        monkeypatch.setenv("JUDGEANYTHING_CACHE", str(tmp_path / "cache"))
        run_app("judge=gemini", "benchmark.tasks=[Image2Text]", "setting=score", "mode=rubrics", "run.limit=3",
                "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20",
                f"judge.base_url={srv.base_url}", f"hydra.run.dir={run}")
    recs = [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]
    assert recs and all(len(r["outcomes"]) == 6 for r in recs)  # the six rubrics of Judge Anything
    assert {o["value"] for r in recs for o in r["outcomes"]} == {3}
    assert all(o["comment"] == "fine" for r in recs for o in r["outcomes"])
