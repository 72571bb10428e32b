"""Audio: mono ``float32`` at a target sample rate, at most ``max_seconds`` long.

Backends, in order (docs/media-and-models.md §3): ``soundfile`` (libsndfile ≥ 1.1: wav, flac, ogg/vorbis,
opus, mp3) reads the header first and then only the frames it needs; anything libsndfile cannot open
(m4a/AAC, the audio track of an mp4, wma…) goes to the ffmpeg binary of imageio-ffmpeg, decoded to a
WAV pipe (see :func:`_read_ffmpeg` for why not ``decord.AudioReader``). librosa is not used for
decoding: its fallback (audioread + the same ffmpeg CLI) is deprecated and raises exceptions with empty
messages.

Channels are averaged on the channel axis *before* resampling (resampling a ``(N, C)`` array along the
wrong axis made stereo 3× too long in mlx-vlm PR #2258; a 1 s stereo 48 kHz file comes out as exactly
16 000 samples). Resampling uses soxr (``quality="HQ"``), the resampler librosa itself uses by default.

Truncation is detected, not papered over: a short read where the header declares more frames, a
decoder error after a valid header, or a WAV whose ``data`` chunk declares more bytes than the file
holds (libsndfile silently clamps that case).

A transcript, when one exists, is a UTF-8 sidecar file named ``<media file>.txt`` next to the media
(``speech.wav`` → ``speech.wav.txt``); it is recorded as ``provenance["transcript"]`` so a judge that
cannot hear may be given the text instead (``judges/capabilities.py``, downgrade ``audio: transcript``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from judgeanything.modalities._files import (
    NO_AUDIO,
    TRUNCATED,
    UNSUPPORTED_SOURCE,
    bytes_as_file,
    checked_media_file,
    last_line,
    not_decodable,
    quiet_native_stderr,
    resolve_media_path,
    sha256_bytes,
    sha256_file,
)
from judgeanything.modalities._probe import Probe, ProbeUnavailable, probe
from judgeanything.modalities.base import EncodedAudio, MediaError
from judgeanything.modalities.limits import DEFAULT_LIMITS, MediaLimits
from judgeanything.schema import MediaRef

#: A short read is "truncated" only beyond this many frames (or 1 % of the total): MP3 lengths from
#: libsndfile/mpg123 may differ from the decoded count by an encoder delay of a frame or two.
_SHORT_READ_TOLERANCE = 2048


def wav_data_shortfall(path: Path) -> tuple[int, int] | None:
    """For a RIFF/WAVE file whose ``data`` chunk declares more bytes than the file holds, return
    ``(declared_bytes, present_bytes)``; else None (complete, not a WAV, or a streaming header with an
    unknown size 0 / 0xFFFFFFFF).

    Hand-rolled (a few header reads) because libsndfile clamps the frame count of such files to what
    is present without saying so, and Python's ``wave`` module trusts the header.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            cid, csize = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if cid == b"data":
                if csize in (0, 0xFFFFFFFF):
                    return None
                present = size - (pos + 8)
                return (csize, present) if csize > present + 1 else None
            pos += 8 + csize + (csize & 1)
    return None


def downmix(samples: np.ndarray, channel_axis: int) -> np.ndarray:
    """Average the channels of a 2-D array → ``(N,) float32`` (a 1-D array is returned as is)."""
    if samples.ndim == 1:
        return samples.astype(np.float32, copy=False)
    return samples.mean(axis=channel_axis, dtype=np.float64).astype(np.float32)


