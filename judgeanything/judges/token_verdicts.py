"""Token-probability verdicts, shared by every judge that reads them (``hf`` from its logits, ``openai`` from an
API's ``top_logprobs``).

Method (CLUE, "MLLM-as-a-Judge for Image Safety without Human Labeling", arXiv 2501.00192): instead of
parsing generated text, read the judge's probabilities of the candidate verdict tokens at the position where
the verdict goes, renormalise them over the candidates, and take the argmax:

* pair: candidates ``"0"``, ``"1"``, ``"2"`` (the Judge Anything release's convention: first better, tie,
  second better) → ``Verdict.probs`` keyed ``first`` / ``tie`` / ``second``;
* score: ``"1"`` … ``"5"`` → ``probs`` keyed ``"1"`` … ``"5"`` and ``expected`` = Σ s·p(s);
* batch ranking: no single token carries a ranking (:data:`BATCH_UNSUPPORTED`).

The answer keys are the prompt's (``<rubric>_choice`` / ``<rubric>_score``: :func:`answer_key`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from judgeanything.schema import PAIR_CODE, SCORE_MAX, SCORE_MIN, Verdict, verdict_key

#: Candidate token → verdict label, per setting.
PAIR_CANDIDATES: dict[str, str] = dict(PAIR_CODE)
SCORE_CANDIDATES: dict[str, str] = {str(s): str(s) for s in range(SCORE_MIN, SCORE_MAX + 1)}

BATCH_UNSUPPORTED = "token-probability verdicts are not defined for batch ranking"


def candidates_for(setting: str) -> dict[str, str]:
    """The candidate tokens (→ labels) of ``setting`` (``"pair"`` or ``"score"``).

    Raises:
        ValueError: any other setting (batch ranking has no single-token verdict).
    """
    if setting == "pair":
        return PAIR_CANDIDATES
    if setting == "score":
        return SCORE_CANDIDATES
    raise ValueError(f"no token-probability candidates for setting {setting!r}")


def answer_key(setting: str, rubric: str) -> str:
    """The JSON key of a rubric's verdict: ``overall_choice`` (pair) / ``relevance_score`` (score)... (the
    answer contract of :func:`judgeanything.schema.verdict_key`)."""
    return verdict_key(setting, rubric)


@dataclass(frozen=True)
class TokenVerdict:
    """One rubric's reading: the verdict, the chosen candidate token, and the probability mass the model
    put on all candidates before renormalisation (a diagnostic: low mass = the model wanted to say
    something else)."""

    verdict: Verdict
    token: str
    mass: float


def read_verdict(setting: str, rubric: str, candidate_logits: Mapping[str, float],
                 log_norm: float) -> TokenVerdict:
    """Verdict from the next-token logits of the candidates.

    ``candidate_logits``: candidate token → logit; ``log_norm``: logsumexp of all the vocabulary's logits
    (for the candidate mass). Log-probabilities (an API's ``top_logprobs``) are logits with ``log_norm=0``; a
    candidate the API did not list has ``-inf`` (probability 0), and at least one must be finite.
    Probabilities are the softmax over the candidates only (= the full-vocabulary
    probabilities renormalised over the candidates), computed in float64; ties go to the first candidate
    in order.
    """
    labels = candidates_for(setting)
    toks = list(labels)
    logits = [float(candidate_logits[t]) for t in toks]
    m = max(logits)
    exps = [math.exp(x - m) for x in logits]
    z = sum(exps)
    probs = [e / z for e in exps]
    mass = math.exp(m + math.log(z) - float(log_norm))
    best = max(range(len(toks)), key=lambda i: (probs[i], -i))
    by_label = {labels[t]: p for t, p in zip(toks, probs, strict=True)}
    if setting == "pair":
        v = Verdict(rubric=rubric, value=labels[toks[best]], probs=by_label)
    else:
        expected = sum(int(t) * p for t, p in zip(toks, probs, strict=True))
        v = Verdict(rubric=rubric, value=int(toks[best]), probs=by_label, expected=expected)
    return TokenVerdict(verdict=v, token=toks[best], mass=min(1.0, mass))


__all__ = ["BATCH_UNSUPPORTED", "PAIR_CANDIDATES", "SCORE_CANDIDATES", "TokenVerdict", "answer_key",
           "candidates_for", "read_verdict"]
