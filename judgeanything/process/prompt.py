"""The process-judging prompt (ProJudge, arXiv 2503.06553): the problem (its text fenced as data, its figures),
the solution's steps each fenced as data, ProJudgeBench's seven error types, and the per-step JSON answer
(``conf/prompts/<version>/process_overall.j2``; v2 on: v1 has no process template)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judgeanything.prompts._builder import _clean, _Slots, _to_parts, _unfenced, data_fence
from judgeanything.prompts._templates import PROMPT_VERSION, render, version_dir
from judgeanything.schema import ERROR_TYPES, OVERALL, STEP_VERDICTS, ProcessItem, Prompt

TEMPLATE = "process_overall.j2"


def process_output_schema(n_steps: int) -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of the per-step answer: ``{"steps": [{"step", "comment", "verdict",
    "error_type"}, ...]}`` with exactly ``n_steps`` entries."""
    step = {"type": "object", "additionalProperties": False,
            "required": ["step", "comment", "verdict", "error_type"],
            "properties": {"step": {"type": "integer", "minimum": 1, "maximum": n_steps},
                           "comment": {"type": "string"},
                           "verdict": {"type": "string", "enum": list(STEP_VERDICTS)},
                           "error_type": {"type": ["string", "null"], "enum": [*ERROR_TYPES, None]}}}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "judge_process_answer",
            "type": "object", "additionalProperties": False, "required": ["steps"],
            "properties": {"steps": {"type": "array", "items": step, "minItems": n_steps, "maxItems": n_steps}}}


def build_process_prompt(item: ProcessItem, *, version: str = PROMPT_VERSION,
                         template_dir: Path | None = None) -> Prompt:
    """The prompt asking for a verdict on each of ``item.steps``; one rubric, ``overall``.

    Raises:
        PromptError: the version has no process template (v1), or a template problem.
    """
    vdir = version_dir(version, template_dir)
    slots = _Slots()
    fence = data_fence(item)
    context = {"setting": "process", "mode": OVERALL, "n": 0, "fence": fence,
               "question": _unfenced(_clean(item.query.question).strip(), fence),
               "steps": [_unfenced(_clean(s).strip(), fence) for s in item.steps],
               "error_types": dict(ERROR_TYPES),
               "query_media": slots.media_context(item.query.media, "query")}
    parts = _to_parts(render(vdir, TEMPLATE, context), slots.slots, str(vdir / TEMPLATE))
    return Prompt(setting="process", mode=OVERALL, rubrics=(OVERALL,),
                  system=render(vdir, "system.j2", context).strip(), parts=parts,
                  version=f"{version}/process_overall", output_schema=process_output_schema(len(item.steps)),
                  n_responses=0)


__all__ = ["TEMPLATE", "build_process_prompt", "process_output_schema"]
