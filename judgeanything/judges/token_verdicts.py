"""Token-probability verdicts, shared by every judge that reads them (``hf`` from its logits, ``openai`` from an
API's ``top_logprobs``).

Method (CLUE, "MLLM-as-a-Judge for Image Safety without Human Labeling", arXiv 2501.00192): instead of
parsing generated text, read the judge's probabilities of the candidate verdict tokens at the position where
the verdict goes, renormalise them over the candidates, and take the argmax:

* pair: candidates ``"0"``, ``"1"``, ``"2"`` (the Judge Anything release's convention: first better, tie,
  second better) → ``Verdict.probs`` keyed ``first`` / ``tie`` / ``second``;
* score: ``"1"`` … ``"5"`` → ``probs`` keyed ``"1"`` … ``"5"`` and ``expected`` = Σ s·p(s) (another
  ``setting.scale``: its integers, or its named levels as the tokens with ``probs`` keyed by their values);
* rules: ``"yes"`` / ``"no"`` → ``probs`` keyed ``yes`` / ``no`` (P(yes) is the probability that the content
  violates the rule; :mod:`judgeanything.rules.debias` compares it with a contrast input's);
* batch ranking: no single token carries a ranking (:data:`BATCH_UNSUPPORTED`).

The answer keys are the prompt's (``<rubric>_choice`` / ``<rubric>_score``: :func:`answer_key`).

Where the probabilities come from: the ``hf`` judge's logits after a prefill (:mod:`.hf_logprob`), or an API's
generated tokens with their top alternatives (:func:`read_token_verdicts`, used by the ``openai`` and ``gemini``
judges): the token holding each rubric's verdict value is located in the answer, and its alternatives that
spell a candidate at the same position are summed per candidate.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judgeanything.judges.base import JudgeConfigError, JudgeResult
from judgeanything.parsing import is_token_limit
from judgeanything.schema import (
    DEFAULT_SCORE_SCALE,
    PAIR_CODE,
    RULE_VERDICTS,
    SCORE_MAX,
    SCORE_MIN,
    ScoreScale,
    Verdict,
    comment_key,
    verdict_key,
)

#: Candidate token → verdict label, per setting.
PAIR_CANDIDATES: dict[str, str] = dict(PAIR_CODE)
SCORE_CANDIDATES: dict[str, str] = {str(s): str(s) for s in range(SCORE_MIN, SCORE_MAX + 1)}
#: Rule judging (CLUE §3): the answer tokens ``yes`` (the content violates the rule) and ``no``.
RULE_CANDIDATES: dict[str, str] = {v: v for v in RULE_VERDICTS}

BATCH_UNSUPPORTED = "token-probability verdicts are not defined for batch ranking"


def candidates_for(setting: str, scale: ScoreScale = DEFAULT_SCORE_SCALE) -> dict[str, str]:
    """The candidate tokens (→ labels) of ``setting`` (``"pair"`` or ``"score"``). Score candidates are the
    scale's integers as written (``"1"`` … ``"10"``), or its named levels (``"poor"`` … → ``"1"`` …); whether
    each is one token is the judge's check (a multi-digit score rarely is).

    Raises:
        ValueError: any other setting (batch ranking has no single-token verdict).
    """
    if setting == "pair":
        return PAIR_CANDIDATES
    if setting == "rules":
        return RULE_CANDIDATES
    if setting == "score":
        if scale == DEFAULT_SCORE_SCALE:
            return SCORE_CANDIDATES
        return {(scale.label(v) or str(v)): str(v) for v in scale.values}
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


class UnusableLogits(ValueError):
    """The candidates' logits / log-probabilities cannot give a verdict (NaN, +inf, or all ``-inf``)."""


