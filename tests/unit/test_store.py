"""The run log: fsync'ed appends, torn-tail repair, no duplicate keys, row-numbered errors."""

from __future__ import annotations

import json

import pytest

from judgeanything.store import RunLog, StoreError, read_jsonl


def test_append_skips_known_keys_and_survives_reopen(tmp_path):
    with RunLog(tmp_path) as log:
        assert log.append({"key": "a", "v": 1})
        assert not log.append({"key": "a", "v": 2})
        assert log.append({"key": "b", "v": 3})
    with RunLog(tmp_path) as log:
        assert log.done == {"a", "b"}
        assert [r["v"] for r in log] == [1, 3]


def test_torn_last_line_is_dropped_and_file_stays_valid(tmp_path):
    p = tmp_path / "verdicts.jsonl"
    p.write_text(json.dumps({"key": "a"}) + "\n" + '{"key": "b", "raw": "cut he')
    with RunLog(tmp_path) as log:
        assert log.done == {"a"}
        log.append({"key": "b"})
    lines = p.read_text().splitlines()
    assert [json.loads(x)["key"] for x in lines] == ["a", "b"]


def test_malformed_middle_line_names_file_and_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n{oops}\n{"a": 2}\n')
    with pytest.raises(StoreError, match=r"x\.jsonl: line 2"):
        read_jsonl(p)
