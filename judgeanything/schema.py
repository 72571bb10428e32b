"""The common schema every layer speaks (docs/architecture.md §2).

Nothing here imports another module of this package. Dataset adapters convert the conventions of their
source files into these types at the edge; everything downstream uses one internal convention:

* pair choices are ``"first"``, ``"tie"``, ``"second"`` (JudgeAnything's ``0/1/2`` and MLLM-as-a-Judge's
  ``A/B/C`` are converted when read);
* scores are integers on the 1–5 scale of the Judge Anything paper (§3.2);
* batch rankings are tuples of 0-based response slots, best first (MLLM-as-a-Judge's ``"CDAB"`` becomes
  ``(2, 3, 0, 1)``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

# --------------------------------------------------------------------------------------------------
# Modalities, task types, settings
# --------------------------------------------------------------------------------------------------

TEXT = "text"
IMAGE = "image"
AUDIO = "audio"
VIDEO = "video"
CORE_MODALITIES: tuple[str, ...] = (TEXT, IMAGE, AUDIO, VIDEO)

Setting: TypeAlias = Literal["score", "pair", "batch", "rules", "process"]
SETTINGS: tuple[str, ...] = ("score", "pair", "batch", "rules", "process")
Mode: TypeAlias = Literal["overall", "rubrics", "checklist"]
MODES: tuple[str, ...] = ("overall", "rubrics", "checklist")

OVERALL = "overall"
#: The six rubrics of the Judge Anything paper (§3.2), in the paper's order.
RUBRICS: tuple[str, ...] = (
    "relevance",
    "trustworthiness",
    "creativity",
    "clarity",
    "coherence",
    "completeness",
)

PairChoice: TypeAlias = Literal["first", "tie", "second"]
PAIR_CHOICES: tuple[str, ...] = ("first", "tie", "second")
SCORE_MIN, SCORE_MAX = 1, 5


@dataclass(frozen=True)
class ScoreScale:
    """The scale a score verdict is read on: integers ``min..max``, optionally with one named level per
    integer (``labels[0]`` names ``min``; e.g. ``("poor", "fair", "good")`` for 1..3).

    The default is the 1–5 scale of the Judge Anything paper (§3.2). Parsers never rescale: a score
    written on another scale (``8/10`` on 1–5) is ``out_of_range``.

    Raises:
        SchemaError: ``min > max``, or ``labels`` not one per integer of the scale.
    """

    min: int = SCORE_MIN
    max: int = SCORE_MAX
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise SchemaError(f"score scale min {self.min} is above max {self.max}")
        if self.labels and len(self.labels) != self.max - self.min + 1:
            raise SchemaError(f"score scale {self.min}..{self.max} needs {self.max - self.min + 1} labels, "
                              f"got {len(self.labels)}")

    def label_value(self, word: str) -> int | None:
        """The integer a named level stands for (case-insensitive), or None."""
        w = word.strip().lower()
        for k, label in enumerate(self.labels):
            if label.lower() == w:
                return self.min + k
        return None

    @property
    def values(self) -> tuple[int, ...]:
        """Every score of the scale, worst first."""
        return tuple(range(self.min, self.max + 1))

    def label(self, value: int) -> str:
        """The named level of ``value`` (``""`` on an unnamed scale)."""
        return self.labels[value - self.min] if self.labels else ""

    def to_scale(self, value: float, other: ScoreScale) -> float:
        """``value`` on this scale mapped linearly onto ``other`` (min → min, max → max)."""
        if self.max == self.min:
            return float(other.min)
        return other.min + (float(value) - self.min) * (other.max - other.min) / (self.max - self.min)

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max, "labels": list(self.labels)}

    @classmethod
    def parse(cls, spec: Any) -> ScoreScale:
        """A scale from config: ``None`` (1–5), ``"1-10"`` / ``"0-100"``, a list of named levels
        (``[poor, fair, good, excellent]`` → 1..4), or a mapping ``{min, max, labels}`` (labels alone →
        1..len(labels); ``min`` with labels → min..min+len−1).

        Raises:
            SchemaError: anything else, or an inconsistent scale.
        """
        if spec is None or isinstance(spec, ScoreScale):
            return spec or DEFAULT_SCORE_SCALE
        if isinstance(spec, str):
            m = re.fullmatch(r"\s*(-?\d+)\s*(?:-|–|\.\.|to)\s*(-?\d+)\s*", spec)
            if not m:
                raise SchemaError(f"score scale {spec!r}: expected 'min-max' such as '1-10'")
            return cls(int(m.group(1)), int(m.group(2)))
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"min", "max", "labels"}
            if unknown:
                raise SchemaError(f"score scale: unknown key(s) {sorted(unknown)}; expected min, max, labels")
            labels = tuple(str(x) for x in (spec.get("labels") or ()))
            lo = int(spec.get("min", SCORE_MIN))
            hi = int(spec["max"]) if spec.get("max") is not None and not labels else \
                (lo + len(labels) - 1 if labels else SCORE_MAX)
            if labels and spec.get("max") is not None and int(spec["max"]) != hi:
                raise SchemaError(f"score scale {lo}..{spec['max']} needs {int(spec['max']) - lo + 1} labels, "
                                  f"got {len(labels)}")
            if len({x.lower() for x in labels}) != len(labels) or any(not x.strip() for x in labels):
                raise SchemaError(f"score scale labels {list(labels)} must be distinct and non-empty")
            return cls(lo, hi, labels)
        if isinstance(spec, Sequence):
            return cls.parse({"labels": list(spec)})
        raise SchemaError(f"score scale {spec!r}: expected 'min-max', a list of level names or {{min, max, labels}}")


DEFAULT_SCORE_SCALE = ScoreScale()

#: The 15 TaskAnything task types (Judge Anything, Table 1): 5 MMU (text output) and 10 MMG.
TASK_TYPES: tuple[str, ...] = (
    "Text2Text",
    "Image2Text",
    "Video2Text",
    "Audio2Text",
    "AudioVideo2Text",
    "Text2Image",
    "Text2Video",
    "Text2Audio",
    "Image2Image",
    "Image2Video",
    "Image2Audio",
    "Video2Video",
    "Video2Audio",
    "Audio2Video",
    "Audio2Audio",
)

_TASK_RE = re.compile(r"^((?:[A-Z][a-z0-9]*)+)2([A-Z][a-z0-9]*)$")
_PART_RE = re.compile(r"[A-Z][a-z0-9]*")


class SchemaError(ValueError):
    """Bad input data. The message names the file, row and field when they are known."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None) -> None:
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        self.file, self.row, self.field = file, row, field
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass(frozen=True)
class TaskType:
    """A task type ``<inputs>2<output>`` such as ``AudioVideo2Text`` (inputs audio+video, output text).

    ``mmu`` (multimodal understanding) when the output is text, otherwise ``mmg`` (generation), as in the
    Judge Anything paper §3.1.
    """

    name: str
    inputs: tuple[str, ...]
    output: str

    @property
    def family(self) -> Literal["mmu", "mmg"]:
        return "mmu" if self.output == TEXT else "mmg"

    @property
    def non_text_inputs(self) -> tuple[str, ...]:
        return tuple(m for m in self.inputs if m != TEXT)

    @classmethod
    def parse(cls, name: str) -> TaskType:
        """Parse ``"Image2Video"`` → ``TaskType("Image2Video", ("image",), "video")``.

        Raises:
            SchemaError: the name is not of the form ``<Modality...>2<Modality>``.
        """
        m = _TASK_RE.match(name or "")
        if not m:
            raise SchemaError(f"unknown task type {name!r}; expected <Inputs>2<Output>, e.g. Image2Text "
                              f"(known: {', '.join(TASK_TYPES)})")
        inputs = tuple(p.lower() for p in _PART_RE.findall(m.group(1)))
        return cls(name=name, inputs=inputs, output=m.group(2).lower())


