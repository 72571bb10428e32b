"""Where judge-cache entries live: an embedded SQLite database in WAL mode, or one file per entry.

Both are safe with many concurrent writer processes (a sweep's jobs, shards, several users of one machine):

* :class:`SQLiteStore` (default on local disks): ``<dir>/judge-cache.sqlite3`` in WAL mode — readers never
  block, one writer at a time, others wait up to ``busy_timeout_s``. ``INSERT OR IGNORE``: the first answer
  stored under a key is kept, so every later hit returns the same answer.
* :class:`FileStore` (network filesystems): ``<dir>/entries/<2 hex>/<key>.json`` written to a temporary
  file and renamed into place (atomic on POSIX and NFS). SQLite's own documentation says WAL does not work
  over a network filesystem (it needs shared memory between the processes) and that its file locking is
  unreliable there; a rename needs no lock at all. This is the whole reason the class exists —
  ``diskcache`` is SQLite underneath and has the same limit.

``backend="auto"`` picks :class:`FileStore` when the directory is on a network filesystem
(:func:`is_network_filesystem`: NFS, SMB/CIFS, Lustre, GPFS, BeeGFS, CephFS, GlusterFS, 9p, sshfs…).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

DB_NAME = "judge-cache.sqlite3"

NETWORK_FS_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "ceph", "glusterfs", "fuse.glusterfs",
    "fuse.sshfs", "9p", "panfs", "wekafs", "fuse.juicefs", "fuse.s3fs", "afs", "ncpfs", "fuse.cephfs",
})


class CacheStoreError(RuntimeError):
    """The cache store cannot be opened or used (names the path)."""


class Store(Protocol):
    """What the judge cache needs from a store."""

    path: Path

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]: ...

    def put(self, key: str, value: bytes) -> bool: ...

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def filesystem_type(path: Path) -> str:
    """The filesystem type (``/proc/mounts`` column 3) of the mount holding ``path``; ``""`` when unknown
    (no ``/proc``, e.g. macOS)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    target = str(path.resolve())
    best, fstype = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        mnt = fields[1].replace("\\040", " ")
        if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, fstype = mnt, fields[2]
    return fstype


def is_network_filesystem(path: Path) -> bool:
    """Whether ``path`` lies on a network / cluster filesystem (see :data:`NETWORK_FS_TYPES`)."""
    return filesystem_type(path) in NETWORK_FS_TYPES


class SQLiteStore:
    """Entries in one SQLite database in WAL mode (one connection per thread).

    Raises:
        CacheStoreError: the database cannot be opened (unwritable directory, not a database).
    """

    def __init__(self, directory: Path, *, busy_timeout_s: float = 60.0) -> None:
        self.path = Path(directory) / DB_NAME
        self.busy_timeout_s = float(busy_timeout_s)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._conn()  # open (and create) now: a bad path fails at start, not mid-run

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed entry survives a process crash; a power loss may drop the last
            # few entries, which only costs their judge calls again
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except sqlite3.Error as e:
            raise CacheStoreError(f"judge cache {self.path}: cannot open ({e}); set cache.dir to a writable "
                                  "local directory, or cache.mode=off") from e
        self._local.conn = conn
        with self._lock:
            self._conns.append(conn)
        return conn

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        conn = self._conn()
        for i in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            chunk = list(keys[i: i + 500])
            marks = ",".join("?" * len(chunk))
            for k, v in conn.execute(f"SELECT key, value FROM entries WHERE key IN ({marks})", chunk):
                out[k] = bytes(v)
        return out

    def put(self, key: str, value: bytes) -> bool:
        cur = self._conn().execute("INSERT OR IGNORE INTO entries (key, value) VALUES (?, ?)", (key, value))
        return cur.rowcount == 1

    def get_meta(self, name: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self._conn().execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            for c in self._conns:
                c.close()
            self._conns.clear()
        self._local = threading.local()


class FileStore:
    """One file per entry, written by atomic rename (see the module docstring for why)."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory)
        try:
            (self.path / "entries").mkdir(parents=True, exist_ok=True)
            (self.path / "meta").mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CacheStoreError(f"judge cache {self.path}: cannot create ({e})") from e

    def _entry(self, key: str) -> Path:
        return self.path / "entries" / key[:2] / f"{key}.json"

    def _write(self, dest: Path, data: bytes) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for k in keys:
            try:
                out[k] = self._entry(k).read_bytes()
            except FileNotFoundError:
                continue
        return out

    def put(self, key: str, value: bytes) -> bool:
        dest = self._entry(key)
        if dest.exists():  # keep the first answer; a race between two writers leaves either complete file
            return False
        self._write(dest, value)
        return True

    def get_meta(self, name: str) -> str | None:
        try:
            return (self.path / "meta" / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def set_meta(self, name: str, value: str) -> None:
        self._write(self.path / "meta" / name, value.encode("utf-8"))

    def count(self) -> int:
        return sum(1 for _ in (self.path / "entries").glob("*/*.json"))

    def close(self) -> None:
        return None


def open_store(directory: Path, backend: str = "auto") -> Store:
    """Open (creating) the store in ``directory``.

    Args:
        backend: ``sqlite``, ``files`` or ``auto`` (``files`` on a network filesystem, else ``sqlite``).

    Raises:
        CacheStoreError: the directory cannot be created, or the store cannot be opened.
        ValueError: an unknown backend.
    """
    directory = Path(directory).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CacheStoreError(f"judge cache {directory}: cannot create the directory ({e})") from e
    if backend == "auto":
        backend = "files" if is_network_filesystem(directory) else "sqlite"
    if backend == "sqlite":
        return SQLiteStore(directory)
    if backend == "files":
        return FileStore(directory)
    raise ValueError(f"cache.backend={backend!r}: expected auto, sqlite or files")


__all__ = ["DB_NAME", "NETWORK_FS_TYPES", "CacheStoreError", "FileStore", "SQLiteStore", "Store",
           "filesystem_type", "is_network_filesystem", "open_store"]
