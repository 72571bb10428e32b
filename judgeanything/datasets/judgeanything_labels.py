"""Judge Anything label files: human scoring / pairing, checklists, and judging-script outputs.

Row formats (Judge Anything release, ``Preference/`` and ``Checklist/``; arXiv 2503.17489 §3):

* ``Human_Scoring.json``: ``{uniq_id, task_name, model_name, rubric_name, score, comment, index}``;
  ``rubric_name`` is ``overall_score`` or one of the six rubrics; ``score`` an integer 1–5.
* ``Human_Pairing.json``: ``{uniq_id, task_name, model_pair, rubric_name, choice, comment, ...}``;
  ``model_pair`` is ``"<first>_vs_<second>"``; ``choice`` ``"0"`` first better, ``"1"`` tie, ``"2"``
  second better.
* ``checklist.json``: ``{uniq_id, rubric, checklists: [str, ...]}``; or a folder of per-task files
  ``Checklist/<Task>.json`` with rows ``{uniq_id, checklists: [{"checklist": str}, ...]}``.
* judging-script output (``Pair_<baseline>.json`` / ``Score_<baseline>.json`` of the released scripts):
  ``{uniq_id, task_name, model_pair | model_name, rubric_name, choice | score, comment}``.

Each may be a JSON array or JSON Lines. Labels and verdicts are converted to the internal conventions of
:mod:`judgeanything.schema` here (``overall_score`` → ``"overall"``; choices → ``first``/``tie``/``second``,
seen from the item's response order).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from judgeanything.datasets._io import PathLike, Record, parse_score, read_records
from judgeanything.schema import (
    OVERALL,
    RUBRICS,
    HumanLabel,
    Item,
    PairItem,
    SchemaError,
    ScoreItem,
    Verdict,
    pair_choice_from_judgeanything,
    swap_choice,
)

#: Fields that identify the annotator of a human label row, in the order they are looked for.
ANNOTATOR_FIELDS: tuple[str, ...] = ("annotator", "annotator_id", "user", "user_id", "index")


@dataclass(frozen=True)
class KnownQuery:
    """What the release says about one query: its task type and its models in JudgeAnything.json order."""

    task_name: str
    models: tuple[str, ...]


@dataclass
class ItemIndex:
    """Where a ``(uniq_id, model)`` or ``(uniq_id, model_a, model_b)`` lands among loaded items.

    ``pair[(uid, a, b)] = (item_id, swapped)``: ``swapped`` is true when ``a``/``b`` are in the other
    order than the item's ``response_a``/``response_b``.
    """

    score: dict[tuple[str, str], str] = field(default_factory=dict)
    pair: dict[tuple[str, str, str], tuple[str, bool]] = field(default_factory=dict)
    uniq_ids: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, items: Iterable[Item]) -> ItemIndex:
        """Index score and pair items (batch items carry no per-model labels in this release)."""
        idx = cls()
        for it in items:
            uid = it.query.uniq_id
            idx.uniq_ids.add(uid)
            if isinstance(it, ScoreItem):
                idx.score[(uid, it.response.model_name)] = it.item_id
            elif isinstance(it, PairItem):
                a, b = it.response_a.model_name, it.response_b.model_name
                idx.pair[(uid, a, b)] = (it.item_id, False)
                idx.pair.setdefault((uid, b, a), (it.item_id, True))
        return idx


@dataclass
class LabelRead:
    """Human labels read from one file, and the rows that did not apply to the loaded items.

    ``skipped``: reason → row count (``"query not loaded"`` for queries removed by ``tasks``/``limit``,
    ``"pair not formed"`` for a pair the loaded pair items do not contain).
    """

    labels: list[HumanLabel]
    skipped: Counter[str] = field(default_factory=Counter)
    rows: int = 0


def normalize_rubric(rec: Record, field_name: str, value: object) -> str:
    """``overall_score`` / ``overall_choice`` / ``overall`` → ``"overall"``; a rubric name (any case, with
    or without a ``_score`` / ``_choice`` suffix, as the judging scripts' JSON keys have it) → its name.

    Raises:
        SchemaError: any other value (naming file, row and field).
    """
    s = str(value).strip().lower()
    for suffix in ("_score", "_choice"):
        if s.endswith(suffix) and s[: -len(suffix)] in (OVERALL, *RUBRICS):
            s = s[: -len(suffix)]
    if s == OVERALL:
        return OVERALL
    if s in RUBRICS:
        return s
    raise rec.error(f"unknown rubric {value!r}; expected overall_score or one of {', '.join(RUBRICS)}",
                    field_name)


def split_model_pair(value: str, models: Sequence[str]) -> tuple[str, str] | None:
    """Split ``"<first>_vs_<second>"`` into two of ``models``.

    Model names may themselves contain underscores, so every ``_vs_`` is tried as the separator and the
    split whose two halves are both known models wins. Returns ``None`` when no split names two models.
    """
    parts = value.split("_vs_")
    for k in range(1, len(parts)):
        a, b = "_vs_".join(parts[:k]), "_vs_".join(parts[k:])
        if a in models and b in models and a != b:
            return a, b
    return None


def annotator_of(rec: Record) -> str:
    """The annotator id of a label row: the first of :data:`ANNOTATOR_FIELDS` present, else ``row<N>``."""
    v = rec.get(*ANNOTATOR_FIELDS)
    return str(v) if v is not None else f"row{rec.row}"


class _Tasked(Protocol):
    @property
    def task_name(self) -> str: ...


_Q = TypeVar("_Q", bound=_Tasked)


def check_query(rec: Record, known: Mapping[str, _Q]) -> tuple[str, _Q]:
    """The ``uniq_id`` of a row that refers to a query, and that query (a :class:`KnownQuery` or a
    :class:`~judgeanything.schema.Query`).

    Raises:
        SchemaError: ``uniq_id`` missing or not in ``known``, or a ``task_name`` other than the query's.
    """
    uid = rec.require_str("uniq_id")
    q = known.get(uid)
    if q is None:
        raise rec.error(f"unknown uniq_id {uid!r} (not in TaskAnything.json)", "uniq_id")
    task = rec.get("task_name")
    if task is not None and str(task) != q.task_name:
        raise rec.error(f"task_name {task!r} does not match the query's task {q.task_name!r}", "task_name")
    return uid, q


def _check_model(rec: Record, uid: str, q: KnownQuery, model: str, field_name: str) -> None:
    if model not in q.models:
        raise rec.error(f"unknown model {model!r} for query {uid!r} (its models: {', '.join(q.models)})",
                        field_name)


def _pair_models(rec: Record, uid: str, q: KnownQuery) -> tuple[str, str]:
    mp = rec.require_text("model_pair")
    if "_vs_" not in mp:
        raise rec.error(f"model_pair {mp!r} is not of the form <first>_vs_<second>", "model_pair")
    ab = split_model_pair(mp, q.models)
    if ab is None:
        raise rec.error(f"model_pair {mp!r} does not name two models of query {uid!r} "
                        f"(its models: {', '.join(q.models)})", "model_pair")
    return ab


def _pair_choice(rec: Record, value: object) -> str:
    try:
        return pair_choice_from_judgeanything(value)
    except ValueError as e:
        raise rec.error(str(e), "choice") from e


def read_human_scoring(path: PathLike, known: Mapping[str, KnownQuery], index: ItemIndex) -> LabelRead:
    """Human score labels (``Human_Scoring.json``) for the loaded score items.

    Args:
        path: the file (JSON array or JSON Lines).
        known: every query of the release (uniq_id → task and models), to tell an unknown id from one
            that was filtered out.
        index: the loaded items.

    Returns:
        One :class:`HumanLabel` per row (value an int 1–5; rubric ``"overall"`` or a rubric name;
        annotator from :func:`annotator_of`), for rows whose item is loaded.

    Raises:
        SchemaError: malformed file, missing field, unknown uniq_id or model, task_name mismatch, unknown
            rubric, score not an integer 1–5.
    """
    recs = read_records(path, what="human scoring file (human_scoring)")
    out = LabelRead([], rows=len(recs))
    for rec in recs:
        uid, q = check_query(rec, known)
        model = rec.require_text("model_name")
        _check_model(rec, uid, q, model, "model_name")
        rubric = normalize_rubric(rec, "rubric_name", rec.require("rubric_name"))
        score = parse_score(rec, "score", rec.require("score"))
        item_id = index.score.get((uid, model))
        if item_id is None:
            out.skipped["query not loaded"] += 1
            continue
        out.labels.append(HumanLabel(item_id, rubric, score, annotator_of(rec)))
    return out


def read_human_pairing(path: PathLike, known: Mapping[str, KnownQuery], index: ItemIndex) -> LabelRead:
    """Human pair labels (``Human_Pairing.json``) for the loaded pair items.

    A row whose ``model_pair`` names the models in the other order than the item's (``B_vs_A`` for the
    item ``A_vs_B``) has its choice swapped, so the label is always seen from the item's order.

    Returns:
        One :class:`HumanLabel` per applicable row (value ``first``/``tie``/``second``). Rows for queries
        not loaded, or for pairs the loaded items do not form (e.g. responses 1 vs 3 without
        ``all_pairs``), are counted in ``skipped``.

    Raises:
        SchemaError: malformed file, missing field, unknown uniq_id or model, task_name mismatch, unknown
            rubric, choice not 0/1/2.
    """
    recs = read_records(path, what="human pairing file (human_pairing)")
    out = LabelRead([], rows=len(recs))
    for rec in recs:
        uid, q = check_query(rec, known)
        a, b = _pair_models(rec, uid, q)
        rubric = normalize_rubric(rec, "rubric_name", rec.require("rubric_name"))
        choice = _pair_choice(rec, rec.require("choice"))
        hit = index.pair.get((uid, a, b))
        if hit is None:
            out.skipped["query not loaded" if uid not in index.uniq_ids else "pair not formed"] += 1
            continue
        item_id, swapped = hit
        out.labels.append(HumanLabel(item_id, rubric, swap_choice(choice) if swapped else choice,
                                     annotator_of(rec)))
    return out


def read_checklists(path: PathLike, known: Mapping[str, KnownQuery]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Per-query checklists (Judge Anything §3.3), in either layout the release uses.

    * a single file (``Checklist/checklist.json``, read by the release's judging scripts): rows
      ``{uniq_id, rubric, checklists: [str, ...]}``;
    * a folder of per-task files (``Checklist/<Task>.json``): rows ``{uniq_id, checklists: [{"checklist":
      str}, ...]}`` — a query-wide checklist with no rubric, kept under ``"overall"`` (the judging scripts
      give a query's whole checklist with every rubric; the prompt builder does the same). An entry that
      names its own ``rubric`` goes under that rubric. Files in the folder are read in name order.

    Returns:
        uniq_id → rubric (``"overall"`` or a rubric name) → checklist items in file order. A row repeating
        an earlier (uniq_id, rubric) with the same items is ignored; items repeated within one checklist
        are kept once.

    Raises:
        SchemaError: malformed file, missing field, unknown uniq_id, unknown rubric, ``checklists`` not a
            list of strings or of ``{"checklist": str}`` objects, or a repeated (uniq_id, rubric) with
            different items.
    """
    p = Path(os.path.expanduser(os.fspath(path)))
    files = sorted(p.glob("*.json")) if p.is_dir() else [p]
    if not files:
        raise SchemaError("checklist folder holds no .json file", file=os.fspath(path))
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    first_row: dict[tuple[str, str], tuple[str, int]] = {}
    for f in files:
        for rec in read_records(f, what="checklist file (checklist)"):
            uid, _ = check_query(rec, known)
            for rubric, items in _checklist_row(rec).items():
                per = out.setdefault(uid, {})
                if rubric in per:
                    if per[rubric] != items:
                        f0, r0 = first_row[(uid, rubric)]
                        where = f"row {r0}" if f0 == rec.file else f"{f0} row {r0}"
                        raise rec.error(f"a second, different checklist for query {uid!r} and rubric {rubric!r} "
                                        f"(first at {where})", "checklists")
                    continue
                per[rubric] = items
                first_row[(uid, rubric)] = (rec.file, rec.row)
    return out


