"""The HTML report, read as HTML source (the browser test checks playback and the filters)."""

from __future__ import annotations

import hashlib
import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from judgeanything.report.html import MEDIA_DIR, write_html_report
from judgeanything.schema import MediaRef, Query, Response, SchemaError, ScoreItem, item_to_dict
from judgeanything.store import StoreError

XSS = "<script>alert(1)</script>"


class _Tags(HTMLParser):
    """Collects start tags with their attributes, and the cards' ids, tasks and flags."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, Any]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _parse(html: str) -> list[tuple[str, dict[str, Any]]]:
    p = _Tags()
    p.feed(html)
    return p.tags


def _srcs(tags: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [a["src"] for t, a in tags if t in ("img", "audio", "video") and "src" in a]


def _cards(html: str) -> dict[str, str]:
    """item id → card HTML."""
    out = {}
    for chunk in html.split('<section class="card')[1:]:
        item_id = chunk.split(" item ", 1)[1].split("<", 1)[0].strip()
        out[item_id] = chunk.split("</section>", 1)[0]
    return out


def test_report_escapes_copies_and_flags(pair_run: Path, media_root: Path) -> None:
    out = write_html_report(pair_run)
    assert out == pair_run / "report.html"
    html = out.read_text(encoding="utf-8")
    tags = _parse(html)

    # Escaping: the response's script, the question's <b> and run.json notes show as text.
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Describe the &lt;b&gt;image&lt;/b&gt;." in html and "note &lt;i&gt;one&lt;/i&gt;" in html
    scripts = [a for t, a in tags if t == "script"]
    assert len(scripts) == 1 and "nonce" in scripts[0]  # only ours, under the CSP nonce
    csp = next(a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and f"'nonce-{scripts[0]['nonce']}'" in csp

    # Nothing from the network.
    refs = [a.get("src") or a.get("href") or "" for _, a in tags]
    assert not [r for r in refs if r.startswith(("http:", "https:", "//"))]

    # Media: hash-named copies of the shown files, all under report_media/, each one exists.
    media_srcs = [s for s in _srcs(tags) if not s.startswith("plots/")]
    assert media_srcs and all(s.startswith(f"{MEDIA_DIR}/") for s in media_srcs)
    for s in media_srcs:
        f = pair_run / s
        name = Path(s).name
        assert f.is_file() and hashlib.sha256(f.read_bytes()).hexdigest()[:32] == name.split(".")[0]
    expected = {"img.png", "f0.png", "f1.png", "f2.png", "tone.wav", "tone2.wav", "clip.mp4"}
    want = {hashlib.sha256((media_root / n).read_bytes()).hexdigest()[:32] + Path(n).suffix for n in expected}
    assert {p.name for p in (pair_run / MEDIA_DIR).iterdir()} == want
    kinds = [t for t, a in tags if t in ("audio", "video")]
    assert kinds.count("audio") == 3 and kinds.count("video") == 2
    assert all("controls" in a for t, a in tags if t in ("audio", "video"))
    assert {"plots/agreement_by_task.png", "plots/calibration.png"} <= set(_srcs(tags))

    # Missing media is a visible note, and nothing outside the data root is read.
    cards = _cards(html)
    assert "missing media: nope.png (file not found)" in cards["p-miss"]
    assert "missing media: ../secret.png (path escapes the data root)" in cards["p-miss"]

    # Flags: p-aud flips with the order and disagrees; p-av's surviving verdict disagrees with the tie.
    flagged = {i for i, c in cards.items() if 'data-disagree="1"' in c}
    assert flagged == {"p-aud", "p-av"}
    assert [i for i, c in cards.items() if "flag-inconsistent" in c] == ["p-aud"]
    assert [i for i, c in cards.items() if "flag-failed" in c] == ["p-av"]
    assert "failure: parse_fail — no JSON object in output" in cards["p-av"]
    assert "→ consensus tie" in cards["p-av"]

    # Both orders of a pair item, each with its own rationale.
    img = cards["p-img"]
    assert "presented as: Response 1, Response 2" in img and "presented as: Response 2, Response 1 (swapped)" in img
    assert "R1 is right; R2 is a script" in img and "swapped: still R1" in img
    assert "rationale order A" in img and "rationale order B" in img

    # Header facts and summary numbers.
    for fact in ("tiny (tiny-model)", "synthetic", "pair-v1", "tiny-model@1"):
        assert fact in html
    assert "0.600" in html and "[0.300, 0.900]" in html  # pooled accuracy + CI from metrics.csv
    assert "failure: parse_fail</th><td>1" in html and "91.7%" in html  # 11 verdicts, 1 failure


def test_relative_media_without_copy(pair_run: Path, media_root: Path) -> None:
    html = write_html_report(pair_run, copy_media=False).read_text(encoding="utf-8")
    assert not (pair_run / MEDIA_DIR).exists()
    srcs = [s for s in _srcs(_parse(html)) if not s.startswith("plots/")]
    assert srcs and not any(s.startswith(MEDIA_DIR) for s in srcs)
    resolved = {Path(os.path.normpath(pair_run / unquote(s))) for s in srcs}
    assert resolved == {
        media_root / n for n in ("img.png", "f0.png", "f1.png", "f2.png", "tone.wav", "tone2.wav", "clip.mp4")
    }


def test_max_items_and_pruning(pair_run: Path) -> None:
    write_html_report(pair_run)
    assert len(list((pair_run / MEDIA_DIR).iterdir())) == 7
    html = write_html_report(pair_run, max_items=2).read_text(encoding="utf-8")
    assert list(_cards(html)) == ["p-img", "p-aud"]
    assert "Showing the first 2 of 6 items" in html
    # Only the media still shown remain: img.png, tone.wav, tone2.wav.
    assert len(list((pair_run / MEDIA_DIR).iterdir())) == 3
    assert "Showing the first" not in write_html_report(pair_run, max_items=None).read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="max_items"):
        write_html_report(pair_run, max_items=-1)


def test_missing_data_root_and_plain_text(pair_run: Path) -> None:
    run = json.loads((pair_run / "run.json").read_text())
    del run["data_root"]
    (pair_run / "run.json").write_text(json.dumps(run))
    (pair_run / "metrics.csv").unlink()
    html = write_html_report(pair_run).read_text(encoding="utf-8")
    assert html.count("missing media:") == 11  # 1 + 2 + (1 + 3 frames) + 2 + 2 relative paths
    assert "run.json has no data_root" in html
    assert "No metrics.csv in this run directory" in html


def test_bad_run_dirs(tmp_path: Path, pair_run: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        write_html_report(tmp_path)
    with (pair_run / "verdicts.jsonl").open("a") as f:
        f.write('{"oops": \n{"item_id": "x"}\n')
    with pytest.raises(StoreError, match=r"verdicts.jsonl: line 13 is not valid JSON"):
        write_html_report(pair_run)
    (pair_run / "verdicts.jsonl").write_text('{"key": "k"}\n')
    with pytest.raises(SchemaError, match=r"verdicts.jsonl, row 1, field 'item_id': required field missing"):
        write_html_report(pair_run)
    (pair_run / "verdicts.jsonl").unlink()
    with pytest.raises(StoreError, match=r"verdicts.jsonl: missing"):
        write_html_report(pair_run)


def test_urls_bytes_and_plugin_media(tmp_path: Path, media_root: Path) -> None:
    (media_root / "doc.pdf").write_bytes(b"%PDF-1.4 tiny")
    media = (
        MediaRef("image", url="https://example.org/cat.png"),
        MediaRef("image", url="javascript:alert(2)"),
        MediaRef("audio", data=b"RIFF...."),
        MediaRef("document", path="doc.pdf"),
    )
    item = ScoreItem("u1", Query("u1", "Image2Text", "q", media=media), Response("r", "u1", "m", "text", "a"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(json.dumps({"setting": "score", "data_root": str(media_root)}))
    (run_dir / "items.jsonl").write_text(json.dumps(item_to_dict(item)))
    (run_dir / "verdicts.jsonl").write_text("")  # a run that has judged nothing yet
    html = write_html_report(run_dir).read_text(encoding="utf-8")
    tags = _parse(html)
    hrefs = [a.get("href") for t, a in tags if t == "a"]
    assert "https://example.org/cat.png" in hrefs and "remote media: not embedded" in html
    assert not any("example.org" in s for s in _srcs(tags))  # linked, never loaded
    assert not any(h and h.startswith("javascript:") for h in hrefs)
    assert "missing media: javascript:alert(2) (URL scheme not shown in the report)" in html
    assert "given as in-memory bytes; not stored in the run" in html
    doc = [h for h in hrefs if h and h.startswith(f"{MEDIA_DIR}/") and h.endswith(".pdf")]
    assert len(doc) == 1 and (run_dir / doc[0]).read_bytes() == b"%PDF-1.4 tiny"
    assert "not judged" in html and "no human label" in html
