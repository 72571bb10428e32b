"""The OpenAI-compatible judge against a scripted loopback server: payloads, retries, failures."""

from __future__ import annotations

import asyncio
import base64
import io

import numpy as np
import pytest
import soundfile as sf
from openai.types.chat import ChatCompletionMessageParam
from PIL import Image
from pydantic import TypeAdapter

from judgeanything.judges.base import JudgeConfigError, JudgeRequest
from judgeanything.judges.openai_compat import OpenAIJudge
from judgeanything.judges.openai_payload import chat_messages
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo
from judgeanything.retry import RetryPolicy, judge_with_retries
from judgeanything.schema import PairItem, Prompt, Query, Response, TextPart
from tests.support.fake_openai import FakeServer, Script

MESSAGES = TypeAdapter(list[ChatCompletionMessageParam])


def judge_once(judge: OpenAIJudge, req: JudgeRequest):
    """One request through the runner's retry policy, as a run sends it."""
    async def go():
        try:
            return (await judge_with_retries(judge, [req], RetryPolicy.for_judge(judge)))[0]
        finally:
            await judge.aclose()

    return asyncio.run(go())


def _item() -> PairItem:
    q = Query("u1", "Text2Text", "What is 2+2?")
    return PairItem("u1::a_vs_b", q, Response("r1", "u1", "a", "text", text="4"),
                    Response("r2", "u1", "b", "text", text="5"))


def _request(parts=None) -> JudgeRequest:
    prompt = Prompt("pair", "overall", ("overall",), "You are a judge.",
                    (TextPart("Compare."),), "v1/pair_overall", {"type": "object"}, 2)
    return JudgeRequest("k1", _item(), prompt, (0, 1), 0, parts or [TextPart("Compare the two.")])


def _media_parts():
    img = Image.new("RGB", (8, 6), (255, 0, 0))
    audio = EncodedAudio(np.sin(np.linspace(0, 100, 1600)).astype(np.float32), 16000, role="query")
    frames = np.zeros((3, 6, 8, 3), dtype=np.uint8)
    video = EncodedVideo(frames, [0.0, 0.5, 1.0], 2.0, audio=audio, role="response 1",
                         provenance={"path": "/tmp/x.mp4"})
    return [TextPart("Input:"), EncodedImage(img, role="query"), audio, TextPart("Response 1:"), video]


def test_payload_validates_against_sdk_types_and_carries_media():
    msgs = chat_messages("sys", _media_parts())
    MESSAGES.validate_python(msgs)  # raises on any shape the SDK does not accept
    content = msgs[1]["content"]
    kinds = [c["type"] for c in content]
    # image, audio, then 3 video frames (each after a timestamp line) and the video's audio track
    assert kinds.count("image_url") == 1 + 3
    assert kinds.count("input_audio") == 2
    png = base64.b64decode(content[1]["image_url"]["url"].split(",", 1)[1])
    assert Image.open(io.BytesIO(png)).size == (8, 6)
    wav = base64.b64decode(content[2]["input_audio"]["data"])
    data, sr = sf.read(io.BytesIO(wav))
    assert sr == 16000 and len(data) == 1600
    assert "[t=0.50s]" in "".join(c.get("text", "") for c in content)
    url_mode = chat_messages("sys", _media_parts(), video_mode="video_url")
    MESSAGES.validate_python(url_mode)
    assert any(c["type"] == "video_url" and c["video_url"]["url"] == "/tmp/x.mp4" for c in url_mode[1]["content"])


def test_success_records_raw_usage_and_model():
    with FakeServer(Script(reply='{"overall_comment": "x", "overall_choice": "2"}')) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY")
        res = judge_once(judge, _request())
    assert res.failure is None
    assert res.raw == '{"overall_comment": "x", "overall_choice": "2"}'
    assert res.usage == {"prompt_tokens": 11, "completion_tokens": 7}
    # the snapshot and the backend configuration are recorded apart: the fingerprint is provenance only
    assert res.model == "m" and res.extra == {"system_fingerprint": "fp_test"} and res.finish_reason == "stop"
    body = srv.script.requests[0]
    assert body["temperature"] == 0.0 and body["response_format"] == {"type": "json_object"}
    assert body["messages"][0] == {"role": "system", "content": "You are a judge."}


def test_usage_details_media_cached_and_reasoning_tokens_are_recorded_where_reported():
    usage = {"prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940,
             "prompt_tokens_details": {"cached_tokens": 512, "audio_tokens": 300},
             "completion_tokens_details": {"reasoning_tokens": 25, "audio_tokens": None}}
    with FakeServer(Script(response={"usage": usage, "model": "m-2024-08-06"})) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY")
        res = judge_once(judge, _request())
    assert res.usage == {"prompt_tokens": 900, "completion_tokens": 40, "cached_prompt_tokens": 512,
                         "audio_prompt_tokens": 300, "reasoning_tokens": 25}
    assert res.model == "m-2024-08-06"  # the provider-reported snapshot, not the requested alias


def test_transient_errors_are_retried_then_succeed():
    with FakeServer(Script(statuses=[429, 500, 503])) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=0.05)
        res = judge_once(judge, _request())
    assert res.failure is None and len(srv.script.requests) == 4


def test_retries_are_bounded_and_become_api_error():
    with FakeServer(Script(statuses=[500] * 10)) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=0.01, max_attempts=3)
        res = judge_once(judge, _request())
    assert res.failure is not None and res.failure.kind == "api_error"
    assert "500" in res.failure.detail and len(srv.script.requests) == 3


def test_client_error_is_not_retried():
    with FakeServer(Script(statuses=[400])) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=0.01)
        res = judge_once(judge, _request())
    assert res.failure.kind == "api_error" and len(srv.script.requests) == 1


