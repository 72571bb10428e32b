"""Speech probe (Audio2Text): which number is spoken. Needs the ``espeak-ng`` executable (Debian package
``espeak-ng``); the dataset skips this family, with a note, when it is absent."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from judgeanything.datasets.probes.core import (
    Candidate,
    Family,
    Media,
    ProbeSpec,
    number_distance_score,
    phrase_all,
    signed_offset,
)
from judgeanything.datasets.probes.synth import SR, add_noise_snr

ESPEAK = "espeak-ng"
VOICE = "en-us"


def speak(text: str, *, wpm: int = 150, voice: str = VOICE) -> np.ndarray:
    """``text`` spoken by espeak-ng, resampled to ``SR`` Hz (polyphase, scipy), peak-normalised to 0.5 and
    padded with 0.2 s of silence on each side. ``(N,) float64``.

    espeak-ng's output is deterministic for a given version and voice, so a probe is reproducible on one
    machine; another espeak-ng version may give other bytes.

    Raises:
        RuntimeError: espeak-ng is missing or fails.
    """
    exe = shutil.which(ESPEAK)
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng); the speech probe needs it")
    with tempfile.TemporaryDirectory(prefix="ja-espeak-") as tmp:
        out = Path(tmp) / "speech.wav"
        proc = subprocess.run([exe, "-v", voice, "-s", str(int(wpm)), "-w", str(out), text],
                              capture_output=True, check=False)
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"espeak-ng failed ({proc.returncode}) for {text!r}: "
                               f"{proc.stderr.decode(errors='replace').strip()}")
        x, sr = sf.read(str(out), dtype="float64", always_2d=False)
    if x.ndim > 1:
        x = x.mean(axis=1)
    g = np.gcd(int(sr), SR)
    y = resample_poly(x, SR // g, int(sr) // g)
    peak = float(np.max(np.abs(y))) or 1.0
    pad = np.zeros(round(0.2 * SR))
    return np.concatenate([pad, 0.5 * y / peak, pad])


_NUMBER_TEMPLATES = (
    "{n}",
    "The number spoken is {n}.",
    "I hear {n}.",
    "Answer: {n}",
    "The speaker clearly says the number {n}.",
)


def _build_spoken_number(rng: np.random.Generator, knobs: Mapping[str, Any], tie: bool) -> ProbeSpec:
    max_value, wpm, snr = int(knobs["max_value"]), int(knobs["speed_wpm"]), knobs["snr_db"]
    n = int(rng.integers(1, max_value + 1))
    x = add_noise_snr(speak(str(n), wpm=wpm), snr, rng)
    if tie:
        plan = [("exact", n), ("under_by_one", n - 1), ("over_by_one", n + 1),
                ("off_by_ten", signed_offset(rng, n, 10, 0))]
    else:
        plan = [("exact", n), ("off_by_one", signed_offset(rng, n, 1, 0)),
                ("off_by_three", signed_offset(rng, n, 3, 0)), ("off_by_ten", signed_offset(rng, n, 10, 0))]
    tpl = phrase_all(rng, _NUMBER_TEMPLATES, 4)
    cands = tuple(Candidate(name, number_distance_score(v - n),
                            text=_NUMBER_TEMPLATES[t].format(n=v), meta={"stated_number": v})
                  for (name, v), t in zip(plan, tpl, strict=True))
    return ProbeSpec(
        question="Which number is spoken in this recording? Answer with digits.",
        inputs=(Media("audio", x, "wav", rate=float(SR)),),
        candidates=cands,
        truth={"number": n, "voice": VOICE, "speed_wpm": wpm},
        checklist=("Does the response give one number in digits?", "Is it the number that is spoken?"),
    )


SPOKEN_NUMBER = Family(
    name="spoken_number",
    task="Audio2Text",
    summary="Name the number spoken by a synthetic voice (espeak-ng); candidates are exact or off by 1, 3 "
            "or 10.",
    knobs={"max_value": (20, 100, 1000), "speed_wpm": (150, 230), "snr_db": (None, 10.0)},
    build=_build_spoken_number,
    requires=(ESPEAK,),
)

FAMILIES = (SPOKEN_NUMBER,)
