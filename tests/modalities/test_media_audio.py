"""Audio encoder: mono float32 at the target rate, exact sample counts, caps, backends, transcripts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from judgeanything.modalities import EncodedAudio, MediaError, get_encoder
from judgeanything.modalities.audio import AudioEncoder, downmix, resample, wav_data_shortfall
from judgeanything.schema import MediaRef


def dominant_hz(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[int(spec.argmax())])


@pytest.mark.parametrize(("name", "backend"), [("tone.wav", "soundfile"), ("tone.flac", "soundfile"),
                                               ("tone.mp3", "soundfile"), ("tone.m4a", "ffmpeg"),
                                               ("clip.mp4", "ffmpeg")])
def test_formats_decode_to_mono_16k(media: Path, name: str, backend: str) -> None:
    out = AudioEncoder().encode(MediaRef("audio", path=name), media, role="response 2")
    assert isinstance(out, EncodedAudio) and out.role == "response 2"
    assert out.samples.dtype == np.float32 and out.samples.ndim == 1 and out.sample_rate == 16000
    seconds = 3.0 if name == "clip.mp4" else 2.0
    # exact for PCM/FLAC; AAC and MP3 through edit lists / gapless info: within 1 ms
    assert abs(len(out.samples) - seconds * 16000) <= 16, len(out.samples)
    if backend == "soundfile" and name != "tone.mp3":
        assert len(out.samples) == int(seconds * 16000)
    assert abs(dominant_hz(out.samples, 16000) - 440) < 2
    assert float(np.abs(out.samples).max()) <= 1.0
    p = out.provenance
    assert p["backend"] == backend and p["sample_rate"] == 16000 and p["channels"] == 1
    assert p["sha256"] == hashlib.sha256((media / name).read_bytes()).hexdigest()
    assert abs(p["duration_s"] - seconds) < 1e-3 and abs(out.duration_s - seconds) < 1e-3


def test_stereo_44k_is_averaged_then_resampled(media: Path) -> None:
    out = AudioEncoder(sample_rate=16000).encode(MediaRef("audio", path="stereo44k.wav"), media)
    assert len(out.samples) == 24000  # 1.5 s, not 1.5 s × 2 channels or × 44.1/16
    p = out.provenance
    assert p["channels"] == 2 and p["downmixed"] is True and p["original_sample_rate"] == 44100
    assert p["resampled"] is True
    spec = np.abs(np.fft.rfft(out.samples))
    freqs = np.fft.rfftfreq(len(out.samples), 1 / 16000)
    peaks = sorted(float(freqs[i]) for i in np.argsort(spec)[-2:])
    assert abs(peaks[0] - 440) < 2 and abs(peaks[1] - 880) < 2  # both channels' tones survive


def test_downmix_is_channel_mean_and_resample_length() -> None:
    x = np.stack([np.ones(10, np.float32), -np.ones(10, np.float32) * 0.5], axis=1)
    assert np.allclose(downmix(x, channel_axis=1), 0.25)
    assert np.allclose(downmix(x.T, channel_axis=0), 0.25)
    assert len(resample(np.zeros(48000, np.float32), 48000, 16000)) == 16000
    assert len(resample(np.zeros(44100, np.float32), 44100, 16000)) == 16000


def test_max_seconds_caps_and_records(media: Path) -> None:
    out = AudioEncoder(sample_rate=8000, max_seconds=1.25).encode(MediaRef("audio", path="long.wav"), media)
    assert len(out.samples) == 10000
    assert out.provenance["capped_at_s"] == 1.25 and out.provenance["original_duration_s"] == 4.0
    out = AudioEncoder(sample_rate=16000, max_seconds=1.0).encode(MediaRef("audio", path="tone.m4a"), media)
    assert len(out.samples) == 16000 and out.provenance["capped_at_s"] == 1.0
    full = AudioEncoder(max_seconds=None).encode(MediaRef("audio", path="long.wav"), media)
    assert len(full.samples) == 64000 and "capped_at_s" not in full.provenance


def test_samples_are_read_only(media: Path) -> None:
    out = AudioEncoder().encode(MediaRef("audio", path="tone.wav"), media)
    with pytest.raises(ValueError):
        out.samples[0] = 1.0


def test_bytes_source_including_ffmpeg_fallback(media: Path) -> None:
    enc = AudioEncoder()
    a = enc.encode(MediaRef("audio", data=(media / "tone.flac").read_bytes()), None)
    assert len(a.samples) == 32000 and a.provenance["backend"] == "soundfile"
    b = enc.encode(MediaRef("audio", data=(media / "tone.m4a").read_bytes()), None)
    assert abs(len(b.samples) - 32000) <= 16 and b.provenance["backend"] == "ffmpeg"


def test_transcript_sidecar(media: Path) -> None:
    out = AudioEncoder().encode(MediaRef("audio", path="tone.wav"), media)
    assert out.provenance["transcript"] == "a steady four hundred forty hertz tone"
    assert out.provenance["transcript_source"] == "tone.wav.txt"
    assert "transcript" not in AudioEncoder().encode(MediaRef("audio", path="tone.flac"), media).provenance
    off = AudioEncoder(transcript_sidecar=False).encode(MediaRef("audio", path="tone.wav"), media)
    assert "transcript" not in off.provenance


def test_measure_reads_headers(media: Path) -> None:
    enc = get_encoder("audio")
    assert enc.measure(MediaRef("audio", path="tone.wav"), media) == {"duration_s": 2.0}
    assert enc.measure(MediaRef("audio", path="long.wav"), media) == {"duration_s": 4.0}
    m4a = enc.measure(MediaRef("audio", path="tone.m4a"), media)
    assert m4a["duration_s"] == pytest.approx(2.0, abs=0.01)
    with pytest.raises(MediaError, match="file not found"):
        enc.measure(MediaRef("audio", path="nope.wav"), media)


def test_wav_shortfall_detector(media: Path) -> None:
    assert wav_data_shortfall(media / "tone.wav") is None
    declared, present = wav_data_shortfall(media / "trunc.wav")  # type: ignore[misc]
    assert declared == 64000 and present < declared
    assert wav_data_shortfall(media / "tone.flac") is None


@pytest.mark.parametrize(("kwargs", "match"), [({"sample_rate": 0}, "sample_rate"),
                                               ({"max_seconds": -1}, "max_seconds")])
def test_bad_options(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AudioEncoder(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("poison", [np.nan, np.inf])
def test_float_audio_with_nan_or_inf_is_a_media_error(tmp_path: Path, poison: float) -> None:
    import soundfile as sf

    x = np.sin(np.linspace(0, 200, 8000)).astype(np.float32)
    x[100:103] = poison
    sf.write(tmp_path / "bad.wav", np.stack([x, x], 1), 16000, subtype="FLOAT")
    with pytest.raises(MediaError, match=r"corrupt samples: 6 of 16000 values are NaN or infinite") as err:
        AudioEncoder().encode(MediaRef("audio", path="bad.wav"), tmp_path)
    assert "bad.wav" in str(err.value)
    sf.write(tmp_path / "ok.wav", x[:100], 16000, subtype="DOUBLE")  # finite float64 still decodes
    assert AudioEncoder().encode(MediaRef("audio", path="ok.wav"), tmp_path).samples.shape == (100,)
