"""The ``gemini`` judge: the real ``google-genai`` SDK against a loopback server speaking the Gemini REST
protocol (tests/support/fake_gemini.py): resumable uploads, processing polls, generateContent, errors."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from google.genai import errors
from PIL import Image

from judgeanything.judges.base import JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.judges.gemini import GeminiJudge, retry_after_s
from judgeanything.judges.gemini_payload import response_schema
from judgeanything.judges.openai_payload import image_bytes
from judgeanything.modalities.audio import AudioEncoder
from judgeanything.modalities.image import ImageEncoder
from judgeanything.modalities.video import VideoEncoder
from judgeanything.prompts import output_schema
from judgeanything.retry import RetryPolicy, RetryStats, judge_with_retries
from judgeanything.schema import MediaRef, TextPart
from tests.judges.conftest import make_request
from tests.support.fake_gemini import FakeGemini, Script, field_of

PAIR = '{"overall_comment": "the second shows it", "overall_choice": "2"}'


@pytest.fixture(scope="module")
def encoded(media_files: dict[str, Path]) -> dict[str, Any]:
    """The generated files through the product's own encoders (video keeps its source path and sound)."""
    root = next(iter(media_files.values())).parent
    return {"png": ImageEncoder().encode(MediaRef("image", path="image.png"), root, "query"),
            "wav": AudioEncoder().encode(MediaRef("audio", path="tone44k.wav"), root, "response 1"),
            "mp4": VideoEncoder(num_frames=4).encode(MediaRef("video", path="clip.mp4"), root, "response 2"),
            "mp4_path": media_files["clip.mp4"]}


def judge_of(srv: FakeGemini, tmp_path: Path, **kw: Any) -> GeminiJudge:
    opts: dict[str, Any] = {"base_url": srv.base_url, "api_key_env": "JA_TEST_NO_GEMINI_KEY",
                            "registry_path": str(tmp_path / "files.sqlite"), "poll_interval_s": 0.01,
                            "max_wait_s": 0.05, "max_attempts": 3}
    opts.update(kw)
    return GeminiJudge(model="gemini-2.5-flash", **opts)


def run(judge: GeminiJudge, reqs: list[JudgeRequest], stats: RetryStats | None = None) -> list[JudgeResult]:
    """Judge through the runner's retry policy (the judge makes one attempt per request)."""

    async def go() -> list[JudgeResult]:
        try:
            return await judge_with_retries(judge, reqs, RetryPolicy.for_judge(judge), stats=stats)
        finally:
            await judge.aclose()

    return asyncio.run(go())


def media_request(encoded: dict[str, Any], key: str = "k1", setting: str = "pair") -> JudgeRequest:
    parts = [TextPart("Input:"), encoded["png"], TextPart("Response 1:"), encoded["wav"], TextPart("Response 2:"),
             encoded["mp4"], TextPart("Which is better?")]
    r = make_request(key, setting, parts)
    return dataclasses.replace(r, prompt=dataclasses.replace(r.prompt, output_schema=output_schema(setting,
                                                                                                  ["overall"])))


def user_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for c in body["contents"] for p in c["parts"]]


