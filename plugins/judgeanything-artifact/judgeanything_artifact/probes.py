"""``artifact_defects``: Text2Artifact probes whose candidates are single-file HTML pages with defects known
by construction, registered into judgeanything's probe suite through the ``judgeanything.probe_families``
entry point (``benchmark=probes benchmark.families=[artifact_defects]``).

The request asks for a 480×360 page with four parts, each checkable in the DOM and in a screenshot:

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


def page(button_colour: str, box_colour: str, defects: Sequence[str]) -> str:
    """The HTML of a candidate with ``defects`` (names in :data:`PENALTY`); colours are CSS hex strings."""
    d = set(defects)
    bx, by, bw, bh = BOX_MOVED if "wrong_position" in d else BOX
    button = "" if "missing_button" in d else (
        f'<button id="start" style="position:absolute;left:{BUTTON[0]}px;top:{BUTTON[1]}px;width:{BUTTON[2]}px;'
        f'height:{BUTTON[3]}px;background:{button_colour};color:#fff;border:0;font:16px sans-serif">Start</button>')
    banner = ('<div id="banner" style="position:absolute;left:0;top:200px;width:900px;height:24px;'
              f'background:{BANNER}"></div>') if "overflow" in d else ""
    play = "paused" if "frozen_animation" in d else "running"
    fault = "undefinedConfig.start();\n  " if "script_error" in d else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Panel</title>
<style>
  html, body {{ margin: 0; background: #ffffff; }}
  body {{ position: relative; width: {WIDTH}px; height: {HEIGHT}px; }}
  #mover {{ position: absolute; left: {MOVER_BOX[0]}px; top: {MOVER_BOX[1]}px; width: {MOVER_BOX[2]}px;
           height: {MOVER_BOX[3]}px; background: {MOVER};
           animation: slide 2s linear infinite alternate; animation-play-state: {play}; }}
  @keyframes slide {{ from {{ left: {MOVER_TRAVEL[0]}px; }} to {{ left: {MOVER_TRAVEL[1]}px; }} }}
</style></head>
<body>
{button}
<div id="box" style="position:absolute;left:{bx}px;top:{by}px;width:{bw}px;height:{bh}px;background:{box_colour}"></div>
{banner}
<div id="mover"></div>
<script>
  {fault}const bar = document.createElement("div");
  bar.id = "status";
  bar.textContent = "Ready";
  bar.style.cssText = "position:absolute;left:{STATUS_BOX[0]}px;top:{STATUS_BOX[1]}px;width:{STATUS_BOX[2]}px;" +
    "height:{STATUS_BOX[3]}px;background:{STATUS};color:#fff;font:14px sans-serif";
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
    question = (f"Write a single self-contained HTML page for a {WIDTH}×{HEIGHT} px window with a white "
                f"background: a {button_name} 'Start' button centred at the top; a {box_name} 160×80 px box "
                f"at the left below it; a small red square that slides continuously from the left edge to the "
                f"right and back; and a dark status bar at the bottom reading 'Ready', added by a script. "
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
    knobs={"minor": MINOR, "major": MAJOR},
    build=_build,
)

FAMILIES: tuple[Family, ...] = (ARTIFACT_DEFECTS,)
