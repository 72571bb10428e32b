"""In-process rule-judging runs: compose the packaged Hydra config and run it (one model load per run, no
subprocess start-up)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.compose import composed


def records(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The run log's records by item id (one attempt each in these runs)."""
    out = {}
    for line in (run_dir / "verdicts.jsonl").read_text().splitlines():
        r = json.loads(line)
        out[r["item_id"]] = r
    return out


@pytest.fixture(scope="module")
def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One probe data folder per module (the rule probes are generated once)."""
    return tmp_path_factory.mktemp("rule-probes")


@pytest.fixture(scope="module")
def run_rules(tmp_path_factory: pytest.TempPathFactory, data_cache: Path) -> Callable[..., Path]:
    """``run_rules(name, *overrides) -> run dir``: ``judgeanything setting=rules <overrides>`` in-process."""
    from judgeanything.cli import run_from_config

    def run(name: str, *overrides: str) -> Path:
        out = tmp_path_factory.mktemp(name)
        cfg = composed("setting=rules", f"benchmark.cache_dir={data_cache}", "run.progress=false",
                      "analysis.bootstrap=50", *overrides)
        run_from_config(cfg, out)
        return out

    return run
