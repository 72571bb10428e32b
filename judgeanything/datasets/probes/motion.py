"""Probes built from a ball moving across a small video: direction of motion (Video2Text), drawing a
motion (Text2Video), animating a still (Image2Video) and editing a clip (Video2Video)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judgeanything.datasets.probes.core import (
    HALVES,
    Candidate,
    Family,
    Media,
    ProbeSpec,
    angle_score,
    clamp_score,
    edit_candidates,
    phrase_all,
    pick,
    reverse_half,
    splice_half,
)
from judgeanything.datasets.probes.synth import (
    DIRECTIONS,
    FPS,
    PALETTE,
    VIDEO_H,
    VIDEO_W,
    Shape,
    angle_between,
    ball_frames,
    direction_vector,
    direction_words,
    pixel_noise,
    rotate_direction,
    to_gray,
)

N_FRAMES = 20  #: 2 s at FPS
COLOURS: tuple[str, ...] = tuple(PALETTE)
AXIS_DIRECTIONS: tuple[str, ...] = ("right", "up", "left", "down")
DIAGONAL_DIRECTIONS: tuple[str, ...] = ("up-right", "up-left", "down-left", "down-right")


def _video(frames: np.ndarray) -> Media:
    return Media("video", frames, "mp4", rate=float(FPS))


def _true_direction(rng: np.random.Generator, diagonal: bool) -> str:
    return pick(rng, DIAGONAL_DIRECTIONS if diagonal else AXIS_DIRECTIONS)


def path_for(rng: np.random.Generator, direction: str, travel: float, radius: int, *,
             centre: tuple[float, float] | None = None, jitter: float = 6.0
             ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Start centre and per-frame step of a ball travelling ``travel`` px in ``direction`` over the clip,
    its path centred on ``centre`` (default the frame centre) plus up to ``jitter`` px of random offset
    that keeps the whole ball inside the frame.

    Raises:
        ValueError: the path does not fit in the frame.
    """
    dx, dy = direction_vector(direction)
    cx, cy = centre if centre is not None else (VIDEO_W / 2.0, VIDEO_H / 2.0)
    hx, hy = abs(dx) * travel / 2.0, abs(dy) * travel / 2.0
    room_x = min(cx - hx - radius - 1, VIDEO_W - 2 - cx - hx - radius)
    room_y = min(cy - hy - radius - 1, VIDEO_H - 2 - cy - hy - radius)
    if room_x < 0 or room_y < 0:
        raise ValueError(f"a {travel}px path {direction} of a radius-{radius} ball does not fit the frame")
    jx = float(rng.uniform(-1, 1) * min(jitter, room_x))
    jy = float(rng.uniform(-1, 1) * min(jitter, room_y))
    start = (cx + jx - dx * travel / 2.0, cy + jy - dy * travel / 2.0)
    step = (dx * travel / (N_FRAMES - 1), dy * travel / (N_FRAMES - 1))
    return start, step


def _direction_plan(rng: np.random.Generator, d: str, tie: bool, alt: str | None = None) -> list[tuple[str, str]]:
    """(name, direction) candidates: distinct variant 0°, ±45°, ±90°, 180° (scores 5, 4, 3, 1); tie variant
    0°, +90°, −90°, 180° (5, 3, 3, 1) — or, with ``alt``, 0°, a second correct one named ``alt``, ±90°,
    180° (5, 5, 3, 1)."""
    s45, s90 = pick(rng, (1, -1)), pick(rng, (2, -2))
    if not tie:
        return [("exact", d), ("off_45", rotate_direction(d, s45)), ("off_90", rotate_direction(d, s90)),
                ("opposite", rotate_direction(d, 4))]
    if alt is not None:
        return [("exact", d), (alt, d), ("off_90", rotate_direction(d, s90)), ("opposite", rotate_direction(d, 4))]
    return [("exact", d), ("off_90_ccw", rotate_direction(d, 2)), ("off_90_cw", rotate_direction(d, -2)),
            ("opposite", rotate_direction(d, 4))]


# ------------------------------------------------------------------------------------------------
# motion_direction (Video2Text)
# ------------------------------------------------------------------------------------------------

_DIR_TEMPLATES = (
    "{d}",
    "The {colour} ball moves {d}.",
    "Direction: {d}",
    "It travels {d} across the frame.",
    "Answer: {d}",
    "Watching the whole clip, the {colour} ball keeps moving {d}.",
)


