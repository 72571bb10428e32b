"""Helpers for end-to-end tests that run the real `judgeanything` console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BIN = Path(sys.executable).parent


def cli(*args: str, timeout: float = 300, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``judgeanything <args>`` (the installed console script) and return the finished process."""
    p = subprocess.run([str(BIN / "judgeanything"), *args], capture_output=True, text=True, timeout=timeout,
                       env=_cli_env(env))
    if check and p.returncode != 0:
        raise AssertionError(f"judgeanything {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def popen_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``judgeanything <args>``; stdout and stderr together on ``stdout``."""
    return subprocess.Popen([str(BIN / "judgeanything"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_cli_env(env))


def _cli_env(env: dict[str, str] | None) -> dict[str, str]:
    """This process's environment, offline (no Hub downloads) and unbuffered, with ``env`` over it."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}


@pytest.fixture()
def tiny_pair_benchmark(tmp_path: Path) -> tuple[Path, Path, int]:
    """A small MLLM-as-a-Judge-format pair file with real PNG inputs: (file, image root, n rows)."""
    n = 24
    img_dir = tmp_path / "media" / "image"
    img_dir.mkdir(parents=True)
    rows = []
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).save(img_dir / f"{i}.png")
        rows.append({"id": i, "pair_id": 100 + i, "image_path": f"image/{i}.png", "original_dataset": "synthetic",
                     "instruction": f"How many dots are in image {i}?",
                     "answer1": {"name": "modelA", "answer": f"There are {i} dots."},
                     "answer2": {"name": "modelB", "answer": f"I see {i + 1} dots, maybe."},
                     "human_answer": "ABC"[i % 3], "comparison": 0, "turn": 0,
                     "evaluator": {"judge_human": 1, "analysis": 5, "hallucination": 0, "name": "gpt4"},
                     "result": {"name": "gpt4", "judge": "ABC"[(i // 2) % 3], "analysis": f"analysis {i}"}})
    f = tmp_path / "pairs.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f, tmp_path / "media", n


@pytest.fixture()
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An offline Hugging Face cache at ``tmp_path/hub`` for in-process runs (huggingface_hub reads
    ``HF_HUB_CACHE`` / ``HF_HUB_OFFLINE`` into its constants at import and the constants at call time)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hub"
