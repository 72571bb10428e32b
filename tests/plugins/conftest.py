"""Fixtures of the plugin tests: the artifact plugin installed once per session (see artifact_support)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.artifact_support import artifact_plugin_on_path, require_browser


@pytest.fixture(scope="session")
def artifact_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ``judgeanything-artifact`` distribution installed into a temporary target on ``sys.path``."""
    with artifact_plugin_on_path(tmp_path_factory.mktemp("artifact-plugin")) as target:
        yield target


@pytest.fixture(scope="session")
def browser(artifact_plugin: Path) -> str:
    """A Chromium that Playwright can drive (skips where there is none; see artifact_support)."""
    return require_browser()