# --------------------------------------------------------------------------------------------------
# Media, queries, responses
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRef:
    """A reference to one media item of one modality.

    Exactly one source is set: ``path`` (relative to the dataset's data root), ``url``, ``data`` (raw
    bytes) or ``frames`` (a video given as an ordered list of image paths, e.g. the CoDi Audio2Video
    responses in JudgeAnything.json). ``text`` carries inline text for the text modality.
    """

    modality: str
    path: str | None = None
    url: str | None = None
    data: bytes | None = field(default=None, repr=False)
    frames: tuple[str, ...] = ()
    text: str | None = None

    def __post_init__(self) -> None:
        n = sum(x is not None for x in (self.path, self.url, self.data, self.text)) + bool(self.frames)
        if n != 1:
            raise SchemaError(f"MediaRef({self.modality}) needs exactly one of path/url/data/frames/text, got {n}")

    @property
    def label(self) -> str:
        """A short human-readable name (the path, the first frame, or the kind of source)."""
        if self.path is not None:
            return self.path
        if self.frames:
            return f"{self.frames[0]} (+{len(self.frames) - 1} frames)"
        if self.url is not None:
            return self.url[:80]
        return f"<{self.modality} {'bytes' if self.data is not None else 'text'}>"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"modality": self.modality}
        if self.path is not None:
            d["path"] = self.path
        if self.url is not None:
            d["url"] = self.url
        if self.data is not None:
            d["sha256"] = hashlib.sha256(self.data).hexdigest()
        if self.frames:
            d["frames"] = list(self.frames)
        if self.text is not None:
            d["text"] = self.text
        return d


