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
