"""Request shaping for reasoning models and the stop on a rejected parameter, through the real ``openai`` SDK
against a loopback server that validates parameters the way OpenAI's reasoning models do."""

from __future__ import annotations

from typing import Any

import pytest

from judgeanything.judges.base import JudgeConfigError
from judgeanything.judges.openai_compat import OpenAIJudge
from judgeanything.judges.openai_params import (
    UnsupportedParameterError,
    apply_shape,
    is_reasoning_model,
    rejected_parameter,
    request_shape,
)
from tests.judges.test_openai_judge import _request, judge_once
from tests.support.fake_openai import FakeServer, Script


def reasoning_model_rules(body: dict[str, Any]) -> dict[str, Any] | None:
    """What OpenAI answers a reasoning model's request with (error objects as the API sends them)."""
    if "max_tokens" in body:
        return {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
                           "Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}
    if body.get("temperature", 1) != 1:
        return {"message": "Unsupported value: 'temperature' does not support 0.0 with this model. Only the "
                           "default (1) value is supported.",
                "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}
    return None


def chat_model_rules(body: dict[str, Any]) -> dict[str, Any] | None:
    """An older server that knows only max_tokens and rejects reasoning_effort."""
    for p in ("max_completion_tokens", "reasoning_effort"):
        if p in body:
            return {"message": f"Unrecognized request argument supplied: {p}", "type": "invalid_request_error",
                    "param": p, "code": "unsupported_parameter"}
    return None


@pytest.mark.parametrize(("model", "expected"), [
    ("o1", True), ("o1-mini", True), ("o3-mini-2025-01-31", True), ("o4-mini", True), ("openai/o3", True),
    ("gpt-5", True), ("gpt-5-mini", True), ("gpt-5.1", True), ("GPT-5-nano", True), ("azure/gpt-5-pro", True),
    ("gpt-5-chat-latest", False), ("gpt-5.1-chat-latest", False), ("o3-pro", True), ("gpt-5-codex", True),
    ("gpt-4o-2024-08-06", False), ("gpt-4.1-mini", False),
    ("Qwen/Qwen2.5-VL-7B-Instruct", False), ("omni-judge", False), ("llama-o1", False), ("o", False),
])
def test_reasoning_models_detected_from_the_id(model: str, expected: bool) -> None:
    assert is_reasoning_model(model) is expected


def test_shape_rewrites_only_reasoning_requests() -> None:
    chat = {"model": "gpt-4o", "temperature": 0.0, "top_p": 0.9, "max_tokens": 64, "seed": 3,
            "presence_penalty": 0.0}
    assert apply_shape(dict(chat), request_shape("gpt-4o")) == chat
    shaped = apply_shape(dict(chat), request_shape("o4-mini", reasoning_effort="low"))
    assert shaped == {"model": "gpt-4o", "max_completion_tokens": 64, "seed": 3, "reasoning_effort": "low"}
    # config overrides detection both ways
    assert "max_tokens" in apply_shape(dict(chat), request_shape("o3", reasoning=False))
    assert "max_completion_tokens" in apply_shape(dict(chat), request_shape("my-finetune", reasoning=True))


def test_bad_reasoning_effort_is_a_config_error() -> None:
    with pytest.raises(JudgeConfigError, match="reasoning_effort 'extreme'"):
        request_shape("o3", reasoning_effort="extreme")
    with pytest.raises(JudgeConfigError, match="not a reasoning model"):
        OpenAIJudge(model="gpt-4o", reasoning_effort="high")
    # a non-greedy temperature would silently not reach a reasoning model
    with pytest.raises(JudgeConfigError, match=r"takes no temperature; judge.sampling.temperature=0.7"):
        OpenAIJudge(model="o3", sampling={"temperature": 0.7})
    with pytest.raises(JudgeConfigError, match="takes no top_p"):
        OpenAIJudge(model="gpt-5", sampling={"top_p": 0.9})
    OpenAIJudge(model="o3", sampling={"temperature": 0.7}, reasoning=False)  # forced: it is sent


def test_rejection_recognised_from_code_or_message() -> None:
    body = {"code": "unsupported_parameter", "param": "max_tokens", "message": "x"}
    assert rejected_parameter(400, body, "x") == "max_tokens"
    assert rejected_parameter(400, {"error": body}, "x") == "max_tokens"
    # a proxy that keeps only the message
    assert rejected_parameter(400, None, "Unsupported value: 'top_p' does not support 0.5") == "top_p"
    assert rejected_parameter(400, {"code": "invalid_value", "message": "bad image"}, "bad image") is None
    assert rejected_parameter(429, body, "x") is None
    # vLLM started with --max-logprobs 5, asked for 20
    assert rejected_parameter(400, None, "Requested sample logprobs of 20, which is greater than max allowed: "
                                         "5") == "top_logprobs"


def test_reasoning_model_request_passes_a_strict_server() -> None:
    with FakeServer(Script(check=reasoning_model_rules)) as srv:
        judge = OpenAIJudge(model="o4-mini", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY",
                            sampling={"max_tokens": 4096, "top_p": 1.0}, reasoning_effort="medium")
        res = judge_once(judge, _request())
    assert res.failure is None and res.raw
    (sent,) = srv.script.requests
    assert sent["max_completion_tokens"] == 4096 and sent["reasoning_effort"] == "medium"
    assert not {"max_tokens", "temperature", "top_p"} & set(sent)
    assert judge.fingerprint()["reasoning"] is True and "reasoning model" in judge.notes()[0]


@pytest.mark.parametrize(("model", "options", "rules", "param"), [
    ("gpt-5-mini", {"reasoning": False}, reasoning_model_rules, "max_tokens"),
    ("my-reasoner", {}, reasoning_model_rules, "max_tokens"),
    ("o3-mini", {"reasoning_effort": "low"}, chat_model_rules, "max_completion_tokens"),
])
def test_rejected_parameter_stops_with_its_name_and_is_not_retried(model: str, options: dict[str, Any],
                                                                   rules: Any, param: str) -> None:
    with FakeServer(Script(check=rules)) as srv:
        judge = OpenAIJudge(model=model, base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY", **options)
        with pytest.raises(UnsupportedParameterError) as ei:
            judge_once(judge, _request())
    assert ei.value.param == param and repr(param) in str(ei.value) and model in str(ei.value)
    assert "judge.reasoning" in str(ei.value)  # the message says what to change
    assert len(srv.script.requests) == 1  # a rejection is not retried like a transient fault


def test_a_rejected_value_is_told_apart_from_a_rejected_parameter() -> None:
    def no_minimal_effort(body: dict[str, Any]) -> dict[str, Any] | None:
        if body.get("reasoning_effort") == "minimal":
            return {"message": "Unsupported value: 'reasoning_effort' does not support 'minimal' with this model. "
                               "Supported values are: 'low', 'medium', and 'high'.",
                    "type": "invalid_request_error", "param": "reasoning_effort", "code": "unsupported_value"}
        return None

    with FakeServer(Script(check=no_minimal_effort)) as srv:
        judge = OpenAIJudge(model="o3", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY",
                            reasoning_effort="minimal")
        with pytest.raises(UnsupportedParameterError, match="takes another reasoning_effort") as ei:
            judge_once(judge, _request())
    assert "'low', 'medium', and 'high'" in str(ei.value)  # the server's own list reaches the user
