"""Video encoder: shapes, timestamp sampling (uniform and at fps), rotation, audio track, frames refs."""

from __future__ import annotations

from pathlib import Path

import decord
import numpy as np
import pytest

from judgeanything.modalities import EncodedVideo, MediaError, get_encoder
from judgeanything.modalities.video import VideoEncoder, rotate_frames, sample_times
from judgeanything.schema import MediaRef


def test_uniform_sampling_shape_timestamps_audio(media: Path) -> None:
    enc = VideoEncoder(num_frames=8, max_side=None)
    out = enc.encode(MediaRef("video", path="clip.mp4"), media, role="query")
    assert isinstance(out, EncodedVideo) and out.role == "query"
    assert out.frames.shape == (8, 96, 128, 3) and out.frames.dtype == np.uint8
    p = out.provenance
    # segment centres of a 3.0 s clip at 10 fps → the frames displayed at 0.1875 s, 0.5625 s, …
    assert p["frame_indices"] == [1, 5, 9, 13, 16, 20, 24, 28]
    assert out.timestamps == pytest.approx([0.1, 0.5, 0.9, 1.3, 1.6, 2.0, 2.4, 2.8], abs=1e-6)
    assert out.fps == pytest.approx(8 / 3.0)
    assert p["sampling"] == "uniform" and p["n_frames_total"] == 30 and p["avg_fps"] == 10.0
    assert p["duration_s"] == pytest.approx(3.0)
    assert p["path"] == str((media / "clip.mp4").resolve()) and p["source"] == "clip.mp4"
    # frames are the real frames at those indices
    vr = decord.VideoReader(str(media / "clip.mp4"))
    assert np.array_equal(out.frames, vr.get_batch(p["frame_indices"]).asnumpy())
    # the audio track: mono 16 kHz, 3 s
    assert out.audio is not None and out.audio.sample_rate == 16000
    assert abs(len(out.audio.samples) - 48000) <= 16 and p["has_audio"] is True
    assert out.audio.provenance["track_of"] == "video"


