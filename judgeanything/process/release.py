"""ProJudgeBench as released (``julyai/ProJudgeBench`` on the Hugging Face Hub: ``test.parquet`` and the
images it names), read into :class:`~judgeanything.process.items.ProcessCase` s.

A row of the release holds ``id``, ``question``, ``subject`` (``Math``, ``Physics``, ``Chemistry``,
``Biology``), ``data_type`` (``pure_text`` or an image kind), ``image_paths`` (a mapping of placeholder →
relative path; empty paths are unused slots) and ``process_evaluation``: one ``[step text, correctness,
error type, explanation]`` per step, correctness ``"1"`` correct / ``"0"`` incorrect, the error type in the
paper's words ("Reasoning Error"; :func:`judgeanything.process.taxonomy.error_type`). Other columns are kept
in ``meta``. The same rows as JSON (a list) or JSONL are read too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from judgeanything.process.items import INCORRECT, ProcessCase, StepLabel, modality_of
from judgeanything.process.taxonomy import CORRECT, error_type
from judgeanything.schema import MediaRef, SchemaError

_CORRECTNESS: dict[object, str] = {"1": CORRECT, "0": INCORRECT, 1: CORRECT, 0: INCORRECT}  # True/False hash as 1/0
_REQUIRED = ("id", "question", "process_evaluation")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(1-based row, row)`` of a release file: ``.parquet`` (pyarrow), ``.json`` (a list) or ``.jsonl``.

    Raises:
        SchemaError: a missing file, an unknown extension, unreadable JSON, or a row that is not an object.
    """
    if not path.is_file():
        raise SchemaError("no such file", file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        rows: list[Any] = pq.read_table(path).to_pylist()
    elif suffix == ".json":
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise SchemaError(f"not valid JSON ({e.msg}, line {e.lineno})", file=str(path)) from e
        if not isinstance(rows, list):
            raise SchemaError("expected a JSON list of rows", file=str(path))
    elif suffix == ".jsonl":
        rows = []
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise SchemaError(f"not valid JSON ({e.msg})", file=str(path), row=i) from e
    else:
        raise SchemaError("expected a .parquet, .json or .jsonl file", file=str(path))
    for i, r in enumerate(rows, start=1):
        if not isinstance(r, dict):
            raise SchemaError("each row must be an object", file=str(path), row=i)
        yield i, r


def _steps(r: Mapping[str, Any], file: str, row: int) -> tuple[tuple[str, ...], tuple[StepLabel, ...]]:
    evals = r["process_evaluation"]
    if not isinstance(evals, list) or not evals:
        raise SchemaError("must be a non-empty list of [step, correctness, error type, explanation]", file=file,
                          row=row, field="process_evaluation")
    texts, labels = [], []
    for j, e in enumerate(evals):
        fld = f"process_evaluation[{j}]"
        if not isinstance(e, (list, tuple)) or len(e) < 2 or not isinstance(e[0], str):
            raise SchemaError("must be [step text, correctness, error type, explanation]", file=file, row=row,
                              field=fld)
        verdict = _CORRECTNESS.get(e[1].strip() if isinstance(e[1], str) else e[1])
        if verdict is None:
            raise SchemaError(f"correctness {e[1]!r} is not '1' (correct) or '0' (incorrect)", file=file, row=row,
                              field=fld)
        raw_type = e[2] if len(e) > 2 else None
        etype = error_type(raw_type) if verdict == INCORRECT else None
        if verdict == INCORRECT and raw_type not in (None, "") and etype is None:
            raise SchemaError(f"error type {raw_type!r} is not one of ProJudgeBench's seven", file=file, row=row,
                              field=fld)
        texts.append(e[0])
        labels.append(StepLabel(verdict, etype, str(e[3]) if len(e) > 3 and e[3] else ""))
    return tuple(texts), tuple(labels)


def _media(r: Mapping[str, Any], file: str, row: int) -> tuple[MediaRef, ...]:
    paths = r.get("image_paths") or {}
    values = list(paths.values()) if isinstance(paths, Mapping) else paths
    if not isinstance(values, list) or not all(p is None or isinstance(p, str) for p in values):
        raise SchemaError("must map placeholders to relative image paths", file=file, row=row, field="image_paths")
    return tuple(MediaRef("image", path=p) for p in values if p)


def _modality(data_type: Any, media: tuple[MediaRef, ...]) -> str:
    dt = str(data_type or "").lower()
    if dt in ("pure_text", "text"):
        return "text"
    if "multi" in dt:
        return "multi_image"
    if "single" in dt:
        return "single_image"
    return modality_of(media)


def load_projudgebench(path: Path | str, *, subjects: set[str] | None = None) -> list[ProcessCase]:
    """Read a ProJudgeBench release file into process cases (dataset order; ids must be unique).

    Args:
        path: ``test.parquet`` (or the same rows as ``.json`` / ``.jsonl``); image paths stay relative to
            its folder.
        subjects: keep only these disciplines (lower case, e.g. ``{"math"}``); ``None`` keeps all.

    Raises:
        SchemaError: a missing or malformed field, an unknown correctness or error type, a duplicate id
            (naming the file, row and field).
    """
    path = Path(path)
    out: list[ProcessCase] = []
    seen: set[str] = set()
    for i, r in read_rows(path):
        for f in _REQUIRED:
            if r.get(f) in (None, ""):
                raise SchemaError("required field missing", file=str(path), row=i, field=f)
        cid = str(r["id"])
        if cid in seen:
            raise SchemaError(f"duplicate id {cid!r}", file=str(path), row=i, field="id")
        seen.add(cid)
        discipline = str(r.get("subject") or "").strip().lower()
        if subjects is not None and discipline not in subjects:
            continue
        steps, labels = _steps(r, str(path), i)
        media = _media(r, str(path), i)
        meta = {k: v for k, v in r.items() if k not in (*_REQUIRED, "subject", "image_paths")
                and isinstance(v, (str, int, float, bool))}
        out.append(ProcessCase(cid, str(r["question"]), steps, labels, media, discipline,
                               _modality(r.get("data_type"), media), meta))
    return out


__all__ = ["load_projudgebench", "read_rows"]
