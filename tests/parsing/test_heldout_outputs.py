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
* ``heldout_judge_outputs_round3.jsonl`` (26), written blind after round 2: misread 3, none of them a wrong
  verdict (each a ``parse_fail`` where a verdict was readable: an answer alone on the last line, a chain of
  labelled letters "Response B > Response D > …", a numbered ranking list; the previous parser misread 6).
  Fixed as classes and kept.
* ``heldout_judge_outputs_round4.jsonl`` (20), written blind after round 3: misread 3, again none a wrong
  verdict (a Chinese score label "评分（1-5）：3", "I'd pick Assistant B", a lower-case chain "c > a > b";
  the previous parser misread 5). Fixed as classes (Chinese score/verdict/ranking labels, contracted
  preference verbs, lower-case chains) and kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgeanything.parsing import parse_output
from judgeanything.schema import Failure, Outcome

HERE = Path(__file__).parent
FILES = {f"round{k}": HERE / f"heldout_judge_outputs{'' if k == 1 else f'_round{k}'}.jsonl" for k in (1, 2, 3, 4)}
HELDOUT = [json.loads(x) for f in FILES.values() for x in f.read_text().splitlines() if x.strip()]


def _result(o: Outcome) -> object:
    if isinstance(o, Failure):
        return o.kind
    return list(o.value) if isinstance(o.value, tuple) else o.value


def test_heldout_files_are_what_they_claim() -> None:
    assert [len(f.read_text().splitlines()) for f in FILES.values()] == [57, 30, 26, 20]
    assert len({c["id"] for c in HELDOUT}) == 133
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
