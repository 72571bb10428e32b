"""The store never writes a line its own reader refuses: a NaN or infinite number reaching a record (a
plugin's measure, a judge's expected score) is written as null, named in a warning — not as ``NaN``, which
made an ``items.jsonl`` the analysis could not read back."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from judgeanything.analysis.load import load_run
from judgeanything.store import ITEMS, RunLog, read_jsonl_lines, write_jsonl


def test_non_finite_numbers_are_written_as_null(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = [{"item_id": "a", "sizes": [{"duration_s": math.nan}, {"pixels": math.inf}]},
            {"item_id": "b", "meta": {"score": np.float32("nan"), "ok": 1.5, "arr": np.array([1.0, -np.inf])}}]
    write_jsonl(tmp_path / ITEMS, rows)
    back = [r for _, r in read_jsonl_lines(tmp_path / ITEMS)]
    assert back == [{"item_id": "a", "sizes": [{"duration_s": None}, {"pixels": None}]},
                    {"item_id": "b", "meta": {"score": None, "ok": 1.5, "arr": [1.0, None]}}]
    assert "sizes[0].duration_s, sizes[1].pixels" in caplog.text and "meta.score" in caplog.text


def test_a_run_log_record_with_nan_stays_readable(tmp_path: Path) -> None:
    rec = {"key": "k1", "item_id": "x", "setting": "score", "outcomes": [{"rubric": "overall", "value": 3,
                                                                         "expected": math.nan}],
           "latency_s": math.inf}
    with RunLog(tmp_path) as log:
        assert log.append(rec)
    (line,) = [r for _, r in read_jsonl_lines(tmp_path / "verdicts.jsonl")]
    assert line["outcomes"][0]["expected"] is None and line["latency_s"] is None
    write_jsonl(tmp_path / ITEMS, [{"item_id": "x", "task_name": "Text2Text", "setting": "score",
                                    "responses": [{"model_name": "m"}]}])
    run = load_run(tmp_path)
    assert len(run.verdicts) == 1 and math.isnan(run.verdicts["expected"].iloc[0])