@dataclass(frozen=True)
class Query:
    """One TaskAnything query: the instruction and its input media (in prompt order).

    ``checklist`` maps a rubric name (or ``"overall"``) to its checklist items (Judge Anything §3.3).
    """

    uniq_id: str
    task_name: str
    question: str
    media: tuple[MediaRef, ...] = ()
    reference: str | None = None
    checklist: Mapping[str, tuple[str, ...]] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> TaskType:
        return TaskType.parse(self.task_name)


@dataclass(frozen=True)
class Response:
    """One candidate response to a query: text, or media in the task's output modality."""

    response_id: str
    uniq_id: str
    model_name: str
    modality: str
    text: str | None = None
    media: tuple[MediaRef, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "response_id": self.response_id,
            "model_name": self.model_name,
            "modality": self.modality,
            "text": self.text,
            "media": [m.to_dict() for m in self.media],
        }


# --------------------------------------------------------------------------------------------------
# Judging units
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreItem:
    """Score evaluation of one response (1–5 per rubric)."""

    item_id: str
    query: Query
    response: Response
    meta: Mapping[str, Any] = field(default_factory=dict)
    setting: Literal["score"] = "score"

    @property
    def responses(self) -> tuple[Response, ...]:
        return (self.response,)


@dataclass(frozen=True)
class PairItem:
    """Pair comparison: ``response_a`` is the first response as the dataset forms the pair."""

    item_id: str
    query: Query
    response_a: Response
    response_b: Response
    meta: Mapping[str, Any] = field(default_factory=dict)
    setting: Literal["pair"] = "pair"

    @property
    def responses(self) -> tuple[Response, ...]:
        return (self.response_a, self.response_b)


@dataclass(frozen=True)
class BatchItem:
    """Batch ranking of N responses (MLLM-as-a-Judge §3); slots are 0-based in dataset order."""

    item_id: str
    query: Query
    responses: tuple[Response, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    setting: Literal["batch"] = "batch"


@dataclass(frozen=True)
class Rule:
    """One rule of a constitution (CLUE, arXiv 2501.00192, §3.1: objective rules with precondition chains).

    ``statement``: the *violation* stated objectively, as a claim about the content that is true exactly when
    the content violates the rule ("The image shows more than three shapes."). ``preconditions``: claims
    that must all hold for the rule to apply (the relevance screen asks them in order, and stops at the first
    that does not hold). ``negation``: the statement negated (the ``negated`` contrast input); empty = a
    generic negation of ``statement``.
    """

    id: str
    statement: str
    preconditions: tuple[str, ...] = ()
    negation: str = ""

    @property
    def negated(self) -> str:
        """The negated statement (``negation``, else "It is not the case that <statement>")."""
        if self.negation:
            return self.negation
        s = self.statement.strip()
        return f"It is not the case that {s[:1].lower()}{s[1:]}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "statement": self.statement, "preconditions": list(self.preconditions),
                "negation": self.negation}


#: Verdict values of the rules setting: ``"yes"`` (the content violates the rule) / ``"no"``.
RULE_VERDICTS: tuple[str, ...] = ("yes", "no")
#: The value recorded (and a label may carry) for a rule whose preconditions do not hold for the item.
NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class RuleItem:
    """Rule judging (CLUE): does the content in ``query`` (its media and text) violate ``rule``? One item per
    content × rule; ``responses`` is empty (nothing is compared)."""

    item_id: str
    query: Query
    rule: Rule
    meta: Mapping[str, Any] = field(default_factory=dict)
    setting: Literal["rules"] = "rules"

    @property
    def responses(self) -> tuple[Response, ...]:
        return ()


