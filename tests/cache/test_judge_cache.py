"""The content-addressed judge cache: keys, stores under concurrent writer processes, what may be cached,
and the cache-aware judge call against a counting loopback OpenAI server."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from judgeanything.cache import CacheOptions, JudgeCache, judge_with_cache, media_digest, request_key
from judgeanything.cache.judge_cache import decode_result, encode_result
from judgeanything.cache.store import FileStore, SQLiteStore, filesystem_type, open_store
from judgeanything.judges.base import JudgeRequest, JudgeResult
from judgeanything.judges.openai_compat import OpenAIJudge
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo
from judgeanything.schema import Failure, PairItem, Prompt, Query, Response, TextPart, Verdict
from tests.support.fake_openai import FakeServer, Script


def _prompt(system: str = "You are a judge.", text: str = "Which is better?", version: str = "v1",
            rubrics: tuple[str, ...] = ("overall",)) -> Prompt:
    return Prompt("pair", "overall", rubrics, system, (TextPart(text),), version,
                  {"type": "object"}, n_responses=2)


def _image(colour: tuple[int, int, int]) -> EncodedImage:
    return EncodedImage(Image.new("RGB", (8, 6), colour), role="response 1")


def _key(prompt: Prompt | None = None, parts=(), order=(0, 1), repeat=0, fp=None, snapshot="") -> str:
    return request_key(prompt or _prompt(), list(parts), order=order, repeat=repeat,
                       judge_fingerprint=fp or {"kind": "openai", "model": "m", "temperature": 0.0},
                       snapshot=snapshot)


# -- keys -----------------------------------------------------------------------------------------------


def test_the_key_changes_with_everything_that_can_change_the_answer():
    base = _key(parts=[TextPart("t"), _image((1, 2, 3))])
    variants = {
        "prompt text sent": _key(parts=[TextPart("t2"), _image((1, 2, 3))]),
        "no media judge: prompt text": _key(_prompt(text="Which is worse?")),
        "system": _key(_prompt(system="Be strict."), parts=[TextPart("t"), _image((1, 2, 3))]),
        "prompt version": _key(_prompt(version="v2"), parts=[TextPart("t"), _image((1, 2, 3))]),
        "rubric ids": _key(_prompt(rubrics=("clarity",)), parts=[TextPart("t"), _image((1, 2, 3))]),
        "media pixels": _key(parts=[TextPart("t"), _image((1, 2, 4))]),
        "order": _key(parts=[TextPart("t"), _image((1, 2, 3))], order=(1, 0)),
        "repeat": _key(parts=[TextPart("t"), _image((1, 2, 3))], repeat=1),
        "model": _key(parts=[TextPart("t"), _image((1, 2, 3))], fp={"kind": "openai", "model": "m2",
                                                                    "temperature": 0.0}),
        "sampling": _key(parts=[TextPart("t"), _image((1, 2, 3))], fp={"kind": "openai", "model": "m",
                                                                       "temperature": 0.7}),
        "snapshot": _key(parts=[TextPart("t"), _image((1, 2, 3))], snapshot="m-2024-08-06"),
    }
    assert len(set(variants.values()) | {base}) == len(variants) + 1, variants
    # the same content in new objects (another process, another run) gives the same key
    assert _key(parts=[TextPart("t"), _image((1, 2, 3))]) == base
    assert len(base) == 64


def test_media_digests_cover_the_decoded_content_not_the_object():
    a = np.linspace(-1, 1, 1600, dtype=np.float32)
    assert media_digest(EncodedAudio(a, 16000)) == media_digest(EncodedAudio(a.copy(), 16000))
    assert media_digest(EncodedAudio(a, 16000)) != media_digest(EncodedAudio(a, 8000))
    b = a.copy()
    b[7] = 0.5
    assert media_digest(EncodedAudio(a, 16000)) != media_digest(EncodedAudio(b, 16000))
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    v = media_digest(EncodedVideo(frames, [0.0, 0.5], 2.0))
    assert v == media_digest(EncodedVideo(frames.copy(), [0.0, 0.5], 2.0))
    assert v != media_digest(EncodedVideo(frames, [0.0, 0.6], 2.0))
    assert v != media_digest(EncodedVideo(frames, [0.0, 0.5], 2.0, audio=EncodedAudio(a, 16000)))
    with pytest.raises(TypeError, match="core encoding"):
        media_digest(object())  # type: ignore[arg-type]


# -- stores ---------------------------------------------------------------------------------------------


def _writer(directory: str, backend: str, wid: int, n: int) -> None:
    store = open_store(Path(directory), backend)
    for i in range(n):
        # keys overlap across writers: every key is written by every process, with a different value
        store.put(f"{i:064x}", f"writer {wid}".encode())
        if i % 25 == 0:
            store.set_meta("snapshot-x", f"s{wid}")
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "files"])
def test_many_writer_processes_share_one_store(tmp_path, backend):
    n, procs = 120, 4
    ctx = mp.get_context("fork")
    ps = [ctx.Process(target=_writer, args=(str(tmp_path), backend, w, n)) for w in range(procs)]
    for p in ps:
        p.start()
    for p in ps:
        p.join(60)
    assert [p.exitcode for p in ps] == [0] * procs
    store = open_store(tmp_path, backend)
    got = store.get_many([f"{i:064x}" for i in range(n)])
    assert len(got) == n == store.count()
    assert all(v.startswith(b"writer ") for v in got.values())
    # the first answer under a key is kept: a later put neither replaces it nor counts as stored
    assert store.put(f"{0:064x}", b"late") is False and store.get_many([f"{0:064x}"])[f"{0:064x}"] == got[
        f"{0:064x}"]
    assert store.get_meta("snapshot-x") in {f"s{w}" for w in range(procs)}


def test_auto_backend_is_sqlite_in_wal_mode_on_a_local_disk(tmp_path):
    store = open_store(tmp_path, "auto")
    assert isinstance(store, SQLiteStore)
    assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert filesystem_type(tmp_path) != ""


def test_auto_backend_uses_files_on_a_network_filesystem(tmp_path, monkeypatch):
    from judgeanything.cache import store as store_mod

    monkeypatch.setattr(store_mod, "filesystem_type", lambda p: "nfs4")
    assert isinstance(open_store(tmp_path, "auto"), FileStore)


# -- what may be cached ---------------------------------------------------------------------------------


def test_answers_round_trip_and_secrets_are_redacted(tmp_path):
    res = JudgeResult(raw='{"overall_choice": "0"} my key is sk-abcdefghijklmnop',
                      finish_reason="stop", usage={"prompt_tokens": 3, "completion_tokens": 2}, latency_s=0.25,
                      model="m-1", extra={"system_fingerprint": "fp_1"},
                      outcomes=[Verdict("overall", "first", probs={"first": 0.9, "second": 0.1}),
                                Failure("parse_fail", "x", "clarity")])
    back = decode_result(encode_result(res))
    assert back is not None
    assert "sk-abcdefghijklmnop" not in back.raw and back.raw.startswith('{"overall_choice": "0"}')
    assert back.outcomes == res.outcomes and back.usage == res.usage and back.model == "m-1"
    assert back.extra == {"system_fingerprint": "fp_1"} and back.latency_s == 0.25


def test_transient_failures_are_never_cached_refusals_are(tmp_path):
    cache = JudgeCache(CacheOptions(dir=str(tmp_path)))
    entries = [("a" * 64, JudgeResult(failure=Failure("api_error", "HTTP 429"))),
               ("b" * 64, JudgeResult(failure=Failure("refusal", "I cannot"))),
               ("c" * 64, JudgeResult(raw="not json at all")),  # a parse failure is decided per run
               ("d" * 64, JudgeResult(failure=Failure("media_error", "gone.png")))]
    cache.store_many(entries)
    assert set(cache.lookup([k for k, _ in entries])) == {"b" * 64, "c" * 64}
    assert cache.stats.uncacheable == {"api_error": 1, "media_error": 1}
    with pytest.raises(ValueError, match="never cached"):
        CacheOptions(failures=("api_error",))
    with pytest.raises(ValueError, match=r"cache\.mode"):
        CacheOptions(mode="sometimes")


def test_an_answer_over_the_size_limit_is_asked_again_not_stored_or_cut(tmp_path):
    cache = JudgeCache(CacheOptions(dir=str(tmp_path), max_answer_chars=1_000))
    verdict_at_the_end = "x" * 5_000 + ' {"overall_choice": "1"}'  # cut, it would parse to no verdict at all
    entries = [("a" * 64, JudgeResult(raw=verdict_at_the_end)), ("b" * 64, JudgeResult(raw="y" * 1_000)),
               ("c" * 64, JudgeResult(failure=Failure("refusal", "z" * 5_000), raw="z" * 5_000))]
    cache.store_many(entries)
    assert set(cache.lookup([k for k, _ in entries])) == {"b" * 64}  # exactly at the limit is stored
    assert cache.stats.uncacheable == {"too_long": 2} and cache.stats.stored == 1
    # the default is a million characters; null lifts the limit; anything else is refused
    assert CacheOptions.from_config({}).max_answer_chars == 1_000_000
    assert CacheOptions.from_config({"max_answer_chars": None}).max_answer_chars is None
    for bad in (0, -5, 2.5, True, "big"):
        with pytest.raises(ValueError, match=r"cache\.max_answer_chars"):
            CacheOptions(max_answer_chars=bad)  # type: ignore[arg-type]


# -- the cache-aware judge call ---------------------------------------------------------------------------


def _requests(n: int, repeat: int = 0) -> list[JudgeRequest]:
    q = Query("u", "Text2Text", "question")
    out = []
    for i in range(n):
        item = PairItem(f"u{i}", q, Response("a", "u", "ma", "text", text=f"a{i}"),
                        Response("b", "u", "mb", "text", text=f"b{i}"))
        prompt = _prompt(text=f"Which is better, a{i} or b{i}?")
        out.append(JudgeRequest(key=f"k{i}", item=item, prompt=prompt, order=(0, 1), repeat=repeat,
                                parts=list(prompt.parts)))
    return out


def _call(judge: OpenAIJudge, reqs: list[JudgeRequest], cache: JudgeCache) -> list[JudgeResult]:
    async def go() -> list[JudgeResult]:
        try:
            return await judge_with_cache(judge, reqs, cache)
        finally:
            await judge.aclose()

    return asyncio.run(go())


def test_a_second_process_worth_of_calls_costs_zero_requests(tmp_path):
    script = Script(response={"model": "m-2024-08-06"})
    with FakeServer(script) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY")
        first = _call(judge, _requests(6), JudgeCache(CacheOptions(dir=str(tmp_path))))
        assert len(script.requests) == 6 and all(r.failure is None for r in first)
        warm_cache = JudgeCache(CacheOptions(dir=str(tmp_path)))  # a fresh cache object: nothing in memory
        again = _call(OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY"),
                      _requests(6), warm_cache)
        assert len(script.requests) == 6  # zero new judge calls
        assert [r.raw for r in again] == [r.raw for r in first]
        assert all(r.extra["cache"] == "hit" for r in again) and warm_cache.stats.hits == 6
        assert again[0].model == "m-2024-08-06" and again[0].usage == first[0].usage
        # another repeat index is another sample: judged, not served from the cache
        _call(judge, _requests(2, repeat=1), JudgeCache(CacheOptions(dir=str(tmp_path))))
        assert len(script.requests) == 8


def test_modes_read_write_and_off(tmp_path):
    script = Script()
    with FakeServer(script) as srv:
        def judge() -> OpenAIJudge:
            return OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY")

        _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path), mode="read")))
        assert len(script.requests) == 3 and JudgeCache(CacheOptions(dir=str(tmp_path))).store.count() == 0
        _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path), mode="write")))
        _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path), mode="write")))
        assert len(script.requests) == 9  # write-only never reads: it refreshes
        _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path), mode="off")))
        assert len(script.requests) == 12
        _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path), mode="read")))
        assert len(script.requests) == 12


def test_rate_limited_answers_are_judged_again_next_time(tmp_path):
    script = Script(statuses=[400, 400])  # two requests fail (not retried), one succeeds
    with FakeServer(script) as srv:
        def judge() -> OpenAIJudge:
            return OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY")

        first = _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path))))
        assert sum(r.failure is not None for r in first) == 2
        again = _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path))))
        assert len(script.requests) == 5 and all(r.failure is None for r in again)


def test_a_new_provider_snapshot_stops_old_answers_from_matching(tmp_path):
    script = Script(response={"model": "m-v1"})
    with FakeServer(script) as srv:
        def judge() -> OpenAIJudge:
            return OpenAIJudge(model="m", base_url=srv.base_url, api_key_env="JA_TEST_NO_SUCH_KEY")

        _call(judge(), _requests(2), JudgeCache(CacheOptions(dir=str(tmp_path))))
        # the provider swaps the model behind the same id: the next live answer reports it …
        script.response["model"] = "m-v2"
        _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path))))
        assert len(script.requests) == 3  # u0, u1 hit (pointer still v1); u2 live → reports v2
        again = _call(judge(), _requests(3), JudgeCache(CacheOptions(dir=str(tmp_path))))
        # … and from then on answers of the old snapshot no longer match: u0, u1 are judged by v2
        assert len(script.requests) == 5 and {r.model for r in again} == {"m-v2"}


def test_a_damaged_entry_is_a_miss_not_a_stopped_run(tmp_path):
    store = FileStore(tmp_path)
    cache = JudgeCache(CacheOptions(dir=str(tmp_path), backend="files"), store=store)
    store.put("a" * 64, b'{"format": 1, "raw": "x"')  # cut short
    store.put("b" * 64, b'{"format": 1, "raw": "x"}')  # fields missing
    store.put("c" * 64, encode_result(JudgeResult(raw="fine")))
    assert set(cache.lookup(["a" * 64, "b" * 64, "c" * 64])) == {"c" * 64}
    assert cache.stats.misses == 2
