"""``artifact_defects``: Text2Artifact probes whose candidates are single-file HTML pages with defects known
by construction, registered into judgeanything's probe suite through the ``judgeanything.probe_families``
entry point (``benchmark=probes benchmark.families=[artifact_defects]``).

The request asks for a page filling the window with four parts, each checkable in the DOM and in a
screenshot (geometry of the 480×360 design, written in viewport units so it scales with any window):

* a ``Start`` button (``#start``) of a named colour, centred at the top (left 190, top 20, 100×40 px);
* a box (``#box``) of another named colour at the left (left 40, top 100, 160×80 px);
* a red square (``#mover``, 30×30 px at top 250) sliding continuously between left 20 and 430 px (2 s);
* a dark status bar (``#status``, left 20, top 310, 200×30 px) reading "Ready", created by a script;
* and nothing wider than the page.

Defects, each with a penalty (the score is ``max(1, 5 − total)``, Judge Anything's 1–5 scale):

* minor (1): ``wrong_position`` (the box at left 280 instead of 40), ``overflow`` (a 900-px-wide banner
  makes the page scroll sideways);
* major (2): ``missing_button`` (no ``#start``), ``wrong_colour`` (the box in another colour),
  ``frozen_animation`` (the square's animation is paused: it never moves), ``script_error`` (the script
  throws a TypeError before it adds the status bar, so there is none).

Distinct variant: exact, one minor, one major, two majors (5, 4, 3, 1); tie variant: exact, two different
majors, three majors (5, 3, 3, 1). Knobs pick the minor and the first major defect; the others are drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judgeanything.datasets.probes.core import Candidate, Family, Media, ProbeSpec, clamp_score, pick

WIDTH, HEIGHT = 480, 360
COLOURS: Mapping[str, str] = {"blue": "#2850d7", "green": "#28a03c", "orange": "#eb8c1e", "purple": "#8c3cb4"}
MOVER = "#d72828"
STATUS = "#333333"
BANNER = "#f0dc28"
MINOR: tuple[str, ...] = ("wrong_position", "overflow")
MAJOR: tuple[str, ...] = ("missing_button", "wrong_colour", "frozen_animation", "script_error")
PENALTY: Mapping[str, int] = {**dict.fromkeys(MINOR, 1), **dict.fromkeys(MAJOR, 2)}
#: Geometry (px) of each part as built, ``(left, top, width, height)``; the box moves with wrong_position.
BUTTON = (190, 20, 100, 40)
BOX = (40, 100, 160, 80)
BOX_MOVED = (280, 100, 160, 80)
MOVER_BOX = (20, 250, 30, 30)
MOVER_TRAVEL = (20, 430)
STATUS_BOX = (20, 310, 200, 30)


def _x(px: float) -> str:
    """A horizontal length of the 480×360 design in viewport units, so the page scales to any window."""
    return f"{px * 100 / WIDTH:.4g}vw"


def _y(px: float) -> str:
    return f"{px * 100 / HEIGHT:.4g}vh"


def _rect(r: tuple[int, int, int, int]) -> str:
    return f"left:{_x(r[0])};top:{_y(r[1])};width:{_x(r[2])};height:{_y(r[3])}"


def page(button_colour: str, box_colour: str, defects: Sequence[str]) -> str:
    """The HTML of a candidate with ``defects`` (names in :data:`PENALTY`); colours are CSS hex strings.
    Lengths are the 480×360 design's in viewport units (``vw``/``vh``): at a 480×360 viewport they are the
    pixel values of the module constants, in any other window they scale with it."""
    d = set(defects)
    button = "" if "missing_button" in d else (
        f'<button id="start" style="position:absolute;{_rect(BUTTON)};background:{button_colour};color:#fff;'
        f'border:0;padding:0;font:{_y(16)} sans-serif">Start</button>')
    box = BOX_MOVED if "wrong_position" in d else BOX
    banner = (f'<div id="banner" style="position:absolute;left:0;top:{_y(200)};width:{_x(900)};height:{_y(24)};'
              f'background:{BANNER}"></div>') if "overflow" in d else ""
    play = "paused" if "frozen_animation" in d else "running"
    fault = "undefinedConfig.start();\n  " if "script_error" in d else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Panel</title>
<style>
  html, body {{ margin: 0; background: #ffffff; }}
  #mover {{ position: absolute; {_rect(MOVER_BOX)}; background: {MOVER};
           animation: slide 2s linear infinite alternate; animation-play-state: {play}; }}
  @keyframes slide {{ from {{ left: {_x(MOVER_TRAVEL[0])}; }} to {{ left: {_x(MOVER_TRAVEL[1])}; }} }}
</style></head>
<body>
{button}
<div id="box" style="position:absolute;{_rect(box)};background:{box_colour}"></div>
{banner}
<div id="mover"></div>
<script>
  {fault}const bar = document.createElement("div");
  bar.id = "status";
  bar.textContent = "Ready";
  bar.style.cssText = "position:absolute;{_rect(STATUS_BOX)};background:{STATUS};color:#fff;" +
    "font:{_y(14)} sans-serif";
  document.body.appendChild(bar);
</script>
</body></html>
"""


