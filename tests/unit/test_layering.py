"""The package's layers (docs/architecture.md §2): no module imports a layer above its own.

Every ``import`` / ``from … import`` in ``judgeanything/`` — at module level or inside a function — is read with
``ast`` (an import-graph check needs only the syntax tree; import-linter would add a tool and a config for the
same 40 lines) and mapped to its top-level unit (``judgeanything.analysis.metrics`` → ``analysis``). A unit in
:data:`ALLOWED` may import only the units listed for it; a unit not in the table is an entry point.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "judgeanything"

_BASE = {"schema", "errors", "text", "jsonsafe"}
#: unit → the other units it may import (docs/architecture.md §2 states the same table)
ALLOWED: dict[str, set[str]] = {
    "schema": set(),
    "errors": set(),
    "text": set(),
    "jsonsafe": set(),
    "redaction": set(),
    "usage": _BASE | {"store"},
    "budget": {"usage", "schema"},
    "modalities": _BASE,
    "datasets": _BASE | {"modalities"},
    "prompts": _BASE,
    "parsing": _BASE,
    "orders": _BASE,
    "store": _BASE | {"redaction"},
    "models": {"schema"},
    "judges": _BASE | {"redaction", "modalities", "prompts", "parsing", "orders", "models", "usage"},
    "ratecontrol": _BASE | {"judges", "modalities"},
    "retry": _BASE | {"judges", "modalities", "ratecontrol"},
    "cache": _BASE | {"judges", "modalities", "redaction", "store", "usage"},
    "shard": _BASE | {"store"},
    "runner": _BASE | {"redaction", "usage", "budget", "modalities", "datasets", "prompts", "parsing", "orders",
                       "store", "judges", "ratecontrol", "retry", "cache", "shard"},
    "analysis": _BASE | {"store", "usage"},
    "report": _BASE | {"analysis", "store", "modalities", "redaction"},
    "checklists": _BASE | {"judges", "modalities", "prompts", "parsing", "retry", "ratecontrol", "store",
                           "redaction"},
    # setting=rules (constitutions, rule prompts and probes, contrast checks) is one vertical feature
    "rules": _BASE | {"datasets", "modalities", "prompts", "judges", "parsing"},
    # process judging (ProJudge): cases, the ProJudgeBench loader, probes, baselines and their check command
    # (its prompt layout and its judge set-up: baselines by definition, text judges read per step)
    "process": _BASE | {"datasets", "parsing", "analysis", "prompts", "judges"},
}
#: Known imports against the layers, each a debt to pay (not a permission for more): the generic prompt builder
#: and probe suite dispatch ``setting=rules`` to :mod:`judgeanything.rules` by a lazy import, and the prompt
#: builder and probe suite ``setting=process`` to :mod:`judgeanything.process`; a registry of settings (prompt
#: layout, probe family) would remove all four.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = {("prompts", "rules"), ("datasets", "rules"), ("prompts", "process"),
                                          ("datasets", "process")}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imported_units(source: str, module: str, is_package: bool = False) -> set[str]:
    """The ``judgeanything`` units that ``source`` (the text of ``module``) imports, its own excepted."""
    here = module.split(".")
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = here[: len(here) - node.level + (1 if is_package else 0)]
                names = [".".join(base + ([node.module] if node.module else []))]
            elif node.module:
                names = [node.module]
            if names == ["judgeanything"]:  # ``from judgeanything import store``: the names are the units
                names = [f"judgeanything.{a.name}" for a in node.names]
        out |= {_unit(n) for n in names if n == "judgeanything" or n.startswith("judgeanything.")}
    return out - {_unit(module)}


def violations(unit: str, imported: set[str]) -> set[str]:
    if unit not in ALLOWED:
        return set()
    return {u for u in imported - ALLOWED[unit] if (unit, u) not in KNOWN_EXCEPTIONS}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for p in sorted(PKG.rglob("*.py")):
        parts = ("judgeanything", *p.relative_to(PKG).with_suffix("").parts)
        out.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), p))
    return out


def test_no_module_imports_against_the_layering():
    bad = []
    for module, path in _modules():
        unit = _unit(module)
        wrong = violations(unit, imported_units(path.read_text(encoding="utf-8"), module,
                                                path.name == "__init__.py"))
        bad += [f"{module} imports judgeanything.{w} (a {unit!r} module may import: "
                f"{', '.join(sorted(ALLOWED[unit])) or 'nothing'})" for w in sorted(wrong)]
    assert not bad, "imports against docs/architecture.md §2:\n" + "\n".join(bad)


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("judgeanything.analysis.metrics", "from judgeanything.runner import Runner", {"runner"}),
    ("judgeanything.analysis.metrics", "def f():\n    import judgeanything.judges.base\n", {"judges"}),
    ("judgeanything.analysis.metrics", "from ..judges import base", {"judges"}),
    ("judgeanything.schema", "from judgeanything import store", {"store"}),
    ("judgeanything.analysis.metrics", "from judgeanything.store import RUN\nfrom . import units", set()),
])
def test_the_check_sees_every_form_of_import(module, source, expected):
    assert violations(_unit(module), imported_units(source, module)) == expected


def test_the_table_names_only_units_that_exist():
    units = {_unit(m) for m, _ in _modules()}
    assert set(ALLOWED) <= units
    assert set().union(*ALLOWED.values()) <= units
