"""The artifact plugin as the tests see it: really installed (pip ``--target`` into a temporary directory,
as a user's ``pip install ./plugins/judgeanything-artifact`` would, without touching the venv) and a
headless Chromium to drive.

Browser tests skip, with the reason, only where no browser can be started; with
``JUDGEANYTHING_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs Debian's chromium) they fail.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from judgeanything.modalities import discover_plugins

REPO = Path(__file__).resolve().parents[2]
PLUGIN_SRC = REPO / "plugins" / "judgeanything-artifact"
MODULES = ("judgeanything_artifact", "hydra_plugins.judgeanything_artifact_searchpath")


def pip_install_target(src: Path, tmp: Path) -> Path:
    """Build and install the plugin from a copy of ``src`` into ``tmp/site``; returns that directory."""
    copy, target = tmp / "src", tmp / "site"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                    "--quiet", "--disable-pip-version-check", "--target", str(target), str(copy)],
                   check=True, capture_output=True, timeout=300)
    return target


@contextlib.contextmanager
def artifact_plugin_on_path(tmp: Path) -> Iterator[Path]:
    """Install the plugin under ``tmp`` and expose it to this process; undone on exit."""
    target = pip_install_target(PLUGIN_SRC, tmp)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    discover_plugins(refresh=True)
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if any(m == x or m.startswith(x + ".") for x in MODULES)]:
            del sys.modules[name]
        importlib.invalidate_caches()
        discover_plugins(refresh=True)


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
