"""Independent measurements of saved probe media, for checking the probes' labels.

Nothing here imports the generator (``judgeanything.datasets.probes``): colours are classified against
canonical sRGB colour names, shapes by how much of their bounding box they fill, pitch by FFT, beeps by
the energy envelope of a band-passed signal, motion by tracking a colour's centroid in decoded frames
(decord), flashes by the brightness of the frame centre.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image
from scipy import ndimage
from scipy.signal import butter, sosfiltfilt

#: Canonical sRGB colours (CSS names) the generator's colour words must be nearest to.
CANONICAL: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "purple": (128, 0, 128),
}
COLOUR_WORDS = ("red", "green", "blue", "yellow", "purple")
MIN_AREA = 12  # px: smaller components are noise speckles


# ------------------------------------------------------------------------------------------------
# images
# ------------------------------------------------------------------------------------------------


def read_rgb(path: Path) -> np.ndarray:
    """``(H, W, 3) uint8``."""
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def classify_pixels(rgb: np.ndarray) -> np.ndarray:
    """Index into ``list(CANONICAL)`` of the nearest canonical colour for each pixel. ``(H, W) int``."""
    ref = np.array(list(CANONICAL.values()), dtype=np.float32)
    d = ((rgb[..., None, :].astype(np.float32) - ref) ** 2).sum(-1)
    return d.argmin(-1)


def colour_mask(rgb: np.ndarray, name: str) -> np.ndarray:
    """Pixels whose nearest canonical colour is ``name``. ``(H, W) bool``."""
    return classify_pixels(rgb) == list(CANONICAL).index(name)


def shape_of(component: np.ndarray) -> str:
    """Square / circle / triangle from the fill ratio of the component's bounding box (1, π/4, 1/2)."""
    ys, xs = np.nonzero(component)
    fill = component.sum() / float((np.ptp(ys) + 1) * (np.ptp(xs) + 1))
    return "square" if fill > 0.9 else "circle" if fill > 0.66 else "triangle"


def components(rgb: np.ndarray, name: str) -> list[np.ndarray]:
    """Connected components (4-connectivity, area ≥ ``MIN_AREA``) of colour ``name``, as boolean masks."""
    lab, _ = ndimage.label(colour_mask(rgb, name))
    areas = np.bincount(lab.ravel())
    return [lab == i for i in np.flatnonzero(areas >= MIN_AREA) if i != 0]


def objects(rgb: np.ndarray) -> list[tuple[str, str, float]]:
    """Every coloured object as ``(colour, shape, centre x)``."""
    out = []
    for c in COLOUR_WORDS:
        for comp in components(rgb, c):
            out.append((c, shape_of(comp), float(np.nonzero(comp)[1].mean())))
    return out


def draw_score(img: np.ndarray, n: int, colour: str, kind: str) -> int:
    """The draw_shapes label of a drawing measured from its pixels: ``max(1, 5 − penalty)`` with penalty
    ``min(|count error|, 3) + 2·[main colour wrong] + [main kind wrong]``."""
    objs = objects(img)
    assert objs, "no shape drawn"
    main_colour = Counter(o[0] for o in objs).most_common(1)[0][0]
    main_kind = Counter(o[1] for o in objs).most_common(1)[0][0]
    penalty = min(abs(len(objs) - n), 3) + 2 * (main_colour != colour) + (main_kind != kind)
    return max(1, 5 - penalty)


def is_gray(rgb: np.ndarray, tol: int = 3) -> bool:
    """Every pixel has (nearly) equal R, G and B."""
    a = rgb.astype(np.int16)
    return int(np.max(a.max(-1) - a.min(-1))) <= tol