def test_image_inline_audio_and_video_as_files_with_schema_and_usage(encoded, tmp_path):
    with FakeGemini(Script(reply=PAIR, processing_polls=2, durations={})) as srv:
        srv.script.durations[_sha(encoded["mp4_path"].read_bytes())] = 1.0
        judge = judge_of(srv, tmp_path, thinking_budget=128)
        (res,) = run(judge, [media_request(encoded)])
    assert res.failure is None and res.raw == PAIR and res.finish_reason == "stop"
    assert res.model == "gemini-2.5-flash-001"
    (body,) = srv.script.generate
    parts = user_parts(body)
    inline = [field_of(p, "inlineData") for p in parts if field_of(p, "inlineData")]
    files = [field_of(p, "fileData") for p in parts if field_of(p, "fileData")]
    assert len(inline) == 1 and field_of(inline[0], "mimeType") == "image/png"
    png = Image.open(io.BytesIO(base64.b64decode(inline[0]["data"])))
    assert png.size == encoded["png"].image.size
    # audio as the encoder's samples in a WAV, the video as its own file (the sound track inside it)
    uploads = {u["mime"]: u for u in srv.script.uploads}
    assert set(uploads) == {"audio/wav", "video/mp4"} and len(files) == 2
    assert uploads["video/mp4"]["sha256"] == _sha(encoded["mp4_path"].read_bytes())
    assert [field_of(f, "mimeType") for f in files] == ["audio/wav", "video/mp4"]
    # the text between media stays in order around them
    texts = [p["text"] for p in parts if "text" in p]
    assert texts == ["Input:", "Response 1:", "Response 2:", "Which is better?"]
    assert body["systemInstruction"]["parts"][0]["text"].startswith("You are a careful judge")
    gen = body["generationConfig"]
    assert gen["responseMimeType"] == "application/json" and gen["temperature"] == 0.0
    assert field_of(gen["thinkingConfig"], "thinkingBudget") == 128
    schema = gen["responseSchema"]
    assert schema["required"] == ["overall_comment", "overall_choice"]
    assert field_of(schema, "propertyOrdering") == ["overall_comment", "overall_choice"]
    assert schema["properties"]["overall_choice"]["enum"] == ["0", "1", "2"]
    # usage by modality: 258 per image, 32/s of audio (1 s tone + the clip's 1 s track), 263/s of video
    u = res.usage
    assert u["image_prompt_tokens"] == 258 and u["video_prompt_tokens"] == 263 and u["audio_prompt_tokens"] == 64
    assert u["prompt_tokens"] == sum(v for k, v in u.items() if k.endswith("_prompt_tokens") and k != "prompt_tokens")
    sent = {m["modality"]: m for m in res.extra["gemini_media"]}
    assert sent["video"]["sent_as"] == "file" and sent["video"]["with_sound"] is True
    assert sent["audio"]["reused"] is False and sent["image"]["sent_as"] == "inline"


def test_uploads_reused_across_items_and_runs_and_redone_after_expiry(encoded, tmp_path):
    with FakeGemini(Script(reply=PAIR)) as srv:
        run(judge_of(srv, tmp_path), [media_request(encoded, f"k{i}") for i in range(3)])
        assert len(srv.script.uploads) == 2  # one audio, one video, for three items judged concurrently
        res = run(judge_of(srv, tmp_path), [media_request(encoded, "k9")])[0]  # a new run: the registry
        assert len(srv.script.uploads) == 2 and res.failure is None
        assert all(m.get("reused") for m in res.extra["gemini_media"] if m["sent_as"] == "file")
        srv.state.expire_all()  # 48 h later: the registered files are gone
        res = run(judge_of(srv, tmp_path), [media_request(encoded, "k10")])[0]
        assert res.failure is None and len(srv.script.uploads) == 4


def test_file_deleted_mid_run_is_uploaded_again_once(encoded, tmp_path):
    with FakeGemini(Script(reply=PAIR)) as srv:
        judge = judge_of(srv, tmp_path)

        async def go() -> list[JudgeResult]:
            first = await judge.judge([media_request(encoded, "a")])
            srv.state.expire_all()  # verified earlier in this process, gone now: generateContent answers 403
            second = await judge.judge([media_request(encoded, "b")])
            await judge.aclose()
            return first + second

        a, b = asyncio.run(go())
    assert a.failure is None and b.failure is None and len(srv.script.uploads) == 4
    assert len(srv.script.generate) == 3  # the refused call, then the one with fresh files


def test_failed_processing_is_a_media_error(encoded, tmp_path):
    with FakeGemini(Script(reply=PAIR, failed_mime_prefixes=("video/",))) as srv:
        res = run(judge_of(srv, tmp_path), [media_request(encoded, "a"), media_request(encoded, "b")])
    assert [r.failure.kind for r in res if r.failure] == ["media_error", "media_error"]
    assert "could not process" in res[0].failure.detail and "video (response 2)" in res[0].failure.detail
    assert srv.script.generate == []
    assert sum(u["mime"] == "video/mp4" for u in srv.script.uploads) == 1  # not uploaded again per item


