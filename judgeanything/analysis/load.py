"""Read one run directory (the format of :mod:`judgeanything.store`) into pandas frames.

Analysis reads run directories only: it never calls a judge and never imports the runner, the judges or
the dataset adapters. Everything downstream works on the frames built here:

* ``items`` — one row per item: ``item_id, setting, uniq_id, task_name, n_responses, models`` (tuple of
  ``Response.model_name`` in dataset order), ``sizes`` (tuple of per-response size dicts),
  ``input_modalities`` (tuple), ``output_modality``, ``family`` (``mmu``/``mmg``), ``input_modality``
  (the non-text inputs joined with ``+``, or ``"text"`` for Text2X), ``modality_pair``
  (``"image→text"``), ``meta`` (dict).
* ``labels`` — one row per human label: ``item_id, rubric, value, annotator, line``.
* ``verdicts`` — one row per (verdict record × rubric): ``line, key, item_id, setting, mode, order`` (tuple:
  the dataset slot shown at each position), ``repeat, judge, model, rubric, value`` (a pair choice, a
  number, or a ranking tuple; ``None`` for failures), ``failure`` (kind or ``None``), ``detail, probs,
  expected`` (NaN when absent), ``parsed_by`` (the parsing rule, ``""`` when the judge gave no text).
* ``records`` — one row per verdict record (for cost): ``line, key, item_id, judge, model, order, repeat,
  prompt_tokens, completion_tokens, latency_s``.

A whole-request failure (outcome rubric ``"*"``) is expanded to one failure row per rubric the record
asked for (its ``rubrics`` list), so failure rates are per (item × rubric) like verdicts.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from judgeanything.schema import Failure, SchemaError, ScoreScale, TaskType
from judgeanything.store import (
    ITEMS,
    LABELS,
    RUN,
    VERDICTS,
    RunRecord,
    StoreError,
    iter_jsonl_lines,
    read_jsonl,
    supersedes,
)
from judgeanything.store import check_value as check_value  # analysis.units checks label values with it

ITEM_COLUMNS = ["item_id", "setting", "uniq_id", "task_name", "n_responses", "models", "sizes",
                "input_modalities", "output_modality", "family", "input_modality", "modality_pair", "meta"]
LABEL_COLUMNS = ["item_id", "rubric", "value", "annotator", "line"]
VERDICT_COLUMNS = ["line", "key", "item_id", "setting", "mode", "order", "repeat", "judge", "model",
                   "rubric", "value", "failure", "detail", "probs", "expected", "parsed_by"]
RECORD_COLUMNS = ["line", "key", "item_id", "setting", "judge", "model", "order", "repeat",
                  "prompt_tokens", "completion_tokens", "latency_s"]


@dataclass
class RunData:
    """One run directory, loaded.

    Attributes:
        items, labels, verdicts, records: the frames described in the module docstring.
        run: the ``run.json`` dict (empty when the file is absent).
        run_dir: where it was read from.
        usage_records: what the usage summary reads of each counted record — ``item_id``, ``model``, ``usage``
            and the ``cache`` / ``system_fingerprint`` entries of ``extra`` — in log order
            (:func:`judgeanything.usage.counted_usage`), taken as the log is read so that the analysis does not
            parse it again; ``None``: not loaded (the summary then reads the log).
        set_aside: records of the log left out because they belong to another item set, by reason
            (:data:`REMOVED`: an item no longer in ``items.jsonl`` — a smaller ``run.limit``, a removed row, a
            renamed id; :data:`EDITED`: the item's content changed since — the record's ``item_content`` differs
            from the item's ``content``). A stale verdict never counts.
    """

    items: pd.DataFrame
    labels: pd.DataFrame
    verdicts: pd.DataFrame
    run: dict[str, Any]
    run_dir: Path
    records: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RECORD_COLUMNS))
    set_aside: dict[str, int] = field(default_factory=dict)
    usage_records: list[dict[str, Any]] | None = None

    def set_aside_note(self) -> str | None:
        """One sentence saying how many logged records were left out of the analysis and why (None: none)."""
        if not self.set_aside:
            return None
        parts = [f"{n} for {why}" for why, n in sorted(self.set_aside.items())]
        total = sum(self.set_aside.values())
        return (f"{total} verdict record(s) in {VERDICTS} were set aside because the item set changed since they "
                f"were judged ({'; '.join(parts)}); only verdicts on the current {ITEMS} count.")

    @property
    def judge_name(self) -> str:
        """The judge's display name: ``run.json`` ``judge`` (a string, or a dict's ``name``), else the
        records' ``judge`` field, else ``"?"``."""
        return run_field(self.run, "judge", self.verdicts)

    @property
    def settings(self) -> list[str]:
        """Settings present in the verdicts (normally one per run directory)."""
        return sorted(set(self.verdicts["setting"].dropna())) if len(self.verdicts) else []


