"""parse_output: field cases, our own cases, MLLM-as-a-Judge recorded outputs, and round trips."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from judgeanything import prompts, schema
from judgeanything.judges import hf_logprob
from judgeanything.parsing import parse_output, strip_reasoning
from judgeanything.parsing._common import remove_blocks
from judgeanything.prompts import build_prompt, render_answer
from judgeanything.schema import (
    PAIR_CHOICES,
    RUBRICS,
    BatchItem,
    Failure,
    PairItem,
    Query,
    Response,
    ScoreItem,
    Verdict,
    ranking_from_letters,
)
from tests.support.jsonl import read_jsonl

HERE = Path(__file__).parent
CASES_FILE = HERE / "cases_judge_outputs.jsonl"
FIELD_CASES = read_jsonl(CASES_FILE)


def _result(o: Verdict | Failure) -> object:
    """What a case's ``expect`` names: the verdict value, or the failure kind."""
    return o.value if isinstance(o, Verdict) else o.kind


def test_field_cases_copy_is_complete() -> None:
    assert len(FIELD_CASES) == 15
    assert len({c["id"] for c in FIELD_CASES}) == 15


def test_field_cases_copy_equals_shared_source(shared_dir: Path) -> None:
    src = shared_dir / "cases" / "judge_outputs.jsonl"
    assert CASES_FILE.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("case", FIELD_CASES, ids=[c["id"] for c in FIELD_CASES])
def test_field_case(case: dict) -> None:
    out = parse_output(case["raw"], case["setting"], ["overall"], finish_reason=case.get("finish_reason"))
    assert len(out) == 1
    assert _result(out[0]) == case["expect"], case["why"]
    assert out[0].rubric == "overall"
    if isinstance(out[0], Failure):
        assert out[0].detail


