"""Decode each media item once per run: an in-memory LRU keyed by content, not by path.

A query's input media appear in the prompt of every one of its responses' units (4 responses × orders ×
repeats); the cache decodes them once. The key is the SHA-256 of the media's bytes (for a ``frames``
video: of every frame file's digest, in order; for inline text: of the text; for an encoder with its own
``content_hash(ref, root)``, e.g. a plugin medium spread over several files, that), plus the modality and the
encoder's full options — so two paths to identical bytes share one entry, and a changed file or changed
option never returns a stale decode.

Encoded values are shared between hits: their numpy arrays are read-only, and each hit returns a
shallow copy with its own ``role`` and its own ``provenance`` dict. A :class:`MediaError` from decoding
is cached as well (the same bytes fail the same way); a missing/empty/escaping file is re-checked every
time (those checks are cheap and the file may appear).

Thread-safe: concurrent requests for the same key wait for the one decode in flight.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from judgeanything.modalities._files import (
    CheckedFile,
    checked_stat,
    files_checked,
    media_file,
    memoised_sha256,
    resolve_media_path,
    sha256_bytes,
    sha256_file,
)
from judgeanything.modalities.base import Encoded, EncodedParts, MediaError, ModalityEncoder
from judgeanything.modalities.limits import DEFAULT_LIMITS, MediaLimits
from judgeanything.modalities.registry import UnknownModalityError, default_options, get_encoder
from judgeanything.schema import MediaRef, stable_hash

log = logging.getLogger(__name__)


def unexpected(ref: MediaRef, e: Exception) -> MediaError:
    """A decoder's failure of a kind it does not name as a :class:`MediaError`, as one (logged with its
    traceback at debug level, for a bug report)."""
    log.debug("decoding %s raised", ref.label, exc_info=e)
    return MediaError(ref.label, f"decoder failed: {type(e).__name__}: {e}")


class MediaCache:
    """Encode and measure media through the registered encoders, decoding each item once.

    Args:
        root: the data root media paths are relative to (None: the current directory).
        options: per-modality encoder options (``{"video": {"num_frames": 8}}``), overlaid on each
            modality's ``conf/modality/<name>.yaml`` defaults.
        max_items: how many encoded items to keep (least recently used are dropped).
        limits: the media limits (``media.limits``), handed to every encoder that takes them; file
            sizes are checked here too, before a file is hashed, for every encoder.

    Attributes:
        hits: encodes answered from the cache (including waits on a decode already in flight).
        misses: encodes that ran a decoder.
        decode_seconds: wall seconds spent in decoders (misses only).
        measure_errors: media label → reason, for items whose ``measure`` returned ``{}``.
    """

    def __init__(self, root: Path | None, options: Mapping[str, Mapping[str, Any]] | None = None,
                 max_items: int = 256, limits: MediaLimits = DEFAULT_LIMITS) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        self.root = Path(root) if root is not None else None
        self.options = {str(k): dict(v or {}) for k, v in (options or {}).items()}
        self.max_items = int(max_items)
        self.limits = limits
        self.hits = 0
        self.misses = 0
        self.decode_seconds = 0.0
        self.measure_errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self._items: OrderedDict[str, EncodedParts | MediaError] = OrderedDict()
        self._inflight: dict[str, Future[EncodedParts]] = {}
        self._encoders: dict[str, tuple[ModalityEncoder, str]] = {}
        self._measures: dict[tuple[Any, ...], dict[str, float]] = {}
        self._measure_why: dict[tuple[Any, ...], str] = {}  # why a measure came back {} ("" when it did not)
        # one lock per file identity: the measuring threads of a run often reach the same file through several
        # responses at once, and each would otherwise open (and count) it again
        self._measure_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self.measured = 0  # files actually measured (not answered from memory or a saved file)

    # -- encoders -----------------------------------------------------------------------------------

    def encoder(self, modality: str) -> tuple[ModalityEncoder, str]:
        """The encoder of ``modality`` (built once) and the JSON of its full options (part of the key).

        Raises:
            MediaError: no encoder for this modality (reason ``"unsupported modality ..."``).
            ValueError: bad options in the configuration.
        """
        with self._lock:
            hit = self._encoders.get(modality)
        if hit is not None:
            return hit
        given = self.options.get(modality, {})
        try:
            enc = get_encoder(modality, media_limits=self.limits, **given)
            full = {**default_options(modality), **given, "limits": self.limits.to_dict()}
        except UnknownModalityError as e:
            raise MediaError(f"<{modality}>", f"unsupported modality {modality!r}: {e}") from None
        built = (enc, json.dumps(full, sort_keys=True, default=str))
        with self._lock:
            return self._encoders.setdefault(modality, built)

    def content_hash(self, ref: MediaRef, checked: dict[str, CheckedFile] | None = None) -> str:
        """SHA-256 of the media's content (see the module docstring); ``checked``, when given, receives each
        file checked on the way (dataset path → resolved path and ``stat``), for the decode that follows.

        Raises:
            MediaError: a missing, empty or escaping file, a file over ``limits.max_file_bytes``, or a URL
                source.
        """
        if ref.text is not None:
            return sha256_bytes(ref.text.encode("utf-8"))
        if ref.data is not None:
            self.limits.check_bytes(ref.label, len(ref.data))
            return sha256_bytes(ref.data)
        digest = self._files_hash(ref, sha256_file, checked)
        assert digest is not None  # sha256_file always gives one
        return digest

    def _files_hash(self, ref: MediaRef, digest: Callable[[Path, os.stat_result], str | None],
                    checked: dict[str, CheckedFile] | None = None) -> str | None:
        """The content hash of a file-backed ``ref`` (its file's digest; a frame list's digest of its frames'
        digests), each file's digest from ``digest`` (``None`` from it → ``None``); each file checked goes into
        ``checked`` when given."""
        digests = []
        for rel in ref.frames or (None,):
            d = digest(*self._file(ref, rel, checked))
            if d is None:
                return None
            digests.append(d)
        return sha256_bytes("\n".join(digests).encode()) if ref.frames else digests[0]

    def _file(self, ref: MediaRef, rel: str | None = None,
              checked: dict[str, CheckedFile] | None = None) -> CheckedFile:
        """The checked file of ``ref`` (or of its frame ``rel``) and its ``stat`` (one call): :func:`media_file`'s
        rules — confined to the data root (resolved on every call: a directory swapped for a link since is
        caught), existing, regular, non-empty, within the limits. Recorded in ``checked`` when given.

        Raises:
            MediaError: as :func:`~judgeanything.modalities._files.media_file`.
        """
        rel = rel if rel is not None else ref.path
        if rel is None:
            media_file(ref, self.root, limits=self.limits)  # raises: a URL, or no file path
        full = resolve_media_path(self.root, str(rel))
        found = full, checked_stat(full, rel, self.limits)
        if checked is not None:
            checked[str(rel)] = found
        return found

    # -- encode -------------------------------------------------------------------------------------

    def encode(self, ref: MediaRef, role: str = "") -> Encoded:
        """The encoded media of ``ref`` with ``role`` set (decoded on the first request only); for an
        encoder that returns several parts, the first (its primary view; :meth:`encode_parts` gives all).

        Raises:
            MediaError: the media cannot be used (see the encoders), or its modality has no encoder.
        """
        return self.encode_parts(ref, role)[0]

    def encode_parts(self, ref: MediaRef, role: str = "") -> tuple[Encoded, ...]:
        """Every part the encoder of ``ref`` returns (one for the core modalities), each with ``role`` set
        and its own ``provenance`` dict, in the order the prompt shows them.

        Raises:
            MediaError: as :meth:`encode`.
        """
        enc, key, checked = self._key(ref)
        owner = False
        with self._lock:
            cached = self._items.get(key)
            if cached is not None:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                fut = self._inflight.get(key)
                if fut is not None:
                    self.hits += 1
                else:
                    fut = Future()
                    self._inflight[key] = fut
                    self.misses += 1
                    owner = True
        if cached is None:
            assert fut is not None  # set above whenever nothing was cached
            if owner:
                cached = self._decode(enc, ref, key, fut, checked)
            else:
                try:
                    cached = fut.result()
                except MediaError as e:
                    cached = e
        if isinstance(cached, MediaError):
            raise MediaError(cached.path, cached.reason, backend=cached.backend)
        parts = cached if isinstance(cached, tuple) else (cached,)
        if not parts:
            raise MediaError(ref.label, f"the {ref.modality} encoder returned no encoding")
        return tuple(dataclasses.replace(p, role=role, provenance=dict(p.provenance)) for p in parts)

    def _key(self, ref: MediaRef) -> tuple[ModalityEncoder, str, dict[str, CheckedFile]]:
        """The encoder of ``ref``, its cache key (modality, content hash, the encoder's full options) and the
        files checked to compute it (for the decode, :func:`~judgeanything.modalities._files.files_checked`).

        Raises:
            MediaError: as :meth:`content_hash`, or no encoder for the modality.
        """
        enc, opts = self.encoder(ref.modality)
        checked: dict[str, CheckedFile] = {}
        return enc, stable_hash(ref.modality, self._content_key(enc, ref, checked), opts, n=32), checked

    def ready(self, ref: MediaRef) -> bool:
        """Whether :meth:`encode_parts` of ``ref`` would be answered from memory now (decoded before, still
        held, file unchanged): such a request costs lookups and ``stat`` calls only. Never reads a file (a
        digest not memoised yet, inline bytes, an encoder's own content hash → False), so it may run on an
        event loop; False too for anything that would fail."""
        if ref.data is not None:
            return False
        try:
            enc, opts = self.encoder(ref.modality)
            if ref.text is not None:
                content: str | None = sha256_bytes(ref.text.encode("utf-8"))
            elif callable(getattr(enc, "content_hash", None)):
                return False
            else:
                content = self._files_hash(ref, memoised_sha256)
        except MediaError:
            return False
        if content is None:
            return False
        key = stable_hash(ref.modality, content, opts, n=32)
        with self._lock:
            return key in self._items

    def _decode(self, enc: ModalityEncoder, ref: MediaRef, key: str, fut: Future[EncodedParts],
                checked: dict[str, CheckedFile]) -> EncodedParts | MediaError:
        """Run the encoder on the files the key was computed from (``checked``: not resolved and stat'ed again),
        keep the result (or its :class:`MediaError`) and hand it to the requests waiting on ``fut``."""
        t0 = time.perf_counter()
        result: EncodedParts | MediaError
        try:
            with files_checked(self.root, self.limits, checked):
                result = enc.encode(ref, self.root, "")
        except MediaError as e:
            result = e
        except Exception as e:  # a decoder failing in a way it does not name (a hostile file
            # reaching a code path that raises IndexError, struct.error…) is still this item's fault only
            result = unexpected(ref, e)
        except BaseException as e:  # KeyboardInterrupt, SystemExit: release the waiters, then propagate
            with self._lock:
                self._inflight.pop(key, None)
            fut.set_exception(e)
            raise
        elapsed = time.perf_counter() - t0
        with self._lock:
            self.decode_seconds += elapsed
            self._items[key] = result
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
            self._inflight.pop(key, None)
        if isinstance(result, MediaError):
            fut.set_exception(result)
        else:
            fut.set_result(result)
        return result

    # -- measure ------------------------------------------------------------------------------------

    def measure(self, ref: MediaRef) -> dict[str, float]:
        """Size features of ``ref`` (``chars``/``words``, ``width``/``height``/``pixels``/``count``,
        ``duration_s``…), cached by file identity (path, size, mtime) and options.

        Never raises for a media fault: a missing, empty, corrupt or unsupported item gives ``{}`` (the
        reason is kept in :attr:`measure_errors`), so a run is never stopped by measuring.
        """
        checked: dict[str, CheckedFile] = {}
        try:
            enc, opts = self.encoder(ref.modality)
            ident = (("own", self._content_key(enc, ref, checked)) if callable(getattr(enc, "content_hash", None))
                     and ref.path is not None else self._identity(ref, checked))
        except MediaError as e:
            self.measure_errors[ref.label] = e.reason
            return {}
        key = (ref.modality, ident, opts)
        with self._lock:
            key_lock = self._measure_locks.setdefault(key, threading.Lock())
        with key_lock:
            return self._measure_once(key, enc, ref, checked)

    def _measure_once(self, key: tuple[Any, ...], enc: ModalityEncoder, ref: MediaRef,
                      checked: dict[str, CheckedFile]) -> dict[str, float]:
        """:meth:`measure` for one file identity, called under that identity's lock (a saved or earlier
        measurement is reused; otherwise the file is measured once and counted in :attr:`measured`)."""
        with self._lock:
            hit = self._measures.get(key)
            why = self._measure_why.get(key)
        if hit is not None:
            if why:
                self.measure_errors[ref.label] = why
            return dict(hit)
        why = ""
        try:
            with files_checked(self.root, self.limits, checked):  # the files the identity was taken from
                out = {str(k): float(v) for k, v in enc.measure(ref, self.root).items()}
        except MediaError as e:
            why, out = e.reason, {}
        except Exception as e:  # see _decode: a decoder's unnamed failure is a media fault
            why, out = unexpected(ref, e).reason, {}
        if why:
            self.measure_errors[ref.label] = why
        with self._lock:
            self._measures[key] = out
            self._measure_why[key] = why
            self.measured += 1
        return dict(out)

    def save_measures(self, path: Path) -> None:
        """Write the measurements made so far (keyed by file identity: path, size, mtime, and options) to
        ``path``, atomically, so that a rerun of the run reads them back instead of opening every file."""
        with self._lock:
            # [modality, identity, options, measure, why it is empty]; JSON turns the identity's tuples to lists
            rows = [[*k, v, self._measure_why.get(k, "")] for k, v in self._measures.items()]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(rows))
        tmp.replace(path)

    def load_measures(self, path: Path) -> int:
        """Read measurements saved by :meth:`save_measures`; returns how many were read. A file identity that
        no longer matches (a file replaced or touched since) is simply never looked up, so nothing stale is
        used; an unreadable file is ignored (everything is measured again)."""
        try:
            rows = json.loads(path.read_text())
            loaded = {(str(mod), tuple(tuple(x) if isinstance(x, list) else x for x in ident), str(opts)):
                      ({str(a): float(b) for a, b in v.items()}, str(why)) for mod, ident, opts, v, why in rows}
        except (OSError, ValueError, TypeError, AttributeError):
            return 0
        with self._lock:
            for key, (out, why) in loaded.items():
                self._measures.setdefault(key, out)
                self._measure_why.setdefault(key, why)
        return len(loaded)

    def _content_key(self, enc: ModalityEncoder, ref: MediaRef, checked: dict[str, CheckedFile] | None = None) -> str:
        """The encoder's own ``content_hash(ref, root)`` when it has one (a plugin medium made of several
        files, e.g. an artifact with its assets; the file-size limit is still checked on its path), else
        :meth:`content_hash`."""
        own = getattr(enc, "content_hash", None)
        if not callable(own) or ref.path is None:
            return self.content_hash(ref, checked)
        full = resolve_media_path(self.root, ref.path)
        if full.is_file():
            self.limits.check_bytes(ref.path, full.stat().st_size)
        return str(own(ref, self.root))

    def _identity(self, ref: MediaRef, checked: dict[str, CheckedFile] | None = None) -> tuple[Any, ...]:
        if ref.text is not None:
            return ("text", sha256_bytes(ref.text.encode("utf-8")))
        if ref.data is not None:
            self.limits.check_bytes(ref.label, len(ref.data))
            return ("data", sha256_bytes(ref.data))
        rels = ref.frames if ref.frames else (ref.path,)
        out: list[Any] = []
        for rel in rels:
            p, st = self._file(ref, rel, checked)
            out.append((str(p), st.st_size, st.st_mtime_ns))
        return tuple(out)

    def stats(self) -> dict[str, float]:
        """``hits``, ``misses``, ``items`` held and ``decode_seconds`` (for the run summary)."""
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "items": len(self._items),
                    "decode_seconds": round(self.decode_seconds, 6)}
