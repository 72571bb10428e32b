"""The package's one file hash (modalities._files.sha256_file): the right digest, hashed once per file identity,
hashed again when the file is replaced."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from judgeanything.modalities import _files
from judgeanything.modalities._files import sha256_file


def test_the_digest_is_sha256_of_the_bytes_across_read_blocks(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) + 12345)  # more than one 1 MiB block
    p = tmp_path / "a.bin"
    p.write_bytes(data)
    assert sha256_file(p) == hashlib.sha256(data).hexdigest()


def test_a_file_is_read_once_until_it_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "frame.png"
    p.write_bytes(b"one")
    reads: list[Path] = []
    real_open = Path.open

    def counting_open(self: Path, *a: object, **k: object) -> object:
        if a[:1] == ("rb",):
            reads.append(self)
        return real_open(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", counting_open)
    first = sha256_file(p)
    assert sha256_file(p) == first and len(reads) == 1
    tmp = tmp_path / "frame.png.tmp"
    tmp.write_bytes(b"two")  # same size, new content, renamed over the old file (a new inode)
    st = p.stat()
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, p)
    assert sha256_file(p) == hashlib.sha256(b"two").hexdigest() and len(reads) == 2


def test_the_memo_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_files, "_HASH_CACHE", {})
    monkeypatch.setattr(_files, "_HASH_CACHE_MAX", 3)
    for i in range(5):
        (tmp_path / f"{i}").write_bytes(b"x" * i)
        sha256_file(tmp_path / f"{i}")
    assert [Path(k[0]).name for k in _files._HASH_CACHE] == ["2", "3", "4"]