# (id, raw, setting, rubrics, n_responses, finish_reason, expected per rubric)
OWN_CASES: list[tuple[str, str, str, tuple[str, ...], int, str | None, list[object]]] = [
    # batch rankings
    ("b-json", '{"overall_comment": "C is best", "overall_ranking": "CADB"}', "batch", ("overall",), 4, None,
     [(2, 0, 3, 1)]),
    ("b-json-list", '{"overall_comment": "", "overall_ranking": ["C", "A", "D", "B"]}', "batch", ("overall",), 4,
     None, [(2, 0, 3, 1)]),
    ("b-partial", '{"overall_comment": "", "overall_ranking": "CAD"}', "batch", ("overall",), 4, None,
     ["parse_fail"]),
    ("b-repeat", '{"overall_comment": "", "overall_ranking": "CADC"}', "batch", ("overall",), 4, None,
     ["parse_fail"]),
    ("b-beyond", "Rank: [[A], [C], [E], [B]]", "batch", ("overall",), 4, None, ["out_of_range"]),
    ("b-chain", "After comparing, my ranking is C > A > D > B.", "batch", ("overall",), 4, None, [(2, 0, 3, 1)]),
    ("b-bare", "BDCA", "batch", ("overall",), 4, None, [(1, 3, 2, 0)]),
    ("b-spaced-letters", "Final ranking: C A D B", "batch", ("overall",), 4, None, [(2, 0, 3, 1)]),
    ("b-two", '{"overall_comment": "x", "overall_ranking": "BA"}', "batch", ("overall",), 2, None, [(1, 0)]),
    ("b-prose-only", "Assistant C is the most detailed, while Assistant D's response is the least detailed.",
     "batch", ("overall",), 4, None, ["parse_fail"]),
    # MLLM-as-a-Judge recorded batch outputs (HQ_Batch.jsonl, evaluator.judge), tails kept verbatim
    ("mllm-rank", "{ Analysis: Assistant A: correct date., Assistant D: describes the wrong chart. }, "
     "Judgement: Rank: [[A], [C], [D], [B]] }}", "batch", ("overall",), 4, None, [(0, 2, 3, 1)]),
    ("mllm-ranking-then-more", "}, Judgement: Ranking: [[D], [C], [B], [A]] }}Explanation of Judgement:- "
     "Assistant D's answer is the most thorough.", "batch", ("overall",), 4, None, [(3, 2, 1, 0)]),
    ("mllm-double-brackets", "the ranking of the responses from best to worst is as follows:[[C]], [[B]], [[A]], "
     "[[D]]Assistant C provides the most satisfactory response. Assistant A's response is somewhat relevant.",
     "batch", ("overall",), 4, None, [(2, 1, 0, 3)]),
    ("mllm-plain-letters", "}, Judgement: Rank: [C, B, D, A] }}", "batch", ("overall",), 4, None, [(2, 1, 3, 0)]),
    ("mllm-spaced", "}, Judgement: Rank: [   [[C]],   [[A]],   [[B]],   [[D]]  ] }}", "batch", ("overall",), 4,
     None, [(2, 0, 1, 3)]),
    ("mllm-three", "}, Judgement: Ranking: [[C], [A], [B]] }}", "batch", ("overall",), 3, None, [(2, 0, 1)]),
    ("mllm-three-of-four", "}, Judgement: Ranking: [[C], [A], [B]] }}", "batch", ("overall",), 4, None,
     ["parse_fail"]),
    # MLLM-as-a-Judge recorded pair and score outputs (result.judge)
    ("mllm-pair-A", "A", "pair", ("overall",), 2, None, ["first"]),
    ("mllm-pair-C-bare", "C", "pair", ("overall",), 2, None, ["parse_fail"]),
    ("mllm-score-4", "4", "score", ("overall",), 1, None, [4]),
    ("mllm-score-run", "11114", "score", ("overall",), 1, None, ["parse_fail"]),
    ("mllm-score-53", "53", "score", ("overall",), 1, None, ["parse_fail"]),
    # rubric-mode JSON with one rubric out of range
    ("rubrics-one-oor",
     json.dumps({"relevance_comment": "on topic", "relevance_score": 4, "clarity_comment": "crisp",
                 "clarity_score": 7, "coherence_comment": "ok", "coherence_score": "3/5"}),
     "score", ("relevance", "clarity", "coherence"), 1, None, [4, "out_of_range", 3]),
    ("rubrics-pair-one-oor",
     json.dumps({"relevance_comment": "", "relevance_choice": "2", "clarity_comment": "", "clarity_choice": 5}),
     "pair", ("relevance", "clarity"), 2, None, ["second", "out_of_range"]),
    ("rubrics-missing-key", json.dumps({"relevance_comment": "x", "relevance_score": 2}), "score",
     ("relevance", "clarity"), 1, None, [2, "parse_fail"]),
    ("rubrics-truncated",
     '{"relevance_comment": "good", "relevance_score": 4, "clarity_comment": "The response is clear and',
     "score", ("relevance", "clarity"), 1, "length", [4, "truncated"]),
    # markdown tables
    ("table-score", "| Rubric | Score | Why |\n|---|---|---|\n| Relevance | 4 | on topic |\n"
     "| **Clarity** | 5/5 | crisp |\n| Coherence | 2 | jumps |", "score", ("relevance", "clarity", "coherence"),
     1, None, [4, 5, 2]),
    ("table-pair", "| Criterion | Better |\n|---|---|\n| Relevance | Response 2 |\n| Clarity | Tie |\n"
     "| Coherence | [[A]] |", "pair", ("relevance", "clarity", "coherence"), 2, None, ["second", "tie", "first"]),
    ("table-score-oor", "| Criterion | Score |\n|---|---|\n| Relevance | 8/10 |\n| Clarity | 3 |", "score",
     ("relevance", "clarity"), 1, None, ["out_of_range", 3]),
    ("lines-batch", "Relevance: CADB\nClarity ranking: C > A > B > D", "batch", ("relevance", "clarity"), 4, None,
     [(2, 0, 3, 1), (2, 0, 1, 3)]),
    # pair wording
    ("pair-brackets-tie", "Both are accurate. [[C]]", "pair", ("overall",), 2, None, ["tie"]),
    ("pair-equal-words", "Both responses are equally good at describing the scene.", "pair", ("overall",), 2,
     None, ["tie"]),
    ("pair-worse", "Response 1 is worse than Response 2 on every count.", "pair", ("overall",), 2, None,
     ["second"]),
    # "both"/"neither"/"same" after an anchor are a tie only when they are the whole value
    ("pair-both-but-winner", "Final verdict: Both have flaws, but Response 2 is better.", "pair", ("overall",),
     2, None, ["second"]),
    ("pair-same-but-letter", "Answer: same length, but A is more accurate", "pair", ("overall",), 2, None,
     ["parse_fail"]),
    ("pair-neither-alone", "Final verdict: neither\n\nBoth are weak in the same ways.", "pair", ("overall",), 2,
     None, ["tie"]),
    # a statement after an anchor is read as a statement: "worse" names the other response
    ("pair-anchor-worse", "Verdict: Response 1 is worse.", "pair", ("overall",), 2, None, ["second"]),
    ("pair-anchor-first-weaker", "Final verdict: the first response is weaker", "pair", ("overall",), 2, None,
     ["second"]),
    ("pair-anchor-letter-worse", "Answer: A is worse than B.", "pair", ("overall",), 2, None, ["second"]),
    ("pair-anchor-letter-though", "Verdict: A, though B is more fluent", "pair", ("overall",), 2, None,
     ["first"]),
    ("pair-table-same", "| Criterion | Better |\n|---|---|\n| Clarity | Same |", "pair", ("clarity",), 2, None,
     ["tie"]),
    ("pair-json-letter-C", '{"overall_comment": "x", "overall_choice": "C"}', "pair", ("overall",), 2, None,
     ["parse_fail"]),
    ("pair-json-3", '{"overall_comment": "x", "overall_choice": 3}', "pair", ("overall",), 2, None,
     ["out_of_range"]),
    ("pair-lone-1", "Verdict: 1", "pair", ("overall",), 2, None, ["parse_fail"]),
    ("pair-key-1", "overall_choice: 1", "pair", ("overall",), 2, None, ["tie"]),
    # two statements that disagree are a parse failure, never the last one silently (issue 8 item 11)
    ("pair-two-statements-disagree", "At first glance Response 1 is better. On reflection, Response 2 is better.",
     "pair", ("overall",), 2, None, ["parse_fail"]),
    ("pair-statement-restated", "Response 2 is better. In short, Response 2 is better.", "pair", ("overall",), 2,
     None, ["second"]),
    ("pair-bracket-beats-sentence", "Final verdict: [[A]]. Response 2 is stronger in style only.", "pair",
     ("overall",), 2, None, ["first"]),
    # a JSON answer and a strongest-tier verdict in the text: agreeing is one verdict, disagreeing a failure
    ("json-and-prose-agree", '{"overall_comment": "x", "overall_choice": "2"}\nFinal verdict: [[B]]', "pair",
     ("overall",), 2, None, ["second"]),
    ("json-and-prose-disagree", '{"overall_comment": "x", "overall_choice": "0"}\nActually, final verdict: [[B]]',
     "pair", ("overall",), 2, None, ["parse_fail"]),
    ("json-and-rubric-line-disagree", 'Relevance: 4\n{"relevance_comment": "x", "relevance_score": 2}', "score",
     ("relevance",), 1, None, ["parse_fail"]),
    ("json-and-weak-sentence", '{"overall_comment": "x", "overall_choice": "0"}\nResponse 2 is better in style.',
     "pair", ("overall",), 2, None, ["first"]),
    # JSON variants
    ("json-python-dict", "{'overall_comment': 'fine', 'overall_score': 4,}", "score", ("overall",), 1, None, [4]),
    ("json-nested", '{"overall": {"comment": "x", "score": 2}}', "score", ("overall",), 1, None, [2]),
    ("json-bare-key", '```json\n{"reason": "x", "choice": "B"}\n```', "pair", ("overall",), 2, None, ["second"]),
    ("json-echo-then-answer", '{"overall_comment": "<your comment>", "overall_choice": "<0, 1 or 2>"}\n'
     '{"overall_comment": "the first is right", "overall_choice": "0"}', "pair", ("overall",), 2, None, ["first"]),
    ("json-sentence-value", '{"verdict": "Response 1 is better in tone, but Response 2 is better overall."}',
     "pair", ("overall",), 2, None, ["second"]),
    ("json-float", '{"overall_comment": "x", "overall_score": 4.0}', "score", ("overall",), 1, None, [4]),
    ("json-half", '{"overall_comment": "x", "overall_score": 3.5}', "score", ("overall",), 1, None,
     ["out_of_range"]),
    ("json-bool", '{"overall_comment": "x", "overall_score": true}', "score", ("overall",), 1, None,
     ["parse_fail"]),
    # scores in words
    ("score-give", "Mostly right. I would give it a 4.", "score", ("overall",), 1, None, [4]),
    ("score-out-of", "Overall score (1-5): 2", "score", ("overall",), 1, None, [2]),
    ("score-another-scale", "Rating: 4/4", "score", ("overall",), 1, None, ["out_of_range"]),
    ("score-six", "Score: 6", "score", ("overall",), 1, None, ["out_of_range"]),
    ("score-negative", "Score: -1", "score", ("overall",), 1, None, ["out_of_range"]),
    ("score-range", "Score: 3-4", "score", ("overall",), 1, None, ["parse_fail"]),
    ("score-alternatives", "Rating: 3 or 4, leaning 4", "score", ("overall",), 1, None, ["parse_fail"]),
    ("score-dash-comment", "Score: 4 - a good answer", "score", ("overall",), 1, None, [4]),
    ("score-later-numbers", "Score: 4. The response has 2 small issues in 3 places.", "score", ("overall",), 1,
     None, [4]),
    # reasoning, refusals, truncation
    ("think-unclosed-length", "<think>Let me weigh both answers carefully", "pair", ("overall",), 2, "length",
     ["truncated"]),
    ("think-only", "<think>[[A]]</think>", "pair", ("overall",), 2, None, ["parse_fail"]),
    ("think-lone-close", "weighing...</think>\nFinal verdict: [[B]]", "pair", ("overall",), 2, None, ["second"]),
    ("refusal-cannot", "I cannot help with evaluating this content.", "score", ("overall",), 1, None,
     ["refusal"]),
    ("refusal-rubrics", "I'm sorry, but I can't assist with that.", "score", ("relevance", "clarity"), 1, None,
     ["refusal", "refusal"]),
    ("length-but-complete", '{"overall_comment": "ok", "overall_score": 5}', "score", ("overall",), 1,
     "max_tokens", [5]),
    ("unclosed-json-no-limit", '{"overall_comment": "Response 2 is better because', "pair", ("overall",), 2, None,
     ["parse_fail"]),
]