def _checklist_row(rec: Record) -> dict[str, tuple[str, ...]]:
    """One checklist row → rubric → items (deduplicated, in order)."""
    default = normalize_rubric(rec, "rubric", rec.require("rubric")) if rec.has("rubric") else OVERALL
    items = rec.require("checklists")
    if not isinstance(items, list):
        raise rec.error("expected a list of strings or of {\"checklist\": str} objects", "checklists")
    out: dict[str, list[str]] = {}
    for i, entry in enumerate(items):
        rubric = default
        if isinstance(entry, Mapping):
            sub = rec.child(f"checklists[{i}]", entry)
            text = sub.require_text("checklist")
            if sub.has("rubric", "rubric_name"):
                rubric = normalize_rubric(sub, "rubric", sub.get("rubric", "rubric_name"))
        elif isinstance(entry, str):
            text = entry
        else:
            raise rec.error(f"expected a string or a {{\"checklist\": str}} object, got {type(entry).__name__}",
                            f"checklists[{i}]")
        bucket = out.setdefault(rubric, [])
        if text.strip() and text not in bucket:
            bucket.append(text)
    return {r: tuple(v) for r, v in out.items()}


def read_judging_output(path: PathLike, items: Iterable[Item], *,
                        strict: bool = True) -> dict[str, list[Verdict]]:
    """Recorded verdicts from a Judge Anything judging-script output file, keyed by our item ids.

    Rows ``{uniq_id, task_name, model_pair | model_name, rubric_name, choice | score, comment}`` (the
    output of the released ``gen_*_judge.py`` scripts, JSON array or JSON Lines): a ``model_name`` row is
    a score verdict (int 1–5) for the score item of that response; a ``model_pair`` row is a pair verdict
    (``"0"``/``"1"``/``"2"`` → ``first``/``tie``/``second``) for the pair item of those two responses,
    swapped when the pair is named in the other order than the item's. Rows for items not in ``items``
    (another setting, a filtered-out task, a pair not formed) are ignored.

    Args:
        path: the output file.
        items: the loaded items (score or pair).
        strict: if true, a verdict value that cannot be read (score outside 1–5, choice not 0/1/2, unknown
            rubric) raises; if false, that row is left out, so a replay reports "no recorded verdict" for
            it instead of an invented value.

    Returns:
        item_id → verdicts in file order (one per rubric; ``comment`` from the row).

    Raises:
        SchemaError: malformed file, a row naming neither ``model_pair`` nor ``model_name``, a missing
            field, an unreadable value (when ``strict``), or two rows for the same item and rubric.
    """
    index = ItemIndex.of(items)
    models_of: dict[str, set[str]] = {}
    for (u, m1, m2) in index.pair:
        models_of.setdefault(u, set()).update((m1, m2))
    out: dict[str, list[Verdict]] = {}
    seen: dict[tuple[str, str], int] = {}
    for rec in read_records(path, what="judging output file"):
        try:
            found = _recorded_verdict(rec, index, models_of)
        except SchemaError as e:
            # Non-strict: only an unreadable verdict value is left out; a structural fault always raises.
            if strict or e.field not in _VALUE_FIELDS:
                raise
            continue
        if found is None:
            continue
        item_id, verdict = found
        key = (item_id, verdict.rubric)
        if key in seen:
            raise rec.error(f"a second verdict for item {item_id!r}, rubric {verdict.rubric!r} "
                            f"(first at row {seen[key]})", "rubric_name")
        seen[key] = rec.row
        out.setdefault(item_id, []).append(verdict)
    return out


