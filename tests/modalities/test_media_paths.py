"""The data-root path policy and the broken-input reasons every encoder shares."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from judgeanything.modalities import MediaError, get_encoder, resolve_media_path
from judgeanything.schema import MediaRef


def test_relative_path_resolves_inside_root(media: Path) -> None:
    assert resolve_media_path(media, "grad.png") == (media / "grad.png").resolve()
    assert resolve_media_path(media, "sub/../grad.png") == (media / "grad.png").resolve()
    assert resolve_media_path(str(media), Path("grad.png")) == (media / "grad.png").resolve()


@pytest.mark.parametrize("rel", ["../x.png", "sub/../../x.png", "../" * 12 + "etc/passwd"])
def test_dotdot_escape_is_refused(media: Path, rel: str) -> None:
    with pytest.raises(MediaError) as ei:
        resolve_media_path(media, rel)
    assert ei.value.reason.startswith("path escapes the data root")
    assert ei.value.path == rel


def test_absolute_path_is_refused(media: Path) -> None:
    with pytest.raises(MediaError, match="path escapes the data root: absolute"):
        resolve_media_path(media, str(media / "grad.png"))


@pytest.mark.parametrize("rel", ["", "a\x00b.png"])
def test_empty_or_nul_path_is_refused(media: Path, rel: str) -> None:
    with pytest.raises(MediaError, match="path escapes the data root"):
        resolve_media_path(media, rel)


def test_symlink_out_of_root_is_refused_inside_is_followed(media: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes((media / "grad.png").read_bytes())
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside.png").write_bytes((media / "grad.png").read_bytes())
    os.symlink(outside, root / "link_out.png")
    os.symlink(root / "inside.png", root / "link_in.png")
    os.symlink(tmp_path, root / "dirlink")
    with pytest.raises(MediaError, match="path escapes the data root"):
        resolve_media_path(root, "link_out.png")
    with pytest.raises(MediaError, match="path escapes the data root"):
        resolve_media_path(root, "dirlink/secret.png")
    assert resolve_media_path(root, "link_in.png") == (root / "inside.png").resolve()
    enc = get_encoder("image")
    with pytest.raises(MediaError, match="path escapes the data root"):
        enc.encode(MediaRef("image", path="link_out.png"), root)
    assert enc.encode(MediaRef("image", path="link_in.png"), root).image.size == (200, 100)


def test_root_none_means_cwd(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(media)
    assert resolve_media_path(None, "grad.png") == (media / "grad.png").resolve()
    with pytest.raises(MediaError, match="path escapes the data root"):
        resolve_media_path(None, "../grad.png")
    assert get_encoder("image").encode(MediaRef("image", path="grad.png"), None).image.size == (200, 100)


# Every broken input → one MediaError naming the file, with a reason that tells the faults apart.
BROKEN = [
    ("image", "missing.png", "file not found"),
    ("image", "empty.png", "empty file (0 bytes)"),
    ("image", "garbage.png", "not a decodable image file"),
    ("image", "text.png", "not a decodable image file"),
    ("image", "trunc.jpg", "truncated"),
    ("image", "sub", "not a regular file"),
    ("audio", "missing.wav", "file not found"),
    ("audio", "empty.wav", "empty file (0 bytes)"),
    ("audio", "garbage.wav", "not a decodable audio file"),
    ("audio", "text.mp3", "not a decodable audio file"),
    ("audio", "trunc.wav", "truncated"),
    ("audio", "trunc.mp3", "truncated"),
    ("audio", "trunc.flac", "truncated"),
    ("audio", "trunc_nomoov.mp4", "truncated"),
    ("audio", "noaudio.mp4", "no audio stream"),
    ("video", "missing.mp4", "file not found"),
    ("video", "empty.mp4", "empty file (0 bytes)"),
    ("video", "garbage.mp4", "not a decodable video file"),
    ("video", "text.mp4", "not a decodable video file"),
    ("video", "tone.wav", "not a decodable video file"),
    ("video", "trunc_nomoov.mp4", "truncated"),
    ("video", "trunc_faststart.mp4", "truncated"),
    ("video", "trunc.mkv", "truncated"),
    ("text", "missing.txt", "file not found"),
    ("text", "empty.wav", "empty file (0 bytes)"),
    ("text", "garbage.png", "not a decodable text file"),
]


@pytest.mark.parametrize(("modality", "rel", "reason"), BROKEN, ids=[f"{m}-{r}" for m, r, _ in BROKEN])
def test_broken_input_gives_one_distinguishing_media_error(media: Path, modality: str, rel: str,
                                                           reason: str) -> None:
    enc = get_encoder(modality)
    with pytest.raises(MediaError) as ei:
        enc.encode(MediaRef(modality, path=rel), media)
    err = ei.value
    assert err.path == rel
    assert err.reason.startswith(reason), err.reason
    assert rel in str(err)
    # The other reasons must not match: the message tells this fault apart from the rest.
    others = {r for _, _, r in BROKEN} - {reason}
    assert not any(err.reason.startswith(o) for o in others if not reason.startswith(o))


def test_url_source_is_refused_not_fetched(media: Path) -> None:
    with pytest.raises(MediaError, match="unsupported source: URLs are not fetched"):
        get_encoder("image").encode(MediaRef("image", url="https://example.com/a.png"), media)
