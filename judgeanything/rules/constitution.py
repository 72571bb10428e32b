"""Constitutions: the rule files of rule judging (CLUE, arXiv 2501.00192, §3.1).

A constitution is a YAML file::

    name: probes
    rules:
      - id: many_shapes                              # unique, [A-Za-z0-9_.-]+
        statement: The image shows more than three shapes.   # the violation, stated objectively
        preconditions: [The content is an image.]    # optional chain, asked in order
        negation: The image shows three shapes or fewer.     # optional (the `negated` contrast)
        probe: {fact: shape_count, op: ">", value: 3}         # optional: truth on the probe suite

``probe`` says how the rule's truth follows from a probe item's construction (:mod:`judgeanything.rules.probes`);
each precondition may be a string or ``{statement, probe}``. Unknown keys are errors (a typo would otherwise
silently change what is judged).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from judgeanything.schema import Rule, SchemaError

#: The constitution shipped with the package (rules true or false by construction on the probe suite).
DEFAULT_CONSTITUTION = Path(__file__).resolve().parent.parent / "conf" / "constitutions" / "probes.yaml"
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_RULE_KEYS = {"id", "statement", "preconditions", "negation", "probe"}
_PRE_KEYS = {"statement", "probe"}
OPS = (">", ">=", "<", "<=", "==", "!=", "contains", "not_contains")


@dataclass(frozen=True)
class ProbeCheck:
    """How a claim's truth follows from a probe item's facts: ``facts[fact] <op> value``."""

    fact: str
    op: str
    value: Any

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """The claim's truth for an item with ``facts`` (a missing fact: the claim is false)."""
        if self.fact not in facts:
            return False
        x = facts[self.fact]
        if self.op in ("contains", "not_contains"):
            return (self.value in x) == (self.op == "contains")
        ops = {">": x > self.value, ">=": x >= self.value, "<": x < self.value, "<=": x <= self.value,
               "==": x == self.value, "!=": x != self.value}
        return bool(ops[self.op])


@dataclass(frozen=True)
class Constitution:
    """A named list of rules, with optional probe truths per rule and per precondition."""

    name: str
    rules: tuple[Rule, ...]
    probes: Mapping[str, ProbeCheck] = field(default_factory=dict)  # rule id → check
    precondition_probes: Mapping[tuple[str, int], ProbeCheck] = field(default_factory=dict)
    path: str = ""

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"constitution {self.name!r} has no rule {rule_id!r}")


def _probe(d: Any, where: str, file: str) -> ProbeCheck:
    if not isinstance(d, Mapping) or set(d) != {"fact", "op", "value"}:
        raise SchemaError(f"{where}: probe must be {{fact, op, value}}, got {d!r}", file=file, field="probe")
    if d["op"] not in OPS:
        raise SchemaError(f"{where}: probe op {d['op']!r} is not one of {', '.join(OPS)}", file=file, field="probe")
    return ProbeCheck(str(d["fact"]), str(d["op"]), d["value"])


def _text(v: Any, where: str, file: str, name: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise SchemaError(f"{where}: {name} must be a non-empty string, got {v!r}", file=file, field=name)
    return v.strip()


def _rule(d: Any, k: int, file: str, seen: set[str]) -> tuple[Rule, ProbeCheck | None, dict[int, ProbeCheck]]:
    where = f"rule {k + 1}"
    if not isinstance(d, Mapping):
        raise SchemaError(f"{where} is a {type(d).__name__}, expected a mapping", file=file, row=k + 1)
    unknown = sorted(set(d) - _RULE_KEYS)
    if unknown:
        raise SchemaError(f"{where}: unknown key(s) {unknown} (known: {sorted(_RULE_KEYS)})", file=file, row=k + 1)
    rid = str(d.get("id", ""))
    if not _ID.match(rid) or rid in seen:
        raise SchemaError(f"{where}: id {rid!r} must be unique and match [A-Za-z0-9_.-]+", file=file, row=k + 1,
                          field="id")
    seen.add(rid)
    where = f"rule {rid!r}"
    pres: list[str] = []
    pre_probes: dict[int, ProbeCheck] = {}
    raw_pres = d.get("preconditions") or []
    if not isinstance(raw_pres, Sequence) or isinstance(raw_pres, str):
        raise SchemaError(f"{where}: preconditions must be a list", file=file, row=k + 1, field="preconditions")
    for j, p in enumerate(raw_pres):
        if isinstance(p, Mapping):
            if set(p) - _PRE_KEYS:
                raise SchemaError(f"{where}: precondition {j + 1} has unknown key(s) {sorted(set(p) - _PRE_KEYS)}",
                                  file=file, row=k + 1, field="preconditions")
            pres.append(_text(p.get("statement"), f"{where} precondition {j + 1}", file, "statement"))
            if p.get("probe") is not None:
                pre_probes[j] = _probe(p["probe"], f"{where} precondition {j + 1}", file)
        else:
            pres.append(_text(p, f"{where} precondition {j + 1}", file, "preconditions"))
    negation = d.get("negation")
    rule = Rule(rid, _text(d.get("statement"), where, file, "statement"), tuple(pres),
                _text(negation, where, file, "negation") if negation is not None else "")
    check = _probe(d["probe"], where, file) if d.get("probe") is not None else None
    return rule, check, pre_probes


def load_constitution(path: str | Path | None = None) -> Constitution:
    """Read a constitution file (``None``: the packaged probe constitution).

    Raises:
        SchemaError: a missing or unreadable file, or a bad rule (the message names the file, rule and field).
    """
    p = Path(path) if path is not None else DEFAULT_CONSTITUTION
    file = str(p)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise SchemaError(f"cannot read the constitution: {e}", file=file) from e
    except yaml.YAMLError as e:
        raise SchemaError(f"not valid YAML: {e}", file=file) from e
    if not isinstance(doc, Mapping) or not isinstance(doc.get("rules"), list) or not doc["rules"]:
        raise SchemaError("a constitution is a mapping with a non-empty list 'rules'", file=file, field="rules")
    seen: set[str] = set()
    rules, probes, pre = [], {}, {}
    for k, d in enumerate(doc["rules"]):
        rule, check, pre_probes = _rule(d, k, file, seen)
        rules.append(rule)
        if check is not None:
            probes[rule.id] = check
        pre.update({(rule.id, j): c for j, c in pre_probes.items()})
    return Constitution(str(doc.get("name") or p.stem), tuple(rules), probes, pre, file)


__all__ = ["DEFAULT_CONSTITUTION", "OPS", "Constitution", "ProbeCheck", "load_constitution"]
