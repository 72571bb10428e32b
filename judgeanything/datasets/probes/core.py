"""The probe data model: a family builds one query (:class:`ProbeSpec`) from a seeded generator, a design
point (its difficulty knobs) and a variant (four distinct-quality candidates, or a set with one tie).

Scoring rules shared by several families live here, each documented with the error measure it maps to
the 1–5 scale (5 = best, as in Judge Anything §3.2). ``docs/probes.md`` lists them per family.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from judgeanything.schema import SCORE_MAX, SCORE_MIN, TASK_TYPES, TaskType

N_CANDIDATES = 4


@dataclass(frozen=True)
class Media:
    """Media not yet written: ``modality`` image / audio / video, and the array to write.

    * image: ``array`` ``(H, W, 3) uint8``, ``ext`` ``"png"``;
    * audio: ``array`` ``(N,) float`` in [-1, 1] at ``rate`` Hz, ``ext`` ``"wav"``, ``"flac"`` or ``"mp3"``;
    * video: ``array`` ``(T, H, W, 3) uint8`` at ``rate`` frames/s, ``ext`` ``"mp4"``, with an optional
      mono ``audio`` track ``(N,) float`` at ``audio_rate`` Hz;
    * any other (plugin) modality: ``array`` ``(N,) uint8``, the file's bytes, written as they are with
      suffix ``ext`` (e.g. an HTML artifact).
    """

    modality: str
    array: np.ndarray
    ext: str
    rate: float = 0.0
    audio: np.ndarray | None = None
    audio_rate: int = 16000


@dataclass(frozen=True)
class Candidate:
    """One constructed response: ``name`` is its construction (becomes ``Response.model_name``),
    ``score`` its 1–5 label under the family's rule, ``text`` (text output) or ``media`` (other outputs),
    and ``meta`` the measured property the score derives from (e.g. ``{"stated_count": 4}``)."""

    name: str
    score: int
    text: str | None = None
    media: Media | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProbeSpec:
    """One generated query: instruction, input media (prompt order), the four candidates (construction
    order; the dataset shuffles them), the ground truth and a checklist (Judge Anything §3.3)."""

    question: str
    inputs: tuple[Media, ...]
    candidates: tuple[Candidate, ...]
    truth: Mapping[str, Any]
    checklist: tuple[str, ...] = ()


BuildFn = Callable[[np.random.Generator, Mapping[str, Any], bool], ProbeSpec]


@dataclass(frozen=True)
class Family:
    """A probe family: one task type, one way of constructing queries with known answers.

    ``knobs`` maps each difficulty knob to the values it takes, the first being the base (easiest)
    value; the design points are the base plus one-factor-at-a-time variations (:func:`design_points`),
    unless ``designs`` lists them explicitly. ``build(rng, knobs, tie)`` makes one query; ``tie`` asks
    for the variant whose candidates include exactly one pair of equal scores. ``requires`` names
    executables the family needs (it is skipped, with a note, when one is missing).
    """

    name: str
    task: str
    summary: str
    knobs: Mapping[str, tuple[Any, ...]]
    build: BuildFn
    designs: tuple[Mapping[str, Any], ...] = ()
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.task not in TASK_TYPES:
            try:  # a plugin family: any <Inputs>2<Output> over known or plugin modalities
                TaskType.parse(self.task)
            except ValueError as e:
                raise ValueError(f"family {self.name}: unknown task type {self.task!r}") from e
        for d in self.designs:
            if set(d) != set(self.knobs):
                raise ValueError(f"family {self.name}: design point {dict(d)} must set exactly the knobs "
                                 f"{sorted(self.knobs)}")


def design_points(knobs: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The base design (every knob at its first value) followed by one-factor-at-a-time variations, in
    knob order then value order; one curve per knob can be drawn from the results."""
    base = {k: v[0] for k, v in knobs.items()}
    out = [dict(base)]
    for k, values in knobs.items():
        for v in values[1:]:
            d = dict(base)
            d[k] = v
            out.append(d)
    return out


