"""The run-log line format (:class:`judgeanything.store.RunRecord`): written and read back exactly, older lines
still read, and every malformed field named by file, line and field."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeanything.judges.base import JudgeRequest, JudgeResult
from judgeanything.orders import present
from judgeanything.prompts import build_prompt
from judgeanything.runner.records import failure_record, result_record
from judgeanything.runner.units import plan_units
from judgeanything.schema import FAILURE_KINDS, PAIR_CHOICES, Failure, PairItem, Query, Response, SchemaError, Verdict
from judgeanything.store import RunLog, RunRecord, _dumps, iter_latest_records
from tests.analysis.runbuilder import fail, record, v

#: one line of each golden run (scripts/golden_outputs.sh: the probe demo's four judges, the three replays of the
#: MLLM-as-a-Judge release), as the runner wrote them
GOLDEN = Path(__file__).parent / "data" / "run_log_lines.jsonl"


def _golden_lines() -> list[str]:
    return GOLDEN.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("line", _golden_lines(), ids=lambda s: json.loads(s)["judge"] + "/" +
                         json.loads(s)["setting"])
def test_a_line_the_runner_wrote_reads_back_to_the_same_bytes(line: str) -> None:
    rec = RunRecord.from_dict(json.loads(line), file="verdicts.jsonl", line=1)
    assert _dumps(rec.to_dict()) == line
    assert RunRecord.from_dict(rec.to_dict(), file="verdicts.jsonl", line=1) == rec


def _unit_and_request(attempt: int = 0) -> tuple[Any, JudgeRequest]:
    q = Query("u", "Text2Text", "which is better?")
    item = PairItem("u::ab", q, Response("a", "u", "ma", "text", text="one"),
                    Response("b", "u", "mb", "text", text="two"))
    unit = plan_units([item], mode="overall", rubrics=("overall",), judge_fp={"name": "j"}, prompt_version="v2")[0]
    if attempt:
        from dataclasses import replace
        unit = replace(unit, attempt=attempt)
    shown = present(unit.item, unit.order)
    return unit, JudgeRequest(unit.key, shown, build_prompt(shown, "overall", ("overall",)), order=unit.order,
                              meta={"media": [{"role": "query", "path": "a.png"}], "downgrades": ["video→frames"]})


def _written(rec: RunRecord) -> str:
    return _dumps(rec.to_dict())


@pytest.mark.parametrize("case", ["capped", "usage_invalid", "retry", "extra", "failure", "unprepared"])
def test_every_optional_field_the_runner_writes_reads_back_to_the_same_bytes(case: str) -> None:
    unit, req = _unit_and_request(attempt=2 if case == "retry" else 0)
    res = JudgeResult(raw='{"verdict": "A"}' + ("x" * 500 if case == "capped" else ""), finish_reason="stop",
                      usage={"prompt_tokens": 5, "completion_tokens": -1 if case == "usage_invalid" else 2},
                      latency_s=0.123456789, model="m", extra={"cache": "hit"} if case == "extra" else {},
                      failure=Failure("api_error", "HTTP 503") if case == "failure" else None)
    if case == "unprepared":
        rec = failure_record(unit, Failure("media_error", "no such file"), mode="overall", rubrics=("overall",),
                             judge="j", prompt_version="v2")
    else:
        rec = result_record(unit, req, res, mode="overall", rubrics=("overall",), judge="j", max_raw_chars=200)
    line = _written(rec)
    d = json.loads(line)
    back = RunRecord.from_dict(d, file="f", line=1)
    assert back == rec and _written(back) == line
    present_keys = {"capped": "raw_chars", "usage_invalid": "usage_invalid", "retry": "attempt", "extra": "extra"}
    for c, k in present_keys.items():
        assert (k in d) is (c == case), k  # written exactly when it applies
    assert ("raw_cap" in d) is (case == "capped")


def test_an_older_line_reads_and_writes_back_the_same_fields() -> None:
    """A record of an earlier version (no item_content, no attempt, latency_s null, ts a number, keys in another
    order — the shape tests/analysis/runbuilder.py writes) reads, and is written back field for field."""
    old = record("i1", "pair", [v("first"), fail("parse_fail", "clarity")], latency_s=None)
    rec = RunRecord.from_dict(json.loads(json.dumps(old)), file="f", line=3)
    assert rec.item_content is None and rec.attempt == 0 and rec.latency_s is None and rec.ts == 0
    assert rec.to_dict() == old and "item_content" not in rec.to_dict()
    minimal = {"item_id": 7, "outcomes": [{"rubric": "overall", "value": "tie"}]}
    rec = RunRecord.from_dict(minimal, file="f", line=9)
    assert rec.key == "line9" and rec.item_id == "7" and rec.order == () and rec.repeat == 0 and rec.usage == {}


def test_tolerated_as_before_a_non_integer_attempt_odd_probs_and_expected() -> None:
    d = {"key": "k", "item_id": "i", "setting": "score", "attempt": "2",
         "outcomes": [{"rubric": "overall", "value": 3, "probs": [0.5], "expected": "high"}]}
    rec = RunRecord.from_dict(d, file="f", line=1)
    assert rec.attempt == 0 and rec.outcomes == (Verdict("overall", 3),)


_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("not an object", [], None),  # type: ignore[list-item]
    ("item_id missing", {"item_id": None}, "item_id"),
    ("outcomes missing", {"outcomes": None}, "outcomes"),
    ("outcomes not a list", {"outcomes": {"rubric": "overall"}}, "outcomes"),
    ("outcome not an object", {"outcomes": ["first"]}, "outcomes[0]"),
    ("unknown failure kind", {"outcomes": [{"rubric": "o", "failure": "exploded"}]}, "outcomes[0].failure"),
    ("neither value nor failure", {"outcomes": [{"rubric": "o"}]}, "outcomes[0]"),
    ("pair value", {"outcomes": [{"rubric": "o", "value": "better"}]}, "outcomes[0].value"),
    ("score not a number", {"setting": "score", "outcomes": [{"rubric": "o", "value": "4"}]}, "outcomes[0].value"),
    ("score non-finite", {"setting": "score", "outcomes": [{"rubric": "o", "value": math.inf}]},
     "outcomes[0].value"),
    ("score a bool", {"setting": "score", "outcomes": [{"rubric": "o", "value": True}]}, "outcomes[0].value"),
    ("ranking repeats", {"setting": "batch", "outcomes": [{"rubric": "o", "value": [0, 0]}]}, "outcomes[0].value"),
    ("steps malformed", {"outcomes": [{"rubric": "o", "value": "first", "steps": ["correct"]}]},
     "outcomes[0].steps"),
    ("order not ints", {"order": [0, "1"]}, "order"),
    ("order not a list", {"order": "01"}, "order"),
    ("repeat negative", {"repeat": -1}, "repeat"),
    ("repeat fractional", {"repeat": 1.5}, "repeat"),
    ("usage not an object", {"usage": [1, 2]}, "usage"),
    ("extra not an object", {"extra": "hit"}, "extra"),
    ("usage_invalid not an object", {"usage_invalid": 3}, "usage_invalid"),
    ("media not a list", {"media": {"role": "query"}}, "media"),
    ("downgrades not a list", {"downgrades": "frames"}, "downgrades"),
    ("rubrics not a list", {"rubrics": "overall"}, "rubrics"),
    ("raw_chars negative", {"raw_chars": -5, "raw_cap": 200}, "raw_chars"),
    ("raw_cap not an int", {"raw_chars": 500, "raw_cap": "200"}, "raw_cap"),
]


@pytest.mark.parametrize(("why", "change", "fld"), _BAD, ids=[b[0] for b in _BAD])
def test_a_bad_field_is_named_by_file_line_and_field(why: str, change: Any, fld: str | None) -> None:
    good = json.loads(_golden_lines()[1])
    d = change if not isinstance(change, dict) else {**good, **change}
    with pytest.raises(SchemaError) as e:
        RunRecord.from_dict(d, file="runs/a/verdicts.jsonl", line=42)
    assert e.value.file == "runs/a/verdicts.jsonl" and e.value.row == 42 and e.value.field == fld
    assert "runs/a/verdicts.jsonl" in str(e.value) and "row 42" in str(e.value)


# ---- property: any record survives the line format --------------------------------------------------------------

_text = st.text(max_size=12)
_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), _finite, _text)
_json = st.recursive(_json_scalar, lambda c: st.one_of(st.lists(c, max_size=3),
                                                        st.dictionaries(_text, c, max_size=3)), max_leaves=8)


def _value(setting: str) -> st.SearchStrategy[Any]:
    if setting == "pair":
        return st.sampled_from(PAIR_CHOICES)
    if setting == "score":
        return st.one_of(st.integers(1, 10), _finite)
    return st.permutations(range(4)).map(tuple)


@st.composite
def _outcome(draw: st.DrawFn, setting: str) -> Verdict | Failure:
    rubric = draw(st.sampled_from(["overall", "clarity", "*"]))
    if draw(st.booleans()):
        return Failure(draw(st.sampled_from(FAILURE_KINDS)), draw(_text), rubric, draw(st.sampled_from(["", "strict"])))
    probs = draw(st.none() | st.dictionaries(st.sampled_from(PAIR_CHOICES), _finite, min_size=1))
    steps = draw(st.none() | st.lists(st.tuples(st.sampled_from(["correct", "incorrect"]),
                                                st.none() | st.sampled_from(["calculation", "reasoning"])),
                                      max_size=3).map(tuple))
    return Verdict(rubric if rubric != "*" else "overall", draw(_value(setting)), draw(_text), probs,
                   draw(st.none() | _finite), draw(st.sampled_from(["", "strict/json", "lenient/anchor"])), steps)


@st.composite
def _records(draw: st.DrawFn) -> RunRecord:
    setting = draw(st.sampled_from(["pair", "score", "batch"]))
    opt = st.none() | _text
    raw_chars = draw(st.none() | st.integers(0, 10**7))
    return RunRecord(
        key=draw(_text), item_id=draw(_text), outcomes=tuple(draw(st.lists(_outcome(setting), max_size=3))),
        item_content=draw(opt), task_name=draw(opt), setting=setting, mode=draw(opt),
        rubrics=tuple(draw(st.lists(_text, max_size=3))), order=tuple(draw(st.lists(st.integers(0, 5), max_size=4))),
        repeat=draw(st.integers(0, 5)), judge=draw(opt), prompt_version=draw(opt), attempt=draw(st.integers(0, 3)),
        raw=draw(st.text(max_size=40)), raw_chars=raw_chars,
        raw_cap=None if raw_chars is None else draw(st.integers(200, 10**6)),
        usage_invalid=draw(st.none() | st.dictionaries(_text, _json, min_size=1, max_size=2)),
        finish_reason=draw(opt), usage=draw(st.dictionaries(_text, st.integers(0, 10**6), max_size=3)),
        latency_s=draw(st.none() | _finite), model=draw(_text),
        media=tuple(draw(st.lists(st.dictionaries(_text, _json, max_size=2), max_size=2))),
        downgrades=tuple(draw(st.lists(_text, max_size=2))), ts=draw(_text),
        extra=draw(st.none() | st.dictionaries(_text, _json, min_size=1, max_size=2)))


@settings(max_examples=150, deadline=None)
@given(_records())
def test_any_record_reads_back_equal_through_its_json_line(rec: RunRecord) -> None:
    line = _written(rec)
    back = RunRecord.from_dict(json.loads(line), file="f", line=1)
    assert back == rec
    assert [getattr(o, "parsed_by", "") for o in back.outcomes] == [getattr(o, "parsed_by", "") for o in rec.outcomes]
    assert _written(back) == line


def test_the_log_keeps_the_latest_attempt_wherever_it_is_read(tmp_path: Path) -> None:
    unit, req = _unit_and_request()
    res = JudgeResult(raw="nothing", latency_s=0.1, model="m")
    first = result_record(unit, req, res, mode="overall", rubrics=("overall",), judge="j")
    from dataclasses import replace
    retry = replace(first, attempt=1, outcomes=(Verdict("overall", "tie"),))
    with RunLog(tmp_path) as log:
        assert log.append(first) and log.append(retry) and not log.append(first)
        assert [r["attempt"] for r in log.records] == [1]
    assert [r.get("attempt") for r in iter_latest_records(tmp_path / "verdicts.jsonl")] == [1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 2)), min_size=1, max_size=8))
def test_every_reader_counts_the_same_record_of_each_key(logged: list[tuple[str, int]]) -> None:
    """The run log's one precedence rule — the highest attempt, the first logged among equals — gives the same
    records to the resume (RunLog), the cost summaries (iter_latest_records) and the analysis (load_run), for any
    log, including one written before the store locked it (a key logged twice at one attempt)."""
    import tempfile

    from judgeanything.analysis.load import load_run
    from tests.analysis.runbuilder import item, write_run

    recs = []
    for n, (key, attempt) in enumerate(logged):
        r = {**record(f"i{key}", "pair", [v("first")]), "key": key, "latency_s": float(n)}  # latency_s marks it
        recs.append({**r, "attempt": attempt} if attempt else r)
    want: dict[str, tuple[int, float]] = {}
    for n, (key, attempt) in enumerate(logged):
        if key not in want or attempt > want[key][0]:
            want[key] = (attempt, float(n))
    with tempfile.TemporaryDirectory() as tmp:
        d = write_run(Path(tmp), items=[item(f"i{k}", "pair", "Text2Text", ["m1", "m2"]) for k in "abc"],
                      verdicts=recs)
        with RunLog(d) as log:
            assert {r["key"]: r["latency_s"] for r in log.records} == {k: n for k, (_, n) in want.items()}
            assert {k: a for k, (a, _) in log.latest.items()} == {k: a for k, (a, _) in want.items()}
        assert {r["key"]: r["latency_s"] for r in iter_latest_records(d / "verdicts.jsonl")} == \
            {k: n for k, (_, n) in want.items()}
        counted = load_run(d).records
        assert dict(zip(counted["key"], counted["latency_s"], strict=True)) == {k: n for k, (_, n) in want.items()}


#: fields an earlier version may not have written, and that stay absent when the record is written again
_MAY_BE_ABSENT = ("item_content", "task_name", "setting", "mode", "judge", "prompt_version", "attempt", "extra",
                  "usage_invalid")


@settings(max_examples=100, deadline=None)
@given(_records(), st.sets(st.sampled_from(_MAY_BE_ABSENT)), st.randoms(use_true_random=False))
def test_a_line_missing_optional_fields_in_any_key_order_reads_back_as_it_was(rec: RunRecord, absent: set[str],
                                                                              rnd: Any) -> None:
    d = {k: x for k, x in rec.to_dict().items() if k not in absent}  # no setting: values read as they are
    keys = list(d)
    rnd.shuffle(keys)
    line = json.loads(json.dumps({k: d[k] for k in keys}))
    assert RunRecord.from_dict(line, file="f", line=1).to_dict() == line


def test_a_credential_in_a_typed_record_never_reaches_the_log(tmp_path: Path) -> None:
    """The log is a sink: a server echoing the API key into its answer, an error detail or extra is masked on
    append, whatever field of the RunRecord carries it."""
    from judgeanything import redaction

    secret = "sk-test-" + "Zq8" * 12
    saved = set(redaction._REGISTERED)
    redaction.register_secret(secret)
    try:
        unit, req = _unit_and_request()
        res = JudgeResult(raw=f"your key {secret} is invalid", failure=Failure("api_error", f"HTTP 401 ({secret})"),
                          latency_s=0.1, model="m", extra={"echo": secret})
        rec = result_record(unit, req, res, mode="overall", rubrics=("overall",), judge="j")
        with RunLog(tmp_path) as log:
            assert log.append(rec)
        text = (tmp_path / "verdicts.jsonl").read_text()
        assert secret not in text and text.count(redaction.MASK) == 3
        back = RunRecord.from_dict(json.loads(text), file="f", line=1)
        assert back.key == rec.key and back.failed  # still a readable record
    finally:
        redaction._REGISTERED.clear()
        redaction._REGISTERED.update(saved)


def test_a_malformed_record_of_a_removed_item_is_still_named(tmp_path: Path) -> None:
    """Records set aside (their item left the item set) are checked like any other: a bad field anywhere in the
    log stops the analysis with its file, line and field, never silently dropped."""
    from judgeanything.analysis.load import load_run
    from tests.analysis.runbuilder import item, write_run

    recs = [record("i1", "pair", [v("first")]), {**record("gone", "pair", [v("first")]), "order": [0, "x"]}]
    d = write_run(tmp_path, items=[item("i1", "pair", "Text2Text", ["a", "b"])], verdicts=recs)
    with pytest.raises(SchemaError) as e:
        load_run(d)
    assert e.value.row == 2 and e.value.field == "order" and str(d / "verdicts.jsonl") in str(e.value)
    recs[1]["order"] = [0, 1]
    write_run(tmp_path, items=[item("i1", "pair", "Text2Text", ["a", "b"])], verdicts=recs)
    assert load_run(d).set_aside == {"items no longer in the item set": 1}