_VALUE_FIELDS = ("score", "choice", "rubric_name")


def _recorded_verdict(rec: Record, index: ItemIndex,
                      models_of: Mapping[str, set[str]]) -> tuple[str, Verdict] | None:
    """One judging-output row → (item id, verdict), or ``None`` when its item is not loaded."""
    uid = rec.require_str("uniq_id")
    if not rec.has("model_pair", "model_name"):
        raise rec.error("row names neither model_pair (pair verdict) nor model_name (score verdict)",
                        "model_pair")
    if rec.has("model_pair"):
        ab = split_model_pair(rec.require_text("model_pair"), sorted(models_of.get(uid, ())))
        hit = index.pair.get((uid, *ab)) if ab else None
        if hit is None:
            return None
        item_id, swapped = hit
        rubric = normalize_rubric(rec, "rubric_name", rec.require("rubric_name"))
        choice = _pair_choice(rec, rec.require("choice"))
        value: str | int = swap_choice(choice) if swapped else choice
    else:
        found = index.score.get((uid, rec.require_text("model_name")))
        if found is None:
            return None
        item_id = found
        rubric = normalize_rubric(rec, "rubric_name", rec.require("rubric_name"))
        value = parse_score(rec, "score", rec.require("score"))
    return item_id, Verdict(rubric, value, rec.get_text("comment"))
