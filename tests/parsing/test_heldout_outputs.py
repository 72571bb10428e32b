"""Held-out judge outputs: realistic outputs of the kinds the field cases hold — GPT-4o / Gemini / Claude /
Qwen prose, JSON in code fences, Prometheus ``[RESULT] 4``, MT-Bench ``[[A]]``, XML tags — none a copy of
a field case: punctuation and Unicode variants between anchor and value, conflicting verdicts, echoed answer
formats, negation, label styles and token-limit stops.

* ``heldout_judge_outputs.jsonl`` (57), written before the parser was generalised (issue 8 item 11): the
  previous parser misread 21; it now guards the generalisation as a regression set.
* ``heldout_judge_outputs_round2.jsonl`` (30), written after that work and run blind: the generalised
  parser misread 4 (XML ``<score>`` tags, "4 points out of 5", "Preferred output: (b)", and "I don't
  think Response 1 is better" read as a verdict for Response 1; the previous parser misread 10). Each was
  fixed as a class (tag anchors, unit words, label variants, denied opinions) and the file kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgeanything.parsing import parse_output
from judgeanything.schema import Failure, Outcome

HERE = Path(__file__).parent
FILES = {"round1": HERE / "heldout_judge_outputs.jsonl", "round2": HERE / "heldout_judge_outputs_round2.jsonl"}
HELDOUT = [json.loads(x) for f in FILES.values() for x in f.read_text().splitlines() if x.strip()]


def _result(o: Outcome) -> object:
    if isinstance(o, Failure):
        return o.kind
    return list(o.value) if isinstance(o.value, tuple) else o.value


def test_heldout_files_are_what_they_claim() -> None:
    assert [len(f.read_text().splitlines()) for f in FILES.values()] == [57, 30]
    assert len({c["id"] for c in HELDOUT}) == 87
    assert {c["setting"] for c in HELDOUT} == {"score", "pair", "batch"}
    assert sum(c.get("finish_reason") == "length" for c in HELDOUT) >= 6


@pytest.mark.parametrize("case", HELDOUT, ids=[c["id"] for c in HELDOUT])
def test_heldout_case(case: dict) -> None:
    rubrics = case.get("rubrics", ["overall"])
    n = case.get("n_responses", 1 if case["setting"] == "score" else 2)
    out = parse_output(case["raw"], case["setting"], rubrics, n_responses=n, finish_reason=case.get("finish_reason"))
    want = case["expect"] if len(rubrics) > 1 else [case["expect"]]
    assert [_result(o) for o in out] == want, case["why"]
    for o in out:
        assert o.parsed_by, "every parsed outcome records the strategy that read it"
        if isinstance(o, Failure):
            assert o.detail
