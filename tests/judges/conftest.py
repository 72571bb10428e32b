"""Fixtures for the ``hf`` judge tests: tiny real-architecture models (built once per session, offline),
real media files generated at test time (PNG/JPEG with PIL, wav/mp3/flac with soundfile, an H.264 + AAC
mp4 with imageio-ffmpeg's ffmpeg) decoded by small local helpers into ``Encoded*`` objects, and helpers
to build judge requests."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from judgeanything.judges.base import JudgeRequest, JudgeResult
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo
from judgeanything.schema import PairItem, Prompt, Query, Response, ScoreItem, TextPart

CLIP_FPS = 10  # frames/s of the generated mp4
CLIP_SECONDS = 1.0


# ------------------------------------------------------------------------------------------ models


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``tiny_model(family) -> folder``: builds each tiny family once per session."""
    from judgeanything.models.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("tiny-models")
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = build_tiny_model(family, root / family)
        return built[family]

    return get


@pytest.fixture(scope="session")
def hf_judge(tiny_model: Callable[[str], Path]) -> Callable[..., Any]:
    """``hf_judge(family, verdict, **options) -> HFJudge``; one (lazily loaded) judge per distinct set of
    arguments per session, so each tiny model is loaded once per configuration."""
    from judgeanything.judges.hf import HFJudge

    judges: dict[tuple[Any, ...], HFJudge] = {}

    def get(family: str, verdict: str = "generate", **options: Any) -> HFJudge:
        key = (family, verdict, repr(sorted(options.items())))
        if key not in judges:
            opts: dict[str, Any] = {"sampling": {"max_tokens": 6}, "batch_size": 4, "device": "cpu", "dtype": "float32"}
            if family == "qwen2_5_omni":  # keep the Omni processor's default video size small
                opts["processor_kwargs"] = {"videos_kwargs": {"size": {"shortest_edge": 56 * 56,
                                                                       "longest_edge": 112 * 112 * 4}}}
            opts.update(options)
            judges[key] = HFJudge(str(tiny_model(family)), name=f"tiny-{family}", verdict=verdict, **opts)
        return judges[key]

    return get


