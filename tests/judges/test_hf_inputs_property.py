"""prepare_request for any prompt and processor set-up (hypothesis): every media part becomes exactly one chat
item with its array, in prompt order (a heard video's audio track as the audio item right after it); nothing is
changed without a log entry; what the model cannot take is refused, never dropped unless configured."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from judgeanything.judges.capabilities import UnsupportedModality
from judgeanything.judges.hf_inputs import prepare_request
from judgeanything.modalities import EncodedAudio, EncodedImage, EncodedText, EncodedVideo
from judgeanything.schema import TextPart


@st.composite
def _part(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["text", "etext", "image", "audio", "video"]))
    if kind == "text":
        return TextPart(draw(st.sampled_from(["Q: ", " and ", "."])))
    if kind == "etext":
        return EncodedText("inline")
    if kind == "image":
        return EncodedImage(Image.new(draw(st.sampled_from(["RGB", "L", "RGBA"])), (4, 4)), role="query")
    audio = EncodedAudio(np.full(draw(st.sampled_from([800, 1600, 4000])), 0.1, np.float32),
                         draw(st.sampled_from([8000, 16000])), role="response 1")
    if kind == "audio":
        return audio
    t = draw(st.integers(1, 3))
    return EncodedVideo(np.zeros((t, 4, 6, 3), np.uint8), [0.5 * i for i in range(t)],
                        draw(st.sampled_from([2.0, 0.0])), audio=audio if draw(st.booleans()) else None,
                        role="response 2")


def _expected_items(parts: list[Any], caps: frozenset[str]) -> list[str]:
    """The media item types in order (text merged away)."""
    out: list[str] = []
    for p in parts:
        if isinstance(p, (EncodedImage, EncodedAudio)):
            out.append(p.modality)
        elif isinstance(p, EncodedVideo):
            out.append("video")
            if p.audio is not None and "audio" in caps:
                out.append("audio")
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(_part(), min_size=1, max_size=6), st.sets(st.sampled_from(["image", "audio", "video"])),
       st.sampled_from([None, 16000]), st.sampled_from([None, 1000]), st.booleans(), st.booleans())
def test_each_media_part_is_one_item_with_its_array_in_order(parts: list[Any], caps_: set[str],
                                                             rate: int | None, window: int | None, drop: bool,
                                                             system: bool) -> None:
    caps = frozenset(caps_) | {"text"}
    try:
        p = prepare_request("SYS" if system else "", parts, capabilities=caps, judge="j", sampling_rate=rate,
                            video_fps_fallback=1.5, drop_unheard_video_audio=drop, max_audio_samples=window)
    except UnsupportedModality as e:
        assert e.modality not in caps  # refused only for what the model cannot take
        return
    user = p.messages[-1]["content"]
    assert (p.messages[0] == {"role": "system", "content": "SYS"}) is system
    types = [it["type"] for it in user]
    assert [t for t in types if t != "text"] == _expected_items(parts, caps)
    assert all(a["type"] != "text" or b["type"] != "text" for a, b in pairwise(user))  # merged
    assert "".join(it["text"] for it in user if it["type"] == "text") == "".join(
        x.text for x in parts if isinstance(x, (TextPart, EncodedText)))
    assert (len(p.images), len(p.videos), len(p.audios)) == (types.count("image"), types.count("video"),
                                                             types.count("audio"))
    assert all(im.mode == "RGB" for im in p.images)
    assert len(p.video_fps) == len(p.video_metadata) == len(p.videos) and all(f > 0 for f in p.video_fps)
    assert all(m["frames_indices"] and len(m["frames_indices"]) == v.shape[0]
               for m, v in zip(p.video_metadata, p.videos, strict=True))
    assert all(a.ndim == 1 and a.dtype == np.float32 and (window is None or a.shape[0] <= window) for a in p.audios)
    events = [e["event"] for e in p.log]
    assert events.count("converted to RGB") == sum(isinstance(x, EncodedImage) and x.image.mode != "RGB"
                                                    for x in parts)
    assert events.count("fps fallback") == sum(isinstance(x, EncodedVideo) and x.fps <= 0 for x in parts)
    unheard = sum(isinstance(x, EncodedVideo) and x.audio is not None for x in parts) if "audio" not in caps else 0
    assert events.count("downgrade") == unheard and (drop or not unheard)  # a track dropped only when configured
