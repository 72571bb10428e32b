"""Text encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgeanything.modalities import EncodedText, MediaError, get_encoder
from judgeanything.schema import MediaRef


def test_inline_and_file_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\ufeffhello judge world", encoding="utf-8")
    enc = get_encoder("text")
    out = enc.encode(MediaRef("text", text="two words"), None, role="response 1")
    assert isinstance(out, EncodedText) and out.text == "two words" and out.role == "response 1"
    f = enc.encode(MediaRef("text", path="a.txt"), tmp_path)
    assert f.text == "hello judge world" and f.provenance["source"] == "a.txt"  # BOM dropped
    assert enc.measure(MediaRef("text", path="a.txt"), tmp_path) == {"chars": 17.0, "words": 3.0}
    assert enc.measure(MediaRef("text", text="  a b  c "), None) == {"chars": 9.0, "words": 3.0}


def test_max_chars_is_recorded(tmp_path: Path) -> None:
    out = get_encoder("text", max_chars=4).encode(MediaRef("text", text="abcdefgh"), None)
    assert out.text == "abcd" and out.provenance["truncated_to_chars"] == 4 and out.provenance["chars"] == 8


def test_non_utf8_file(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(MediaError, match="not a decodable text file"):
        get_encoder("text").encode(MediaRef("text", path="latin1.txt"), tmp_path)
