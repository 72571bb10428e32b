"""The process probe family: multi-step solutions whose correctness is known by construction.

Three kinds of problem, each a question (+ a rendered figure), a solution in numbered steps and one label per
step; one case in ``1 + len(errors)`` is a correct solution (a control), each other has exactly one error,
injected at a known step and of a known type (ProJudgeBench's taxonomy):

* ``chart`` (single image): a bar chart of three coloured bars; the solution reads each bar and adds them.
  Errors: ``visual_interpretation`` (a bar read 1–2 units off, at a random reading step) and
  ``numerical_calculation`` (a wrong sum).
* ``geometry`` (single image): a right triangle drawn with its base and height written on it; the solution
  reads them, states the area formula and computes. Errors: ``visual_interpretation`` (a side misread),
  ``knowledge`` (area = base × height, without the half), ``numerical_calculation`` (a wrong product).
* ``arithmetic`` (text): buying pens and counting the change. Errors: ``question_understanding`` (the
  number of pens misread from the question), ``numerical_calculation`` (a wrong cost or change).

Later steps that compute correctly from an earlier wrong value are labelled correct: as in ProJudgeBench,
each step is judged on its own (an error is where it is made), so the first error is the only error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from judgeanything.datasets.probes.media import write_png
from judgeanything.process.items import ProcessCase, StepLabel
from judgeanything.process.taxonomy import CORRECT, INCORRECT
from judgeanything.schema import MediaRef

KINDS = ("chart", "geometry", "arithmetic")
_W, _H = 240, 180

Built = tuple[str, list[str], int | None, str | None, np.ndarray | None]  # question, steps, error step, type, image


def _chart_image(values: list[int], colours: list[str]) -> np.ndarray:
    """A bar chart with a 0–10 axis and gridlines, bars labelled by colour. ``(180, 240, 3) uint8``."""
    from judgeanything.datasets.probes.synth import PALETTE

    img = Image.new("RGB", (_W, _H), (255, 255, 255))
    d = ImageDraw.Draw(img)
    x0, y0, top = 30, _H - 25, 15
    unit = (y0 - top) / 10
    for v in range(0, 11, 2):
        y = y0 - v * unit
        d.line((x0, y, _W - 10, y), fill=(210, 210, 210))
        d.text((8, y - 5), str(v), fill=(0, 0, 0))
    for i, (v, c) in enumerate(zip(values, colours, strict=True)):
        bx = x0 + 15 + i * 65
        d.rectangle((bx, y0 - v * unit, bx + 40, y0), fill=PALETTE[c])
        d.text((bx + 2, y0 + 6), c, fill=(0, 0, 0))
    return np.asarray(img, dtype=np.uint8).copy()


def _triangle_image(base: int, height: int) -> np.ndarray:
    """A right triangle with its base and height written beside them. ``(180, 240, 3) uint8``."""
    img = Image.new("RGB", (_W, _H), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.polygon([(40, 150), (200, 150), (40, 30)], outline=(0, 0, 0), width=2)
    d.text((110, 156), f"base = {base} cm", fill=(0, 0, 0))
    d.text((2, 84), f"h = {height}", fill=(0, 0, 0))
    return np.asarray(img, dtype=np.uint8).copy()


def _off(rng: np.random.Generator, v: int, lo: int = 1, hi: int = 10) -> int:
    """``v`` moved by 1 or 2, staying in ``lo..hi``."""
    for d in rng.permutation([1, -1, 2, -2]):
        if lo <= v + int(d) <= hi:
            return v + int(d)
    raise ValueError(f"no value near {v} in {lo}..{hi}")


def _chart(rng: np.random.Generator, error: str | None) -> Built:
    colours = [str(c) for c in rng.choice(["red", "green", "blue", "yellow"], 3, replace=False)]
    values = [int(x) for x in rng.integers(1, 10, 3)]
    read, at = list(values), None
    if error == "visual_interpretation":
        k = int(rng.integers(3))
        read[k], at = _off(rng, values[k]), k + 1
    stated = sum(read)
    if error == "numerical_calculation":
        stated, at = sum(read) + int(rng.choice([-2, -1, 1, 2])), 4
    steps = [f"The {c} bar reaches {v}." for c, v in zip(colours, read, strict=True)]
    steps += [f"{read[0]} + {read[1]} + {read[2]} = {stated}.", f"The total is {stated}."]
    q = f"The bar chart shows a {colours[0]}, a {colours[1]} and a {colours[2]} bar. What is the sum of their heights?"
    return q, steps, at, error, _chart_image(values, colours)


def _geometry(rng: np.random.Generator, error: str | None) -> Built:
    base, height = int(rng.integers(2, 10)) * 2, int(rng.integers(2, 10))
    b, h, at = base, height, None
    if error == "visual_interpretation":
        b, at = _off(rng, base, 2, 20), 1
    formula = "The area of a triangle is base × height ÷ 2."
    product = b * h
    if error == "knowledge":
        formula, at = "The area of a triangle is base × height.", 2
    if error == "numerical_calculation":
        product, at = b * h + int(rng.choice([-4, -2, 2, 4])), 3
    area = product if error == "knowledge" else product / 2
    area_s = f"{area:g}"
    steps = [f"From the figure, the base is {b} cm and the height is {h} cm.", formula,
             f"{b} × {h} = {product}." if error != "knowledge" else f"{b} × {h} = {product} cm².",
             f"The area is {area_s} cm²." if error == "knowledge" else f"{product} ÷ 2 = {area_s}, so the area is "
                                                                         f"{area_s} cm²."]
    q = "The figure shows a right triangle. What is its area in cm²?"
    return q, steps, at, error, _triangle_image(base, height)


def _arithmetic(rng: np.random.Generator, error: str | None) -> Built:
    price, n = int(rng.integers(2, 9)), int(rng.integers(2, 7))
    note = 100  # above any cost (at most 8 × 7 + 3), so the change is never negative
    bought, at = n, None
    if error == "question_understanding":
        bought, at = n + int(rng.choice([-1, 1])), 1
    cost = price * bought
    change = note - cost
    if error == "numerical_calculation":
        if rng.integers(2):
            cost, at = cost + int(rng.choice([-3, -1, 1, 3])), 2
            change = note - cost
        else:
            change, at = change + int(rng.choice([-3, -1, 1, 3])), 3
    steps = [f"Tom buys {bought} pens at {price} dollars each.", f"The pens cost {bought} × {price} = {cost} dollars.",
             f"The change is {note} − {cost} = {change} dollars.", f"Tom gets {change} dollars back."]
    q = (f"Pens cost {price} dollars each. Tom buys {n} pens and pays with a {note}-dollar note. "
         "How much change does he get?")
    return q, steps, at, error, None


FAMILIES: dict[str, tuple[Callable[[np.random.Generator, str | None], Built], tuple[str, ...]]] = {
    "chart": (_chart, ("visual_interpretation", "numerical_calculation")),
    "geometry": (_geometry, ("visual_interpretation", "knowledge", "numerical_calculation")),
    "arithmetic": (_arithmetic, ("question_understanding", "numerical_calculation")),
}


def process_probes(root: Path | str, *, size: int = 12, seed: int = 0) -> list[ProcessCase]:
    """``size`` cases per kind (:data:`KINDS`), figures written as PNG under ``root/process/``; media paths
    are relative to ``root``. Case ``i`` of a kind is a control when ``i % (1 + n_errors) == 0``, else has the
    ``i % (1 + n_errors)``-th error type of the kind.

    Raises:
        ValueError: ``size`` < 1.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    root = Path(root)
    (root / "process").mkdir(parents=True, exist_ok=True)
    cases = []
    for kind, (build, errors) in FAMILIES.items():
        for i in range(size):
            rng = np.random.default_rng([seed, KINDS.index(kind), i])
            slot = i % (1 + len(errors))
            error = errors[slot - 1] if slot else None
            q, steps, at, etype, img = build(rng, error)
            labels = tuple(StepLabel(INCORRECT, etype) if at == j + 1 else StepLabel(CORRECT)
                           for j in range(len(steps)))
            media: tuple[MediaRef, ...] = ()
            if img is not None:
                rel = f"process/{kind}-{seed}-{i}.png"
                write_png(root / rel, img)
                media = (MediaRef("image", path=rel),)
            cases.append(ProcessCase(f"process/{kind}/{i}", q, tuple(steps), labels, media, "math",
                                     "single_image" if media else "text",
                                     {"kind": kind, "error_step": at, "error_type": etype}))
    return cases


__all__ = ["FAMILIES", "KINDS", "process_probes"]
