"""Media made at test time: PIL images, soundfile audio, and mp4s from imageio-ffmpeg's ffmpeg (lavfi
``testsrc`` + ``sine``), plus the broken inputs pipelines meet in the field."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

CASES = Path(__file__).resolve().parent / "cases"


def ffmpeg(*args: str) -> None:
    """Run the imageio-ffmpeg binary quietly; fail the test setup loudly."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-y", *args]
    cp = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    if cp.returncode != 0:
        raise RuntimeError(f"ffmpeg {' '.join(args)} failed: {cp.stderr.decode(errors='replace')}")


def tone(freq: float, seconds: float, sr: int, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    """A sine ``(N,)`` or ``(N, channels)`` float32; channel c has frequency ``freq * (c + 1)``."""
    t = np.arange(round(seconds * sr)) / sr
    cols = [amp * np.sin(2 * np.pi * freq * (c + 1) * t) for c in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32) if channels > 1 else cols[0].astype(np.float32)


def cut(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with good and broken media (names below); built once per session (~1 s)."""
    root = tmp_path_factory.mktemp("media")
    # Images: a gradient PNG 200x100, a JPEG, a palette PNG with a transparent index, a 16-bit PNG.
    grad = np.zeros((100, 200, 3), np.uint8)
    grad[..., 0] = np.linspace(0, 255, 200, dtype=np.uint8)[None, :]
    grad[..., 2] = 128
    Image.fromarray(grad).save(root / "grad.png")
    Image.fromarray(grad).save(root / "grad.jpg", quality=95)
    pal = Image.new("P", (20, 10), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    pal.paste(1, (10, 0, 20, 10))
    pal.save(root / "palette_transparent.png", transparency=0)
    Image.fromarray(np.arange(40 * 30, dtype=np.uint16).reshape(30, 40) * 50).save(root / "deep16.png")
    # Audio: 2 s 440 Hz at 16 kHz (wav, mp3, flac), stereo 44.1 kHz wav, AAC in m4a.
    sf.write(root / "tone.wav", tone(440, 2.0, 16000), 16000)
    sf.write(root / "tone.flac", tone(440, 2.0, 16000), 16000)
    sf.write(root / "tone.mp3", tone(440, 2.0, 16000), 16000, format="MP3")
    sf.write(root / "stereo44k.wav", tone(440, 1.5, 44100, channels=2), 44100)
    sf.write(root / "long.wav", tone(440, 4.0, 8000), 8000)
    ffmpeg("-i", str(root / "tone.wav"), "-c:a", "aac", "-b:a", "64k", str(root / "tone.m4a"))
    # Video: 3 s 128x96 at 10 fps with a 440 Hz AAC track; the same without audio; 10 s for fps sampling.
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=128x96:rate=10", "-f", "lavfi", "-i",
           "sine=frequency=440:sample_rate=16000", "-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "64k", str(root / "clip.mp4"))
    ffmpeg("-i", str(root / "clip.mp4"), "-c", "copy", "-movflags", "+faststart",
           str(root / "clip_faststart.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=128x96:rate=10", "-t", "3", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(root / "noaudio.mp4"))
    ffmpeg("-i", str(root / "clip.mp4"), "-c", "copy", str(root / "clip.mkv"))
    # Display rotation 180 and 270 (ccw) on a 64x32 clip with a red bar on its left edge.
    ffmpeg("-f", "lavfi", "-i", "color=c=black:size=64x32:rate=10,drawbox=x=0:y=0:w=8:h=32:color=red:t=fill",
           "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv444p", str(root / "bar.mp4"))
    for angle in (180, 270):
        ffmpeg("-display_rotation", str(angle), "-i", str(root / "bar.mp4"), "-c", "copy",
               str(root / f"bar_rot{angle}.mp4"))
    # Frames of a "video given as images".
    (root / "frames").mkdir()
    for i in range(5):
        Image.fromarray(np.full((24, 32, 3), i * 50, np.uint8)).save(root / "frames" / f"{i}.png")
    # Broken inputs.
    (root / "empty.png").write_bytes(b"")
    (root / "empty.wav").write_bytes(b"")
    (root / "empty.mp4").write_bytes(b"")
    rng = np.random.default_rng(0)
    for name in ("garbage.png", "garbage.wav", "garbage.mp4"):
        (root / name).write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (root / "text.mp3").write_text("not audio\n")
    (root / "text.png").write_text("not an image\n")
    (root / "text.mp4").write_text("not a video\n")
    cut(root / "grad.jpg", root / "trunc.jpg", 0.6)
    cut(root / "tone.wav", root / "trunc.wav")
    cut(root / "tone.mp3", root / "trunc.mp3")
    cut(root / "tone.flac", root / "trunc.flac")
    cut(root / "clip.mp4", root / "trunc_nomoov.mp4")          # moov at the end: the index is lost
    cut(root / "clip_faststart.mp4", root / "trunc_faststart.mp4")  # index kept, data cut
    cut(root / "clip.mkv", root / "trunc.mkv")
    (root / "sub").mkdir()
    (root / "tone.wav.txt").write_text("a steady four hundred forty hertz tone\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 s 160x120 clip at 25 fps (250 frames) with audio, for fps sampling and the benchmark."""
    root = tmp_path_factory.mktemp("long")
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i",
           "sine=frequency=330:sample_rate=16000", "-t", "10", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           "-c:a", "aac", str(root / "ten.mp4"))
    return root / "ten.mp4"
