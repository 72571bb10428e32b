"""The rules and process analyses read a run's item set as the generic analysis does: one set-aside rule
(analysis.load.set_aside_reason), a missing items.jsonl is an error (not an empty or unfiltered run), and a
reference step label the contract does not know is refused, not read as 'correct'."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgeanything.analysis.load import EDITED, REMOVED, set_aside_reason
from judgeanything.analysis.process import load_process_run
from judgeanything.analysis.rules import load_rule_units
from judgeanything.schema import SchemaError


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _process_run(d: Path, verdict: str = "incorrect") -> Path:
    _write(d / "items.jsonl", [{"item_id": "c1", "content": "h1", "meta": {
        "reference_steps": [{"verdict": "correct"}, {"verdict": verdict, "error_type": None}]}}])
    _write(d / "verdicts.jsonl", [
        {"key": "k1", "item_id": "c1", "item_content": "h1", "outcomes": [{"rubric": "overall", "steps": [
            {"verdict": "correct"}, {"verdict": "incorrect"}]}]},
        {"key": "k2", "item_id": "gone", "item_content": "h9", "outcomes": [{"rubric": "overall", "steps": []}]},
        {"key": "k3", "item_id": "c1", "item_content": "old", "outcomes": [{"failure": "api_error"}]}])
    return d


def test_one_set_aside_rule() -> None:
    contents = {"a": "h1", "b": None}
    assert set_aside_reason("a", "h1", contents) is None
    assert set_aside_reason("a", "h2", contents) == EDITED
    assert set_aside_reason("a", None, contents) is None  # a record of an earlier version without content
    assert set_aside_reason("b", "anything", contents) is None
    assert set_aside_reason("z", "h1", contents) == REMOVED


def test_process_run_counts_only_current_records(tmp_path: Path) -> None:
    cases, judged, failures = load_process_run(_process_run(tmp_path))
    assert [c.case_id for c in cases] == ["c1"] and cases[0].first_error == 2
    assert judged == {"c1": [("correct", None), ("incorrect", None)]} and failures == {}


def test_a_misspelled_reference_label_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="'Incorrect'"):
        load_process_run(_process_run(tmp_path, verdict="Incorrect"))


@pytest.mark.parametrize("load", [load_process_run, load_rule_units])
def test_a_run_without_its_item_set_is_an_error(tmp_path: Path, load) -> None:
    _process_run(tmp_path)
    (tmp_path / "items.jsonl").unlink()
    with pytest.raises(FileNotFoundError, match=r"items\.jsonl"):
        load(tmp_path)
