"""Loading the versioned prompt data: Jinja2 templates, rubric definitions and task descriptions.

Layout (``conf/prompts/<version>/``)::

    system.j2                     the system text
    <setting>_<mode>.j2           one user template per setting × mode
                                  (score|pair|batch × overall|rubrics|checklist)
    _macros.j2                    shared building blocks
    rubrics.yaml                  rubric name → {title, description, levels: {1..5: text}}
    tasks.yaml                    modality nouns, a generic task sentence, and per-task-type guidance

Everything is read once per directory (and re-read when a file changes), through jinja2 with
``StrictUndefined`` so a template that uses a missing variable fails loudly instead of rendering blanks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from judgeanything.schema import SCORE_MAX, SCORE_MIN, SchemaError

#: The prompt version runs use by default. v2 fences every data text between markers tagged from the
#: item's content (issue 8 item 9); v1 (triple quotes) is kept so earlier runs stay reproducible.
PROMPT_VERSION = "v2"
#: The templates shipped with the package: ``judgeanything/conf/prompts``.
DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "conf" / "prompts"

_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RUBRIC_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class PromptError(ValueError):
    """A prompt cannot be built: unknown setting/mode/rubric, missing template or checklist, an item whose
    response has no content, or a template that misplaces media. The message names what is wrong."""


@dataclass(frozen=True)
class RubricSpec:
    """One judging criterion of ``rubrics.yaml``: ``levels`` maps each score 1..5 to its description."""

    name: str
    title: str
    description: str
    levels: Mapping[int, str]


@dataclass(frozen=True)
class TaskTexts:
    """The contents of ``tasks.yaml``: modality nouns, the generic sentence, per-task guidance."""

    modalities: Mapping[str, str]
    generic: str
    tasks: Mapping[str, str]


def version_dir(version: str, template_dir: Path | None = None) -> Path:
    """The folder holding one prompt version: ``<template_dir or DEFAULT_TEMPLATE_DIR>/<version>``.

    Raises:
        PromptError: the version is not a plain folder name, or the folder does not exist.
    """
    found = _FOUND_VERSIONS.get((version, template_dir))
    if found is not None:  # every prompt asks three times; a folder found once is not looked up again
        return found
    if not _VERSION_RE.match(version or ""):
        raise PromptError(f"prompt version {version!r} must be a plain folder name such as 'v1'")
    root = Path(template_dir) if template_dir is not None else DEFAULT_TEMPLATE_DIR
    d = root / version
    if not d.is_dir():
        known = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise PromptError(f"prompt version folder {d} does not exist "
                          f"(versions under {root}: {known or 'none'})")
    _FOUND_VERSIONS[(version, template_dir)] = d
    return d


_FOUND_VERSIONS: dict[tuple[str, Path | None], Path] = {}


def _stamp(path: Path) -> int:
    """Modification time (ns) used in cache keys so edited files are re-read."""
    try:
        return path.stat().st_mtime_ns  # one system call (exists() then stat() was two, twice per prompt)
    except FileNotFoundError:
        return -1


def environment(vdir: Path) -> jinja2.Environment:
    """The jinja2 environment for one version folder (cached per folder).

    Plain-text output (no HTML autoescape), ``StrictUndefined``, ``trim_blocks`` and ``lstrip_blocks``.
    """
    return _environment(str(vdir))


@functools.lru_cache(maxsize=32)
def _environment(vdir: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(vdir),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=True,
    )


def render(vdir: Path, name: str, context: Mapping[str, Any]) -> str:
    """Render template ``name`` of ``vdir`` with ``context``.

    Raises:
        PromptError: the template is missing, has a syntax error or uses an undefined variable.
    """
    env = environment(vdir)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as e:
        raise PromptError(f"prompt template {vdir / name} not found (missing file: {e.name})") from e
    except jinja2.TemplateSyntaxError as e:
        raise PromptError(f"prompt template {e.filename or vdir / name}, line {e.lineno}: {e.message}") from e
    except jinja2.UndefinedError as e:
        raise PromptError(f"prompt template {vdir / name} uses an undefined value: {e.message}") from e


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise PromptError(f"prompt data file {path} not found")
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise SchemaError(f"invalid YAML: {e}", file=str(path)) from e


def load_rubrics(version: str = PROMPT_VERSION, template_dir: Path | None = None) -> dict[str, RubricSpec]:
    """Rubric name → :class:`RubricSpec` from ``<version>/rubrics.yaml``, in file order.

    Raises:
        PromptError: the version folder or the file is missing.
        SchemaError: an entry lacks ``title``/``description``/``levels``, or its levels are not exactly
            the integers 1..5 with non-empty texts (the message names the file and field).
    """
    path = version_dir(version, template_dir) / "rubrics.yaml"
    return _load_rubrics(str(path), _stamp(path))


@functools.lru_cache(maxsize=32)
def _load_rubrics(path_s: str, _mtime: int) -> dict[str, RubricSpec]:
    path = Path(path_s)
    data = _read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise SchemaError("expected a mapping of rubric name → definition", file=path_s)
    out: dict[str, RubricSpec] = {}
    for name, spec in data.items():
        if not isinstance(name, str) or not _RUBRIC_NAME_RE.match(name):
            raise SchemaError("rubric names must be lower_snake_case identifiers", file=path_s,
                              field=str(name))
        if not isinstance(spec, dict):
            raise SchemaError("expected a mapping with title, description, levels", file=path_s, field=name)
        for key in ("title", "description"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                raise SchemaError("missing or empty text", file=path_s, field=f"{name}.{key}")
        levels = spec.get("levels")
        want = set(range(SCORE_MIN, SCORE_MAX + 1))
        if (not isinstance(levels, dict) or len(levels) != len(want)
                or {k for k in levels if isinstance(k, int) and not isinstance(k, bool)} != want):
            raise SchemaError(f"levels must map exactly the integers {SCORE_MIN}..{SCORE_MAX} to texts",
                              file=path_s, field=f"{name}.levels")
        for k, v in levels.items():
            if not isinstance(v, str) or not v.strip():
                raise SchemaError("missing or empty level text", file=path_s, field=f"{name}.levels.{k}")
        out[name] = RubricSpec(name=name, title=spec["title"].strip(),
                               description=" ".join(spec["description"].split()),
                               levels={k: levels[k].strip() for k in sorted(levels)})
    return out


def load_task_texts(version: str = PROMPT_VERSION, template_dir: Path | None = None) -> TaskTexts:
    """The contents of ``<version>/tasks.yaml``.

    Raises:
        PromptError: the version folder or the file is missing.
        SchemaError: ``modalities``, ``generic`` or ``tasks`` is missing or of the wrong type.
    """
    path = version_dir(version, template_dir) / "tasks.yaml"
    return _load_task_texts(str(path), _stamp(path))


@functools.lru_cache(maxsize=32)
def _load_task_texts(path_s: str, _mtime: int) -> TaskTexts:
    data = _read_yaml(Path(path_s))
    if not isinstance(data, dict):
        raise SchemaError("expected a mapping with modalities, generic, tasks", file=path_s)
    mods, generic, tasks = data.get("modalities"), data.get("generic"), data.get("tasks")
    if not isinstance(mods, dict) or not all(isinstance(v, str) for v in mods.values()):
        raise SchemaError("expected a mapping of modality → noun phrase", file=path_s, field="modalities")
    if not isinstance(generic, str) or "{inputs}" not in generic or "{output}" not in generic:
        raise SchemaError("expected a sentence with {inputs} and {output} placeholders", file=path_s,
                          field="generic")
    if not isinstance(tasks, dict) or not all(isinstance(v, str) for v in tasks.values()):
        raise SchemaError("expected a mapping of task type → guidance text", file=path_s, field="tasks")
    return TaskTexts(modalities=dict(mods), generic=" ".join(generic.split()),
                     tasks={k: " ".join(v.split()) for k, v in tasks.items()})
