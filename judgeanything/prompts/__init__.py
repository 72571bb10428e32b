"""Judge prompts: setting (score / pair / batch) × mode (overall / rubrics / checklist) × rubric set.

Templates, rubric definitions and task descriptions are versioned data under ``conf/prompts/<version>/``
(Jinja2 + YAML, our own wording; the rubric set follows Judge Anything §3.2). :func:`build_prompt` turns an
item (responses already in presentation order) into a :class:`~judgeanything.schema.Prompt` whose parts
interleave text and media slots, and whose ``output_schema`` is the JSON schema of the expected answer.
"""

from judgeanything.prompts._answer import (
    ANSWER_SUFFIX,
    LETTERS,
    comment_key,
    output_schema,
    render_answer,
    verdict_key,
)
from judgeanything.prompts._builder import build_prompt, data_fence, describe_task, query_fence
from judgeanything.prompts._templates import (
    DEFAULT_TEMPLATE_DIR,
    PROMPT_VERSION,
    PromptError,
    RubricSpec,
    load_rubrics,
)

__all__ = [
    "ANSWER_SUFFIX",
    "DEFAULT_TEMPLATE_DIR",
    "LETTERS",
    "PROMPT_VERSION",
    "PromptError",
    "RubricSpec",
    "build_prompt",
    "comment_key",
    "data_fence",
    "describe_task",
    "load_rubrics",
    "output_schema",
    "query_fence",
    "render_answer",
    "verdict_key",
]
