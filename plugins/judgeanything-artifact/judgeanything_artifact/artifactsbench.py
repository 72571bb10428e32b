"""ArtifactsBench (Tencent Hunyuan, arXiv 2507.04952) as a judgeanything benchmark: each task's answers
become ``artifact`` responses judged from their rendered screenshots and code, with the task's checklist
(``mode=checklist``).

The release's files, as its harness reads them (``dataset/artifacts_bench.json``, ``src/utils.py``):

* tasks — a JSON array or JSON Lines of ``{"index", "question", "checklist", "class", …}``;
  ``checklist`` is the task's scoring criteria as text (one criterion per line) or a list;
* answers — one file per model, rows ``{"index", "answer"}`` (also read: ``model_infer_result``,
  ``output``), the model's full reply; a reasoning block closed by ``</think>`` is dropped, as the harness
  does. Released judge outputs may ride along (``gemini_ans`` / ``gemini_mllm_score`` / ``qvl_ans``, the
  0–100 "Overall Score"): kept as ``Response.meta["recorded_score"]``.

The artifact is the *last* ``<html …>…</html>`` block of the answer, else its last ``<svg …>…</svg>``
(the harness's rule, ``extract_last_html_or_svg_block``); a fenced ```html block without an ``<html>``
element is taken as a last resort. It is written, content-addressed, to ``work_dir/<sha>/index.html`` (or
``index.svg``): a folder of its own, so that an artifact can load nothing but itself.
An answer with no artifact keeps its text, with no media, so the judge sees that nothing renders.

The release has no per-item human labels, so runs on it report verdicts, failures and biases, not
agreement; pair and batch items compare every model's answer to the same task.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judgeanything.datasets._io import Record, read_records
from judgeanything.datasets.base import BenchmarkData
from judgeanything.schema import SETTINGS, BatchItem, Item, MediaRef, PairItem, Query, Response, ScoreItem

TASK = "Text2Artifact"
_HTML = re.compile(r"(<html[^>]*>.*?</html>)", re.DOTALL | re.IGNORECASE)
_SVG = re.compile(r"(<svg[^>]*>.*?</svg>)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:html|HTML)\s*\n(.*?)```", re.DOTALL)
_ANSWER_FIELDS = ("answer", "model_infer_result", "output")
_SCORE_FIELDS = ("gemini_ans", "gemini_mllm_score", "qvl_ans", "score")


def extract_artifact(answer: str) -> tuple[str, str] | None:
    """``(kind, code)`` of the artifact in a model's answer — ``html`` or ``svg`` — or ``None``.

    The last ``<html>`` block wins, then the last ``<svg>`` block, then the last fenced ```html block (see
    the module docstring); text after a closing ``</think>`` only.
    """
    text = answer.split("</think>")[-1]
    for kind, rx in (("html", _HTML), ("svg", _SVG), ("html", _FENCE)):
        found = rx.findall(text)
        if found and found[-1].strip():
            return kind, found[-1].strip()
    return None


def _checklist(rec: Record) -> tuple[str, ...] | None:
    raw = rec.get("checklist")
    if raw is None:
        return None
    if isinstance(raw, str):
        lines = [ln.strip() for ln in raw.splitlines()]
    elif isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        lines = [x.strip() for x in raw]
    else:
        raise rec.error("must be text (one criterion per line) or a list of strings", "checklist")
    lines = [ln for ln in lines if ln]
    return tuple(lines) or None


class ArtifactsBenchDataset:
    """ArtifactsBench tasks with model answers rendered as ``artifact`` responses.

    Args:
        tasks_file: the task file (JSON array or JSON Lines), rows with ``index``, ``question`` and
            optionally ``checklist``, ``class``, ``difficulty``; it may carry answers itself (``answer`` …)
            with the model named in ``model`` / ``now_infer_model`` (default ``model``).
        answers: model name → answer file (rows ``index`` + ``answer``); replaces answers in the task file.
        work_dir: where extracted artifacts are written (the data root; default
            ``$JUDGEANYTHING_CACHE/artifactsbench``).
        classes: keep only tasks of these ``class`` values.
        limit: keep the first N tasks.

    Raises:
        SchemaError: a bad row (file, row and field named): missing ``index`` / ``question`` / answer,
            a duplicate index, an answer for an unknown task, a checklist of the wrong type.
    """

    name = "artifactsbench"

    def __init__(self, tasks_file: str, answers: Mapping[str, str] | None = None, work_dir: str | None = None,
                 classes: Sequence[str] | None = None, limit: int | None = None) -> None:
        self.tasks_file = Path(tasks_file).expanduser()
        self.answers = {str(k): Path(str(v)).expanduser() for k, v in (answers or {}).items()}
        env = os.environ.get("JUDGEANYTHING_CACHE")
        base = Path(env).expanduser() if env else Path.home() / ".cache" / "judgeanything"
        self.work_dir = Path(work_dir).expanduser() if work_dir else base / "artifactsbench"
        self.classes = {str(c) for c in classes} if classes else None
        self.limit = int(limit) if limit is not None else None

    def _tasks(self) -> dict[str, tuple[Record, Query]]:
        out: dict[str, tuple[Record, Query]] = {}
        for rec in read_records(self.tasks_file, what="ArtifactsBench task file"):
            index = str(rec.require("index"))
            if index in out:
                raise rec.error(f"duplicate task index {index!r}", "index")
            cls = rec.get("class")
            if self.classes is not None and str(cls) not in self.classes:
                continue
            question = rec.require("question", "original_question")
            if not isinstance(question, str) or not question.strip():
                raise rec.error("must be non-empty text", "question")
            cl = _checklist(rec)
            meta = {"benchmark": self.name, "class": cls, "difficulty": rec.get("difficulty")}
            out[index] = (rec, Query(uniq_id=f"artifactsbench::{index}", task_name=TASK, question=question,
                                     checklist={"overall": cl} if cl else None, meta=meta))
            if self.limit is not None and len(out) >= self.limit:
                break
        return out

    def _answer_rows(self) -> list[tuple[str, Record]]:
        if not self.answers:
            return [(str(r.get("model", "now_infer_model", default="model")), r)
                    for r in read_records(self.tasks_file, what="ArtifactsBench task file") if r.has(*_ANSWER_FIELDS)]
        return [(model, r) for model, f in self.answers.items()
                for r in read_records(f, what=f"ArtifactsBench answers of {model}")]

    def _response(self, query: Query, model: str, rec: Record) -> Response:
        answer = rec.require(*_ANSWER_FIELDS)
        if not isinstance(answer, str):
            raise rec.error("must be text", _ANSWER_FIELDS[0])
        meta: dict[str, Any] = {"answer_chars": len(answer)}
        score = rec.get(*_SCORE_FIELDS)
        if score is not None:
            try:
                meta["recorded_score"] = float(score)
            except (TypeError, ValueError):
                raise rec.error(f"not a number: {score!r}", next(f for f in _SCORE_FIELDS if rec.has(f))) from None
        found = extract_artifact(answer)
        rid = f"{query.uniq_id}::{model}"
        if found is None:
            meta["artifact"] = None
            return Response(response_id=rid, uniq_id=query.uniq_id, model_name=model, modality="artifact",
                            text=answer.split("</think>")[-1].strip() or "(empty answer)", meta=meta)
        kind, code = found
        data = code.encode("utf-8")
        # one folder per artifact: with the default folder scope an artifact may load its own folder only
        name = f"{hashlib.sha256(data).hexdigest()[:24]}/index.{kind}"
        path = self.work_dir / name
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        meta["artifact"] = kind
        return Response(response_id=rid, uniq_id=query.uniq_id, model_name=model, modality="artifact",
                        media=(MediaRef("artifact", path=name),), meta=meta)

    def load(self, setting: str) -> BenchmarkData:
        """Items of ``setting``: ``score`` one per (task, model answer); ``pair`` every two models' answers
        to a task (models in name order); ``batch`` all answers to a task (at least two).

        Raises:
            ValueError: an unknown setting.
            SchemaError: see the class.
        """
        if setting not in SETTINGS:
            raise ValueError(f"unknown setting {setting!r} (known: {', '.join(SETTINGS)})")
        tasks = self._tasks()
        per: dict[str, dict[str, Response]] = {}
        for model, rec in self._answer_rows():
            index = str(rec.require("index"))
            if index not in tasks:
                if self.classes is not None or self.limit is not None:
                    continue
                raise rec.error(f"answer for task index {index!r}, which is not in {self.tasks_file}", "index")
            got = per.setdefault(index, {})
            if model in got:
                raise rec.error(f"a second answer of model {model!r} to task {index!r}", "index")
            got[model] = self._response(tasks[index][1], model, rec)
        items: list[Item] = []
        for index, (_, query) in tasks.items():
            rs = [per.get(index, {})[m] for m in sorted(per.get(index, {}))]
            meta = dict(query.meta)
            if setting == "score":
                items += [ScoreItem(r.response_id, query, r, meta=meta) for r in rs]
            elif setting == "pair":
                items += [PairItem(f"{query.uniq_id}::{a.model_name}_vs_{b.model_name}", query, a, b, meta=meta)
                          for a, b in itertools.combinations(rs, 2)]
            elif len(rs) >= 2:
                items.append(BatchItem(query.uniq_id, query, tuple(rs), meta=meta))
        n_answers = sum(len(v) for v in per.values())
        no_art = sum(r.meta.get("artifact") is None for v in per.values() for r in v.values())
        notes = [f"ArtifactsBench: {len(tasks)} tasks, {n_answers} answers from "
                 f"{len({m for v in per.values() for m in v})} models; artifacts extracted to {self.work_dir}.",
                 "ArtifactsBench releases no per-item human labels: agreement is not computed."]
        if no_art:
            notes.append(f"{no_art} answers hold no HTML or SVG artifact: their text is judged as it is.")
        return BenchmarkData(name=self.name, setting=setting, items=items, labels=[], data_root=self.work_dir,
                             notes=notes)
