"""The ``artifact`` modality: an HTML / SVG / JS artifact (one file, or an entry file in a folder with its
assets) → its timed screenshots as a frame sequence (:class:`EncodedVideo`, timestamps in seconds after
``load``) plus its source code (:class:`EncodedText`), shown to the judge one after the other, as
ArtifactsBench's judge sees the screenshots and the answer's code.

A rendering failure is a :class:`MediaError` whose reason starts with the failure kind
(``render failed (syntax_error): …``), so the runner records a ``media_error`` for that item only.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judgeanything.modalities import EncodedText, EncodedVideo, MediaError, resolve_media_path
from judgeanything.schema import MediaRef
from judgeanything_artifact.cache import RenderCache, default_cache_dir, render_key, scope_files, sha256_of
from judgeanything_artifact.render import Interaction, Renderer, RenderError, RenderResult, RenderSpec

#: Entry-file suffixes → the fence language of the code part. An ``.svg`` file is rendered as the page.
SUFFIXES: Mapping[str, str] = {".html": "html", ".htm": "html", ".svg": "svg", ".xhtml": "html"}
_TEXT_ASSETS = {".js": "javascript", ".mjs": "javascript", ".css": "css", ".json": "json", ".svg": "svg"}
_RENDERERS: dict[str | None, Renderer] = {}
_RENDERERS_LOCK = threading.Lock()


def shared_renderer(executable_path: str | None) -> Renderer:
    """One :class:`Renderer` (one Chromium) per executable per process, shared by every encoder."""
    with _RENDERERS_LOCK:
        r = _RENDERERS.get(executable_path)
        if r is None:
            r = _RENDERERS[executable_path] = Renderer(executable_path)
        return r


def _interactions(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Interaction, ...]:
    out = []
    for i, step in enumerate(raw or ()):
        try:
            out.append(Interaction(**dict(step)))
        except TypeError as e:
            raise ValueError(f"artifact interactions[{i}]: {e} (keys: action, selector, text, settle_s, "
                             "capture)") from None
    return tuple(out)


class ArtifactEncoder:
    """Renders artifacts in headless Chromium (Playwright), network off, with a time limit.

    Args (``conf/modality/artifact.yaml`` has the defaults): ``width``/``height`` viewport (px);
    ``capture_times`` (s after ``load``; ArtifactsBench: three, 1 s apart); ``interactions`` (list of
    ``{action: click|type|press|wait, selector, text, settle_s, capture}``, each followed by a screenshot);
    ``timeout_s`` (the whole render); ``full_page``; ``max_page_height``; ``blank_std``; ``scope``
    (``folder``: the entry's folder is the artifact, assets included; ``file``); ``fail_on_page_error``
    (an uncaught runtime error fails the render, kind ``page_error``); ``include_code`` and
    ``max_code_chars`` (the code part, cut with a marker beyond); ``cache_dir`` (renders by content hash;
    default ``$JUDGEANYTHING_CACHE/artifact-renders``); ``executable_path`` (Chromium; default found on
    ``PATH``).

    Raises:
        ValueError: a bad option.
    """

    name = "artifact"

    def __init__(self, width: int = 1024, height: int = 768, capture_times: Sequence[float] = (0.0, 1.0, 2.0),
                 interactions: Sequence[Mapping[str, Any]] | None = None, timeout_s: float = 20.0,
                 full_page: bool = False, max_page_height: int = 4096, blank_std: float = 1.0,
                 scope: str = "folder", fail_on_page_error: bool = False, include_code: bool = True,
                 max_code_chars: int = 60000,
                 cache_dir: str | None = None, executable_path: str | None = None) -> None:
        self.spec = RenderSpec(width=int(width), height=int(height),
                               capture_times=tuple(float(t) for t in capture_times),
                               interactions=_interactions(interactions), timeout_s=float(timeout_s),
                               full_page=bool(full_page), max_page_height=int(max_page_height),
                               blank_std=float(blank_std), scope=str(scope),
                               fail_on_page_error=bool(fail_on_page_error))
        if max_code_chars < 1:
            raise ValueError("max_code_chars must be >= 1")
        self.include_code, self.max_code_chars = bool(include_code), int(max_code_chars)
        self.cache = RenderCache(Path(cache_dir).expanduser() if cache_dir else default_cache_dir())
        self.executable_path = executable_path

    # -- files ----------------------------------------------------------------------------------------

    def entry(self, ref: MediaRef, root: Path | None) -> Path:
        """The artifact's entry file: ``ref.path`` (a file, or a folder holding ``index.html``), inside
        the data root.

        Raises:
            MediaError: no path, escaping the root, missing, empty, or not HTML / SVG.
        """
        if ref.path is None:
            raise MediaError(ref.label, "unsupported source: artifacts are read from files under the data root")
        p = resolve_media_path(root, ref.path)
        if p.is_dir():
            p = p / "index.html"
        if not p.is_file():
            raise MediaError(ref.path, f"file not found ({p})")
        if p.stat().st_size == 0:
            raise MediaError(ref.path, "empty file (0 bytes)")
        if p.suffix.lower() not in SUFFIXES:
            raise MediaError(ref.path, f"not an artifact file (supported: {', '.join(sorted(SUFFIXES))})")
        return p

    def content_hash(self, ref: MediaRef, root: Path | None) -> str:
        """SHA-256 over the artifact's bytes: the entry file and, with ``scope: folder``, every file of its
        folder by relative path (judgeanything's media cache keys on it, so an edited asset is seen).

        Raises:
            MediaError: see :meth:`entry`; an unreadable folder.
        """
        entry = self.entry(ref, root)
        h = hashlib.sha256(f"entry {entry.name}\n".encode())
        try:
            for p in scope_files(entry, self.spec.scope):
                h.update(f"{p.relative_to(entry.parent).as_posix()} {sha256_of(p)}\n".encode())
        except (OSError, ValueError) as e:
            raise MediaError(ref.path or ref.label, f"cannot read the artifact: {e}") from None
        return h.hexdigest()

    # -- rendering ------------------------------------------------------------------------------------

    def render(self, ref: MediaRef, root: Path | None) -> tuple[Path, str, RenderResult]:
        """Render (or read from the cache) the artifact of ``ref``: ``(entry, cache key, result)``.

        Raises:
            MediaError: the file is unusable, or the render failed (reason ``render failed (<kind>): …``).
        """
        entry = self.entry(ref, root)
        try:
            key = render_key(entry, self.spec)
        except (OSError, ValueError) as e:
            raise MediaError(ref.path or ref.label, f"cannot read the artifact: {e}") from None
        hit = self.cache.get(key)
        if hit is None:
            self.cache.misses += 1
            try:
                hit = shared_renderer(self.executable_path).render(entry, self.spec)
            except RenderError as e:
                hit = e
            self.cache.put(key, hit)
        if isinstance(hit, RenderError):
            raise MediaError(ref.path or ref.label, f"render failed ({hit.kind}): {hit.reason}", backend="chromium")
        return entry, key, hit

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> tuple[EncodedVideo | EncodedText, ...]:
        """The screenshots ``(T, H, W, 3) uint8`` with their timestamps, then (``include_code``) the code.

        Provenance: ``source_modality: artifact``, ``source``, ``render_key``, ``capture_labels``,
        ``page_errors``, ``blocked_requests``, ``viewport``, ``browser``.

        Raises:
            MediaError: see :meth:`render`.
        """
        entry, key, res = self.render(ref, root)
        ts = [float(t) for t in res.timestamps]
        span = ts[-1] - ts[0] if len(ts) > 1 else 0.0
        prov = {"source_modality": "artifact", "source": ref.path, "render_key": key,
                "capture_labels": list(res.labels), "timestamps": ts, "page_errors": list(res.page_errors),
                "console_errors": list(res.console_errors)[:20], "blocked_requests": list(res.blocked)[:50],
                "viewport": [self.spec.width, self.spec.height], "frames": len(res.frames),
                "final_size": [int(res.frames.shape[2]), int(res.frames.shape[1])], "browser": res.browser_version}
        frames = res.frames.copy()
        frames.setflags(write=False)
        video = EncodedVideo(frames=frames, timestamps=ts, fps=(len(ts) - 1) / span if span > 0 else 1.0,
                             role=role, provenance=prov)
        if not self.include_code:
            return (video,)
        return video, self._code_part(entry, ref, role)

    def _code_part(self, entry: Path, ref: MediaRef, role: str) -> EncodedText:
        """The entry file's code, then (``scope: folder``) its text assets (JS, CSS, JSON, SVG) by relative
        path, each fenced, cut at ``max_code_chars``."""
        files = scope_files(entry, self.spec.scope)
        texts = [(entry, SUFFIXES[entry.suffix.lower()])]
        texts += [(p, _TEXT_ASSETS[p.suffix.lower()]) for p in files
                  if p != entry and p.suffix.lower() in _TEXT_ASSETS]
        names = [p.relative_to(entry.parent).as_posix() for p, _ in texts]
        chunks, total = [], 0
        for (p, lang), name in zip(texts, names, strict=True):
            code = p.read_text(encoding="utf-8", errors="replace")
            chunks.append(f"{name}:\n```{lang}\n{code}\n```")
            total += len(code)
        body = "\n\n".join(chunks)
        cut = len(body) > self.max_code_chars
        if cut:
            body = body[: self.max_code_chars] + f"\n[… code cut at {self.max_code_chars} characters]"
        text = f"Source code of the artifact ({entry.name}):\n{body}"
        digest = hashlib.sha256(entry.read_bytes()).hexdigest()
        return EncodedText(text=text, role=role,
                           provenance={"source_modality": "artifact", "part": "code", "source": ref.path,
                                       "sha256": digest, "chars": total, "files": names,
                                       "truncated": cut})

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]:
        """``chars`` and ``lines`` of the entry file, ``files`` in its scope (no rendering)."""
        entry = self.entry(ref, root)
        code = entry.read_text(encoding="utf-8", errors="replace")
        return {"chars": float(len(code)), "lines": float(len(code.splitlines())),
                "files": float(len(scope_files(entry, self.spec.scope)))}

    def preview(self, ref: MediaRef, root: Path | None) -> dict[str, Any]:
        """What the HTML report shows for one artifact: ``{"images": [png paths], "captions": [...],
        "source": entry path}`` from the render cache — the screenshots the judge was shown — or
        ``{"error": reason, "source": ...}`` (a render failure, or no render: a judge that does not look at
        media, such as a baseline, renders nothing, and the report does not render on its own)."""
        try:
            entry = self.entry(ref, root)
            key = render_key(entry, self.spec)
        except (MediaError, OSError, ValueError) as e:
            return {"error": getattr(e, "reason", str(e)), "source": None}
        hit = self.cache.get(key)
        if hit is None:
            return {"error": "not rendered in this run (the judge did not look at it)", "source": entry}
        if isinstance(hit, RenderError):
            return {"error": f"render failed ({hit.kind}): {hit.reason}", "source": entry}
        return {"images": self.cache.frame_files(key), "captions": list(hit.labels), "source": entry}
