"""Token-probability verdicts from an OpenAI-compatible API (``judge.verdict=logprob``): the real ``openai`` SDK
against a loopback server that returns OpenAI-format ``logprobs``, and the reading of verdict tokens."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeanything.judges.base import JudgeConfigError, JudgeRequest
from judgeanything.judges.openai_compat import OpenAIJudge
from judgeanything.judges.openai_logprob import NoLogprobsError, StreamToken, read_token_verdicts
from judgeanything.prompts import output_schema
from judgeanything.schema import TextPart
from tests.judges.conftest import make_request
from tests.judges.test_openai_judge import judge_once
from tests.support.fake_openai import FakeServer, Script
from tests.support.token_cases import PAIR_ALTS, PAIR_TOKENS, SCORE_ALTS, SCORE_TOKENS, logprobs


def request(setting: str, rubrics: tuple[str, ...]) -> JudgeRequest:
    r = make_request("k", setting, [TextPart("Judge it.")], rubrics)
    return dataclasses.replace(r, prompt=dataclasses.replace(r.prompt, output_schema=output_schema(setting,
                                                                                                  rubrics)))


def server(tokens: list[str], alts: dict[int, list[tuple[str, float]]], **kw: Any) -> FakeServer:
    return FakeServer(Script(reply="".join(tokens), choice={"logprobs": logprobs(tokens, alts)}, **kw))


def judge(srv: FakeServer, **kw: Any) -> OpenAIJudge:
    return OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY", verdict="logprob", **kw)


def test_pair_probabilities_from_the_verdict_token():
    with server(PAIR_TOKENS, PAIR_ALTS) as srv:
        j = judge(srv, top_logprobs=5)
        res = judge_once(j, request("pair", ("overall",)))
    (sent,) = srv.script.requests
    assert sent["logprobs"] is True and sent["top_logprobs"] == 5
    (v,) = res.outcomes
    z = 0.60 + 0.02 + 0.30 + 0.05  # "2" and '2"' both spell the candidate "2"; "Response" spells none
    assert v.value == "second" and v.comment == "B is right"
    assert v.probs == pytest.approx({"second": 0.62 / z, "first": 0.30 / z, "tie": 0.05 / z})
    assert res.extra["candidate_mass"]["overall"] == pytest.approx(z)
    assert j.settings == frozenset({"pair", "score", "rules"}) and j.fingerprint()["verdict"] == "logprob"


def test_scores_per_rubric_with_a_verdict_only_schema():
    with server(SCORE_TOKENS, SCORE_ALTS) as srv:
        res = judge_once(judge(srv, response_format="json_schema"), request("score", ("relevance", "clarity")))
    (sent,) = srv.script.requests
    schema = sent["response_format"]["json_schema"]["schema"]
    assert list(schema["properties"]) == ["relevance_score", "clarity_score"]  # no comments: verdicts first
    assert sent["max_tokens"] == 8 + 12 * 2  # a few tokens per rubric
    rel, cla = res.outcomes
    # " 45" is another number and "4" lacks the space the generated token had: neither is a candidate here
    z = 0.5 + 0.3 + 0.1
    assert rel.value == 4 and rel.probs == pytest.approx({"4": 0.5 / z, "5": 0.3 / z, "3": 0.1 / z, "1": 0.0,
                                                          "2": 0.0})
    assert rel.expected == pytest.approx((4 * 0.5 + 5 * 0.3 + 3 * 0.1) / z)
    assert cla.value == 2 and cla.expected == pytest.approx((2 * 0.7 + 1 * 0.2) / 0.9)


def test_a_value_that_is_no_candidate_is_left_to_the_parser():
    tokens = ['{"', "overall", "_score", '":', " 7", "}"]
    with server(tokens, {4: [(" 7", 0.9), (" 5", 0.1)]}) as srv:
        res = judge_once(judge(srv), request("score", ("overall",)))
    assert res.outcomes is None and res.raw == '{"overall_score": 7}'
    assert "not one of 1, 2, 3, 4, 5" in res.extra["logprob_unread"]


def test_a_server_without_logprobs_is_a_config_error():
    with FakeServer(Script(reply='{"overall_comment": "x", "overall_choice": "1"}')) as srv:
        with pytest.raises(NoLogprobsError, match="returned no logprobs"):
            judge_once(judge(srv), request("pair", ("overall",)))
        assert len(srv.script.requests) == 1


def test_logprob_mode_refusals_at_construction():
    with pytest.raises(JudgeConfigError, match="reasoning model, which returns no logprobs"):
        OpenAIJudge(model="o4-mini", verdict="logprob")
    with pytest.raises(JudgeConfigError, match="top_logprobs=0"):
        OpenAIJudge(model="gpt-4o", verdict="logprob", top_logprobs=0)
    with pytest.raises(JudgeConfigError, match="'generate' or 'logprob'"):
        OpenAIJudge(model="gpt-4o", verdict="logits")  # type: ignore[arg-type]
    assert "batch" in OpenAIJudge(model="gpt-4o").settings


def _stream(tokens: list[str], alts: dict[int, list[tuple[str, float]]]) -> list[StreamToken]:
    lp = logprobs(tokens, alts)["content"]
    return [StreamToken(t["token"], t["logprob"], tuple((a["token"], a["logprob"]) for a in t["top_logprobs"]))
            for t in lp]


@pytest.mark.parametrize(("tokens", "at", "alts", "probs"), [
    # the quote and the digit in one token: alternatives must share the quote
    (['{"overall_choice":', ' "0', '"}'], 1, [(' "0', 0.5), (' "1', 0.25), (' "2', 0.25), ('"0', 0.1)],
     {"first": 0.5, "tie": 0.25, "second": 0.25}),
    # the whole value and the closing quote in one token
    (['{"overall_choice": "', '1"}'], 1, [('1"}', 0.4), ('2"}', 0.4), ('0"}', 0.1), ('10', 0.1)],
     {"first": 0.1 / 0.9, "tie": 0.4 / 0.9, "second": 0.4 / 0.9}),
])
def test_verdict_token_shapes(tokens, at, alts, probs):
    readings, why = read_token_verdicts(_stream(tokens, {at: alts}), "pair", ["overall"])
    assert why is None and readings[0].verdict.probs == pytest.approx(probs)


def test_missing_verdict_key_is_reported():
    readings, why = read_token_verdicts(_stream(['{"overall_comment": "fine"}'], {}), "pair", ["overall"])
    assert readings == [] and why == "no overall_choice value in the answer"


def test_a_server_capped_below_top_logprobs_stops_the_run_naming_it():
    from judgeanything.judges.openai_params import UnsupportedParameterError

    def vllm_max_logprobs_5(body: dict[str, Any]) -> dict[str, Any] | None:
        if body.get("top_logprobs", 0) > 5:  # vLLM's answer when started with --max-logprobs 5
            return {"object": "error", "message": f"Requested sample logprobs of {body['top_logprobs']}, which is "
                                                  "greater than max allowed: 5", "type": "BadRequestError",
                    "param": None, "code": 400}
        return None

    with server(PAIR_TOKENS, PAIR_ALTS, check=vllm_max_logprobs_5) as srv:
        with pytest.raises(UnsupportedParameterError, match=r"judge\.top_logprobs") as ei:
            judge_once(judge(srv), request("pair", ("overall",)))
        assert ei.value.param == "top_logprobs" and len(srv.script.requests) == 1
        res = judge_once(judge(srv, top_logprobs=5), request("pair", ("overall",)))
    assert res.outcomes is not None and res.outcomes[0].value == "second"


def test_prefill_mode_reads_each_rubric_after_the_earlier_verdicts():
    """vLLM-style continuation: the server continues the prefilled assistant message by one token."""
    dists = {"relevance_choice": [("2", 0.7), ("0", 0.2), ("1", 0.1)],
             "clarity_choice": [("1", 0.5), ('1"', 0.1), ("0", 0.3), ("x", 0.1)]}

    def asked(body: dict[str, Any]) -> str:
        last = body["messages"][-1]
        assert last["role"] == "assistant" and body["continue_final_message"] and not body["add_generation_prompt"]
        return last["content"].rsplit('"', 3)[-3]  # the key whose value comes next

    def choice(body: dict[str, Any]) -> dict[str, Any]:
        top = dists[asked(body)]
        return {"logprobs": logprobs([top[0][0]], {0: top})}

    with FakeServer(Script(reply=lambda body: dists[asked(body)][0][0], choice=choice)) as srv:
        j = judge(srv, logprob_prefill=True, response_format="json_schema")
        res = judge_once(j, request("pair", ("relevance", "clarity")))
    first, second = srv.script.requests
    assert first["max_tokens"] == 1 == second["max_tokens"] and "response_format" not in first
    assert first["messages"][-1]["content"] == '{"relevance_choice": "'
    assert second["messages"][-1]["content"] == '{"relevance_choice": "2", "clarity_choice": "'
    rel, cla = res.outcomes
    assert rel.value == "second" and rel.probs == pytest.approx({"second": 0.7, "first": 0.2, "tie": 0.1})
    assert cla.value == "tie" and cla.probs["tie"] == pytest.approx(0.6 / 0.9)
    assert res.raw == '{"relevance_choice": "2", "clarity_choice": "1"}' and res.usage["prompt_tokens"] == 22
    assert res.extra["logprob_prefill"] is True and j.fingerprint()["logprob_prefill"] == "json-prefill-v1"


# ------------------------------------------------------------------------------------------------
# The reading does not depend on how the server's tokenizer cut the answer
# ------------------------------------------------------------------------------------------------

@st.composite
def tokenized_answers(draw: st.DrawFn) -> tuple[str, list[str], str, dict[str, dict[str, float]], list[StreamToken]]:
    setting = draw(st.sampled_from(["pair", "score"]))
    rubrics = draw(st.lists(st.sampled_from(["overall", "relevance", "clarity", "coherence"]), min_size=1,
                            max_size=3, unique=True))
    cands = ["0", "1", "2"] if setting == "pair" else ["1", "2", "3", "4", "5"]
    answer: dict[str, Any] = {}
    dists: dict[str, dict[str, float]] = {}
    for r in rubrics:
        weights = draw(st.lists(st.floats(0.01, 1.0), min_size=len(cands), max_size=len(cands)))
        z = sum(weights)
        dists[r] = {c: w / z * 0.9 for c, w in zip(cands, weights, strict=True)}  # 0.1 left to other tokens
        answer[f"{r}_comment"] = draw(st.text(st.characters(codec="ascii", categories=["L", "Zs"]), max_size=12))
        best = max(cands, key=lambda c: dists[r][c])
        answer[f"{r}_{'choice' if setting == 'pair' else 'score'}"] = best if setting == "pair" else int(best)
    text = json.dumps(answer)
    # where each verdict value stands; a token never holds two of them (a cut lies between consecutive ones)
    at = {r: text.index(json.dumps(k)) + len(json.dumps(k)) + (3 if setting == "pair" else 2)
          for r in rubrics for k in [f"{r}_{'choice' if setting == 'pair' else 'score'}"]}
    values = sorted(at.values())
    cuts = set(draw(st.sets(st.integers(1, len(text) - 1), max_size=len(text) // 2)))
    cuts |= {draw(st.integers(a + 1, b)) for a, b in itertools.pairwise(values)}
    bounds = [0, *sorted(cuts), len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    stream = []
    for k, piece in enumerate(pieces):
        start = bounds[k]
        top: list[tuple[str, float]] = [(piece, math.log(0.9))]
        for r, v in at.items():
            if start <= v < start + len(piece):
                j = v - start
                top = [(piece[:j] + c + piece[j + 1:], math.log(p)) for c, p in dists[r].items()]
                top.append(("§" + piece, math.log(0.1)))  # another spelling of the position: no candidate
        stream.append(StreamToken(piece, dict(top).get(piece, math.log(0.9)), tuple(top)))
    return setting, rubrics, text, dists, stream


@settings(max_examples=60, deadline=None)
@given(tokenized_answers())
def test_reading_is_independent_of_the_tokenization(case):
    setting, rubrics, _text, dists, stream = case
    readings, why = read_token_verdicts(stream, setting, rubrics)
    assert why is None, why
    labels = {"0": "first", "1": "tie", "2": "second"}
    for r, reading in zip(rubrics, readings, strict=True):
        want = {labels.get(c, c) if setting == "pair" else c: p / 0.9 for c, p in dists[r].items()}
        assert reading.verdict.probs == pytest.approx(want, abs=1e-9)
        assert reading.mass == pytest.approx(0.9)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("setting,verdict,alt", [("score", "4", "3"), ("pair", "2", "0")])
def test_a_nan_or_infinite_logprob_is_no_verdict(bad: float, setting: str, verdict: str, alt: str) -> None:
    """A NaN (or +inf) log-probability made every candidate's probability NaN and the verdict the first
    candidate (score 1, 'first'): a server fault read as a verdict. It is left to the parser instead."""
    key = "overall_score" if setting == "score" else "overall_choice"
    quote = "" if setting == "score" else '"'
    stream = [StreamToken(f'{{"{key}": {quote}', -0.01, ()), StreamToken(verdict, bad, ((verdict, bad), (alt, -1.0))),
              StreamToken(f"{quote}}}", -0.01, ())]
    readings, why = read_token_verdicts(stream, setting, ["overall"])
    assert readings == [] and why is not None and "not usable" in why
    none = [StreamToken(f'{{"{key}": {quote}', -0.01, ()), StreamToken(verdict, -math.inf, ((alt, -math.inf),))]
    assert read_token_verdicts(none, setting, ["overall"])[0] == []
    from judgeanything.judges.token_verdicts import UnusableLogits, read_verdict

    with pytest.raises(UnusableLogits, match="not usable"):  # the hf judge's logits path: an api_error there
        read_verdict(setting, "overall", dict.fromkeys(["0", "1", "2", "3", "4", "5"], 0.0), math.nan)


def test_prefill_mode_with_no_candidate_among_the_top_tokens_is_left_to_the_parser():
    def choice(body: dict[str, Any]) -> dict[str, Any]:
        return {"logprobs": logprobs(["Response"], {0: [("Response", 0.6), ("The", 0.4)]})}

    with FakeServer(Script(reply="Response", choice=choice)) as srv:
        res = judge_once(judge(srv, logprob_prefill=True), request("pair", ("overall",)))
    assert res.outcomes is None and res.failure is None
    assert "no candidate among the top 20 tokens after the overall prefill" in res.extra["logprob_unread"]
