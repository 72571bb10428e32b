"""The artifact plugin as the tests see it: really installed (pip ``--target`` into a temporary directory,
as a user's ``pip install ./plugins/judgeanything-artifact`` would, without touching the venv) and a
headless Chromium to drive.

Browser tests skip, with the reason, only where no browser can be started; with
``JUDGEANYTHING_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs Debian's chromium) they fail.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.plugin_install import copy_source, on_sys_path, pip_install

REPO = Path(__file__).resolve().parents[2]
PLUGIN_SRC = REPO / "plugins" / "judgeanything-artifact"
MODULES = ("judgeanything_artifact", "hydra_plugins.judgeanything_artifact_searchpath")


@contextlib.contextmanager
def artifact_plugin_on_path(tmp: Path) -> Iterator[Path]:
    """Install the plugin under ``tmp`` and expose it to this process; undone on exit."""
    target = tmp / "site"
    pip_install(copy_source(PLUGIN_SRC, tmp), target)
    with on_sys_path(target, MODULES):
        yield target


def require_browser() -> str:
    """The Chromium executable, after checking that Playwright can start it; skips (or fails under
    ``JUDGEANYTHING_REQUIRE_BROWSER=1``) otherwise."""
    why = None
    try:
        from judgeanything_artifact.render import RenderError, find_browser

        try:
            exe = find_browser()
        except RenderError as e:
            why = e.reason
    except ImportError as e:  # playwright missing
        why = f"cannot import the plugin's renderer: {e}"
    if why is None:
        return exe
    if os.environ.get("JUDGEANYTHING_REQUIRE_BROWSER") == "1":
        pytest.fail(f"a browser is required here (JUDGEANYTHING_REQUIRE_BROWSER=1): {why}")
    pytest.skip(f"no headless browser: {why} — the artifact plugin's rendering tests need Debian's chromium")
