"""The content-addressed judge cache: one judge answer per (what was sent × who answered), shared by every
run and sweep on a machine.

* :mod:`.key` — the cache key of a request: the media content actually sent, the rendered prompt and its
  version, rubric ids, the judge's fingerprint (backend, model, sampling) and provider snapshot, the
  presentation order and the repeat index.
* :mod:`.store` — where entries live: SQLite in WAL mode (default) or one file per entry (network
  filesystems, where SQLite's locking is unreliable).
* :mod:`.judge_cache` — :class:`JudgeCache` (lookup / store, what may be cached) and
  :func:`judge_with_cache`, the cache-aware judge call the runner makes.
"""

from judgeanything.cache.judge_cache import (
    CACHE_MODES,
    CACHEABLE_FAILURES,
    CACHED_JUDGE_KINDS,
    CacheOptions,
    JudgeCache,
    default_cache_dir,
    judge_with_cache,
)
from judgeanything.cache.key import media_digest, request_key

__all__ = ["CACHEABLE_FAILURES", "CACHED_JUDGE_KINDS", "CACHE_MODES", "CacheOptions", "JudgeCache",
           "default_cache_dir", "judge_with_cache", "media_digest", "request_key"]
