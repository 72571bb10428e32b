"""adapt_parts for any prompt, judge capabilities and downgrades: no media part vanishes silently — each reaches
the judge natively, converted with a record, dropped with a record (a video's audio track only), or the request
is refused as unsupported_modality — and nothing the judge cannot take is passed on."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from judgeanything.judges.capabilities import UnsupportedModality, adapt_parts
from judgeanything.modalities import EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import TextPart

ROLES = ("query", "response 1", "response 2")


def _audio(role: str, transcript: str | None) -> EncodedAudio:
    prov: dict[str, Any] = {"source": "a.wav", "sha256": "ab"}
    if transcript is not None:
        prov.update(transcript=transcript, transcript_source="a.wav.txt")
    return EncodedAudio(samples=np.zeros(1600, np.float32), sample_rate=16000, role=role, provenance=prov)


@st.composite
def _part(draw: st.DrawFn) -> Any:
    role = draw(st.sampled_from(ROLES))
    transcript = draw(st.sampled_from([None, "", "spoken words"]))
    kind = draw(st.sampled_from(["text", "etext", "image", "audio", "video", "silent video"]))
    if kind == "text":
        return TextPart("Judge this.")
    if kind == "etext":
        return EncodedText("a document", role=role)
    if kind == "image":
        return EncodedImage(image=Image.new("RGB", (4, 4)), role=role)
    if kind == "audio":
        return _audio(role, transcript)
    n = draw(st.integers(1, 3))
    frames = np.zeros((n, 4, 6, 3), np.uint8)
    return EncodedVideo(frames=frames, timestamps=[0.5 * i for i in range(n)], fps=2.0, role=role,
                        audio=_audio(role, transcript) if kind == "video" else None,
                        provenance={"source": "v.mp4", "sha256": "cd"})


def _media_in(parts: list[Any]) -> list[tuple[str, str]]:
    """(modality, role) of every media item asked for: a video's audio track counts as an audio item."""
    out = []
    for p in parts:
        if isinstance(p, EncodedVideo):
            out.append(("video", p.role))
            if p.audio is not None:
                out.append(("audio", p.role))
        elif isinstance(p, (EncodedImage, EncodedAudio)):
            out.append((p.modality, p.role))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(_part(), min_size=1, max_size=5), st.sets(st.sampled_from(["image", "audio", "video"])),
       st.sampled_from([None, "frames"]), st.sampled_from([None, "transcript", "drop"]), st.booleans())
def test_no_media_vanishes_and_nothing_unsupported_passes(parts: list[Any], caps: set[str], video: str | None,
                                                          audio: str | None, annotate: bool) -> None:
    downgrades = {k: v for k, v in (("video", video), ("audio", audio)) if v}
    try:
        out, records = adapt_parts(parts, frozenset(caps), downgrades, judge="j", annotate=annotate)
    except UnsupportedModality as e:
        assert e.modality not in caps  # refused only for what the judge cannot take natively
        return
    shown = [p for p in out if not isinstance(p, (TextPart, EncodedText))]
    assert all(p.modality in caps for p in shown)  # nothing the judge cannot take
    for p in shown:
        if isinstance(p, EncodedVideo):
            assert p.audio is None or "audio" in caps  # an unheard track never rides along inside a video
    # counted, not as sets: two parts of one modality and role (two query images) are two items to account for
    converted = Counter((r["from"], r["role"]) for r in records)
    native = Counter((p.modality, p.role) for p in shown if not p.provenance.get("source_modality"))
    native += Counter(("audio", p.role) for p in shown if isinstance(p, EncodedVideo) and p.audio is not None)
    for key, n in Counter(_media_in(parts)).items():
        assert n <= native[key] + converted[key], (key, n, records)
    assert all(r["to"] != "none" or r["from"] == "audio" for r in records)  # only an audio track is dropped
    n_notes = sum(isinstance(p, TextPart) and p.text.startswith("[") for p in out)
    assert n_notes == (len(records) if annotate else 0)  # every conversion is said in the prompt when annotating
