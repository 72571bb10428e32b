"""Build synthetic run directories by hand (the four files of judgeanything.store) for analysis tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def item(item_id: str, setting: str, task: str, models: Sequence[str], *,
         sizes: Sequence[Mapping] | None = None,
         meta: Mapping[str, Any] | None = None, texts: Sequence[str] | None = None) -> dict[str, Any]:
    """One items.jsonl row (family / modalities left for the loader to derive from the task name)."""
    texts = texts or [f"response {i}" for i in range(len(models))]
    d: dict[str, Any] = {
        "item_id": item_id, "setting": setting, "uniq_id": item_id.split("::")[0], "task_name": task,
        "question": "q", "query_media": [],
        "responses": [{"response_id": f"{item_id}/{i}", "model_name": m, "modality": "text", "text": t,
                       "media": []}
                      for i, (m, t) in enumerate(zip(models, texts, strict=True))],
        "sizes": list(sizes) if sizes is not None else [{"chars": len(t)} for t in texts],
    }
    if meta:
        d["meta"] = dict(meta)
    return d


def record(item_id: str, setting: str, outcomes: Sequence[Mapping[str, Any]], *,
           order: Sequence[int] = (0, 1),
           repeat: int = 0, judge: str = "judge-x", model: str = "model-x", mode: str = "overall",
           usage: Mapping[str, int] | None = None, latency_s: float | None = None) -> dict[str, Any]:
    """One verdicts.jsonl record."""
    rubrics = sorted({o["rubric"] for o in outcomes if o["rubric"] != "*"}) or ["overall"]
    return {"key": f"{item_id}|{list(order)}|{repeat}|{','.join(rubrics)}", "item_id": item_id,
            "task_name": "?", "setting": setting, "mode": mode, "rubrics": rubrics, "order": list(order),
            "repeat": repeat, "judge": judge, "model": model, "prompt_version": "t1",
            "outcomes": [dict(o) for o in outcomes], "raw": "", "finish_reason": "stop",
            "usage": dict(usage or {}), "latency_s": latency_s, "media": [], "downgrades": [], "ts": 0}


def v(value: Any, rubric: str = "overall", **extra: Any) -> dict[str, Any]:
    return {"rubric": rubric, "value": list(value) if isinstance(value, tuple) else value, **extra}


def fail(kind: str, rubric: str = "overall") -> dict[str, Any]:
    return {"rubric": rubric, "failure": kind, "detail": "x"}


def label(item_id: str, value: Any, rubric: str = "overall", annotator: str = "human") -> dict[str, Any]:
    return {"item_id": item_id, "rubric": rubric, "value": list(value) if isinstance(value, tuple) else value,
            "annotator": annotator}


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_run(d: Path, *, items: Sequence[Mapping], verdicts: Sequence[Mapping],
              labels: Sequence[Mapping] = (),
              run: Mapping[str, Any] | None = None) -> Path:
    """Write run.json, items.jsonl, labels.jsonl, verdicts.jsonl into ``d`` (created)."""
    d.mkdir(parents=True, exist_ok=True)
    settings = sorted({i["setting"] for i in items})
    base = {"judge": "judge-x", "benchmark": "synthetic", "setting": settings[0] if settings else None,
            "mode": "overall", "prompt_version": "t1", "notes": ["synthetic run for tests"]}
    (d / "run.json").write_text(json.dumps({**base, **(run or {})}), encoding="utf-8")
    write_jsonl(d / "items.jsonl", items)
    write_jsonl(d / "labels.jsonl", labels)
    write_jsonl(d / "verdicts.jsonl", verdicts)
    return d
