"""Small real media files for end-to-end tests (PIL, soundfile, imageio-ffmpeg's ffmpeg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile as sf
from PIL import Image


def ffmpeg(*args: str) -> None:
    cp = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-y", *args],
                        capture_output=True)
    if cp.returncode:
        raise RuntimeError(f"ffmpeg {' '.join(args)}: {cp.stderr.decode(errors='replace')}")


def png(path: Path, colour=(200, 30, 30), size=(32, 24)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def wav(path: Path, freq: float = 440.0, seconds: float = 1.0, sr: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)
    return path


def mp4(path: Path, seconds: float = 2.0, audio: bool = True) -> Path:
    """H.264 (+ AAC when ``audio``) test clip, 64x48 at 8 fps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["-f", "lavfi", "-i", f"testsrc=size=64x48:rate=8:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={seconds}"]
    args += ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    ffmpeg(*args, str(path))
    return path
