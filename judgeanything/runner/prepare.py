"""Request preparation: a unit → the prompt, its decoded media, adapted to what the judge can take.

One unit becomes either a :class:`~judgeanything.judges.base.JudgeRequest` (responses in presentation order,
media decoded through the run's :class:`~judgeanything.modalities.cache.MediaCache`, parts a judge cannot see
downgraded where configured) or an :class:`Unprepared` naming the typed failure (``media_error``,
``unsupported_modality``) that the runner logs for that unit without calling the judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from judgeanything.errors import RunConfigError
from judgeanything.judges.base import Judge, JudgeRequest
from judgeanything.judges.capabilities import UnsupportedModality, adapt_parts
from judgeanything.modalities.base import Encoded, MediaError
from judgeanything.modalities.cache import MediaCache
from judgeanything.orders import present
from judgeanything.prompts import PromptError, build_prompt
from judgeanything.runner.units import Unit
from judgeanything.schema import DEFAULT_SCORE_SCALE, Failure, Prompt, ScoreScale, TextPart


@dataclass(frozen=True)
class Unprepared:
    """A unit whose request could not be built: the failure to log for every rubric, and the prompt version."""

    prompt_version: str
    failure: Failure


class RequestPreparer:
    """Builds the requests of one run (one judge, mode, rubric set and prompt version).

    Args:
        judge: the judge (its ``needs_media``, ``capabilities`` and optional ``downgrades`` decide the parts).
        cache: the run's media cache (decodes and measures each media file once).
        mode, rubrics, prompt_version: the prompt to build (``conf/prompts/<version>/``).
        scale: the score scale the prompt asks for (score setting).
        parse: the run's parsing strategy (``judge.parse``), carried on each request for judges that read
            raw text themselves.
    """

    def __init__(self, judge: Judge, cache: MediaCache, *, mode: str, rubrics: Sequence[str],
                 prompt_version: str, scale: ScoreScale = DEFAULT_SCORE_SCALE, parse: str = "auto") -> None:
        self.judge, self.cache = judge, cache
        self.mode, self.rubrics, self.prompt_version = mode, tuple(rubrics), prompt_version
        self.scale, self.parse = scale, parse

    def prepare(self, unit: Unit, sizes: Sequence[Mapping[str, float]]) -> JudgeRequest | Unprepared:
        """The request of ``unit`` (``sizes``: its item's response sizes in dataset order, or empty).

        Raises:
            RunConfigError: the item cannot be put into a prompt (e.g. ``mode=checklist`` without a checklist);
                the message names the item.
        """
        item = present(unit.item, unit.order)
        try:
            prompt = build_prompt(item, self.mode, self.rubrics, version=self.prompt_version, scale=self.scale)
        except PromptError as e:  # bad item data: stop with the item named; the log so far is kept
            raise RunConfigError(f"item {unit.item.item_id!r} ({unit.item.query.task_name}): {e}") from e
        req = JudgeRequest(key=unit.key, item=item, prompt=prompt, order=unit.order, repeat=unit.repeat,
                           sizes=[sizes[i] for i in unit.order] if sizes else [], parse=self.parse)
        if not self.judge.needs_media:
            return req
        return self._attach_media(req, prompt)

    def _attach_media(self, req: JudgeRequest, prompt: Prompt) -> JudgeRequest | Unprepared:
        """Decode the prompt's media into ``req.parts`` and record provenance and downgrades in ``req.meta``."""
        parts: list[TextPart | Encoded] = []
        try:
            for p in prompt.parts:
                parts.extend((p,) if isinstance(p, TextPart) else self.cache.encode_parts(p.ref, p.role))
            adapted, downgrades = adapt_parts(parts, self.judge.capabilities,
                                              getattr(self.judge, "downgrades", None), judge=self.judge.name)
        except MediaError as e:
            return Unprepared(prompt.version, Failure("media_error", str(e)))
        except UnsupportedModality as e:
            return Unprepared(prompt.version, e.to_failure())
        req.parts = adapted
        req.meta["downgrades"] = downgrades
        req.meta["media"] = [dict(p.provenance, role=p.role, modality=p.modality)
                             for p in adapted if not isinstance(p, TextPart)]
        self.judge.prebuild(req)  # here, in the preparation thread: media payloads off the event loop
        return req


__all__ = ["RequestPreparer", "Unprepared"]
