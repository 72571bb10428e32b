"""The prompt that asks a judge model to write per-rubric checklists for one query (Judge Anything §3.3:
checklists are written per query, then given to the judge in ``mode=checklist``).

Templates ``checklist_generate.j2`` / ``checklist_system.j2`` of the prompt version folder; the query's
media are placed as in a judging prompt (``MediaSlot(role="query")``, in ``query.media`` order).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judgeanything.prompts._builder import (
    _IMAGE_MARKER_RE,
    _clean,
    _Slots,
    _to_parts,
    _unfenced,
    describe_task,
    query_fence,
    squeeze_blank_lines,
)
from judgeanything.prompts._templates import PROMPT_VERSION, PromptError, load_rubrics, render, version_dir
from judgeanything.schema import Prompt, Query, TaskType

TEMPLATE = "checklist_generate.j2"
SYSTEM = "checklist_system.j2"


def checklist_schema(rubrics: Sequence[str], max_items: int) -> dict[str, Any]:
    """JSON schema of the answer: one list of at most ``max_items`` strings per rubric."""
    return {"type": "object", "additionalProperties": False, "required": list(rubrics),
            "properties": {r: {"type": "array", "items": {"type": "string"}, "maxItems": max_items}
                           for r in rubrics}}


def build_checklist_prompt(query: Query, rubrics: Sequence[str], *, max_items: int = 5, max_words: int = 25,
                           version: str = PROMPT_VERSION, template_dir: Path | None = None) -> Prompt:
    """Render the checklist-writing prompt for one query.

    The request's text is fenced as in a judging prompt (:func:`~judgeanything.prompts.query_fence`; the
    templates of v1 ignore the fence and keep their triple quotes).

    Returns:
        A :class:`~judgeanything.schema.Prompt` with ``setting="score"`` (one unit, no responses),
        ``mode="checklist"``, ``version`` ``"<version>/checklist_generate"`` and the JSON schema of
        :func:`checklist_schema` as ``output_schema``.

    Raises:
        PromptError: an unknown rubric, a missing template, or a template that misplaces media.
    """
    known = load_rubrics(version, template_dir)
    unknown = [r for r in rubrics if r not in known]
    if unknown or not rubrics:
        raise PromptError(f"checklists: unknown or no rubric(s) {unknown}; known: {sorted(known)}")
    vdir = version_dir(version, template_dir)
    task = TaskType.parse(query.task_name)
    slots = _Slots()
    # v2 on: the instruction and reference sit between markers tagged from the query's content, exactly as
    # in a judging prompt (issue 8 item 9), so an instruction cannot forge "## Criteria" or "## Answer format".
    fence = query_fence(query)
    question = _unfenced(_clean(query.question).strip(), fence)
    markers = frozenset(int(k) for k in _IMAGE_MARKER_RE.findall(question))
    context: dict[str, Any] = {
        "setting": "score", "mode": "checklist", "n": 0,
        "task": {"name": task.name, "inputs": list(task.inputs), "output": task.output, "family": task.family,
                 "guidance": describe_task(task.name, version=version, template_dir=template_dir)},
        "question": question,
        "reference": _unfenced(_clean(query.reference).strip(), fence) if query.reference else None,
        "fence": fence,
        "query_media": slots.media_context(query.media, "query", markers=markers),
        "criteria": [{"name": r, "title": known[r].title, "description": known[r].description} for r in rubrics],
        "max_items": int(max_items), "max_words": int(max_words),
    }
    parts = _to_parts(render(vdir, TEMPLATE, context), slots.slots, str(vdir / TEMPLATE))
    system = squeeze_blank_lines(render(vdir, SYSTEM, context)).strip()
    return Prompt(setting="score", mode="checklist", rubrics=tuple(rubrics), system=system, parts=parts,
                  version=f"{version}/checklist_generate", output_schema=checklist_schema(rubrics, max_items),
                  n_responses=0)
