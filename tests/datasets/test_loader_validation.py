"""Input validation at load, as properties (hypothesis): a row holding NaN / Infinity (anywhere, at any depth),
a value of the wrong type where text belongs, or an unknown task type is refused with the file, the row and
the field named — before anything is judged or written. Impossible token counts from a judge are flagged,
not recorded."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgeanything.analysis.load import load_run
from judgeanything.datasets.base import BenchmarkData
from judgeanything.datasets.judgeanything import JudgeAnythingDataset
from judgeanything.datasets.mllm_judge import MLLMJudgeDataset
from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.runner import Runner, RunOptions
from judgeanything.schema import PairItem, Query, Response, SchemaError
from tests.datasets.test_mllm_judge_dataset import pair_row, score_row

SLOW_OK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Where a generated bad value goes in an MLLM-as-a-Judge row: (setting, dotted field).
TEXT_FIELDS = [("pair", "instruction"), ("pair", "answer1.answer"), ("pair", "answer2.name"),
               ("pair", "image_path"), ("score", "answer"), ("score", "name"), ("score", "instruction")]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-2.5E+400"]


def _set(row: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        row = row[p]
    row[last] = value


def _write_rows(path: Path, rows: Sequence[dict[str, Any]], raw_at: dict[int, str] | None = None) -> Path:
    """JSON Lines; ``raw_at`` replaces a 0-based row by raw text (for literals json.dumps will not write)."""
    lines = [json.dumps(r) for r in rows]
    for i, text in (raw_at or {}).items():
        lines[i] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _load(path: Path, setting: str) -> None:
    kw = {f"{setting}_file": path}
    MLLMJudgeDataset(**kw).load(setting)


wrong_types = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                        st.booleans(), st.lists(st.text(max_size=5), max_size=3),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@SLOW_OK
@given(where=st.sampled_from(TEXT_FIELDS), value=wrong_types, n=st.integers(1, 6), data=st.data())
def test_a_wrong_type_where_text_belongs_is_refused_not_converted(tmp_path: Path, where: tuple[str, str],
                                                                  value: Any, n: int, data: st.DataObject) -> None:
    setting, field = where
    make: Callable[..., dict[str, Any]] = pair_row if setting == "pair" else score_row
    rows = [make(i + 1) for i in range(n)]
    bad = data.draw(st.integers(0, n - 1))
    _set(rows[bad], field, value)
    path = _write_rows(tmp_path / f"{setting}.jsonl", rows)
    with pytest.raises(SchemaError) as err:
        _load(path, setting)
    e = err.value
    assert (e.file, e.row, e.field) == (str(path), bad + 1, field), str(e)
    assert "expected text" in str(e)


def _with_literal(obj: Any, path: list[str | int], literal: str) -> str:
    """``obj`` as JSON with the value at ``path`` replaced by ``literal`` (NaN, 1e999…)."""
    marker = "__NON_FINITE__"
    target = obj
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = marker
    return json.dumps(obj).replace(json.dumps(marker), literal)


def _leaf_paths(obj: Any, prefix: list[str | int]) -> list[list[str | int]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaf_paths(v, [*prefix, k])]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaf_paths(v, [*prefix, i])]
    return [prefix]


def _dotted(path: list[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@SLOW_OK
@given(literal=st.sampled_from(NON_FINITE), setting=st.sampled_from(["pair", "score"]), data=st.data())
def test_nan_or_infinity_anywhere_is_refused_with_its_field(tmp_path: Path, literal: str, setting: str,
                                                           data: st.DataObject) -> None:
    rows = [(pair_row if setting == "pair" else score_row)(i + 1) for i in range(3)]
    bad = data.draw(st.integers(0, 2))
    leaf = data.draw(st.sampled_from(_leaf_paths(rows[bad], [])))
    path = _write_rows(tmp_path / f"{setting}.jsonl", rows, {bad: _with_literal(rows[bad], leaf, literal)})
    with pytest.raises(SchemaError) as err:
        _load(path, setting)
    e = err.value
    assert (e.file, e.row, e.field) == (str(path), bad + 1, _dotted(leaf)), str(e)
    assert "not a finite number" in str(e)


def test_nan_in_a_json_array_file_is_refused_too(tmp_path: Path) -> None:
    rows = [pair_row(1), pair_row(2)]
    text = "[" + json.dumps(rows[0]) + ", " + _with_literal(rows[1], ["evaluator", "analysis"], "NaN") + "]"
    path = tmp_path / "pairs.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        _load(path, "pair")
    assert (err.value.row, err.value.field) == (2, "evaluator.analysis")


def test_an_unknown_task_type_is_named_as_such(write: Callable[[str, Any], Path],
                                               ja_rows: dict[str, list[dict[str, Any]]]) -> None:
    q = ja_rows["queries"]
    q[1]["task_name"] = "Smell2Text"  # the shape of a task name, but no such modality
    path = write("T.json", q)
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(path, write("J.json", ja_rows["responses"])).load("score")
    e = err.value
    assert (e.file, e.row, e.field) == (str(path), 2, "task_name")
    assert "unknown task type 'Smell2Text'" in str(e) and "missing" not in str(e)
    q[1]["task_name"], q[1]["question"] = "Audio2Video", 42  # and an int question is not text
    path = write("T.json", q)
    with pytest.raises(SchemaError, match=r"row 2, field 'question': expected text"):
        JudgeAnythingDataset(path, write("J.json", ja_rows["responses"])).load("score")


class _Miscounting(Judge):
    """A judge whose server reports impossible token counts."""

    name = "miscounting"
    needs_media = False

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        usage = {"prompt_tokens": -5, "completion_tokens": 7, "completion_tokens_details": {"reasoning_tokens": 2.5}}
        return [JudgeResult(raw='{"overall_choice": "2"}', finish_reason="stop", usage=usage) for _ in requests]


def test_impossible_token_counts_are_flagged_not_recorded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    items = []
    for i in range(3):
        q = Query(f"u{i}", "Text2Text", f"q{i}")
        items.append(PairItem(f"u{i}", q, Response("a", q.uniq_id, "ma", "text", text="yes"),
                              Response("b", q.uniq_id, "mb", "text", text="no")))
    counts = Runner(BenchmarkData("toy", "pair", items), _Miscounting(), tmp_path, RunOptions(progress=False)).run()
    assert counts["usage_invalid"] == 3
    assert sum("impossible token counts" in r.getMessage() for r in caplog.records) == 1  # warned once
    for rec in map(json.loads, (tmp_path / "verdicts.jsonl").read_text().splitlines()):
        assert rec["usage"] == {"completion_tokens": 7, "completion_tokens_details": {}}
        assert rec["usage_invalid"] == {"prompt_tokens": -5, "completion_tokens_details.reasoning_tokens": 2.5}
        assert rec["outcomes"][0]["value"] == "second"  # the verdict itself stands
    run = load_run(tmp_path)
    assert run.records["prompt_tokens"].isna().all() and (run.records["completion_tokens"] == 7).all()


#: Judge Anything text fields: (file, row index, dotted field). Rows 0 are Text2Text queries / text responses.
JA_TEXT_FIELDS = [("queries", 0, "question"), ("queries", 0, "task_name"), ("responses", 0, "model_name"),
                  ("responses", 0, "response.type"), ("responses", 1, "response.content")]


@SLOW_OK
@given(where=st.sampled_from(JA_TEXT_FIELDS), value=wrong_types,
       nonfinite=st.sampled_from(NON_FINITE))
def test_judge_anything_rows_are_validated_the_same_way(write: Callable[[str, Any], Path],
                                                        ja_rows: dict[str, list[dict[str, Any]]],
                                                        where: tuple[str, int, str], value: Any,
                                                        nonfinite: str) -> None:
    kind, i, field = where
    rows = json.loads(json.dumps(ja_rows))
    _set(rows[kind][i], field, value)
    files = {k: write("T.jsonl" if k == "queries" else "J.jsonl", rows[k]) for k in ("queries", "responses")}
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(files["queries"], files["responses"]).load("score")
    assert (err.value.file, err.value.row, err.value.field) == (str(files[kind]), i + 1, field), str(err.value)
    # a non-finite number anywhere in the same row is refused at the same place
    clean = json.loads(json.dumps(ja_rows))
    lines = [json.dumps(r) for r in clean[kind]]
    lines[i] = _with_literal(clean[kind][i], field.split("."), nonfinite)
    path = files[kind]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    other = files["responses" if kind == "queries" else "queries"]
    other.write_text("\n".join(json.dumps(r) for r in clean["responses" if kind == "queries" else "queries"]) + "\n")
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(files["queries"], files["responses"]).load("score")
    assert (err.value.row, err.value.field) == (i + 1, field) and "not a finite number" in str(err.value)