def is_tie_variant(index: int, n_designs: int) -> bool:
    """Whether query ``index`` of a family uses the tie variant.

    Alternates by index, shifted by one on every pass through the design points when their number is
    even, so that each design point gets one distinct and one tie query per two passes (and the two
    queries of the ``small`` size, design points 0 and 1, are one of each).
    """
    shift = (index // n_designs) if n_designs % 2 == 0 else 0
    return (index + shift) % 2 == 1


def check_spec(spec: ProbeSpec, family: str, tie: bool, task: str | None = None) -> None:
    """Validate a built query (and, given ``task``, its modalities against the task type).

    Raises:
        ValueError: not four candidates, repeated names, a score outside 1–5, scores that break the
            variant's contract (distinct: four different scores; tie: exactly one equal pair), or media of
            the wrong modality.
    """
    if task is not None:
        tt = TaskType.parse(task)
        if sorted({m.modality for m in spec.inputs}) != sorted(tt.non_text_inputs):
            raise ValueError(f"family {family}: {task} needs input media {list(tt.non_text_inputs)}, "
                             f"got {[m.modality for m in spec.inputs]}")
        for c in spec.candidates:
            if (c.media.modality if c.media is not None else "text") != tt.output:
                raise ValueError(f"family {family}: candidate {c.name} is not {tt.output}")
    names = [c.name for c in spec.candidates]
    if len(names) != N_CANDIDATES or len(set(names)) != N_CANDIDATES:
        raise ValueError(f"family {family}: need {N_CANDIDATES} uniquely named candidates, got {names}")
    scores = [c.score for c in spec.candidates]
    for c in spec.candidates:
        if not (isinstance(c.score, int) and SCORE_MIN <= c.score <= SCORE_MAX):
            raise ValueError(f"family {family}: candidate {c.name} has score {c.score!r} outside 1–5")
        if (c.text is None) == (c.media is None):
            raise ValueError(f"family {family}: candidate {c.name} needs exactly one of text / media")
    n_equal = sum(a == b for a, b in itertools.combinations(scores, 2))
    if tie and n_equal != 1:
        raise ValueError(f"family {family}: tie variant needs exactly one equal pair, scores {scores}")
    if not tie and n_equal:
        raise ValueError(f"family {family}: distinct variant needs four different scores, got {scores}")


# ------------------------------------------------------------------------------------------------
# Scoring rules (error measure → 1–5)
# ------------------------------------------------------------------------------------------------


def count_score(error: int) -> int:
    """Counting error (stated − true) → score: ``max(1, 5 − |error|)`` (exact 5, off by one 4, …)."""
    return max(SCORE_MIN, SCORE_MAX - abs(int(error)))


def angle_score(degrees: float) -> int:
    """Angle between the asked and the shown / stated direction → ``5 − round(angle / 45°)``:
    0° 5, 45° 4, 90° 3, 135° 2, 180° 1."""
    return SCORE_MAX - round(abs(degrees) / 45.0)


def semitone_penalty(st: float) -> int:
    """Pitch error in semitones → penalty 0–4: |st| < 0.5 → 0, < 1.5 → 1, < 4.5 → 2, < 9.5 → 3, else 4."""
    a = abs(st)
    return 0 if a < 0.5 else 1 if a < 1.5 else 2 if a < 4.5 else 3 if a < 9.5 else 4


def number_distance_score(error: int) -> int:
    """Numeric error of a stated number (speech) → score on a log₂ scale: 0 → 5, 1 → 4, 2–3 → 3,
    4–7 → 2, ≥ 8 → 1."""
    a = abs(int(error))
    return 5 if a == 0 else 4 if a == 1 else 3 if a <= 3 else 2 if a <= 7 else 1


def clamp_score(penalty: int) -> int:
    """``max(1, 5 − penalty)``."""
    return max(SCORE_MIN, SCORE_MAX - int(penalty))


#: Edit families (image_edit, audio_edit, video_edit): score by what a candidate did to the input.
EDIT_SCORES: Mapping[str, int] = {"exact": 5, "partial": 3, "wrong_op": 2, "unchanged": 1}


# ------------------------------------------------------------------------------------------------
# Helpers for families
# ------------------------------------------------------------------------------------------------


def pick(rng: np.random.Generator, options: Sequence[Any]) -> Any:
    """One element of ``options`` drawn uniformly."""
    return options[int(rng.integers(len(options)))]


def phrase_all(rng: np.random.Generator, templates: Sequence[str], n: int,
               distinct_pairs: Sequence[tuple[int, int]] = ()) -> list[int]:
    """Template indices for ``n`` candidates, drawn uniformly and independently of their quality (so
    answer length does not follow correctness by construction); the candidate pairs in
    ``distinct_pairs`` (tie twins) get different templates."""
    while True:
        idx = [int(rng.integers(len(templates))) for _ in range(n)]
        if all(idx[a] != idx[b] for a, b in distinct_pairs):
            return idx


def signed_offset(rng: np.random.Generator, value: int, k: int, lo: int) -> int:
    """``value ± k`` with a random sign, using ``+k`` when ``value − k`` would fall below ``lo``."""
    sign = 1 if rng.random() < 0.5 else -1
    if value + sign * k < lo:
        sign = 1
    return value + sign * k


def count_plan(rng: np.random.Generator, true: int, tie: bool, lo: int) -> list[tuple[str, int]]:
    """Construction names and stated counts: distinct variant errors 0, ±1, ±2, ±4 (scores 5, 4, 3, 1);
    tie variant 0, −1, +1, ±3 (scores 5, 4, 4, 2). Signs are random; a count below ``lo`` flips to +."""
    if tie:
        if true - 1 < lo:
            raise ValueError(f"a count of {true} leaves no room for an under-by-one candidate (minimum {lo}); "
                             f"use a larger count knob")
        return [("exact", true), ("under_by_one", true - 1), ("over_by_one", true + 1),
                ("off_by_three", signed_offset(rng, true, 3, lo))]
    return [("exact", true), ("off_by_one", signed_offset(rng, true, 1, lo)),
            ("off_by_two", signed_offset(rng, true, 2, lo)), ("off_by_four", signed_offset(rng, true, 4, lo))]


#: The two halves of a time axis (audio samples, video frames; split at ``len // 2``).
HALVES: tuple[str, str] = ("first_half", "second_half")


def _half(n: int, half: str) -> slice:
    mid = n // 2
    return slice(0, mid) if half == HALVES[0] else slice(mid, n)


def splice_half(src: np.ndarray, edited: np.ndarray, half: str) -> np.ndarray:
    """A copy of ``src`` whose ``half`` (one of :data:`HALVES`, along axis 0) is taken from ``edited``
    (same shape): an edit applied to half of a clip."""
    out = src.copy()
    sl = _half(len(src), half)
    out[sl] = edited[sl]
    return out


def reverse_half(src: np.ndarray, half: str) -> np.ndarray:
    """A copy of ``src`` whose ``half`` (one of :data:`HALVES`, along axis 0) plays backwards."""
    out = src.copy()
    sl = _half(len(src), half)
    out[sl] = src[sl][::-1]
    return out


def edit_candidates(rng: np.random.Generator, src: np.ndarray, exact: np.ndarray, wrong: np.ndarray,
                    partial: Mapping[str, np.ndarray], tie: bool,
                    media: Callable[[np.ndarray], Media]) -> tuple[Candidate, ...]:
    """The four candidates of an edit family, scored by :data:`EDIT_SCORES`.

    ``partial`` maps the two ways of applying the edit to part of the input (e.g. ``left``/``right``, or
    :data:`HALVES`) to their results; a candidate is named ``partial_<key>``. Distinct variant: exact, one
    partial drawn at random, ``wrong_op`` (another edit), ``unchanged`` (scores 5, 3, 2, 1); tie variant:
    exact, both partials, unchanged (5, 3, 3, 1). ``media`` wraps an array as the output medium.
    """
    sides = tuple(partial)
    if tie:
        plan = [("exact", exact, "exact"), (f"partial_{sides[0]}", partial[sides[0]], "partial"),
                (f"partial_{sides[1]}", partial[sides[1]], "partial"), ("unchanged", src.copy(), "unchanged")]
    else:
        side = pick(rng, sides)
        plan = [("exact", exact, "exact"), (f"partial_{side}", partial[side], "partial"),
                ("wrong_op", wrong, "wrong_op"), ("unchanged", src.copy(), "unchanged")]
    return tuple(Candidate(name, EDIT_SCORES[kind], media=media(a), meta={"edit": kind})
                 for name, a, kind in plan)


def count_candidates(rng: np.random.Generator, true: int, tie: bool, templates: Sequence[str], noun: str,
                     lo: int = 0) -> tuple[Candidate, ...]:
    """Text candidates stating a count of ``noun`` s: :func:`count_plan` values, each phrased with a
    template of ``templates`` (placeholders ``{n}`` the number, ``{obj}`` e.g. ``"3 red squares"``) drawn by
    :func:`phrase_all`, scored by :func:`count_score`; ``meta`` ``{"stated_count": n}``."""
    plan = count_plan(rng, true, tie, lo=lo)
    tpl = phrase_all(rng, templates, len(plan))
    return tuple(Candidate(name, count_score(v - true), text=templates[t].format(n=v, obj=plural(v, noun)),
                           meta={"stated_count": v})
                 for (name, v), t in zip(plan, tpl, strict=True))


def plural(n: int, word: str) -> str:
    """``"1 square"``, ``"3 squares"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
