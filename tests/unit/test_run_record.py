"""The run record: written by the runner, kept by the store, read by the analysis — the same values all the way,
and one precedence rule ("latest attempt wins") everywhere."""

from __future__ import annotations

import json

import pytest

from judgeanything.analysis.load import load_run
from judgeanything.judges.base import JudgeRequest, JudgeResult
from judgeanything.orders import present
from judgeanything.prompts import build_prompt
from judgeanything.runner.records import result_record
from judgeanything.runner.units import plan_units
from judgeanything.schema import PairItem, Query, Response, item_to_dict
from judgeanything.store import ITEMS, RunLog, supersedes, write_jsonl


def _item() -> PairItem:
    q = Query("u", "Text2Text", "which is better?")
    return PairItem("u::ab", q, Response("a", "u", "ma", "text", text="one"), Response("b", "u", "mb", "text",
                                                                                       text="two"))


def _record(order: tuple[int, ...], raw: str, attempt: int = 0) -> dict:
    (unit,) = [u for u in plan_units([_item()], mode="overall", rubrics=("overall",), judge_fp={"name": "j"},
                                     prompt_version="v2", pair_order="both") if u.order == order]
    if attempt:
        from dataclasses import replace
        unit = replace(unit, attempt=attempt)
    shown = present(unit.item, unit.order)
    req = JudgeRequest(unit.key, shown, build_prompt(shown, "overall", ("overall",)), order=unit.order)
    res = JudgeResult(raw=raw, usage={"prompt_tokens": 12, "completion_tokens": 3}, latency_s=0.25, model="m-1")
    return result_record(unit, req, res, mode="overall", rubrics=("overall",), judge="j").to_dict()


@pytest.mark.parametrize(("new", "counted", "wins"), [(0, None, True), (1, 0, True), (0, 0, False),
                                                      (0, 1, False), (2, 2, False)])
def test_latest_attempt_wins_and_the_first_of_equals(new, counted, wins):
    assert supersedes(new, counted) is wins


def test_a_record_reads_back_as_written_and_as_the_analysis_sees_it(tmp_path):
    swapped = _record((1, 0), '{"verdict": "A"}')  # shown swapped: the judge's "A" is the dataset's second
    first_try = _record((0, 1), "no verdict here")
    retried = _record((0, 1), '{"verdict": "tie"}', attempt=1)
    write_jsonl(tmp_path / ITEMS, [{**item_to_dict(_item()), "sizes": [{}, {}]}])
    with RunLog(tmp_path) as log:
        assert log.append(swapped) and log.append(first_try) and log.append(retried)
        assert not log.append(first_try)  # an earlier attempt never replaces a later one
    lines = [json.loads(x) for x in (tmp_path / "verdicts.jsonl").read_text().splitlines()]
    assert lines == [json.loads(json.dumps(r)) for r in (swapped, first_try, retried)]  # JSON round trip, exact
    with RunLog(tmp_path) as log:
        assert [r["key"] for r in log.records] == [swapped["key"], first_try["key"]]
        assert log.records[1]["attempt"] == 1
    v = {row.order: row for row in load_run(tmp_path).verdicts.itertuples()}
    assert v[(1, 0)].value == "second" and v[(0, 1)].value == "tie"  # dataset orientation
    assert v[(0, 1)].failure is None and len(v) == 2  # the retry counts, not the unparseable first try
    assert swapped["usage"] == {"prompt_tokens": 12, "completion_tokens": 3} and swapped["model"] == "m-1"


@pytest.mark.parametrize(("outcome", "field"), [
    ("x", "outcomes[0]"),
    ({"rubric": "overall", "failure": "exploded"}, "outcomes[0].failure"),
    ({"rubric": "overall"}, "outcomes[0]"),
    ({"rubric": "overall", "value": "better"}, "outcomes[0].value"),
])
def test_a_bad_outcome_is_named_by_file_row_and_field(tmp_path, outcome, field):
    from judgeanything.schema import SchemaError

    good = _record((0, 1), '{"verdict": "A"}')
    write_jsonl(tmp_path / ITEMS, [{**item_to_dict(_item()), "sizes": [{}, {}]}])
    bad = {**good, "key": "k2", "outcomes": [outcome]}
    (tmp_path / "verdicts.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(SchemaError) as e:
        load_run(tmp_path)
    assert "verdicts.jsonl" in str(e.value) and "row 2" in str(e.value) and f"field {field!r}" in str(e.value)


def test_a_whole_request_failure_counts_once_per_rubric_asked(tmp_path):
    rec = {**_record((0, 1), ""), "rubrics": ["relevance", "clarity"],
           "outcomes": [{"rubric": "*", "failure": "api_error", "detail": "HTTP 503"}]}
    write_jsonl(tmp_path / ITEMS, [{**item_to_dict(_item()), "sizes": [{}, {}]}])
    (tmp_path / "verdicts.jsonl").write_text(json.dumps(rec) + "\n")
    v = load_run(tmp_path).verdicts
    assert sorted(v["rubric"]) == ["clarity", "relevance"] and set(v["failure"]) == {"api_error"}
