"""Bradley–Terry model rankings against an independent scikit-learn fit."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression

from judgeanything.analysis import analyze_run, bradley_terry
from judgeanything.analysis.ranking import RIDGE

from .runbuilder import item, label, record, v, write_run


def _games(n: int, true: dict[str, float], seed: int) -> list[tuple[str, str, float]]:
    rnd = random.Random(seed)
    ms = list(true)
    out = []
    for _ in range(n):
        a, b = rnd.sample(ms, 2)
        p = 1 / (1 + np.exp(-(true[a] - true[b])))
        u = rnd.random()
        out.append((a, b, 0.5 if u < 0.1 else (1.0 if u < 0.1 + 0.9 * p else 0.0)))
    return out


def test_bradley_terry_equals_sklearn_ridge_logistic_regression() -> None:
    true = {"alpha": 1.2, "beta": 0.4, "gamma": 0.0, "delta": -1.0}
    games = _games(600, true, 0)
    df = bradley_terry(games, n_boot=200)
    ms = sorted(true)
    x, y, w = [], [], []
    for a, b, s in games:  # a tie is half a win for each side
        row = np.zeros(len(ms))
        row[ms.index(a)], row[ms.index(b)] = 1.0, -1.0
        x += [row, row]
        y += [1, 0]
        w += [s, 1 - s]
    # scikit-learn minimises ½‖θ‖² + C·Σ loss ⇔ (λ/2)‖θ‖² + Σ loss with C = 1/λ
    lr = LogisticRegression(C=1 / RIDGE, fit_intercept=False, tol=1e-10, max_iter=10_000)
    lr.fit(np.array(x), np.array(y), sample_weight=np.array(w))
    ref = dict(zip(ms, lr.coef_[0] - lr.coef_[0].mean(), strict=True))
    got = dict(zip(df["model"], df["strength"], strict=True))
    for m in ms:
        assert got[m] == pytest.approx(ref[m], abs=1e-4)
    assert list(df["model"]) == ["alpha", "beta", "gamma", "delta"]
    assert list(df["rank"]) == [1, 2, 3, 4]
    assert (df["ci_low"] <= df["strength"]).all() and (df["strength"] <= df["ci_high"]).all()
    wins = sum(s for a, _, s in games if a == "alpha") + sum(1 - s for _, b, s in games if b == "alpha")
    played = sum(1 for a, b, _ in games if "alpha" in (a, b))
    assert df.set_index("model").loc["alpha", "win_rate"] == pytest.approx(wins / played)


def test_bootstrap_ci_is_seeded_and_covers_truth() -> None:
    true = {"a": 0.8, "b": 0.0, "c": -0.8}
    games = _games(900, true, 1)
    d1 = bradley_terry(games, n_boot=300, seed=5)
    d2 = bradley_terry(games, n_boot=300, seed=5)
    assert d1.equals(d2)
    for _, r in d1.iterrows():
        assert r.ci_low < true[r.model] < r.ci_high


def test_bad_games_rejected() -> None:
    with pytest.raises(ValueError, match="plays itself"):
        bradley_terry([("a", "a", 1.0)])
    with pytest.raises(ValueError, match=r"0, 0\.5 or 1"):
        bradley_terry([("a", "b", 0.7)])
    assert bradley_terry([]).empty


def test_model_rankings_in_run(tmp_path: Path) -> None:
    """Judge and human rankings per task type; Spearman ρ between the two strength vectors."""
    true = {"exact": 2.0, "off_by_one": 0.5, "wrong": -1.0, "blank": -2.0}
    rnd = random.Random(2)
    items, labels, verdicts = [], [], []
    for i in range(400):
        a, b = rnd.sample(list(true), 2)
        task = "Text2Image" if i % 2 else "Image2Text"
        iid = f"{i}::p"
        items.append(item(iid, "pair", task, [a, b]))
        h = "first" if true[a] > true[b] else "second"
        labels.append(label(iid, h))
        j = h if rnd.random() < 0.8 else ("second" if h == "first" else "first")
        verdicts.append(record(iid, "pair", [v(j)]))
    d = write_run(tmp_path / "rank", items=items, labels=labels, verdicts=verdicts)
    m = analyze_run(d, bootstrap=100)
    rk = m["settings"]["pair"]["rubrics"]["overall"]["model_rankings"]
    assert set(rk) == {"pooled", "Image2Text", "Text2Image"}
    judge_order = [r["model"] for r in rk["pooled"]["judge"]]
    assert judge_order == ["exact", "off_by_one", "wrong", "blank"]
    js = {r["model"]: r["strength"] for r in rk["Text2Image"]["judge"]}
    hs = {r["model"]: r["strength"] for r in rk["Text2Image"]["human"]}
    ms = sorted(js)
    assert rk["Text2Image"]["spearman"] == pytest.approx(stats.spearmanr([js[k] for k in ms],
                                                                         [hs[k] for k in ms]).statistic)
