"""The judge interface (docs/architecture.md §1 step 5, §4 "A judge").

A judge receives :class:`JudgeRequest` s whose responses are already in *presentation order* (the runner
swaps or permutes them and maps the verdicts back), and returns one :class:`JudgeResult` per request, in
the same order. A judge either returns raw text for :mod:`judgeanything.parsing` to read, or (baselines,
replay, token-probability verdicts) structured ``outcomes`` directly. A transport or server fault is a
``Failure("api_error")`` in ``failure``; a judge never raises for one item's fault.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from judgeanything.modalities.base import Encoded
from judgeanything.schema import Failure, Item, Outcome, Prompt, TextPart


class JudgeConfigError(ValueError):
    """A judge is misconfigured (missing model path, missing API key variable, unknown option)."""


@dataclass
class JudgeRequest:
    """One judging unit as the judge sees it.

    ``item``: the item with its responses in presentation order (``order[k]`` is the dataset slot shown in
    position ``k``). ``parts``: the prompt's content with media decoded, in prompt order (empty for judges
    with ``needs_media = False``). ``sizes``: per presented response, the size features of
    :meth:`~judgeanything.modalities.base.ModalityEncoder.measure` (``chars``, ``duration_s``…).
    ``payload``: what the judge built from the request ahead of time (:meth:`Judge.prebuild`), for its own use.
    ``parse``: the run's parsing strategy for raw text (``judge.parse``, :data:`judgeanything.parsing.STRATEGIES`),
    for a judge that reads an answer's text itself (the cascade reads its fast stage's).
    """

    key: str
    item: Item
    prompt: Prompt
    order: tuple[int, ...] = (0,)
    repeat: int = 0
    parts: Sequence[TextPart | Encoded] = ()
    sizes: Sequence[Mapping[str, float]] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    payload: Any = field(default=None, repr=False, compare=False)
    parse: str = "auto"


@dataclass
class JudgeResult:
    """What came back for one request.

    ``raw``: the model's text (kept verbatim in the run log). ``finish_reason``: e.g. ``"stop"``,
    ``"length"`` (→ ``truncated``). ``outcomes``: structured verdicts, when the judge produces them itself.
    ``failure``: a whole-request failure (``api_error``, ``safety_block``, ``media_error``,
    ``unsupported_modality``). ``usage``: token counts. ``latency_s``: wall seconds for this request
    (a batched call's time divided evenly). ``model``: the model id/snapshot that answered.
    ``fault``: the exception behind an ``api_error`` failure, for :meth:`Judge.is_transient` /
    :meth:`Judge.is_overload` (never written to the run log). ``retry_after_s``: how long the server asked
    us to wait before trying again (``Retry-After`` / ``retry-after-ms``), if it said.
    """

    raw: str = ""
    finish_reason: str | None = None
    outcomes: list[Outcome] | None = None
    failure: Failure | None = None
    usage: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    model: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    fault: BaseException | None = field(default=None, repr=False, compare=False)
    retry_after_s: float | None = None


class Judge(abc.ABC):
    """Base class of every judge backend (instantiated by Hydra from ``conf/judge/*.yaml``).

    Attributes:
        name: the judge's display name in reports and leaderboards.
        kind: ``api`` / ``local`` / ``smoke`` / ``replay`` / ``baseline`` (shown in leaderboards).
        capabilities: modalities the judge accepts natively (``{"text", "image"}``…).
        needs_media: whether requests must carry decoded media parts (False for baselines/replay).
        batch_size: how many requests one ``judge`` call should receive.
        concurrency: how many ``judge`` calls may run at once.
        settings: the settings this judge supports.
        max_attempts: tries per request when a fault is transient (:meth:`is_transient`); the runner's
            retry policy (:mod:`judgeanything.retry`) does the retrying, for every backend alike.
        max_wait_s: the longest wait between two tries (caps exponential backoff and ``Retry-After``).
    """

    name: str = "judge"
    #: what the judge is, for leaderboards: ``api``, ``local``, ``smoke`` (random weights), ``replay``, ``baseline``
    kind: str = "judge"
    capabilities: frozenset[str] = frozenset({"text"})
    needs_media: bool = True
    batch_size: int = 1
    concurrency: int = 1
    settings: frozenset[str] = frozenset({"score", "pair", "batch"})
    max_attempts: int = 1
    max_wait_s: float = 60.0

    def is_transient(self, fault: BaseException | Failure) -> bool:
        """Whether trying the same request again may succeed (rate limit, timeout, 5xx, a garbled 200…).

        Called by the runner's retry policy with the exception behind a failed result
        (:attr:`JudgeResult.fault`, or what :meth:`judge` raised), else with the result's
        :class:`~judgeanything.schema.Failure`. The default: nothing is transient (local judges fail
        deterministically)."""
        return False

    def is_overload(self, fault: BaseException | Failure) -> bool:
        """Whether a fault says the server is overloaded (429, a timeout, 503): the adaptive concurrency
        window shrinks on these (:mod:`judgeanything.ratecontrol`). Default: never."""
        return False

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this judge's outputs for caching/resume (model, snapshot, sampling). No secrets."""
        return {"name": self.name}

    @abc.abstractmethod
    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        """Judge a batch of requests; one result per request, in order."""

    def notes(self) -> list[str]:
        """Plain-language facts about this judge for the run's report (e.g. "random weights")."""
        return []

    def prebuild(self, req: JudgeRequest) -> None:  # noqa: B027 - optional hook
        """Build what a request needs before it is sent (e.g. base64 media payloads) into ``req.payload``.

        The runner calls it where it prepares the request, ahead of sending (:mod:`judgeanything.runner.stages`):
        in a worker thread when a medium of the request is decoded for the first time, on the event loop when
        all are decoded already (then it should cost no more than a lookup: cache what it builds by content).
        It must not raise for one request's fault: leave ``payload`` unset and let :meth:`judge` report it."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources (HTTP clients, models)."""