def test_processing_timeout_is_a_media_error(encoded, tmp_path):
    with FakeGemini(Script(reply=PAIR, processing_polls=10_000)) as srv:
        (res,) = run(judge_of(srv, tmp_path, processing_timeout_s=0.05), [media_request(encoded)])
    assert res.failure is not None and res.failure.kind == "media_error" and "still processing" in res.failure.detail


def test_rate_limit_waits_its_retry_info_then_succeeds(encoded, tmp_path):
    stats = RetryStats()
    with FakeGemini(Script(reply=PAIR, statuses=[429], retry_delay_s=0.3, processing_polls=0)) as srv:
        judge = judge_of(srv, tmp_path, max_wait_s=1.0)
        (res,) = run(judge, [media_request(encoded)], stats)
    assert stats.transient_faults == {"HTTP 429": 1} and stats.retries == 1  # counted by status, as for openai
    assert res.failure is None and len(srv.script.generate) == 2
    t = srv.script.generate_times
    assert 0.3 <= t[1] - t[0] < 0.6  # the RetryInfo delay, not the backoff (>= 1 s here)
    assert judge.is_overload(errors.ServerError(503, {"error": {"code": 503}}))
    assert not judge.is_transient(errors.ClientError(400, {"error": {"code": 400}}))


@pytest.mark.parametrize(("statuses", "detail"), [([500, 500, 500], "HTTP 500 INTERNAL"),
                                                  ([400], "HTTP 400 INVALID_ARGUMENT")])
def test_api_errors_after_retries_are_recorded(statuses, detail, tmp_path):
    with FakeGemini(Script(statuses=list(statuses))) as srv:
        (res,) = run(judge_of(srv, tmp_path), [make_request("t", "pair", [TextPart("Compare.")])])
    assert res.failure is not None and res.failure.kind == "api_error" and detail in res.failure.detail
    assert len(srv.script.generate) == len(statuses)  # 500 tried max_attempts=3 times, 400 once


def test_safety_blocks_and_truncation(tmp_path):
    req = make_request("t", "score", [TextPart("Rate it.")])
    with FakeGemini(Script(block_reason="SAFETY")) as srv:
        (res,) = run(judge_of(srv, tmp_path), [req])
    assert res.failure is not None and res.failure.kind == "safety_block" and "blocked the prompt: SAFETY" in \
        res.failure.detail and res.usage["prompt_tokens"] > 0
    with FakeGemini(Script(finish_reason="SAFETY")) as srv:
        (res,) = run(judge_of(srv, tmp_path), [req])
    assert res.failure.kind == "safety_block" and "HARM_CATEGORY_HARASSMENT" in res.failure.detail
    with FakeGemini(Script(finish_reason="MAX_TOKENS", reply='{"overall_comment": "it is', thoughts_tokens=7)) as srv:
        (res,) = run(judge_of(srv, tmp_path), [req])
    assert res.failure is None and res.finish_reason == "length" and res.usage["reasoning_tokens"] == 7


