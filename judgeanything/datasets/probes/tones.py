"""Probes built from synthetic tones and beeps: counting beeps and naming a pitch (Audio2Text),
generating a tone (Text2Audio) and editing a melody (Audio2Audio)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from judgeanything.datasets.probes.core import (
    HALVES,
    Candidate,
    Family,
    Media,
    ProbeSpec,
    clamp_score,
    count_candidates,
    edit_candidates,
    phrase_all,
    pick,
    reverse_half,
    semitone_penalty,
    splice_half,
)
from judgeanything.datasets.probes.synth import (
    BEEP_S,
    SR,
    add_noise_snr,
    beep_track,
    place_times,
    semitones,
    tone,
)

#: Frequency bands (Hz) a tone's pitch is drawn from (integer Hz, uniform).
BANDS: dict[str, tuple[int, int]] = {"low": (110, 220), "mid": (300, 700), "high": (1000, 2000)}
PAD_S = 0.2  #: silence before and after a single tone (s)


def _audio(x: np.ndarray, ext: str = "wav") -> Media:
    return Media("audio", x, ext, rate=float(SR))


def padded_tone(freq: float, duration: float, amp: float = 0.4) -> np.ndarray:
    """``PAD_S`` s of silence, a ``freq`` Hz tone of ``duration`` s, ``PAD_S`` s of silence. ``(N,) float64``."""
    pad = np.zeros(round(PAD_S * SR))
    return np.concatenate([pad, tone(freq, duration, amp=amp), pad])


# ------------------------------------------------------------------------------------------------
# beep_count (Audio2Text)
# ------------------------------------------------------------------------------------------------

BEEP_CLIP_S = 3.0

_BEEP_TEMPLATES = (
    "{n}",
    "There are {obj}.",
    "I hear {obj}.",
    "Answer: {n}",
    "The recording contains {obj} in total.",
    "Listening to the whole clip from start to end, I count {obj}.",
)


def _build_beep_count(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    n, gap, snr = int(knobs["n"]), float(knobs["min_gap"]), knobs["snr_db"]
    times = place_times(rng, n, 0.1, BEEP_CLIP_S - 0.1 - BEEP_S, BEEP_S + gap, grid=0.01)
    x = add_noise_snr(beep_track(times, BEEP_CLIP_S), snr, rng)
    cands = count_candidates(rng, n, tie, _BEEP_TEMPLATES, "beep")
    return ProbeSpec(
        question="How many beeps are there in this recording? Answer with a number.",
        inputs=(_audio(x),),
        candidates=cands,
        truth={"true_count": n, "beep_times_s": times},
        checklist=("Does the response give a single number?", "Is the number of beeps exactly right?"),
    )


BEEP_COUNT = Family(
    name="beep_count",
    task="Audio2Text",
    summary="Count 1 kHz beeps in 3 s of audio; candidates state the true count or miss it by 1–4.",
    knobs={"n": (3, 5, 8), "min_gap": (0.25, 0.12), "snr_db": (None, 10.0, 3.0)},
    build=_build_beep_count,
)

# ------------------------------------------------------------------------------------------------
# tone_pitch (Audio2Text)
# ------------------------------------------------------------------------------------------------

_PITCH_TEMPLATES = (
    "{f} Hz",
    "The tone is about {f} Hz.",
    "Approximately {f} hertz.",
    "Answer: {f} Hz",
    "It sounds like a steady tone at roughly {f} Hz.",
)


def _pitch_plan(rng: np.random.Generator, tie: bool) -> list[tuple[str, int]]:
    """(name, semitone offset): distinct 0, ±1, ±3, ±12 (penalties 0, 1, 2, 4); tie 0, +1, −1, ±12."""
    if tie:
        return [("exact", 0), ("semitone_up", 1), ("semitone_down", -1), ("octave", pick(rng, (12, -12)))]
    return [("exact", 0), ("semitone", pick(rng, (1, -1))), ("minor_third", pick(rng, (3, -3))),
            ("octave", pick(rng, (12, -12)))]


def _build_tone_pitch(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    band, snr, duration = str(knobs["band"]), knobs["snr_db"], float(knobs["duration"])
    if band not in BANDS:
        raise ValueError(f"tone_pitch: unknown band {band!r} (known: {', '.join(BANDS)})")
    f = int(rng.integers(BANDS[band][0], BANDS[band][1] + 1))
    x = add_noise_snr(padded_tone(f, duration), snr, rng)
    plan = _pitch_plan(rng, tie)
    tpl = phrase_all(rng, _PITCH_TEMPLATES, 4)
    cands = []
    for (name, k), t in zip(plan, tpl, strict=True):
        stated = round(f * 2.0 ** (k / 12.0))
        cands.append(Candidate(name, clamp_score(semitone_penalty(semitones(stated, f))),
                               text=_PITCH_TEMPLATES[t].format(f=stated), meta={"stated_hz": stated}))
    return ProbeSpec(
        question="What is the frequency of the tone in this recording, in hertz?",
        inputs=(_audio(x),),
        candidates=tuple(cands),
        truth={"freq_hz": f, "duration_s": duration},
        checklist=("Does the response state one frequency in hertz?",
                   "Is the stated frequency within a semitone of the tone's?"),
    )


TONE_PITCH = Family(
    name="tone_pitch",
    task="Audio2Text",
    summary="Name a pure tone's frequency; candidates are exact or 1, 3 or 12 semitones off.",
    knobs={"band": ("mid", "low", "high"), "snr_db": (None, 10.0, 0.0), "duration": (1.5, 0.5)},
    build=_build_tone_pitch,
)

# ------------------------------------------------------------------------------------------------
# tone (Text2Audio)
# ------------------------------------------------------------------------------------------------


def duration_penalty(shown: float, asked: float) -> int:
    """Duration error as a ratio r = shown / asked: |log₂ r| < 0.2 → 0, < 0.8 → 1, else 2."""
    a = abs(float(np.log2(shown / asked)))
    return 0 if a < 0.2 else 1 if a < 0.8 else 2


def _build_tone(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    band, d = str(knobs["band"]), float(knobs["duration"])
    if band not in BANDS:
        raise ValueError(f"tone: unknown band {band!r} (known: {', '.join(BANDS)})")
    f = int(rng.integers(BANDS[band][0], BANDS[band][1] + 1))
    other_d = d * (0.5 if d >= 1.0 else 2.0)
    octave = pick(rng, (12, -12))
    if tie:
        plan = [("exact", 0, d), ("semitone_up", 1, d), ("semitone_down", -1, d),
                ("octave_and_duration", octave, other_d)]
    else:
        plan = [("exact", 0, d), ("semitone_off", pick(rng, (1, -1)), d), ("wrong_duration", 0, other_d),
                ("octave_off", octave, d)]
    cands = []
    for name, k, dur in plan:
        fk = f * 2.0 ** (k / 12.0)
        pen = semitone_penalty(k) + duration_penalty(dur, d)
        cands.append(Candidate(name, clamp_score(pen), media=_audio(padded_tone(fk, dur), "mp3"),
                               meta={"freq_hz": round(fk, 3), "duration_s": dur}))
    return ProbeSpec(
        question=f"Generate a pure sine tone at {f} Hz lasting {d:g} seconds.",
        inputs=(),
        candidates=tuple(cands),
        truth={"freq_hz": f, "duration_s": d},
        checklist=(f"Is the pitch {f} Hz?", f"Does the tone last {d:g} seconds?", "Is it a clean, steady tone?"),
    )


TONE = Family(
    name="tone",
    task="Text2Audio",
    summary="Generate a tone of given pitch and length; candidates are exact, 1 or 12 semitones off, or of "
            "half / double length.",
    knobs={"band": ("mid", "low", "high"), "duration": (1.0, 2.0, 0.5)},
    build=_build_tone,
)

# ------------------------------------------------------------------------------------------------
# audio_edit (Audio2Audio)
# ------------------------------------------------------------------------------------------------

NOTE_S = 0.35  #: note length (s)
MELODY_PAD_S = 0.1  #: silence before and after the melody (s)
MELODY_AMP = 0.2
#: A minor pentatonic from A3 (220 Hz), in semitones above A3.
SCALE = (0, 3, 5, 7, 10, 12, 15, 17, 19)


def melody(freqs: list[float], gain: float = 1.0) -> np.ndarray:
    """Notes of ``NOTE_S`` s at ``freqs`` Hz, back to back, between ``MELODY_PAD_S`` s of silence."""
    pad = np.zeros(round(MELODY_PAD_S * SR))
    return np.concatenate([pad, *(tone(f, NOTE_S, amp=MELODY_AMP * gain) for f in freqs), pad])


def _build_audio_edit(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    op = str(knobs["op"])
    notes = [220.0 * 2.0 ** (k / 12.0) for k in rng.choice(SCALE, size=4, replace=False)]
    x = melody(notes)
    # halves split at len(x) // 2, a note boundary (0.1 s + 2 notes)
    if op == "reverse":
        question = "Play this audio backwards (reverse it in time), changing nothing else."
        exact, wrong = x[::-1].copy(), x * 0.5
        partial = {h: reverse_half(x, h) for h in HALVES}
        truth: dict[str, Any] = {"op": op, "wrong_op": "quieter_6db"}
        checklist = ("Does the melody play backwards from start to end?", "Is the loudness unchanged?")
    elif op == "pitch_up":
        k = int(knobs["semitones"])
        question = f"Raise the pitch of this melody by {k} semitones, keeping its timing."
        exact = melody([f * 2.0 ** (k / 12.0) for f in notes])
        wrong = melody([f * 2.0 ** (-k / 12.0) for f in notes])
        partial = {h: splice_half(x, exact, h) for h in HALVES}
        truth = {"op": op, "semitones": k, "wrong_op": f"pitch_down_{k}"}
        checklist = (f"Is every note {k} semitones higher?", "Are the timing and the order of notes unchanged?")
    elif op == "quieter":
        g = float(knobs["gain_db"])
        question = f"Make this audio {g:g} dB quieter, changing nothing else."
        exact, wrong = x * 10.0 ** (-g / 20.0), x * 10.0 ** (g / 20.0)
        partial = {h: splice_half(x, exact, h) for h in HALVES}
        truth = {"op": op, "gain_db": g, "wrong_op": f"louder_{g:g}db"}
        checklist = (f"Is the whole clip {g:g} dB quieter?", "Are the notes and timing unchanged?")
    else:
        raise ValueError(f"audio_edit: unknown op {op!r} (known: reverse, pitch_up, quieter)")
    cands = edit_candidates(rng, x, exact, wrong, partial, tie, lambda a: _audio(a, "flac"))
    truth["notes_hz"] = [round(f, 3) for f in notes]
    return ProbeSpec(question=question, inputs=(_audio(x, "flac"),), candidates=cands, truth=truth,
                     checklist=checklist)


AUDIO_EDIT = Family(
    name="audio_edit",
    task="Audio2Audio",
    summary="Reverse, pitch-shift or attenuate a 4-note melody; candidates apply the edit fully, to one half "
            "only, apply a different edit, or return the input unchanged.",
    knobs={"op": ("reverse", "pitch_up", "quieter"), "semitones": (5, 12, 2), "gain_db": (6.0, 12.0, 3.0)},
    designs=(
        {"op": "reverse", "semitones": None, "gain_db": None},
        {"op": "pitch_up", "semitones": 5, "gain_db": None},
        {"op": "quieter", "semitones": None, "gain_db": 6.0},
        {"op": "pitch_up", "semitones": 12, "gain_db": None},
        {"op": "pitch_up", "semitones": 2, "gain_db": None},
        {"op": "quieter", "semitones": None, "gain_db": 12.0},
        {"op": "quieter", "semitones": None, "gain_db": 3.0},
    ),
    build=_build_audio_edit,
)

FAMILIES = (BEEP_COUNT, TONE_PITCH, TONE, AUDIO_EDIT)
