"""Tone and speech probes: labels checked by FFT pitch, band-passed energy envelopes and sample-level
comparisons of the saved audio (and, for speech, by matching against fresh espeak-ng renditions)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from .probe_measure import (
    active_span,
    beep_onsets,
    dominant_frequency,
    frame_pitches,
    integers,
    read_audio,
)
from .probe_sets import ProbeSet, media_path


def _pitch_penalty(st: float) -> int:
    a = abs(st)
    return 0 if a < 0.5 else 1 if a < 1.5 else 2 if a < 4.5 else 3 if a < 9.5 else 4


def test_beep_count_labels_match_envelope_counts(small: ProbeSet, medium_cheap: ProbeSet) -> None:
    snrs = set()
    for ps in (small, medium_cheap):
        for q, rs, scores in ps.queries("beep_count"):
            x, sr = read_audio(media_path(ps.root, q))
            true = len(beep_onsets(x, sr))
            for r, s in zip(rs, scores, strict=True):
                assert max(1, 5 - abs(integers(r.text or "")[0] - true)) == s, (q.uniq_id, r.text, true)
            snrs.add(q.meta["difficulty"]["snr_db"])
    assert {None, 3.0} <= snrs  # clean and noisy recordings were both counted


def test_tone_pitch_labels_match_fft_pitch(small: ProbeSet, medium_cheap: ProbeSet) -> None:
    for ps in (small, medium_cheap):
        for q, rs, scores in ps.queries("tone_pitch"):
            x, sr = read_audio(media_path(ps.root, q))
            f = dominant_frequency(x, sr)
            for r, s in zip(rs, scores, strict=True):
                stated = integers(r.text or "")[0]
                assert max(1, 5 - _pitch_penalty(12 * np.log2(stated / f))) == s, (q.uniq_id, r.text, f)


def test_tone_labels_match_measured_pitch_and_duration(small: ProbeSet, medium_cheap: ProbeSet) -> None:
    for ps in (small, medium_cheap):
        for q, rs, scores in ps.queries("tone"):
            m = re.match(r"Generate a pure sine tone at (\d+) Hz lasting ([\d.]+) seconds", q.question)
            assert m, q.question
            f_asked, d_asked = float(m.group(1)), float(m.group(2))
            for r, s in zip(rs, scores, strict=True):
                path = media_path(ps.root, r)
                assert path.suffix == ".mp3"
                x, sr = read_audio(path)
                t0, t1 = active_span(x, sr)
                f = dominant_frequency(x, sr)
                ratio = abs(np.log2((t1 - t0) / d_asked))
                dur_pen = 0 if ratio < 0.2 else 1 if ratio < 0.8 else 2
                expected = max(1, 5 - _pitch_penalty(12 * np.log2(f / f_asked)) - dur_pen)
                assert expected == s, (q.question, r.model_name, f, t1 - t0)


def _read_int16(path: Path) -> np.ndarray:
    import soundfile as sf

    return sf.read(str(path), dtype="int16")[0]


def _audio_edit_score(question: str, x: np.ndarray, y: np.ndarray) -> int:
    """Classify each half of the candidate as edited / untouched / other, then score as the family's
    rule (both halves 5, one 3, none but changed 2, unchanged 1)."""
    mid = len(x) // 2
    if np.array_equal(x, y):
        return 1
    if question.startswith("Play this audio backwards"):
        if np.array_equal(y, x[::-1]):
            return 5
        halves_reversed = [np.array_equal(y[:mid], x[:mid][::-1]), np.array_equal(y[mid:], x[mid:][::-1])]
        halves_same = [np.array_equal(y[:mid], x[:mid]), np.array_equal(y[mid:], x[mid:])]
        if any(a and b for a, b in zip(halves_reversed, halves_same[::-1], strict=True)):
            return 3
        return 2
    xf, yf = x.astype(np.float64) / 32768, y.astype(np.float64) / 32768
    if question.startswith("Raise the pitch"):
        k = int(re.search(r"by (\d+) semitones", question).group(1))  # type: ignore[union-attr]
        fx, rx = frame_pitches(xf, 16000)
        fy, _ = frame_pitches(yf, 16000)
        loud = rx > 0.5 * rx.max()
        n = len(fx)
        states = []
        for sl in (slice(0, n // 2), slice(n // 2, n)):
            ok = loud[sl]
            st = float(np.median(12 * np.log2(fy[sl][ok] / fx[sl][ok])))
            states.append("edited" if abs(st - k) < 0.3 else "same" if abs(st) < 0.3 else "other")
    else:
        g = float(re.search(r"audio ([\d.]+) dB quieter", question).group(1))  # type: ignore[union-attr]
        states = []
        for a, b in ((xf[:mid], yf[:mid]), (xf[mid:], yf[mid:])):
            db = 20 * np.log10(np.sqrt(np.mean(b**2)) / np.sqrt(np.mean(a**2)))
            states.append("edited" if abs(db + g) < 0.2 else "same" if abs(db) < 0.2 else "other")
    if states == ["edited", "edited"]:
        return 5
    if sorted(states) == ["edited", "same"]:
        return 3
    return 2


def test_audio_edit_labels_match_sample_comparisons(small: ProbeSet, medium_cheap: ProbeSet) -> None:
    ops = set()
    for ps in (small, medium_cheap):
        for q, rs, scores in ps.queries("audio_edit"):
            x = _read_int16(media_path(ps.root, q))
            got = [_audio_edit_score(q.question, x, _read_int16(media_path(ps.root, r))) for r in rs]
            assert got == scores, (q.question, [r.model_name for r in rs])
            ops.add(q.question.split()[0])
    assert ops == {"Play", "Raise", "Make"}


def _espeak(text: str, wpm: int, out: Path) -> tuple[np.ndarray, int]:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(wpm), "-w", str(out), text], check=True)
    return read_audio(out)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_spoken_number_is_closest_to_its_own_rendition(small: ProbeSet, tmp_path: Path) -> None:
    """The query audio matches (MFCC + DTW, librosa) a fresh espeak-ng rendition of the number the exact
    candidate states better than renditions of every other candidate's number."""
    import librosa

    for q, rs, scores in small.queries("spoken_number"):
        x, sr = read_audio(media_path(small.root, q))
        mx = librosa.feature.mfcc(y=x.astype(np.float32), sr=sr, n_mfcc=13)
        wpm = int(q.meta["difficulty"]["speed_wpm"])
        cost = {}
        for r in rs:
            n = integers(r.text or "")[0]
            y, sry = _espeak(str(n), wpm, tmp_path / f"{n}.wav")
            my = librosa.feature.mfcc(y=librosa.resample(y.astype(np.float32), orig_sr=sry, target_sr=sr),
                                      sr=sr, n_mfcc=13)
            d, wp = librosa.sequence.dtw(X=mx, Y=my, metric="euclidean")
            cost[r.model_name] = float(d[-1, -1] / len(wp))
        best = min(cost, key=cost.__getitem__)
        by_name = dict(zip([r.model_name for r in rs], scores, strict=True))
        assert by_name[best] == 5, cost
        assert all(by_name[k] < 5 for k in cost if k != best)
