"""The rule-judging prompt (CLUE, arXiv 2501.00192): the content (its description and media), then one yes/no
question — the rule's objective violation claim, or one of its preconditions.

The question is always the prompt's LAST text part and the media sit before it, so the relevance screen and the
``negated`` contrast (:mod:`judgeanything.rules.contrast`) ask another question about the same decoded media by
replacing that part alone (:func:`with_question`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

from judgeanything.prompts._answer import output_schema
from judgeanything.prompts._builder import _clean, _Slots, _to_parts, _unfenced, data_fence
from judgeanything.prompts._templates import PROMPT_VERSION, PromptError, render, version_dir
from judgeanything.schema import OVERALL, Prompt, RuleItem, TextPart, comment_key, verdict_key

QuestionKind = Literal["rule", "precondition"]


def question_text(statement: str, kind: QuestionKind = "rule", *, version: str = PROMPT_VERSION,
                  template_dir: Path | None = None) -> str:
    """The question part asking whether ``statement`` is true of the content (``rules_question.j2``).

    Raises:
        PromptError: the version has no rules templates, or the statement is empty.
    """
    if not statement.strip():
        raise PromptError("a rule question needs a non-empty statement")
    vdir = version_dir(version, template_dir)
    return render(vdir, "rules_question.j2", {"statement": _clean(statement).strip(), "kind": kind,
                                              "comment_key": comment_key(OVERALL),
                                              "verdict_key": verdict_key("rules", OVERALL)}).strip("\n")


def build_rule_prompt(item: RuleItem, *, version: str = PROMPT_VERSION, template_dir: Path | None = None,
                      statement: str | None = None, kind: QuestionKind = "rule") -> Prompt:
    """The prompt asking whether ``item.rule`` is violated by ``item.query``'s content (or, with
    ``statement``/``kind``, any other claim about it). One rubric, ``overall``; the answer is
    ``{"overall_comment": ..., "overall_violation": "yes"|"no"}``.

    Raises:
        PromptError: the version has no rules templates (v1), or a template problem.
    """
    vdir = version_dir(version, template_dir)
    slots = _Slots()
    fence = data_fence(item)
    question = _unfenced(_clean(item.query.question).strip(), fence)
    context = {"setting": "rules", "mode": OVERALL, "n": 0, "fence": fence, "question": question,
               "query_media": slots.media_context(item.query.media, "query")}
    body = _to_parts(render(vdir, "rules_overall.j2", context), slots.slots, str(vdir / "rules_overall.j2"))
    ask = question_text(statement if statement is not None else item.rule.statement, kind, version=version,
                        template_dir=template_dir)
    return Prompt(setting="rules", mode=OVERALL, rubrics=(OVERALL,),
                  system=render(vdir, "system.j2", context).strip(), parts=(*body, TextPart(ask)),
                  version=f"{version}/rules_overall", output_schema=output_schema("rules", (OVERALL,), 1),
                  n_responses=0)


def with_question(prompt: Prompt, text: str) -> Prompt:
    """``prompt`` with its last part (the question) replaced by ``text``.

    Raises:
        PromptError: the prompt's last part is not text (not a rules prompt).
    """
    if not prompt.parts or not isinstance(prompt.parts[-1], TextPart):
        raise PromptError(f"prompt {prompt.version} does not end with a question part")
    return replace(prompt, parts=(*prompt.parts[:-1], TextPart(text)))


__all__ = ["QuestionKind", "build_rule_prompt", "question_text", "with_question"]
