"""Renders cached on disk by content hash: ``<cache>/artifact-renders/<key>/`` holds ``frame_<k>.png`` and
``render.json`` (timestamps, labels, page errors, blocked URLs, browser version), or ``error.json`` for a
failure that the same bytes always reproduce (``syntax_error``, ``page_error``, ``blank``, ``interaction``).

The key hashes the artifact's bytes (its entry file, and with ``scope: folder`` every file under the
entry's folder, by relative path), the render spec and this module's :data:`RENDER_VERSION`, so an edited
artifact or asset, or another viewport or capture time, never returns a stale render. A time-out, crash
or browser failure is never cached (they depend on the machine's load). Each entry is written to a
temporary directory and renamed into place, so a reader never sees half a render.

A directory of PNG files (rather than diskcache/SQLite) because the HTML report links those very
screenshots as its artifact strip.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from judgeanything_artifact.render import RenderError, RenderResult, RenderSpec

RENDER_VERSION = "1"
CACHED_FAILURES = frozenset({"syntax_error", "page_error", "blank", "interaction"})
MAX_SCOPE_FILES = 2000


def default_cache_dir() -> Path:
    """``$JUDGEANYTHING_CACHE/artifact-renders`` or ``~/.cache/judgeanything/artifact-renders``."""
    env = os.environ.get("JUDGEANYTHING_CACHE")
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "judgeanything"
    return base / "artifact-renders"


def sha256_of(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def scope_files(entry: Path, scope: str) -> list[Path]:
    """The files an artifact may load: its entry, or (``folder``) every regular file under its folder,
    sorted; symbolic links are left out (they could point outside the folder).

    Raises:
        ValueError: a folder with more than :data:`MAX_SCOPE_FILES` files (not an artifact).
    """
    if scope == "file":
        return [entry]
    files = sorted(p for p in entry.parent.rglob("*") if p.is_file() and not p.is_symlink())
    if len(files) > MAX_SCOPE_FILES:
        raise ValueError(f"{entry.parent}: {len(files)} files under the artifact's folder (at most "
                         f"{MAX_SCOPE_FILES}); point the reference at a smaller folder or use scope: file")
    return files


def render_key(entry: Path, spec: RenderSpec) -> str:
    """The content hash of one render: artifact bytes (entry + scope files), spec and renderer version."""
    h = hashlib.sha256(f"artifact-render/{RENDER_VERSION}\n".encode())
    h.update(json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str).encode())
    h.update(f"\nentry {entry.name}\n".encode())
    for p in scope_files(entry, spec.scope):
        h.update(f"{p.relative_to(entry.parent).as_posix()} {sha256_of(p)}\n".encode())
    return h.hexdigest()[:40]


class RenderCache:
    """Content-addressed renders under ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def dir_for(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> RenderResult | RenderError | None:
        """The cached render or deterministic failure, or ``None`` (absent or unreadable)."""
        d = self.dir_for(key)
        try:
            if (d / "error.json").is_file():
                e = json.loads((d / "error.json").read_text(encoding="utf-8"))
                self.hits += 1
                return RenderError(str(e["kind"]), str(e["reason"]))
            meta = json.loads((d / "render.json").read_text(encoding="utf-8"))
            frames = np.stack([np.asarray(Image.open(d / f).convert("RGB")) for f in meta["files"]])
        except (OSError, ValueError, KeyError):
            return None
        self.hits += 1
        return RenderResult(frames, list(meta["timestamps"]), list(meta["labels"]), list(meta["page_errors"]),
                            list(meta["console_errors"]), list(meta["blocked"]), str(meta.get("browser", "")))

    def frame_files(self, key: str) -> list[Path]:
        """The PNG files of a cached render (empty when there is none)."""
        d = self.dir_for(key)
        try:
            meta = json.loads((d / "render.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [d / f for f in meta["files"]]

    def put(self, key: str, result: RenderResult | RenderError) -> None:
        """Store a render, or a failure of a kind in :data:`CACHED_FAILURES` (others are not stored)."""
        if isinstance(result, RenderError) and result.kind not in CACHED_FAILURES:
            return
        d = self.dir_for(key)
        if d.exists():
            return
        d.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:8]}-", dir=d.parent))
        try:
            if isinstance(result, RenderError):
                _write_json(tmp / "error.json", {"kind": result.kind, "reason": result.reason})
            else:
                files = []
                for k, f in enumerate(result.frames):
                    name = f"frame_{k:02d}.png"
                    Image.fromarray(f).save(tmp / name, format="PNG", compress_level=6)
                    files.append(name)
                _write_json(tmp / "render.json", {
                    "files": files, "timestamps": result.timestamps, "labels": result.labels,
                    "page_errors": result.page_errors, "console_errors": result.console_errors,
                    "blocked": result.blocked, "browser": result.browser_version})
            os.rename(tmp, d)
        except OSError:
            if not d.exists():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False), encoding="utf-8")
