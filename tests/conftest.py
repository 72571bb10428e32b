"""Shared test settings: never touch a model hub; find ../shared when it exists."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The judge cache (cache.mode=readwrite by default) must never answer a test from a user's or an earlier
# session's cache: the whole session gets a fresh one, and each test its own (fixture below).
os.environ["JUDGEANYTHING_CACHE_DIR"] = tempfile.mkdtemp(prefix="ja-judge-cache-")
# The data cache (generated probe suites, smoke models) is the session's own too: tests neither read a user's
# cache, possibly written by an older generator, nor write into it; within the session it is generated once.
os.environ["JUDGEANYTHING_CACHE"] = tempfile.mkdtemp(prefix="ja-data-cache-")
os.environ.pop("JUDGEANYTHING_SWEEP_ID", None)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


# Tests that request one of these fixtures build or load models, or drive a browser: the `slow` tier (README,
# "Tests"), whatever file they are in. Tests that start processes (the console scripts, servers, launcher
# jobs) are marked `slow` in their module.
SLOW_FIXTURES = frozenset({"tiny_model", "hf_judge", "browser", "artifact_plugin"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    # pytest-xdist (make test: --dist loadfile) hands the files to its workers in this order: the files holding
    # slow tests first, so that a minute-long one does not start last and leave one worker running alone at
    # the end while the fast files fill in. The sort is stable: each file's tests stay together, in order.
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (real data and field cases); tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (it exists on the project's machines, not in a user's clone)")
    return SHARED


@pytest.fixture(autouse=True)
def _own_judge_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own judge cache (subprocesses inherit it through the environment)."""
    monkeypatch.setenv("JUDGEANYTHING_CACHE_DIR", str(tmp_path_factory.mktemp("judge-cache")))