@dataclass(frozen=True)
class ProcessItem:
    """Process judging (ProJudge, arXiv 2503.06553): is each step of ``steps``, a solution to ``query``'s
    question (+ its media), correct, and when not, of which error type (:data:`ERROR_TYPES`)? ``responses`` is
    empty; the reference step labels are the item's labels (``meta["reference_steps"]``:
    ``[{"verdict", "error_type"}, ...]``, one per step), ``meta["discipline"]`` / ``meta["modality"]`` group
    the metrics."""

    item_id: str
    query: Query
    steps: tuple[str, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    setting: Literal["process"] = "process"

    @property
    def responses(self) -> tuple[Response, ...]:
        return ()


Item: TypeAlias = ScoreItem | PairItem | BatchItem | RuleItem | ProcessItem

LabelValue: TypeAlias = int | float | str | tuple[int, ...]


@dataclass(frozen=True)
class HumanLabel:
    """A human judgement of one item for one rubric (``"overall"`` or a rubric name).

    ``value``: an int 1–5 (score), a :data:`PairChoice` (pair) or a ranking tuple (batch).
    Several annotators per item are allowed (human–human ceiling).
    """

    item_id: str
    rubric: str
    value: LabelValue
    annotator: str = "human"

    def to_dict(self) -> dict[str, Any]:
        v = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"item_id": self.item_id, "rubric": self.rubric, "value": v, "annotator": self.annotator}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HumanLabel:
        v = d["value"]
        return cls(d["item_id"], d["rubric"], tuple(v) if isinstance(v, list) else v, d.get("annotator", "human"))


# --------------------------------------------------------------------------------------------------
# Verdicts and failures
# --------------------------------------------------------------------------------------------------

FailureKind: TypeAlias = Literal[
    "api_error",
    "refusal",
    "parse_fail",
    "out_of_range",
    "truncated",
    "safety_block",
    "media_error",
    "unsupported_modality",
]
FAILURE_KINDS: tuple[str, ...] = (
    "api_error",
    "refusal",
    "parse_fail",
    "out_of_range",
    "truncated",
    "safety_block",
    "media_error",
    "unsupported_modality",
)


@dataclass(frozen=True)
class Verdict:
    """A judge's verdict for one rubric, in the internal convention (see module docstring).

    ``probs`` (token-probability verdicts, CLUE-style): candidate → probability, summing to 1.
    ``expected``: the probability-weighted score (score setting) when ``probs`` is set.
    ``parsed_by``: which parsing strategy and rule read the verdict from the judge's text
    (``strict/json``, ``lenient/anchor``…; :mod:`judgeanything.parsing`); empty when the judge produced it
    directly (baselines, replay, token probabilities). Provenance only: not part of equality.
    """

    rubric: str
    value: LabelValue
    comment: str = ""
    probs: Mapping[str, float] | None = None
    expected: float | None = None
    parsed_by: str = field(default="", compare=False)
    #: process setting: the per-step verdicts ``((correct|incorrect, error type or None), ...)``, step 1 first
    #: (``value`` is then the first incorrect step, 1-based, 0 when every step is judged correct)
    steps: tuple[tuple[str, str | None], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"rubric": self.rubric,
                             "value": list(self.value) if isinstance(self.value, tuple) else self.value}
        if self.comment:
            d["comment"] = self.comment
        if self.probs is not None:
            d["probs"] = dict(self.probs)
        if self.expected is not None:
            d["expected"] = self.expected
        if self.parsed_by:
            d["parsed_by"] = self.parsed_by
        if self.steps is not None:
            d["steps"] = [{"step": i + 1, "verdict": v, "error_type": t} for i, (v, t) in enumerate(self.steps)]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        v = d["value"]
        steps = d.get("steps")
        return cls(d["rubric"], tuple(v) if isinstance(v, list) else v, d.get("comment", ""),
                   d.get("probs"), d.get("expected"), d.get("parsed_by", ""),
                   None if steps is None else tuple((str(x["verdict"]), x.get("error_type")) for x in steps))


