"""Image encoder: RGB as displayed, resizing, provenance, header-only measure."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from judgeanything.modalities import EncodedImage, MediaError, get_encoder
from judgeanything.modalities.image import ImageEncoder, fit_within
from judgeanything.schema import MediaRef


def test_png_and_jpeg_decode_to_rgb_with_provenance(media: Path) -> None:
    enc = ImageEncoder(max_side=None)
    for name, fmt in (("grad.png", "PNG"), ("grad.jpg", "JPEG")):
        out = enc.encode(MediaRef("image", path=name), media, role="query")
        assert isinstance(out, EncodedImage)
        assert out.role == "query" and out.modality == "image"
        assert out.image.mode == "RGB" and out.image.size == (200, 100)
        arr = np.asarray(out.image)
        assert arr[50, 0, 0] < 10 and arr[50, 199, 0] > 245  # the red ramp runs left → right
        p = out.provenance
        assert p["format"] == fmt and p["source"] == name
        assert p["sha256"] == hashlib.sha256((media / name).read_bytes()).hexdigest()
        assert p["original_size"] == [200, 100] and p["final_size"] == [200, 100]
        assert p["exif_rotated"] is False and p["resized"] is False


def test_max_side_keeps_aspect_with_lanczos(media: Path) -> None:
    out = ImageEncoder(max_side=50).encode(MediaRef("image", path="grad.png"), media)
    assert out.image.size == (50, 25)
    assert out.provenance["resized"] is True and out.provenance["final_size"] == [50, 25]
    assert out.provenance["displayed_size"] == [200, 100]
    # never enlarged
    big = ImageEncoder(max_side=4000).encode(MediaRef("image", path="grad.png"), media)
    assert big.image.size == (200, 100)


@pytest.mark.parametrize(("size", "max_side", "expect"), [
    ((200, 100), 50, (50, 25)), ((100, 200), 50, (25, 50)), ((3, 1000), 10, (1, 10)),
    ((64, 64), None, (64, 64))])
def test_fit_within(size: tuple[int, int], max_side: int | None, expect: tuple[int, int]) -> None:
    assert fit_within(size, max_side) == expect


def test_palette_transparency_is_composited_on_white(media: Path) -> None:
    out = ImageEncoder().encode(MediaRef("image", path="palette_transparent.png"), media)
    arr = np.asarray(out.image)
    assert tuple(arr[5, 2]) == (255, 255, 255)  # transparent index 0 → white, not black
    assert tuple(arr[5, 15]) == (255, 0, 0)
    assert out.provenance["alpha_composited_on"] == "white"


def test_sixteen_bit_grey_is_scaled_not_clipped(media: Path) -> None:
    out = ImageEncoder().encode(MediaRef("image", path="deep16.png"), media)
    arr = np.asarray(out.image)
    assert out.image.mode == "RGB" and arr.shape == (30, 40, 3)
    assert arr.max() == int(1199 * 50 / 65535 * 255) and arr.min() == 0
    assert out.provenance["scaled_bits"] == 16


def test_bytes_source_and_measure(media: Path) -> None:
    data = (media / "grad.jpg").read_bytes()
    enc = get_encoder("image")
    out = enc.encode(MediaRef("image", data=data), media)
    assert out.image.size == (200, 100) and out.provenance["sha256"] == hashlib.sha256(data).hexdigest()
    assert enc.measure(MediaRef("image", path="grad.png"), media) == {"width": 200.0, "height": 100.0,
                                                                      "pixels": 20000.0, "count": 1.0}


def test_measure_does_not_decode_pixels(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: Image.Image) -> None:
        raise AssertionError("measure decoded the pixels")

    monkeypatch.setattr(Image.Image, "load", boom)
    assert ImageEncoder().measure(MediaRef("image", path="grad.jpg"), media)["width"] == 200.0


def test_animated_gif_uses_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    out = ImageEncoder().encode(MediaRef("image", data=buf.getvalue()), None)
    assert out.provenance["n_frames"] == 2 and out.provenance["frame_used"] == 0
    r, g, _ = np.asarray(out.image)[4, 4]
    assert r > 200 and g < 50


def test_frames_ref_is_not_an_image(media: Path) -> None:
    with pytest.raises(MediaError, match="a list of frames is a video"):
        ImageEncoder().encode(MediaRef("image", frames=("frames/0.png",)), media)


def test_bad_option_value() -> None:
    with pytest.raises(ValueError, match="max_side"):
        ImageEncoder(max_side=0)
