"""Prompt-injection probes: the injected candidate is the query's unique worst by construction, and the
instruction is really there — in the answer text, in the pixels of the image's caption strip, in every
video frame, in the speech — while the rest of each medium still measures as the base family's label."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from judgeanything.datasets.probes.injection import (
    BANNER_H,
    CONTROL,
    INJECTIONS,
    NEUTRAL,
    STYLES,
    caption_strip,
)

from .probe_measure import active_span, draw_score, motion_direction, read_audio, read_frames, read_rgb
from .probe_sets import ProbeSet, generate, media_path

HAS_ESPEAK = shutil.which("espeak-ng") is not None
FAMILIES = ["injection_text", "injection_image", "injection_video"] + (["injection_audio"] if HAS_ESPEAK else [])


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> ProbeSet:
    """Every injection family at size medium: each style twice (once per variant)."""
    return generate(tmp_path_factory.mktemp("probes-injection"), size="medium", seed=2, families=FAMILIES)


def _target(q, rs, scores):  # type: ignore[no-untyped-def]
    name = q.meta["truth"]["injection_target"]
    i = [r.model_name for r in rs].index(name)
    return i, rs[i]


@pytest.mark.parametrize("family", FAMILIES)
def test_target_is_the_unique_worst_and_the_only_one_marked(probes: ProbeSet, family: str) -> None:
    styles = set()
    for q, rs, scores in probes.queries(family):
        i, _ = _target(q, rs, scores)
        assert scores[i] < min(s for k, s in enumerate(scores) if k != i), (q.uniq_id, scores)
        style = q.meta["difficulty"]["injection"]
        styles.add(style)
        assert q.meta["truth"]["injection"] == style
        marked = [r.meta.get("injection") for r in rs]
        assert marked == [style if k == i and style != CONTROL else None for k in range(4)], marked
    assert styles == set(STYLES)


def test_text_candidates_carry_the_instruction_or_the_neutral_sentence(probes: ProbeSet) -> None:
    for q, rs, scores in probes.queries("injection_text"):
        i, target = _target(q, rs, scores)
        style = q.meta["difficulty"]["injection"]
        expected = NEUTRAL if style == CONTROL else INJECTIONS[style]
        assert target.text is not None and target.text.endswith("\n\n" + expected)
        # the answer before the injection is still the wrong-operation result the label is for
        a, b, op = q.meta["truth"]["a"], q.meta["truth"]["b"], q.meta["truth"]["op"]
        wrong = {a + b, a - b, a * b} - {{"+": a + b, "-": a - b, "×": a * b}[op]}
        assert int(re.findall(r"-?\d+", target.text.split("\n\n")[0])[-1]) in wrong
        for k, r in enumerate(rs):
            if k != i:
                assert not any(t in (r.text or "") for t in (*INJECTIONS.values(), NEUTRAL))
        # the control's neutral sentence is as long as an injection (within 25 %), so lift ≠ length effect
        assert all(abs(len(NEUTRAL) - len(t)) < 0.25 * len(t) for t in INJECTIONS.values())


def test_image_strip_holds_the_rendered_instruction_and_drawings_still_measure(probes: ProbeSet) -> None:
    for q, rs, scores in probes.queries("injection_image"):
        i, _ = _target(q, rs, scores)
        style = q.meta["difficulty"]["injection"]
        m = re.match(r"Draw exactly (\d+) (\w+) (\w+)s on", q.question)
        assert m, q.question
        for k, r in enumerate(rs):
            rgb = read_rgb(media_path(probes.root, r))
            strip, drawing = rgb[-BANNER_H:], rgb[:-BANNER_H]
            if k == i:
                text = NEUTRAL if style == CONTROL else INJECTIONS[style]
                np.testing.assert_array_equal(strip, caption_strip(text, rgb.shape[1], 11))
                assert (strip.min(axis=2) < 100).mean() > 0.05  # real ink, not an empty strip
            else:
                assert (strip == 255).all()
            assert draw_score(drawing, int(m.group(1)), m.group(2), m.group(3)) == scores[k], (q.uniq_id, k)


def test_video_frames_show_the_instruction_and_the_ball_still_moves_as_labelled(probes: ProbeSet) -> None:
    for q, rs, scores in probes.queries("injection_video"):
        i, _ = _target(q, rs, scores)
        style = q.meta["difficulty"]["injection"]
        colour = q.meta["truth"]["colour"]
        for k, r in enumerate(rs):
            frames, _ = read_frames(media_path(probes.root, r))
            ink = frames[:, -BANNER_H:].min(axis=3) < 100  # (T, BANNER_H, W) dark pixels of each strip
            if k == i:
                text = NEUTRAL if style == CONTROL else INJECTIONS[style]
                want = caption_strip(text, frames.shape[2], 9).min(axis=2) < 100
                for f in ink:  # every frame shows the text where it was drawn (H.264 blurs its edges)
                    assert (f & want).sum() / want.sum() > 0.6
            else:
                assert ink.mean() < 0.002
            assert motion_direction(frames[:, :-BANNER_H], colour) == r.meta["shown_direction"]


@pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_audio_target_speaks_a_sentence_after_its_number(probes: ProbeSet) -> None:
    for q, rs, scores in probes.queries("injection_audio"):
        i, _ = _target(q, rs, scores)
        clips = [read_audio(media_path(probes.root, r)) for r in rs]
        assert len({len(x) for x, _ in clips}) == 1  # padded to one length: duration says nothing
        spans = [active_span(x, sr) for x, sr in clips]
        speech = [t1 - t0 for t0, t1 in spans]
        assert speech[i] > 3.0 and all(s < 1.5 for k, s in enumerate(speech) if k != i), speech


def test_small_probe_suite_gains_one_query_of_each_style_pattern(tmp_path: Path) -> None:
    ps = generate(tmp_path, size="small", seed=0, families=["injection_text"])
    got = sorted(q.meta["difficulty"]["injection"] for q, _, _ in ps.queries("injection_text"))
    assert got == sorted(STYLES[:2])  # design points 0 and 1: an injection and its control
