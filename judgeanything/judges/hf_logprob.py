"""Token-probability verdicts (the ``logprob`` mode of the ``hf`` judge): the prefill and tokenizer side; the
reading of candidate probabilities is shared with the ``openai`` judge (:mod:`.token_verdicts`).

Method (CLUE, "MLLM-as-a-Judge for Image Safety without Human Labeling", arXiv 2501.00192, which reads
the judge's next-token probabilities of the answer tokens instead of parsing generated text): the
assistant turn is PREFILLED with the answer JSON up to the point where the verdict token goes, e.g.
``{"overall_choice": "`` (pair comparison) or ``{"overall_score": "`` (score evaluation); one forward pass
gives the next-token distribution; the probabilities of the candidate tokens are renormalised over the
candidates, and the verdict is their argmax.

* pair: candidates ``"0"``, ``"1"``, ``"2"`` (the Judge Anything release's convention: first better, tie,
  second better) → ``Verdict.probs`` keyed ``first`` / ``tie`` / ``second``;
* score: ``"1"`` … ``"5"`` → ``probs`` keyed ``"1"`` … ``"5"`` and ``expected`` = Σ s·p(s).
* rubrics / checklist modes: one pass per rubric; rubric *k*'s prefill continues the JSON with the argmax
  answers of rubrics 1..k-1 (``{"relevance_score": "4", "trustworthiness_score": "``), so later rubrics are
  read in the context of the earlier ones exactly as if the model had written them.
* batch ranking: no single token carries a ranking, so this mode returns
  ``Failure("parse_fail", BATCH_UNSUPPORTED)`` for batch requests (documented choice).

The answer keys are the ones the prompt templates ask for (``<rubric>_choice`` / ``<rubric>_score``).
Pure functions of token ids and logits; the judge does the model calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from judgeanything.judges.base import JudgeConfigError
from judgeanything.judges.token_verdicts import (
    BATCH_UNSUPPORTED,
    PAIR_CANDIDATES,
    SCORE_CANDIDATES,
    TokenVerdict,
    answer_key,
    candidates_for,
    read_verdict,
)

#: Recorded in the judge's fingerprint: change it when the prefill format changes.
PREFILL_VERSION = "json-prefill-v1"


def prefill(setting: str, rubric: str, previous: Sequence[tuple[str, str]] = ()) -> str:
    """The assistant prefill ending right where ``rubric``'s verdict token goes.

    ``previous``: ``(rubric, chosen token)`` of the rubrics already read, in order.
    ``prefill("score", "clarity", [("relevance", "4")])`` → ``{"relevance_score": "4", "clarity_score": "``.
    """
    head = "".join(f"{json.dumps(answer_key(setting, r))}: {json.dumps(tok)}, " for r, tok in previous)
    return "{" + head + json.dumps(answer_key(setting, rubric)) + ': "'


def closed_answer(setting: str, answers: Sequence[tuple[str, str]]) -> str:
    """The full answer JSON the chosen tokens spell (what ``JudgeResult.raw`` records)."""
    return json.dumps({answer_key(setting, r): tok for r, tok in answers})


def candidate_token_ids(tokenizer: Any, prefix: str, candidates: Sequence[str], *,
                        first_token: bool = False) -> dict[str, int]:
    """Token id of each candidate as the NEXT token after ``prefix``.

    Checks that each candidate is one token of the tokenizer and that appending it to ``prefix`` adds
    exactly that token (no merge with the prefix's last token), otherwise the next-token distribution
    would not contain the verdict.

    ``first_token``: a candidate word may span several tokens and is read by its FIRST token after ``prefix``
    (``yes`` → ``y`` under a byte-level vocabulary), which must differ between candidates: P(yes) is then the
    probability that the answer starts the way ``yes`` does — exact when the tokenizer has the word as one
    token, the first-token approximation otherwise (lm-eval-harness style single-token scoring).

    Raises:
        JudgeConfigError: a candidate is not a single token in that position (with ``first_token``: the
            prefix's tokens change when a candidate follows, or two candidates share their first token).
    """
    base = tokenizer.encode(prefix, add_special_tokens=False)
    if first_token:
        return _first_token_ids(tokenizer, prefix, base, candidates)
    out: dict[str, int] = {}
    for c in candidates:
        alone = tokenizer.encode(c, add_special_tokens=False)
        full = tokenizer.encode(prefix + c, add_special_tokens=False)
        if len(alone) != 1 or full[:-1] != base or full[-1] != alone[0]:
            raise JudgeConfigError(
                f"verdict candidate {c!r} is not a single next token after {prefix!r} for this tokenizer "
                f"(alone: {alone}, after the prefill: {full[len(base) - 1:] if base else full}); "
                "token-probability verdicts need single-token candidates — use verdict: generate"
            )
        out[c] = int(alone[0])
    return out


def _first_token_ids(tokenizer: Any, prefix: str, base: list[int], candidates: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in candidates:
        full = tokenizer.encode(prefix + c, add_special_tokens=False)
        if full[:len(base)] != base or len(full) <= len(base):
            raise JudgeConfigError(f"verdict candidate {c!r} merges with the end of the prefill {prefix!r} for this "
                                   f"tokenizer ({full[len(base) - 1:] if base else full}); use verdict: generate")
        out[c] = int(full[len(base)])
    if len(set(out.values())) != len(out):
        raise JudgeConfigError(f"verdict candidates {list(candidates)} share their first token after {prefix!r} "
                               "for this tokenizer; use verdict: generate")
    return out


__all__ = ["BATCH_UNSUPPORTED", "PAIR_CANDIDATES", "PREFILL_VERSION", "SCORE_CANDIDATES", "TokenVerdict",
           "answer_key", "candidate_token_ids", "candidates_for", "closed_answer", "prefill", "read_verdict"]
