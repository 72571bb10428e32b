"""Agreement-by-difficulty curves read the probe knobs' rows of metrics.csv, sorted by knob value."""

from __future__ import annotations

import json

import pandas as pd

from judgeanything.report._run import run_metrics
from judgeanything.report.plots import difficulty_curves, write_plots

COLS = ["judge", "benchmark", "setting", "mode", "rubric", "group_by", "group", "metric", "value", "ci_low",
        "ci_high", "n"]


def test_curves_sorted_numerically_and_drawn(tmp_path):
    head = ["j", "probes", "pair", "overall", "overall"]
    rows = [[*head, "difficulty:n", g, "accuracy_with_tie", v, v - .1, v + .1, 4]
            for g, v in (("10", 0.2), ("3", 0.9), ("5", 0.6))]
    rows += [[*head, "difficulty:op", "flip", "accuracy_with_tie", .5, .4, .6, 2],
             [*head, "difficulty:solo", "1", "accuracy_with_tie", .5, .4, .6, 2],
             [*head, "task_type", "Image2Text", "accuracy_with_tie", .5, .4, .6, 2]]
    pd.DataFrame(rows, columns=COLS).to_csv(tmp_path / "metrics.csv", index=False)
    curves = difficulty_curves(run_metrics(tmp_path))
    assert list(curves) == ["pair: accuracy_with_tie"]
    knobs = curves["pair: accuracy_with_tie"]
    assert set(knobs) == {"n"}  # 'op' and 'solo' have one value each: no curve
    assert [(v, c[0], n) for v, c, n in knobs["n"]] == [("3", 0.9, 4), ("5", 0.6, 4), ("10", 0.2, 4)]
    (tmp_path / "run.json").write_text(json.dumps({"judge": "j"}))
    for name in ("items.jsonl", "labels.jsonl", "verdicts.jsonl"):
        (tmp_path / name).write_text("")
    assert any(p.name == "difficulty_curves.png" for p in write_plots(tmp_path))
