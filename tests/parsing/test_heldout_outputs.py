"""Held-out judge outputs (``heldout_judge_outputs.jsonl``): realistic outputs of the kinds the field cases
hold — GPT-4o / Gemini / Claude / Qwen prose, JSON in code fences, Prometheus ``[RESULT] 4``, MT-Bench
``[[A]]`` — none of them a copy of a field case. Punctuation and Unicode variants between anchor and value,
conflicting verdicts, echoed answer formats, negation, label styles and token-limit stops. Written before
the parser was generalised (issue 8 item 11): the previous parser misread 21 of 57; this file now guards
the generalisation as a regression set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgeanything.parsing import parse_output
from judgeanything.schema import Failure, Outcome

HELDOUT = [json.loads(x) for x in (Path(__file__).parent / "heldout_judge_outputs.jsonl").read_text().splitlines()
           if x.strip()]


def _result(o: Outcome) -> object:
    if isinstance(o, Failure):
        return o.kind
    return list(o.value) if isinstance(o.value, tuple) else o.value


def test_heldout_file_is_what_it_claims() -> None:
    assert len(HELDOUT) == 57 and len({c["id"] for c in HELDOUT}) == 57
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
