"""Gemini Files API: upload each medium once, keyed by its content hash, across items and runs.

The Gemini API takes audio and video (and files too large to send inline) as uploaded *Files*: a resumable
upload returns a File in state ``PROCESSING``; it can be used once ``ACTIVE``; processing may end
``FAILED``; a File expires 48 hours after upload (Gemini API docs, "Files API"). So that the same
recording judged in forty units — or again in tomorrow's run — is uploaded once:

* :class:`UploadRegistry` persists ``(scope, sha256) → file name, uri, mime type, expiry`` in a small SQLite
  file in the cache directory (``$JUDGEANYTHING_CACHE/gemini_files.sqlite``); ``scope`` is the endpoint
  (files live in one project, behind one base URL). No key is stored: a File the current key may not read
  answers 403/404 and is uploaded again.
* :class:`FileUploader` returns an ACTIVE File for a :class:`Blob`: a registry hit that is not about to
  expire is checked once per process with ``files.get`` (state, and that it still exists); otherwise the
  blob is uploaded and polled until ACTIVE. Concurrent requests for the same content wait for one upload.
  ``FAILED`` processing or a processing timeout raises :class:`MediaUploadError` (recorded by the judge as
  ``media_error``).

SQLite (stdlib) rather than a cache library: the registry is a keyed table with an expiry column and a
handful of rows per run; concurrent runs sharing the cache directory rely on SQLite's own file locking.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.genai import errors, types

#: A registered File is used only if it stays valid at least this long (a request referring to it must be
#: answered before it expires; long videos can take minutes).
EXPIRY_MARGIN_S = 3600.0


class MediaUploadError(Exception):
    """A medium could not be made usable on the Files API (processing FAILED, or still processing after the
    timeout). The judge records it as ``media_error`` for the request."""


@dataclass(frozen=True)
class Blob:
    """Content to upload: ``data`` (bytes) or ``path`` (a file read by the SDK), its SHA-256 hex digest,
    MIME type and size in bytes; ``what`` names it in messages (``"video (response 1)"``)."""

    sha256: str
    mime_type: str
    size: int
    data: bytes | None = None
    path: Path | None = None
    what: str = "medium"

    def source(self) -> str | io.BytesIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        if self.path is None:
            raise ValueError(f"{self.what}: a blob needs bytes or a path")
        return str(self.path)


@dataclass(frozen=True)
class Registered:
    """A File the registry knows: resource ``name`` (``files/abc``), ``uri``, ``mime_type``, expiry
    (Unix seconds; 0 = unknown)."""

    name: str
    uri: str
    mime_type: str
    expires_at: float


class UploadRegistry:
    """``(scope, sha256) → Registered``, persisted in SQLite (``path=None``: in memory, for one process)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # one connection shared by the event loop and worker threads, serialised by the lock
        self._db = sqlite3.connect(str(path) if path else ":memory:", timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS files (scope TEXT NOT NULL, sha256 TEXT NOT NULL, "
                             "name TEXT NOT NULL, uri TEXT NOT NULL, mime_type TEXT NOT NULL, "
                             "expires_at REAL NOT NULL, uploaded_at REAL NOT NULL, PRIMARY KEY (scope, sha256))")

    def get(self, scope: str, sha256: str) -> Registered | None:
        with self._lock:
            row = self._db.execute("SELECT name, uri, mime_type, expires_at FROM files WHERE scope=? AND sha256=?",
                                   (scope, sha256)).fetchone()
        return Registered(*row) if row else None

    def put(self, scope: str, sha256: str, f: Registered) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (scope, sha256, f.name, f.uri, f.mime_type, f.expires_at, time.time()))

    def drop(self, scope: str, sha256: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM files WHERE scope=? AND sha256=?", (scope, sha256))

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass(frozen=True)
class UsedFile:
    """What a request referred to: the File, the blob's hash, and whether it was reused (not uploaded now)."""

    file: Registered
    sha256: str
    reused: bool


def _registered(f: types.File) -> Registered:
    expires = f.expiration_time.timestamp() if f.expiration_time else 0.0
    if not f.name or not f.uri:
        raise MediaUploadError(f"the Files API returned a file without name/uri: {f!r:.200}")
    return Registered(f.name, f.uri, f.mime_type or "", expires)


def _gone(e: errors.APIError) -> bool:
    """A File the API will not show: deleted, expired, or another project's (403/404)."""
    return e.code in (403, 404)


class FileUploader:
    """Uploads blobs to the Files API at most once per content (see the module docstring).

    Args:
        files: the SDK's async Files API (``client.aio.files``).
        registry: where uploads are remembered.
        scope: the endpoint the files live behind (registry key).
        poll_interval_s: seconds between ``files.get`` while a File is PROCESSING.
        processing_timeout_s: give up on a File still PROCESSING after this long.
    """

    def __init__(self, files: Any, registry: UploadRegistry, scope: str, *, poll_interval_s: float = 2.0,
                 processing_timeout_s: float = 600.0) -> None:
        self.files, self.registry, self.scope = files, registry, scope
        self.poll_interval_s, self.processing_timeout_s = float(poll_interval_s), float(processing_timeout_s)
        self._verified: dict[str, Registered] = {}  # sha256 → a File checked ACTIVE in this process
        self._failed: dict[str, str] = {}  # sha256 → why processing failed (not uploaded again in this process)
        self._locks: dict[str, asyncio.Lock] = {}
        self.counts = {"uploaded": 0, "reused": 0}

    async def ensure(self, blob: Blob) -> UsedFile:
        """An ACTIVE File with ``blob``'s content, uploading it only when no usable one is registered.

        Raises:
            MediaUploadError: processing FAILED or timed out.
            google.genai.errors.APIError: the upload or a read failed (the runner's retry policy decides
                whether to try the request again; an upload already done is then found in the registry).
        """
        lock = self._locks.setdefault(blob.sha256, asyncio.Lock())
        async with lock:
            if blob.sha256 in self._failed:
                raise MediaUploadError(self._failed[blob.sha256])
            known = self._verified.get(blob.sha256)
            if known is not None and self._fresh(known):
                self.counts["reused"] += 1
                return UsedFile(known, blob.sha256, True)
            found = await self._registered_active(blob)
            if found is not None:
                self.counts["reused"] += 1
                return UsedFile(found, blob.sha256, True)
            f = await self.files.upload(file=blob.source(), config=types.UploadFileConfig(
                mime_type=blob.mime_type, display_name=f"judgeanything-{blob.sha256[:16]}"))
            # registered before it is ACTIVE: a request retried after a fault while polling finds it here
            self.registry.put(self.scope, blob.sha256, _registered(f))
            try:
                ready = await self._wait_active(f, blob)
            except MediaUploadError as e:
                self._failed[blob.sha256] = str(e)
                self.registry.drop(self.scope, blob.sha256)
                raise
            self.registry.put(self.scope, blob.sha256, ready)
            self._verified[blob.sha256] = ready
            self.counts["uploaded"] += 1
            return UsedFile(ready, blob.sha256, False)

    def forget(self, sha256: str) -> None:
        """Drop a File the API no longer accepts (expired or deleted mid-run): the next use uploads again."""
        self._verified.pop(sha256, None)
        self.registry.drop(self.scope, sha256)

    def _fresh(self, f: Registered) -> bool:
        return f.expires_at == 0.0 or f.expires_at - time.time() > EXPIRY_MARGIN_S

    async def _registered_active(self, blob: Blob) -> Registered | None:
        entry = self.registry.get(self.scope, blob.sha256)
        if entry is None:
            return None
        if not self._fresh(entry):
            self.registry.drop(self.scope, blob.sha256)
            return None
        try:
            f = await self.files.get(name=entry.name)
        except errors.APIError as e:
            if _gone(e):
                self.registry.drop(self.scope, blob.sha256)
                return None
            raise
        try:
            ready = await self._wait_active(f, blob)
        except MediaUploadError:
            self.registry.drop(self.scope, blob.sha256)
            raise
        self._verified[blob.sha256] = ready
        return ready

    async def _wait_active(self, f: types.File, blob: Blob) -> Registered:
        """Poll ``files.get`` until the File leaves PROCESSING.

        Raises:
            MediaUploadError: it ended FAILED (with the API's reason) or was still processing at the timeout.
        """
        deadline = time.monotonic() + self.processing_timeout_s
        while f.state == types.FileState.PROCESSING:
            if time.monotonic() > deadline:
                raise MediaUploadError(f"{blob.what}: the Files API was still processing {f.name} after "
                                       f"{self.processing_timeout_s:g} s")
            await asyncio.sleep(self.poll_interval_s)
            f = await self.files.get(name=f.name or "")
        if f.state == types.FileState.FAILED:
            reason = f.error.message if f.error and f.error.message else "no reason given"
            raise MediaUploadError(f"{blob.what}: the Files API could not process {f.name} "
                                   f"({blob.mime_type}, {blob.size} bytes): {reason}")
        return _registered(f)


__all__ = ["EXPIRY_MARGIN_S", "Blob", "FileUploader", "MediaUploadError", "Registered", "UploadRegistry",
           "UsedFile"]
