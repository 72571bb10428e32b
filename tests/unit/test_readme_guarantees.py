"""The README's promises point at tests that exist: every test named in the Guarantees table ("proved by") is a
test function in that file (parametrised ones included), and every marker the README's testing section tells a
user to select is declared in pyproject.toml. A test renamed or removed without updating the README fails
here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n#", start + len(title))
    return README[start:] if end < 0 else README[start:end]


def _guarantee_refs() -> list[str]:
    """The ``tests/...`` references of the table's last column, in order."""
    refs = []
    for row in _section("### Guarantees").splitlines():
        if row.startswith("| **"):
            refs += re.findall(r"`(tests/[^`]+)`", row.rsplit("|", 2)[-2])
    return refs


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and n.name.startswith("test")}


def test_every_guarantee_names_tests_that_exist() -> None:
    refs = _guarantee_refs()
    assert len(refs) >= 15, refs  # the table was read (8 guarantees, most with several tests)
    missing = []
    for ref in refs:
        file, _, name = ref.partition("::")
        path = REPO / file
        if not path.is_file():
            missing.append(f"{ref}: no such file")
        elif name and name not in _test_functions(path):
            missing.append(f"{ref}: no test {name} in {file}")
        elif not name and not _test_functions(path):
            missing.append(f"{ref}: no test in {file}")
    assert missing == []


def test_the_markers_the_readme_selects_are_declared(pytestconfig: pytest.Config) -> None:
    declared = {m.split(":")[0] for m in pytestconfig.getini("markers")}
    used = set(re.findall(r'pytest -m "?(?:not )?(\w+)', README))
    assert used and used <= declared, (used, declared)
