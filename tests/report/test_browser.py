"""The report in headless Chromium: media load and play, filters work, model text never executes.

Uses the system browser (/usr/bin/chromium, Debian package ``chromium``) through Playwright; never
downloads one. Skips when the browser or Playwright is missing, unless ``JUDGEANYTHING_REQUIRE_BROWSER=1``
(CI) turns that into a failure. The mp4 is H.264 + AAC; Debian's Chromium plays it (canPlayType
"probably", checked below).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from judgeanything.report.html import write_html_report

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS = "<script>alert(1)</script>"


def _unavailable(reason: str) -> None:
    if os.environ.get("JUDGEANYTHING_REQUIRE_BROWSER") == "1":
        pytest.fail(f"JUDGEANYTHING_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (Debian package 'chromium')")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the python package 'playwright' is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _visible_items(page: Any) -> list[str]:
    return page.evaluate(
        "Array.from(document.querySelectorAll('section.card'))"
        ".filter(c => !c.hidden && c.offsetParent !== null).map(c => c.dataset.item)"
    )


def test_report_in_chromium(browser: Any, pair_run: Path) -> None:
    report = write_html_report(pair_run)
    page = browser.new_page()
    dialogs: list[str] = []
    problems: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: problems.append(f"network: {r.url}") if not r.url.startswith("file:") else None)
    page.goto(report.as_uri(), wait_until="load")

    # Every image decoded.
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=10_000)
    widths = page.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")
    assert len(widths) == 6  # 2 plots, img.png, 3 frames (p-miss has none)
    assert all(w > 0 for _, w in widths), widths

    # Every audio/video has its metadata and no error.
    assert page.evaluate("document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.42E01E, mp4a.40.2\"')")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('audio,video')).every(m => m.readyState >= 1 || m.error)",
        timeout=15_000,
    )
    states = page.evaluate(
        "Array.from(document.querySelectorAll('audio,video'))"
        ".map(m => [m.tagName, m.readyState, m.error && m.error.code, m.duration])"
    )
    assert len(states) == 5
    for _tag, ready, err, _duration in states:
        assert err is None and ready >= 1, states
    assert [round(d, 1) for t, _, _, d in states if t == "VIDEO"] == [1.0, 1.0]
    durations = sorted(round(d, 1) for t, _, _, d in states if t == "AUDIO")
    assert durations == [0.5, 1.0, 1.0]

    # The response's script is shown as text and never ran.
    assert page.get_by_text(XSS, exact=True).is_visible()
    assert page.evaluate("document.scripts.length") == 1
    assert dialogs == []

    # Task filter.
    everything = _visible_items(page)
    assert everything == ["p-img", "p-aud", "p-vid", "p-av", "p-miss", "p-txt"]
    page.select_option("#task-filter", "Text2Audio")
    assert _visible_items(page) == ["p-aud"]
    assert page.text_content("#shown-count") == "1"
    page.select_option("#task-filter", "Image2Text")
    assert _visible_items(page) == ["p-img", "p-miss"]

    # Disagreements only, alone and combined with the task filter.
    page.check("#disagree-only")
    assert _visible_items(page) == []
    page.select_option("#task-filter", "")
    assert _visible_items(page) == ["p-aud", "p-av"]
    page.uncheck("#disagree-only")
    assert _visible_items(page) == everything

    assert problems == []
    page.close()


def test_missing_browser_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGEANYTHING_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_BROWSER=1 but no chromium"):
        _unavailable("no chromium")
    monkeypatch.delenv("JUDGEANYTHING_REQUIRE_BROWSER")
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        _unavailable("no chromium")
