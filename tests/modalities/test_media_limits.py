"""Media limits (``media.limits``): an oversized item — a decompression-bomb PNG, a 12000² PNG, a multi-hour
audio or video, a huge-resolution video, a multi-GB file — fails alone with a ``media_error`` naming the file
and the limit, on every path that opens media (measure, encode, the runner), quickly and without a word on
the console."""

from __future__ import annotations

import json
import struct
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges.openai_compat import OpenAIJudge
from judgeanything.modalities import MediaCache, MediaError
from judgeanything.modalities.limits import OVER_LIMIT, MediaLimits
from judgeanything.modalities.registry import get_encoder, register_encoder, unregister_encoder
from judgeanything.runner import RunConfigError, Runner, RunOptions
from judgeanything.schema import MediaRef, PairItem, Query, Response
from tests.modalities.conftest import ffmpeg
from tests.support.fake_openai import FakeServer, Script


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A valid single-colour 1-bit PNG of ``width × height`` that is tiny on disk (a 30000² one is ~110 KB
    and 2.7 GB once decoded to RGB): the shape of a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row * 256) for _ in range(height // 256)) + z.compress(row * (height % 256))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body + z.flush())
                     + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="session")
def oversized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root of oversized media under the default limits, and a small good image (~2 s to build)."""
    root = tmp_path_factory.mktemp("oversized")
    bomb_png(root / "bomb30k.png", 30000, 30000)
    bomb_png(root / "big12k.png", 12000, 12000)
    sf.write(root / "five_hours.wav", np.zeros(5 * 3600 + 60, np.float32), 1)  # 1 Hz: 5 h in 36 KB
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=16x16:rate=1/60", "-t", str(5 * 3600 + 60), "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(root / "five_hours.mp4"))
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=10240x10240:rate=1", "-t", "1", "-c:v", "mjpeg",
           str(root / "huge_frame.avi"))
    for name in ("giant.png", "giant.wav", "giant.mp4", "giant.txt"):
        with (root / name).open("wb") as f:  # sparse: 3 GiB by its size, nothing on disk
            f.truncate(3 * 1024**3)
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(root / "ok.png")
    return root


#: (modality, file, the limit it exceeds) under the default limits.
OVERSIZED = [
    ("image", "bomb30k.png", "max_pixels"),
    ("image", "big12k.png", "max_pixels"),
    ("audio", "five_hours.wav", "max_audio_seconds"),
    ("video", "five_hours.mp4", "max_video_seconds"),
    ("video", "huge_frame.avi", "max_pixels"),
    ("image", "giant.png", "max_file_bytes"),
    ("audio", "giant.wav", "max_file_bytes"),
    ("video", "giant.mp4", "max_file_bytes"),
    ("text", "giant.txt", "max_file_bytes"),
]


@pytest.mark.parametrize(("modality", "name", "limit"), OVERSIZED)
def test_an_oversized_item_is_a_media_error_naming_file_and_limit_on_every_path(
        oversized: Path, modality: str, name: str, limit: str, capfd: pytest.CaptureFixture[str]) -> None:
    cache = MediaCache(oversized)
    ref = MediaRef(modality, path=name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cache.measure(ref) == {}
        with pytest.raises(MediaError) as err:
            cache.encode(ref)
    assert err.value.path == name
    assert err.value.reason.startswith(OVER_LIMIT) and f"media.limits.{limit}=" in err.value.reason
    assert cache.measure_errors[name] == err.value.reason
    assert [str(w.message) for w in caught] == []  # no DecompressionBombWarning or any other
    out, errs = capfd.readouterr()
    assert (out, errs) == ("", "")
    assert Image.MAX_IMAGE_PIXELS == 89478485  # Pillow's own guard is back on for everyone else


def test_configured_limits_apply_to_every_modality_and_source(media: Path) -> None:
    tight = MediaCache(media, limits=MediaLimits(max_pixels=15_000, max_audio_seconds=1.5, max_video_seconds=2.0))
    cases = {MediaRef("image", path="grad.png"): "image of 200×100 = 20,000 pixels > media.limits.max_pixels=15,000",
             MediaRef("audio", path="tone.wav"): "audio of 2.0 s > media.limits.max_audio_seconds=1.5",
             MediaRef("audio", path="tone.m4a"): "audio of 2.0 s > media.limits.max_audio_seconds=1.5",  # ffmpeg path
             MediaRef("video", path="clip.mp4"): "video of 3.0 s > media.limits.max_video_seconds=2.0",
             MediaRef("video", frames=tuple(f"frames/{i}.png" for i in range(5))):
                 "video of 5.0 s > media.limits.max_video_seconds=2.0",
             }
    for ref, reason in cases.items():
        assert tight.measure(ref) == {}, ref
        with pytest.raises(MediaError, match=OVER_LIMIT) as err:
            tight.encode(ref)
        assert reason in err.value.reason, (ref, err.value.reason)
    small = MediaCache(media, limits=MediaLimits(max_file_bytes=50_000))
    for ref in (MediaRef("image", data=b"\x89PNG" + bytes(60_000)), MediaRef("audio", path="tone.wav")):
        assert small.measure(ref) == {}
        with pytest.raises(MediaError, match=r" bytes > media.limits.max_file_bytes=50,000"):
            small.encode(ref)
    # a video's frames are held to the pixel limit too, and its audio track to the video's duration
    with pytest.raises(MediaError, match=r"video frame of 128×96 = 12,288 pixels > media.limits.max_pixels"):
        MediaCache(media, limits=MediaLimits(max_pixels=10_000)).encode(MediaRef("video", path="clip.mp4"))
    # within the limits, nothing changes
    assert MediaCache(media).encode(MediaRef("image", path="grad.png")).provenance["final_size"] == [200, 100]
    assert MediaCache(media, limits=MediaLimits(max_pixels=None)).measure(MediaRef("image", path="grad.png"))


def test_limits_from_config_are_validated_by_name() -> None:
    assert MediaLimits.from_config({"max_pixels": 5, "max_file_bytes": None}).to_dict() == {
        "max_pixels": 5, "max_file_bytes": None, "max_audio_seconds": 14400.0, "max_video_seconds": 14400.0}
    for bad, msg in [({"max_pixel": 5}, "unknown option.*max_pixel"), ({"max_pixels": -1}, r"max_pixels=-1"),
                     ({"max_audio_seconds": "long"}, "max_audio_seconds='long'"),
                     ({"max_file_bytes": True}, "max_file_bytes=True"),
                     ({"max_video_seconds": float("nan")}, "max_video_seconds=nan")]:
        with pytest.raises(ValueError, match=msg):
            MediaLimits.from_config(bad)
    with pytest.raises(ValueError, match=r"set media.limits"):
        get_encoder("image", limits={"max_pixels": 1})
    with pytest.raises(RunConfigError, match=r"media.limits.max_pixels=0"):
        Runner(BenchmarkData("toy", "pair", []), OpenAIJudge("m"), Path("unused"), RunOptions(progress=False),
               media_options={"limits": {"max_pixels": 0}})


class _Exploding:
    """A plugin encoder whose decoder fails with an exception that is not a MediaError (a hostile file
    reaching an unguarded code path of a third-party decoder)."""

    name = "exploding"

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> object:
        raise IndexError("list index out of range")

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]:
        raise struct.error("unpack requires a buffer of 4 bytes")


def test_a_decoder_failing_in_an_unnamed_way_is_still_that_items_media_error(media: Path) -> None:
    register_encoder("exploding", _Exploding)
    try:
        cache = MediaCache(media)
        ref = MediaRef("exploding", path="grad.png")
        assert cache.measure(ref) == {}
        assert cache.measure_errors["grad.png"] == "decoder failed: error: unpack requires a buffer of 4 bytes"
        with pytest.raises(MediaError, match="decoder failed: IndexError: list index out of range"):
            cache.encode(ref)
    finally:
        unregister_encoder("exploding")


def _image_pairs(names: Sequence[str]) -> BenchmarkData:
    items = []
    for i, name in enumerate(names):
        q = Query(f"q{i}", "Text2Image", f"draw picture {i}")
        a = Response("a", q.uniq_id, "ma", "image", media=(MediaRef("image", path=name),))
        b = Response("b", q.uniq_id, "mb", "image", media=(MediaRef("image", path="ok.png"),))
        items.append(PairItem(f"q{i}", q, a, b))
    return BenchmarkData(name="toy", setting="pair", items=items)


def test_oversized_responses_never_stop_a_run(oversized: Path, tmp_path: Path) -> None:
    """The field report: one 30000² PNG response stopped the whole run before any unit was judged."""
    names = ["ok.png", "bomb30k.png", "big12k.png", "giant.png", "ok.png"]
    data = _image_pairs(names)
    data.data_root = oversized
    reply = '{"overall_comment": "ok", "overall_choice": "2"}'
    with FakeServer(Script(reply=reply)) as srv, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        judge = OpenAIJudge("fake", base_url=srv.base_url, response_format="none", max_attempts=1)
        counts = Runner(data, judge, tmp_path, RunOptions(progress=False, concurrency=2)).run()
    assert [str(w.message) for w in caught if "Decompression" in type(w.message).__name__] == []
    assert counts["judged"] == len(names) and counts["failures"] == 3
    recs = {r["item_id"]: r for r in map(json.loads, (tmp_path / "verdicts.jsonl").read_text().splitlines())}
    limits = {"q1": "max_pixels", "q2": "max_pixels", "q3": "max_file_bytes"}
    for item_id, limit in limits.items():
        (o,) = recs[item_id]["outcomes"]
        assert o["failure"] == "media_error" and f"media.limits.{limit}" in o["detail"], o
        assert names[int(item_id[1:])] in o["detail"]
    assert recs["q0"]["outcomes"][0]["value"] == "second" and recs["q4"]["outcomes"][0]["value"] == "second"
    assert len(srv.script.requests) == 2  # the oversized items never reached the judge
    sizes = {r["item_id"]: r["sizes"] for r in map(json.loads, (tmp_path / "items.jsonl").read_text().splitlines())}
    assert sizes["q1"][0] == {} and sizes["q0"][0]["pixels"] == 64.0
    run = json.loads((tmp_path / "run.json").read_text())
    assert "max_pixels" in run["media_cache"]["measure_errors"]["bomb30k.png"]


def test_raising_a_limit_and_resuming_judges_the_refused_items(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(root / "ok.png")
    Image.fromarray(np.full((40, 50, 3), 90, np.uint8)).save(root / "wide.png")
    data = _image_pairs(["ok.png", "wide.png"])
    data.data_root = root
    reply = '{"overall_comment": "ok", "overall_choice": "2"}'
    with FakeServer(Script(reply=reply)) as srv:
        judge = OpenAIJudge("fake", base_url=srv.base_url, response_format="none", max_attempts=1)
        first = Runner(data, judge, tmp_path / "run", RunOptions(progress=False),
                       media_options={"limits": {"max_pixels": 1000}}).run()
        assert first["failures"] == 1
        judge = OpenAIJudge("fake", base_url=srv.base_url, response_format="none", max_attempts=1)
        retry = RunOptions(progress=False, retry_failures=("api_error", "media_error"))
        again = Runner(data, judge, tmp_path / "run", retry, media_options={"limits": {"max_pixels": 2000}}).run()
    assert (again["retried"], again["judged"], again["failures"], again["skipped"]) == (1, 1, 0, 1)
    last = json.loads((tmp_path / "run" / "verdicts.jsonl").read_text().splitlines()[-1])
    assert last["item_id"] == "q1" and last["outcomes"][0]["value"] == "second" and last["attempt"] == 1
    assert last["media"][0]["original_size"] == [50, 40]