def test_key_from_environment_only_and_loopback_needs_none(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gm-secret-123456")
    with FakeGemini(Script(reply=PAIR)) as srv:
        judge = judge_of(srv, tmp_path, api_key_env=None)
        run(judge, [make_request("t", "pair", [TextPart("x")])])
        assert srv.script.api_keys == {"gm-secret-123456"}
    assert "gm-secret" not in json.dumps(judge.fingerprint()) and "gm-secret" not in " ".join(judge.notes())
    assert not any("gm-secret" in p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file())
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(JudgeConfigError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        GeminiJudge(base_url="https://example.invalid").client()


def test_refused_key_stops_the_run(tmp_path):
    bad_key = ("INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
               [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}])
    with FakeGemini(Script(statuses=[400], error_bodies={400: bad_key})) as srv:
        with pytest.raises(JudgeConfigError, match="refused the key"):
            run(judge_of(srv, tmp_path), [make_request("t", "pair", [TextPart("x")])])
    with FakeGemini(Script(statuses=[404], error_bodies={404: (
            "NOT_FOUND", "models/gemini-9 is not found for API version v1beta", [])})) as srv:
        with pytest.raises(JudgeConfigError, match="not found"):
            run(judge_of(srv, tmp_path), [make_request("t", "pair", [TextPart("x")])])


def test_response_schema_for_every_setting_and_rubrics():
    rubrics = ["relevance", "clarity"]
    s = response_schema(output_schema("score", rubrics))
    assert s.property_ordering == ["relevance_comment", "relevance_score", "clarity_comment", "clarity_score"]
    assert s.properties["clarity_score"].minimum == 1 and s.properties["clarity_score"].maximum == 5
    b = response_schema(output_schema("batch", ["overall"], n_responses=4))
    assert b.properties["overall_ranking"].pattern == "^[A-D]{4}$"
    with pytest.raises(ValueError, match="oneOf"):
        response_schema({"type": "object", "oneOf": []})


def test_retry_info_parsing():
    e = errors.ClientError(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}]}})
    assert retry_after_s(e) == 12.5
    assert retry_after_s(errors.ServerError(500, {"error": {"code": 500}})) is None


def test_bad_options_are_config_errors():
    with pytest.raises(JudgeConfigError, match="not both"):
        GeminiJudge(thinking_budget=0, thinking_level="low")
    with pytest.raises(JudgeConfigError, match="thinking_level 'max'"):
        GeminiJudge(thinking_level="max")
    with pytest.raises(JudgeConfigError, match="downgrade"):
        GeminiJudge(downgrades={"video": "slides"})
    with pytest.raises(JudgeConfigError, match="media_resolution 'ultra'"):
        GeminiJudge(media_resolution="ultra")


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_wav_upload_is_the_encoded_samples(encoded, tmp_path):
    with FakeGemini(Script(reply=PAIR)) as srv:
        run(judge_of(srv, tmp_path), [make_request("a", "score", [TextPart("Rate:"), encoded["wav"]])])
        (up,) = srv.script.uploads
    assert up["mime"] == "audio/wav" and up["display_name"] == f"judgeanything-{up['sha256'][:16]}"
    data, sr = sf.read(io.BytesIO(srv.state.blobs[up["sha256"]]), dtype="float32")
    assert sr == encoded["wav"].sample_rate and len(data) == len(encoded["wav"].samples)
    assert abs(data - encoded["wav"].samples).max() < 1e-4  # PCM16 of the encoder's samples


def test_video_without_a_usable_file_goes_as_frames_plus_its_audio_track(encoded):
    from judgeanything.judges.gemini_payload import Upload, plan_parts

    v = encoded["mp4"]
    no_file = dataclasses.replace(v, provenance={k: x for k, x in v.provenance.items() if k != "path"})
    plan = plan_parts([TextPart("Video:"), no_file])
    frames = [p for p in plan.parts if not isinstance(p, Upload) and p.inline_data is not None]
    uploads = [p for p in plan.parts if isinstance(p, Upload)]
    assert len(frames) == len(v.frames) == 4 and [u.modality for u in uploads] == ["audio"]
    text = "".join(p.text for p in plan.parts if not isinstance(p, Upload) and p.text)
    assert f"[t={v.timestamps[1]:.2f}s]" in text and "[the video's audio track]" in text
    assert plan.media[0]["sent_as"] == "frames" and plan.media[1]["modality"] == "audio"
    # the file has sound the judge must not hear (audio left out by the encoder or the capabilities): frames only
    muted = dataclasses.replace(v, audio=None)
    assert muted.provenance.get("has_audio") is True
    plan = plan_parts([muted])
    assert not any(isinstance(p, Upload) for p in plan.parts) and plan.media[0]["with_sound"] is False