def test_audio_track_reuses_the_video_header(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The video's ffmpeg header is handed to the audio decoder: one ``ffmpeg -i`` per encode, not two."""
    from judgeanything.modalities import _probe, audio, video

    calls: list[Path] = []

    def counted(path: Path, timeout_s: float = 30.0) -> _probe.Probe:
        calls.append(path)
        return _probe.probe(path, timeout_s)

    monkeypatch.setattr(video, "probe", counted)
    monkeypatch.setattr(audio, "probe", counted)
    out = VideoEncoder(num_frames=2).encode(MediaRef("video", path="clip.mp4"), media)
    assert out.audio is not None and out.audio.provenance["backend"] == "ffmpeg"
    assert len(calls) == 1


def test_fps_sampling_on_long_clip(long_clip: Path) -> None:
    enc = VideoEncoder(fps=2.0, max_side=None)
    out = enc.encode(MediaRef("video", path=long_clip.name), long_clip.parent)
    assert out.frames.shape == (20, 120, 160, 3)
    assert out.fps == 2.0 and out.provenance["sampling"] == "fps"
    assert out.provenance["target_times"] == pytest.approx([i * 0.5 for i in range(20)])
    # the frame displayed at each target: at 25 fps, 0.5 s falls between frames 12 (0.48 s) and 13 (0.52 s)
    indices = [i * 25 // 2 for i in range(20)]
    assert out.provenance["frame_indices"] == indices
    assert out.timestamps == pytest.approx([i / 25 for i in indices], abs=1e-6)


def test_fps_sampling_falls_back_to_uniform_beyond_max_frames(long_clip: Path) -> None:
    out = VideoEncoder(fps=10.0, max_frames=16, max_side=None).encode(
        MediaRef("video", path=long_clip.name), long_clip.parent)
    assert out.frames.shape[0] == 16 and out.provenance["fps_capped"] is True
    assert out.provenance["sampling"] == "uniform" and out.fps == pytest.approx(1.6)


def test_short_video_gives_all_its_frames(media: Path) -> None:
    out = VideoEncoder(num_frames=64, max_side=None).encode(MediaRef("video", path="clip.mp4"), media)
    assert out.frames.shape[0] == 30 and out.provenance["all_frames"] is True
    assert out.fps == pytest.approx(10.0)


def test_sample_times_uses_real_timestamps_for_vfr() -> None:
    starts = np.array([0.0, 0.2, 0.4, 0.6, 0.8] + [1.0 + 0.04 * i for i in range(25)])
    idx, targets, fps, info = sample_times(starts, 2.0, fps=2.0)
    assert list(targets) == [0.0, 0.5, 1.0, 1.5] and info["sampling"] == "fps"
    assert [float(starts[i]) for i in idx] == pytest.approx([0.0, 0.4, 1.0, 1.48])
    assert fps == 2.0
    with pytest.raises(ValueError):
        sample_times(np.array([]), 1.0, num_frames=4)


def test_max_side_resizes_all_frames(media: Path) -> None:
    out = VideoEncoder(num_frames=4, max_side=64).encode(MediaRef("video", path="clip.mp4"), media)
    assert out.frames.shape == (4, 48, 64, 3)
    assert out.provenance["size"] == [128, 96] and out.provenance["final_size"] == [64, 48]


def test_no_audio_stream_gives_none_or_error_when_required(media: Path) -> None:
    out = VideoEncoder().encode(MediaRef("video", path="noaudio.mp4"), media)
    assert out.audio is None and out.provenance["has_audio"] is False
    with pytest.raises(MediaError) as ei:
        VideoEncoder(require_audio=True).encode(MediaRef("video", path="noaudio.mp4"), media)
    assert ei.value.reason.startswith("no audio stream") and ei.value.path == "noaudio.mp4"


def test_include_audio_false(media: Path) -> None:
    out = VideoEncoder(include_audio=False).encode(MediaRef("video", path="clip.mp4"), media)
    assert out.audio is None and out.provenance["has_audio"] is True
    assert out.provenance["audio_included"] is False


@pytest.mark.parametrize("angle", [180, 270])
def test_display_rotation_matches_ffmpeg_autorotate(media: Path, angle: int) -> None:
    enc = VideoEncoder(num_frames=1, max_side=None)
    out = enc.encode(MediaRef("video", path=f"bar_rot{angle}.mp4"), media)
    frame = out.frames[0].astype(int)
    stored = decord.VideoReader(str(media / "bar.mp4"))[0].asnumpy().astype(int)  # red bar on the left
    expected = np.rot90(stored, angle // 90)
    assert frame.shape == expected.shape
    assert np.abs(frame - expected).mean() < 3
    assert out.provenance["rotation_ccw"] == angle
    assert out.provenance["rotation_applied_by"] in ("decord", "judgeanything")
    if angle == 180:  # the bar ends up on the right edge
        assert frame[:, -4:, 0].mean() > 200 and frame[:, :8, 0].mean() < 40


def test_rotate_frames_is_counter_clockwise() -> None:
    f = np.zeros((1, 2, 3, 3), np.uint8)
    f[0, 0, 2] = 255  # top-right pixel
    r = rotate_frames(f, 90)
    assert r.shape == (1, 3, 2, 3) and r[0, 0, 0, 0] == 255  # → top-left after a quarter turn ccw
    assert rotate_frames(f, 0) is f
    assert np.array_equal(rotate_frames(rotate_frames(f, 90), 270), f)


def test_frames_ref_becomes_video_at_assumed_fps(media: Path) -> None:
    ref = MediaRef("video", frames=tuple(f"frames/{i}.png" for i in range(5)))
    out = VideoEncoder(frames_fps=2.0).encode(ref, media)
    assert out.frames.shape == (5, 24, 32, 3)
    assert [int(f[0, 0, 0]) for f in out.frames] == [0, 50, 100, 150, 200]
    assert out.fps == 2.0 and out.timestamps == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert out.provenance["fps_assumed"] is True and out.audio is None
    m = VideoEncoder(frames_fps=2.0).measure(ref, media)
    assert m == {"duration_s": 2.5, "width": 32.0, "height": 24.0, "n_frames": 5.0, "fps": 2.0}
    with pytest.raises(MediaError, match="file not found"):
        VideoEncoder().encode(MediaRef("video", frames=("frames/0.png", "frames/9.png")), media)


def test_a_frame_list_longer_than_max_frames_is_sampled_not_all_decoded(tmp_path: Path) -> None:
    """A list of 2,000 small frames (within the duration limit at the assumed rate) would be decoded whole
    into T × H × W × 3 bytes; beyond ``max_frames`` it is sampled uniformly in time like a video file, and a
    missing frame anywhere in the list is still an error."""
    from PIL import Image

    (tmp_path / "f").mkdir()
    Image.new("RGB", (16, 12), (10, 20, 30)).save(tmp_path / "f" / "x.png")
    ref = MediaRef("video", frames=tuple("f/x.png" for _ in range(2000)))
    out = VideoEncoder(max_frames=10, frames_fps=4.0).encode(ref, tmp_path)
    assert out.frames.shape == (10, 12, 16, 3)
    idx = out.provenance["frame_indices"]
    assert idx == sorted(idx) and idx[0] == 100 and idx[-1] == 1900 and len(set(idx)) == 10
    assert out.timestamps == [i / 4.0 for i in idx] and out.fps == pytest.approx(4.0 * 10 / 2000)
    assert out.provenance["n_frames_total"] == 2000 and out.provenance["duration_s"] == 500.0
    with pytest.raises(MediaError, match="file not found"):
        VideoEncoder(max_frames=10).encode(MediaRef("video", frames=(*ref.frames[:-1], "f/gone.png")), tmp_path)


def test_bytes_source(media: Path) -> None:
    out = VideoEncoder(num_frames=2).encode(MediaRef("video", data=(media / "clip.mp4").read_bytes()), None)
    assert out.frames.shape[0] == 2 and out.provenance["source"] == "<video bytes>"
    assert "path" not in out.provenance  # the temporary file is gone: nothing to send as a video_url


def test_measure(media: Path, long_clip: Path) -> None:
    enc = get_encoder("video")
    assert enc.measure(MediaRef("video", path="clip.mp4"), media) == {
        "duration_s": 3.0, "n_frames": 30.0, "fps": 10.0, "width": 128.0, "height": 96.0}
    m = enc.measure(MediaRef("video", path=long_clip.name), long_clip.parent)
    assert m["n_frames"] == 250.0 and m["duration_s"] == pytest.approx(10.0)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_frames": 0}, "num_frames"), ({"fps": 0}, "fps"), ({"max_side": 0}, "max_side"),
    ({"frames_fps": 0}, "frames_fps")])
def test_bad_options(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        VideoEncoder(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("angle", [90, 180])
def test_rotation_applied_by_us_when_decord_did_not(media: Path, angle: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A decord build that ignores display rotation: simulated by a header that declares a rotation on a
    file decord decodes as stored. Quarter turns are detected from the decoded size, half turns by
    comparing one frame with ffmpeg's un-rotated decode."""
    import judgeanything.modalities.video as video_mod

    real = video_mod.probe

    def fake_probe(path: Path) -> video_mod.Probe:
        p = real(path)
        p.rotation_ccw = angle
        return p

    monkeypatch.setattr(video_mod, "probe", fake_probe)
    out = VideoEncoder(num_frames=1, max_side=None).encode(MediaRef("video", path="bar.mp4"), media)
    stored = decord.VideoReader(str(media / "bar.mp4"))[0].asnumpy()
    assert out.provenance["rotation_applied_by"] == "judgeanything"
    assert np.array_equal(out.frames[0], np.rot90(stored, angle // 90))