def read_verdict(setting: str, rubric: str, candidate_logits: Mapping[str, float],
                 log_norm: float, scale: ScoreScale = DEFAULT_SCORE_SCALE) -> TokenVerdict:
    """Verdict from the next-token logits of the candidates.

    ``candidate_logits``: candidate token → logit; ``log_norm``: logsumexp of all the vocabulary's logits
    (for the candidate mass). Log-probabilities (an API's ``top_logprobs``) are logits with ``log_norm=0``; a
    candidate the API did not list has ``-inf`` (probability 0), and at least one must be finite.
    Probabilities are the softmax over the candidates only (= the full-vocabulary
    probabilities renormalised over the candidates), computed in float64; ties go to the first candidate
    in order.

    Raises:
        UnusableLogits: a logit is NaN or ``+inf``, none is finite, or ``log_norm`` is not finite.
    """
    labels = candidates_for(setting, scale)
    toks = list(labels)
    logits = [float(candidate_logits[t]) for t in toks]
    m = max(logits)
    if any(math.isnan(x) or x == math.inf for x in logits) or m == -math.inf or not math.isfinite(float(log_norm)):
        # a NaN (a broken server, an fp16 overflow) would make every probability NaN and the verdict the first
        # candidate: a fault read as the lowest score
        raise UnusableLogits(f"{rubric}: the candidates' log-probabilities are not usable (NaN, +inf, or none "
                             f"finite): {dict(zip(toks, logits, strict=True))}")
    exps = [math.exp(x - m) for x in logits]
    z = sum(exps)
    probs = [e / z for e in exps]
    mass = math.exp(m + math.log(z) - float(log_norm))
    best = max(range(len(toks)), key=lambda i: (probs[i], -i))
    by_label = {labels[t]: p for t, p in zip(toks, probs, strict=True)}
    if setting in ("pair", "rules"):
        v = Verdict(rubric=rubric, value=labels[toks[best]], probs=by_label)
    else:
        expected = sum(int(labels[t]) * p for t, p in zip(toks, probs, strict=True))
        v = Verdict(rubric=rubric, value=int(labels[toks[best]]), probs=by_label, expected=expected)
    return TokenVerdict(verdict=v, token=toks[best], mass=min(1.0, mass))



# ------------------------------------------------------------------------------------------------
# An API's generated tokens with their top alternatives (OpenAI ``logprobs``, Gemini ``logprobs_result``)
# ------------------------------------------------------------------------------------------------


def verdict_only_schema(output_schema: Mapping[str, Any], setting: str, rubrics: Sequence[str]) -> dict[str, Any]:
    """The answer's JSON schema cut to the verdict keys (no comments), for an answer of a few tokens whose
    verdicts are read without a written justification before them."""
    keys = [answer_key(setting, r) for r in rubrics]
    props = {k: v for k, v in (output_schema.get("properties") or {}).items() if k in keys}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


