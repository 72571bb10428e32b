"""Probes about timing between sound and picture: flashes and beeps in sync or not (AudioVideo2Text), a
video whose flashes follow given beeps (Audio2Video) and beeps that follow a video's flashes
(Video2Audio)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judgeanything.datasets.probes.core import (
    Candidate,
    Family,
    Media,
    ProbeSpec,
    clamp_score,
    phrase_all,
    pick,
    plural,
    signed_offset,
)
from judgeanything.datasets.probes.synth import (
    FPS,
    SR,
    add_noise_snr,
    beep_track,
    flash_frames,
    place_times,
)

CLIP_S = 3.0  #: length of every clip (s)
EVENT_LO, EVENT_HI = 0.2, 2.3  #: event onsets are drawn on a 0.1 s grid in this window (s)
EVENT_GAP = 0.7  #: minimum time between onsets (s); shifts stay below half of it
SYNC_TOLERANCE_S = 0.1  #: a timing offset of at least this much counts as out of sync


def _flashes(times: Sequence[float], radius: int, audio: np.ndarray | None = None) -> Media:
    return Media("video", flash_frames(times, CLIP_S, radius=radius), "mp4", rate=float(FPS), audio=audio,
                 audio_rate=SR)


def _beeps(times: Sequence[float]) -> Media:
    return Media("audio", beep_track(times, CLIP_S), "wav", rate=float(SR))


def timing_penalty(count_error: int, offset_s: float) -> int:
    """Audio2Video / Video2Audio penalty: ``min(|count error|, 2) + 2·[|median offset| ≥ 0.1 s]``, where
    the offset is the median, over the produced events, of the signed time to the nearest given event;
    score ``max(1, 5 − penalty)``."""
    return min(abs(count_error), 2) + 2 * int(abs(offset_s) >= SYNC_TOLERANCE_S)


def _follow_plan(rng: np.random.Generator, times: list[float], shift: float, tie: bool
                 ) -> list[tuple[str, list[float], int, float]]:
    """(name, event times, count error, offset) for the follow-the-events families: distinct variant
    exact, missing one, shifted, shifted and missing one (scores 5, 4, 3, 2); tie variant exact, missing
    one, one extra, shifted and missing one (5, 4, 4, 2).

    Raises:
        ValueError: fewer than two events (a "missing one" candidate would be empty).
    """
    if len(times) < 2:
        raise ValueError(f"n_events must be at least 2, got {len(times)}")
    drop = int(rng.integers(len(times)))
    missing = [t for i, t in enumerate(times) if i != drop]
    slots = [round(k * 0.1, 6) for k in range(2, 28) if all(abs(k * 0.1 - t) >= 0.4 - 1e-9 for t in times)]
    extra = sorted([*times, pick(rng, slots)])
    shifted = [round(t + shift, 6) for t in times]
    drop2 = int(rng.integers(len(times)))
    shifted_missing = [t for i, t in enumerate(shifted) if i != drop2]
    if tie:
        return [("exact", times, 0, 0.0), ("missing_one", missing, -1, 0.0), ("extra_one", extra, 1, 0.0),
                ("shifted_missing_one", shifted_missing, -1, shift)]
    return [("exact", times, 0, 0.0), ("missing_one", missing, -1, 0.0), ("shifted", shifted, 0, shift),
            ("shifted_missing_one", shifted_missing, -1, shift)]


# ------------------------------------------------------------------------------------------------
# av_sync (AudioVideo2Text)
# ------------------------------------------------------------------------------------------------

def _flash_words(n: int) -> str:
    return f"{n} flash" if n == 1 else f"{n} flashes"


_AV_TEMPLATES = (
    "{flashes} and {beeps}; the beeps are {sync} with the flashes.",
    "I see {flashes} and hear {beeps}, and the sound is {sync} with the picture.",
    "{flashes}, {beeps}, {sync}.",
    "Watching and listening closely, there are {flashes} and {beeps}, and they are {sync}.",
)


def av_penalty(flash_error: bool, beep_error: bool, sync_error: bool) -> int:
    """AudioVideo2Text penalty: one per wrong count, two for a wrong in-sync claim; score
    ``max(1, 5 − penalty)``."""
    return int(flash_error) + int(beep_error) + 2 * int(sync_error)


def _build_av_sync(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    offset, n = float(knobs["offset_s"]), int(knobs["n_events"])
    radius, snr = int(knobs["flash_radius"]), knobs["snr_db"]
    if abs(offset) >= EVENT_GAP / 2:
        raise ValueError(f"av_sync: |offset_s| must stay below {EVENT_GAP / 2} s, got {offset}")
    times = place_times(rng, n, EVENT_LO, EVENT_HI, EVENT_GAP)
    flash_t = [round(t + max(0.0, -offset), 6) for t in times]
    beep_t = [round(t + max(0.0, offset), 6) for t in times]
    in_sync = abs(offset) < SYNC_TOLERANCE_S
    audio = add_noise_snr(beep_track(beep_t, CLIP_S), snr, rng)
    video = _flashes(flash_t, radius, audio)
    wrong_f, wrong_b = signed_offset(rng, n, 1, 1), signed_offset(rng, n, 1, 1)
    if tie:
        plan = [("exact", n, n, in_sync), ("wrong_beep_count", n, wrong_b, in_sync),
                ("wrong_flash_count", wrong_f, n, in_sync), ("all_wrong", wrong_f, wrong_b, not in_sync)]
    else:
        plan = [("exact", n, n, in_sync), ("wrong_beep_count", n, wrong_b, in_sync),
                ("wrong_sync", n, n, not in_sync), ("all_wrong", wrong_f, wrong_b, not in_sync)]
    tpl = phrase_all(rng, _AV_TEMPLATES, 4)
    cands = []
    for (name, f, b, s), t in zip(plan, tpl, strict=True):
        text = _AV_TEMPLATES[t].format(flashes=_flash_words(f), beeps=plural(b, "beep"),
                                       sync="in sync" if s else "not in sync")
        pen = av_penalty(f != n, b != n, s != in_sync)
        cands.append(Candidate(name, clamp_score(pen), text=text,
                               meta={"stated_flashes": f, "stated_beeps": b, "stated_in_sync": s}))
    return ProbeSpec(
        question="Watch and listen: how many flashes do you see, how many beeps do you hear, and is each beep "
                 "in sync with a flash?",
        inputs=(video, Media("audio", audio, "wav", rate=float(SR))),  # as TaskAnything: video, then audio
        candidates=tuple(cands),
        truth={"n_flashes": n, "n_beeps": n, "in_sync": in_sync, "offset_s": offset,
               "flash_times_s": flash_t, "beep_times_s": beep_t},
        checklist=("Is the number of flashes right?", "Is the number of beeps right?",
                   "Is the claim about synchrony right?"),
    )


AV_SYNC = Family(
    name="av_sync",
    task="AudioVideo2Text",
    summary="Count flashes and beeps in a clip and say whether they are in sync; candidates get the counts "
            "and the sync claim right or wrong.",
    knobs={"offset_s": (0.0, 0.3, -0.3, 0.2), "n_events": (3, 2, 4), "flash_radius": (18, 8),
           "snr_db": (None, 6.0)},
    build=_build_av_sync,
)

# ------------------------------------------------------------------------------------------------
# flashes_follow_beeps (Audio2Video) and beeps_follow_flashes (Video2Audio)
# ------------------------------------------------------------------------------------------------


def _check_shift(family: str, shift: float) -> None:
    if not SYNC_TOLERANCE_S <= abs(shift) < EVENT_GAP / 2:
        raise ValueError(f"{family}: shift_s must be in [{SYNC_TOLERANCE_S}, {EVENT_GAP / 2}) s, got {shift}")


def _build_follow(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool, *, family: str, given: str,
                  question: str, checklist: tuple[str, ...]) -> ProbeSpec:
    """One query of a follow-the-events family: ``n_events`` events of kind ``given`` as the input
    (``"beep"``: audio, ``"flash"``: a silent video) and candidates of the other kind, planned by
    :func:`_follow_plan` and scored by :func:`timing_penalty`."""
    n, shift, radius = int(knobs["n_events"]), float(knobs["shift_s"]), int(knobs["flash_radius"])
    _check_shift(family, shift)
    times = place_times(rng, n, EVENT_LO, EVENT_HI, EVENT_GAP)

    def media(kind: str, ts: Sequence[float]) -> Media:
        return _beeps(ts) if kind == "beep" else _flashes(ts, radius)

    made = "flash" if given == "beep" else "beep"
    cands = tuple(Candidate(name, clamp_score(timing_penalty(ce, off)), media=media(made, ts),
                            meta={f"{made}_times_s": ts})
                  for name, ts, ce, off in _follow_plan(rng, times, shift, tie))
    return ProbeSpec(question=question, inputs=(media(given, times),), candidates=cands,
                     truth={f"{given}_times_s": times, "n_events": n}, checklist=checklist)


FLASHES_FOLLOW_BEEPS = Family(
    name="flashes_follow_beeps",
    task="Audio2Video",
    summary="Flash once per beep of the given audio, on time; candidates are exact, miss or add a flash, or "
            "run late.",
    knobs={"n_events": (3, 2, 4), "shift_s": (0.3, 0.2), "flash_radius": (18, 8)},
    build=functools.partial(
        _build_follow, family="flashes_follow_beeps", given="beep",
        question="Make a silent video in which a white light flashes exactly when each beep in this audio "
                 "sounds.",
        checklist=("Is there exactly one flash per beep?", "Does each flash start when its beep starts?")),
)

BEEPS_FOLLOW_FLASHES = Family(
    name="beeps_follow_flashes",
    task="Video2Audio",
    summary="Beep once per flash of the given video, on time; candidates are exact, miss or add a beep, or "
            "run late.",
    knobs={"n_events": (3, 2, 4), "shift_s": (0.3, 0.2), "flash_radius": (18, 8)},
    build=functools.partial(
        _build_follow, family="beeps_follow_flashes", given="flash",
        question="Make a soundtrack for this silent video with one short beep exactly when each flash "
                 "appears.",
        checklist=("Is there exactly one beep per flash?", "Does each beep start when its flash appears?")),
)

FAMILIES = (AV_SYNC, FLASHES_FOLLOW_BEEPS, BEEPS_FOLLOW_FLASHES)
