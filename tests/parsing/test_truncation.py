"""Truncation (issue 8 item 2): when the backend reports a token-limit stop, only a complete structured
answer counts; any other output — prose however verdict-like, an unclosed JSON object's unfinished value —
is a ``truncated`` failure, in every setting and rubric; the analysis counts it like any other failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgeanything.analysis.metrics import analyze_run
from judgeanything.parsing import TRUNCATION_REASONS, is_token_limit, parse_output
from judgeanything.schema import RUBRICS, Failure, Verdict
from tests.analysis.runbuilder import fail, item, label, record, v, write_run

CUT_PROSE = {  # the case and its pair / batch neighbours: a statement, then the cut
    "score": ("Relevance is fine; I would give it a 5 if the", 1),
    "pair": ("Response 2 is better because it counts the birds, so [[B]] unless the", 2),
    "batch": ("Ranking: C > A > D > B, since C shows the correct", 4),
}


@pytest.mark.parametrize("reason", [*sorted(TRUNCATION_REASONS), "MAX_TOKENS"])
@pytest.mark.parametrize("setting", ["score", "pair", "batch"])
@pytest.mark.parametrize("strategy", ["auto", "strict", "lenient"])
def test_cut_prose_is_truncated_not_a_verdict(setting: str, reason: str, strategy: str) -> None:
    raw, n = CUT_PROSE[setting]
    (o,) = parse_output(raw, setting, ["overall"], n_responses=n, finish_reason=reason, strategy=strategy)
    assert isinstance(o, Failure) and o.kind == "truncated", o
    assert "token limit" in o.detail
    (again,) = parse_output(raw, setting, ["overall"], n_responses=n, strategy="lenient")
    assert isinstance(again, Verdict), "without the limit the same prose is a verdict (the limit decides)"


OTHER_LIMIT_SPELLINGS = ["FinishReason.MAX_TOKENS", "FINISH_REASON_MAX_TOKENS", "model_length", " Length ",
                         "max_new_tokens", "model_context_window_exceeded", "MAX_COMPLETION_TOKENS"]


@pytest.mark.parametrize("reason", OTHER_LIMIT_SPELLINGS)
@pytest.mark.parametrize("setting", ["score", "pair", "batch"])
def test_other_spellings_of_the_token_limit_are_truncation(setting: str, reason: str) -> None:
    """Mistral's ``model_length``, an SDK enum written with its class, transformers' ``max_new_tokens``…: a
    statement cut at the limit is still no verdict, whatever the server calls the stop."""
    raw, n = CUT_PROSE[setting]
    (o,) = parse_output(raw, setting, ["overall"], n_responses=n, finish_reason=reason)
    assert isinstance(o, Failure) and o.kind == "truncated", o


@pytest.mark.parametrize("reason", [None, "", "stop", "STOP", "end_turn", "content_filter", "tool_calls",
                                    "FinishReason.STOP", "eos_token", "lengthy"])
def test_other_stops_are_not_the_token_limit(reason: str | None) -> None:
    assert not is_token_limit(reason)
    (o,) = parse_output("Score: 4", "score", ["overall"], n_responses=1, finish_reason=reason)
    assert isinstance(o, Verdict) and o.value == 4


@pytest.mark.parametrize("setting,value,n", [("score", 4, 1), ("pair", "2", 2), ("batch", "CADB", 4)])
def test_every_rubric_of_a_cut_json_answer(setting: str, value: object, n: int) -> None:
    """Rubrics whose verdict was written to its end before the cut count; the rest are truncated."""
    key = {"score": "score", "pair": "choice", "batch": "ranking"}[setting]
    done: dict[str, object] = {}
    for r in RUBRICS[:3]:
        done[f"{r}_comment"], done[f"{r}_{key}"] = "ok", value
    raw = json.dumps(done)[:-1] + f', "{RUBRICS[3]}_comment": "The response is clear and'
    out = parse_output(raw, setting, RUBRICS, n_responses=n, finish_reason="length")
    assert [isinstance(o, Verdict) for o in out] == [True] * 3 + [False] * 3
    assert [o.kind for o in out if isinstance(o, Failure)] == ["truncated"] * 3
    assert {o.parsed_by for o in out if isinstance(o, Verdict)} == {"limit/json-prefix"}


@pytest.mark.parametrize("setting,raw,n", [
    ("score", '{"overall_comment": "ok", "overall_score": 4', 1),  # 4, or the start of 45?
    ("pair", '{"overall_comment": "ok", "overall_choice": "2', 2),
    ("batch", '{"overall_comment": "ok", "overall_ranking": "CA', 4),
])
def test_a_value_cut_before_its_end_is_truncated(setting: str, raw: str, n: int) -> None:
    (o,) = parse_output(raw, setting, ["overall"], n_responses=n, finish_reason="length")
    assert isinstance(o, Failure) and o.kind == "truncated"


def test_complete_json_before_the_cut_counts() -> None:
    raw = '{"overall_comment": "fine", "overall_score": 4}\nFurther notes: the second paragraph'
    (o,) = parse_output(raw, "score", ["overall"], finish_reason="length")
    assert o == Verdict("overall", 4, "fine") and o.parsed_by == "limit/json"
    two = '{"overall_score": 2}\n{"overall_score": 5}\nMore notes: the'  # complete, but they disagree
    (o,) = parse_output(two, "score", ["overall"], finish_reason="length")
    assert isinstance(o, Failure) and o.kind == "parse_fail" and "disagree" in o.detail


def test_truncated_is_counted_like_other_failures(tmp_path: Path) -> None:
    items = [item(f"i{k}", "score", "Text2Text", ["m"]) for k in range(4)]
    verdicts = [record("i0", "score", [v(4)], order=(0,)), record("i1", "score", [v(2)], order=(0,)),
                record("i2", "score", [fail("truncated")], order=(0,)),
                record("i3", "score", [fail("parse_fail")], order=(0,))]
    run = write_run(tmp_path / "r", items=items, verdicts=verdicts,
                    labels=[label(f"i{k}", 3) for k in range(4)])
    metrics = analyze_run(run, bootstrap=0)
    f = metrics["settings"]["score"]["rubrics"]["overall"]["failures"]
    assert f["failures"] == 2 and f["by_kind"] == {"parse_fail": 1, "truncated": 1} and f["coverage"] == 0.5