@pytest.mark.parametrize("cid,raw,setting,rubrics,n,finish,expected", OWN_CASES, ids=[c[0] for c in OWN_CASES])
def test_own_case(cid: str, raw: str, setting: str, rubrics: tuple[str, ...], n: int, finish: str | None,
                  expected: list[object]) -> None:
    out = parse_output(raw, setting, rubrics, n_responses=n, finish_reason=finish)
    assert [o.rubric for o in out] == list(rubrics)
    assert [_result(o) for o in out] == expected
    for o in out:
        if isinstance(o, Failure):
            assert o.detail, f"{cid}: failure without detail"


def test_comments_are_kept_per_rubric() -> None:
    raw = json.dumps({"relevance_comment": "on topic", "relevance_score": 4,
                      "clarity_comment": "a bit long", "clarity_score": 3})
    out = parse_output(raw, "score", ["relevance", "clarity"])
    assert [(o.rubric, o.value, o.comment) for o in out] == [("relevance", 4, "on topic"),
                                                             ("clarity", 3, "a bit long")]


def test_failure_details_say_what_was_seen() -> None:
    (o,) = parse_output("Score: 8/10", "score", ["overall"])
    assert o.kind == "out_of_range" and "8/10" in o.detail
    (o,) = parse_output("The answer is thoughtful and well organised.", "score", ["overall"])
    assert o.kind == "parse_fail" and "thoughtful" in o.detail
    (o,) = parse_output('{"overall_comment": "x", "overall_ranking": "CAD"}', "batch", ["overall"], n_responses=4)
    assert "partial" in o.detail and "CAD" in o.detail


