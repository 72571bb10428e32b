"""Generic plugin hooks, with no browser and no installed plugin (an encoder registered in-process):

* an encoder may return several encodings for one media item; :meth:`MediaCache.encode_parts` hands them
  all out (each with the role and its own provenance), :meth:`MediaCache.encode` the first, decoding once;
* an encoder's ``preview(ref, root)`` gives the HTML report a strip of images and a link to the source,
  copied as text (an HTML source opened from the report must not run).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from judgeanything.modalities import (
    EncodedImage,
    EncodedText,
    MediaCache,
    MediaError,
    register_encoder,
    unregister_encoder,
)
from judgeanything.report.html import write_html_report
from judgeanything.schema import MediaRef, ScoreItem, Verdict
from tests.report.conftest import _q, _resp, record, write_run


class _TwoParts:
    """Reads a ``.sketch`` file: a picture of its first byte's grey level, then the file's text."""

    name = "sketch"
    calls = 0

    def __init__(self, previews: str | None = None, empty: bool = False) -> None:
        self.previews, self.empty = previews, empty

    def encode(self, ref: MediaRef, root: Path | None, role: str = "") -> tuple[Any, ...]:
        _TwoParts.calls += 1
        if self.empty:
            return ()
        data = (Path(root or ".") / str(ref.path)).read_bytes()
        img = Image.fromarray(np.full((8, 8, 3), data[0], np.uint8))
        return (EncodedImage(img, role, {"part": "picture"}), EncodedText(data.decode(), role, {"part": "code"}))

    def measure(self, ref: MediaRef, root: Path | None) -> dict[str, float]:
        return {"chars": float(len((Path(root or ".") / str(ref.path)).read_bytes()))}

    def preview(self, ref: MediaRef, root: Path | None) -> dict[str, Any]:
        src = Path(root or ".") / str(ref.path)
        if self.previews is None:
            return {"error": "not rendered", "source": src}
        pics = sorted(Path(self.previews).glob("*.png"))
        return {"images": pics, "captions": [p.stem for p in pics], "source": src}


@pytest.fixture()
def sketch(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "a.sketch").write_text("<script>alert(1)</script> drawing A")
    shots = tmp_path / "shots"
    shots.mkdir()
    for k in range(3):
        Image.fromarray(np.full((4, 4, 3), 40 * k, np.uint8)).save(shots / f"t{k}.png")
    register_encoder("sketch", _TwoParts, defaults={"previews": str(shots)})
    try:
        yield tmp_path
    finally:
        unregister_encoder("sketch")


def test_several_parts_are_handed_out_in_order_and_decoded_once(sketch: Path) -> None:
    cache = MediaCache(sketch)
    _TwoParts.calls = 0
    ref = MediaRef("sketch", path="a.sketch")
    parts = cache.encode_parts(ref, "response 1")
    assert [type(p).__name__ for p in parts] == ["EncodedImage", "EncodedText"]
    assert [p.role for p in parts] == ["response 1"] * 2 and parts[1].text.endswith("drawing A")
    again = cache.encode_parts(ref, "response 2")
    assert [p.role for p in again] == ["response 2"] * 2 and parts[0].role == "response 1"
    again[0].provenance["x"] = 1
    assert "x" not in cache.encode_parts(ref)[0].provenance  # each hit has its own provenance
    first = cache.encode(ref, "r")
    assert isinstance(first, EncodedImage) and first.role == "r"
    assert _TwoParts.calls == 1 and (cache.misses, cache.hits) == (1, 3)


def test_an_encoder_returning_nothing_is_a_media_error(sketch: Path) -> None:
    cache = MediaCache(sketch, {"sketch": {"empty": True}})
    with pytest.raises(MediaError, match="returned no encoding"):
        cache.encode_parts(MediaRef("sketch", path="a.sketch"))


def _run(run_dir: Path, data_root: Path, previews: str | None) -> Path:
    q = _q("s1", "Text2Sketch", "Draw A")
    item = ScoreItem("s1", q, _resp("r1", "s1", "model", "sketch", media=[MediaRef("sketch", path="a.sketch")]))
    run = {"benchmark": "synthetic", "setting": "score", "mode": "overall", "judge": "tiny",
           "data_root": str(data_root), "config": {"media": {"sketch": {"previews": previews}}}}
    return write_run(run_dir, run, [item], [], [record("s1", "Text2Sketch", "score", (0,), [Verdict("overall", 3)])])


def test_report_shows_a_plugin_preview_as_a_strip_and_the_source_as_text(sketch: Path, tmp_path: Path) -> None:
    run = _run(tmp_path / "run", sketch, str(sketch / "shots"))
    html = write_html_report(run).read_text()
    assert html.count('<div class="strip">') == 1 and "a.sketch (t0 · t1 · t2)" in html
    media = sorted(p.name for p in (run / "report_media").iterdir())
    assert sum(n.endswith(".png") for n in media) == 3 and any(n.endswith(".sketch.txt") for n in media)
    assert "alert(1)" not in html  # the source is linked as a text copy, not embedded
    src = next(p for p in (run / "report_media").iterdir() if p.name.endswith(".sketch.txt"))
    assert src.read_text().startswith("<script>")


def test_report_says_why_a_preview_has_no_images(sketch: Path, tmp_path: Path) -> None:
    run = _run(tmp_path / "run", sketch, None)
    html = write_html_report(run).read_text()
    assert "a.sketch: not rendered" in html and ">code</a>" in html