def test_images_beyond_the_inline_limit_are_uploaded(encoded):
    from judgeanything.judges.gemini_payload import Upload, plan_parts

    img = encoded["png"]
    one = len(plan_parts([img]).parts[0].inline_data.data)
    plan = plan_parts([img, TextPart("and"), img, img], inline_limit_bytes=2 * one)
    sent = [m["sent_as"] for m in plan.media]
    assert sent == ["inline", "inline", "file"]
    assert isinstance(plan.parts[-1], Upload) and plan.parts[-1].blob.mime_type == "image/png"


def test_safety_settings_thinking_level_and_api_version_reach_the_request(tmp_path):
    with FakeGemini(Script(reply=PAIR)) as srv:
        judge = judge_of(srv, tmp_path, thinking_level="low", media_resolution="LOW",
                         safety_settings={"HARM_CATEGORY_DANGEROUS_CONTENT": "BLOCK_ONLY_HIGH"},
                         sampling={"temperature": 0.5, "top_k": 40, "max_tokens": 77, "seed": 3, "stop": ["}}"]})
        run(judge, [make_request("t", "pair", [TextPart("x")])])
    (body,) = srv.script.generate
    gen = body["generationConfig"]
    assert (gen["temperature"], gen["topK"], gen["maxOutputTokens"], gen["seed"], gen["stopSequences"]) == \
        (0.5, 40, 77, 3, ["}}"])
    assert str(field_of(gen["thinkingConfig"], "thinkingLevel")).upper() == "LOW"
    assert field_of(body, "safetySettings") == [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                                                 "threshold": "BLOCK_ONLY_HIGH"}]
    assert srv.script.versions == {"v1beta"}
    assert field_of(gen, "mediaResolution") == "MEDIA_RESOLUTION_LOW"
    fp = judge.fingerprint()
    assert fp["thinking_level"] == "low" and fp["top_k"] == 40 and fp["kind"] == "gemini"


@pytest.mark.parametrize("setting", ["pair", "score", "batch"])
def test_every_answer_schema_is_one_the_api_accepts(setting):
    from judgeanything.schema import RUBRICS
    from tests.support.fake_gemini import schema_problem

    for rubrics in (["overall"], list(RUBRICS)):
        for n in ((2,) if setting != "batch" else (2, 3, 5)):
            js = output_schema(setting, rubrics, n_responses=n)
            wire = response_schema(js).model_dump(mode="json", exclude_none=True)
            assert schema_problem(_camel(wire)) is None
            assert list(wire["properties"]) == list(js["properties"]) == wire["property_ordering"]
    # the checklist generator's answer (judgeanything-checklists with judge=gemini): lists of at most k strings
    from judgeanything.prompts._checklist import checklist_schema

    wire = _camel(response_schema(checklist_schema(["relevance", "clarity"], 4)).model_dump(mode="json",
                                                                                          exclude_none=True))
    assert schema_problem(wire) is None and wire["properties"]["clarity"]["maxItems"] == 4
    assert wire["properties"]["clarity"]["items"]["type"] == "STRING"
    # the JSON schema as is would be refused (the check the loopback server applies to every request)
    assert "Unknown name" in (schema_problem(output_schema(setting, ["overall"])) or "")


def _camel(d: Any) -> Any:
    if isinstance(d, dict):
        return {"".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))) if k != "properties" else k:
                (_camel(v) if k != "properties" else {n: _camel(s) for n, s in v.items()}) for k, v in d.items()}
    return d


def test_a_registered_file_near_its_expiry_is_uploaded_again_without_asking(encoded, tmp_path):
    from judgeanything.judges.gemini_files import EXPIRY_MARGIN_S

    with FakeGemini(Script(reply=PAIR, ttl_s=EXPIRY_MARGIN_S / 2)) as srv:  # files that expire within the margin
        run(judge_of(srv, tmp_path), [make_request("a", "score", [TextPart("Rate:"), encoded["wav"]])])
        first = set(srv.script.gets)
        n = len(srv.script.gets)
        (res,) = run(judge_of(srv, tmp_path), [make_request("b", "score", [TextPart("Rate:"), encoded["wav"]])])
    assert res.failure is None and len(srv.script.uploads) == 2
    assert not first & set(srv.script.gets[n:])  # only the new upload is polled: the stale entry is not read


