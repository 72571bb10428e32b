"""The HTML report obeys the judge's confinement: it copies into ``report_media/`` only files that pass the
judge's own path check (symlinks resolved inside the data root) and media limits; its copies are atomic and a
damaged copy is repaired on the next report."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from judgeanything.modalities import MediaCache, MediaError
from judgeanything.modalities.limits import MediaLimits
from judgeanything.report.html import MEDIA_DIR, write_html_report
from judgeanything.schema import Failure, MediaRef, PairItem, Query, Response, Verdict
from tests.report.conftest import record, write_run


def _png(path: Path, shade: int) -> Path:
    Image.fromarray(np.full((8, 12, 3), shade, np.uint8)).save(path)
    return path


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _run(tmp_path: Path, names: list[str], limits: dict[str, int] | None = None) -> tuple[Path, Path]:
    root, run_dir = tmp_path / "data", tmp_path / "run"
    items, records = [], []
    for i, name in enumerate(names):
        q = Query(f"q{i}", "Text2Image", f"draw {i}")
        a = Response("a", q.uniq_id, "ma", "image", media=(MediaRef("image", path=name),))
        b = Response("b", q.uniq_id, "mb", "image", media=(MediaRef("image", path="inside.png"),))
        items.append(PairItem(f"q{i}", q, a, b))
        records.append(record(f"q{i}", "Text2Image", "pair", [0, 1], [Verdict("overall", "first")]))
    config = {"media": {"limits": limits}} if limits else {}
    write_run(run_dir, {"benchmark": "toy", "setting": "pair", "judge": "tiny", "data_root": str(root),
                        "config": config}, items, [], records)
    return root, run_dir


def test_report_copies_only_what_the_judge_may_read(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    outside = _png(tmp_path / "private.png", 7)                # a file outside the data root
    inside = _png(root / "inside.png", 200)
    _png(root / "sub" / "target.png", 120)
    big = root / "big.png"
    big.write_bytes(_png(tmp_path / "tmp.png", 50).read_bytes() + bytes(5000))
    os.symlink(outside, root / "link_out.png")                  # escapes through a symlink
    os.symlink(root / "sub" / "target.png", root / "link_in.png")  # stays inside: followed
    os.symlink(root / "sub", root / "dir_link")
    names = ["inside.png", "link_out.png", "../private.png", str(outside), "link_in.png", "dir_link/target.png",
             "big.png"]
    root, run_dir = _run(tmp_path, names, limits={"max_file_bytes": 2000})

    # the judge's own view of each path (the same checks, through the encoders' cache)
    cache = MediaCache(root, limits=MediaLimits(max_file_bytes=2000))
    judged = {}
    for n in names:
        try:
            cache.content_hash(MediaRef("image", path=n))
            judged[n] = True
        except MediaError:
            judged[n] = False
    assert judged == {"inside.png": True, "link_out.png": False, "../private.png": False, str(outside): False,
                      "link_in.png": True, "dir_link/target.png": True, "big.png": False}

    html = write_html_report(run_dir).read_text(encoding="utf-8")
    copies = {p.name: p for p in (run_dir / MEDIA_DIR).iterdir()}
    want = {_digest(p)[:32] + ".png" for p in (inside, root / "sub" / "target.png")}
    assert set(copies) == want
    assert all(_digest(p).startswith(name[:32]) for name, p in copies.items())
    assert not any(p.read_bytes() == outside.read_bytes() for p in copies.values())
    assert "missing media: link_out.png (path escapes the data root)" in html
    assert "missing media: ../private.png (path escapes the data root)" in html
    assert f"missing media: {outside} (path escapes the data root)" in html
    assert "missing media: big.png (over the media limit: 5,0" in html and "max_file_bytes=2,000" in html


def test_report_copies_are_atomic_and_verified_when_reused(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    src = _png(root / "inside.png", 90)
    root, run_dir = _run(tmp_path, ["inside.png"])
    write_html_report(run_dir)
    (copy,) = (run_dir / MEDIA_DIR).iterdir()
    assert copy.read_bytes() == src.read_bytes()
    copy.write_bytes(src.read_bytes()[:20])        # a copy cut short (a killed report, a full disk)
    write_html_report(run_dir)
    (repaired,) = (run_dir / MEDIA_DIR).iterdir()
    assert repaired.name == copy.name and repaired.read_bytes() == src.read_bytes()
    copy.write_bytes(b"\x00" * len(src.read_bytes()))  # same size, other bytes
    write_html_report(run_dir)
    assert copy.read_bytes() == src.read_bytes()
    assert [p.name for p in (run_dir / MEDIA_DIR).iterdir()] == [copy.name]  # no temporary file left behind
    assert json.loads((run_dir / "run.json").read_text())["data_root"] == str(root)


def test_a_failure_record_keeps_the_refused_media_out(tmp_path: Path) -> None:
    """A unit the judge refused with media_error still has its card, and the refused file is not copied."""
    root = tmp_path / "data"
    root.mkdir()
    _png(root / "inside.png", 10)
    outside = _png(tmp_path / "secret.png", 99)
    os.symlink(outside, root / "sneaky.png")
    root, run_dir = _run(tmp_path, ["sneaky.png"])
    lines = (run_dir / "verdicts.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    rec["outcomes"] = [Failure("media_error", "sneaky.png: path escapes the data root", "overall").to_dict()]
    (run_dir / "verdicts.jsonl").write_text(json.dumps(rec) + "\n")
    html = write_html_report(run_dir).read_text(encoding="utf-8")
    assert "missing media: sneaky.png (path escapes the data root)" in html
    assert all(p.read_bytes() != outside.read_bytes() for p in (run_dir / MEDIA_DIR).iterdir())


def test_an_image_over_the_pixel_limit_is_not_handed_to_the_browser(tmp_path: Path) -> None:
    """A 40000×3000 single-colour PNG (a few KB on disk) is refused by the judge from its header; the report
    shows the refusal instead of copying it into the page, whose viewer would decode 120 MP."""
    import warnings

    root = tmp_path / "data"
    root.mkdir()
    _png(root / "inside.png", 200)
    Image.new("1", (40000, 3000)).save(root / "wide.png")
    assert (root / "wide.png").stat().st_size < 50_000
    _, run_dir = _run(tmp_path, ["wide.png"], limits={"max_pixels": 10_000_000})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no decoder warning either
        html = write_html_report(run_dir).read_text(encoding="utf-8")
    copies = {p.name for p in (run_dir / MEDIA_DIR).iterdir()}
    assert copies == {_digest(root / "inside.png")[:32] + ".png"}
    assert "missing media: wide.png (over the media limit: image of 40000×3000 = 120,000,000 pixels" in html
    assert "max_pixels=10,000,000" in html
    cache = MediaCache(root, limits=MediaLimits(max_pixels=10_000_000))  # the judge refuses it the same way
    assert cache.measure(MediaRef("image", path="wide.png")) == {}
    assert cache.measure_errors["wide.png"].startswith("over the media limit: image of 40000×3000")
    with pytest.raises(MediaError, match="over the media limit"):
        cache.encoder("image")[0].encode(MediaRef("image", path="wide.png"), root)
