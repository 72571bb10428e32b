"""Where media files are, whether they may be read, and what their bytes hash to.

Path policy (one rule for every encoder):

* a media path is always *relative* to a data root; the root is the dataset's ``data_root``, or the
  current working directory when the dataset has none (``root=None``);
* absolute paths, ``..`` escapes and symlinks whose target lies outside the root are refused with a
  :class:`MediaError` whose reason starts with ``"path escapes the data root"`` — a dataset file must
  never make the tool read ``/etc/passwd`` or a user's home directory;
* symlinks that stay inside the root are followed.

Then, before any decoder runs, the file must exist (``"file not found"``), be a regular file
(``"not a regular file"``) and be non-empty (``"empty file (0 bytes)"``): decoders report all of these
with the same (or an empty) message, so we look first (docs/media-and-models.md §3).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from judgeanything.modalities.base import MediaError
from judgeanything.modalities.limits import DEFAULT_LIMITS, MediaLimits
from judgeanything.schema import MediaRef

log = logging.getLogger(__name__)

#: Reasons shared by every encoder (tests and the report match on these prefixes).
NOT_FOUND = "file not found"
EMPTY = "empty file (0 bytes)"
ESCAPES = "path escapes the data root"
NOT_REGULAR = "not a regular file"
TRUNCATED = "truncated"
NO_AUDIO = "no audio stream"
UNSUPPORTED_SOURCE = "unsupported source"


def not_decodable(modality: str) -> str:
    """The reason for garbage / wrong-format content: ``"not a decodable <modality> file"``."""
    return f"not a decodable {modality} file"


def resolve_media_path(root: Path | str | None, rel: str | os.PathLike[str]) -> Path:
    """Resolve a dataset media path inside its data root.

    Args:
        root: the data root; ``None`` means the current working directory.
        rel: the path as written in the dataset, relative to ``root``.

    Returns:
        The absolute, symlink-resolved path (it may not exist: existence is checked by
        :func:`check_file`).

    Raises:
        MediaError: ``rel`` is empty, absolute, contains a NUL byte, or resolves (after following
            symlinks) outside ``root`` — reason ``"path escapes the data root: ..."``.
    """
    text = os.fspath(rel)
    if not text or "\x00" in text:
        raise MediaError(text or "<empty path>", f"{ESCAPES}: empty path or NUL byte in the path")
    base = Path(root) if root is not None else Path.cwd()
    base_resolved = base.resolve()
    p = Path(text)
    if p.is_absolute() or p.drive or p.root:
        raise MediaError(text, f"{ESCAPES}: absolute paths are refused; write it relative to {base}")
    # resolve() follows every symlink on the way (strict=False: a missing file still resolves).
    full = (base_resolved / p).resolve()
    if not full.is_relative_to(base_resolved):
        raise MediaError(text, f"{ESCAPES}: {text!r} resolves to {full}, outside {base_resolved}")
    return full


def check_file(path: Path, shown: str | None = None, limits: MediaLimits = DEFAULT_LIMITS) -> int:
    """Check that ``path`` is an existing, non-empty regular file within ``limits.max_file_bytes``;
    return its size in bytes.

    Raises:
        MediaError: ``"file not found"``, ``"not a regular file"``, ``"empty file (0 bytes)"`` or
            ``"over the media limit"``, naming ``shown`` (the dataset's spelling) or the path.
    """
    return int(checked_stat(path, shown, limits).st_size)


def checked_stat(path: Path, shown: str | None = None, limits: MediaLimits = DEFAULT_LIMITS) -> os.stat_result:
    """:func:`check_file` returning the file's ``os.stat`` result (one ``stat`` call: its size and mtime
    identify the content for the caches).

    Raises:
        MediaError: as :func:`check_file`.
    """
    name = shown or str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MediaError(name, f"{NOT_FOUND} ({path})") from None
    except OSError as e:
        raise MediaError(name, f"cannot access the file: {e.strerror or e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(name, f"{NOT_REGULAR} ({path})")
    if st.st_size == 0:
        raise MediaError(name, EMPTY)
    limits.check_bytes(name, int(st.st_size))
    return st


def media_file(ref: MediaRef, root: Path | str | None, path: str | None = None,
               limits: MediaLimits = DEFAULT_LIMITS) -> Path:
    """Resolve and check the file of ``ref`` (or one of its ``frames`` given as ``path``).

    Raises:
        MediaError: see :func:`resolve_media_path` and :func:`check_file`; a ``url`` source is refused
            (``"unsupported source"``: media are never downloaded during a run).
    """
    return checked_media_file(ref, root, path, limits)[0]


#: A file checked by :func:`checked_media_file`: its resolved path and its ``os.stat`` result.
CheckedFile = tuple[Path, os.stat_result]

#: The files checked for the decode running in this context (:func:`files_checked`): root, limits, and
#: dataset path → :data:`CheckedFile`.
_CHECKED: contextvars.ContextVar[tuple[Path | None, MediaLimits, Mapping[str, CheckedFile]] | None] = \
    contextvars.ContextVar("judgeanything_checked_media_files", default=None)


@contextlib.contextmanager
def files_checked(root: Path | str | None, limits: MediaLimits, files: Mapping[str, CheckedFile]) -> Iterator[None]:
    """Within the block (this thread's context only), :func:`checked_media_file` answers for ``files`` —
    dataset path → :data:`CheckedFile`, just resolved inside ``root`` and checked within ``limits`` by the caller —
    instead of resolving and ``stat``-ing them again.

    The media cache checks every file of a medium to key it (by content: the file identities its digests are
    memoised on), then runs the encoder on the same files: each frame of a frame-list video was resolved and
    ``stat``-ed three times per decode (key, the encoder's check, its provenance digest), once is enough. The
    encoder then works on exactly the files the key describes. Outside the block, and for other roots, limits
    or paths, every call checks afresh (confinement is re-checked on every use).
    """
    token = _CHECKED.set((Path(root) if root is not None else None, limits, files))
    try:
        yield
    finally:
        _CHECKED.reset(token)


def checked_media_file(ref: MediaRef, root: Path | str | None, path: str | None = None,
                       limits: MediaLimits = DEFAULT_LIMITS) -> CheckedFile:
    """:func:`media_file` with the file's ``os.stat`` (one call: for :func:`sha256_file`'s memo and the size);
    a file checked already for the decode in progress (:func:`files_checked`) is not checked again.

    Raises:
        MediaError: as :func:`media_file`.
    """
    rel = path if path is not None else ref.path
    scope = _CHECKED.get()
    if rel is not None and scope is not None and scope[1] == limits \
            and scope[0] == (Path(root) if root is not None else None):
        hit = scope[2].get(rel)
        if hit is not None:
            return hit
    if rel is None:
        if ref.url is not None:
            raise MediaError(ref.url, f"{UNSUPPORTED_SOURCE}: URLs are not fetched; download the media "
                                      f"under the data root and refer to it by path")
        raise MediaError(ref.label, f"{UNSUPPORTED_SOURCE}: this {ref.modality} reference has no file path")
    full = resolve_media_path(root, rel)
    return full, checked_stat(full, rel, limits)


#: (path, size, mtime, ctime, inode) → digest, oldest first; bounded so a run over millions of files does not grow
_HASH_CACHE: dict[tuple[str, int, int, int, int], str] = {}
_HASH_CACHE_MAX = 100_000
_HASH_LOCK = threading.Lock()


def _identity(path: Path, st: os.stat_result) -> tuple[str, int, int, int, int]:
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def memoised_sha256(path: Path, st: os.stat_result) -> str | None:
    """:func:`sha256_file`'s digest of the file with stat ``st`` if it is memoised already, else ``None``
    (never reads the file: for checks that must not block, e.g. on an event loop)."""
    with _HASH_LOCK:
        return _HASH_CACHE.get(_identity(path, st))


def sha256_file(path: Path, st: os.stat_result | None = None) -> str:
    """The SHA-256 hex digest of a file's bytes, read in 1 MiB blocks; the package's one file hash (media
    provenance and cache keys, probe manifests, analysis stamps).

    Memoised per process on the file's identity (path, size, mtime, ctime, inode): every unit that shows the
    same input (4 responses × orders) would otherwise re-read and re-hash it; a rewrite in place or a file
    replaced by a rename changes the identity.

    ``st``: the file's ``os.stat`` result when the caller has just taken it (one ``stat`` call fewer).

    Raises:
        OSError: the file cannot be read.
    """
    st = st if st is not None else path.stat()
    hit = memoised_sha256(path, st)
    if hit is not None:
        return hit
    key = _identity(path, st)
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _HASH_LOCK:
        if len(_HASH_CACHE) >= _HASH_CACHE_MAX:
            _HASH_CACHE.pop(next(iter(_HASH_CACHE)))
        _HASH_CACHE[key] = digest
    return digest


def sha256_bytes(data: bytes) -> str:
    """The SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def bytes_as_file(data: bytes, suffix: str) -> Iterator[Path]:
    """``data`` written to a temporary file that is deleted on exit, for decoders that read only paths
    (decord, the ffmpeg binary)."""
    fd, tmp = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield Path(tmp)
    finally:
        os.unlink(tmp)


_QUIET_LOCK = threading.Lock()
_QUIET_DEPTH = 0
_QUIET_SAVED: int | None = None
_QUIET_SINK: Any = None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send what C decoders print straight to file descriptor 2 (mpg123 inside libsndfile: ``Warning: Xing
    stream size off…``, ``Note: Illegal Audio-MPEG-Header…``) to the debug log instead of the console; the
    decoder's verdict on the file is its return value or exception, which the caller turns into a
    :class:`MediaError`.

    The descriptor is process-wide, so nested and concurrent uses share one redirection (a lock and a depth
    count: the first entrant redirects, the last one restores and logs what was printed). Hand-rolled
    because the libraries give no switch for it (libsndfile does not expose mpg123's quiet flag) and
    ``wurlitzer``'s per-call pipes would restore descriptors out of order when decoders overlap in threads.
    """
    global _QUIET_DEPTH, _QUIET_SAVED, _QUIET_SINK
    with _QUIET_LOCK:
        if _QUIET_DEPTH == 0:
            try:
                sys.stderr.flush()
                _QUIET_SINK = tempfile.TemporaryFile()
                _QUIET_SAVED = os.dup(2)
                os.dup2(_QUIET_SINK.fileno(), 2)
            except (OSError, ValueError):  # no usable descriptor 2 (an embedded interpreter): print as is
                _QUIET_SINK, _QUIET_SAVED = None, None
        _QUIET_DEPTH += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET_DEPTH -= 1
            if _QUIET_DEPTH == 0 and _QUIET_SAVED is not None and _QUIET_SINK is not None:
                os.dup2(_QUIET_SAVED, 2)
                os.close(_QUIET_SAVED)
                _QUIET_SINK.seek(0)
                printed = _QUIET_SINK.read().decode("utf-8", errors="replace").strip()
                _QUIET_SINK.close()
                _QUIET_SAVED, _QUIET_SINK = None, None
                if printed:
                    log.debug("decoder messages: %s", printed)


def last_line(msg: str) -> str:
    """The last non-blank line of a decoder's message (ffmpeg and decord print their cause last)."""
    lines = [ln.strip() for ln in msg.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "(no message)"
