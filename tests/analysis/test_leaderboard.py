"""Leaderboards over run directories and the judgeanything-compare console script."""

from __future__ import annotations

import builtins
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

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


def test_a_damaged_metrics_json_is_named(multirun: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(multirun), "--bootstrap", "50"]) == 0
    broken = sorted(multirun.rglob("metrics.json"))[0]
    broken.write_text('{"settings": {', encoding="utf-8")  # cut off mid-write
    capsys.readouterr()
    assert main([str(multirun)]) == 1  # an unreadable run, as for a damaged log
    err = capsys.readouterr().err
    assert f"{broken}: not valid JSON" in err and "--recompute" in err


def _count_metrics_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[Path]:
    """Run directory → how many times its ``metrics.json`` was opened for reading (``Path.open``, which
    ``read_text`` / ``read_bytes`` go through, and the ``open`` builtin; a failed attempt is not a read)."""
    reads: Counter[Path] = Counter()
    real_path_open, real_open = Path.open, builtins.open

    def note(file: object, mode: str) -> None:
        if isinstance(file, str | Path) and Path(file).name == "metrics.json" and "r" in mode and "+" not in mode:
            reads[Path(file).parent] += 1

    def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        f = real_path_open(self, mode, *args, **kwargs)
        note(self, mode)
        return f

    def builtin_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        f = real_open(file, mode, *args, **kwargs)
        note(file, mode)
        return f

    monkeypatch.setattr(Path, "open", path_open)
    monkeypatch.setattr(builtins, "open", builtin_open)
    return reads


def test_compare_reads_each_metrics_json_once(multirun: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The leaderboard and the snapshot warnings share one read of each run's metrics.json (they read it once
    each), and a run analysed by the command is not read back at all; the leaderboard is the same either way."""
    reads = _count_metrics_reads(monkeypatch)
    runs = find_run_dirs([multirun])
    assert main([str(multirun), "--bootstrap", "20"]) == 0  # analyses all three: its metrics are in hand
    assert reads == Counter()
    first = (multirun / "leaderboard.csv").read_text(), (multirun / "leaderboard.md").read_text()
    assert main([str(multirun)]) == 0  # reads each metrics.json
    assert reads == Counter({r: 1 for r in runs})
    assert ((multirun / "leaderboard.csv").read_text(), (multirun / "leaderboard.md").read_text()) == first
    reads.clear()
    assert main([str(multirun), "--recompute"]) == 0  # the run's own options come from its metrics.json
    assert reads == Counter({r: 1 for r in runs})
    assert ((multirun / "leaderboard.csv").read_text(), (multirun / "leaderboard.md").read_text()) == first
    capsys.readouterr()


def test_analyze_run_returns_what_metrics_json_holds(multirun: Path) -> None:
    d = find_run_dirs([multirun])[0]
    assert analyze_run(d, bootstrap=20) == json.loads((d / "metrics.json").read_text(encoding="utf-8"))


def test_snapshot_warnings_from_loaded_metrics(tmp_path: Path) -> None:
    from judgeanything.compare_cli import snapshot_warnings

    def m(judge: str, *snaps: str) -> dict[str, Any]:
        return {"run": {"judge": judge}, "usage": {"snapshots": {s: 3 for s in snaps}}}

    got = snapshot_warnings([(tmp_path / "a", m("gpt", "gpt-4o-2024-08-06")),
                             (tmp_path / "b", m("gpt", "gpt-4o-2024-11-20")),
                             (tmp_path / "c", m("gem", "g-1")), (tmp_path / "d", m("gem", "g-1"))])
    assert len(got) == 1
    assert got[0].startswith("judge gpt: the compared runs were answered by different model snapshots")
    assert "a: gpt-4o-2024-08-06; b: gpt-4o-2024-11-20" in got[0]