@dataclass(frozen=True)
class Failure:
    """A judgement that produced no verdict. Never converted into a score.

    ``rubric`` is the rubric concerned, or ``"*"`` when the whole request failed. ``parsed_by``: the parsing
    strategy that found no usable verdict in the judge's text (``strict``, ``lenient``), empty for failures
    that did not come from parsing (``api_error``…). Provenance only: not part of equality.
    """

    kind: FailureKind
    detail: str
    rubric: str = "*"
    parsed_by: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAILURE_KINDS:
            raise SchemaError(f"unknown failure kind {self.kind!r}; known: {', '.join(FAILURE_KINDS)}")

    def to_dict(self) -> dict[str, Any]:
        d = {"rubric": self.rubric, "failure": self.kind, "detail": self.detail}
        if self.parsed_by:
            d["parsed_by"] = self.parsed_by
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Failure:
        return cls(d["failure"], d.get("detail", ""), d.get("rubric", "*"), d.get("parsed_by", ""))


Outcome: TypeAlias = Verdict | Failure


# --------------------------------------------------------------------------------------------------
# Prompts: what the prompt builder hands to the runner (media still unresolved)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextPart:
    """A run of prompt text."""

    text: str


@dataclass(frozen=True)
class MediaSlot:
    """Where one media item goes in the prompt. ``role`` says whose it is: ``"query"``, ``"response 1"``…"""

    ref: MediaRef
    role: str


@dataclass(frozen=True)
class Prompt:
    """A rendered judge prompt: a system text, then user content parts in order.

    ``output_schema`` is the JSON schema of the expected answer (generated from the rubric set, usable for
    structured output); ``version`` is the template version recorded with every verdict.
    """

    setting: str
    mode: str
    rubrics: tuple[str, ...]
    system: str
    parts: tuple[TextPart | MediaSlot, ...]
    version: str
    output_schema: Mapping[str, Any] = field(default_factory=dict)
    n_responses: int = 1
    #: the score scale the prompt asks for (score setting); parsers and token-probability readers use it
    scale: ScoreScale = field(default_factory=lambda: DEFAULT_SCORE_SCALE)

    @property
    def text(self) -> str:
        """The prompt with media shown as ``<role modality>`` markers (for hashing and display)."""
        return "".join(p.text if isinstance(p, TextPart) else f"<{p.role} {p.ref.modality}>" for p in self.parts)


# --------------------------------------------------------------------------------------------------
# The answer contract: the JSON a judge prompt asks for, and the one place its conventions live
# --------------------------------------------------------------------------------------------------

#: Suffix of the verdict key per setting: ``overall_score``, ``clarity_choice``, ``overall_ranking``.
ANSWER_SUFFIX: Mapping[str, str] = {"score": "score", "pair": "choice", "batch": "ranking", "rules": "violation",
                                   "process": "steps"}
#: Batch responses are labelled with these letters, in presentation order (MLLM-as-a-Judge's batch ranking).
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The pair code of the Judge Anything release, used in the prompt's ``<rubric>_choice``: ``"0"`` the first
#: response is better, ``"1"`` tie, ``"2"`` the second is better.
PAIR_CODE: Mapping[str, str] = {"0": "first", "1": "tie", "2": "second"}


def comment_key(rubric: str) -> str:
    """``"clarity"`` → ``"clarity_comment"``."""
    return f"{rubric}_comment"


def verdict_key(setting: str, rubric: str) -> str:
    """``("pair", "clarity")`` → ``"clarity_choice"``.

    Raises:
        ValueError: unknown setting.
    """
    if setting not in ANSWER_SUFFIX:
        raise ValueError(f"unknown setting {setting!r}; expected one of {', '.join(SETTINGS)}")
    return f"{rubric}_{ANSWER_SUFFIX[setting]}"


# --------------------------------------------------------------------------------------------------
# Label conversions at the dataset edge
# --------------------------------------------------------------------------------------------------

_JA_CHOICE = PAIR_CODE
_LETTER_CHOICE = {"A": "first", "B": "second", "C": "tie"}


def pair_choice_from_judgeanything(v: Any) -> str:
    """JudgeAnything pairing ``choice``: ``0`` first better, ``1`` tie, ``2`` second better.

    Raises:
        ValueError: anything else.
    """
    key = str(v).strip()
    if key not in _JA_CHOICE:
        raise ValueError(f"pair choice {v!r} is not one of 0 (first better), 1 (tie), 2 (second better)")
    return _JA_CHOICE[key]