def test_strip_reasoning() -> None:
    assert strip_reasoning("<think>a</think> B <think>c</think>") == "B"
    assert strip_reasoning("<THINKING>x</THINKING>[[A]]") == "[[A]]"
    assert strip_reasoning("pre</think>post") == "post"
    assert strip_reasoning("answer <think>unfinished") == "answer"
    assert strip_reasoning("<think>a<reasoning>b</think>C<reasoning>d</REASONING>E") == "CE"


def test_reasoning_blocks_removed_as_the_non_greedy_regex_would() -> None:
    import random
    import re

    block = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.S | re.I)
    pieces = ["<think>", "</think>", "<THINK>", "<thinking>", "</thinking>", "<reasoning>", "</Reasoning>",
              "a", "b ", "\n", "<", ">", "/"]
    rng = random.Random(0)
    for _ in range(3000):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert remove_blocks(raw) == block.sub("", raw), raw


def test_failure_details_are_capped() -> None:
    (o,) = parse_output('{"overall_score": "' + "n/a " * 100_000 + '"}', "score", ["overall"])
    assert isinstance(o, Failure) and o.kind == "parse_fail" and "has no number" in o.detail
    assert len(o.detail) <= 300


@pytest.mark.parametrize("args,match", [
    (("x", "rank", ["overall"]), "unknown setting"),
    (("x", "pair", []), "non-empty"),
    (("x", "pair", "overall"), "non-empty"),
])
def test_bad_arguments_raise(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_output(*args)
    with pytest.raises(ValueError, match="n_responses=1"):
        parse_output("AB", "batch", ["overall"], n_responses=1)


def test_answer_contract_has_one_copy_in_schema() -> None:
    """Prompts, the token-probability judge and the parser use schema's contract, not copies of it."""
    assert prompts.ANSWER_SUFFIX is schema.ANSWER_SUFFIX and prompts.verdict_key is schema.verdict_key
    assert hf_logprob.PAIR_CANDIDATES == dict(schema.PAIR_CODE)
    assert hf_logprob.answer_key("pair", "clarity") == schema.verdict_key("pair", "clarity") == "clarity_choice"
    src = Path(schema.__file__).parent
    for path in [*src.joinpath("parsing").glob("*.py"), *src.joinpath("prompts").glob("*.py"),
                 src / "judges" / "hf_logprob.py"]:
        text = path.read_text()
        assert '"choice", "batch"' not in text and '{"0": "first"' not in text, path


# ------------------------------------------------------------------------------------------------
# Round trip: the answer our own prompt asks for parses back to the values it encodes
# ------------------------------------------------------------------------------------------------

RUBRIC_SETS = [("overall",), RUBRICS, ("clarity", "coherence")]


def _values(setting: str, rubrics: tuple[str, ...], n: int, k: int) -> dict[str, object]:
    """The k-th assignment of values to rubrics (cycling through every possible value)."""
    if setting == "score":
        domain: list[object] = [1, 2, 3, 4, 5]
    elif setting == "pair":
        domain = list(PAIR_CHOICES)
    else:
        domain = list(itertools.permutations(range(n)))
    return {r: domain[(k + 7 * i) % len(domain)] for i, r in enumerate(rubrics)}


def _wrappers() -> list:
    return [
        lambda s: s,
        lambda s: f"```json\n{s}\n```",
        lambda s: f"<think>Response 1 is better? [[B]] Score: 1</think>\n{s}\nHope this helps.",
        lambda s: f"Here is my judgement:\n{json.dumps(json.loads(s), indent=2)}",
    ]


@pytest.mark.parametrize("rubrics", RUBRIC_SETS, ids=["overall", "six", "two"])
@pytest.mark.parametrize("setting,n", [("score", 1), ("pair", 2), ("batch", 2), ("batch", 3), ("batch", 4)])
def test_round_trip(setting: str, n: int, rubrics: tuple[str, ...]) -> None:
    n_values = {"score": 5, "pair": 3, "batch": len(list(itertools.permutations(range(n))))}[setting]
    for k in range(n_values):
        values = _values(setting, rubrics, n, k)
        comments = {r: f"{r} judged as {values[r]!s}; the response is 'fine'" for r in rubrics}
        answer = render_answer(setting, values, n_responses=n, comments=comments)
        for wrap in _wrappers():
            out = parse_output(wrap(answer), setting, rubrics, n_responses=n)
            assert [(o.rubric, _result(o)) for o in out] == [(r, values[r]) for r in rubrics]
            assert [o.comment for o in out] == [comments[r] for r in rubrics]


@pytest.mark.parametrize("setting", ["score", "pair", "batch"])
@pytest.mark.parametrize("mode", ["overall", "rubrics"])
def test_round_trip_through_a_built_prompt(setting: str, mode: str) -> None:
    """The schema of a rendered prompt names the keys; an answer built from those keys parses back."""
    q = Query("q", "Text2Text", "Explain rain.")
    resp = [Response(f"r{k}", "q", f"m{k}", "text", text=f"answer {k}") for k in range(3)]
    item = {"score": ScoreItem("i", q, resp[0]), "pair": PairItem("i", q, resp[0], resp[1]),
            "batch": BatchItem("i", q, tuple(resp))}[setting]
    p = build_prompt(item, mode)
    value = {"score": "4", "pair": "2", "batch": "CAB"}[setting]
    keys = list(p.output_schema["properties"])
    answer = {k: (f"comment {k}" if k.endswith("_comment") else value) for k in keys}
    out = parse_output(json.dumps(answer), setting, p.rubrics, n_responses=p.n_responses)
    want = {"score": 4, "pair": "second", "batch": ranking_from_letters("CAB")}[setting]
    assert [_result(o) for o in out] == [want] * len(p.rubrics)


# ------------------------------------------------------------------------------------------------
# MLLM-as-a-Judge recorded outputs (../shared), measured agreement with the release's own extraction
# ------------------------------------------------------------------------------------------------


def _rows(shared_dir: Path, name: str) -> list[dict]:
    path = shared_dir / "data" / "mllm_judge" / name
    return read_jsonl(path)


def test_mllm_judge_batch_recorded_rankings(shared_dir: Path) -> None:
    """All 89 recorded batch judgements parse. The release's extracted ranking (``judge_evaluator``) equals
    ours on 79; the other 10 are release inconsistencies (4 letters for 3 answers on 7 rows, and 3 rows
    whose extracted ranking differs from the one written in the judgement text)."""
    rows = _rows(shared_dir, "HQ_Batch.jsonl")
    same = 0
    for row in rows:
        n = len(row["answers"])
        (o,) = parse_output(row["evaluator"]["judge"], "batch", ["overall"], n_responses=n)
        assert isinstance(o, Verdict), (row["id"], o)
        ev = row["evaluator"]["judge_evaluator"]
        same += len(ev) == n and o.value == ranking_from_letters(ev)
    assert len(rows) == 89 and same == 79


def test_mllm_judge_score_recorded_analyses(shared_dir: Path) -> None:
    """Recorded score analyses end with the score (e.g. '... Rating: 4'); 92 of 95 parse to the release's
    clean score (one of them written 'deserves a score of 5'). Runs of digits in ``result.judge`` are
    failures, never scores."""
    rows = _rows(shared_dir, "HQ_Score.jsonl")
    agree = sum(_result(parse_output(r["result"]["analysis"], "score", ["overall"])[0])
                == r["evaluator"]["judge_Evaluator"] for r in rows)
    assert agree == 92
    for r in rows:
        judge = r["result"]["judge"].strip()
        (o,) = parse_output(judge, "score", ["overall"])
        if len(judge) == 1:
            assert o == Verdict("overall", int(judge))
        else:
            assert isinstance(o, Failure) and o.kind == "parse_fail"


def test_mllm_judge_pair_recorded_letters(shared_dir: Path) -> None:
    """Recorded pair verdicts are bare letters: A and B parse; a bare C is not read as a tie (only [[C]] is)."""
    rows = _rows(shared_dir, "HQ_Pair.jsonl")
    for r in rows:
        (o,) = parse_output(r["result"]["judge"], "pair", ["overall"])
        letter = r["result"]["judge"]
        assert _result(o) == {"A": "first", "B": "second", "C": "parse_fail"}[letter]
        (o,) = parse_output(f"[[{letter}]]", "pair", ["overall"])
        assert _result(o) == {"A": "first", "B": "second", "C": "tie"}[letter]


# ------------------------------------------------------------------------------------------------
# Cost on hostile outputs: long runs of braces, quotes, spaces or letters stay linear
# ------------------------------------------------------------------------------------------------

HOSTILE = {
    "braces": "{ x " * 50_000,
    "open-strings": '{"a": "' * 30_000,
    "spaces": "Rank: A" + " " * 100_000 + "b",
    "spaced-lines": "Rank: A" + " \n" * 50_000 + "b",
    "digits": "Score: " + "1" * 100_000,
    "letters": "Rank: " + "A " * 50_000 + "b",
    "unclosed-json": '{"overall_comment": "' + "x" * 200_000,
    "table-cells": "| Relevance | " * 20_000,
    "repeated-think-tags": "<think>" * 30_000,  # a looping model; the old block regex was quadratic here
    "think-tags-unmatched": "<thinking>x</reasoning>" * 10_000,
    "deep-json": '{"a": ' * 50_000,  # json raised RecursionError
    "long-integer": '{"overall_score": ' + "9" * 5_000 + "}",  # json raised ValueError (int digit limit)
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_outputs_fail_fast(name: str) -> None:
    import time

    for setting, n in (("score", 1), ("pair", 2), ("batch", 4)):
        # CPU time of this thread, not wall time: a loaded machine delays the parser but does not make it do
        # more work, while a quadratic pattern on these 50–200k-character inputs costs minutes of CPU
        t0 = time.thread_time()
        out = parse_output(HOSTILE[name], setting, ["overall", "relevance"], n_responses=n)
        cpu = time.thread_time() - t0
        assert cpu < 3.0, f"{name}/{setting} took {cpu:.2f} s of CPU"  # measured ≤ 0.6 s
        assert len(out) == 2


def test_parsed_by_is_recorded_provenance_not_part_of_the_verdict() -> None:
    (o,) = parse_output('{"overall_comment": "x", "overall_score": 4}', "score", ["overall"])
    assert o.parsed_by == "strict/json" and o.to_dict()["parsed_by"] == "strict/json"
    assert Verdict.from_dict(o.to_dict()).parsed_by == "strict/json"
    assert o == Verdict("overall", 4, "x")  # equality ignores provenance
    assert "parsed_by" not in Verdict("overall", 4).to_dict()  # judges that give verdicts directly: absent
    (f,) = parse_output("no verdict here", "score", ["overall"], strategy="lenient")
    assert isinstance(f, Failure) and f.parsed_by == "lenient" and Failure.from_dict(f.to_dict()).parsed_by == "lenient"
