"""The ``artifact_defects`` probe family: every candidate of every design point and variant is rendered,
its DOM read, and its screenshots measured; the three must agree with the construction — which defects the
candidate has — and its label must be the family's penalty rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from judgeanything.datasets.probes.core import clamp_score, design_points, is_tie_variant
from judgeanything.datasets.probes.dataset import generate_query
from judgeanything.schema import MediaRef

pytestmark = pytest.mark.slow

W, H = 480, 360


@pytest.fixture(scope="module")
def built(artifact_plugin: Path, browser: str, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[Path, list[dict[str, Any]]]:
    from judgeanything_artifact.probes import ARTIFACT_DEFECTS

    root = tmp_path_factory.mktemp("artifact-probes")
    fdir = root / ARTIFACT_DEFECTS.name
    designs = design_points(ARTIFACT_DEFECTS.knobs)
    n = len(designs)  # every design point once, variants alternating: the last (overflow) is distinct
    records = [generate_query(ARTIFACT_DEFECTS, i, designs, 0, fdir) for i in range(n)]
    assert {is_tie_variant(i, len(designs)) for i in range(n)} == {True, False}
    return root, records


_DOM = """() => {
  const q = (s) => document.querySelector(s);
  const rect = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
  const bg = (e) => getComputedStyle(e).backgroundColor;
  const mover = q('#mover');
  return {button: q('#start') ? bg(q('#start')) : null, box: bg(q('#box')), box_rect: rect(q('#box')),
          moving: mover.getAnimations().some(a => a.playState === 'running'), status: !!q('#status'),
          overflow: document.documentElement.scrollWidth > window.innerWidth};
}"""


def _dom_facts(exe: str, root: Path, rels: list[str]) -> list[tuple[dict[str, Any], list[str]]]:
    from judgeanything_artifact.render import CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS))
        for rel in rels:
            page = b.new_page(viewport={"width": W, "height": H})
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto((root / rel).as_uri(), wait_until="load")
            out.append((page.evaluate(_DOM), errors))
            page.close()
        b.close()
    return out


def _rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(x) for x in css[css.index("(") + 1: css.index(")")].split(",")[:3])  # type: ignore[return-value]


def _hex(h: str) -> tuple[int, int, int]:
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


def _share(frame: np.ndarray, rect: tuple[int, int, int, int], rgb: tuple[int, int, int]) -> float:
    x, y, w, h = rect
    patch = frame[y + 2: y + h - 2, x + 2: x + w - 2].astype(int)
    return float((np.abs(patch - rgb).sum(axis=2) < 40).mean())


def _mover_x(frame: np.ndarray) -> float:
    band = frame[250:280].astype(int)
    xs = np.nonzero(np.abs(band - (215, 40, 40)).sum(axis=2) < 40)[1]
    return float(xs.mean())


def test_screenshots_and_dom_agree_with_the_construction(artifact_plugin: Path, browser: str, built,
                                                         tmp_path: Path) -> None:
    from judgeanything_artifact import probes as P

    from judgeanything.modalities import get_encoder

    root, records = built
    # two captures 0.6 s apart: the square slides 205 px/s, so a running one moves ~120 px (> 30 under load)
    enc = get_encoder("artifact", width=W, height=H, capture_times=[0.0, 0.6], cache_dir=str(tmp_path / "renders"))
    cands = [(rec, r) for rec in records for r in rec["responses"]]
    facts = _dom_facts(browser, root, [r["path"] for _, r in cands])
    seen: set[str] = set()
    for (rec, r), (dom, errors) in zip(cands, facts, strict=True):
        defects = set(r["meta"]["defects"])
        seen |= defects
        truth = rec["truth"]
        assert r["score"] == clamp_score(sum(P.PENALTY[d] for d in defects)), r
        # the DOM holds exactly the constructed defects
        assert (dom["button"] is None) == ("missing_button" in defects)
        box_rgb = _hex(P.COLOURS[r["meta"]["box_colour"]])
        assert _rgb(dom["box"]) == box_rgb and (r["meta"]["box_colour"] != truth["box_colour"]) == (
            "wrong_colour" in defects)
        assert round(dom["box_rect"][0]) == (P.BOX_MOVED if "wrong_position" in defects else P.BOX)[0]
        assert dom["moving"] == ("frozen_animation" not in defects)
        assert dom["status"] == ("script_error" not in defects) and bool(errors) == ("script_error" in defects)
        assert dom["overflow"] == ("overflow" in defects)
        # the screenshots show the same facts
        video, code = enc.encode(MediaRef("artifact", path=r["path"]), root)
        f0, f2 = video.frames[0], video.frames[-1]
        btn = _share(f0, P.BUTTON, _hex(P.COLOURS[truth["button_colour"]]))
        assert (btn < 0.1) if "missing_button" in defects else (btn > 0.6), (r["path"], btn)
        where = P.BOX_MOVED if "wrong_position" in defects else P.BOX
        assert _share(f0, where, box_rgb) > 0.9
        moved = abs(_mover_x(f2) - _mover_x(f0))
        assert (moved < 3) if "frozen_animation" in defects else (moved > 30), (r["path"], moved)
        dark = _share(f0, P.STATUS_BOX, (51, 51, 51))
        assert (dark < 0.05) if "script_error" in defects else (dark > 0.5), (r["path"], dark)
        banner = np.abs(f0[212, W - 20: W - 2].astype(int) - _hex(P.BANNER)).sum(axis=1) < 40
        assert banner.all() == ("overflow" in defects) and not (banner.any() and "overflow" not in defects)
        assert video.provenance["page_errors"] == ([] if "script_error" not in defects else
                                                   video.provenance["page_errors"]) and code.text
        if "script_error" in defects:
            assert any("TypeError" in e or "ReferenceError" in e for e in video.provenance["page_errors"])
    assert seen == set(P.PENALTY)  # every defect was built and checked


def test_records_and_labels_of_the_family(built) -> None:
    _, records = built
    for rec in records:
        scores = [r["score"] for r in rec["responses"]]
        assert rec["task"] == "Text2Artifact"
        assert sorted(scores, reverse=True) == ([5, 3, 3, 1] if rec["variant"] == "tie" else [5, 4, 3, 1])
        assert all(r["modality"] == "artifact" and r["path"].endswith(".html") for r in rec["responses"])
        assert json.dumps(rec)  # records stay JSON (the dataset caches them)
