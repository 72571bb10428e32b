"""Rate control: the AIMD window's arithmetic, token estimates, RPM budgets, and a whole run against a
fault-injecting loopback server (429 + Retry-After, 5xx, timeouts) that ends with every unit judged or a
typed failure, its faults counted in run.json."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from judgeanything.judges.base import JudgeRequest
from judgeanything.judges.openai_compat import OpenAIJudge
from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo
from judgeanything.ratecontrol import AdaptiveWindow, RateLimits, RateOptions, estimate_tokens
from judgeanything.runner import RunConfigError, Runner, RunOptions
from judgeanything.schema import PairItem, Prompt, Query, Response, TextPart
from judgeanything.store import RunLog
from tests.support.fault_openai import Fault, FaultServer
from tests.support.items import toy_pairs


def test_aimd_halves_once_per_window_and_grows_back_additively():
    w = AdaptiveWindow(16, minimum=2)
    w._sent = 5  # five calls started
    w.observe(seq=3, ok=0, overloaded=1)
    assert w.limit == 8 and w.decreases == 1
    w.observe(seq=4, ok=0, overloaded=1)  # started before the cut: the same congestion event
    assert w.limit == 8 and w.decreases == 1
    w._sent = 9
    w.observe(seq=6, ok=0, overloaded=1)  # started after the cut: a new event
    assert w.limit == 4
    for _ in range(3):
        w._sent += 1
        w.observe(seq=w._sent, ok=0, overloaded=1)
    assert w.limit == 2 and w.lowest == 2  # the floor
    for _ in range(2):
        w.observe(seq=0, ok=1, overloaded=0)
    assert w.limit == pytest.approx(2 + 1 / 2 + 1 / 2.5)  # +1/window per success
    for _ in range(500):
        w.observe(seq=0, ok=1, overloaded=0)
    assert w.limit == 16 and w.stats() == {"adaptive": True, "maximum": 16, "final": 16, "lowest": 2,
                                           "decreases": 5}
    fixed = AdaptiveWindow(8, adaptive=False)
    fixed.observe(seq=0, ok=0, overloaded=1)
    assert fixed.limit == 8


def test_the_window_bounds_calls_in_flight():
    async def go() -> int:
        w, peak, now = AdaptiveWindow(3), 0, 0

        async def call() -> None:
            nonlocal peak, now
            async with w.slot():
                now += 1
                peak = max(peak, now)
                await asyncio.sleep(0.01)
                now -= 1

        await asyncio.gather(*(call() for _ in range(20)))
        return peak

    assert asyncio.run(go()) == 3


def _req(parts) -> JudgeRequest:
    q = Query("u", "Text2Text", "q")
    item = PairItem("u::p", q, Response("a", "u", "m", "text", text="x"), Response("b", "u", "m", "text", text="y"))
    return JudgeRequest("k", item, Prompt("pair", "overall", ("overall",), "s" * 40, (), "v1", {}, 2), parts=parts)


def test_token_estimates_count_text_media_and_the_answer_budget():
    from PIL import Image

    audio = EncodedAudio(np.zeros(32000, dtype=np.float32), 16000)  # 2 s
    video = EncodedVideo(np.zeros((3, 4, 4, 3), dtype=np.uint8), [0.0, 0.5, 1.0], 2.0, audio=audio)
    parts = [TextPart("x" * 80), EncodedImage(Image.new("RGB", (4, 4))), audio, video]
    # (40 + 80) / 4 text + 765 image + 20 audio + 3 × 765 frames + 20 video audio + 100 answer
    assert estimate_tokens(_req(parts), 100) == 30 + 765 + 20 + 3 * 765 + 20 + 100
    assert estimate_tokens(_req([TextPart("abc")]), None) == 11


def test_rpm_budget_spaces_requests():
    async def go() -> float:
        limits = RateLimits(rpm=120)  # 2 per second after a burst of the bucket's size
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await limits.acquire([_req([TextPart("x")])] * 122, None)
        return loop.time() - t0

    assert 0.8 < asyncio.run(go()) < 3.0


def test_bad_rate_options_are_run_config_errors():
    with pytest.raises(RunConfigError, match=r"run.rate: run.rate.rpm=0"):
        RunOptions(rate={"rpm": 0})
    with pytest.raises(RunConfigError, match="min_concurrency"):
        RunOptions(rate={"min_concurrency": 0})
    with pytest.raises(RunConfigError, match=r"run\.rate: .*rmp"):
        RunOptions(rate={"rmp": 10})
    assert RunOptions(rate={"tpm": 1000}).rate == RateOptions(tpm=1000)


def test_a_faulty_server_against_the_adaptive_window_ends_with_every_unit_judged_or_typed(tmp_path):
    n = 60
    # The three requests held past the deadline come first, so that their wait overlaps the rest of the run.
    faults = ([Fault(delay_s=600.0)] * 3 + [Fault("status", 429, {"retry-after-ms": "50"})] * 12
              + [Fault("status", 500)] * 4 + [Fault("status", 503)] * 3 + [Fault("html")] * 2)
    with FaultServer(faults, default=Fault(delay_s=0.02)) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url, response_format="none", timeout=1.5,
                            max_wait_s=0.05, max_attempts=8, concurrency=16)
        counts = Runner(toy_pairs(n), judge, tmp_path, RunOptions(progress=False)).run()
    assert counts["judged"] == n and counts["failures"] == 0
    with RunLog(tmp_path) as log:
        assert len(log.records) == n and all("failure" not in o for r in log for o in r["outcomes"])
    req = json.loads((tmp_path / "run.json").read_text())["requests"]
    faults_seen = dict(req["transient_faults"])
    # An ordinary answer (20 ms) that a stalled machine delays past the 1.5 s deadline is a real timeout too:
    # it must be counted and retried like the three scripted ones, so the accounting below is exact either way.
    timeouts = faults_seen.pop("DeadlineExceeded", 0)
    assert timeouts >= 3
    assert faults_seen == {"HTTP 429": 12, "HTTP 500": 4, "HTTP 503": 3, "InvalidCompletion": 2}
    retries = 21 + timeouts
    assert req["attempts"] == n + retries == srv.n_requests and req["retries"] == retries and req["gave_up"] == 0
    w = req["window"]
    assert w["maximum"] == 16 and w["decreases"] >= 1 and w["lowest"] < 16  # it backed off…
    assert srv.max_in_flight <= 16
    from judgeanything.analysis.markdown import render_report

    report = render_report({"run": {"requests": req}})
    assert "## Requests" in report and f"{n + retries} requests sent" in report
    assert f"{retries} of them retries" in report
    assert "HTTP 429 × 12" in report and f"DeadlineExceeded × {timeouts}" in report and "lowest " in report


def test_units_still_failing_after_the_last_try_are_typed_api_errors_counted(tmp_path):
    with FaultServer(default=Fault("status", 429, {"retry-after-ms": "10"})) as srv:
        judge = OpenAIJudge(model="m", base_url=srv.base_url, response_format="none", max_wait_s=0.01,
                            max_attempts=2, concurrency=4)
        counts = Runner(toy_pairs(5), judge, tmp_path, RunOptions(progress=False, rate={"min_concurrency": 2})).run()
    assert counts["judged"] == counts["failures"] == 5
    with RunLog(tmp_path) as log:
        kinds = {o["failure"] for r in log for o in r["outcomes"]}
    assert kinds == {"api_error"}
    req = json.loads((tmp_path / "run.json").read_text())["requests"]
    assert req["gave_up"] == 5 and req["transient_faults"] == {"HTTP 429": 10} and req["window"]["lowest"] == 2
    from judgeanything.analysis import analyze_run

    analyze_run(tmp_path, bootstrap=10)
    report = (tmp_path / "report.md").read_text()
    assert "5 unit(s) still failing after the last try" in report  # …and the failures table counts them
