"""Motion probes: labels checked by decoding the saved mp4s with decord and tracking the ball's colour
centroid, and by comparing decoded frames."""

from __future__ import annotations

import re

import numpy as np
import pytest

from .probe_measure import (
    compass_angle,
    is_gray,
    motion_direction,
    read_frames,
    read_rgb,
    stated_direction,
)
from .probe_sets import ProbeSet, media_path

SETS = ("small", "hard_video")


def _colour(question: str) -> str:
    m = re.search(r"\b(red|green|blue|yellow|purple) ball", question)
    assert m, question
    return m.group(1)


def _asked_direction(question: str) -> str:
    m = re.search(r"\bmov(?:e|ing) (up|down|left|right)( and to the (left|right))?", question)
    assert m, question
    return f"{m.group(1)}-{m.group(3)}" if m.group(3) else m.group(1)


@pytest.mark.parametrize("which", SETS)
def test_motion_direction_labels_match_tracked_direction(which: str, request: pytest.FixtureRequest) -> None:
    ps: ProbeSet = request.getfixturevalue(which)
    for q, rs, scores in ps.queries("motion_direction"):
        frames, fps = read_frames(media_path(ps.root, q))
        assert frames.shape[1:] == (96, 128, 3) and fps == 10.0
        true = motion_direction(frames, _colour(q.question))
        for r, s in zip(rs, scores, strict=True):
            assert 5 - compass_angle(true, stated_direction(r.text or "")) // 45 == s, (q.uniq_id, r.text, true)


@pytest.mark.parametrize("which", SETS)
def test_draw_motion_labels_match_tracked_direction(which: str, request: pytest.FixtureRequest) -> None:
    ps: ProbeSet = request.getfixturevalue(which)
    for q, rs, scores in ps.queries("draw_motion"):
        asked, colour = _asked_direction(q.question), _colour(q.question)
        for r, s in zip(rs, scores, strict=True):
            frames, _ = read_frames(media_path(ps.root, r))
            shown = motion_direction(frames, colour)
            assert 5 - compass_angle(asked, shown) // 45 == s, (q.question, r.model_name, shown)


@pytest.mark.parametrize("which", SETS)
def test_animate_image_labels_match_first_frame_and_motion(which: str, request: pytest.FixtureRequest) -> None:
    ps: ProbeSet = request.getfixturevalue(which)
    for q, rs, scores in ps.queries("animate_image"):
        still = read_rgb(media_path(ps.root, q)).astype(np.float32)
        asked, colour = _asked_direction(q.question), _colour(q.question)
        for r, s in zip(rs, scores, strict=True):
            frames, _ = read_frames(media_path(ps.root, r))
            wrong_start = float(np.abs(frames[0].astype(np.float32) - still).mean()) > 2.0
            penalty = compass_angle(asked, motion_direction(frames, colour)) // 45 + 2 * wrong_start
            assert max(1, 5 - penalty) == s, (q.question, r.model_name)


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def _half_states(question: str, src: np.ndarray, out: np.ndarray) -> list[str]:
    """Per half of the frames: 'edited', 'same' (as the input) or 'other'."""
    n = len(src)
    states = []
    for sl in (slice(0, n // 2), slice(n // 2, n)):
        a, b = src[sl], out[sl]
        if _mae(a, b) < 1.5:
            states.append("same")
        elif question.startswith("Convert this video to grayscale"):
            states.append("edited" if all(is_gray(f, tol=4) for f in b) else "other")
        elif question.startswith("Mirror this video"):
            states.append("edited" if _mae(a[:, :, ::-1], b) < 1.5 else "other")
        else:  # reverse: every frame is an input frame, and the frames run backwards
            idx = [int(np.argmin([_mae(f, g) for g in src])) for f in b]
            from_input = all(_mae(f, src[i]) < 1.5 for f, i in zip(b, idx, strict=True))
            states.append("edited" if from_input and all(np.diff(idx) < 0) else "other")
    return states


@pytest.mark.parametrize("which", SETS)
def test_video_edit_labels_match_frame_comparisons(which: str, request: pytest.FixtureRequest) -> None:
    ps: ProbeSet = request.getfixturevalue(which)
    for q, rs, scores in ps.queries("video_edit"):
        src, _ = read_frames(media_path(ps.root, q))
        for r, s in zip(rs, scores, strict=True):
            states = _half_states(q.question, src, read_frames(media_path(ps.root, r))[0])
            expected = (5 if states == ["edited", "edited"] else 3 if sorted(states) == ["edited", "same"]
                        else 1 if states == ["same", "same"] else 2)
            assert expected == s, (q.question, r.model_name, states)
