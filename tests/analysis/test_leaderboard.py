"""Leaderboards over run directories and the judgeanything-compare console script."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from judgeanything.analysis import analyze_run, build_leaderboard, find_run_dirs, write_leaderboard
from judgeanything.compare_cli import main

from .runbuilder import item, label, record, v, write_run


def _run(d: Path, judge: str, quality: float, seed: int) -> Path:
    rnd = random.Random(seed)
    items, labels, verdicts = [], [], []
    for i in range(60):
        iid = f"{i}::p"
        items.append(item(iid, "pair", ["Image2Text", "Text2Audio"][i % 2], ["m1", "m2"]))
        h = rnd.choice(["first", "second", "tie"])
        labels.append(label(iid, h))
        j = h if rnd.random() < quality else rnd.choice(["first", "second", "tie"])
        verdicts.append(record(iid, "pair", [v(j)], judge=judge, usage={"prompt_tokens": 50, "completion_tokens": 5},
                               latency_s=1.0))
    return write_run(d, items=items, labels=labels, verdicts=verdicts, run={"judge": judge})


@pytest.fixture
def multirun(tmp_path: Path) -> Path:
    root = tmp_path / "multirun"
    _run(root / "0" / "run", "weak", 0.2, 0)
    _run(root / "1" / "run", "strong", 0.9, 1)
    _run(root / "2" / "run", "medium", 0.6, 2)
    return root


def test_leaderboard_three_runs(multirun: Path, tmp_path: Path) -> None:
    runs = find_run_dirs([multirun])
    assert len(runs) == 3
    df = build_leaderboard(runs)
    assert len(df) == 3
    assert list(df["judge"]) == ["strong", "medium", "weak"]  # best agreement first
    for r in runs:  # metrics.json computed where missing
        assert (r / "metrics.json").exists()
    row = df.set_index("judge").loc["strong"]
    m = analyze_run(runs[1], bootstrap=1000)
    pooled = m["settings"]["pair"]["rubrics"]["overall"]["pooled"]["accuracy_with_tie"]
    assert row["agreement"] == pytest.approx(pooled["value"])
    assert row["prompt_tokens"] == 60 * 50 and row["time_s"] == pytest.approx(60.0)
    assert row["agreement[mmu]"] == pytest.approx(
        m["settings"]["pair"]["rubrics"]["overall"]["breakdowns"]["family"]["mmu"]["accuracy_with_tie"]["value"])
    assert "agreement[out=audio]" in df.columns
    csv, md = write_leaderboard(df, tmp_path / "lb")
    assert len(pd.read_csv(csv)) == 3
    assert md.read_text().count("| strong ") == 1


def test_compare_cli(multirun: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(multirun), "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| judge |")
    assert all(j in out for j in ("strong", "medium", "weak"))
    assert (multirun / "leaderboard.csv").exists() and (multirun / "leaderboard.md").exists()
    assert main([str(multirun / "nope")]) == 2
    empty = multirun / "empty"
    empty.mkdir()
    assert main([str(empty)]) == 2
