"""Hydra launchers end to end: the same 2-judge sweep through joblib (processes on this machine), submitit's
local executor (what SLURM arrays run, without a cluster) and a local Ray cluster started for the sweep
(``ray.init(num_cpus=2)``); each ends in one leaderboard, in a sweep folder named after the command, and a
relaunch of the same command resumes every job instead of judging again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SWEEP = ("-m", "judge=random,first", "setting=pair", "run.limit=5", "analysis.bootstrap=20", "analysis.html=false",
         "analysis.plots=false", "run.progress=false")


def _sweep(tmp_path: Path, *launcher: str, timeout: float = 300) -> Path:
    """Run the sweep from ``tmp_path`` into its default (deterministic) folder ``multirun/<name>``."""
    env = {**os.environ, "JUDGEANYTHING_CACHE_DIR": str(tmp_path / "judge-cache"), "HF_HUB_OFFLINE": "1"}
    env.pop("JUDGEANYTHING_SWEEP_ID", None)
    p = subprocess.run([str(Path(sys.executable).parent / "judgeanything"), *SWEEP, *launcher], cwd=tmp_path,
                       capture_output=True, text=True, timeout=timeout, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "leaderboard" in p.stderr + p.stdout
    (folder,) = (tmp_path / "multirun").iterdir()
    assert folder.name.startswith("judge=random,first__run.limit=5__setting=pair-")
    return folder


def _check(sweep: Path) -> dict[str, dict]:
    board = pd.read_csv(sweep / "leaderboard.csv")
    assert sorted(board["judge"]) == ["first", "random"]
    assert (board["items"] == 5).all() and (board["judged"] == 5).all()
    runs = {}
    for d in sweep.iterdir():
        if (d / "run.json").exists():
            run = json.loads((d / "run.json").read_text())
            runs[run["judge"]] = run
            assert len((d / "verdicts.jsonl").read_text().splitlines()) == 5
    assert set(runs) == {"random", "first"}
    return runs


def test_joblib_processes_then_a_relaunch_resumes_the_same_folder(tmp_path):
    sweep = _sweep(tmp_path, "hydra/launcher=processes", "hydra.launcher.n_jobs=2")
    runs = _check(sweep)
    assert all(r["counts"]["judged"] == 5 for r in runs.values())
    # the same command, another launcher and more concurrency (neither can change a verdict): the same
    # folder, every job resumed
    assert _sweep(tmp_path, "run.concurrency=4") == sweep
    again = _check(sweep)
    assert all(r["counts"]["judged"] == 0 and r["counts"]["skipped"] == 5 for r in again.values())


def test_submitit_local_executor(tmp_path):
    sweep = _sweep(tmp_path, "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5")
    _check(sweep)
    assert (sweep / ".submitit").is_dir()  # submitit's job folders: what an sbatch array writes


def test_ray_on_a_local_two_cpu_cluster(tmp_path):
    pytest.importorskip("ray")
    sweep = _sweep(tmp_path, "hydra/launcher=ray_local", "hydra.launcher.ray.init.num_cpus=2", timeout=400)
    _check(sweep)
