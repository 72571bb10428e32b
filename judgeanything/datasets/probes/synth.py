"""Synthesis primitives for the probes: flat-colour shapes, moving balls, flashes, tones and beep trains.

Everything is a pure function of its arguments and a ``numpy.random.Generator``: no global state, no
clock. Drawing uses PIL's ``ImageDraw`` without anti-aliasing, so every shape pixel has exactly its
palette colour (the tests segment the saved PNGs by colour).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# ------------------------------------------------------------------------------------------------
# Constants shared by the families (documented in docs/probes.md)
# ------------------------------------------------------------------------------------------------

#: Five well-separated colours (pairwise RGB distance > 150), named as a query names them.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (215, 40, 40),
    "green": (40, 160, 60),
    "blue": (40, 80, 215),
    "yellow": (235, 200, 30),
    "purple": (140, 60, 180),
}
WHITE = (255, 255, 255)
DARK = (30, 30, 30)
SHAPES: tuple[str, ...] = ("square", "circle", "triangle")

IMAGE_W, IMAGE_H = 192, 144  #: still images (px)
VIDEO_W, VIDEO_H = 128, 96  #: video frames (px)
FPS = 10  #: video frame rate (frames/s)
SR = 16000  #: audio sample rate (Hz)
BEEP_HZ = 1000.0  #: beep carrier frequency (Hz)
BEEP_S = 0.08  #: beep length (s)


class PlacementError(RuntimeError):
    """Shapes could not be placed without overlap (the knobs ask for more than fits the canvas)."""


@dataclass(frozen=True)
class Shape:
    """One flat shape: ``kind`` in :data:`SHAPES`, colour name in :data:`PALETTE`, top-left ``(x, y)``
    and side ``size`` in pixels (squares and circles fill the box; triangles point up, base = height)."""

    kind: str
    colour: str
    x: int
    y: int
    size: int

    @property
    def centre(self) -> tuple[float, float]:
        """Centre of the bounding box ``(x, y)`` in pixels."""
        return self.x + self.size / 2.0, self.y + self.size / 2.0


def place_boxes(rng: np.random.Generator, n: int, size: int, width: int, height: int, *,
                taken: Sequence[tuple[int, int, int]] = (), gap: int = 4, margin: int = 4,
                x_range: tuple[int, int] | None = None, tries: int = 4000) -> list[tuple[int, int]]:
    """Top-left corners of ``n`` squares of side ``size`` that neither overlap each other nor the boxes in
    ``taken`` (``(x, y, size)``), with at least ``gap`` px between boxes, inside the canvas less ``margin``.

    ``x_range`` (optional) restricts the box's left edge to ``[lo, hi]``.

    Raises:
        PlacementError: no room after ``tries`` random draws.
    """
    boxes = list(taken)
    out: list[tuple[int, int]] = []
    lo_x, hi_x = x_range if x_range is not None else (margin, width - margin - size)
    lo_x, hi_x = max(lo_x, margin), min(hi_x, width - margin - size)
    lo_y, hi_y = margin, height - margin - size
    if hi_x < lo_x or hi_y < lo_y:
        raise PlacementError(f"a {size}px shape does not fit in x∈[{lo_x},{hi_x}] of a {width}x{height} canvas")
    for _ in range(tries):
        if len(out) == n:
            break
        x = int(rng.integers(lo_x, hi_x + 1))
        y = int(rng.integers(lo_y, hi_y + 1))
        if all(x + size + gap <= bx or bx + bs + gap <= x or y + size + gap <= by or by + bs + gap <= y
               for bx, by, bs in boxes):
            boxes.append((x, y, size))
            out.append((x, y))
    if len(out) < n:
        raise PlacementError(f"could not place {n} shapes of {size}px on {width}x{height} "
                             f"(placed {len(out)}, {len(taken)} already taken)")
    return out


def draw_shapes(shapes: Sequence[Shape], width: int, height: int,
                background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """Render ``shapes`` on a flat background. Returns ``(height, width, 3) uint8``."""
    img = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(img)
    for s in shapes:
        colour = PALETTE[s.colour]
        x0, y0, x1, y1 = s.x, s.y, s.x + s.size - 1, s.y + s.size - 1
        if s.kind == "square":
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif s.kind == "circle":
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif s.kind == "triangle":
            draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) / 2.0, y0)], fill=colour)
        else:
            raise ValueError(f"unknown shape kind {s.kind!r} (known: {', '.join(SHAPES)})")
    return np.asarray(img, dtype=np.uint8).copy()


def pixel_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` (grey levels) to a uint8 image or video."""
    if sigma <= 0:
        return img
    noisy = img.astype(np.float32) + rng.normal(0.0, sigma, size=img.shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def to_gray(img: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma replicated into three channels (same shape and dtype as ``img``)."""
    y = img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114
    g = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=-1)


# ------------------------------------------------------------------------------------------------
# Directions (image coordinates: y grows downwards)
# ------------------------------------------------------------------------------------------------

#: The eight compass directions in the words a query or an answer uses, counter-clockwise from "right".
DIRECTIONS: tuple[str, ...] = ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right")


def direction_vector(name: str) -> tuple[float, float]:
    """Unit ``(dx, dy)`` of a direction in image coordinates (``"up"`` → ``(0, -1)``)."""
    k = DIRECTIONS.index(name)
    a = np.deg2rad(45.0 * k)
    return float(np.round(np.cos(a), 12)), float(-np.round(np.sin(a), 12))


def rotate_direction(name: str, steps: int) -> str:
    """The direction ``steps`` × 45° counter-clockwise from ``name``."""
    return DIRECTIONS[(DIRECTIONS.index(name) + steps) % 8]


def angle_between(a: str, b: str) -> int:
    """Absolute angle between two directions in degrees (0, 45, …, 180)."""
    d = abs(DIRECTIONS.index(a) - DIRECTIONS.index(b)) % 8
    return 45 * min(d, 8 - d)


def direction_words(name: str) -> str:
    """``"up-left"`` → ``"up and to the left"``; single directions unchanged."""
    if "-" in name:
        v, h = name.split("-")
        return f"{v} and to the {h}"
    return name


# ------------------------------------------------------------------------------------------------
# Video frames
# ------------------------------------------------------------------------------------------------


def ball_frames(n_frames: int, start: tuple[float, float], step: tuple[float, float], radius: int,
                colour: str, *, statics: Sequence[Shape] = (), background: tuple[int, int, int] = WHITE,
                extra_balls: Sequence[tuple[tuple[float, float], tuple[float, float], int, str]] = (),
                width: int = VIDEO_W, height: int = VIDEO_H) -> np.ndarray:
    """Frames of a filled ball (centre ``start`` px, moving ``step`` px per frame) over static shapes.

    ``extra_balls``: more moving balls as ``(start, step, radius, colour)`` (distractors), drawn first.
    Returns ``(n_frames, height, width, 3) uint8``.
    """
    base = Image.fromarray(draw_shapes(statics, width, height, background))
    out = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    balls = [*extra_balls, (start, step, radius, colour)]
    for t in range(n_frames):
        img = base.copy()
        draw = ImageDraw.Draw(img)
        for (sx, sy), (dx, dy), r, c in balls:
            cx, cy = round(sx + dx * t), round(sy + dy * t)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=PALETTE[c])
        out[t] = np.asarray(img, dtype=np.uint8)
    return out


def flash_frames(times: Sequence[float], duration: float, *, fps: int = FPS, flash_frames_n: int = 2,
                 radius: int = 18, width: int = VIDEO_W, height: int = VIDEO_H) -> np.ndarray:
    """A dark frame with a white disc in the centre lit for ``flash_frames_n`` frames from each time in
    ``times`` (seconds, rounded to the frame grid). Returns ``(round(duration·fps), H, W, 3) uint8``."""
    n = round(duration * fps)
    dark = Image.new("RGB", (width, height), DARK)
    lit = dark.copy()
    cx, cy = width // 2, height // 2
    ImageDraw.Draw(lit).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=WHITE)
    dark_a, lit_a = np.asarray(dark, dtype=np.uint8), np.asarray(lit, dtype=np.uint8)
    out = np.repeat(dark_a[None], n, axis=0)
    for t in times:
        k = round(t * fps)
        out[max(k, 0):min(k + flash_frames_n, n)] = lit_a
    return out


# ------------------------------------------------------------------------------------------------
# Audio
# ------------------------------------------------------------------------------------------------


def tone(freq: float, duration: float, *, sr: int = SR, amp: float = 0.4, ramp: float = 0.01) -> np.ndarray:
    """A sine of ``freq`` Hz for ``duration`` s with raised-cosine ramps of ``ramp`` s. ``(N,) float64``."""
    n = round(duration * sr)
    t = np.arange(n) / sr
    x = amp * np.sin(2.0 * np.pi * freq * t)
    k = min(round(ramp * sr), n // 2)
    if k > 0:
        w = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
        x[:k] *= w
        x[n - k:] *= w[::-1]
    return x


def beep_track(times: Sequence[float], duration: float, *, sr: int = SR, freq: float = BEEP_HZ,
               beep_s: float = BEEP_S, amp: float = 0.5) -> np.ndarray:
    """Silence of ``duration`` s with a ``beep_s`` s, ``freq`` Hz beep starting at each time (s).

    Returns ``(round(duration·sr),) float64``.

    Raises:
        ValueError: a beep would run past the end.
    """
    n = round(duration * sr)
    out = np.zeros(n)
    b = tone(freq, beep_s, sr=sr, amp=amp, ramp=0.005)
    for t in times:
        i = round(t * sr)
        if i < 0 or i + len(b) > n:
            raise ValueError(f"beep at {t:.3f} s does not fit in {duration:.3f} s of audio")
        out[i:i + len(b)] += b
    return out


def add_noise_snr(x: np.ndarray, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise at ``snr_db`` dB relative to the mean power of the non-silent part of
    ``x`` (samples above 1 % of the peak); ``None`` returns ``x`` unchanged. Clipped to [-0.99, 0.99]."""
    if snr_db is None:
        return x
    active = x[np.abs(x) > 0.01 * np.max(np.abs(x))]
    p_signal = float(np.mean(active**2)) if active.size else 1e-4
    sigma = np.sqrt(p_signal / (10.0 ** (snr_db / 10.0)))
    return np.clip(x + rng.normal(0.0, sigma, size=x.shape), -0.99, 0.99)


def place_times(rng: np.random.Generator, n: int, lo: float, hi: float, min_gap: float, *,
                grid: float = 0.1) -> list[float]:
    """``n`` sorted event times on a ``grid`` (s) within ``[lo, hi]`` with at least ``min_gap`` s (a
    multiple of ``grid``) between consecutive events.

    Drawn directly rather than by rejection: the slack ``hi − lo − (n−1)·min_gap`` is split by ``n``
    sorted uniform grid offsets ``u_i`` and ``t_i = lo + u_i + i·min_gap`` (every feasible layout has
    positive probability).

    Raises:
        PlacementError: the events do not fit.
    """
    gap_steps = round(min_gap / grid)
    slack = round((hi - lo) / grid) - (n - 1) * gap_steps
    if n < 1 or slack < 0:
        raise PlacementError(f"cannot place {n} events in [{lo}, {hi}] s with gaps ≥ {min_gap} s")
    u = np.sort(rng.integers(0, slack + 1, size=n))
    return [round(lo + (int(u[i]) + i * gap_steps) * grid, 6) for i in range(n)]


def semitones(f: float, ref: float) -> float:
    """Signed distance from ``ref`` to ``f`` in equal-tempered semitones (12·log2(f/ref))."""
    return float(12.0 * np.log2(f / ref))