def run_field(run: dict[str, Any], name: str, verdicts: pd.DataFrame | None = None) -> str:
    """A run-level fact as a string: ``run[name]`` (or ``run[name]["name"]`` when it is a dict), else the
    single value of that column in the verdicts, else ``"?"``."""
    v = run.get(name)
    if isinstance(v, dict):
        v = v.get("name") or v.get("model") or v.get("_target_")
    if v is not None and not (isinstance(v, float) and math.isnan(v)):
        return str(v)
    if verdicts is not None and name in verdicts.columns and len(verdicts):
        vals = sorted({str(x) for x in verdicts[name].dropna()})
        if vals:
            return vals[0] if len(vals) == 1 else "+".join(vals)
    return "?"


def load_run(run_dir: Path | str) -> RunData:
    """Load ``run.json``, ``items.jsonl``, ``labels.jsonl`` and ``verdicts.jsonl`` of one run directory.

    Args:
        run_dir: the run directory.

    Returns:
        :class:`RunData` (frames as in the module docstring; missing labels → an empty labels frame).

    Raises:
        StoreError: the directory or ``verdicts.jsonl`` is missing, or a line is not valid JSON (names file
            and line).
        SchemaError: a row lacks a required field or has a value of the wrong kind (names file, row =
            1-based line, and field).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise StoreError(f"{run_dir}: not a run directory")
    vpath = run_dir / VERDICTS
    if not vpath.exists():
        raise StoreError(f"{vpath}: missing (not a run directory)")
    run: dict[str, Any] = {}
    rpath = run_dir / RUN
    if rpath.exists():
        try:
            run = json.loads(rpath.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise StoreError(f"{rpath}: line {e.lineno} is not valid JSON ({e.msg})") from e
        if not isinstance(run, dict):
            raise SchemaError("run.json must hold a JSON object", file=str(rpath))
    items, contents = _load_items(run_dir / ITEMS)
    labels = _load_labels(run_dir / LABELS)
    verdicts, records, set_aside, usage_records = _load_verdicts(vpath, contents)
    if len(verdicts) and verdicts["setting"].isna().any():  # a record without ``setting``: its item's
        by_item = dict(zip(items["item_id"], items["setting"], strict=True))
        verdicts["setting"] = verdicts["setting"].fillna(verdicts["item_id"].map(by_item))
    verdicts = on_label_scale(verdicts, run)
    return RunData(items=items, labels=labels, verdicts=verdicts, run=run, run_dir=run_dir, records=records,
                   set_aside=set_aside, usage_records=usage_records)


def on_label_scale(verdicts: pd.DataFrame, run: dict[str, Any]) -> pd.DataFrame:
    """Score verdicts given on another scale than the human labels' (``run.json`` ``score_scale`` vs
    ``label_scale``, ``setting.scale``) mapped linearly onto the labels' scale (min → min, max → max), in
    ``value`` and ``expected``, so every agreement metric compares like with like: correlations are
    unchanged by the map; MAE and offsets are in label points; exact agreement and κ count a mapped score
    equal to a label only where the map lands on it. Runs on one scale are returned unchanged.

    Raises:
        SchemaError: an unreadable scale in ``run.json``.
    """
    judge_s, label_s = run.get("score_scale"), run.get("label_scale")
    if not judge_s or not label_s or judge_s == label_s or verdicts.empty:
        return verdicts
    try:
        a, b = ScoreScale.parse(judge_s), ScoreScale.parse(label_s)
    except SchemaError as e:
        raise SchemaError(f"run.json: {e}", field="score_scale") from e
    out = verdicts.copy()
    score = (out["setting"] == "score") & out["failure"].isna()
    out["value"] = out["value"].astype(object)
    out.loc[score, "value"] = [a.to_scale(v, b) for v in out.loc[score, "value"]]
    out.loc[score, "expected"] = [a.to_scale(v, b) if math.isfinite(v) else v for v in out.loc[score, "expected"]]
    return out


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based line number, row) pairs of a JSONL file (absent file → nothing), streamed: a run log is
    never held whole, only the fields each frame keeps.

    :func:`judgeanything.store.iter_jsonl_lines` (a torn last line of ``verdicts.jsonl``, left by a killed
    writer, is ignored), plus a check that every line is an object.

    Raises:
        StoreError: a line that is not valid JSON (file and line named).
        SchemaError: a line that is JSON but not an object.
    """
    for i, row in iter_jsonl_lines(path, tolerate_torn_tail=path.name == VERDICTS):
        if not isinstance(row, dict):
            raise SchemaError("each line must be a JSON object", file=str(path), row=i)
        yield i, row


