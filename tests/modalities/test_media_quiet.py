"""No decoder message reaches the console: broken and odd media (truncated mp4/mkv/mp3/flac/jpg, garbage,
text under a media name) are measured and encoded with nothing printed — not a Python warning, and not what
the C decoders write to the terminal themselves (libav's ``partial file`` / ``Read error``, mpg123's ``Warning:
Xing stream size…``). The outcome is the item's media_error, or its encoding."""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import pytest

from judgeanything.modalities import MediaCache, MediaError
from judgeanything.modalities._files import quiet_native_stderr
from judgeanything.schema import MediaRef

ODD_MEDIA = [("video", "garbage.mp4"), ("video", "trunc_nomoov.mp4"), ("video", "trunc_faststart.mp4"),
             ("video", "trunc.mkv"), ("video", "text.mp4"), ("audio", "trunc.mp3"), ("audio", "text.mp3"),
             ("audio", "garbage.wav"), ("audio", "trunc.flac"), ("audio", "trunc.wav"), ("audio", "tone.m4a"),
             ("image", "trunc.jpg"), ("image", "garbage.png"), ("image", "text.png"), ("video", "clip.mp4"),
             ("audio", "tone.mp3")]


@pytest.mark.parametrize(("modality", "name"), ODD_MEDIA)
def test_decoding_odd_media_prints_nothing(media: Path, modality: str, name: str,
                                           capfd: pytest.CaptureFixture[str]) -> None:
    cache = MediaCache(media)
    ref = MediaRef(modality, path=name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache.measure(ref)
        try:
            cache.encode(ref)
        except MediaError as e:
            assert e.path == name and e.reason
    assert [str(w.message) for w in caught] == []
    assert capfd.readouterr() == ("", "")


def test_the_native_stderr_redirection_nests_and_is_restored_across_threads(
        capfd: pytest.CaptureFixture[str]) -> None:
    start = threading.Barrier(4)

    def decode_like() -> None:
        start.wait()
        for _ in range(20):
            with quiet_native_stderr():
                os.write(2, b"libfoo: noise\n")
                with quiet_native_stderr():
                    os.write(2, b"nested noise\n")

    threads = [threading.Thread(target=decode_like) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.write(2, b"after\n")  # descriptor 2 is the console again
    assert capfd.readouterr().err == "after\n"
