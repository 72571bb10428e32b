"""OmniArena ranking math: Bradley–Terry with ties as half-wins, Davidson's tie model, Kendall τ with a
bootstrap CI, the win-rate matrix — and, on the probe suite where model quality is known by construction,
a synthetic judge of known accuracy recovering the constructed order."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from judgeanything.analysis.arena import games_frame, kendall_tau_ci, rank_arena, win_rate_matrix
from judgeanything.analysis.ranking import bradley_terry, fit_strengths
from judgeanything.datasets.probes import ProbesDataset


def _davidson_games(theta: np.ndarray, nu: float, n: int, seed: int) -> list[tuple[str, str, float]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        i, j = rng.choice(len(theta), 2, replace=False)
        pa, pb = np.exp(theta[i]), np.exp(theta[j])
        pt = nu * np.sqrt(pa * pb)
        u = rng.random() * (pa + pb + pt)
        out.append((f"m{i}", f"m{j}", 1.0 if u < pa else 0.0 if u < pa + pb else 0.5))
    return out


def test_davidson_recovers_strengths_and_tie_parameter() -> None:
    theta = np.array([1.0, 0.3, -0.2, -1.1])
    st = fit_strengths(_davidson_games(theta, 0.8, 8000, seed=3), method="davidson", n_boot=100)
    assert st.models == ["m0", "m1", "m2", "m3"]
    np.testing.assert_allclose(st.theta, theta - theta.mean(), atol=0.1)
    assert st.tie == pytest.approx(0.8, abs=0.08)
    t = st.table.set_index("model")
    assert ((t.ci_low < t.strength) & (t.strength < t.ci_high)).all()
    assert list(st.table.model) == ["m0", "m1", "m2", "m3"]


def test_bt_counts_a_tie_as_half_a_win_and_davidson_models_it() -> None:
    # a beats b twice and ties twice: BT's win rate ¾; Davidson puts part of the tie mass into ν.
    games = [("a", "b", 1.0)] * 2 + [("a", "b", 0.5)] * 2
    bt = bradley_terry(games, n_boot=0).set_index("model")
    assert bt.at["a", "win_rate"] == 0.75 and bt.at["a", "games"] == 4
    # BT: σ(θa − θb) = ¾ up to the weak ridge → θa − θb ≈ log 3.
    assert bt.at["a", "strength"] - bt.at["b", "strength"] == pytest.approx(np.log(3), abs=0.02)
    dv = fit_strengths(games, method="davidson", n_boot=0)
    # Davidson MLE with 2 wins, 0 losses, 2 ties: πa/πb → large, ν√(πa πb)/πa = ties/wins … finite ν > 0.
    assert dv.tie > 0 and dv.theta[0] > dv.theta[1]
    with pytest.raises(ValueError, match="unknown ranking method"):
        fit_strengths(games, method="elo")


def test_no_ties_drive_the_davidson_tie_parameter_to_zero() -> None:
    games = [("a", "b", 1.0)] * 6 + [("a", "b", 0.0)] * 3 + [("b", "c", 1.0)] * 5 + [("c", "b", 1.0)] * 2
    dv = fit_strengths(games, method="davidson", n_boot=0)
    assert dv.tie < 1e-6
    bt = fit_strengths(games, method="bt", n_boot=0)
    np.testing.assert_allclose(dv.theta, bt.theta, atol=0.02)


def test_kendall_tau_with_ci_and_win_rate_matrix() -> None:
    g = games_frame([("human", "T", "a", "b", 1.0), ("human", "T", "a", "b", 1.0), ("human", "T", "b", "c", 1.0),
                     ("human", "T", "b", "c", 0.5), ("human", "T", "a", "c", 1.0),
                     ("judge:x", "T", "a", "b", 0.0), ("judge:x", "T", "a", "b", 0.0), ("judge:x", "T", "b", "c", 1.0),
                     ("judge:x", "T", "b", "c", 1.0), ("judge:x", "T", "a", "c", 1.0)])
    res = rank_arena(g, n_boot=200, seed=1)
    human = res.fits[("human", "pooled")]
    judge = res.fits[("judge:x", "pooled")]
    tau, lo, hi, n = kendall_tau_ci(human, human)
    assert (tau, n) == (1.0, 3) and lo <= 1.0 <= hi
    row = res.agreement.set_index("group").loc["pooled"]
    # human order a > b > c, judge b > a > c: one discordant pair of three → τ = 1/3.
    assert row.kendall_tau == pytest.approx(1 / 3) and row.n_models == 3
    assert row.ci_low <= row.kendall_tau <= row.ci_high
    assert judge.models == ["a", "b", "c"]
    rate, count = win_rate_matrix(g[g.source == "human"], ["a", "b", "c"])
    assert rate.at["a", "b"] == 1.0 and rate.at["b", "c"] == 0.75 and rate.at["c", "b"] == 0.25
    assert count.at["a", "b"] == 2 and np.isnan(rate.at["a", "a"])


def _probe_truth() -> list[list[int]]:
    """Per probe query, the four candidates' construction scores (1–5), best first: "model" Mk answers each
    query with its k-th best candidate, so M1 > M2 > M3 > M4 by construction."""
    data = ProbesDataset(size="small", seed=0).load("score")
    per: dict[str, list[int]] = defaultdict(list)
    score = {lab.item_id: lab.value for lab in data.labels}
    for it in data.items:
        per[it.query.uniq_id].append(int(score[it.item_id]))
    return [sorted(v, reverse=True) for v in per.values()]


def _arena_games(truth: list[list[int]], accuracy: float, seed: int) -> pd.DataFrame:
    """All six battles per probe query between M1..M4: the true outcome (``human``) and that of a synthetic
    judge that gives the true outcome with probability ``accuracy`` and either other outcome otherwise."""
    rng = np.random.default_rng(seed)
    rows = []
    for scores in truth:
        for i, j in combinations(range(4), 2):
            true = 1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0.0
            judged = true if rng.random() < accuracy else rng.choice([s for s in (1.0, 0.5, 0.0) if s != true])
            rows += [("human", "all", f"M{i + 1}", f"M{j + 1}", true),
                     ("judge:synthetic", "all", f"M{i + 1}", f"M{j + 1}", float(judged))]
    return games_frame(rows)


@pytest.mark.parametrize("method", ["bt", "davidson"])
def test_synthetic_judge_on_probes_recovers_the_constructed_order(method: str) -> None:
    truth = _probe_truth()
    assert len(truth) >= 30 and all(s[0] > s[-1] for s in truth)
    tau_width: dict[float, list[float]] = defaultdict(list)
    for seed in (1, 7, 11):
        for acc in (0.95, 0.55):
            res = rank_arena(_arena_games(truth, acc, seed=seed), method=method, n_boot=300, seed=0)
            row = res.agreement.set_index("group").loc["pooled"]
            assert row.ci_low <= row.kendall_tau <= row.ci_high
            tau_width[acc].append(row.ci_high - row.ci_low)
            if acc == 0.95:
                judge = res.rankings[(res.rankings.source == "judge:synthetic") & (res.rankings.group == "pooled")]
                assert list(judge.model) == ["M1", "M2", "M3", "M4"] and row.kendall_tau == 1.0
    # A 95%-accurate judge's τ with the constructed order is 1 in every bootstrap replicate; at 55% the
    # ranking wobbles: the CI opens up in every seed.
    assert tau_width[0.95] == [0.0, 0.0, 0.0]
    assert all(w > 0 for w in tau_width[0.55])


def test_a_judge_that_agrees_battle_by_battle_has_a_paired_ci_of_one() -> None:
    """Humans noisy (60 % right), the judge identical to them on every battle: the rankings agree by
    construction. Resampling the shared battles jointly gives τ = 1 in every replicate; resampling each
    source on its own (no item ids) lets two identical rankings look different."""
    truth = _probe_truth()
    humans = _arena_games(truth, 0.6, seed=3)
    humans = humans[humans.source == "judge:synthetic"].assign(source="human")
    humans["item"] = [f"b{k}" for k in range(len(humans))]
    both = pd.concat([humans, humans.assign(source="judge:twin")], ignore_index=True)
    paired = rank_arena(both, n_boot=200).agreement.set_index("group").loc["pooled"]
    assert (paired.kendall_tau, paired.ci_low, paired.ci_high) == (1.0, 1.0, 1.0)
    assert paired.ci_method.startswith(f"paired: {len(humans)} battles")
    alone = rank_arena(both.assign(item=None), n_boot=200).agreement.set_index("group").loc["pooled"]
    assert alone.kendall_tau == 1.0 and alone.ci_low < 1.0 and alone.ci_method.startswith("independent")
