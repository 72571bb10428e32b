"""Media on the openai path: encoded payloads cached by content (one PNG/WAV encode per distinct image or
sound, whatever file or unit it comes from), and a rerun of a finished run measures no media file again."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges import openai_payload
from judgeanything.judges.openai_compat import OpenAIJudge
from judgeanything.judges.openai_payload import PayloadCache, audio_base64, frame_data_url, image_data_url
from judgeanything.runner import Runner, RunOptions
from judgeanything.schema import MediaRef, PairItem, Query, Response
from tests.support.fault_openai import FaultServer


def test_payloads_are_cached_by_content_not_object(monkeypatch):
    cache = PayloadCache()
    monkeypatch.setattr(openai_payload, "PAYLOADS", cache)
    a = Image.new("RGB", (16, 8), (10, 200, 30))
    same = Image.new("RGB", (16, 8), (10, 200, 30))  # another object, equal pixels
    other = Image.new("RGB", (16, 8), (10, 200, 31))
    url = image_data_url(a)
    assert image_data_url(same) == url and image_data_url(other) != url
    assert image_data_url(a, "jpeg") != url  # the format is part of the key
    assert (cache.hits, cache.misses) == (1, 3)
    frame = np.asarray(a)
    assert frame_data_url(frame) == url and cache.hits == 1  # a frame is keyed apart from a PIL image…
    assert frame_data_url(frame.copy()) == url and cache.hits == 2  # …but by content too
    video = np.stack([frame, np.zeros_like(frame)])
    video.flags.writeable = False  # as the media cache hands them out
    assert frame_data_url(video[0], video=video, index=0) == url  # a frame of a decoded video: same pixels
    assert frame_data_url(video[1], video=video, index=1) != url
    assert frame_data_url(video[0], video=video, index=0) == url and cache.hits == 3  # second time: a hit
    tone = np.sin(np.linspace(0, 50, 800)).astype(np.float32)
    assert audio_base64(tone, 16000) == audio_base64(tone.copy(), 16000) != audio_base64(tone, 8000)
    assert cache.hits == 4


def test_an_object_is_hashed_once_while_it_lives(monkeypatch):
    calls = []
    digests = openai_payload._ObjectDigests()
    held = [Image.new("RGB", (4, 4))]

    def content() -> bytes:
        calls.append(1)
        return held[0].tobytes()

    for _ in range(3):
        digests.get(held[0], content)
    assert len(calls) == 1
    other = Image.new("RGB", (4, 4), (1, 2, 3))
    assert digests.get(other, other.tobytes) != digests.get(held[0], content)
    held.clear()
    import gc

    gc.collect()
    assert len(digests._items) == 1  # the collected image's entry is gone (an id reused later cannot hit it)


def test_the_cache_holds_at_most_its_budget():
    cache = PayloadCache(max_bytes=100)
    for i in range(10):
        cache.get(("k", i), lambda i=i: "x" * 40)
    assert cache._held <= 100 and len(cache._items) == 2


def _image_items(root, n: int) -> BenchmarkData:
    for k in range(3):
        Image.new("RGB", (32, 24), (40 * k, 0, 0)).save(root / f"{k}.png")
    items = []
    for i in range(n):
        q = Query(f"u{i}", "Text2Image", f"draw {i}")
        rs = [Response(f"u{i}-{s}", q.uniq_id, f"m{s}", "image", media=(MediaRef("image", path=f"{(i + s) % 3}.png"),))
              for s in (0, 1)]
        items.append(PairItem(f"u{i}::p", q, rs[0], rs[1]))
    return BenchmarkData(name="imgs", setting="pair", items=items, data_root=root)


def test_a_rerun_of_a_finished_run_measures_no_media(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    data = _image_items(media, 6)
    run = tmp_path / "run"
    with FaultServer() as srv:
        for _ in range(2):
            judge = OpenAIJudge(model="m", base_url=srv.base_url, response_format="none")
            Runner(data, judge, run, RunOptions(progress=False)).run()
        first = srv.n_requests
        assert first == 6  # the second run judged nothing either
        info = json.loads((run / "run.json").read_text())["media_cache"]
        assert info["measured"] == 0  # every size came from media_measures.json
        (media / "1.png").write_bytes((media / "2.png").read_bytes())  # one file changed: measured again
        judge = OpenAIJudge(model="m", base_url=srv.base_url, response_format="none")
        Runner(data, judge, run, RunOptions(progress=False)).run()
    assert json.loads((run / "run.json").read_text())["media_cache"]["measured"] == 1
    sizes = [json.loads(x)["sizes"] for x in (run / "items.jsonl").read_text().splitlines()]
    assert sizes[0] == [{"width": 32.0, "height": 24.0, "pixels": 768.0, "count": 1.0}] * 2  # read back exactly


def test_gemini_files_are_encoded_once_per_content_and_are_the_plain_encodings(monkeypatch):
    """The gemini judge sends PNG / WAV file bytes: the same image, frame or sound in many requests is encoded
    once (as the openai judge's data URLs are), and the bytes are exactly the uncached encoding."""
    from judgeanything.judges.gemini_payload import Upload, plan_parts
    from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo

    cache = PayloadCache()
    monkeypatch.setattr(openai_payload, "PAYLOADS", cache)
    img = Image.new("RGB", (16, 8), (10, 200, 30))
    frames = np.stack([np.asarray(img), np.zeros((8, 16, 3), np.uint8)])
    frames.flags.writeable = False
    tone = np.sin(np.linspace(0, 50, 800)).astype(np.float32)
    parts = [EncodedImage(image=img, role="query"), EncodedAudio(samples=tone, sample_rate=16000, role="response 1"),
             EncodedVideo(frames=frames, timestamps=(0.0, 0.5), fps=2.0, role="response 2")]
    first = plan_parts(parts)
    misses = cache.misses
    assert misses == 4  # the image, the sound, two frames
    second = plan_parts(parts)
    assert cache.misses == misses and cache.hits >= 4
    inline = [p.inline_data.data for p in first.parts if not isinstance(p, Upload) and p.inline_data is not None]
    assert inline[0] == openai_payload.image_bytes(img)
    assert inline[2] == openai_payload.image_bytes(Image.fromarray(frames[1]))
    (up,) = [p for p in first.parts if isinstance(p, Upload)]
    assert up.blob.data == openai_payload.audio_bytes(tone, 16000)
    assert [m["sha256"] for m in second.media if "sha256" in m] == [m["sha256"] for m in first.media if "sha256" in m]
