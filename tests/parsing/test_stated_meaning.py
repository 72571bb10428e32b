"""Issue 8 item 11: verdicts that disagree inside one output are a parse_fail, and stated meaning is respected —
a comparative sentence contradicting the anchored pair verdict, a self-corrected verdict, a ranking written
worst first."""

from __future__ import annotations

import pytest

from judgeanything.parsing import parse_output
from judgeanything.schema import Failure, Verdict


def _one(raw: str, setting: str, n: int = 2) -> object:
    o = parse_output(raw, setting, ("overall",), n_responses=n)[0]
    if isinstance(o, Failure):
        assert o.detail
        return o.kind
    assert isinstance(o, Verdict)
    return o.value


@pytest.mark.parametrize("raw", [
    "Response 1 is better than Response 2. [[B]]",
    "Assistant A is clearly superior overall.\n\nFinal verdict: [[B]]",
    "I would choose Response 1.\n[[B]]",
    "Response 2 is worse than Response 1.\n\nVerdict: Response 2",
    "The first response is better.\n[[B]]",
    "Answer (b) is inferior to answer (a). [[B]]",
    "Response 2 is better than Response 1. [[A]]",
])
def test_sentence_contradicting_the_anchored_pair_verdict_is_parse_fail(raw: str) -> None:
    assert _one(raw, "pair") == "parse_fail"


@pytest.mark.parametrize("raw,expected", [
    ("At first glance Response 1 seems better, but on reflection Response 2 is more accurate. [[B]]", "second"),
    ("Initially I thought Response 1 was better. However, Response 2 handles the edge case. [[B]]", "second"),
    ("Response 1 is better in fluency, but Response 2 is more accurate. [[B]]", "second"),
    ("Response 1 appears stronger. On closer inspection it invents a date.\n[[B]]", "second"),
    ("One might think Response 1 is better because it is longer. [[B]]", "second"),
    ("I don't think Response 1 is better. [[B]]", "second"),
    ('Output "[[A]]" if Response 1 is better. Response 2 is better. [[B]]', "second"),
    ("Response 2 is better than Response 1. [[B]]", "second"),
    ("Response 1 is stronger than Response 2.\n\nFinal verdict: [[A]]", "first"),
])
def test_hedged_or_agreeing_sentences_keep_the_anchored_verdict(raw: str, expected: str) -> None:
    assert _one(raw, "pair") == expected


@pytest.mark.parametrize("raw,setting", [
    ("I'd rate it 4. No wait, actually 2.", "score"),
    ("Score: 4. On second thought, I change my score to 2.", "score"),
    ("I'd rate it 4. Actually, 2.", "score"),
    ("Score: 4\nCorrection: 3", "score"),
    ("Rating: 5/5. Let me revise: the answer misses a step.", "score"),
    ("[[A]] Scratch that, [[B]]", "pair"),
    ("Final verdict: [[A]]. Wait, no — Response 2 handles the edge case.", "pair"),
    ("Ranking: ABC. I take that back, C is the best.", "batch"),
])
def test_a_verdict_revised_after_it_is_given_is_parse_fail_never_the_first(raw: str, setting: str) -> None:
    assert _one(raw, setting, 3 if setting == "batch" else 2) == "parse_fail"


@pytest.mark.parametrize("raw,expected", [
    ("I'd rate it 4. On second thought, Final score: 2", 2),  # the revision restated in a stronger anchor
    ("Score: 4. No wait, let me check... yes, Score: 4", 4),  # revised back to the same verdict
    ("Score: 4. The response is actually quite good.", 4),
    ("Score: 4. It is actually a good answer.", 4),
])
def test_revision_restated_as_a_verdict_or_no_revision(raw: str, expected: int) -> None:
    assert _one(raw, "score") == expected


@pytest.mark.parametrize("raw,expected", [
    ("Ranking from worst to best: C > A > B", (1, 0, 2)),
    ("worst to best: C, A, B", (1, 0, 2)),
    ("Ranking (in ascending order of quality): C > A > B", (1, 0, 2)),
    ("From lowest to highest: C > A > B", (1, 0, 2)),
    ("Ranking (worst to best):\n1. C\n2. A\n3. B", (1, 0, 2)),
    ("Here is the order from worst to best:\nC > A > B", (1, 0, 2)),
    ("Final ranking (least to most helpful): CAB", (1, 0, 2)),
    ("Ranking from best to worst: C > A > B", (2, 0, 1)),
    ("best to worst: C, A, B", (2, 0, 1)),
    ("Ranking (descending order of quality): C > A > B", (2, 0, 1)),
    ("Final ranking: C > A > B", (2, 0, 1)),
])
def test_a_stated_ranking_direction_is_turned_best_first(raw: str, expected: tuple[int, ...]) -> None:
    assert _one(raw, "batch", 3) == expected


def test_named_rubric_ranking_direction_is_respected() -> None:
    out = parse_output("Clarity ranking (worst to best): CAB\nAccuracy ranking: CAB", "batch",
                       ("clarity", "accuracy"), n_responses=3)
    assert [o.value for o in out if isinstance(o, Verdict)] == [(1, 0, 2), (2, 0, 1)]


@pytest.mark.parametrize("raw,expected", [
    ('Response 1 is better than Response 2.\n{"overall_comment": "x", "overall_choice": "2"}', "parse_fail"),
    ('{"overall_comment": "x", "overall_choice": "2"}\nIn short, Assistant A is superior.', "parse_fail"),
    ('Response 1 is better in style, but Response 2 is correct.\n{"overall_comment": "x", "overall_choice": "2"}',
     "second"),
    ('Response 2 is better.\n{"overall_comment": "x", "overall_choice": "2"}', "second"),
])
def test_sentence_contradicting_a_json_pair_answer_is_parse_fail(raw: str, expected: str) -> None:
    assert _one(raw, "pair") == expected


@pytest.mark.parametrize("raw,expected", [
    ('{"overall_comment": "ok", "overall_score": 4}\nNo wait, actually 2.', "parse_fail"),
    ('{"overall_comment": "ok", "overall_score": 4}\nOn second thought, I change my score to 3.', "parse_fail"),
    ('Actually, let me answer in JSON.\n{"overall_comment": "ok", "overall_score": 4}', 4),
    ('{"overall_comment": "ok", "overall_score": 4}\nHope this helps!', 4),
])
def test_a_json_answer_revised_after_it_is_parse_fail(raw: str, expected: object) -> None:
    assert _one(raw, "score") == expected
