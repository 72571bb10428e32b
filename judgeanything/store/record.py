"""The run-log record: one judged unit, one line of ``verdicts.jsonl`` (docs/architecture.md §3).

:class:`RunRecord` is the record's one definition: the runner (and the jury) build it, :meth:`RunRecord.to_dict` is
the line the store writes, and the readers that interpret a line — the analysis loader, the HTML report, the
shard merge — go through :meth:`RunRecord.from_dict`, which checks it and names the file, line and field of
anything wrong. The resume scan (:class:`~judgeanything.store.RunLog`) and the cost summaries
(:func:`~judgeanything.store.iter_latest_records`) read only a line's key, attempt, failure kinds and usage, without
building records: they run on every resume and budget check, over logs the analysis has checked or will check.

Building a record does no checking (the runner writes one per unit; its values come from typed objects already);
reading one checks everything, once, where bad input can first be seen.

Outcomes are typed (:class:`~judgeanything.schema.Verdict` / :class:`~judgeanything.schema.Failure`): their
``to_dict`` is what the runner always wrote, so a line of the current format reads back to the same bytes. Lines
written by earlier versions (no ``item_content``, ``attempt``, ``task_name``…; ``latency_s`` null; another key
order) still load: a field absent from such a line stays absent when the record is written again, and the dict
is equal to the line, though keys may come back in this format's order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from judgeanything.schema import FAILURE_KINDS, PAIR_CHOICES, Failure, Outcome, SchemaError, Verdict


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One line of the run log (``verdicts.jsonl``).

    Attributes:
        key: the unit id (item × setting × mode × rubrics × order × repeat × judge fingerprint × prompt
            version; :func:`judgeanything.runner.units.plan_units`).
        item_id: the judged item.
        outcomes: per rubric, a :class:`Verdict` or a :class:`Failure` (rubric ``"*"``: the whole request
            failed), always in **dataset orientation**: a pair choice ``"first"`` is the dataset's first response
            whatever order it was shown in.
        item_content: the item's content hash when judged (:func:`judgeanything.schema.item_content_hash`).
        task_name, setting, mode: the item's task, the setting (``pair``/``score``/``batch``…), the judging mode.
        rubrics: the rubrics asked for.
        order: the dataset slot shown at each position.
        repeat: the repeat number (0-based).
        judge: the judge's display name; ``model``: the model id/snapshot that answered.
        prompt_version: the prompt template version.
        attempt: 0 for a unit's first attempt; a retry of a failed unit carries a higher one and supersedes it
            (:func:`judgeanything.store.supersedes`). Written only when above 0.
        raw: the judge's output, at most ``run.max_raw_chars`` characters (:func:`judgeanything.store.cap_text`);
            ``raw_chars`` (full length, characters) and ``raw_cap`` (the cap) are written only when it was cut.
        usage_invalid: impossible token counts moved out of ``usage`` (:func:`judgeanything.store.check_usage`),
            written only when there were some.
        finish_reason: the judge's stop reason (``"stop"``, ``"length"``…) or None.
        usage: token counts as the judge reported them.
        latency_s: wall seconds of the request (None in records of runs that did not measure it).
        media: provenance of each decoded media part; ``downgrades``: what was adapted to the judge's
            capabilities.
        ts: when the record was written (ISO 8601, UTC).
        extra: judge-specific facts (``{"cache": "hit"}``, ``system_fingerprint``…), written only when non-empty.

    ``None`` in ``item_content``, ``task_name``, ``setting``, ``mode``, ``judge`` and ``prompt_version`` means
    the field was absent (a record of an earlier version); the runner always sets them.
    """

    key: str
    item_id: str
    outcomes: tuple[Outcome, ...]
    item_content: str | None = None
    task_name: str | None = None
    setting: str | None = None
    mode: str | None = None
    rubrics: tuple[str, ...] = ()
    order: tuple[int, ...] = ()
    repeat: int = 0
    judge: str | None = None
    prompt_version: str | None = None
    attempt: int = 0
    raw: str = ""
    raw_chars: int | None = None
    raw_cap: int | None = None
    usage_invalid: Mapping[str, Any] | None = None
    finish_reason: str | None = None
    usage: Mapping[str, Any] = field(default_factory=dict)
    latency_s: float | None = None
    model: str | None = None
    media: tuple[Any, ...] = ()
    downgrades: tuple[Any, ...] = ()
    ts: Any = None
    extra: Mapping[str, Any] | None = None

    @property
    def failed(self) -> bool:
        """Whether any outcome is a failure."""
        return any(isinstance(o, Failure) for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """The run-log line as a dict, keys in the order the runner has always written them."""
        d: dict[str, Any] = {"key": self.key, "item_id": self.item_id}
        _put(d, "item_content", self.item_content)
        _put(d, "task_name", self.task_name)
        _put(d, "setting", self.setting)
        _put(d, "mode", self.mode)
        d["rubrics"], d["order"], d["repeat"] = list(self.rubrics), list(self.order), self.repeat
        _put(d, "judge", self.judge)
        _put(d, "prompt_version", self.prompt_version)
        if self.attempt:
            d["attempt"] = self.attempt
        d["outcomes"], d["raw"] = [o.to_dict() for o in self.outcomes], self.raw
        if self.raw_chars is not None:
            d["raw_chars"], d["raw_cap"] = self.raw_chars, self.raw_cap
        if self.usage_invalid:
            d["usage_invalid"] = self.usage_invalid
        d["finish_reason"], d["usage"], d["latency_s"] = self.finish_reason, self.usage, self.latency_s
        d["model"] = self.model
        d["media"], d["downgrades"], d["ts"] = list(self.media), list(self.downgrades), self.ts
        if self.extra:
            d["extra"] = self.extra
        return d

    @classmethod
    def from_dict(cls, d: Any, *, file: str, line: int) -> RunRecord:
        """Read one run-log line (checked).

        Tolerated as earlier versions wrote them: an absent ``key`` (the record is its own unit, ``line<n>``),
        ``order``, ``repeat``, ``rubrics``, ``usage`` or any optional field; a non-integer ``attempt`` (0);
        ``probs`` that is not an object and ``expected`` that is not a number (dropped).

        Raises:
            SchemaError: naming ``file``, ``line`` (as the row) and the field — the line is not an object;
                ``item_id`` or ``outcomes`` missing; ``outcomes`` not a list of objects; an outcome with an
                unknown failure kind, neither value nor failure, or a value of the wrong kind for the setting
                (:func:`check_value`); ``order`` not a list of slot numbers; ``repeat`` not a non-negative
                integer; ``usage``, ``usage_invalid`` or ``extra`` not an object; ``media``/``downgrades``
                not lists; ``raw_chars``/``raw_cap`` not non-negative integers.
        """
        if not isinstance(d, Mapping):
            raise SchemaError("each line must be a JSON object", file=file, row=line)
        at = _Where(file, line)
        setting = _opt_str(d.get("setting"))
        raw_chars = at.count(d, "raw_chars")
        return cls(
            key=str(d.get("key", f"line{line}")), item_id=str(at.need(d, "item_id")),
            outcomes=at.outcomes(at.need(d, "outcomes"), setting), item_content=_opt_str(d.get("item_content")),
            task_name=_opt_str(d.get("task_name")), setting=setting, mode=_opt_str(d.get("mode")),
            rubrics=tuple(str(x) for x in at.seq(d, "rubrics")), order=at.order(d.get("order")),
            repeat=at.repeat(d.get("repeat")), judge=_opt_str(d.get("judge")),
            prompt_version=_opt_str(d.get("prompt_version")), attempt=record_attempt(d),
            raw=str(d.get("raw") or ""), raw_chars=raw_chars,
            raw_cap=at.count(d, "raw_cap") if raw_chars is not None else None,
            usage_invalid=at.obj(d, "usage_invalid"), finish_reason=_opt_str(d.get("finish_reason")),
            usage=at.obj(d, "usage") or {}, latency_s=_number(d.get("latency_s")), model=_opt_str(d.get("model")),
            media=tuple(at.seq(d, "media")), downgrades=tuple(at.seq(d, "downgrades")), ts=d.get("ts"),
            extra=at.obj(d, "extra"))


def _put(d: dict[str, Any], name: str, value: str | None) -> None:
    if value is not None:
        d[name] = value


def record_attempt(r: Mapping[str, Any]) -> int:
    """A record's ``attempt`` (absent, or not an integer: 0 — the first attempt)."""
    a = r.get("attempt") or 0
    return a if _is_int(a) else 0


def supersedes(attempt: int, counted: int | None) -> bool:
    """The run log's one precedence rule, "latest attempt wins": a record of attempt ``attempt`` replaces the
    record counted so far for its key (of attempt ``counted``; ``None``: none yet) when its attempt is higher.
    Among equal attempts the first logged counts (a key logged twice by two runs on one directory, before the
    store locked it). The runner's resume, :class:`~judgeanything.store.RunLog`,
    :func:`~judgeanything.store.iter_latest_records` and the analysis all apply it."""
    return counted is None or attempt > counted


def check_value(setting: str | None, value: Any, *, file: str, row: int, field: str) -> Any:
    """Validate one verdict/label value against its setting and return it normalised (ranking → tuple).

    Raises:
        SchemaError: a pair value not in ``first/tie/second``, a non-numeric or non-finite score, a ranking that
            is not a list of distinct non-negative ints.
    """
    if setting == "pair":
        if value not in PAIR_CHOICES:
            raise SchemaError(f"pair choice {value!r} is not one of {PAIR_CHOICES}", file=file, row=row,
                              field=field)
        return value
    if setting == "score":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SchemaError(f"score {value!r} is not a finite number", file=file, row=row, field=field)
        return value
    if setting == "batch":
        if (not isinstance(value, (list, tuple)) or not value or not all(_is_int(x) and x >= 0 for x in value)
                or len(set(value)) != len(value)):
            raise SchemaError(f"ranking {value!r} is not a list of distinct 0-based slots", file=file,
                              row=row, field=field)
        return tuple(value)
    return tuple(value) if isinstance(value, list) else value


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _opt_str(x: Any) -> str | None:
    return None if x is None else str(x)


def _number(x: Any) -> float | None:
    """A JSON number as read (int or float), None for anything else (absent, null, text)."""
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


@dataclass(frozen=True, slots=True)
class _Where:
    """Checks of one line's fields, each error naming the file, the line and the field."""

    file: str
    line: int

    def fail(self, message: str, fld: str) -> SchemaError:
        return SchemaError(message, file=self.file, row=self.line, field=fld)

    def need(self, d: Mapping[str, Any], name: str) -> Any:
        if d.get(name) is None:
            raise self.fail("required field missing", name)
        return d[name]

    def seq(self, d: Mapping[str, Any], name: str) -> list[Any]:
        v = d.get(name)
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(f"{name} {v!r} is not a list", name)
        return v

    def obj(self, d: Mapping[str, Any], name: str) -> dict[str, Any] | None:
        v = d.get(name)
        if v is not None and not isinstance(v, dict):
            raise self.fail(f"{name} {v!r} is not an object", name)
        return v

    def count(self, d: Mapping[str, Any], name: str) -> int | None:
        v = d.get(name)
        if v is not None and not (_is_int(v) and v >= 0):
            raise self.fail(f"{name} {v!r} is not a non-negative integer", name)
        return v

    def order(self, v: Any) -> tuple[int, ...]:
        v = v or []
        if not isinstance(v, list) or not all(_is_int(x) for x in v):
            raise self.fail(f"order {v!r} is not a list of slot numbers", "order")
        return tuple(v)

    def repeat(self, v: Any) -> int:
        v = v or 0
        if not _is_int(v) or v < 0:
            raise self.fail(f"repeat {v!r} is not a non-negative integer", "repeat")
        return int(v)

    def outcomes(self, v: Any, setting: str | None) -> tuple[Outcome, ...]:
        if not isinstance(v, list):
            raise self.fail("must be a list of outcomes", "outcomes")
        return tuple(self.outcome(o, setting, f"outcomes[{j}]") for j, o in enumerate(v))

    def outcome(self, o: Any, setting: str | None, fld: str) -> Outcome:
        if not isinstance(o, dict):
            raise self.fail("must be an object", fld)
        rubric, parsed_by = str(o.get("rubric", "*")), str(o.get("parsed_by") or "")
        if "failure" in o:
            if o["failure"] not in FAILURE_KINDS:
                raise self.fail(f"unknown failure kind {o['failure']!r}", fld + ".failure")
            return Failure(o["failure"], str(o.get("detail", "")), rubric, parsed_by)
        if "value" not in o:
            raise self.fail("outcome has neither value nor failure", fld)
        value = check_value(setting, o["value"], file=self.file, row=self.line, field=fld + ".value")
        probs = o.get("probs")
        return Verdict(rubric, value, str(o.get("comment") or ""), probs if isinstance(probs, dict) else None,
                       _number(o.get("expected")), parsed_by, self.steps(o.get("steps"), fld + ".steps"))

    def steps(self, v: Any, fld: str) -> tuple[tuple[str, str | None], ...] | None:
        """Process judging's per-step verdicts (``[{step, verdict, error_type}]``, step 1 first)."""
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(x, dict) and "verdict" in x for x in v):
            raise self.fail("must be a list of {step, verdict, error_type} objects", fld)
        return tuple((str(x["verdict"]), _opt_str(x.get("error_type"))) for x in v)


__all__ = ["RunRecord", "check_value", "record_attempt", "supersedes"]
