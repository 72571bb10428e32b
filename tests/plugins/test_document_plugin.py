"""A third-party modality with no edit of judgeanything: the ``judgeanything_document`` test plugin,
really installed (see plugin_install.py), gives ``get_encoder("document")`` → an ``EncodedImage`` with
``provenance["source_modality"] == "document"``, through the cache and the capability check."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from judgeanything.judges.capabilities import adapt_parts
from judgeanything.modalities import (
    EncodedImage,
    MediaCache,
    MediaError,
    available_modalities,
    default_options,
    discover_plugins,
    get_encoder,
)
from judgeanything.schema import MediaRef, TextPart
from tests.plugins.plugin_install import PLUGIN, plugin_on_path


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with plugin_on_path(tmp_path_factory.mktemp("plugin")) as target:
        yield target


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    (root / "short.md").write_text("# Title\n\nA short answer with a few words.\n"
                                   "- first point\n- second point\n")
    (root / "long.txt").write_text("\n".join(f"Paragraph {i}: " + "lorem ipsum dolor sit amet " * 12
                                             for i in range(20)))
    (root / "empty.md").write_text("")
    (root / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return root


def test_entry_point_and_yaml_are_discovered(plugin: Path) -> None:
    assert "document" in available_modalities()
    assert discover_plugins()["document"] == "judgeanything_document.encoder:DocumentEncoder"
    yml = PLUGIN / "judgeanything_document" / "conf" / "modality" / "document.yaml"
    shipped = yaml.safe_load(yml.read_text())
    assert default_options("document") == shipped == {"page_width": 640, "max_height": 1280, "font_size": 16,
                                                      "margin": 32}
    # the module really comes from the installed copy, not from the source tree
    enc = get_encoder("document")
    assert Path(sys.modules[type(enc).__module__].__file__).is_relative_to(plugin)  # type: ignore[arg-type]


def test_document_renders_to_an_image(plugin: Path, docs: Path) -> None:
    enc = get_encoder("document")
    out = enc.encode(MediaRef("document", path="short.md"), docs, role="response 1")
    assert isinstance(out, EncodedImage) and out.modality == "image" and out.role == "response 1"
    p = out.provenance
    assert p["source_modality"] == "document" and p["source"] == "short.md"
    assert p["headings"] == 1 and p["lines_total"] == 5 and p["lines_rendered"] == 5
    arr = np.asarray(out.image)
    assert out.image.mode == "RGB" and arr.shape[1] == 640
    ink = arr.min(axis=2) < 128
    assert 0.002 < ink.mean() < 0.2  # real glyphs were drawn, on a mostly white page
    rows = np.nonzero(ink.any(axis=1))[0]
    cols = np.nonzero(ink.any(axis=0))[0]
    assert rows.min() >= 32 and cols.min() >= 32 and cols.max() < 640 - 32  # inside the margins
    assert arr[:30].min() == 255  # the top margin is blank


def test_long_document_wraps_and_is_capped(plugin: Path, docs: Path) -> None:
    out = get_encoder("document").encode(MediaRef("document", path="long.txt"), docs)
    p = out.provenance
    assert p["lines_total"] > 20  # every paragraph wrapped onto several lines
    assert p["lines_rendered"] < p["lines_total"] and out.image.height <= 1280
    taller = get_encoder("document", max_height=4000).encode(MediaRef("document", path="long.txt"), docs)
    assert taller.provenance["lines_rendered"] == p["lines_total"] and taller.image.height > out.image.height
    m = get_encoder("document").measure(MediaRef("document", path="long.txt"), docs)
    assert m["lines"] == 20.0 and m["words"] == 20 * (2 + 5 * 12)


def test_plugin_media_goes_through_cache_and_capabilities(plugin: Path, docs: Path) -> None:
    cache = MediaCache(docs, {"document": {"font_size": 20}})
    a = cache.encode(MediaRef("document", path="short.md"), "response 1")
    b = cache.encode(MediaRef("document", path="short.md"), "response 2")
    assert (cache.misses, cache.hits) == (1, 1) and a.provenance["font_size"] == 20
    parts, records = adapt_parts([TextPart("Judge:"), a, b], frozenset({"image"}), judge="vl")
    assert records == [] and [getattr(p, "role", None) for p in parts] == [None, "response 1", "response 2"]
    assert cache.measure(MediaRef("document", path="short.md"))["words"] > 0


@pytest.mark.parametrize(("rel", "reason"), [("missing.md", "file not found"), ("empty.md", "empty file"),
                                             ("picture.png", "not a decodable document file"),
                                             ("../x.md", "path escapes the data root")])
def test_plugin_errors_are_media_errors(plugin: Path, docs: Path, rel: str, reason: str) -> None:
    with pytest.raises(MediaError) as ei:
        get_encoder("document").encode(MediaRef("document", path=rel), docs)
    assert ei.value.reason.startswith(reason)
