"""Synthetic run directories with real media, built at test time (PIL, soundfile, imageio-ffmpeg)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from judgeanything.schema import (
    Failure,
    HumanLabel,
    MediaRef,
    PairItem,
    Query,
    Response,
    ScoreItem,
    TaskType,
    Verdict,
    item_to_dict,
)
from judgeanything.store import write_jsonl

XSS = "<script>alert(1)</script>"


def make_media(root: Path) -> None:
    """img.png, f0–f2.png, tone.wav, tone2.wav, clip.mp4 (H.264 + AAC, 1 s) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8), (48, 1))[..., None].repeat(3, -1)).save(root / "img.png")
    for k in range(3):
        Image.new("RGB", (32, 24), (80 * k, 40, 200 - 60 * k)).save(root / f"f{k}.png")
    t = np.arange(16000) / 16000.0
    sf.write(root / "tone.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    sf.write(root / "tone2.wav", (0.3 * np.sin(2 * np.pi * 660 * t[:8000])).astype(np.float32), 16000)
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=16000",
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "32k",
            "-shortest",
            str(root / "clip.mp4"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (root / "..").resolve().joinpath("secret.png").write_bytes((root / "img.png").read_bytes())


def _resp(
    rid: str, uid: str, model: str, modality: str, text: str | None = None, media: Sequence[MediaRef] = ()
) -> Response:
    return Response(rid, uid, model, modality, text=text, media=tuple(media))


def _item_row(item: Any) -> dict[str, Any]:
    d = item_to_dict(item)
    task = TaskType.parse(item.query.task_name)
    d.update(input_modalities=list(task.inputs), output_modality=task.output, family=task.family)
    return d


def write_run(
    run_dir: Path,
    run: dict[str, Any],
    items: Sequence[Any],
    labels: Sequence[HumanLabel],
    records: Sequence[dict[str, Any]],
) -> Path:
    """Write the four run files the way the store documents them."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    write_jsonl(run_dir / "items.jsonl", [_item_row(i) for i in items])
    write_jsonl(run_dir / "labels.jsonl", [lab.to_dict() for lab in labels])
    write_jsonl(run_dir / "verdicts.jsonl", records)
    return run_dir


def record(
    item_id: str,
    task: str,
    setting: str,
    order: Sequence[int],
    outcomes: Sequence[Verdict | Failure],
    raw: str = "",
    repeat: int = 0,
) -> dict[str, Any]:
    return {
        "key": f"{item_id}|{list(order)}|{repeat}",
        "item_id": item_id,
        "task_name": task,
        "setting": setting,
        "mode": "overall",
        "rubrics": ["overall"],
        "order": list(order),
        "repeat": repeat,
        "judge": "tiny",
        "model": "tiny-model@1",
        "prompt_version": "v1",
        "outcomes": [o.to_dict() for o in outcomes],
        "raw": raw,
        "finish_reason": "stop",
        "usage": {},
        "latency_s": 0.01,
        "media": [],
        "downgrades": [],
        "ts": 0.0,
    }


def _q(uid: str, task: str, question: str, media: Sequence[MediaRef] = ()) -> Query:
    return Query(uid, task, question, media=tuple(media))


def build_pair_run(run_dir: Path, data_root: Path) -> Path:
    """Six pair items of five task types, judged in both orders (see the test module for the expectations)."""
    img, wav, wav2, mp4 = (
        MediaRef("image", path="img.png"),
        MediaRef("audio", path="tone.wav"),
        MediaRef("audio", path="tone2.wav"),
        MediaRef("video", path="clip.mp4"),
    )
    frames = MediaRef("video", frames=("f0.png", "f1.png", "f2.png"))
    items = [
        PairItem(
            "p-img",
            _q("q1", "Image2Text", "Describe the <b>image</b>.", [img]),
            _resp("r1", "q1", "m-a", "text", "A gradient."),
            _resp("r2", "q1", "m-b", "text", XSS),
        ),
        PairItem(
            "p-aud",
            _q("q2", "Text2Audio", "Play a tone."),
            _resp("r3", "q2", "m-a", "audio", media=[wav]),
            _resp("r4", "q2", "m-b", "audio", media=[wav2]),
        ),
        PairItem(
            "p-vid",
            _q("q3", "Text2Video", "Make a test card video."),
            _resp("r5", "q3", "m-a", "video", media=[mp4]),
            _resp("r6", "q3", "m-c", "video", media=[frames]),
        ),
        PairItem(
            "p-av",
            _q("q4", "AudioVideo2Text", "What is heard and seen?", [wav, mp4]),
            _resp("r7", "q4", "m-a", "text", "A tone and bars."),
            _resp("r8", "q4", "m-b", "text", "Silence."),
        ),
        PairItem(
            "p-miss",
            _q(
                "q5",
                "Image2Text",
                "Describe.",
                [MediaRef("image", path="nope.png"), MediaRef("image", path="../secret.png")],
            ),
            _resp("r9", "q5", "m-a", "text", "x"),
            _resp("r10", "q5", "m-b", "text", "y"),
        ),
        PairItem(
            "p-txt",
            _q("q6", "Text2Text", "Say hi."),
            _resp("r11", "q6", "m-a", "text", "hi"),
            _resp("r12", "q6", "m-b", "text", "hello there"),
        ),
    ]
    labels = [
        HumanLabel("p-img", "overall", "first"),
        HumanLabel("p-aud", "overall", "second"),
        HumanLabel("p-vid", "overall", "tie"),
        HumanLabel("p-av", "overall", "first", "a1"),
        HumanLabel("p-av", "overall", "second", "a2"),
        HumanLabel("p-miss", "overall", "first"),
        HumanLabel("p-txt", "overall", "second"),
    ]

    def v(value: str, conf: float, comment: str = "") -> Verdict:
        rest = (1 - conf) / 2
        probs = {c: (conf if c == value else rest) for c in ("first", "tie", "second")}
        return Verdict("overall", value, comment, probs=probs)

    recs = [
        record(
            "p-img",
            "Image2Text",
            "pair",
            (0, 1),
            [v("first", 0.72, "R1 is right; R2 is a script")],
            raw='{"choice": 1} rationale order A',
        ),
        record(
            "p-img",
            "Image2Text",
            "pair",
            (1, 0),
            [v("first", 0.66, "swapped: still R1")],
            raw='{"choice": 2} rationale order B',
        ),
        record("p-aud", "Text2Audio", "pair", (0, 1), [v("first", 0.55)], raw="first raw"),
        record("p-aud", "Text2Audio", "pair", (1, 0), [v("second", 0.81)], raw="second raw"),
        record("p-vid", "Text2Video", "pair", (0, 1), [v("tie", 0.47)]),
        record("p-vid", "Text2Video", "pair", (1, 0), [v("tie", 0.93)]),
        record(
            "p-av",
            "AudioVideo2Text",
            "pair",
            (0, 1),
            [Failure("parse_fail", "no JSON object in output")],
            raw="I cannot decide",
        ),
        record("p-av", "AudioVideo2Text", "pair", (1, 0), [v("second", 0.38)]),
        record("p-miss", "Image2Text", "pair", (0, 1), [v("first", 0.99)]),
        record("p-miss", "Image2Text", "pair", (1, 0), [v("first", 0.12 + 0.5)]),
        record("p-txt", "Text2Text", "pair", (0, 1), [v("second", 0.58)]),
        record("p-txt", "Text2Text", "pair", (1, 0), [v("second", 0.77)]),
    ]
    run = {
        "benchmark": "synthetic",
        "setting": "pair",
        "mode": "overall",
        "rubrics": ["overall"],
        "judge": "tiny",
        "judge_fingerprint": {"name": "tiny", "model": "tiny-model", "temperature": 0.0},
        "prompt_version": "pair-v1",
        "data_root": str(data_root),
        "notes": ["note <i>one</i>"],
    }
    write_run(run_dir, run, items, labels, recs)
    rows = [
        ("pooled", "all", "accuracy_with_tie", 0.6, 0.3, 0.9, 5),
        ("macro", "all", "accuracy_with_tie", 0.55, 0.2, 0.8, 5),
        ("task_type", "Image2Text", "accuracy_with_tie", 1.0, 1.0, 1.0, 2),
        ("task_type", "Text2Audio", "accuracy_with_tie", 0.5, 0.0, 1.0, 1),
        ("task_type", "Text2Video", "accuracy_with_tie", 1.0, "", "", 1),
        ("task_type", "Text2Text", "accuracy_with_tie", 1.0, 1.0, 1.0, 1),
        ("task_type", "Text2Text", "cohen_kappa", 0.1, "", "", 1),
    ]
    header = "setting,rubric,group_by,group,metric,value,ci_low,ci_high,n,judge,benchmark,mode\n"
    body = "".join(
        f"pair,overall,{g},{grp},{m},{val},{lo},{hi},{n},tiny,synthetic,overall\n" for g, grp, m, val, lo, hi, n in rows
    )
    (run_dir / "metrics.csv").write_text(header + body, encoding="utf-8")
    return run_dir


#: (item id, task, judge scores per record, human scores per annotator, probs of record 0 or None)
SCORE_CASES: list[tuple[str, str, list[int], list[int], dict[str, float] | None]] = [
    ("s1", "Image2Text", [4], [3], {"1": 0.05, "2": 0.05, "3": 0.1, "4": 0.75, "5": 0.05}),
    ("s2", "Image2Text", [2, 3], [3], {"1": 0.1, "2": 0.45, "3": 0.35, "4": 0.05, "5": 0.05}),
    ("s3", "Text2Image", [5], [5], {"1": 0.0, "2": 0.0, "3": 0.03, "4": 0.05, "5": 0.92}),
    ("s4", "AudioVideo2Text", [1], [2, 3], {"1": 0.58, "2": 0.22, "3": 0.1, "4": 0.05, "5": 0.05}),
    ("s5", "Text2Audio", [3], [3], {"1": 0.1, "2": 0.1, "3": 0.61, "4": 0.1, "5": 0.09}),
    ("s6", "Audio2Audio", [4], [2], None),
]


def build_score_run(run_dir: Path) -> Path:
    """A score run without media files (text-only references) for the heat map and the calibration plot."""
    items, labels, recs = [], [], []
    for iid, task, judged, human, probs in SCORE_CASES:
        q = _q(iid, task, "q")
        items.append(ScoreItem(iid, q, _resp("r-" + iid, iid, "m", TaskType.parse(task).output, "answer")))
        labels += [HumanLabel(iid, "overall", h, f"a{k}") for k, h in enumerate(human)]
        for k, s in enumerate(judged):
            outcome = Verdict("overall", s, probs=probs if k == 0 else None)
            recs.append(record(iid, task, "score", (0,), [outcome], repeat=k))
    recs.append(record("s6", "Audio2Audio", "score", (0,), [Failure("refusal", "no")], repeat=9))
    return write_run(
        run_dir,
        {"benchmark": "synthetic", "setting": "score", "mode": "overall", "judge": "tiny"},
        items,
        labels,
        recs,
    )


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data") / "root"
    make_media(root)
    return root


@pytest.fixture()
def pair_run(tmp_path: Path, media_root: Path) -> Path:
    return build_pair_run(tmp_path / "pair_run", media_root)


@pytest.fixture()
def score_run(tmp_path: Path) -> Path:
    return build_score_run(tmp_path / "score_run")


@pytest.fixture()
def score_cases() -> list[tuple[str, str, list[int], list[int], dict[str, float] | None]]:
    """The table :func:`build_score_run` wrote (for independent recomputation in tests)."""
    return SCORE_CASES