def pair_choice_to_judgeanything(choice: str) -> str:
    """Inverse of :func:`pair_choice_from_judgeanything` (``"first"`` → ``"0"``)."""
    return {v: k for k, v in _JA_CHOICE.items()}[choice]


def pair_choice_from_letter(v: Any) -> str:
    """MLLM-as-a-Judge ``human_answer`` / ``result.judge``: ``A`` first, ``B`` second, ``C`` tie.

    Raises:
        ValueError: anything else.
    """
    key = str(v).strip().upper()
    if key not in _LETTER_CHOICE:
        raise ValueError(f"pair label {v!r} is not one of A (first), B (second), C (tie)")
    return _LETTER_CHOICE[key]


def swap_choice(choice: str) -> str:
    """The same choice seen from the other presentation order."""
    return {"first": "second", "second": "first", "tie": "tie"}[choice]


def ranking_from_letters(s: str, n: int | None = None) -> tuple[int, ...]:
    """``"CDAB"`` → ``(2, 3, 0, 1)`` (slots best first).

    Raises:
        ValueError: non-letters, repeated letters, or a letter beyond ``n`` slots.
    """
    letters = re.sub(r"[^A-Za-z]", "", str(s)).upper()
    if not letters:
        raise ValueError(f"ranking {s!r} has no letters")
    slots = tuple(ord(c) - ord("A") for c in letters)
    if len(set(slots)) != len(slots):
        raise ValueError(f"ranking {s!r} repeats a letter")
    if n is not None and max(slots) >= n:
        raise ValueError(f"ranking {s!r} names a slot beyond the {n} responses")
    return slots


def ranking_to_letters(r: Iterable[int]) -> str:
    """Inverse of :func:`ranking_from_letters`."""
    return "".join(chr(ord("A") + i) for i in r)


# --------------------------------------------------------------------------------------------------
# Process judging (ProJudge, arXiv 2503.06553): step verdicts and ProJudgeBench's seven error types
# --------------------------------------------------------------------------------------------------

#: Step verdicts, in the order the ``first`` baseline takes the first of.
STEP_VERDICTS: tuple[str, ...] = ("correct", "incorrect")
CORRECT, INCORRECT = STEP_VERDICTS

#: The seven error types of ProJudgeBench, with the paper's description.
ERROR_TYPES: Mapping[str, str] = {
    "reasoning": "a logical gap or invalid inference between steps",
    "visual_interpretation": "a misreading of a figure, diagram, chart or image",
    "numerical_calculation": "an arithmetic mistake",
    "symbolic_calculation": "a mistake manipulating algebraic or symbolic expressions",
    "knowledge": "a wrong or misapplied fact, formula or concept",
    "question_understanding": "a misreading of what the question gives or asks",
    "no_solution": "no solution given, or the instructions not followed",
}

@dataclass(frozen=True)
class StepLabel:
    """One step's label (or a judge's verdict on it): ``correct``/``incorrect`` and, when incorrect, the
    canonical error type (:data:`ERROR_TYPES`; ``None`` = not given).

    Raises:
        SchemaError: an unknown verdict or error type.
    """

    verdict: str
    error_type: str | None = None
    explanation: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in STEP_VERDICTS:
            raise SchemaError(f"step verdict {self.verdict!r} is not one of {STEP_VERDICTS}")
        if self.error_type is not None and self.error_type not in ERROR_TYPES:
            raise SchemaError(f"error type {self.error_type!r} is not one of {', '.join(ERROR_TYPES)}")

    @property
    def is_error(self) -> bool:
        return self.verdict == INCORRECT

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "error_type": self.error_type,
                **({"explanation": self.explanation} if self.explanation else {})}


