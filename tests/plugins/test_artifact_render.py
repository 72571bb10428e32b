"""The artifact modality renders for real in headless Chromium: timed screenshots whose pixels show what
the DOM holds at those times, interactions, the network kept off, typed failures as media errors, and
renders cached by content hash."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import yaml

from judgeanything.modalities import (
    EncodedText,
    EncodedVideo,
    MediaCache,
    MediaError,
    available_modalities,
    default_options,
    get_encoder,
)
from judgeanything.schema import MediaRef
from tests.plugins.artifact_support import PLUGIN_SRC

W, H = 320, 240
RED = (215, 40, 40)


def _page(body: str, style: str = "") -> str:
    return (f"<!doctype html><html><head><style>html,body{{margin:0;background:#fff}}{style}</style></head>"
            f"<body>{body}</body></html>")


SLIDER = _page('<div id="sq"></div>',
               "#sq{position:absolute;left:0;top:100px;width:20px;height:20px;background:rgb(215,40,40);"
               "animation:mv 2s linear forwards}@keyframes mv{from{left:0}to{left:280px}}")


def _red_x(frame: np.ndarray) -> float:
    m = (np.abs(frame.astype(int) - RED).sum(axis=2) < 60)
    xs = np.nonzero(m)[1]
    return float(xs.mean()) if xs.size else float("nan")


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    (tmp_path / "slider.html").write_text(SLIDER)
    return tmp_path


def _enc(tmp_path: Path, **kw):  # type: ignore[no-untyped-def]
    return get_encoder("artifact", width=W, height=H, cache_dir=str(tmp_path / "renders"), **kw)


def test_plugin_registers_modality_and_conf(artifact_plugin: Path) -> None:
    assert "artifact" in available_modalities()
    shipped = yaml.safe_load((PLUGIN_SRC / "judgeanything_artifact" / "conf" / "modality" / "artifact.yaml")
                             .read_text())
    assert default_options("artifact") == shipped
    assert shipped["capture_times"] == [0.0, 1.0, 2.0]  # three screenshots, as ArtifactsBench


def test_timed_screenshots_follow_the_animation_and_code_comes_along(browser: str, site: Path,
                                                                      tmp_path: Path) -> None:
    video, code = _enc(tmp_path).encode(MediaRef("artifact", path="slider.html"), site, role="response 1")
    assert isinstance(video, EncodedVideo) and isinstance(code, EncodedText)
    assert video.frames.shape == (3, H, W, 3) and video.frames.dtype == np.uint8
    assert video.timestamps[0] == 0.0 and video.timestamps == sorted(video.timestamps)
    assert np.allclose(video.timestamps, [0.0, 1.0, 2.0], atol=0.35)
    xs = [_red_x(f) for f in video.frames]
    # the square slides 280 px over 2 s (centre x = 10 + 140·t, stopping at 290); a screenshot is taken
    # at or shortly after its timestamp (the page keeps animating while Chromium captures it)
    for x, t in zip(xs, video.timestamps, strict=True):
        lo, hi = 10 + 140 * min(t, 2.0), 10 + 140 * min(t + 0.6, 2.0)
        assert lo - 15 <= x <= hi + 15, (xs, video.timestamps)
    assert xs[0] < xs[1] < xs[2]
    assert video.provenance["capture_labels"] == ["t=0s", "t=1s", "t=2s"]
    assert "@keyframes mv" in code.text and code.role == "response 1" and code.provenance["part"] == "code"


def test_interactions_click_and_type_are_captured(browser: str, tmp_path: Path) -> None:
    (tmp_path / "form.html").write_text(_page(
        '<button id="b" style="width:80px;height:30px">Go</button>'
        '<input id="name" style="position:absolute;top:100px;left:10px;width:200px;font-size:20px">'
        '<script>document.getElementById("b").onclick=()=>{document.documentElement.style.background="rgb(40,80,215)"}'
        "</script>"))
    enc = _enc(tmp_path, capture_times=[0.0], interactions=[{"action": "type", "selector": "#name", "text": "HELLO"},
                                                           {"action": "click", "selector": "#b"}])
    video, _ = enc.encode(MediaRef("artifact", path="form.html"), tmp_path)
    assert video.provenance["capture_labels"] == ["t=0s", "after type #name 'HELLO'", "after click #b"]
    before, typed, clicked = video.frames
    field = (slice(102, 128), slice(12, 200))
    assert (typed[field] < 100).sum() > (before[field] < 100).sum() + 50  # glyphs appeared in the input
    assert np.abs(clicked[200, 300].astype(int) - (40, 80, 215)).sum() < 30  # background turned blue
    assert np.abs(before[200, 300].astype(int) - 255).sum() < 10


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"body{background:rgb(0,0,0)}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def loopback() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _Recorder.hits = []
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_network_is_off_but_the_artifact_folder_is_served(browser: str, tmp_path: Path, loopback: str) -> None:
    secret = tmp_path / "outside.css"
    secret.write_text("body{background:rgb(0,0,0)}")
    site = tmp_path / "site"
    (site / "css").mkdir(parents=True)
    (site / "css" / "look.css").write_text("#box{position:absolute;left:0;top:0;width:100px;height:100px;"
                                           "background:rgb(40,160,60)}")
    (site / "index.html").write_text(_page(
        f'<link rel="stylesheet" href="css/look.css"><link rel="stylesheet" href="{secret.as_uri()}">'
        f'<link rel="stylesheet" href="{loopback}/x.css"><img src="{loopback}/img.png"><div id="box"></div>'
        f'<script>fetch("{loopback}/api").catch(()=>{{}}); new WebSocket("ws://127.0.0.1:9/ws");</script>'))
    video, code = _enc(tmp_path, capture_times=[0.5]).encode(MediaRef("artifact", path="site"), tmp_path)
    frame = video.frames[0]
    assert np.abs(frame[50, 50].astype(int) - (40, 160, 60)).sum() < 20  # the folder's own stylesheet loaded
    assert np.abs(frame[200, 250].astype(int) - 255).sum() < 10  # neither black stylesheet applied
    assert _Recorder.hits == []  # nothing reached the server
    blocked = video.provenance["blocked_requests"]
    assert any(u.startswith(loopback) for u in blocked) and any(u.endswith("outside.css") for u in blocked)
    assert code.provenance["files"] == ["index.html", "css/look.css"] and "css/look.css:" in code.text


@pytest.mark.parametrize(("html", "kind"), [
    ("<html><body><p>half a page</p><script>const x = ;</script></body></html>", "syntax_error"),
    ("<html><body><p>spinning</p><script>while (true) {}</script></body></html>", "timeout"),
    ('<html><body style="background:#fff"><div style="width:10px"></div></body></html>', "blank"),
])
def test_render_failures_are_typed_media_errors(browser: str, tmp_path: Path, html: str, kind: str) -> None:
    (tmp_path / "bad.html").write_text(html)
    with pytest.raises(MediaError) as ei:
        _enc(tmp_path, timeout_s=4.0).encode(MediaRef("artifact", path="bad.html"), tmp_path)
    assert ei.value.reason.startswith(f"render failed ({kind})"), ei.value.reason
    # the browser survives a failed page: the next artifact renders
    (tmp_path / "ok.html").write_text(SLIDER)
    video, _ = _enc(tmp_path).encode(MediaRef("artifact", path="ok.html"), tmp_path)
    assert video.frames.shape[0] == 3


def test_missing_selector_and_bad_files(browser: str, site: Path, tmp_path: Path) -> None:
    enc = _enc(tmp_path, capture_times=[0.0], timeout_s=3.0, interactions=[{"action": "click", "selector": "#nope"}])
    with pytest.raises(MediaError, match=r"render failed \(interaction\): after click #nope"):
        enc.encode(MediaRef("artifact", path="slider.html"), site)
    (site / "notes.txt").write_text("x")
    (site / "empty.html").write_text("")
    for rel, why in (("notes.txt", "not an artifact file"), ("empty.html", "empty file"),
                     ("gone.html", "file not found"), ("../x.html", "path escapes the data root")):
        with pytest.raises(MediaError) as ei:
            _enc(tmp_path).encode(MediaRef("artifact", path=rel), site)
        assert ei.value.reason.startswith(why), ei.value.reason


def test_renders_are_cached_by_content_hash(browser: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(_page('<link rel="stylesheet" href="a.css"><div id="box"></div>'))
    (site / "a.css").write_text("#box{width:50px;height:50px;background:rgb(215,40,40)}")
    enc = _enc(tmp_path, capture_times=[0.0])
    ref = MediaRef("artifact", path="site/index.html")
    first, _ = enc.encode(ref, tmp_path)
    assert (enc.cache.misses, enc.cache.hits) == (1, 0)
    again = _enc(tmp_path, capture_times=[0.0])  # a new encoder (another process): same bytes → disk hit
    second, _ = again.encode(ref, tmp_path)
    assert (again.cache.misses, again.cache.hits) == (0, 1)
    np.testing.assert_array_equal(first.frames, second.frames)
    (site / "a.css").write_text("#box{width:50px;height:50px;background:rgb(40,80,215)}")  # an asset edited
    third, _ = again.encode(ref, tmp_path)
    assert again.cache.misses == 1 and np.abs(third.frames[0, 25, 25].astype(int) - (40, 80, 215)).sum() < 20
    # through judgeanything's MediaCache the frames and the code are two parts of one media item; a folder
    # reference works, and the in-memory key follows the assets too (the encoder's own content_hash)
    mc = MediaCache(tmp_path, {"artifact": {"width": W, "height": H, "capture_times": [0.0],
                                            "cache_dir": str(tmp_path / "renders")}})
    parts = mc.encode_parts(MediaRef("artifact", path="site"), "r")
    assert [p.modality for p in parts] == ["video", "text"] and all(p.role == "r" for p in parts)
    (site / "a.css").write_text("#box{width:50px;height:50px;background:rgb(40,160,60)}")
    green = mc.encode_parts(MediaRef("artifact", path="site"), "r")[0]
    assert mc.misses == 2 and np.abs(green.frames[0, 25, 25].astype(int) - (40, 160, 60)).sum() < 20
    assert mc.measure(MediaRef("artifact", path="site"))["files"] == 2.0


def test_playwright_faults_are_classified(artifact_plugin: Path) -> None:
    from judgeanything_artifact.render import RenderError, _classify

    class TimeoutError(Exception):
        pass

    assert _classify(TimeoutError("Page.goto: Timeout 5000ms exceeded."), None, 5).kind == "timeout"
    assert _classify(RuntimeError("Page.screenshot: Target crashed"), None, 5).kind == "crash"
    assert _classify(RuntimeError("Target page, context or browser has been closed"), None, 5).kind == "crash"
    with pytest.raises(ValueError):
        RenderError("odd", "no such kind")


def test_full_page_screenshots_and_file_scope(browser: str, tmp_path: Path) -> None:
    site = tmp_path / "tall"
    site.mkdir()
    (site / "look.css").write_text("#top{background:rgb(40,160,60)}")
    (site / "index.html").write_text(_page('<link rel="stylesheet" href="look.css">'
                                           '<div id="top" style="height:50px"></div>'
                                           '<div style="height:600px;background:rgb(40,80,215)"></div>'))
    ref = MediaRef("artifact", path="tall/index.html")
    full, _ = _enc(tmp_path, capture_times=[0.0], full_page=True).encode(ref, tmp_path)
    assert full.frames.shape[1:3] == (650, W)  # the whole page, not the 240-px viewport
    assert np.abs(full.frames[0, 640, 10].astype(int) - (40, 80, 215)).sum() < 20
    capped, _ = _enc(tmp_path, capture_times=[0.0], full_page=True, max_page_height=300).encode(ref, tmp_path)
    assert capped.frames.shape[1] == 300
    # scope: file — the page may load nothing but itself, so its own folder's stylesheet is blocked
    only, code = _enc(tmp_path, capture_times=[0.0], scope="file").encode(ref, tmp_path)
    assert np.abs(only.frames[0, 25, 10].astype(int) - 255).sum() < 10
    assert any(u.endswith("look.css") for u in only.provenance["blocked_requests"])
    assert code.provenance["files"] == ["index.html"]


def test_runtime_errors_are_recorded_or_fail_when_asked(browser: str, tmp_path: Path) -> None:
    (tmp_path / "half.html").write_text(_page('<div style="width:60px;height:60px;background:rgb(215,40,40)"></div>'
                                              "<script>missingFunction();</script>"))
    ref = MediaRef("artifact", path="half.html")
    video, _ = _enc(tmp_path, capture_times=[0.0]).encode(ref, tmp_path)
    assert any("ReferenceError" in e and "missingFunction" in e for e in video.provenance["page_errors"])
    with pytest.raises(MediaError, match=r"render failed \(page_error\): .*ReferenceError"):
        _enc(tmp_path, capture_times=[0.0], fail_on_page_error=True).encode(ref, tmp_path)


def test_a_browser_that_stops_answering_is_abandoned(artifact_plugin: Path, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    """No browser needed: a renderer whose worker never takes the job (as if Chromium hung) gives a typed
    timeout after the guard, and the next render gets a fresh queue and worker."""
    from judgeanything_artifact import render as R

    monkeypatch.setattr(R, "GUARD_S", 0.2)
    r = R.Renderer()
    monkeypatch.setattr(r, "_start", lambda: None)  # the worker is "stuck": nothing consumes the queue
    stuck = r._jobs
    with pytest.raises(R.RenderError) as ei:
        r.render(tmp_path / "x.html", R.RenderSpec(timeout_s=0.1))
    assert ei.value.kind == "timeout" and "abandoned" in ei.value.reason
    assert r._jobs is not stuck and r._thread is None