def _need(row: dict[str, Any], name: str, path: Path, line: int) -> Any:
    if name not in row or row[name] is None:
        raise SchemaError("required field missing", file=str(path), row=line, field=name)
    return row[name]


@functools.lru_cache(maxsize=256)
def _parse_task(name: str) -> TaskType:
    return TaskType.parse(name)


def _load_items(path: Path) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """The items frame, and each item's recorded ``content`` hash (None for an ``items.jsonl`` written before
    contents were recorded)."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    contents: dict[str, str | None] = {}
    for line, r in _lines(path):
        item_id = str(_need(r, "item_id", path, line))
        if item_id in seen:
            raise SchemaError(f"duplicate item id {item_id!r}", file=str(path), row=line, field="item_id")
        seen.add(item_id)
        content = r.get("content")
        contents[item_id] = str(content) if content is not None else None
        task_name = str(_need(r, "task_name", path, line))
        responses = r.get("responses") or []
        if not isinstance(responses, list):
            raise SchemaError("must be a list", file=str(path), row=line, field="responses")
        inputs = r.get("input_modalities")
        output = r.get("output_modality")
        family = r.get("family")
        if inputs is None or output is None or family is None:
            try:
                tt = _parse_task(task_name)
            except SchemaError as e:
                raise SchemaError(str(e), file=str(path), row=line, field="task_name") from e
            inputs = tt.inputs if inputs is None else inputs
            output = tt.output if output is None else output
            family = tt.family if family is None else family
        inputs = tuple(inputs)
        non_text = [m for m in inputs if m != "text"]
        input_modality = "+".join(non_text) if non_text else "text"
        sizes = r.get("sizes") or [{} for _ in responses]
        if not isinstance(sizes, list) or not all(isinstance(s, dict) for s in sizes):
            raise SchemaError("must be a list of dicts (one per response)", file=str(path), row=line,
                              field="sizes")
        meta = dict(r.get("meta") or {})
        for k, v in (r.get("query_meta") or {}).items():
            meta.setdefault(k, v)
        rows.append({
            "item_id": item_id,
            "setting": r.get("setting"),
            "uniq_id": r.get("uniq_id"),
            "task_name": task_name,
            "n_responses": len(responses),
            "models": tuple(str(x.get("model_name", "?")) for x in responses),
            "sizes": tuple(sizes),
            "input_modalities": inputs,
            "output_modality": str(output),
            "family": str(family),
            "input_modality": input_modality,
            "modality_pair": f"{input_modality}→{output}",
            "meta": meta,
        })
    return pd.DataFrame(rows, columns=ITEM_COLUMNS), contents


def _load_labels(path: Path) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for line, r in _lines(path):
        v = _need(r, "value", path, line)
        rows.append({"item_id": str(_need(r, "item_id", path, line)),
                     "rubric": str(_need(r, "rubric", path, line)),
                     "value": tuple(v) if isinstance(v, list) else v,
                     "annotator": str(r.get("annotator", "human")), "line": line})
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else math.nan


#: Reasons a logged record is set aside (see :attr:`RunData.set_aside`).
REMOVED = "items no longer in the item set"
EDITED = "items edited since they were judged"


def set_aside_reason(item_id: str, judged_on: str | None, contents: Mapping[str, str | None]) -> str | None:
    """Why a record of ``item_id`` judged on content ``judged_on`` belongs to another item set than the run's
    (``contents``: item id → content hash from ``items.jsonl``): :data:`REMOVED`, :data:`EDITED`, or None when it
    counts. A content missing on either side (records of earlier versions) counts. The one rule every analysis
    of a run directory applies (generic, rules, process)."""
    if item_id not in contents:
        return REMOVED
    have = contents[item_id]
    if have is not None and judged_on is not None and str(judged_on) != str(have):
        return EDITED
    return None


def items_by_id(run_dir: Path) -> dict[str, dict[str, Any]]:
    """``items.jsonl`` of a run directory as item id → its line (for analyses that read items as written, e.g.
    the rules and process analyses).

    Raises:
        FileNotFoundError: the run has no items.jsonl (every run writes one before judging).
        StoreError: a line that is not JSON (file and line named).
    """
    path = Path(run_dir) / ITEMS
    if not path.exists():
        raise FileNotFoundError(f"{path}: no item set (every run writes it before judging)")
    return {str(d["item_id"]): d for d in read_jsonl(path)}


def contents_of(items: Mapping[str, Mapping[str, Any]]) -> dict[str, str | None]:
    """Item id → the content hash ``items.jsonl`` recorded (None where an earlier version wrote none)."""
    return {i: (str(d["content"]) if d.get("content") is not None else None) for i, d in items.items()}


def _stale(rec: RunRecord, contents: dict[str, str | None]) -> str | None:
    return set_aside_reason(rec.item_id, rec.item_content, contents)


def _count(x: Any) -> float:
    """A token count, or NaN when it is not one (a negative or fractional count a server reported)."""
    return float(x) if _is_int(x) and x >= 0 else math.nan


def _outcome_rows(rec: RunRecord, line: int) -> list[dict[str, Any]]:
    """The verdict rows of one (checked) record: one per outcome, a whole-request failure (rubric ``*``) expanded
    to every rubric the record asked for."""
    base = {"line": line, "key": rec.key, "item_id": rec.item_id, "setting": rec.setting, "mode": rec.mode,
            "judge": rec.judge, "model": rec.model, "order": rec.order, "repeat": rec.repeat}
    rows: list[dict[str, Any]] = []
    for o in rec.outcomes:
        if isinstance(o, Failure):
            targets = rec.rubrics if o.rubric == "*" and rec.rubrics else (o.rubric,)
            rows += [{**base, "rubric": rb, "value": None, "failure": o.kind, "detail": o.detail, "probs": None,
                      "expected": math.nan, "parsed_by": o.parsed_by} for rb in targets]
        else:
            rows.append({**base, "rubric": o.rubric, "value": o.value, "failure": None, "detail": "",
                         "probs": None if o.probs is None else dict(o.probs),
                         "expected": math.nan if o.expected is None else float(o.expected),
                         "parsed_by": o.parsed_by})
    return rows


def _cost_row(rec: RunRecord, line: int) -> dict[str, Any]:
    """The ``records`` row of one record (what it cost)."""
    return {"line": line, "key": rec.key, "item_id": rec.item_id, "setting": rec.setting, "judge": rec.judge,
            "model": rec.model, "order": rec.order, "repeat": rec.repeat,
            "prompt_tokens": _count(rec.usage.get("prompt_tokens")),
            "completion_tokens": _count(rec.usage.get("completion_tokens")),
            "latency_s": math.nan if rec.latency_s is None else float(rec.latency_s)}


def _usage_row(rec: RunRecord) -> dict[str, Any]:
    """What :func:`judgeanything.usage.summarise_usage` reads of a counted record (:attr:`RunData.usage_records`;
    of ``extra`` only the two entries it reads: a judge's other facts can be large)."""
    extra = {k: rec.extra[k] for k in ("cache", "system_fingerprint") if k in rec.extra} if rec.extra else {}
    return {"item_id": rec.item_id, "model": rec.model, "usage": rec.usage, "extra": extra}


def _load_verdicts(path: Path, contents: dict[str, str | None]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], list[dict[str, Any]]]:
    """The verdict and cost frames of a run log, the records set aside (see :attr:`RunData.set_aside`) and the
    usage rows of the counted records in log order (:attr:`RunData.usage_records`).

    Every line is checked (:meth:`judgeanything.store.RunRecord.from_dict`); one record counts per unit key: its
    latest attempt (:func:`judgeanything.store.supersedes`). A record of another item set is set aside.

    Raises:
        SchemaError: a malformed record (naming file, row and field).
    """
    chosen: dict[str, tuple[RunRecord, int]] = {}
    set_aside: dict[str, int] = {}
    for line, r in iter_jsonl_lines(path, tolerate_torn_tail=True):
        rec = RunRecord.from_dict(r, file=str(path), line=line)
        why = _stale(rec, contents)
        if why is not None:
            set_aside[why] = set_aside.get(why, 0) + 1
        elif supersedes(rec.attempt, chosen[rec.key][0].attempt if rec.key in chosen else None):
            chosen[rec.key] = (rec, line)
    rows = [row for rec, line in chosen.values() for row in _outcome_rows(rec, line)]
    costs = [_cost_row(rec, line) for rec, line in chosen.values()]
    usage = [_usage_row(rec) for rec, _ in sorted(chosen.values(), key=lambda rl: rl[1])]
    return (pd.DataFrame(rows, columns=VERDICT_COLUMNS), pd.DataFrame(costs, columns=RECORD_COLUMNS), set_aside,
            usage)
