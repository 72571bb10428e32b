"""MediaCache: decode once per content, copies per role, errors, measure never raises, threads."""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from judgeanything.modalities import EncodedVideo, MediaCache, MediaError
from judgeanything.schema import MediaRef


def test_query_input_decoded_once_across_four_responses(media: Path) -> None:
    cache = MediaCache(media, {"video": {"num_frames": 4}})
    query = MediaRef("video", path="clip.mp4")
    responses = [MediaRef("image", path="grad.png"), MediaRef("image", path="grad.jpg"),
                 MediaRef("audio", path="tone.wav"), MediaRef("text", text="a text answer")]
    seen = []
    for i, resp in enumerate(responses):  # one score unit per response: query input + the response
        q = cache.encode(query, "query")
        r = cache.encode(resp, f"response {i + 1}")
        seen.append((q, r))
    assert cache.misses == 1 + 4 and cache.hits == 3
    assert cache.decode_seconds > 0
    q0, q3 = seen[0][0], seen[3][0]
    assert isinstance(q0, EncodedVideo) and q0.frames.shape[0] == 4
    assert q0.frames is q3.frames  # shared, read-only
    assert not q0.frames.flags.writeable
    assert seen[2][1].role == "response 3" and seen[3][1].text == "a text answer"
    stats = cache.stats()
    assert stats["hits"] == 3 and stats["misses"] == 5 and stats["items"] == 5


def test_role_and_provenance_are_per_copy(media: Path) -> None:
    cache = MediaCache(media)
    a = cache.encode(MediaRef("image", path="grad.png"), "response 1")
    b = cache.encode(MediaRef("image", path="grad.png"), "response 2")
    assert (a.role, b.role) == ("response 1", "response 2")
    a.provenance["note"] = "x"
    assert "note" not in b.provenance


def test_key_is_content_not_path(media: Path, tmp_path: Path) -> None:
    shutil.copy(media / "grad.png", tmp_path / "a.png")
    shutil.copy(media / "grad.png", tmp_path / "b.png")
    cache = MediaCache(tmp_path)
    cache.encode(MediaRef("image", path="a.png"))
    cache.encode(MediaRef("image", path="b.png"))
    assert (cache.misses, cache.hits) == (1, 1)
    # a changed file is a new key
    shutil.copy(media / "grad.jpg", tmp_path / "a.png")
    assert cache.encode(MediaRef("image", path="a.png")).provenance["format"] == "JPEG"
    assert cache.misses == 2


def test_options_are_part_of_the_key(media: Path) -> None:
    small = MediaCache(media, {"image": {"max_side": 20}}).encode(MediaRef("image", path="grad.png"))
    assert small.image.size == (20, 10)
    assert MediaCache(media).encode(MediaRef("image", path="grad.png")).image.size == (200, 100)


def test_errors_are_reraised_and_cached(media: Path) -> None:
    cache = MediaCache(media)
    for _ in range(2):
        with pytest.raises(MediaError, match="not a decodable image file"):
            cache.encode(MediaRef("image", path="garbage.png"))
    assert (cache.misses, cache.hits) == (1, 1)
    for _ in range(2):
        with pytest.raises(MediaError, match="file not found"):
            cache.encode(MediaRef("image", path="missing.png"))
    assert cache.misses == 1  # a missing file never reaches a decoder


def test_unknown_modality_is_a_media_error(media: Path) -> None:
    with pytest.raises(MediaError, match="unsupported modality 'hologram'"):
        MediaCache(media).encode(MediaRef("hologram", path="grad.png"))


def test_measure_never_raises_and_caches(media: Path) -> None:
    cache = MediaCache(media)
    assert cache.measure(MediaRef("audio", path="tone.wav")) == {"duration_s": 2.0}
    assert cache.measure(MediaRef("image", path="grad.png"))["pixels"] == 20000.0
    assert cache.measure(MediaRef("video", path="clip.mp4"))["n_frames"] == 30.0
    assert cache.measure(MediaRef("text", text="one two")) == {"chars": 7.0, "words": 2.0}
    assert cache.measure(MediaRef("audio", path="missing.wav")) == {}
    assert cache.measure(MediaRef("video", path="garbage.mp4")) == {}
    assert cache.measure(MediaRef("image", path="../escape.png")) == {}
    assert cache.measure(MediaRef("hologram", path="x")) == {}
    assert cache.measure_errors["missing.wav"].startswith("file not found")
    assert cache.measure_errors["garbage.mp4"].startswith("not a decodable video file")
    assert cache.measure_errors["../escape.png"].startswith("path escapes the data root")


def test_lru_bound(media: Path) -> None:
    cache = MediaCache(media, max_items=2)
    for name in ("grad.png", "grad.jpg", "palette_transparent.png", "grad.png"):
        cache.encode(MediaRef("image", path=name))
    assert cache.misses == 4 and cache.stats()["items"] == 2


