"""Registry: core modalities, YAML defaults, option checks, in-process registration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from judgeanything.modalities import (
    EncodedText,
    UnknownModalityError,
    available_modalities,
    default_options,
    get_encoder,
    register_encoder,
    unregister_encoder,
)
from judgeanything.modalities.audio import AudioEncoder
from judgeanything.modalities.image import ImageEncoder
from judgeanything.modalities.text import TextEncoder
from judgeanything.modalities.video import VideoEncoder
from judgeanything.schema import MediaRef

CONF = Path(__file__).resolve().parents[2] / "judgeanything" / "conf" / "modality"


def test_core_modalities_are_available() -> None:
    assert {"text", "image", "audio", "video"} <= set(available_modalities())
    assert isinstance(get_encoder("image"), ImageEncoder)
    assert isinstance(get_encoder("audio"), AudioEncoder)
    assert isinstance(get_encoder("video"), VideoEncoder)
    assert isinstance(get_encoder("text"), TextEncoder)


@pytest.mark.parametrize("name", ["text", "image", "audio", "video"])
def test_yaml_defaults_are_the_encoder_defaults(name: str) -> None:
    from_yaml = yaml.safe_load((CONF / f"{name}.yaml").read_text()) or {}
    assert default_options(name) == from_yaml
    enc = get_encoder(name)
    for key, value in from_yaml.items():
        assert getattr(enc, key) == value, key


def test_options_overlay_defaults_and_unknown_options_fail() -> None:
    enc = get_encoder("video", num_frames=3)
    assert enc.num_frames == 3 and enc.max_side == default_options("video")["max_side"]
    with pytest.raises(ValueError, match=r"unknown option.*num_frame.*accepts:.*num_frames"):
        get_encoder("video", num_frame=3)


def test_unknown_modality() -> None:
    with pytest.raises(UnknownModalityError, match="no encoder for modality 'hologram'"):
        get_encoder("hologram")


class ShoutEncoder:
    """A toy in-process modality: upper-cases inline text."""

    name = "shout"

    def __init__(self, suffix: str = "!") -> None:
        self.suffix = suffix

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> EncodedText:
        return EncodedText(text=(ref.text or "").upper() + self.suffix, role=role,
                           provenance={"source_modality": "shout"})

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]:
        return {"chars": float(len(ref.text or ""))}


def test_register_encoder_in_process() -> None:
    register_encoder("shout", ShoutEncoder, defaults={"suffix": "!!"})
    try:
        assert "shout" in available_modalities()
        out = get_encoder("shout").encode(MediaRef("shout", text="hi"), None)
        assert out.text == "HI!!"
        assert get_encoder("shout", suffix="?").encode(MediaRef("shout", text="a"), None).text == "A?"
        with pytest.raises(ValueError, match="already registered"):
            register_encoder("shout", ShoutEncoder)
    finally:
        unregister_encoder("shout")
    assert "shout" not in available_modalities()
    with pytest.raises(ValueError, match="core modality"):
        unregister_encoder("image")


def test_factory_must_return_an_encoder() -> None:
    def bad(**_: Any) -> object:
        return object()

    register_encoder("broken", bad)
    try:
        with pytest.raises(TypeError, match="lacks name/encode/measure"):
            get_encoder("broken")
    finally:
        unregister_encoder("broken")
