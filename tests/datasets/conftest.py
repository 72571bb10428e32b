"""Synthetic Judge Anything / MLLM-as-a-Judge files written at test time (tiny, with every quirk of the
real release that the adapters convert)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest


def write_json(path: Path, rows: Any) -> Path:
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: Four queries: text, audio→video (CoDi-like frames listed 0,2,1,3 and a GlueGen-like still), audio+video
#: → text, several images → text.
QUERIES: list[dict[str, Any]] = [
    {"uniq_id": "t1", "task_name": "Text2Text", "question": "What is 2+2?"},
    {"uniq_id": "av1", "task_name": "Audio2Video", "question": "Make a video for this sound.",
     "audio_path": "audios/a.mp3"},
    {"uniq_id": "avt1", "task_name": "AudioVideo2Text", "question": "What makes the sound?",
     "video_path": "videos/v.mp4", "audio_path": "audios/v.mp3"},
    {"uniq_id": "it1", "task_name": "Image2Text", "question": "Which image differs?",
     "image_path": ["images/1.jpg", "images/2.jpg", "images/3.jpg"]},
]
MODELS: dict[str, list[str]] = {
    "t1": ["m_a", "m_b", "m_c", "m_d"],
    "av1": ["codi", "gluegen", "mmdiffusion", "tempotokens"],
    "avt1": ["gemini", "videollama2", "video_salmonn", "UnifiedIO2"],
    "it1": ["qwen-vl-max", "gpt-4o-mllm", "claude", "Phi3V"],
}


def _content(uid: str, model: str) -> dict[str, Any]:
    if uid == "av1":
        if model == "codi":
            return {"type": "image", "content": [f"Image/codi/{uid}/{k}.jpg" for k in (0, 2, 1, 3)]}
        if model == "gluegen":
            return {"type": "image", "content": f"Image/gluegen/{uid}/sample_00000.jpg"}
        return {"type": "video", "content": f"Video/{model}/{uid}.mp4"}
    return {"type": "text", "content": f"answer of {model} to {uid}"}


def responses() -> list[dict[str, Any]]:
    return [{"uniq_id": uid, "response_id": f"r-{uid}-{m}", "task_name": q["task_name"], "model_name": m,
             "response": _content(uid, m)}
            for q in QUERIES for uid in [q["uniq_id"]] for m in MODELS[uid]]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, Any], Path]:
    """``write(name, rows)``: a file in ``tmp_path``, JSON Lines when the name ends in ``.jsonl`` (a ``str``
    row is written verbatim, for malformed lines), else a JSON array."""

    def _write(name: str, rows: Any) -> Path:
        p = tmp_path / name
        return write_jsonl(p, rows) if name.endswith(".jsonl") else write_json(p, rows)

    return _write


@pytest.fixture
def ja_files(write: Callable[[str, Any], Path]) -> dict[str, Path]:
    """A tiny Judge Anything release: ``task_anything`` and ``judge_anything`` paths."""
    return {"task_anything": write("TaskAnything.json", QUERIES),
            "judge_anything": write("JudgeAnything.json", responses())}


@pytest.fixture
def ja_rows() -> dict[str, list[dict[str, Any]]]:
    """The synthetic rows themselves (fresh copies): ``queries`` and ``responses``."""
    return {"queries": json.loads(json.dumps(QUERIES)), "responses": responses()}
