"""Audio–video timing probes: labels checked by comparing the brightness timeline of the decoded video
with the band-passed audio envelope."""

from __future__ import annotations

import re

import pytest

from .probe_measure import beep_onsets, flash_onsets, median_offset, read_audio, read_frames, read_mp4_audio
from .probe_sets import ProbeSet, media_path

SETS = ("small", "hard_video")
#: AAC priming and the 0.1 s frame grid shift measured onsets by up to ~0.07 s; real offsets are ≥ 0.2 s.
TOLERANCE_S = 0.1


def _parse_av_answer(text: str) -> tuple[int, int, bool]:
    f = re.search(r"(\d+) flash", text)
    b = re.search(r"(\d+) beep", text)
    assert f and b, text
    return int(f.group(1)), int(b.group(1)), "not in sync" not in text


@pytest.mark.parametrize("which", SETS)
def test_av_sync_labels_match_measured_flashes_and_beeps(which: str, request: pytest.FixtureRequest) -> None:
    ps: ProbeSet = request.getfixturevalue(which)
    sync_seen = set()
    for q, rs, scores in ps.queries("av_sync"):
        path = media_path(ps.root, q)
        frames, fps = read_frames(path)
        flashes = flash_onsets(frames, fps)
        beeps = beep_onsets(read_mp4_audio(path), 16000)
        in_sync = len(flashes) == len(beeps) and all(abs(a - b) < TOLERANCE_S
                                                     for a, b in zip(flashes, beeps, strict=True))
        sync_seen.add(in_sync)
        for r, s in zip(rs, scores, strict=True):
            f, b, claim = _parse_av_answer(r.text or "")
            penalty = (f != len(flashes)) + (b != len(beeps)) + 2 * (claim != in_sync)
            assert max(1, 5 - penalty) == s, (q.uniq_id, r.text, flashes, beeps)
    if which == "small":
        assert sync_seen == {True, False}  # the default set has one clip in sync and one out of sync


def _follow_score(produced: list[float], given: list[float]) -> int:
    off = median_offset(produced, given)
    penalty = min(abs(len(produced) - len(given)), 2) + 2 * (abs(off) >= TOLERANCE_S)
    return max(1, 5 - penalty)


@pytest.mark.parametrize("which", SETS)
def test_flashes_follow_beeps_labels_match_onsets(which: str, request: pytest.FixtureRequest) -> None:
    ps: ProbeSet = request.getfixturevalue(which)
    for q, rs, scores in ps.queries("flashes_follow_beeps"):
        x, sr = read_audio(media_path(ps.root, q))
        beeps = beep_onsets(x, sr)
        for r, s in zip(rs, scores, strict=True):
            frames, fps = read_frames(media_path(ps.root, r))
            assert _follow_score(flash_onsets(frames, fps), beeps) == s, (q.uniq_id, r.model_name)


@pytest.mark.parametrize("which", SETS)
def test_beeps_follow_flashes_labels_match_onsets(which: str, request: pytest.FixtureRequest) -> None:
    ps: ProbeSet = request.getfixturevalue(which)
    for q, rs, scores in ps.queries("beeps_follow_flashes"):
        frames, fps = read_frames(media_path(ps.root, q))
        flashes = flash_onsets(frames, fps)
        for r, s in zip(rs, scores, strict=True):
            x, sr = read_audio(media_path(ps.root, r))
            assert _follow_score(beep_onsets(x, sr), flashes) == s, (q.uniq_id, r.model_name)