# ------------------------------------------------------------------------------------------------
# audio
# ------------------------------------------------------------------------------------------------


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float64 samples and the sample rate (soundfile: wav, flac, mp3)."""
    x, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return x.mean(axis=1), int(sr)


def read_mp4_audio(path: Path, sr: int = 16000) -> np.ndarray:
    """The AAC track of an mp4 as mono float at ``sr`` Hz (decord)."""
    import decord

    return decord.AudioReader(str(path), ctx=decord.cpu(0), sample_rate=sr, mono=True)[:].asnumpy()[0]


def envelope(x: np.ndarray, sr: int, hop_s: float = 0.005, band: tuple[float, float] | None = None) -> np.ndarray:
    """Frame RMS every ``hop_s`` s (optionally of the ``band``-passed signal)."""
    if band is not None:
        sos = butter(4, band, btype="bandpass", fs=sr, output="sos")
        x = sosfiltfilt(sos, x)
    hop = max(1, round(hop_s * sr))
    n = len(x) // hop
    return np.sqrt((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1))


def onsets(active: np.ndarray, hop_s: float, merge_s: float = 0.04) -> list[float]:
    """Start times (s) of runs of True in ``active`` (frames ``hop_s`` apart), merging gaps < ``merge_s``."""
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return []
    starts = [idx[0]]
    for a, b in itertools.pairwise(idx):
        if (b - a) * hop_s > merge_s:
            starts.append(b)
    return [float(s * hop_s) for s in starts]


def beep_onsets(x: np.ndarray, sr: int, band: tuple[float, float] = (700.0, 1400.0)) -> list[float]:
    """Onset times (s) of beeps near 1 kHz: the band-passed envelope above half its maximum."""
    env = envelope(x, sr, band=band)
    return onsets(env > 0.5 * env.max(), 0.005)


def active_span(x: np.ndarray, sr: int, rel: float = 0.2) -> tuple[float, float]:
    """First and last time (s) the envelope exceeds ``rel`` × its maximum."""
    env = envelope(x, sr)
    idx = np.flatnonzero(env > rel * env.max())
    return float(idx[0] * 0.005), float((idx[-1] + 1) * 0.005)


def dominant_frequency(x: np.ndarray, sr: int) -> float:
    """Frequency (Hz) of the highest peak of the Hann-windowed spectrum of the active part, zero-padded
    to a resolution below 0.1 Hz."""
    t0, t1 = active_span(x, sr)
    seg = x[int(t0 * sr): int(t1 * sr)]
    n = 1 << int(np.ceil(np.log2(max(len(seg), sr * 12))))
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n))
    return float(np.argmax(spec) * sr / n)


def frame_pitches(x: np.ndarray, sr: int, win: int = 2048, hop: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame dominant frequency (Hz) and RMS, frames ``hop`` samples apart."""
    n = 1 + max(0, (len(x) - win) // hop)
    w = np.hanning(win)
    freqs, rms = np.zeros(n), np.zeros(n)
    for i in range(n):
        seg = x[i * hop: i * hop + win]
        spec = np.abs(np.fft.rfft(seg * w, 8 * win))
        freqs[i] = np.argmax(spec) * sr / (8 * win)
        rms[i] = np.sqrt(np.mean(seg**2))
    return freqs, rms


# ------------------------------------------------------------------------------------------------
# video
# ------------------------------------------------------------------------------------------------


def read_frames(path: Path) -> tuple[np.ndarray, float]:
    """All frames ``(T, H, W, 3) uint8`` and the frame rate (decord)."""
    import decord

    vr = decord.VideoReader(str(path), ctx=decord.cpu(0))
    return vr.get_batch(list(range(len(vr)))).asnumpy(), float(vr.get_avg_fps())


def centroids(frames: np.ndarray, colour: str) -> np.ndarray:
    """Centroid ``(x, y)`` of the largest ``colour`` component per frame; NaN where absent. ``(T, 2)``."""
    out = np.full((len(frames), 2), np.nan)
    for t, f in enumerate(frames):
        comps = components(f, colour)
        if comps:
            big = max(comps, key=lambda c: c.sum())
            ys, xs = np.nonzero(big)
            out[t] = xs.mean(), ys.mean()
    return out


_COMPASS = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")


def compass(dx: float, dy: float) -> str:
    """The nearest of the eight compass directions to a displacement in image coordinates."""
    ang = np.degrees(np.arctan2(-dy, dx)) % 360.0
    return _COMPASS[int(np.round(ang / 45.0)) % 8]


def compass_angle(a: str, b: str) -> int:
    """Absolute angle (degrees) between two compass words."""
    d = abs(_COMPASS.index(a) - _COMPASS.index(b)) % 8
    return 45 * min(d, 8 - d)


def motion_direction(frames: np.ndarray, colour: str) -> str:
    """Compass direction of the ``colour`` object's displacement from its first to its last sighting."""
    c = centroids(frames, colour)
    ok = np.flatnonzero(~np.isnan(c[:, 0]))
    d = c[ok[-1]] - c[ok[0]]
    return compass(float(d[0]), float(d[1]))


def flash_onsets(frames: np.ndarray, fps: float) -> list[float]:
    """Times (s) at which the centre of the frame turns bright (mean luma of the central 9×9 patch)."""
    h, w = frames.shape[1:3]
    patch = frames[:, h // 2 - 4: h // 2 + 5, w // 2 - 4: w // 2 + 5].astype(np.float32).mean(axis=(1, 2, 3))
    lit = patch > 128.0
    return [float(i / fps) for i in range(len(lit)) if lit[i] and (i == 0 or not lit[i - 1])]


def median_offset(produced: list[float], given: list[float]) -> float:
    """Median over produced events of the signed time to the nearest given event (s)."""
    diffs = [p - min(given, key=lambda g: abs(g - p)) for p in produced]
    return float(np.median(diffs))


# ------------------------------------------------------------------------------------------------
# text
# ------------------------------------------------------------------------------------------------


def integers(text: str) -> list[int]:
    """All integers written in ``text``, in order."""
    return [int(v) for v in re.findall(r"-?\d+", text)]


def stated_direction(text: str) -> str:
    """The compass word stated in an answer (two-word directions first)."""
    m = re.search(r"\b(up|down)-(left|right)\b", text) or re.search(r"\b(up|down|left|right)\b", text)
    assert m is not None, f"no direction in {text!r}"
    return m.group(0)