def test_content_filter_is_a_safety_block():
    with FakeServer(Script(reply="", finish_reason="content_filter")) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url)
        res = judge_once(judge, _request())
    assert res.failure.kind == "safety_block"


@pytest.mark.parametrize(("script", "kind", "raw", "detail"), [
    # the API's refusal field is a refusal, also when some text comes with it
    (Script(reply=None, choice={"message": {"role": "assistant", "content": None, "refusal": "I can't."}}),
     "refusal", "", "I can't."),
    (Script(reply="Sorry.", choice={"message": {"role": "assistant", "content": "Sorry.", "refusal": "No."}}),
     "refusal", "Sorry.", "No."),
    (Script(choice={"message": None}), "api_error", "", "without a message"),
    (Script(reply=5), "api_error", "", "not text: 5"),  # type: ignore[arg-type]
    (Script(reply={"overall_choice": "0"}), "api_error", "", "not text"),  # type: ignore[arg-type]
])
def test_malformed_or_refused_messages_are_typed_failures(script, kind, raw, detail):
    with FakeServer(script) as srv:
        res = judge_once(OpenAIJudge(model="m", base_url=srv.base_url, max_wait_s=0.01, max_attempts=2), _request())
    assert res.failure is not None and res.failure.kind == kind and detail in res.failure.detail
    assert res.raw == raw
    # a garbled message is a transient api_error (tried again), a refusal is the judge's answer (not retried)
    assert len(srv.script.requests) == (2 if kind == "api_error" else 1)


def test_content_parts_and_odd_usage_still_give_the_verdict():
    parts = [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": '{"overall_choice": '},
             {"type": "text", "text": '"2"}'}]
    with FakeServer(Script(reply=lambda body: parts, response={"usage": "lots"})) as srv:  # type: ignore
        res = judge_once(OpenAIJudge(model="m", base_url=srv.base_url), _request())
    assert res.failure is None and res.raw == '{"overall_choice": "2"}'
    assert res.usage == {"prompt_tokens": 0, "completion_tokens": 0}
    with FakeServer(Script(response={"usage": {"prompt_tokens": None, "completion_tokens": "7"}})) as srv:
        res = judge_once(OpenAIJudge(model="m", base_url=srv.base_url), _request())
    assert res.failure is None and res.usage == {"prompt_tokens": 0, "completion_tokens": 7}


def test_remote_server_without_key_is_a_config_error(monkeypatch):
    monkeypatch.delenv("JA_TEST_NO_SUCH_KEY", raising=False)
    judge = OpenAIJudge(model="m", base_url="https://api.example.com/v1", api_key_env="JA_TEST_NO_SUCH_KEY")
    with pytest.raises(JudgeConfigError, match="JA_TEST_NO_SUCH_KEY"):
        judge.client()


def test_key_never_in_fingerprint(monkeypatch):
    monkeypatch.setenv("JA_TEST_KEY", "sk-secret-123")
    judge = OpenAIJudge(model="m", base_url="https://api.example.com/v1", api_key_env="JA_TEST_KEY")
    judge.client()
    assert "sk-secret-123" not in repr(judge.fingerprint())


def test_a_key_echoed_in_a_server_error_is_not_recorded(monkeypatch):
    monkeypatch.setenv("JA_TEST_ECHO_KEY", "sk-echo-marker-123456")
    echo = Script(statuses=[401], error_message=lambda h: f"Incorrect API key provided: {h['authorization']}")
    with FakeServer(echo) as srv:
        res = judge_once(OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_ECHO_KEY"),
                         _request())
    assert res.failure is not None and res.failure.kind == "api_error"
    assert "sk-echo-marker" not in res.failure.detail
    assert "Incorrect API key provided: Bearer ***" in res.failure.detail


def test_an_unknown_downgrade_is_a_config_error_at_construction():
    with pytest.raises(JudgeConfigError, match="unknown downgrade video: 'franes'; allowed: frames"):
        OpenAIJudge(model="m", downgrades={"video": "franes"})
    assert OpenAIJudge(model="m", downgrades={"video": "frames"}).downgrades == {"video": "frames"}


def test_a_video_with_fewer_timestamps_than_frames_is_a_media_error_not_fewer_frames():
    video = EncodedVideo(np.zeros((3, 6, 8, 3), dtype=np.uint8), [0.0, 0.5], 2.0, role="response 1")
    with pytest.raises(ValueError, match="response 1 has 3 frames but 2 timestamps"):
        chat_messages("sys", [video])
    res = judge_once(OpenAIJudge(model="m", base_url="http://127.0.0.1:9/v1"), _request([TextPart("x"), video]))
    assert res.failure is not None and res.failure.kind == "media_error"
    assert "3 frames but 2 timestamps" in res.failure.detail


@pytest.mark.parametrize("body, expected", [
    ({"detail": "The prompt has 12224 tokens, but the model takes at most 4096"}, "takes at most 4096"),
    ({"error": {"message": "max_tokens is too large"}}, "max_tokens is too large"),
    ({"message": "quota exceeded for key"}, "quota exceeded"),
    ({"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}, "field required"),
    ("upstream said no", "upstream said no"),
])
def test_status_error_keeps_the_servers_own_words(body, expected):
    import httpx2 as httpx
    import openai

    from judgeanything.judges.openai_compat import server_message

    req = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    resp = httpx.Response(400, request=req, json=body) if not isinstance(body, str) else httpx.Response(
        400, request=req, text=body)
    e = openai.BadRequestError("Error code: 400", response=resp, body=body)
    msg = server_message(e)
    assert expected in msg and msg.count(expected) == 1