def resample(mono: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample ``(N,)`` float32 audio from ``orig_sr`` to ``target_sr`` Hz with soxr (HQ).

    The result has ``ceil(N * target_sr / orig_sr)`` samples (48 000 at 48 kHz → 16 000 at 16 kHz).
    """
    if orig_sr == target_sr or mono.size == 0:
        return mono.astype(np.float32, copy=False)
    import soxr  # a librosa dependency; imported here because only resampling needs it

    return np.asarray(soxr.resample(mono, orig_sr, target_sr, quality="HQ"), dtype=np.float32)


class _SoundfileCannot(Exception):
    """libsndfile could not open the source (not a failure yet: ffmpeg may)."""


def _read_soundfile(source: Path | bytes, shown: str, max_seconds: float | None,
                    limits: MediaLimits = DEFAULT_LIMITS, *,
                    modality: str = "audio") -> tuple[np.ndarray, int, dict[str, Any]]:
    """Decode with libsndfile. Returns ``((N, C) float32, native rate, provenance)``.

    Raises:
        _SoundfileCannot: libsndfile cannot open the file (another backend may).
        MediaError: the header is valid but the data is truncated or corrupt, or declares a duration over
            ``limits`` (of ``modality``: ``audio``, or ``video`` for a video's track).
    """
    import io

    import soundfile as sf

    def handle() -> Any:
        return str(source) if isinstance(source, Path) else io.BytesIO(source)

    try:
        with quiet_native_stderr():
            info = sf.info(handle())
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise _SoundfileCannot(str(e)) from e
    sr, total, channels = int(info.samplerate), int(info.frames), int(info.channels)
    if sr <= 0 or channels <= 0:
        raise _SoundfileCannot(f"header has sample rate {sr}, {channels} channels")
    limits.check_seconds(shown, total / sr if total > 0 else None, modality)
    if isinstance(source, Path):
        short = wav_data_shortfall(source)
        if short is not None:
            raise MediaError(shown, f"{TRUNCATED}: the WAV data chunk declares {short[0]} bytes but the file "
                                    f"holds {short[1]}", backend="soundfile")
    want = total
    if max_seconds is not None and total > 0:
        want = min(total, round(max_seconds * sr))
    try:
        with quiet_native_stderr():
            data, _ = sf.read(handle(), frames=want if want > 0 else -1, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise MediaError(shown, f"{TRUNCATED} or corrupt data: the header declares {total} frames but the "
                                f"decoder failed: {e}", backend="soundfile") from None
    got = int(data.shape[0])
    if total > 0 and want - got > max(_SHORT_READ_TOLERANCE, want // 100):
        raise MediaError(shown, f"{TRUNCATED}: decoded {got} of the {want} frames the header declares "
                                f"({got / sr:.3f} s of {want / sr:.3f} s)", backend="soundfile")
    if got == 0:
        raise MediaError(shown, "no audio samples (0 frames decoded)", backend="soundfile")
    prov = {"backend": "soundfile", "format": info.format, "subtype": info.subtype,
            "original_sample_rate": sr, "channels": channels, "original_duration_s": total / sr}
    return data, sr, prov


def _read_ffmpeg(path: Path, shown: str, max_seconds: float | None, head: Probe | None = None,
                 limits: MediaLimits = DEFAULT_LIMITS, *,
                 modality: str = "audio") -> tuple[np.ndarray, int, dict[str, Any]]:
    """Decode the first audio stream with the ffmpeg binary (imageio-ffmpeg) into a WAV pipe that
    soundfile reads. Returns ``((N, C) float32, native rate, provenance)``.

    Why not ``decord.AudioReader`` (measured, decord 0.6.0): with ``mono=False`` the second channel of
    a stereo AAC file came back as garbage (NaN, 1e38); it does not trim the AAC encoder delay (a
    2.000 s m4a decoded to 2.048 s); and its ``mono=True`` downmix is ffmpeg's ``(L + R) / √2``, not the
    channel mean. The ffmpeg CLI applies the container's edit list (exactly 32 000 samples for 2 s at
    16 kHz) and keeps every channel, so the downmix and resampler are ours, as for soundfile.

    ``head``: the file's header as :func:`~._probe.probe` read it, when the caller already has it (a video
    encoder); read here otherwise.

    Raises:
        MediaError: not decodable, no audio stream, truncated (the header declares more than decodes), or
            a declared duration over ``limits``.
    """
    import io
    import subprocess

    import soundfile as sf

    from judgeanything.modalities._probe import ffmpeg_exe

    if head is None:
        try:
            head = probe(path)
        except ProbeUnavailable as e:
            raise MediaError(shown, f"{not_decodable('audio')} by libsndfile, and ffmpeg is unavailable: {e}",
                             backend="soundfile") from None
    if not head.opened:
        if head.truncation:
            raise MediaError(shown, f"{TRUNCATED}: {head.truncation}", backend="ffmpeg")
        raise MediaError(shown, f"{not_decodable('audio')} (libsndfile and ffmpeg cannot open it)",
                         backend="soundfile+ffmpeg")
    if not head.has_audio:
        raise MediaError(shown, f"{NO_AUDIO} (the container has no audio track)", backend="ffmpeg")
    limits.check_seconds(shown, head.duration_s, modality)
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin"]
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.6f}"]
    cmd += ["-i", str(path), "-map", "0:a:0", "-vn", "-f", "wav", "-acodec", "pcm_f32le", "-"]
    try:
        cp = subprocess.run(cmd, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise MediaError(shown, f"ffmpeg failed to run: {e}", backend="ffmpeg") from None
    errors = cp.stderr.decode("utf-8", errors="replace").strip()
    try:
        data, sr = sf.read(io.BytesIO(cp.stdout), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        reason = f"{TRUNCATED} or corrupt audio stream" if errors else not_decodable("audio")
        detail = last_line(errors) if errors else str(e)
        raise MediaError(shown, f"{reason}: {detail}", backend="ffmpeg") from None
    got_s = data.shape[0] / sr if sr else 0.0
    declared = head.duration_s
    want = min(declared, max_seconds) if declared is not None and max_seconds is not None else declared
    if errors and (want is None or want - got_s > max(0.05, 0.02 * want)):
        shown_want = f" of the {want:.3f} s the header declares" if want is not None else ""
        raise MediaError(shown, f"{TRUNCATED}: decoded {got_s:.3f} s{shown_want}; "
                                f"ffmpeg: {last_line(errors)}", backend="ffmpeg")
    if data.shape[0] == 0:
        raise MediaError(shown, "no audio samples (0 frames decoded)", backend="ffmpeg")
    prov: dict[str, Any] = {"backend": "ffmpeg", "format": head.audio_codec, "original_sample_rate": int(sr),
                            "channels": int(data.shape[1]),
                            "original_duration_s": float(declared if declared is not None else got_s)}
    return data, int(sr), prov


def decode_audio(source: Path | bytes, shown: str, sample_rate: int = 16000,
                 max_seconds: float | None = None, *, head: Probe | None = None,
                 limits: MediaLimits = DEFAULT_LIMITS, modality: str = "audio") -> tuple[np.ndarray, dict[str, Any]]:
    """Decode an audio file (or the audio track of a video) into mono float32 at ``sample_rate`` Hz.

    Args:
        source: a checked file path, or the encoded bytes (written to a temporary file when libsndfile
            cannot read them).
        shown: the name used in errors.
        sample_rate: target rate in Hz.
        max_seconds: keep at most this many seconds from the start (None: all).
        head: the ffmpeg header of ``source`` (a path) when the caller already read it, so the ffmpeg
            fallback does not run ``ffmpeg -i`` a second time.
        limits: the media limits; the declared duration is checked before any sample is read, against
            the limit of ``modality`` (``audio``, or ``video`` for a video's audio track).

    Returns:
        ``(samples (N,) float32 in [-1, 1], provenance)``; provenance records ``backend``, ``format``,
        ``original_sample_rate``, ``channels``, ``original_duration_s``, ``sample_rate``, ``duration_s``,
        ``downmixed``, ``resampled``, ``capped_at_s`` (when the cap cut the audio).

    Raises:
        MediaError: not decodable, truncated, no audio stream, NaN or infinite samples, over a limit.
    """
    try:
        data, sr0, prov = _read_soundfile(source, shown, max_seconds, limits, modality=modality)
    except _SoundfileCannot:
        if isinstance(source, Path):
            data, sr0, prov = _read_ffmpeg(source, shown, max_seconds, head, limits, modality=modality)
        else:
            with bytes_as_file(source, ".media") as tmp:
                data, sr0, prov = _read_ffmpeg(tmp, shown, max_seconds, None, limits, modality=modality)
    if np.issubdtype(data.dtype, np.floating) and not np.isfinite(data).all():
        # float WAV/FLAC can hold NaN or inf; resampling would smear them and every encoder downstream
        # (WAV for an API, a processor's features) would carry garbage or fail far from the cause
        bad = int(data.size - np.isfinite(data).sum())
        raise MediaError(shown, f"corrupt samples: {bad} of {data.size} values are NaN or infinite",
                         backend=str(prov.get("backend") or "") or None)
    samples = resample(downmix(data, channel_axis=1), sr0, sample_rate)
    prov["resampled"] = sr0 != sample_rate
    prov["downmixed"] = int(prov["channels"]) > 1
    if max_seconds is not None and samples.shape[0] > round(max_seconds * sample_rate):
        samples = samples[: round(max_seconds * sample_rate)]
    if max_seconds is not None and prov["original_duration_s"] > max_seconds + 1.0 / sample_rate:
        prov["capped_at_s"] = float(max_seconds)
    samples = np.clip(samples, -1.0, 1.0).astype(np.float32, copy=False)
    prov["sample_rate"] = int(sample_rate)
    prov["duration_s"] = samples.shape[0] / sample_rate
    prov["original_duration_s"] = float(prov["original_duration_s"])
    return np.ascontiguousarray(samples), prov


def read_transcript(ref: MediaRef, root: Path | None) -> tuple[str, str] | None:
    """The sidecar transcript ``<file>.txt`` of a path reference, as ``(text, sidecar name)``, or None.

    The sidecar is resolved inside the data root like any media path; an empty or non-UTF-8 sidecar
    counts as absent.
    """
    if ref.path is None:
        return None
    rel = ref.path + ".txt"
    try:
        p = resolve_media_path(root, rel)
    except MediaError:
        return None
    if not p.is_file():
        return None
    try:
        text = p.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return (text, rel) if text else None


def audio_duration(source: Path | bytes) -> float | None:
    """Duration in seconds from the header only (soundfile.info, else the ffmpeg header), or None."""
    import io

    import soundfile as sf

    try:
        with quiet_native_stderr():
            info = sf.info(str(source) if isinstance(source, Path) else io.BytesIO(source))
        if info.samplerate > 0 and info.frames > 0:
            return float(info.frames) / float(info.samplerate)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass  # not a libsndfile format: ask ffmpeg below
    if not isinstance(source, Path):
        return None
    try:
        head = probe(source)
    except ProbeUnavailable:
        return None
    return head.duration_s if head.opened and head.has_audio else None


class AudioEncoder:
    """The ``audio`` modality (options from ``conf/modality/audio.yaml``).

    Args:
        sample_rate: target rate in Hz (16 000: what Whisper-style audio encoders expect).
        max_seconds: keep at most this many seconds (None: all); recorded as ``capped_at_s``.
        transcript_sidecar: read ``<file>.txt`` into ``provenance["transcript"]`` when it exists.
        limits: the media limits (``media.limits``: file bytes, declared duration), checked before decoding.
    """

    name = "audio"

    def __init__(self, sample_rate: int = 16000, max_seconds: float | None = 300.0,
                 transcript_sidecar: bool = True, limits: MediaLimits = DEFAULT_LIMITS) -> None:
        if int(sample_rate) <= 0:
            raise ValueError(f"audio sample_rate must be a positive number of Hz, got {sample_rate}")
        if max_seconds is not None and float(max_seconds) <= 0:
            raise ValueError(f"audio max_seconds must be positive or null, got {max_seconds}")
        self.sample_rate = int(sample_rate)
        self.max_seconds = float(max_seconds) if max_seconds is not None else None
        self.transcript_sidecar = bool(transcript_sidecar)
        self.limits = limits

    def _source(self, ref: MediaRef, root: Path | None) -> tuple[Path | bytes, str, os.stat_result | None]:
        """The bytes or checked file to decode, the name errors show, and the file's ``stat`` (``None`` for
        bytes)."""
        if ref.frames:
            raise MediaError(ref.label, f"{UNSUPPORTED_SOURCE}: a list of frames is not audio")
        if ref.data is not None:
            self.limits.check_bytes("<audio bytes>", len(ref.data))
            return ref.data, "<audio bytes>", None
        path, st = checked_media_file(ref, root, limits=self.limits)
        return path, ref.path or str(path), st

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> EncodedAudio:
        """Decode ``ref`` into :class:`EncodedAudio` (``(N,) float32`` at ``sample_rate`` Hz).

        Raises:
            MediaError: missing, empty, escaping the root, not audio, truncated, no audio stream, URL.
        """
        source, shown, st = self._source(ref, root)
        digest = sha256_bytes(source) if isinstance(source, bytes) else sha256_file(source, st)
        samples, prov = decode_audio(source, shown, self.sample_rate, self.max_seconds, limits=self.limits)
        prov = {"source": shown, "sha256": digest, **prov, "max_seconds": self.max_seconds}
        if self.transcript_sidecar:
            tr = read_transcript(ref, root)
            if tr is not None:
                prov["transcript"], prov["transcript_source"] = tr
        samples.flags.writeable = False  # shared between cache hits: treat as read-only
        return EncodedAudio(samples=samples, sample_rate=self.sample_rate, role=role, provenance=prov)

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]:
        """``duration_s`` (seconds, from the header without decoding the samples).

        Raises:
            MediaError: missing / empty / escaping file, or no duration in any header.
        """
        source, shown, _ = self._source(ref, root)
        d = audio_duration(source)
        if d is None:
            raise MediaError(shown, f"{not_decodable('audio')} (no duration in its header)")
        self.limits.check_seconds(shown, d, "audio")
        return {"duration_s": d}