def run_judge(judge: Any, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
    """Run the async ``judge.judge`` to completion."""
    return asyncio.run(judge.judge(list(requests)))


# ------------------------------------------------------------------------------------------ media


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real files: image.png, photo.jpg, tone44k.wav (44.1 kHz), tone16k.mp3, stereo22k.flac (stereo),
    clip.mp4 (H.264 128x96 at 10 fps, 1 s, AAC 16 kHz sine track)."""
    import soundfile as sf
    from PIL import Image

    d = tmp_path_factory.mktemp("media")
    h, w = 96, 128
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 256], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(d / "image.png")
    Image.fromarray(rgb[::-1].copy()).save(d / "photo.jpg", quality=90)

    def tone(sr: int, seconds: float, hz: float) -> np.ndarray:
        t = np.arange(int(sr * seconds)) / sr
        return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)

    sf.write(d / "tone44k.wav", tone(44100, 1.0, 440.0), 44100)
    sf.write(d / "tone16k.mp3", tone(16000, 1.5, 660.0), 16000, format="MP3")
    sf.write(d / "stereo22k.flac", np.stack([tone(22050, 0.8, 330.0), tone(22050, 0.8, 550.0)], axis=1), 22050)
    subprocess.run(
        [_ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate={CLIP_FPS}",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", str(CLIP_SECONDS),
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", str(d / "clip.mp4")],
        check=True, timeout=60,
    )
    return {p.name: p for p in d.iterdir()}


def decode_image(path: Path, role: str = "") -> EncodedImage:
    from PIL import Image

    with Image.open(path) as im:
        return EncodedImage(image=im.convert("RGB"), role=role, provenance={"source": path.name})


def decode_audio(path: Path, role: str = "") -> EncodedAudio:
    """Mono float32 at the file's own rate (channels averaged)."""
    import soundfile as sf

    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return EncodedAudio(samples=y.mean(axis=1).astype(np.float32), sample_rate=int(sr), role=role,
                        provenance={"source": path.name})


def decode_video(path: Path, role: str = "", with_audio: bool = True) -> EncodedVideo:
    """Every frame of the clip (decord), real timestamps, and its audio track at 16 kHz."""
    import decord

    vr = decord.VideoReader(str(path))
    idx = list(range(len(vr)))
    frames = vr.get_batch(idx).asnumpy()
    ts = [float(t) for t in vr.get_frame_timestamp(idx)[:, 0]]
    audio = None
    if with_audio:
        ar = decord.AudioReader(str(path), ctx=decord.cpu(0), sample_rate=16000, mono=True)
        audio = EncodedAudio(samples=ar[:].asnumpy()[0].astype(np.float32), sample_rate=16000, role=role)
    return EncodedVideo(frames=frames, timestamps=ts, fps=float(vr.get_avg_fps()), audio=audio, role=role,
                        provenance={"source": path.name})


@pytest.fixture(scope="session")
def media(media_files: dict[str, Path]) -> dict[str, Any]:
    """The generated files decoded: png, jpg, wav, mp3, flac, mp4 (video + AAC track), mp4_silent."""
    return {
        "png": decode_image(media_files["image.png"], "query"),
        "jpg": decode_image(media_files["photo.jpg"], "response 1"),
        "wav": decode_audio(media_files["tone44k.wav"], "query"),
        "mp3": decode_audio(media_files["tone16k.mp3"], "response 1"),
        "flac": decode_audio(media_files["stereo22k.flac"], "response 2"),
        "mp4": decode_video(media_files["clip.mp4"], "query"),
        "mp4_silent": decode_video(media_files["clip.mp4"], "query", with_audio=False),
    }


# ------------------------------------------------------------------------------------------ requests

_Q = Query(uniq_id="q1", task_name="Image2Text", question="What is shown?")
_R1 = Response(response_id="r1", uniq_id="q1", model_name="model-a", modality="text", text="A test pattern.")
_R2 = Response(response_id="r2", uniq_id="q1", model_name="model-b", modality="text", text="Colour bars.")


def make_request(key: str, setting: str, parts: Sequence[Any], rubrics: Sequence[str] = ("overall",),
                 system: str = "You are a careful judge. Answer in JSON.") -> JudgeRequest:
    """A request whose prompt has ``setting``/``rubrics`` and whose decoded ``parts`` are given."""
    if setting == "pair":
        item: Any = PairItem(item_id=key, query=_Q, response_a=_R1, response_b=_R2)
    elif setting == "score":
        item = ScoreItem(item_id=key, query=_Q, response=_R1)
    else:
        from judgeanything.schema import BatchItem

        item = BatchItem(item_id=key, query=_Q, responses=(_R1, _R2))
    mode = "overall" if tuple(rubrics) == ("overall",) else "rubrics"
    prompt = Prompt(setting=setting, mode=mode, rubrics=tuple(rubrics), system=system, parts=(), version="test",
                    n_responses=len(item.responses))
    return JudgeRequest(key=key, item=item, prompt=prompt, order=tuple(range(len(item.responses))),
                        parts=list(parts))


def text_parts(*chunks: Any) -> list[Any]:
    """Strings become TextParts; media objects pass through."""
    return [TextPart(c) if isinstance(c, str) else c for c in chunks]


@pytest.fixture(scope="session")
def req() -> Callable[..., JudgeRequest]:
    """:func:`make_request` as a fixture (test modules do not import conftest)."""
    return make_request


@pytest.fixture(scope="session")
def parts() -> Callable[..., list[Any]]:
    """:func:`text_parts` as a fixture."""
    return text_parts


@pytest.fixture(scope="session")
def judge_run() -> Callable[[Any, Sequence[JudgeRequest]], list[JudgeResult]]:
    """:func:`run_judge` as a fixture."""
    return run_judge