def test_threads_share_one_decode(media: Path) -> None:
    cache = MediaCache(media)
    ref = MediaRef("video", path="clip.mp4")
    results: list[np.ndarray] = []
    barrier = threading.Barrier(6)

    def work() -> None:
        barrier.wait()
        results.append(cache.encode(ref, "query").frames)  # type: ignore[union-attr]

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 6 and cache.misses == 1 and cache.hits == 5
    assert all(r is results[0] for r in results)


def test_threads_share_one_measure(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The measuring threads of a run reach one file through several responses at once: it is opened once."""
    cache = MediaCache(media)
    enc, _ = cache.encoder("image")
    calls: list[str] = []
    real = enc.measure
    gate = threading.Event()

    def slow_measure(ref: MediaRef, root: Path) -> dict[str, float]:
        calls.append(str(ref.path))
        gate.wait(timeout=5)  # hold the first measurement until every thread has asked for the file
        return real(ref, root)

    monkeypatch.setattr(enc, "measure", slow_measure)
    results: list[dict[str, float]] = []
    threads = [threading.Thread(target=lambda: results.append(cache.measure(MediaRef("image", path="grad.png"))))
               for _ in range(6)]
    for t in threads:
        t.start()
    while not calls:
        threading.Event().wait(0.01)
    gate.set()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 6 and all(r == results[0] and r["pixels"] == 20000.0 for r in results)
    assert calls == ["grad.png"] and cache.measured == 1


def test_provenance_is_json_for_the_run_log(media: Path) -> None:
    """The runner writes every part's provenance into the run log: plain JSON types only."""
    cache = MediaCache(media)
    refs = [MediaRef("image", path="grad.jpg"), MediaRef("audio", path="tone.m4a"),
            MediaRef("video", path="clip.mp4"), MediaRef("video", frames=("frames/0.png", "frames/1.png")),
            MediaRef("text", text="t")]
    for ref in refs:
        enc = cache.encode(ref, "query")
        text = json.dumps(enc.provenance, allow_nan=False)
        assert json.loads(text) == enc.provenance
        if isinstance(enc, EncodedVideo) and enc.audio is not None:
            json.dumps(enc.audio.provenance, allow_nan=False)


def test_a_file_swapped_for_an_escaping_symlink_mid_run_is_refused(media: Path, tmp_path: Path) -> None:
    """The cache resolves a dataset path once per run; a path that has become a symlink since is resolved
    and confined again (a file replaced by a link to /etc/... is never read)."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(media / "grad.png", root / "a.png")
    outside = tmp_path / "outside.png"
    shutil.copy(media / "grad.jpg", outside)
    cache = MediaCache(root)
    ref = MediaRef("image", path="a.png")
    cache.encode(ref)
    (root / "a.png").unlink()
    (root / "a.png").symlink_to(outside)
    with pytest.raises(MediaError, match="path escapes the data root"):
        cache.encode(ref)
    with pytest.raises(MediaError, match="path escapes the data root"):
        cache.content_hash(ref)
    assert cache.measure(ref) == {} and "escapes" in cache.measure_errors["a.png"]


def test_a_file_that_disappears_or_empties_mid_run_is_checked_every_time(media: Path, tmp_path: Path) -> None:
    shutil.copy(media / "grad.png", tmp_path / "a.png")
    cache = MediaCache(tmp_path)
    ref = MediaRef("image", path="a.png")
    cache.encode(ref)
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(MediaError, match="empty file"):
        cache.encode(ref)
    (tmp_path / "a.png").unlink()
    with pytest.raises(MediaError, match="file not found"):
        cache.encode(ref)


def test_ready_says_whether_an_encode_would_be_a_lookup(media: Path, tmp_path: Path) -> None:
    shutil.copy(media / "grad.png", tmp_path / "a.png")
    cache = MediaCache(tmp_path, max_items=1)
    a, b = MediaRef("image", path="a.png"), MediaRef("image", path="b.png")
    assert not cache.ready(a)  # never decoded
    cache.encode(a)
    assert cache.ready(a) and (cache.misses, cache.hits) == (1, 0)
    assert not cache.ready(b)  # missing file: would fail, not a lookup
    shutil.copy(media / "grad.jpg", tmp_path / "a.png")
    assert not cache.ready(a)  # changed bytes: a new decode
    cache.encode(a)
    shutil.copy(media / "grad.png", tmp_path / "b.png")
    cache.encode(b)  # max_items=1: a is dropped
    assert cache.ready(b) and not cache.ready(a)


def test_a_parent_directory_swapped_for_an_escaping_link_mid_run_is_refused(media: Path, tmp_path: Path) -> None:
    """Confinement is checked on every use, for every component of the path: a directory replaced by a link
    out of the data root after the file was first read is never followed."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "d").mkdir(parents=True)
    outside.mkdir()
    shutil.copy(media / "grad.png", root / "d" / "a.png")
    shutil.copy(media / "grad.jpg", outside / "a.png")
    cache = MediaCache(root)
    ref = MediaRef("image", path="d/a.png")
    cache.encode(ref)
    shutil.rmtree(root / "d")
    (root / "d").symlink_to(outside, target_is_directory=True)
    for use in (cache.encode, cache.content_hash):
        with pytest.raises(MediaError, match="path escapes the data root"):
            use(ref)
    assert not cache.ready(ref)


def test_ready_never_reads_a_file(media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ready() runs on the event loop: a file whose digest is not known yet is not hashed there (False)."""
    from judgeanything.modalities import _files

    shutil.copy(media / "grad.png", tmp_path / "new.png")
    opened: list[Path] = []
    real_open = Path.open

    def watch(self: Path, *a: object, **k: object) -> object:
        opened.append(self)
        return real_open(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", watch)
    monkeypatch.setattr(_files, "_HASH_CACHE", {})
    assert not MediaCache(tmp_path).ready(MediaRef("image", path="new.png"))
    assert opened == []


def _count_file_checks(monkeypatch: pytest.MonkeyPatch, folder: Path) -> tuple[Counter[str], Counter[str]]:
    """Per file name in ``folder``: ``os.stat`` calls (but the symlink-loop probe ``Path.resolve`` makes of its
    own result) and ``Path.resolve`` calls."""
    import os
    import sys

    stats: Counter[str] = Counter()
    resolves: Counter[str] = Counter()
    real_stat, real_resolve = os.stat, Path.resolve

    def in_resolve() -> bool:
        f = sys._getframe(2)
        for _ in range(4):
            if f is None:
                return False
            if f.f_code.co_name == "resolve" and "pathlib" in f.f_code.co_filename:
                return True
            f = f.f_back
        return False

    def stat(p: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(p, str | Path) and Path(p).parent == folder and not in_resolve():
            stats[Path(p).name] += 1
        return real_stat(p, *args, **kwargs)

    def resolve(self: Path, *args: Any, **kwargs: Any) -> Path:
        if self.parent == folder:
            resolves[self.name] += 1
        return real_resolve(self, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(Path, "resolve", resolve)
    return stats, resolves


def test_each_file_is_checked_once_per_decode_or_measure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache resolves and stats each file of a medium to key it; the encoder works on those very files
    (modalities._files.files_checked): one check per file per decode or measure — a frame list's frames were
    each stat'ed three times per decode (key, the encoder's check, its provenance digest) — and the encoding is
    the same as an encoder run on its own."""
    from PIL import Image

    from judgeanything.modalities.video import VideoEncoder

    folder = (tmp_path / "frames").resolve()
    folder.mkdir()
    names = [f"f{i}.png" for i in range(4)]
    for i, name in enumerate(names):
        Image.fromarray(np.full((6, 8, 3), 30 * i, np.uint8)).save(folder / name)
    Image.fromarray(np.full((6, 8, 3), 99, np.uint8)).save(folder / "still.png")
    video, still = MediaRef("video", frames=tuple(names)), MediaRef("image", path="still.png")
    alone = VideoEncoder().encode(video, folder, "r")
    cache = MediaCache(folder)
    stats, resolves = _count_file_checks(monkeypatch, folder)
    once = Counter(names)
    got = cache.encode(video, "r")
    assert stats == once and resolves == once  # decode
    stats.clear(), resolves.clear()
    cache.encode(video, "r")
    assert stats == once and resolves == once  # a hit: the key's check only (the file may have changed)
    stats.clear(), resolves.clear()
    assert cache.measure(video)["n_frames"] == 4
    assert stats == once and resolves == once
    stats.clear(), resolves.clear()
    cache.encode(still, "r")
    cache.measure(still)
    assert stats == Counter({"still.png": 2}) and resolves == Counter({"still.png": 2})
    monkeypatch.undo()
    assert got.provenance == alone.provenance and np.array_equal(got.frames, alone.frames)


def test_files_checked_answers_only_for_its_root_and_limits(tmp_path: Path) -> None:
    from judgeanything.modalities._files import checked_media_file, files_checked
    from judgeanything.modalities.limits import MediaLimits

    (tmp_path / "a.png").write_bytes(b"xy")
    fake = (tmp_path / "elsewhere.png", (tmp_path / "a.png").stat())
    ref = MediaRef("image", path="a.png")
    with files_checked(tmp_path, MediaLimits(), {"a.png": fake}):
        assert checked_media_file(ref, tmp_path) == fake
        assert checked_media_file(ref, tmp_path / ".")[0] == fake[0]  # the same root, spelt otherwise
        other = tmp_path / "sub"
        other.mkdir()
        with pytest.raises(MediaError, match="file not found"):
            checked_media_file(ref, other)  # another root: checked afresh
        with pytest.raises(MediaError, match="over the media limit"):
            checked_media_file(ref, tmp_path, limits=MediaLimits(max_file_bytes=1))
        elsewhere: list[Any] = []  # another thread (another context): checked afresh
        t = threading.Thread(target=lambda: elsewhere.append(checked_media_file(ref, tmp_path)))
        t.start()
        t.join()
        assert elsewhere[0][0] == (tmp_path / "a.png").resolve()
    assert checked_media_file(ref, tmp_path)[0] == (tmp_path / "a.png").resolve()  # outside the block
