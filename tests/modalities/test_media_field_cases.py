"""The seven media faults found in the field (tests/modalities/cases/media_cases.json), each asserting the
behaviour its ``expect`` text describes. The files are copies of ``../shared/cases/media``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from judgeanything.judges.capabilities import UnsupportedModality, adapt_parts
from judgeanything.modalities import MediaCache, MediaError, get_encoder
from judgeanything.schema import MediaRef

CASES = Path(__file__).resolve().parent / "cases"


def case(name: str) -> dict[str, str]:
    rows = json.loads((CASES / "media_cases.json").read_text())
    return next(r for r in rows if r["file"] == name)


def test_every_case_file_is_covered() -> None:
    rows = json.loads((CASES / "media_cases.json").read_text())
    assert {r["file"] for r in rows} == {
        "exif_orientation6.jpg", "rgba_transparent.png", "cmyk_red.jpg", "stereo_48k_440hz_1s.wav",
        "rotated90.mp4", "vfr_5then25fps.mp4", "video_no_audio.mp4"}
    for r in rows:
        assert (CASES / r["file"]).is_file()


def test_copies_match_shared(shared_dir: Path) -> None:
    for f in (shared_dir / "cases" / "media").iterdir():
        assert (CASES / f.name).read_bytes() == f.read_bytes(), f.name


def test_exif_orientation() -> None:
    assert "32 wide x 64 high" in case("exif_orientation6.jpg")["expect"]
    out = get_encoder("image").encode(MediaRef("image", path="exif_orientation6.jpg"), CASES)
    assert out.image.size == (32, 64)  # portrait, as displayed
    arr = np.asarray(out.image).astype(int)
    top, bottom = arr[:4], arr[-8:]
    # the red bar is along the top edge: red there, white elsewhere
    assert top[..., 0].mean() > 200 and top[..., 1].mean() < 60 and top[..., 2].mean() < 60
    assert bottom[..., 1].mean() > 200
    assert out.provenance["exif_orientation"] == 6 and out.provenance["exif_rotated"] is True


def test_rgba_on_white() -> None:
    assert "(255,255,255)" in case("rgba_transparent.png")["expect"]
    out = get_encoder("image").encode(MediaRef("image", path="rgba_transparent.png"), CASES)
    arr = np.asarray(out.image)
    assert tuple(int(v) for v in arr[2, 2]) == (255, 255, 255)
    assert arr[16:32, 16:32].max() == 0  # the opaque black square stays black and visible
    assert out.provenance["alpha_composited_on"] == "white"


def test_cmyk_is_red_rgb() -> None:
    out = get_encoder("image").encode(MediaRef("image", path="cmyk_red.jpg"), CASES)
    r, g, b = (np.asarray(out.image).reshape(-1, 3).mean(axis=0))
    assert out.image.mode == "RGB" and out.provenance["mode"] == "CMYK"
    assert r > 200 and g < 60 and b < 60


def test_stereo_48k_to_mono_16k() -> None:
    assert "16000 samples" in case("stereo_48k_440hz_1s.wav")["expect"]
    out = get_encoder("audio").encode(MediaRef("audio", path="stereo_48k_440hz_1s.wav"), CASES)
    assert out.samples.shape == (16000,) and out.sample_rate == 16000 and out.duration_s == 1.0
    spec = np.abs(np.fft.rfft(out.samples))
    assert abs(float(np.fft.rfftfreq(16000, 1 / 16000)[spec.argmax()]) - 440) <= 1
    assert out.provenance["channels"] == 2 and out.provenance["original_sample_rate"] == 48000


def test_rotated_video_as_displayed() -> None:
    assert "32 wide x 64 high" in case("rotated90.mp4")["expect"]
    out = get_encoder("video").encode(MediaRef("video", path="rotated90.mp4"), CASES)
    assert out.frames.shape[1:] == (64, 32, 3)  # (H, W): 32 wide x 64 high
    assert out.provenance["rotation_ccw"] == 90
    assert out.provenance["rotation_applied_by"] in ("decord", "judgeanything")
    # identical to ffmpeg's own autorotated decode of frame 0
    cp = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(CASES / "rotated90.mp4"),
                         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                        capture_output=True, check=True, timeout=60)
    ref = np.frombuffer(cp.stdout, np.uint8).reshape(64, 32, 3).astype(int)
    first = get_encoder("video", num_frames=20).encode(MediaRef("video", path="rotated90.mp4"), CASES)
    assert first.provenance["frame_indices"][0] == 0
    assert np.abs(first.frames[0].astype(int) - ref).mean() < 2


def test_vfr_sampling_by_timestamps() -> None:
    assert "0, 0.5, 1.0, 1.5" in case("vfr_5then25fps.mp4")["expect"]
    out = get_encoder("video", fps=2.0).encode(MediaRef("video", path="vfr_5then25fps.mp4"), CASES)
    assert out.frames.shape[0] == 4 and out.fps == 2.0
    # near each target: within one frame of the 5 fps part (0.2 s), and listed in provenance
    assert np.allclose(out.timestamps, [0.0, 0.5, 1.0, 1.5], atol=0.1 + 1e-6)
    assert out.provenance["timestamps"] == out.timestamps
    # what average-fps indexing would have picked for 0.5 s: round(0.5 × 13.16) = frame 7, at 1.08 s
    assert out.timestamps[1] < 0.6


def test_video_without_audio_never_crashes() -> None:
    out = get_encoder("video").encode(MediaRef("video", path="video_no_audio.mp4"), CASES)
    assert out.frames.shape[0] == 8 and out.audio is None and out.provenance["has_audio"] is False
    # As AudioVideo2Text input: a media_error naming the file and "no audio stream" …
    with pytest.raises(MediaError) as ei:
        get_encoder("video", require_audio=True).encode(MediaRef("video", path="video_no_audio.mp4"), CASES)
    assert "video_no_audio.mp4" in str(ei.value) and "no audio stream" in str(ei.value)
    with pytest.raises(MediaError, match="no audio stream"):
        get_encoder("audio").encode(MediaRef("audio", path="video_no_audio.mp4"), CASES)
    # … and through the cache a judge without video gets a recorded, visible downgrade.
    cache = MediaCache(CASES)
    video = cache.encode(MediaRef("video", path="video_no_audio.mp4"), "query")
    parts, records = adapt_parts([video], frozenset({"text", "image"}), {"video": "frames"}, judge="vl")
    assert records[0]["from"] == "video" and records[0]["to"] == "image" and len(records) == 1
    assert sum(1 for p in parts if getattr(p, "modality", "") == "image") == 8
    with pytest.raises(UnsupportedModality):
        adapt_parts([video], frozenset({"text"}), {"video": "frames"}, judge="text-only")
