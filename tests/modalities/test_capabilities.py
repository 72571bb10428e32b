"""Judge capabilities: pass-through, visible downgrades with records, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from judgeanything.judges.capabilities import UnsupportedModality, adapt_parts, validate_downgrades
from judgeanything.modalities import EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import Failure, TextPart


def audio(role: str = "query", transcript: str | None = None, seconds: float = 1.0) -> EncodedAudio:
    prov = {"source": "a.wav", "sha256": "ab"}
    if transcript is not None:
        prov.update(transcript=transcript, transcript_source="a.wav.txt")
    return EncodedAudio(samples=np.zeros(int(16000 * seconds), np.float32), sample_rate=16000, role=role,
                        provenance=prov)


def video(role: str = "query", with_audio: bool = True, transcript: str | None = None) -> EncodedVideo:
    frames = np.stack([np.full((4, 6, 3), 40 * i, np.uint8) for i in range(3)])
    return EncodedVideo(frames=frames, timestamps=[0.5, 1.5, 2.5], fps=1.0,
                        audio=audio(role, transcript, 3.0) if with_audio else None, role=role,
                        provenance={"source": "v.mp4", "sha256": "cd"})


IMG = EncodedImage(image=Image.new("RGB", (4, 4)), role="response 1")
TXT = TextPart("Judge this.")


def kinds(parts: list) -> list[tuple[str, str]]:
    return [("part", "text") if isinstance(p, TextPart) else (type(p).__name__, p.role) for p in parts]


def test_supported_parts_pass_through_unchanged() -> None:
    v = video()
    parts = [TXT, IMG, v, audio(), EncodedText("t", role="response 2")]
    out, records = adapt_parts(parts, frozenset({"text", "image", "video", "audio"}))
    assert records == [] and all(a is b for a, b in zip(out, parts, strict=True)) and out[2] is v


def test_video_to_frames_records_and_order() -> None:
    out, records = adapt_parts([TXT, video(with_audio=False)], frozenset({"image"}), {"video": "frames"},
                               judge="vl")
    assert records == [{"role": "query", "from": "video", "to": "image",
                        "detail": "3 frames at 0.50 s … 2.50 s (1 frames/s)"}]
    assert kinds(out) == [("part", "text"), ("part", "text")] + [("EncodedImage", "query")] * 3
    assert "shown as 3 frames" in out[1].text
    imgs = [p for p in out if isinstance(p, EncodedImage)]
    assert [np.asarray(p.image)[0, 0, 0] for p in imgs] == [0, 40, 80]
    assert [p.provenance["timestamp"] for p in imgs] == [0.5, 1.5, 2.5]
    assert imgs[0].provenance["source_modality"] == "video"
    out2, _ = adapt_parts([video(with_audio=False)], frozenset({"image"}), {"video": "frames"},
                          annotate=False)
    assert len(out2) == 3


def test_video_frames_then_audio_track_natively() -> None:
    out, records = adapt_parts([video()], frozenset({"image", "audio"}), {"video": "frames"})
    assert [r["from"] for r in records] == ["video"]
    assert isinstance(out[-1], EncodedAudio) and out[-1].role == "query"


def test_audio_track_needs_its_own_downgrade() -> None:
    with pytest.raises(UnsupportedModality) as ei:
        adapt_parts([video()], frozenset({"image"}), {"video": "frames"}, judge="vl")
    e = ei.value
    assert (e.modality, e.judge, e.role) == ("audio", "vl", "query")
    assert "audio track" in str(e)
    f = e.to_failure()
    assert isinstance(f, Failure) and f.kind == "unsupported_modality"


def test_video_judge_without_audio_drops_track_only_when_configured() -> None:
    v = video()
    with pytest.raises(UnsupportedModality, match="audio: drop"):
        adapt_parts([v], frozenset({"video"}), judge="qwen2-vl")
    out, records = adapt_parts([v], frozenset({"video"}), {"audio": "drop"})
    assert isinstance(out[0], EncodedVideo) and out[0].audio is None and v.audio is not None
    assert out[0].frames is v.frames
    assert records == [{"role": "query", "from": "audio", "to": "none",
                        "detail": "audio track of the video dropped (3.00 s)"}]
    assert "not provided" in out[1].text


def test_audio_transcript_only_when_supplied() -> None:
    out, records = adapt_parts([audio(transcript="hello there")], frozenset({"image"}),
                               {"audio": "transcript"})
    texts = [p for p in out if isinstance(p, EncodedText)]
    assert len(texts) == 1 and texts[0].text == "hello there" and texts[0].role == "query"
    assert records == [{"role": "query", "from": "audio", "to": "text",
                        "detail": "the audio given as its transcript (a.wav.txt)"}]
    with pytest.raises(UnsupportedModality, match=r"no transcript .*a\.wav\.txt"):
        adapt_parts([audio()], frozenset({"image"}), {"audio": "transcript"})
    with pytest.raises(UnsupportedModality, match="only to the audio track of a video"):
        adapt_parts([audio()], frozenset({"image"}), {"audio": "drop"})


def test_video_track_transcript() -> None:
    out, records = adapt_parts([video(transcript="spoken words")], frozenset({"video"}),
                               {"audio": "transcript"})
    assert isinstance(out[0], EncodedVideo) and out[0].audio is None
    assert out[-1].text == "spoken words" and records[0]["to"] == "text"


@pytest.mark.parametrize(("part", "caps", "downgrades", "modality"), [
    (IMG, frozenset({"text"}), None, "image"),
    (video(with_audio=False), frozenset({"text", "image"}), None, "video"),
    (video(with_audio=False), frozenset({"text", "audio"}), {"video": "frames"}, "video"),
    (audio(), frozenset({"image", "video"}), None, "audio"),
])
def test_refusals(part: object, caps: frozenset[str], downgrades: dict[str, str] | None,
                  modality: str) -> None:
    with pytest.raises(UnsupportedModality) as ei:
        adapt_parts([TXT, part], caps, downgrades, judge="j")  # type: ignore[list-item]
    assert ei.value.modality == modality and "judge 'j' cannot take " + modality in str(ei.value)


def test_text_is_always_accepted_and_bad_config_is_loud() -> None:
    out, records = adapt_parts([TXT, EncodedText("x")], frozenset())
    assert len(out) == 2 and records == []
    assert validate_downgrades({"video": "frames", "audio": "drop"}) == {"video": "frames", "audio": "drop"}
    with pytest.raises(ValueError, match="no downgrade exists for modality 'image'"):
        adapt_parts([IMG], frozenset({"image"}), {"image": "caption"})
    with pytest.raises(ValueError, match="unknown downgrade video: 'gif'"):
        validate_downgrades({"video": "gif"})
    with pytest.raises(TypeError):
        adapt_parts([object()], frozenset({"image"}))  # type: ignore[list-item]