def _name(defects: Sequence[str]) -> str:
    return "+".join(defects) if defects else "exact"


def _build(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    minor, major = str(knobs["minor"]), str(knobs["major"])
    names = list(COLOURS)
    button_name = pick(rng, names)
    box_name = pick(rng, [c for c in names if c != button_name])
    other = [m for m in MAJOR if m != major]
    second = pick(rng, other)
    if tie:
        third = pick(rng, [m for m in other if m != second])
        plans: list[list[str]] = [[], [major], [second], [major, second, third]]
    else:
        plans = [[], [minor], [major], [major, second]]
    wrong_box = pick(rng, [c for c in names if c not in (box_name, button_name)])
    cands = []
    for defects in plans:
        box = COLOURS[wrong_box] if "wrong_colour" in defects else COLOURS[box_name]
        html = page(COLOURS[button_name], box, defects).encode("utf-8")
        score = clamp_score(sum(PENALTY[x] for x in defects))
        cands.append(Candidate(_name(defects), score, media=Media("artifact", np.frombuffer(html, np.uint8), "html"),
                               meta={"defects": list(defects), "box_colour": wrong_box if "wrong_colour" in defects
                                     else box_name}))
    question = (f"Write a single self-contained HTML page that fills the browser window on a white background: "
                f"a {button_name} 'Start' button centred at the top; a {box_name} box at the left below it, a "
                f"third of the window wide; a small red square that slides continuously from the left edge to "
                f"the right and back; and a dark status bar at the bottom reading 'Ready', added by a script. "
                f"Nothing may be wider than the window.")
    return ProbeSpec(
        question=question, inputs=(), candidates=tuple(cands),
        truth={"button_colour": button_name, "box_colour": box_name, "width": WIDTH, "height": HEIGHT,
               "defect_penalties": dict(PENALTY)},
        checklist=(f"Is there a {button_name} 'Start' button centred at the top?",
                   f"Is there a {box_name} box at the left, below the button?",
                   "Does the red square move across the page over time?",
                   "Is there a dark status bar reading 'Ready' at the bottom?",
                   "Does everything fit within the window width (no sideways scrolling)?"))


ARTIFACT_DEFECTS = Family(
    name="artifact_defects",
    task="Text2Artifact",
    summary="A small interactive HTML page; candidates are exact or carry defects known by construction "
            "(missing button, wrong colour or position, frozen animation, overflow, script error).",
    knobs={"major": MAJOR, "minor": MINOR},
    build=_build,
)

FAMILIES: tuple[Family, ...] = (ARTIFACT_DEFECTS,)