@pytest.mark.filterwarnings("ignore::UserWarning")  # the SDK warns about enum values it does not know
def test_values_a_newer_api_adds_are_kept_not_crashed_on():
    from google.genai import types

    from judgeanything.judges.gemini import read_response

    r = read_response(types.GenerateContentResponse.model_validate({
        "candidates": [{"content": {"role": "model", "parts": [{"text": PAIR}, {"text": "plan", "thought": True}]},
                        "finishReason": "BRAND_NEW_REASON"}],
        "usageMetadata": {"promptTokenCount": 3, "promptTokensDetails": [{"modality": "HOLOGRAM", "tokenCount": 3}]},
        "modelVersion": "gemini-9"}), "m")
    assert r.raw == PAIR and r.finish_reason == "brand_new_reason" and r.failure is None  # thoughts left out
    assert r.usage == {"prompt_tokens": 3, "completion_tokens": 0, "hologram_prompt_tokens": 3}
    assert r.model == "gemini-9"
    blocked = read_response(types.GenerateContentResponse.model_validate({"promptFeedback": {
        "blockReason": "NEW_BLOCK", "blockReasonMessage": "policy 7"}}), "m")
    assert blocked.failure is not None and blocked.failure.kind == "safety_block"
    assert blocked.failure.detail == "the provider blocked the prompt: NEW_BLOCK (policy 7)"
    assert read_response(types.GenerateContentResponse.model_validate({}), "m").failure.kind == "api_error"


