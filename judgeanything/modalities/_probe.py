"""Container header facts that decord does not expose: display rotation, coded size, audio presence,
container duration, and the demuxer's own complaints (a missing ``moov`` atom, read errors).

We run the ffmpeg binary shipped by ``imageio-ffmpeg`` (pip; ``imageio_ffmpeg.get_ffmpeg_exe()``, which
also honours ``IMAGEIO_FFMPEG_EXE``) as ``ffmpeg -hide_banner -i FILE`` and read its stderr: this
wheel has no ffprobe, and the header dump is stable across ffmpeg 5–9 except for the spelling of the
rotation line (``displaymatrix: rotation of -90.00 degrees`` in 5.x, ``Display Matrix: rotation of 90.00
degrees`` in 7+). The printed angle is ``av_display_rotation_get`` — the counter-clockwise rotation, in
degrees, that turns the stored frame into the displayed one (checked against ffmpeg's own autorotate on
files made with ``-display_rotation``: 90 → ``np.rot90(frame, 1)``). Old files may carry a ``rotate``
metadata tag instead, which is the *clockwise* angle.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+).*?, (\d{1,6})x(\d{1,6})")
_FPS = re.compile(r"([\d.]+(?:k)?) fps")
_AUDIO = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+)(?:.*?, (\d+) Hz)?(?:, ([^,]+))?")
_ROTATION = re.compile(r"(?:displaymatrix|Display Matrix): rotation of (-?[\d.]+) degrees", re.IGNORECASE)
_ROTATE_TAG = re.compile(r"^\s*rotate\s*:\s*(-?\d+(?:\.\d+)?)\s*$", re.MULTILINE)
_STREAM_DURATION = re.compile(r"^\s*DURATION\s*:\s*(\d+):(\d+):(\d+(?:\.\d+)?)\s*$", re.MULTILINE)

#: Demuxer messages meaning the file was cut short (the index or data is missing).
_TRUNCATION_SIGNS = ("moov atom not found", "partial file", "Read error", "Truncating packet")


class ProbeUnavailable(RuntimeError):
    """No ffmpeg binary could be found or run."""


@dataclass
class Probe:
    """What ``ffmpeg -i`` says about a file.

    Attributes:
        opened: the demuxer opened the file (False: garbage, wrong format, or a missing index).
        duration_s: the container duration in seconds (None when not printed).
        video_codec / width / height: the first video stream and its *coded* (stored) size in pixels.
        fps: that stream's average frame rate as printed (frames per second).
        video_duration_s: the video stream's own ``DURATION`` tag (Matroska/WebM write one), seconds.
        rotation_ccw: the display rotation, counter-clockwise degrees, normalised to 0/90/180/270.
        audio_codec / audio_rate / audio_layout: the first audio stream (None when there is none).
        truncation: the demuxer message that says the file is cut short, if any.
        log: the raw stderr (kept for error messages).
    """

    opened: bool
    duration_s: float | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_duration_s: float | None = None
    rotation_ccw: int = 0
    audio_codec: str | None = None
    audio_rate: int | None = None
    audio_layout: str | None = None
    truncation: str | None = None
    log: str = field(default="", repr=False)

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def display_size(self) -> tuple[int, int] | None:
        """(width, height) as displayed, after the display rotation."""
        if self.width is None or self.height is None:
            return None
        if self.rotation_ccw in (90, 270):
            return self.height, self.width
        return self.width, self.height


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The path of the ffmpeg binary (imageio-ffmpeg's).

    Raises:
        ProbeUnavailable: imageio-ffmpeg is missing or has no binary for this platform.
    """
    try:
        import imageio_ffmpeg
    except ImportError as e:  # a core dependency, but keep the message clear if it is absent
        raise ProbeUnavailable("imageio-ffmpeg is not installed") from e
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as e:
        raise ProbeUnavailable(f"imageio-ffmpeg has no ffmpeg binary: {e}") from e


def normalise_rotation(angle_ccw: float) -> int:
    """Round a counter-clockwise angle (degrees) to 0, 90, 180 or 270."""
    return round(angle_ccw / 90.0) % 4 * 90


def parse_probe(log: str) -> Probe:
    """Parse ``ffmpeg -hide_banner -i FILE`` stderr (see the module docstring)."""
    opened = "Input #0" in log
    p = Probe(opened=opened, log=log)
    if "misdetection possible" in log and not opened:
        return p  # ffmpeg guessed the format from the file name; its complaints say nothing about truncation
    for sign in _TRUNCATION_SIGNS:
        for line in log.splitlines():
            if sign.lower() in line.lower():
                p.truncation = line.strip()
                break
        if p.truncation:
            break
    if not opened:
        return p
    m = _DURATION.search(log)
    if m:
        p.duration_s = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    mv = _VIDEO.search(log)
    if mv:
        p.video_codec, p.width, p.height = mv.group(1), int(mv.group(2)), int(mv.group(3))
        line = log[mv.start(): log.find("\n", mv.start()) if "\n" in log[mv.start():] else len(log)]
        mf = _FPS.search(line)
        if mf:
            v = mf.group(1)
            p.fps = float(v[:-1]) * 1000 if v.endswith("k") else float(v)
        # The rotation belongs to the video stream: look in the lines after its Stream line.
        rest = log[mv.start():]
        nxt = re.search(r"\n\s*Stream #", rest[1:])
        block = rest[: nxt.start() + 1] if nxt else rest
        md = _STREAM_DURATION.search(block)
        if md:
            p.video_duration_s = int(md.group(1)) * 3600 + int(md.group(2)) * 60 + float(md.group(3))
        mr = _ROTATION.search(block)
        if mr:
            p.rotation_ccw = normalise_rotation(float(mr.group(1)))
        else:
            mt = _ROTATE_TAG.search(block)
            if mt:  # the legacy tag is the clockwise angle
                p.rotation_ccw = normalise_rotation(-float(mt.group(1)))
    ma = _AUDIO.search(log)
    if ma:
        p.audio_codec = ma.group(1)
        p.audio_rate = int(ma.group(2)) if ma.group(2) else None
        p.audio_layout = ma.group(3).strip() if ma.group(3) else None
    return p


def probe(path: Path, timeout_s: float = 30.0) -> Probe:
    """Run ``ffmpeg -hide_banner -i path`` and parse its header dump (about 10–20 ms per file).

    Raises:
        ProbeUnavailable: ffmpeg cannot be found or run, or it timed out.
    """
    exe = ffmpeg_exe()
    try:
        cp = subprocess.run([exe, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True,
                            timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ProbeUnavailable(f"running {exe} failed: {e}") from e
    p = parse_probe(cp.stderr.decode("utf-8", errors="replace"))
    if p.truncation and "moov atom" in p.truncation and not _looks_like_isobmff(path):
        p.truncation = None  # text or garbage named .mp4: ffmpeg guessed mov from the extension
    return p


#: ISO-BMFF (mp4/mov/m4a) top-level box types a real file starts with.
_ISOBMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"}


def _looks_like_isobmff(path: Path) -> bool:
    """Whether the file starts with an ISO-BMFF box header (size + known type), i.e. a real mp4 that
    lost its end, as opposed to other bytes that ffmpeg only guessed were mp4 from the name."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[4:8] in _ISOBMFF_BOXES
