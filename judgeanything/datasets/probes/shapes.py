"""Probes built from flat coloured shapes: counting (Image2Text), drawing (Text2Image), editing
(Image2Image) and counting into beeps (Image2Audio)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judgeanything.datasets.probes.core import (
    Candidate,
    Family,
    Media,
    ProbeSpec,
    clamp_score,
    count_candidates,
    count_plan,
    count_score,
    edit_candidates,
    pick,
    signed_offset,
)
from judgeanything.datasets.probes.synth import (
    BEEP_S,
    IMAGE_H,
    IMAGE_W,
    PALETTE,
    SHAPES,
    SR,
    Shape,
    beep_track,
    draw_shapes,
    pixel_noise,
    place_boxes,
    to_gray,
)

COLOURS: tuple[str, ...] = tuple(PALETTE)


def _image(rgb: np.ndarray) -> Media:
    return Media("image", rgb, "png")


def random_shapes(rng: np.random.Generator, specs: Sequence[tuple[str, str]], size: int,
                  taken: Sequence[tuple[int, int, int]] = ()) -> list[Shape]:
    """Place ``(kind, colour)`` specs as non-overlapping shapes of side ``size`` on the still canvas."""
    xy = place_boxes(rng, len(specs), size, IMAGE_W, IMAGE_H, taken=taken)
    return [Shape(k, c, x, y, size) for (k, c), (x, y) in zip(specs, xy, strict=True)]


# ------------------------------------------------------------------------------------------------
# count_shapes (Image2Text)
# ------------------------------------------------------------------------------------------------

_COUNT_TEMPLATES = (
    "{n}",
    "There are {obj}.",
    "I count {n} of them.",
    "The picture contains {obj} in total.",
    "Answer: {n}",
    "Looking carefully at the whole picture, I can see {obj}.",
)


def _build_count_shapes(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    n, n_dis, size = int(knobs["n_target"]), int(knobs["n_distractors"]), int(knobs["size"])
    same_colour, noise = bool(knobs["same_colour_distractors"]), float(knobs["noise"])
    colour, kind = pick(rng, COLOURS), pick(rng, SHAPES)
    if same_colour:
        dis = [(pick(rng, [s for s in SHAPES if s != kind]), colour) for _ in range(n_dis)]
    else:
        dis = [(pick(rng, SHAPES), pick(rng, [c for c in COLOURS if c != colour])) for _ in range(n_dis)]
    specs = [(kind, colour)] * n + dis
    order = rng.permutation(len(specs))
    shapes = random_shapes(rng, [specs[i] for i in order], size)
    img = pixel_noise(draw_shapes(shapes, IMAGE_W, IMAGE_H), noise, rng)
    cands = count_candidates(rng, n, tie, _COUNT_TEMPLATES, f"{colour} {kind}")
    return ProbeSpec(
        question=f"How many {colour} {kind}s are there in this picture? Answer with a number.",
        inputs=(_image(img),),
        candidates=cands,
        truth={"true_count": n, "colour": colour, "shape": kind, "n_distractors": n_dis},
        checklist=(f"Does the response count only the {colour} {kind}s, ignoring other shapes and colours?",
                   "Is the stated count exactly right?"),
    )


COUNT_SHAPES = Family(
    name="count_shapes",
    task="Image2Text",
    summary="Count the shapes of one colour and kind among distractors; candidates state the true count or "
            "miss it by 1, 2, 3 or 4.",
    knobs={"n_target": (3, 6, 9), "n_distractors": (2, 0, 6), "size": (16, 10),
           "same_colour_distractors": (False, True), "noise": (0.0, 12.0)},
    build=_build_count_shapes,
)

# ------------------------------------------------------------------------------------------------
# draw_shapes (Text2Image)
# ------------------------------------------------------------------------------------------------


def draw_penalty(count_error: int, wrong_colour: bool, wrong_shape: bool) -> int:
    """Text2Image penalty: ``min(|count error|, 3) + 2·[wrong colour] + 1·[wrong shape]``; the score is
    ``max(1, 5 − penalty)``."""
    return min(abs(count_error), 3) + 2 * int(wrong_colour) + int(wrong_shape)


def _build_draw_shapes(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    n, size = int(knobs["n"]), int(knobs["size"])
    colour, kind = pick(rng, COLOURS), pick(rng, SHAPES)
    other_colour = pick(rng, [c for c in COLOURS if c != colour])
    other_kind = pick(rng, [s for s in SHAPES if s != kind])
    off1 = signed_offset(rng, n, 1, 1)
    off2 = signed_offset(rng, n, 2, 1)
    # (name, count, colour, kind)
    if tie:
        plan = [("exact", n, colour, kind), ("exact_alt", n, colour, kind), ("wrong_shape", n, colour, other_kind),
                ("wrong_colour_off_by_two", off2, other_colour, kind)]
    else:
        plan = [("exact", n, colour, kind), ("off_by_one", off1, colour, kind),
                ("wrong_colour", n, other_colour, kind), ("wrong_shape_off_by_two", off2, colour, other_kind)]
    cands = []
    for name, m, c, k in plan:
        img = draw_shapes(random_shapes(rng, [(k, c)] * m, size), IMAGE_W, IMAGE_H)
        pen = draw_penalty(m - n, c != colour, k != kind)
        cands.append(Candidate(name, clamp_score(pen), media=_image(img),
                               meta={"drawn_count": m, "drawn_colour": c, "drawn_shape": k}))
    return ProbeSpec(
        question=f"Draw exactly {n} {colour} {kind}s on a plain white background.",
        inputs=(),
        candidates=tuple(cands),
        truth={"count": n, "colour": colour, "shape": kind},
        checklist=(f"Are there exactly {n} shapes?", f"Is every shape {colour}?", f"Is every shape a {kind}?",
                   "Is the background plain white?"),
    )


DRAW_SHAPES = Family(
    name="draw_shapes",
    task="Text2Image",
    summary="Draw n shapes of a colour and kind; candidates are exact, off by one or two, wrong colour or "
            "wrong kind.",
    knobs={"n": (3, 5, 8), "size": (18, 12)},
    build=_build_draw_shapes,
)

# ------------------------------------------------------------------------------------------------
# image_edit (Image2Image)
# ------------------------------------------------------------------------------------------------

def _halves_shapes(rng: np.random.Generator, n_target: int, n_other: int, size: int, colour: str,
                   other_colours: Sequence[str]) -> list[Shape]:
    """Shapes with ``n_target`` of ``colour`` (at least one wholly in each half, none across the middle
    column) and ``n_other`` of ``other_colours``."""
    mid = IMAGE_W // 2
    left, right = (0, mid - size - 2), (mid + 2, IMAGE_W)
    shapes: list[Shape] = []
    for i in range(n_target):
        side = left if (i == 0 or (i > 1 and rng.random() < 0.5)) else right
        (x, y), = place_boxes(rng, 1, size, IMAGE_W, IMAGE_H, taken=[(s.x, s.y, s.size) for s in shapes],
                              x_range=side)
        shapes.append(Shape(pick(rng, SHAPES), colour, x, y, size))
    for _ in range(n_other):
        (x, y), = place_boxes(rng, 1, size, IMAGE_W, IMAGE_H, taken=[(s.x, s.y, s.size) for s in shapes])
        shapes.append(Shape(pick(rng, SHAPES), pick(rng, other_colours), x, y, size))
    return shapes


def _build_image_edit(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    op, n_shapes, size = str(knobs["op"]), int(knobs["n_shapes"]), int(knobs["size"])
    c, c2, c3, *rest = [COLOURS[i] for i in rng.permutation(len(COLOURS))]
    n_target = max(2, n_shapes // 2)
    shapes = _halves_shapes(rng, n_target, n_shapes - n_target, size, c, rest)
    src = draw_shapes(shapes, IMAGE_W, IMAGE_H)
    h, w = src.shape[:2]

    def recolour(to: str, side: str | None) -> np.ndarray:
        def hit(s: Shape) -> bool:
            return s.colour == c and (side is None or (s.centre[0] < w / 2) == (side == "left"))
        return draw_shapes([Shape(s.kind, to, s.x, s.y, s.size) if hit(s) else s for s in shapes], w, h)

    def halves(full: np.ndarray, side: str) -> np.ndarray:
        out = src.copy()
        sl: Any = {"left": np.s_[:, : w // 2], "right": np.s_[:, w // 2:],
              "top": np.s_[: h // 2], "bottom": np.s_[h // 2:]}[side]
        out[sl] = full[sl]
        return out

    if op == "recolour":
        question = (f"Change the colour of every {c} shape in this picture to {c2}, "
                    f"and leave everything else unchanged.")
        exact, wrong, sides = recolour(c2, None), recolour(c3, None), ("left", "right")
        partial = {s: recolour(c2, s) for s in sides}
        truth: dict[str, Any] = {"op": op, "from_colour": c, "to_colour": c2, "wrong_colour": c3,
                                 "n_target": n_target}
        checklist = (f"Are all {c} shapes now {c2}?", "Are the other shapes and their positions unchanged?")
    elif op == "grayscale":
        question = "Convert this picture to grayscale (black and white), changing nothing else."
        exact, wrong, sides = to_gray(src), (255 - src).astype(np.uint8), ("left", "right")
        partial = {s: halves(exact, s) for s in sides}
        truth = {"op": op, "wrong_op": "invert"}
        checklist = ("Is the whole picture free of colour?", "Are the shapes and their positions unchanged?")
    elif op == "mirror":
        question = "Mirror this picture horizontally, so that left and right are swapped."
        exact, wrong, sides = src[:, ::-1].copy(), src[::-1].copy(), ("top", "bottom")
        partial = {s: halves(exact, s) for s in sides}
        truth = {"op": op, "wrong_op": "vertical_flip"}
        checklist = ("Is every shape now on the opposite side, left to right?",
                     "Is top still top and bottom still bottom?")
    else:
        raise ValueError(f"image_edit: unknown op {op!r} (known: recolour, grayscale, mirror)")
    cands = edit_candidates(rng, src, exact, wrong, partial, tie, _image)
    return ProbeSpec(question=question, inputs=(_image(src),), candidates=cands, truth=truth,
                     checklist=checklist)


IMAGE_EDIT = Family(
    name="image_edit",
    task="Image2Image",
    summary="Recolour one colour, convert to grayscale or mirror left-right; candidates apply the edit fully, "
            "to one half only, apply a different edit, or return the input unchanged.",
    knobs={"op": ("recolour", "grayscale", "mirror"), "n_shapes": (6, 10), "size": (16, 10)},
    build=_build_image_edit,
)

# ------------------------------------------------------------------------------------------------
# count_to_beeps (Image2Audio)
# ------------------------------------------------------------------------------------------------

BEEPS_DURATION = 3.0  #: seconds of every Image2Audio candidate


def even_beeps(k: int, duration: float = BEEPS_DURATION) -> np.ndarray:
    """``k`` beeps evenly spaced (at most 0.4 s apart, centred) in ``duration`` s. ``(N,) float64``."""
    spacing = min(0.4, (duration - 0.4) / k)
    start = (duration - (k - 1) * spacing - BEEP_S) / 2.0
    return beep_track([round(start + i * spacing, 4) for i in range(k)], duration)


def _build_count_to_beeps(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    n, n_dis, size = int(knobs["n"]), int(knobs["n_distractors"]), int(knobs["size"])
    colour = pick(rng, COLOURS)
    specs = [(pick(rng, SHAPES), colour) for _ in range(n)]
    specs += [(pick(rng, SHAPES), pick(rng, [c for c in COLOURS if c != colour])) for _ in range(n_dis)]
    shapes = random_shapes(rng, [specs[i] for i in rng.permutation(len(specs))], size)
    img = draw_shapes(shapes, IMAGE_W, IMAGE_H)
    pairs = count_plan(rng, n, tie, lo=1)
    cands = tuple(Candidate(name, count_score(k - n), media=Media("audio", even_beeps(k), "wav", rate=SR),
                            meta={"n_beeps": k})
                  for name, k in pairs)
    return ProbeSpec(
        question=f"Make a sound with exactly one short beep for each {colour} shape in this picture.",
        inputs=(_image(img),),
        candidates=cands,
        truth={"true_count": n, "colour": colour, "n_distractors": n_dis},
        checklist=(f"Does the number of beeps equal the number of {colour} shapes?",
                   "Are the beeps separate and easy to count?"),
    )


COUNT_TO_BEEPS = Family(
    name="count_to_beeps",
    task="Image2Audio",
    summary="Beep once per shape of a colour; candidates beep the true count or miss it by 1–4.",
    knobs={"n": (3, 5, 7), "n_distractors": (2, 5), "size": (16, 10)},
    build=_build_count_to_beeps,
)

FAMILIES = (COUNT_SHAPES, DRAW_SHAPES, IMAGE_EDIT, COUNT_TO_BEEPS)
