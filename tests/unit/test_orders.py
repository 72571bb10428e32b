"""Presentation orders and the mapping of verdicts back to dataset orientation."""

from __future__ import annotations

import itertools

import pytest

from judgeanything.orders import to_presented
from judgeanything.runner import (
    RunConfigError,
    RunOptions,
    present,
    presentation_orders,
    to_dataset_orientation,
    williams_rows,
)
from judgeanything.schema import BatchItem, Failure, PairItem, Query, Response, ScoreItem, Verdict


def _resp(i: int) -> Response:
    return Response(f"r{i}", "u", f"m{i}", "text", text="x" * (i + 1))


def _pair(item_id: str = "p") -> PairItem:
    return PairItem(item_id, Query("u", "Text2Text", "q"), _resp(0), _resp(1))


def _batch(n: int = 4) -> BatchItem:
    return BatchItem("b", Query("u", "Text2Text", "q"), tuple(_resp(i) for i in range(n)))


def test_williams_square_is_latin_and_balanced():
    for n in (2, 4, 6):
        rows = williams_rows(n)
        assert all(sorted(r) == list(range(n)) for r in rows)
        assert all(sorted(col) == list(range(n)) for col in zip(*rows, strict=True))
        neighbours = [(r[i], r[i + 1]) for r in rows for i in range(n - 1)]
        assert len(set(neighbours)) == len(neighbours) == n * (n - 1)  # each ordered pair once


def test_pair_orders():
    it = _pair()
    assert presentation_orders(it) == [(0, 1)]
    assert presentation_orders(it, pair_order="both") == [(0, 1), (1, 0)]
    drawn = {presentation_orders(_pair(f"p{i}"), pair_order="random")[0] for i in range(40)}
    assert drawn == {(0, 1), (1, 0)}
    assert presentation_orders(it, pair_order="random") == presentation_orders(it, pair_order="random")


def test_batch_orders_put_every_response_in_every_slot():
    for policy in ("cyclic", "latin"):
        orders = presentation_orders(_batch(), batch_permutations=policy)
        assert len(orders) == 4
        assert all(sorted(col) == [0, 1, 2, 3] for col in zip(*orders, strict=True))


def test_present_and_map_back_round_trip():
    it = _pair()
    swapped = present(it, (1, 0))
    assert swapped.response_a.response_id == "r1"
    # the judge saw the dataset's second response first and preferred it: dataset says "second"
    assert to_dataset_orientation(Verdict("overall", "first"), (1, 0)).value == "second"
    v = Verdict("overall", "tie", probs={"first": 0.7, "tie": 0.2, "second": 0.1})
    back = to_dataset_orientation(v, (1, 0))
    assert back.probs == {"second": 0.7, "tie": 0.2, "first": 0.1}
    b = _batch()
    for order in itertools.permutations(range(4)):
        shown = present(b, order)
        ranking_presented = (2, 0, 3, 1)
        canon = to_dataset_orientation(Verdict("overall", ranking_presented), order).value
        assert [shown.responses[s].response_id for s in ranking_presented] == [f"r{s}" for s in canon]
        assert to_presented(Verdict("overall", canon), order).value == ranking_presented
    f = Failure("parse_fail", "x", "overall")
    assert to_dataset_orientation(f, (1, 0)) is f
    assert present(ScoreItem("s", it.query, _resp(0)), (0,)).item_id == "s"


@pytest.mark.parametrize("policy", ["cyclic", "latin", "random"])
@pytest.mark.parametrize("k", [0, -2])
def test_a_permutation_count_below_one_is_refused(policy, k):
    with pytest.raises(RunConfigError, match=f"setting.n_permutations={k}: must be at least 1"):
        presentation_orders(_batch(), batch_permutations=policy, n_permutations=k)
    with pytest.raises(RunConfigError, match="n_permutations"):
        RunOptions(batch_permutations=policy, n_permutations=k)
    assert len(presentation_orders(_batch(), batch_permutations=policy, n_permutations=2)) == 2


def test_unit_keys_change_with_item_content_not_with_nothing():
    from judgeanything.runner import plan_units

    kw = dict(mode="overall", rubrics=("overall",), judge_fp={"name": "j"}, prompt_version="v1")
    a = plan_units([_pair()], **kw)
    assert [u.key for u in a] == [u.key for u in plan_units([_pair()], **kw)]
    edited = PairItem("p", Query("u", "Text2Text", "q (edited)"), _resp(0), _resp(1))
    assert plan_units([edited], **kw)[0].key != a[0].key
    assert plan_units([_pair()], **{**kw, "prompt_version": "v2"})[0].key != a[0].key


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_both_orientation_maps_are_inverse_for_every_probs_key(order):
    # a judge may report mass on keys other than the two choices (tie, or what it could not place): both maps
    # keep such keys by name and swap only first/second, so presented → dataset → presented is the identity
    probs = {"first": 0.5, "second": 0.2, "tie": 0.2, "unplaced": 0.1}
    v = Verdict("overall", "first", "c", probs, None)
    canon = to_dataset_orientation(v, order)
    assert isinstance(canon, Verdict)
    swapped = order == (1, 0)
    assert canon.value == ("second" if swapped else "first")
    assert canon.probs == ({"second": 0.5, "first": 0.2, "tie": 0.2, "unplaced": 0.1} if swapped else probs)
    assert to_presented(canon, order) == v
    assert to_dataset_orientation(to_presented(canon, order), order) == canon


def test_replay_gets_its_recorded_verdicts_at_construction():
    import asyncio

    from judgeanything.judges.base import JudgeConfigError, JudgeRequest
    from judgeanything.judges.replay import ReplayJudge
    from judgeanything.prompts import build_prompt

    recorded = {"gpt4": {"p": [Verdict("overall", "first")]}, "gemini": {"p": [Verdict("overall", "second")],
                                                                      "q": [Verdict("overall", "tie")]}}
    raw = {"gpt4": {"p": "[[A]]"}}
    judge = ReplayJudge(recorded=recorded, recorded_raw=raw)  # no judge_name: first recorded judge by name
    item = present(_pair(), (1, 0))
    req = JudgeRequest("k", item, build_prompt(item, "overall", ("overall",)), order=(1, 0))
    (res,) = asyncio.run(judge.judge([req]))
    assert res.outcomes == [Verdict("overall", "first")]  # gemini's dataset "second", shown first
    assert res.model == "recorded:gemini" and res.raw == ""
    (res,) = asyncio.run(ReplayJudge("gpt4", recorded=recorded, recorded_raw=raw).judge([req]))
    assert res.outcomes == [Verdict("overall", "second")] and res.raw == "[[A]]"
    with pytest.raises(JudgeConfigError, match="no recorded judge named 'claude'"):
        ReplayJudge("claude", recorded=recorded)
    with pytest.raises(JudgeConfigError, match="no recorded verdicts"):
        ReplayJudge()