@dataclass(frozen=True)
class StreamToken:
    """One generated token: its text, log-probability, and the top alternatives ``(text, logprob)``."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...]


def _candidate_after(alt: str, prefix: str, candidates: Sequence[str]) -> str | None:
    """The candidate ``alt`` spells right after ``prefix`` (``"2"`` in ``' "2'`` after ``' "'``), or None; a
    digit run longer than the candidate (``"45"``) is no candidate."""
    if not alt.startswith(prefix):
        return None
    rest = alt[len(prefix):]
    for c in sorted(candidates, key=len, reverse=True):
        if rest.startswith(c) and (len(rest) == len(c) or not rest[len(c)].isdigit()):
            return c
    return None


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def candidate_logprobs(tok: StreamToken, prefix: str, candidates: Sequence[str]) -> dict[str, float]:
    """Log-probability of each candidate at ``tok``'s position: its alternatives (and itself) that spell the
    candidate right after ``prefix``, summed; ``-inf`` for a candidate none spells."""
    alts = dict(tok.top)
    alts.setdefault(tok.token, tok.logprob)  # top_logprobs=0 servers list no alternatives
    lp = dict.fromkeys(candidates, -math.inf)
    for alt, logprob in alts.items():
        c = _candidate_after(alt, prefix, candidates)
        if c is not None:
            lp[c] = _logaddexp(lp[c], logprob)
    return lp


def read_token_verdicts(stream: Sequence[StreamToken], setting: str, rubrics: Sequence[str],
                        scale: ScoreScale = DEFAULT_SCORE_SCALE) -> tuple[list[TokenVerdict], str | None]:
    """Each rubric's verdict from the token that carries it (see the module docstring).

    Returns ``(readings, None)``, or ``([], why)`` when a rubric's verdict is not in the answer or is not a
    candidate (the caller then leaves the text to the parser, which records what is wrong with it).
    """
    text = "".join(t.token for t in stream)
    starts = [0]
    for t in stream:
        starts.append(starts[-1] + len(t.token))
    candidates = list(candidates_for(setting, scale))
    readings: list[TokenVerdict] = []
    for rubric in rubrics:
        key = answer_key(setting, rubric)
        m = re.search(re.escape(json.dumps(key)) + r'\s*:\s*"?', text)
        if m is None or m.end() >= len(text):
            return [], f"no {key} value in the answer"
        v = m.end()
        i = bisect.bisect_right(starts, v) - 1
        tok = stream[i]
        prefix = text[starts[i]:v]
        chosen = _candidate_after(tok.token, prefix, candidates)
        if chosen is None:
            return [], f"{key}: the answer's value {text[v:v + 4]!r} is not one of {', '.join(candidates)}"
        try:
            readings.append(read_verdict(setting, rubric, candidate_logprobs(tok, prefix, candidates), 0.0, scale))
        except UnusableLogits as e:
            return [], str(e)
    return readings, None


def comments(raw: str, rubrics: Sequence[str]) -> dict[str, str]:
    """The ``<rubric>_comment`` fields of an answer that is a JSON object (else none)."""
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return {}
    if not isinstance(obj, dict):
        return {}
    return {r: str(obj[comment_key(r)]) for r in rubrics if isinstance(obj.get(comment_key(r)), str)}



class NoLogprobsError(JudgeConfigError):
    """The server answered without log-probabilities: token-probability verdicts cannot be read from it
    (it would send none for any unit, so the run stops)."""


def with_token_verdicts(res: JudgeResult, stream: Sequence[StreamToken] | None, setting: str,
                        rubrics: Sequence[str], *, who: str,
                        scale: ScoreScale = DEFAULT_SCORE_SCALE) -> JudgeResult:
    """An API judge's answer with its verdicts read from the token stream (``logprob`` mode).

    An answer that failed or is empty is returned as is; one cut at the token limit, or whose verdict is not
    a candidate, is left to the parser (the reason in ``extra["logprob_unread"]``). Otherwise ``outcomes``
    are the readings (comments taken from the answer's JSON) and ``extra["candidate_mass"]`` their mass.

    Raises:
        NoLogprobsError: a non-empty answer came without log-probabilities (``who`` names the judge/model).
    """
    if res.failure is not None or not res.raw:
        return res
    if not stream:  # checked before the finish reason: a cut answer has its tokens' logprobs too
        raise NoLogprobsError(f"{who}: the server returned no logprobs although they were asked for, so "
                              "token-probability verdicts cannot be read; use judge.verdict=generate (or a "
                              "server / model that returns them)")
    res.extra["verdict_mode"] = "logprob"
    if is_token_limit(res.finish_reason):  # the parser records it as truncated
        res.extra["logprob_unread"] = "the answer was cut at the token limit"
        return res
    readings, why = read_token_verdicts(stream, setting, rubrics, scale)
    if why is not None:
        res.extra["logprob_unread"] = why
        return res
    notes = comments(res.raw, rubrics)
    res.outcomes = [Verdict(r.verdict.rubric, r.verdict.value, notes.get(r.verdict.rubric, ""), r.verdict.probs,
                            r.verdict.expected) for r in readings]
    res.extra["candidate_mass"] = {r.verdict.rubric: r.mass for r in readings}
    return res

__all__ = ["BATCH_UNSUPPORTED", "PAIR_CANDIDATES", "RULE_CANDIDATES", "SCORE_CANDIDATES", "NoLogprobsError",
           "StreamToken", "TokenVerdict", "answer_key", "candidate_logprobs", "candidates_for", "comments",
           "read_token_verdicts", "read_verdict", "verdict_only_schema", "with_token_verdicts"]
