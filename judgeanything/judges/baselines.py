"""Reference baselines: ``random``, ``first`` and ``longer`` (alpaca_eval reports the last two as its
judge-quality columns "P(prefer first)" and "P(prefer longer)").

They look at no media and produce structured verdicts in presentation orientation. Their expected
agreement with any label set follows from their definition
(:func:`judgeanything.analysis.reference.random_expectations`), which the report states next to the measured
value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from judgeanything.judges.base import Judge, JudgeConfigError, JudgeRequest, JudgeResult
from judgeanything.schema import (
    CORE_MODALITIES,
    PAIR_CHOICES,
    RULE_VERDICTS,
    Failure,
    HumanLabel,
    Outcome,
    TextPart,
    Verdict,
    item_seed,
)

_ALL = frozenset(CORE_MODALITIES)


class RandomJudge(Judge):
    """Uniformly random verdicts, seeded per (item id, order, rubric, repeat, seed).

    Pair: a uniform draw from ``choices`` (default first / tie / second); score: uniform on 1–5; batch: a
    uniform random permutation; rules: ``yes`` or ``no`` with probability ½ each, for every question it is asked
    (each precondition of the relevance screen, then the rule). Reproducible across runs and processes.
    """

    needs_media = False
    capabilities = _ALL
    kind = "baseline"

    def __init__(self, seed: int = 0, choices: Sequence[str] = PAIR_CHOICES, name: str = "random") -> None:
        bad = [c for c in choices if c not in PAIR_CHOICES]
        if bad or not choices:
            raise JudgeConfigError(f"random judge: choices must be a non-empty subset of {PAIR_CHOICES}, got {bad}")
        self.seed, self.choices, self.name = int(seed), tuple(choices), name

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "random", "seed": self.seed, "choices": list(self.choices)}

    def notes(self) -> list[str]:
        return [f"{self.name!r} is a reference baseline: uniform random verdicts over {list(self.choices)} (pair), "
                "the score scale (score) or a random permutation (batch), seeded per item. Its implied agreement and "
                "the binomial check are in 'Reference baseline check'."]

    def _verdict(self, req: JudgeRequest, rubric: str) -> Verdict:
        # rules: several questions are asked about one item (preconditions, then the rule), each its own draw
        asked = (req.prompt.parts[-1].text,) if req.item.setting == "rules" and req.prompt.parts and \
            isinstance(req.prompt.parts[-1], TextPart) else ()
        rng = np.random.default_rng(item_seed(req.item.item_id, self.seed, list(req.order), rubric, req.repeat,
                                              *asked))
        setting = req.item.setting
        if setting == "pair":
            return Verdict(rubric, self.choices[int(rng.integers(len(self.choices)))], "random baseline")
        if setting == "rules":
            return Verdict(rubric, RULE_VERDICTS[int(rng.integers(len(RULE_VERDICTS)))], "random baseline")
        if setting == "score":
            scale = req.prompt.scale
            return Verdict(rubric, int(rng.integers(scale.min, scale.max + 1)), "random baseline")
        return Verdict(rubric, tuple(int(i) for i in rng.permutation(len(req.item.responses))), "random baseline")

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        out = []
        for req in requests:
            vs: list[Outcome] = [self._verdict(req, r) for r in req.prompt.rubrics]
            out.append(JudgeResult(raw="", outcomes=vs, model="baseline:random"))
        return out

    def expected_metrics(self, setting: str, labels: Iterable[HumanLabel]) -> dict[str, float]:
        """Rules: the metrics of answering ``yes`` with probability ½ (:func:`rules_expected`), for the rules
        report; the pair/score/batch expectations are the analysis layer's
        (:func:`judgeanything.analysis.reference.random_expectations`, read from the run directory alone)."""
        return rules_expected(labels, p_yes=0.5) if setting == "rules" else {}


def rules_expected(labels: Iterable[HumanLabel], p_yes: float) -> dict[str, float]:
    """Expected rule-verdict metrics of a judge answering ``yes`` with probability ``p_yes`` independently of
    the content, over the counted labels (``yes``/``no``; ``n/a`` ignored): accuracy = p·π + (1−p)(1−π),
    recall = p, and for p = 1 precision = π (the violation rate π). For 0 < p < 1 precision is π only in
    expectation given at least one ``yes`` (a ratio of counts), so it is not stated."""
    vals = [lab.value for lab in labels if lab.value in RULE_VERDICTS]
    if not vals:
        return {}
    pi = float(np.mean([v == "yes" for v in vals]))
    out = {"accuracy": p_yes * pi + (1 - p_yes) * (1 - pi)}
    if pi > 0:
        out["recall"] = p_yes
    if p_yes == 1.0:
        out["precision"] = pi
    return out


class FirstJudge(Judge):
    """Always prefers the response shown first (pair) / keeps the shown order (batch) / answers the first
    answer a yes/no question offers, ``yes`` (rules: every precondition holds and every rule is violated).

    A pure position-bias probe: P(prefer slot 1) = 1 and, judged in both orders, flip rate = 1.
    """

    needs_media = False
    capabilities = _ALL
    kind = "baseline"
    deterministic = True  # its expected metrics are exact values, not expectations of draws
    settings = frozenset({"pair", "batch", "rules"})

    def __init__(self, name: str = "first") -> None:
        self.name = name

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "first"}

    def notes(self) -> list[str]:
        return [f"{self.name!r} is a reference baseline that always prefers the response shown first: "
                "P(prefer slot 1) = 1, and judged in both orders its flip rate is 1 (rules: it always answers "
                "'yes')."]

    def expected_metrics(self, setting: str, labels: Iterable[HumanLabel]) -> dict[str, float]:
        """Rules: the metrics of always answering ``yes`` (:func:`rules_expected` with p = 1); other settings:
        none here (its pair/batch expectations are the position-bias numbers in the notes)."""
        return rules_expected(labels, p_yes=1.0) if setting == "rules" else {}

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        out = []
        for req in requests:
            if req.item.setting == "pair":
                value: Any = "first"
            elif req.item.setting == "batch":
                value = tuple(range(len(req.item.responses)))
            elif req.item.setting == "rules":
                value = RULE_VERDICTS[0]
            else:
                raise JudgeConfigError("the 'first' baseline has no score verdict (settings: pair, batch, rules)")
            out.append(JudgeResult(outcomes=[Verdict(r, value, "first baseline") for r in req.prompt.rubrics],
                                   model="baseline:first"))
        return out


#: Which size feature stands for a response's "length" per output modality.
SIZE_FEATURE: Mapping[str, str] = {"text": "chars", "audio": "duration_s", "video": "duration_s",
                                   "image": "pixels"}


def response_size(sizes: Mapping[str, float], modality: str) -> float | None:
    """The size that ``longer`` compares: text characters, audio/video seconds, image pixels × count."""
    feat = SIZE_FEATURE.get(modality)
    if feat is None or feat not in sizes:
        return None
    v = float(sizes[feat])
    if modality == "image":
        v *= float(sizes.get("count", 1.0))
    return v


class LongerJudge(Judge):
    """Prefers the longer / larger response: more characters (text), longer duration (audio, video), more
    pixels (images). Equal sizes → tie (pair). Batch: ranked by size, largest first (stable)."""

    needs_media = False
    capabilities = _ALL
    kind = "baseline"
    settings = frozenset({"pair", "batch"})

    def __init__(self, name: str = "longer") -> None:
        self.name = name

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "longer", "features": dict(SIZE_FEATURE)}

    def notes(self) -> list[str]:
        return [f"{self.name!r} is a reference baseline that prefers the larger response (text characters, "
                "audio/video seconds, image pixels; equal sizes → tie): P(prefer larger) = 1."]

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        out = []
        for req in requests:
            sizes = [response_size(s, r.modality) for s, r in zip(req.sizes, req.item.responses, strict=False)]
            if len(sizes) != len(req.item.responses) or any(s is None for s in sizes):
                out.append(JudgeResult(failure=Failure(
                    "media_error", f"'longer' baseline: size unknown for some response (sizes={list(req.sizes)})")))
                continue
            if req.item.setting == "pair":
                a, b = sizes
                value: Any = "first" if a > b else "second" if b > a else "tie"  # type: ignore[operator]
            elif req.item.setting == "batch":
                value = tuple(sorted(range(len(sizes)), key=lambda i: -sizes[i]))  # type: ignore[operator]
            else:
                raise JudgeConfigError("the 'longer' baseline has no score verdict (settings: pair, batch)")
            out.append(JudgeResult(outcomes=[Verdict(r, value, f"sizes {sizes}") for r in req.prompt.rubrics],
                                   model="baseline:longer"))
        return out
