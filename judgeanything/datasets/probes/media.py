"""Writing probe media to disk, byte-for-byte reproducibly.

* PNG through PIL (no text chunks, no timestamps; fixed zlib level).
* wav / flac (16-bit PCM) and mp3 through soundfile (libsndfile; LAME for mp3), which write no dates.
* mp4 (H.264 + optional AAC track) through the ffmpeg binary bundled with ``imageio-ffmpeg``, fed raw RGB
  frames on stdin, single-threaded and with every ``bitexact`` flag and metadata stripped, so the same
  frames give the same bytes on every run (checked in ``tests/probes``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

#: Fixed H.264 / AAC encoder settings (changing any of them changes every file: bump PROBES_VERSION).
X264_ARGS: tuple[str, ...] = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
                             "-g", "1", "-bf", "0")
AAC_ARGS: tuple[str, ...] = ("-c:a", "aac", "-b:a", "48k", "-ac", "1")
BITEXACT_ARGS: tuple[str, ...] = ("-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
                                  "-flags:a", "+bitexact", "-map_metadata", "-1")

_AUDIO_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".mp3": ("MP3", "MPEG_LAYER_III")}


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped in the ``imageio-ffmpeg`` wheel (no system ffmpeg needed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write ``rgb`` ``(H, W, 3) uint8`` as an 8-bit RGB PNG.

    Raises:
        ValueError: ``rgb`` is not ``(H, W, 3) uint8``.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"{path}: image must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    Image.fromarray(rgb).save(path, format="PNG", compress_level=6)


def write_audio(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write mono ``samples`` ``(N,)`` float in [-1, 1] at ``sample_rate`` Hz; the format follows the suffix
    (``.wav`` / ``.flac``: 16-bit PCM, ``.mp3``: MPEG layer III).

    Raises:
        ValueError: unknown suffix, non-mono input, or samples outside [-1, 1].
    """
    fmt = _AUDIO_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unsupported audio suffix (use one of {', '.join(_AUDIO_FORMATS)})")
    if samples.ndim != 1:
        raise ValueError(f"{path}: audio must be mono (N,), got shape {samples.shape}")
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > 1.0:
        raise ValueError(f"{path}: audio peak {peak:.3f} is outside [-1, 1]")
    sf.write(str(path), samples.astype(np.float64), int(sample_rate), format=fmt[0], subtype=fmt[1])


def write_mp4(path: Path, frames: np.ndarray, fps: float, audio: np.ndarray | None = None,
              sample_rate: int = 16000) -> None:
    """Encode ``frames`` ``(T, H, W, 3) uint8`` (H and W even) at ``fps`` frames/s as H.264 in an mp4, with
    ``audio`` ``(N,)`` float in [-1, 1] at ``sample_rate`` Hz as a mono AAC track when given.

    Raises:
        ValueError: bad frame array.
        RuntimeError: ffmpeg failed (its stderr is included).
    """
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"{path}: frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"{path}: H.264 4:2:0 needs even frame sizes, got {w}x{h}")
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "pipe:0"]
    wav = path.with_name(path.name + ".track.wav")
    if audio is not None:
        write_audio(wav, audio, sample_rate)
        cmd += ["-i", str(wav), "-map", "0:v", "-map", "1:a", *AAC_ARGS, "-ar", str(sample_rate)]
    cmd += [*X264_ARGS, *BITEXACT_ARGS, "-movflags", "+faststart", str(path)]
    try:
        proc = subprocess.run(cmd, input=np.ascontiguousarray(frames).tobytes(), capture_output=True,
                              check=False)
    finally:
        wav.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{path}: ffmpeg exited with {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace').strip()[-800:]}")

