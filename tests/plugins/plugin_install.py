"""Install the ``judgeanything_document`` test plugin for real, into a temporary directory, and undo it.

It is built from its pyproject.toml by pip (``--no-deps --no-build-isolation --no-index --target``) into
a temporary directory put on ``sys.path``, so ``importlib.metadata`` finds its entry point and
``importlib.resources`` its ``conf/modality/document.yaml``; the venv is never modified. Without
setuptools (pip cannot build), the same layout is written by hand: the package copied and a
``.dist-info`` with the entry points read from the plugin's pyproject.toml.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from judgeanything.modalities import discover_plugins

PLUGIN = Path(__file__).resolve().parent / "judgeanything_document"


def _manual_dist(src: Path, target: Path) -> None:
    """Install by hand: the package plus a dist-info whose entry_points.txt comes from pyproject.toml."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        pytest.skip("neither setuptools (to build) nor tomllib (to read pyproject.toml) is available")
    meta = tomllib.loads((src / "pyproject.toml").read_text())["project"]
    shutil.copytree(src / "judgeanything_document", target / "judgeanything_document")
    info = target / f"judgeanything_document-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\n"
                                   f"Version: {meta['version']}\n")
    lines = []
    for group, eps in meta["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def copy_source(src: Path, tmp: Path) -> Path:
    """``src`` copied to ``tmp/src`` without build outputs, so that building it never writes into the repo."""
    copy = tmp / "src"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    return copy


def pip_install(src: Path, target: Path) -> None:
    """``pip install --target target src`` offline, without dependencies or build isolation (the venv's
    setuptools builds it); ``CalledProcessError`` if pip fails."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                    "--quiet", "--disable-pip-version-check", "--target", str(target), str(src)],
                   check=True, capture_output=True, timeout=300)


@contextlib.contextmanager
def on_sys_path(target: Path, packages: Sequence[str]) -> Iterator[Path]:
    """Put an installed ``target`` first on ``sys.path`` and rediscover plugins; on exit take it off, forget
    the imported ``packages`` (and their submodules) and rediscover again, as if never installed."""
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    discover_plugins(refresh=True)
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in packages)]:
            del sys.modules[name]
        importlib.invalidate_caches()
        discover_plugins(refresh=True)


@contextlib.contextmanager
def plugin_on_path(tmp: Path, build: bool | None = None) -> Iterator[Path]:
    """Install the plugin under ``tmp`` and expose it to this process; undo everything on exit.

    ``build``: True = pip builds it, False = the hand-written layout, None = pip when setuptools exists.
    """
    src, target = copy_source(PLUGIN, tmp), tmp / "site"
    target.mkdir()
    if build is None:
        build = importlib.util.find_spec("setuptools") is not None
    if build:
        pip_install(src, target)
    else:
        _manual_dist(src, target)
    with on_sys_path(target, ("judgeanything_document",)):
        yield target