def test_an_unwritable_upload_registry_stops_the_run(encoded, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with FakeGemini(Script(reply=PAIR)) as srv:
        judge = judge_of(srv, tmp_path, registry_path=str(blocker / "files.sqlite"))
        with pytest.raises(JudgeConfigError, match=r"judge\.registry_path"):
            run(judge, [make_request("a", "score", [TextPart("Rate:"), encoded["wav"]])])
        assert srv.script.uploads == []


def gemini_logprobs(tokens: list[str], alts: dict[int, list[tuple[str, float]]]) -> dict[str, Any]:
    """Gemini's ``logprobsResult`` for ``tokens`` (alternatives as in tests/judges/test_openai_logprob.py)."""
    import math

    chosen, top = [], []
    for i, tok in enumerate(tokens):
        options = alts.get(i, [(tok, 0.99)])
        chosen.append({"token": tok, "logProbability": math.log(options[0][1])})
        top.append({"candidates": [{"token": t, "logProbability": math.log(p)} for t, p in options]})
    return {"chosenCandidates": chosen, "topCandidates": top}


def test_logprob_verdicts_from_the_logprobs_result(tmp_path):
    from tests.support.token_cases import SCORE_ALTS, SCORE_TOKENS

    script = Script(reply="".join(SCORE_TOKENS), logprobs_result=gemini_logprobs(SCORE_TOKENS, SCORE_ALTS))
    rubrics = ("relevance", "clarity")
    req = make_request("s", "score", [TextPart("Rate:")], rubrics)
    req = dataclasses.replace(req, prompt=dataclasses.replace(req.prompt, output_schema=output_schema("score",
                                                                                                    rubrics)))
    with FakeGemini(script) as srv:
        judge = judge_of(srv, tmp_path, verdict="logprob", top_logprobs=5)
        (res,) = run(judge, [req])
    gen = srv.script.generate[0]["generationConfig"]
    assert gen["responseLogprobs"] is True and gen["logprobs"] == 5
    assert list(gen["responseSchema"]["properties"]) == ["relevance_score", "clarity_score"]  # verdicts only
    rel, cla = res.outcomes
    z = 0.5 + 0.3 + 0.1
    assert rel.value == 4 and rel.expected == pytest.approx((4 * 0.5 + 5 * 0.3 + 3 * 0.1) / z)
    assert cla.value == 2 and cla.probs["1"] == pytest.approx(0.2 / 0.9)
    assert judge.settings == frozenset({"pair", "score", "rules"}) and judge.fingerprint()["verdict"] == "logprob"


def test_logprob_mode_without_logprobs_stops_the_run(tmp_path):
    from judgeanything.judges.token_verdicts import NoLogprobsError

    with FakeGemini(Script(reply=PAIR)) as srv:  # the model returns no logprobsResult
        with pytest.raises(NoLogprobsError, match="returned no logprobs"):
            run(judge_of(srv, tmp_path, verdict="logprob"), [make_request("t", "pair", [TextPart("x")])])
    refused = ("INVALID_ARGUMENT", "Logprobs is not enabled for models/gemini-2.5-flash", [])
    with FakeGemini(Script(statuses=[400], error_bodies={400: refused})) as srv:
        with pytest.raises(JudgeConfigError, match="does not return logprobs"):
            run(judge_of(srv, tmp_path, verdict="logprob"), [make_request("t", "pair", [TextPart("x")])])


def test_an_upload_larger_than_one_chunk_arrives_whole(tmp_path):
    """The SDK sends 8 MB chunks ('upload' then 'upload, finalize'); the server checks each offset."""
    import numpy as np

    from judgeanything.modalities.base import EncodedAudio

    sr = 16000
    t = np.arange(300 * sr, dtype=np.float32) / sr  # 5 minutes: a 9.6 MB WAV
    audio = EncodedAudio((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr, role="query")
    with FakeGemini(Script(reply=PAIR)) as srv:
        (res,) = run(judge_of(srv, tmp_path), [make_request("long", "score", [TextPart("Rate:"), audio])])
        (up,) = srv.script.uploads
    assert res.failure is None and up["size"] > 8 * 1024 * 1024
    data, rate = sf.read(io.BytesIO(srv.state.blobs[up["sha256"]]), dtype="float32")
    assert rate == sr and len(data) == len(audio.samples)


def test_an_answer_schema_without_a_gemini_equivalent_stops_the_run(tmp_path):
    req = make_request("t", "pair", [TextPart("x")])
    req = dataclasses.replace(req, prompt=dataclasses.replace(req.prompt, output_schema={
        "type": "object", "properties": {"overall_choice": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}))
    with FakeGemini(Script(reply=PAIR)) as srv:
        with pytest.raises(JudgeConfigError, match=r"judge\.response_schema=false"):
            run(judge_of(srv, tmp_path), [req])
        (res,) = run(judge_of(srv, tmp_path, response_schema=False), [req])
    assert res.failure is None and "responseSchema" not in srv.script.generate[0]["generationConfig"]


def test_a_server_that_is_down_is_a_transient_api_error(tmp_path):
    from judgeanything.retry import RetryStats
    from tests.support.loopback import free_port

    judge = GeminiJudge(base_url=f"http://127.0.0.1:{free_port()}", registry_path=str(tmp_path / "r.sqlite"),
                        max_attempts=2, max_wait_s=0.01, timeout=5)
    stats = RetryStats()
    t0 = time.monotonic()
    (res,) = run(judge, [make_request("t", "pair", [TextPart("x")])], stats)
    assert time.monotonic() - t0 < 5  # no hidden reconnect sleep inside the SDK (1-10 s without retry_options)
    assert res.failure is not None and res.failure.kind == "api_error" and judge.is_transient(res.fault)
    assert stats.attempts == 2 and stats.gave_up == 1  # retried, then recorded for the next resume


def _count_sha256(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter of ``hashlib.sha256`` digests made from here on (each call that is given data to hash)."""
    import hashlib

    made = [0]
    real = hashlib.sha256

    def spy(*args: Any, **kwargs: Any) -> Any:
        made[0] += bool(args or kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "sha256", spy)
    return made


def test_a_payload_is_hashed_once_with_its_bytes_not_per_request(encoded, tmp_path, monkeypatch):
    """The PNG / WAV bytes the judge sends are cached per content with their SHA-256 (upload name, provenance):
    requests that repeat a medium hash nothing again, whether it goes inline, as an uploaded image, as a WAV or
    as frames of a video without a usable file; each digest is that of the bytes sent."""
    from judgeanything.judges import openai_payload
    from judgeanything.judges.gemini_payload import Upload, plan_parts
    from judgeanything.modalities._files import memoised_sha256

    monkeypatch.setattr(openai_payload, "PAYLOADS", openai_payload.PayloadCache())  # nothing cached yet
    v = encoded["mp4"]
    frames_only = dataclasses.replace(v, provenance={k: x for k, x in v.provenance.items() if k != "path"})
    parts = [encoded["png"], encoded["png"], encoded["wav"], frames_only, v]
    one = len(image_bytes(encoded["png"].image))  # room for one image inline: the rest are uploaded
    mp4 = Path(v.provenance["path"])
    mp4_hashed = memoised_sha256(mp4, mp4.stat()) is not None  # the video encoder hashed its file already
    made = _count_sha256(monkeypatch)
    first = plan_parts(parts, inline_limit_bytes=one)
    # the image, the tone's WAV, the 4 frames, the video's sound track as a WAV (and the mp4, unless memoised)
    assert made[0] == 7 + (not mp4_hashed)
    made[0] = 0
    for _ in range(3):
        assert plan_parts(parts, inline_limit_bytes=one).media == first.media
    assert made[0] == 0
    blobs = [p.blob for p in first.parts if isinstance(p, Upload)]
    assert [b.mime_type for b in blobs] == ["image/png", "audio/wav", *["image/png"] * 4, "audio/wav", "video/mp4"]
    assert all(b.sha256 == _sha(b.data) for b in blobs if b.data is not None)
    assert blobs[-1].sha256 == _sha(mp4.read_bytes())
    images = [m for m in first.media if m["modality"] == "image"]
    assert [m["sent_as"] for m in images] == ["inline", "file"]
    assert {m["sha256"] for m in images} == {blobs[0].sha256} == {_sha(image_bytes(encoded["png"].image))}


def test_requests_repeating_media_hash_nothing_again(encoded, tmp_path, monkeypatch):
    """Through the judge (plan, uploads, registry, request): once a medium has been sent, later requests that show
    it make no SHA-256 at all — in the client or in the loopback server — and reuse its upload."""
    from judgeanything.judges import openai_payload

    monkeypatch.setattr(openai_payload, "PAYLOADS", openai_payload.PayloadCache())
    with FakeGemini(Script(reply=PAIR)) as srv:
        judge = judge_of(srv, tmp_path)

        async def go() -> tuple[list[JudgeResult], int, list[JudgeResult]]:
            policy = RetryPolicy.for_judge(judge)
            try:
                first = await judge_with_retries(judge, [media_request(encoded, "k0")], policy)
                made = _count_sha256(monkeypatch)
                later = await judge_with_retries(judge, [media_request(encoded, f"k{i}") for i in (1, 2, 3)], policy)
                return first, made[0], later
            finally:
                await judge.aclose()

        first, made, later = asyncio.run(go())
        assert len(srv.script.uploads) == 2 and len(srv.script.generate) == 4
    assert made == 0
    assert all(r.failure is None for r in first + later)
    def sent(r: JudgeResult) -> list[dict[str, Any]]:  # how each medium went, less whether its upload was reused
        return [{k: x for k, x in m.items() if k != "reused"} for m in r.extra["gemini_media"]]

    assert all(sent(r) == sent(first[0]) for r in later)  # the same digests and files
    assert all(m.get("reused") for r in later for m in r.extra["gemini_media"] if m["sent_as"] == "file")