_ERROR_ALIASES = {
    "reasoning": "reasoning", "logic": "reasoning", "logical": "reasoning",
    "visual interpretation": "visual_interpretation", "visual": "visual_interpretation",
    "image interpretation": "visual_interpretation", "visual perception": "visual_interpretation",
    "numerical calculation": "numerical_calculation", "numerical": "numerical_calculation",
    "calculation": "numerical_calculation", "arithmetic": "numerical_calculation",
    "computation": "numerical_calculation", "computational": "numerical_calculation",
    "symbolic calculation": "symbolic_calculation", "symbolic": "symbolic_calculation",
    "algebraic": "symbolic_calculation",
    "knowledge": "knowledge", "conceptual": "knowledge", "concept": "knowledge",
    "question understanding": "question_understanding", "question misunderstanding": "question_understanding",
    "misunderstanding": "question_understanding", "understanding": "question_understanding",
    "no solution provided": "no_solution", "no solution": "no_solution", "no_solution": "no_solution",
    "instruction": "no_solution",
}
_ERROR_SUFFIX = re.compile(r"\b(errors?|mistakes?|type)\b", re.I)


def error_type(name: object) -> str | None:
    """The canonical error type of a name (``"Numerical Calculation Error"`` → ``"numerical_calculation"``);
    ``None`` for an empty name or one that is not a ProJudgeBench error type."""
    if not isinstance(name, str):
        return None
    s = name.strip().lower().replace("_", " ").replace("-", " ")
    s = re.sub(r"\s+", " ", _ERROR_SUFFIX.sub("", s)).strip(" .:")
    if s.replace(" ", "_") in ERROR_TYPES:
        return s.replace(" ", "_")
    return _ERROR_ALIASES.get(s)


# --------------------------------------------------------------------------------------------------
# Stable ids and hashing
# --------------------------------------------------------------------------------------------------


def stable_hash(*parts: Any, n: int = 16) -> str:
    """A short hex SHA-256 of the JSON form of ``parts`` (stable across processes and platforms)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:n]


def item_seed(item_id: str, *salt: Any) -> int:
    """A 63-bit seed derived from an item id (order swaps, shuffles, seeded baselines)."""
    return int(stable_hash(item_id, *salt), 16) & ((1 << 63) - 1)


def item_to_dict(item: Item) -> dict[str, Any]:
    """A JSON-able description of an item (for the run's ``items.jsonl``)."""
    q = item.query
    d: dict[str, Any] = {
        "item_id": item.item_id,
        "setting": item.setting,
        "uniq_id": q.uniq_id,
        "task_name": q.task_name,
        "question": q.question,
        "query_media": [m.to_dict() for m in q.media],
        "responses": [r.to_dict() for r in item.responses],
    }
    if isinstance(item, RuleItem):
        d["rule"] = item.rule.to_dict()
    if isinstance(item, ProcessItem):
        d["steps"] = list(item.steps)
    if item.meta:
        d["meta"] = {k: v for k, v in item.meta.items() if _jsonable(v)}
    return d


def item_content_hash(item: Item) -> str:
    """A 24-hex-digit hash of an item's content (:func:`item_to_dict`: instruction, media references,
    responses, meta). Unit keys include it, and the run log and ``items.jsonl`` record it, so a verdict given
    on an item that was edited since is recognised as stale."""
    return stable_hash(item_to_dict(item), n=24)


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


__all__ = [
    "ANSWER_SUFFIX",
    "AUDIO",
    "CORE_MODALITIES",
    "DEFAULT_SCORE_SCALE",
    "FAILURE_KINDS",
    "IMAGE",
    "LETTERS",
    "MODES",
    "NOT_APPLICABLE",
    "OVERALL",
    "PAIR_CHOICES",
    "PAIR_CODE",
    "RUBRICS",
    "RULE_VERDICTS",
    "SCORE_MAX",
    "SCORE_MIN",
    "SETTINGS",
    "TASK_TYPES",
    "TEXT",
    "VIDEO",
    "BatchItem",
    "Failure",
    "FailureKind",
    "HumanLabel",
    "Item",
    "LabelValue",
    "MediaRef",
    "MediaSlot",
    "Mode",
    "Outcome",
    "PairChoice",
    "PairItem",
    "Prompt",
    "Query",
    "Response",
    "Rule",
    "RuleItem",
    "SchemaError",
    "ScoreItem",
    "ScoreScale",
    "Setting",
    "StepLabel",
    "TaskType",
    "TextPart",
    "Verdict",
    "comment_key",
    "item_content_hash",
    "item_seed",
    "item_to_dict",
    "pair_choice_from_judgeanything",
    "pair_choice_from_letter",
    "pair_choice_to_judgeanything",
    "ranking_from_letters",
    "ranking_to_letters",
    "stable_hash",
    "swap_choice",
    "verdict_key",
]
