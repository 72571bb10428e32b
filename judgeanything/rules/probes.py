"""The rule probe family: content whose properties are known by construction, so that every rule of the probe
constitution (``conf/constitutions/probes.yaml``) is true or false *by construction* for every item — and so is
whether it applies (its preconditions).

Contents (drawn with the probe suite's generators, :mod:`judgeanything.datasets.probes.synth`):

* ``image``: 1–6 flat shapes (:data:`~judgeanything.datasets.probes.synth.SHAPES`) in colours of
  :data:`~judgeanything.datasets.probes.synth.PALETTE`, half of them with a printed word; facts
  ``shape_count``, ``colours``, ``has_text``, ``text``;
* ``audio``: 1.5 s, a pure tone (440–880 Hz) or near-silence (faint noise, −50 dBFS); facts ``tone_present``,
  ``tone_hz``;
* ``video``: 20 frames at 10 frames/s, a ball moving across the frame or standing still; facts ``motion``.

Every content has the fact ``modality``. Item ids: ``rule::<content id>::<rule id>``; the label of an item is
``yes`` / ``no`` from the rule's ``probe`` check, or ``n/a`` when a precondition's check fails (the relevance
screen should skip it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from judgeanything.datasets.base import BenchmarkData
from judgeanything.datasets.probes.media import write_audio, write_mp4, write_png
from judgeanything.datasets.probes.synth import (
    FPS,
    IMAGE_H,
    IMAGE_W,
    PALETTE,
    SHAPES,
    SR,
    VIDEO_H,
    VIDEO_W,
    Shape,
    ball_frames,
    draw_shapes,
    place_boxes,
    tone,
)
from judgeanything.rules.constitution import Constitution
from judgeanything.schema import NOT_APPLICABLE, OVERALL, HumanLabel, Item, MediaRef, Query, RuleItem

#: Bump when the generated content changes (the cache folder is named after it).
RULE_PROBES_VERSION = "rules-v1"
#: Contents per kind (image, audio, video) per probes size.
PER_KIND = {"small": 8, "medium": 24, "large": 60}
WORDS = ("STOP", "EXIT", "OPEN", "SALE")
TEXT_H = 26  #: height (px) of the band a word is printed in, at the bottom of the image


@dataclass(frozen=True)
class Content:
    """One generated content: its id, file (relative to the data root), modality and facts."""

    content_id: str
    path: str
    modality: str
    facts: Mapping[str, Any]


def _image(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """``(IMAGE_H, IMAGE_W, 3) uint8`` shapes (and maybe a word below them) and their facts."""
    n = int(rng.integers(1, 7))
    colours = [str(rng.choice(list(PALETTE))) for _ in range(n)]
    kinds = [str(rng.choice(SHAPES)) for _ in range(n)]
    has_text = bool(rng.integers(2))
    size = 26
    xy = place_boxes(rng, n, size, IMAGE_W, IMAGE_H - TEXT_H)
    img = draw_shapes([Shape(k, c, x, y, size) for k, c, (x, y) in zip(kinds, colours, xy, strict=True)],
                      IMAGE_W, IMAGE_H)
    word = str(rng.choice(WORDS)) if has_text else ""
    if word:
        pil = Image.fromarray(img)
        ImageDraw.Draw(pil).text((6, IMAGE_H - TEXT_H + 2), word, fill=(0, 0, 0),
                                 font=ImageFont.load_default(size=20))
        img = np.asarray(pil, dtype=np.uint8).copy()
    return img, {"modality": "image", "shape_count": n, "colours": sorted(set(colours)), "has_text": has_text,
                 "text": word}


def _audio(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """1.5 s mono ``(N,) float`` at :data:`SR`: a tone, or faint noise only."""
    present = bool(rng.integers(2))
    hz = float(rng.choice([440.0, 660.0, 880.0]))
    x = tone(hz, 1.5) if present else np.zeros(int(1.5 * SR))
    x = x + rng.normal(0.0, 10 ** (-50 / 20), size=x.shape)
    return np.clip(x, -1, 1), {"modality": "audio", "tone_present": present, "tone_hz": hz if present else 0.0}


def _video(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """``(20, VIDEO_H, VIDEO_W, 3) uint8``: a ball crossing the frame, or standing still."""
    motion = bool(rng.integers(2))
    colour = str(rng.choice(list(PALETTE)))
    y = float(rng.integers(25, VIDEO_H - 25))
    start, step = ((16.0, y), (4.8, 0.0)) if motion else ((float(rng.integers(20, VIDEO_W - 20)), y), (0.0, 0.0))
    return ball_frames(20, start, step, 10, colour), {"modality": "video", "motion": motion}


def generate(root: Path, n_per_kind: int, seed: int) -> list[Content]:
    """Write the contents under ``root`` (skipped when ``root/contents.json`` is there) and return them."""
    index = root / "contents.json"
    if index.exists():
        return [Content(**c) for c in json.loads(index.read_text())]
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out: list[Content] = []
    for k in range(n_per_kind):
        img, facts = _image(rng)
        write_png(root / f"image_{k:03d}.png", img)
        out.append(Content(f"image_{k:03d}", f"image_{k:03d}.png", "image", facts))
        snd, facts = _audio(rng)
        write_audio(root / f"audio_{k:03d}.wav", snd, SR)
        out.append(Content(f"audio_{k:03d}", f"audio_{k:03d}.wav", "audio", facts))
        frames, facts = _video(rng)
        write_mp4(root / f"video_{k:03d}.mp4", frames, FPS)
        out.append(Content(f"video_{k:03d}", f"video_{k:03d}.mp4", "video", facts))
    tmp = index.with_suffix(".tmp")
    tmp.write_text(json.dumps([c.__dict__ for c in out], indent=1))
    tmp.replace(index)  # the index last: a half-written folder is generated again
    return out


def truth(constitution: Constitution, rule_id: str, facts: Mapping[str, Any]) -> str | None:
    """An item's label: ``n/a`` when a precondition's check fails, else ``yes``/``no`` from the rule's check
    (``None`` when the rule has no probe check)."""
    rule = constitution.rule(rule_id)
    for j in range(len(rule.preconditions)):
        check = constitution.precondition_probes.get((rule_id, j))
        if check is not None and not check.holds(facts):
            return NOT_APPLICABLE
    check = constitution.probes.get(rule_id)
    if check is None:
        return None
    return "yes" if check.holds(facts) else "no"


def rule_probes(root: Path, constitution: Constitution, *, size: str = "small", seed: int = 0) -> BenchmarkData:
    """The rule probe benchmark: every content × every rule, labelled by construction.

    Raises:
        ValueError: an unknown size.
    """
    if size not in PER_KIND:
        raise ValueError(f"unknown probes size {size!r} (known: {', '.join(PER_KIND)})")
    data_root = root / "rules" / f"{RULE_PROBES_VERSION}-{size}-s{seed}"
    contents = generate(data_root, PER_KIND[size], seed)
    items: list[Item] = []
    labels: list[HumanLabel] = []
    for c in contents:
        query = Query(uniq_id=c.content_id, task_name=f"{c.modality.capitalize()}2Text", question="",
                      media=(MediaRef(c.modality, path=c.path),), meta={"facts": dict(c.facts)})
        for rule in constitution.rules:
            item_id = f"rule::{c.content_id}::{rule.id}"
            items.append(RuleItem(item_id, query, rule, meta={"rule_id": rule.id, "modality": c.modality}))
            label = truth(constitution, rule.id, c.facts)
            if label is not None:
                labels.append(HumanLabel(item_id, OVERALL, label, annotator="construction"))
    notes = [f"rule probes: {len(contents)} contents × {len(constitution.rules)} rules of constitution "
             f"{constitution.name!r}; labels by construction (yes = violates, n/a = a precondition fails)"]
    return BenchmarkData("probes", "rules", items, labels, data_root=data_root, notes=notes)


__all__ = ["PER_KIND", "RULE_PROBES_VERSION", "Content", "generate", "rule_probes", "truth"]
