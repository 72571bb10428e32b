"""Reference baselines behave as their definitions say."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from scipy import stats

from judgeanything.analysis.reference import random_expectations
from judgeanything.judges.base import JudgeConfigError, JudgeRequest
from judgeanything.judges.baselines import FirstJudge, LongerJudge, RandomJudge
from judgeanything.schema import BatchItem, HumanLabel, PairItem, Prompt, Query, Response, ScoreItem

Q = Query("u", "Text2Text", "q")


def _req(item, order=None, sizes=(), rubrics=("overall",)) -> JudgeRequest:
    n = len(item.responses)
    p = Prompt(item.setting, "overall", tuple(rubrics), "", (), "v1/x", {}, n)
    return JudgeRequest(f"k-{item.item_id}", item, p, tuple(order or range(n)), 0, [], list(sizes))


def _pair(i: int, a: str = "aa", b: str = "b") -> PairItem:
    return PairItem(f"p{i}", Q, Response("r1", "u", "m1", "text", text=a), Response("r2", "u", "m2", "text", text=b))


def _run(judge, reqs):
    return asyncio.run(judge.judge(reqs))


def test_random_is_seeded_per_item_and_uniform():
    j = RandomJudge(seed=3)
    reqs = [_req(_pair(i)) for i in range(3000)]
    a = [r.outcomes[0].value for r in _run(j, reqs)]
    b = [r.outcomes[0].value for r in _run(RandomJudge(seed=3), reqs)]
    assert a == b
    counts = [a.count(c) for c in ("first", "tie", "second")]
    assert stats.chisquare(counts).pvalue > 1e-3
    assert a != [r.outcomes[0].value for r in _run(RandomJudge(seed=4), reqs)]


def test_random_expected_accuracy_matches_simulation():
    rng = np.random.default_rng(0)
    labels = [HumanLabel(f"p{i}", "overall", str(rng.choice(["first", "tie", "second"], p=[.45, .15, .4])))
              for i in range(3000)]
    j = RandomJudge(seed=1, choices=["first", "second"])
    exp, _ = random_expectations("pair", [lab.value for lab in labels], j.choices)
    n_tie = sum(lab.value == "tie" for lab in labels)
    assert exp["accuracy_with_tie"] == pytest.approx(0.5 * (1 - n_tie / 3000))
    assert exp["accuracy_without_tie"] == pytest.approx(0.5)
    got = [r.outcomes[0].value for r in _run(j, [_req(_pair(i)) for i in range(3000)])]
    acc = np.mean([g == lab.value for g, lab in zip(got, labels, strict=True)])
    lo, hi = stats.binom.ppf([0.001, 0.999], 3000, exp["accuracy_with_tie"]) / 3000
    assert lo <= acc <= hi


def test_random_score_and_batch_expectations():
    j = RandomJudge()
    exp, _ = random_expectations("score", [1, 3])
    assert exp["exact"] == pytest.approx(0.2)
    assert exp["mae"] == pytest.approx(np.mean([np.mean([0, 1, 2, 3, 4]), np.mean([2, 1, 0, 1, 2])]))
    (e,) = random_expectations("batch", [(0, 1, 2)])[0].values()
    # edit distances of the 6 permutations of 3 slots from (0, 1, 2), by hand: 012→0, every other → 2
    assert e == pytest.approx((0 + 5 * 2) / 6 / 3)
    item = ScoreItem("s", Q, Response("r", "u", "m", "text", text="x"))
    v = _run(j, [_req(item)])[0].outcomes[0].value
    assert 1 <= v <= 5
    b = BatchItem("b", Q, tuple(Response(f"r{i}", "u", f"m{i}", "text", text="x") for i in range(4)))
    assert sorted(_run(j, [_req(b)])[0].outcomes[0].value) == [0, 1, 2, 3]


def test_first_prefers_slot_one_and_has_no_score():
    res = _run(FirstJudge(), [_req(_pair(0), order=(1, 0), rubrics=("relevance", "clarity"))])[0]
    assert [o.value for o in res.outcomes] == ["first", "first"]
    with pytest.raises(JudgeConfigError):
        _run(FirstJudge(), [_req(ScoreItem("s", Q, Response("r", "u", "m", "text", text="x")))])


def test_longer_compares_sizes_per_modality():
    j = LongerJudge()
    res = _run(j, [_req(_pair(0), sizes=[{"chars": 5}, {"chars": 9}]),
                   _req(_pair(1), sizes=[{"chars": 4}, {"chars": 4}])])
    assert [r.outcomes[0].value for r in res] == ["second", "tie"]
    va = Response("a", "u", "m", "video", media=())
    vid = PairItem("v", Query("u", "Text2Video", "q"), va, va)
    r = _run(j, [_req(vid, sizes=[{"duration_s": 3.0}, {"duration_s": 2.0}])])[0]
    assert r.outcomes[0].value == "first"
    r = _run(j, [_req(vid, sizes=[{}, {"duration_s": 2.0}])])[0]
    assert r.failure is not None and r.failure.kind == "media_error"


def test_random_expected_variances_match_enumeration():
    # the expectations live in the analysis layer (it checks the random baseline from the run directory alone)
    var = random_expectations("score", [2])[1]["mae"]
    assert var == pytest.approx(np.var([1, 0, 1, 2, 3]))
    (v,) = random_expectations("batch", [(0, 1, 2)])[1].values()
    d = np.array([0, 2, 2, 2, 2, 2]) / 3  # the 6 permutations' distances from (0, 1, 2), by hand
    assert v == pytest.approx(d.var())