def _build_motion_direction(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    diagonal, travel, radius = bool(knobs["diagonal"]), float(knobs["travel"]), int(knobs["radius"])
    distractor, noise = bool(knobs["distractor"]), float(knobs["noise"])
    colour = pick(rng, COLOURS)
    d = _true_direction(rng, diagonal)
    start, step = path_for(rng, d, travel, radius)
    extra = []
    if distractor:  # another colour moving at right angles, on a path offset from the target's
        dc = pick(rng, [c for c in COLOURS if c != colour])
        dd = rotate_direction(d, pick(rng, (2, -2)))
        ox, oy = direction_vector(rotate_direction(d, 2))
        centre = (VIDEO_W / 2.0 + ox * 22.0, VIDEO_H / 2.0 + oy * 22.0)
        extra.append((*path_for(rng, dd, min(travel, 24.0), radius, centre=centre, jitter=2.0), radius, dc))
    frames = pixel_noise(ball_frames(N_FRAMES, start, step, radius, colour, extra_balls=extra), noise, rng)
    plan = _direction_plan(rng, d, tie)
    tpl = phrase_all(rng, _DIR_TEMPLATES, 4)
    cands = tuple(Candidate(name, angle_score(angle_between(d, cd)),
                            text=_DIR_TEMPLATES[t].format(d=cd, colour=colour), meta={"stated_direction": cd})
                  for (name, cd), t in zip(plan, tpl, strict=True))
    return ProbeSpec(
        question=f"In which direction does the {colour} ball move in this video? Answer with one of: "
                 f"{', '.join(DIRECTIONS)}.",
        inputs=(_video(frames),),
        candidates=cands,
        truth={"direction": d, "colour": colour, "travel_px": travel},
        checklist=(f"Does the response name the direction of the {colour} ball (not of anything else)?",
                   "Is the stated direction the one the ball actually moves in?"),
    )


MOTION_DIRECTION = Family(
    name="motion_direction",
    task="Video2Text",
    summary="Name the direction a coloured ball moves; candidates are right or off by 45°, 90° or 180°.",
    knobs={"diagonal": (False, True), "travel": (60.0, 30.0, 12.0), "radius": (8, 5),
           "distractor": (False, True), "noise": (0.0, 15.0)},
    build=_build_motion_direction,
)

# ------------------------------------------------------------------------------------------------
# draw_motion (Text2Video)
# ------------------------------------------------------------------------------------------------


def _build_draw_motion(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    diagonal, travel, radius = bool(knobs["diagonal"]), float(knobs["travel"]), int(knobs["radius"])
    colour = pick(rng, COLOURS)
    d = _true_direction(rng, diagonal)
    plan = _direction_plan(rng, d, tie, alt="exact_alt")
    cands = []
    for name, cd in plan:
        dist = travel * (0.7 if name == "exact_alt" else 1.0)  # a different, equally correct rendition
        start, step = path_for(rng, cd, dist, radius)
        frames = ball_frames(N_FRAMES, start, step, radius, colour)
        cands.append(Candidate(name, angle_score(angle_between(d, cd)), media=_video(frames),
                               meta={"shown_direction": cd, "travel_px": dist}))
    return ProbeSpec(
        question=f"Make a short video of a {colour} ball moving {direction_words(d)} across a plain white "
                 f"background.",
        inputs=(),
        candidates=tuple(cands),
        truth={"direction": d, "colour": colour},
        checklist=(f"Is there a {colour} ball on a plain white background?",
                   f"Does the ball move {direction_words(d)}?"),
    )


DRAW_MOTION = Family(
    name="draw_motion",
    task="Text2Video",
    summary="Show a ball moving in a given direction; candidates move that way (two renditions in the tie "
            "variant) or 45°, 90° or 180° off.",
    knobs={"diagonal": (False, True), "travel": (50.0, 25.0), "radius": (8, 5)},
    build=_build_draw_motion,
)

# ------------------------------------------------------------------------------------------------
# animate_image (Image2Video)
# ------------------------------------------------------------------------------------------------

_CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
SQUARE = 12


def _corner_square(corner: str, colour: str) -> Shape:
    x = 4 if "left" in corner else VIDEO_W - 4 - SQUARE
    y = 4 if "top" in corner else VIDEO_H - 4 - SQUARE
    return Shape("square", colour, x, y, SQUARE)


def animate_penalty(angle: float, wrong_start: bool) -> int:
    """Image2Video penalty: ``angle / 45° + 2·[first frame is not the given image]``; score
    ``max(1, 5 − penalty)``."""
    return round(abs(angle) / 45.0) + 2 * int(wrong_start)


def _build_animate_image(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    diagonal, travel, radius = bool(knobs["diagonal"]), float(knobs["travel"]), int(knobs["radius"])
    colour, sq_colour, sq_colour2 = (COLOURS[i] for i in rng.permutation(len(COLOURS))[:3])
    corner = pick(rng, _CORNERS)
    corner2 = pick(rng, [c for c in _CORNERS if c != corner])
    d = _true_direction(rng, diagonal)
    sx = VIDEO_W / 2.0 + float(rng.uniform(-6, 6))
    sy = VIDEO_H / 2.0 + float(rng.uniform(-6, 6))
    ox = 20.0 if sx < VIDEO_W / 2.0 else -20.0
    scene = {"given": ((sx, sy), [_corner_square(corner, sq_colour)]),
             "other": ((sx + ox, sy), [_corner_square(corner2, sq_colour2)])}
    s45, s90 = pick(rng, (1, -1)), pick(rng, (2, -2))
    if tie:
        plan = [("exact", "given", 0), ("off_90", "given", s90), ("wrong_start", "other", 0),
                ("wrong_start_off_90", "other", -s90)]
    else:
        plan = [("exact", "given", 0), ("off_45", "given", s45), ("wrong_start", "other", 0),
                ("opposite", "given", 4)]
    (gx, gy), statics = scene["given"]
    still = ball_frames(1, (gx, gy), (0.0, 0.0), radius, colour, statics=statics)[0]
    cands = []
    for name, which, steps in plan:
        cd = rotate_direction(d, steps)
        (bx, by), sts = scene[which]
        dx, dy = direction_vector(cd)
        step = (dx * travel / (N_FRAMES - 1), dy * travel / (N_FRAMES - 1))
        frames = ball_frames(N_FRAMES, (bx, by), step, radius, colour, statics=sts)
        pen = animate_penalty(angle_between(d, cd), which != "given")
        cands.append(Candidate(name, clamp_score(pen), media=_video(frames),
                               meta={"shown_direction": cd, "starts_from_given_image": which == "given"}))
    return ProbeSpec(
        question=f"Animate this picture: the {colour} ball should move {direction_words(d)} while everything "
                 f"else stays still.",
        inputs=(Media("image", still, "png"),),
        candidates=tuple(cands),
        truth={"direction": d, "colour": colour, "start": [round(gx, 2), round(gy, 2)]},
        checklist=("Does the video start from the given picture?", f"Does the {colour} ball move "
                   f"{direction_words(d)}?", "Does everything else stay still?"),
    )


ANIMATE_IMAGE = Family(
    name="animate_image",
    task="Image2Video",
    summary="Animate a still so the ball moves a given way; candidates start from the given picture or "
            "another one, and move the right way or 45°, 90° or 180° off.",
    knobs={"diagonal": (False, True), "travel": (28.0, 14.0), "radius": (7, 5)},
    build=_build_animate_image,
)

# ------------------------------------------------------------------------------------------------
# video_edit (Video2Video)
# ------------------------------------------------------------------------------------------------

def _build_video_edit(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    op, travel = str(knobs["op"]), float(knobs["travel"])
    colour, sq_colour = (COLOURS[i] for i in rng.permutation(len(COLOURS))[:2])
    d = pick(rng, DIRECTIONS)
    radius = 7
    start, step = path_for(rng, d, travel, radius)
    src = ball_frames(N_FRAMES, start, step, radius, colour,
                      statics=[_corner_square(pick(rng, _CORNERS), sq_colour)])
    if op == "reverse":
        question = "Play this video backwards (reverse it in time), changing nothing else."
        exact, wrong = src[::-1].copy(), to_gray(src)
        partial = {h: reverse_half(src, h) for h in HALVES}
        truth: dict[str, Any] = {"op": op, "wrong_op": "grayscale"}
        checklist = ("Does the video play the original backwards from start to end?",
                     "Are the colours and the picture otherwise unchanged?")
    elif op == "grayscale":
        question = "Convert this video to grayscale (black and white), changing nothing else."
        exact, wrong = to_gray(src), (255 - src).astype(np.uint8)
        partial = {h: splice_half(src, exact, h) for h in HALVES}
        truth = {"op": op, "wrong_op": "invert"}
        checklist = ("Is every frame free of colour?", "Is the motion unchanged?")
    elif op == "mirror":
        question = "Mirror this video horizontally, so that left and right are swapped."
        exact, wrong = src[:, :, ::-1].copy(), src[:, ::-1].copy()
        partial = {h: splice_half(src, exact, h) for h in HALVES}
        truth = {"op": op, "wrong_op": "vertical_flip"}
        checklist = ("Is every frame mirrored left to right?", "Is top still top in every frame?")
    else:
        raise ValueError(f"video_edit: unknown op {op!r} (known: reverse, grayscale, mirror)")
    cands = edit_candidates(rng, src, exact, wrong, partial, tie, _video)
    truth.update({"direction": d, "colour": colour})
    return ProbeSpec(question=question, inputs=(_video(src),), candidates=cands, truth=truth,
                     checklist=checklist)


VIDEO_EDIT = Family(
    name="video_edit",
    task="Video2Video",
    summary="Reverse, grayscale or mirror a clip; candidates apply the edit fully, to one half of the frames "
            "only, apply a different edit, or return the input unchanged.",
    knobs={"op": ("reverse", "grayscale", "mirror"), "travel": (40.0, 20.0)},
    build=_build_video_edit,
)

FAMILIES: Sequence[Family] = (MOTION_DIRECTION, DRAW_MOTION, ANIMATE_IMAGE, VIDEO_EDIT)
