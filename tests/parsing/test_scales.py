"""Score scales plug into every strategy: 1–10, 0–100 and named levels read on their own scale, never
rescaled; the 1–5 default is unchanged."""

from __future__ import annotations

import pytest

from judgeanything.parsing import parse_output
from judgeanything.schema import Failure, Outcome, SchemaError, ScoreScale

TEN, HUNDRED = ScoreScale(1, 10), ScoreScale(0, 100)
NAMED = ScoreScale(1, 4, ("poor", "fair", "good", "very good"))


def _r(o: Outcome) -> object:
    return o.kind if isinstance(o, Failure) else o.value


@pytest.mark.parametrize("raw,scale,want", [
    ("Score: 8/10", TEN, 8), ("Score: 8/10", ScoreScale(), "out_of_range"), ("Rating: 10", TEN, 10),
    ("Rating: 11", TEN, "out_of_range"), ("I would give it a 7.", TEN, 7), ("[[9]]", TEN, 9),
    ("53", TEN, "out_of_range"),
    ("Score: 85/100", HUNDRED, 85), ("0", HUNDRED, 0), ("Score: 100", HUNDRED, 100), ("2141", HUNDRED, "parse_fail"),
    ("Score: 85/10", HUNDRED, "out_of_range"), ("Rating: very good", NAMED, 4), ("Verdict: fair.", NAMED, 2),
    ("good", NAMED, 3), ('{"overall_comment": "x", "overall_score": 9}', TEN, 9),
    ('{"overall_comment": "x", "overall_score": 9}', ScoreScale(), "out_of_range"),
    ('{"overall_score": "very good"}', NAMED, 4),
])
def test_score_on_its_scale(raw: str, scale: ScoreScale, want: object) -> None:
    (o,) = parse_output(raw, "score", ["overall"], scale=scale)
    assert _r(o) == want


def test_strict_reads_the_scale_and_bad_scales_are_refused() -> None:
    (o,) = parse_output('{"overall_comment": "x", "overall_score": 73}', "score", ["overall"], strategy="strict",
                        scale=HUNDRED)
    assert _r(o) == 73 and o.parsed_by == "strict/json"
    with pytest.raises(SchemaError, match="above max"):
        ScoreScale(5, 1)
    with pytest.raises(SchemaError, match="needs 3 labels"):
        ScoreScale(1, 3, ("a", "b"))


@pytest.mark.parametrize(("raw", "value"), [
    ("Score: 4 (on a scale of 10)", None), ("Rating: 7, on a 10-point scale", None),
    ("Score: 4 (on a scale of 1 to 10)", None), ("Score: 4 on a scale of 1-5", 4),
    ("Score: 4 on a scale from 1 to 5", 4), ("Score: 4 (on a 5-point scale)", 4),
])
def test_a_scale_named_after_the_score_is_its_denominator(raw: str, value: int | None) -> None:
    """"4 (on a scale of 10)" is 4/10, on another scale: out_of_range, never read as 4 on a 1–5 rubric."""
    from judgeanything.parsing import parse_output
    from judgeanything.schema import Failure, Verdict

    (o,) = parse_output(raw, "score", ["overall"], n_responses=1)
    if value is None:
        assert isinstance(o, Failure) and o.kind == "out_of_range" and "another scale" in o.detail, o
    else:
        assert isinstance(o, Verdict) and o.value == value, o
