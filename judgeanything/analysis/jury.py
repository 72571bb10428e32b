"""Juries: several judges' verdicts on the same items combined into one verdict per (item × rubric).

Pure functions on per-item votes (no files; :mod:`judgeanything.jury_cli` reads and writes run directories).
A vote is a member's verdict in dataset orientation — a pair choice ``"first" | "tie" | "second"``, a score,
or a ranking (tuple of 0-based slots, best first) — or ``None`` where the member failed on the item (an
abstention: the jury combines the votes it has).

Methods (``METHODS``):

* ``majority`` — pair: plurality vote over first/tie/second; a *split* (several choices share the most
  votes) is resolved explicitly by ``split``: ``"tie"`` (the jury answers tie, as the human consensus of
  :func:`judgeanything.analysis.agreement.consensus_pair` does) or ``"chair"`` (the vote of the first member,
  in the order given, among the tied choices). Batch: Borda count (mean position; ties by slot index —
  :func:`judgeanything.analysis.agreement.borda`). Scores have no majority: use ``mean`` or ``median``.
* ``mean`` / ``median`` — scores only (the jury's score is the mean / median of the members' scores).
* ``weighted`` — weights learned on a held-out split of human labels (:func:`learn_weights`):

  - pair, learner ``accuracy``: weighted vote with weight ``log(acc·(K−1)/(1−acc))`` per member (the
    optimal weights of a weighted majority of independent classifiers with symmetric errors: Nitzan &
    Paroush 1982, "Optimal decision rules in uncertain dichotomous choice situations", Int. Econ. Rev. 23(2);
    K-class form: Ben-Yashar & Paroush 2001), ``acc`` the member's accuracy on the training items,
    Laplace-smoothed (``(correct + 1) / (n + 2)``) so a perfect member has a finite weight;
  - pair, learner ``logistic``: stacked generalisation (Wolpert 1992, "Stacked generalization", Neural
    Networks 5(2)) — a multinomial logistic regression (scikit-learn) on the one-hot votes of the members;
  - score, learner ``regression``: stacked regression with non-negative weights (Breiman 1996, "Stacked
    regressions", Machine Learning 24) — scikit-learn ``LinearRegression(positive=True)`` of the human score
    on the members' scores, predictions clipped to the labels' range; an abstaining member's score is
    replaced by the mean of the others';
  - batch, learner ``accuracy``: weighted Borda count, weight = the member's mean ``1 − nlev`` (normalised
    Levenshtein distance to the human ranking) on the training items.

Inter-judge agreement: Krippendorff's α (the ``krippendorff`` package, as :mod:`.agreement` uses it) over all
members — nominal for pair choices, interval for scores, ordinal over each slot's rank position for batch
rankings — and for every pair of members.

The binomial model of a jury (Condorcet's jury theorem): ``n`` independent members, each right with
probability ``p_i`` on a two-class item, make a majority that is right with probability
``P(more than n/2 right)``; for three members of equal accuracy ``p``: ``p³ + 3p²(1 − p)``
(:func:`majority_accuracy`).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import krippendorff
import numpy as np

from judgeanything.analysis.agreement import _quiet, borda, normalised_levenshtein
from judgeanything.analysis.reference import poisson_binomial
from judgeanything.schema import PAIR_CHOICES

METHODS = ("majority", "mean", "median", "weighted")
SPLITS = ("tie", "chair")
#: The learners of ``method=weighted`` each setting accepts (the first is the default).
LEARNERS: Mapping[str, tuple[str, ...]] = {"pair": ("accuracy", "logistic"), "score": ("regression",),
                                           "batch": ("accuracy",)}
#: Which methods each setting accepts.
SETTING_METHODS: Mapping[str, tuple[str, ...]] = {"pair": ("majority", "weighted"),
                                                  "score": ("mean", "median", "weighted"),
                                                  "batch": ("majority", "weighted")}
#: Krippendorff α's level of measurement per setting.
ALPHA_LEVEL: Mapping[str, Literal["nominal", "ordinal", "interval"]] = {
    "pair": "nominal", "score": "interval", "batch": "ordinal"}

Vote = Any  # str | float | tuple[int, ...] | None


class JuryError(ValueError):
    """A jury that cannot be formed or combined (bad method for the setting, no training labels…)."""


def check_method(setting: str, method: str, learner: str | None = None) -> str | None:
    """Validate ``method`` (and ``learner`` for ``weighted``) for ``setting``; returns the learner to use.

    Raises:
        JuryError: an unknown setting, method or learner, or one the setting does not accept.
    """
    if setting not in SETTING_METHODS:
        raise JuryError(f"a jury combines pair, score or batch verdicts, not setting {setting!r}")
    if method not in SETTING_METHODS[setting]:
        hint = " (scores have no majority vote: use mean or median)" if setting == "score" else ""
        raise JuryError(f"method {method!r} does not apply to {setting} verdicts; use one of "
                        f"{', '.join(SETTING_METHODS[setting])}{hint}")
    if method != "weighted":
        return None
    learner = learner or LEARNERS[setting][0]
    if learner not in LEARNERS[setting]:
        raise JuryError(f"learner {learner!r} does not apply to {setting} verdicts; use one of "
                        f"{', '.join(LEARNERS[setting])}")
    return learner


# --------------------------------------------------------------------------------------------------
# Unweighted rules
# --------------------------------------------------------------------------------------------------


def majority_pair(votes: Sequence[str | None], *, split: str = "tie",
                  weights: Sequence[float] | None = None) -> tuple[str | None, bool]:
    """Plurality (or weighted) vote over pair choices.

    Args:
        votes: one choice per member, ``None`` for an abstention.
        split: how a split vote is resolved — ``"tie"`` or ``"chair"`` (module docstring).
        weights: one weight per member (``None``: one each).

    Returns:
        ``(choice, was_split)``; ``(None, False)`` when every member abstained.

    Raises:
        JuryError: an unknown ``split`` or a vote that is not a pair choice.
    """
    if split not in SPLITS:
        raise JuryError(f"unknown split rule {split!r}; expected one of {SPLITS}")
    w = [1.0] * len(votes) if weights is None else [float(x) for x in weights]
    tally: dict[str, float] = {}
    for v, wi in zip(votes, w, strict=True):
        if v is None:
            continue
        if v not in PAIR_CHOICES:
            raise JuryError(f"vote {v!r} is not a pair choice {PAIR_CHOICES}")
        tally[v] = tally.get(v, 0.0) + wi
    if not tally:
        return None, False
    best = max(tally.values())
    top = [c for c in PAIR_CHOICES if math.isclose(tally.get(c, -math.inf), best, rel_tol=1e-12, abs_tol=1e-12)]
    if len(top) == 1:
        return top[0], False
    if split == "tie":
        return "tie", True
    return next(v for v in votes if v in top), True


def weighted_borda(rankings: Sequence[Sequence[int] | None],
                   weights: Sequence[float] | None = None) -> tuple[int, ...] | None:
    """Borda aggregate of rankings (best first), each member's positions weighted; ``None`` votes abstain.

    Equal weights give :func:`judgeanything.analysis.agreement.borda` (mean position; a slot absent from a
    ranking is placed after its last element; ties by slot index). Returns ``None`` when all abstained.
    """
    pairs = [(tuple(r), 1.0 if weights is None else float(w))
             for r, w in zip(rankings, weights if weights is not None else [1.0] * len(rankings), strict=True)
             if r is not None]
    if not pairs:
        return None
    if weights is None or len({w for _, w in pairs}) == 1:
        return borda([r for r, _ in pairs])
    slots = sorted({s for r, _ in pairs for s in r})
    total = sum(w for _, w in pairs)
    pos = {s: sum(w * (r.index(s) if s in r else len(r)) for r, w in pairs) / total for s in slots}
    return tuple(sorted(slots, key=lambda s: (pos[s], s)))


def combine_scores(votes: Sequence[float | None], method: str) -> float | None:
    """The mean or median of the members' scores (abstentions left out); ``None`` when all abstained.

    Raises:
        JuryError: ``method`` is not ``mean``/``median``.
    """
    xs = np.array([float(v) for v in votes if v is not None], dtype=np.float64)
    if xs.size == 0:
        return None
    if method == "mean":
        return float(xs.mean())
    if method == "median":
        return float(np.median(xs))
    raise JuryError(f"scores are combined by mean or median, not {method!r}")


# --------------------------------------------------------------------------------------------------
# Learned weights
# --------------------------------------------------------------------------------------------------


@dataclass
class LearnedJury:
    """What :func:`learn_weights` fitted on the training items.

    Attributes:
        learner: ``accuracy`` / ``logistic`` / ``regression``.
        weights: one per member (for ``logistic``: the mean absolute coefficient of the member's one-hot
            columns, for display only — predictions use ``model``).
        train_items: how many labelled items the weights were fitted on.
        member_train_accuracy: per member, accuracy (pair), ``1 − nlev`` (batch) or Pearson r (score) on the
            training items where the member voted.
        intercept: the regression's intercept (``regression`` only).
        model: the fitted scikit-learn estimator (``logistic``/``regression``).
        label_range: (min, max) of the training labels (``regression``: predictions are clipped to it).
    """

    learner: str
    weights: list[float]
    train_items: int
    member_train_accuracy: list[float]
    intercept: float | None = None
    model: Any = None
    label_range: tuple[float, float] | None = None

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary (for ``run.json`` / ``jury.json``)."""
        return {"learner": self.learner, "weights": self.weights, "train_items": self.train_items,
                "member_train_accuracy": self.member_train_accuracy, "intercept": self.intercept,
                "source": LEARNER_SOURCES[self.learner]}


LEARNER_SOURCES: Mapping[str, str] = {
    "accuracy": "weighted vote, weight log(acc(K-1)/(1-acc)): Nitzan & Paroush 1982 (Int. Econ. Rev. 23(2)); "
                "batch: weighted Borda with weight mean(1 - nlev)",
    "logistic": "stacked generalisation (Wolpert 1992, Neural Networks 5(2)): multinomial logistic regression "
                "on one-hot member votes (scikit-learn)",
    "regression": "stacked regression with non-negative weights (Breiman 1996, Machine Learning 24): "
                  "scikit-learn LinearRegression(positive=True)",
}


def accuracy_weight(correct: int, n: int, k: int = 2) -> float:
    """The log-odds weight ``log(acc·(K−1)/(1−acc))`` of a member right ``correct`` times out of ``n``,
    with Laplace smoothing ``acc = (correct + 1)/(n + 2)`` (Nitzan & Paroush 1982; K classes). A member no
    better than chance (acc ≤ 1/K) gets weight 0 rather than a negative one, so it never votes against
    itself."""
    acc = (correct + 1) / (n + 2)
    return max(0.0, math.log(acc * (k - 1) / (1 - acc)))


def _onehot(votes: Sequence[Sequence[str | None]]) -> np.ndarray:
    """``(items, members × 3)`` one-hot of pair votes (first/tie/second; all zero = abstained)."""
    x = np.zeros((len(votes), len(votes[0]) * 3 if votes else 0))
    for i, row in enumerate(votes):
        for j, v in enumerate(row):
            if v is not None:
                x[i, j * 3 + PAIR_CHOICES.index(v)] = 1.0
    return x


def _fill_scores(votes: Sequence[Sequence[float | None]]) -> np.ndarray:
    """``(items, members)`` scores; an abstention takes the mean of the item's other votes (NaN if none)."""
    x = np.array([[np.nan if v is None else float(v) for v in row] for row in votes], dtype=np.float64)
    with np.errstate(all="ignore"):
        fill = np.nanmean(x, axis=1, keepdims=True)
    return np.where(np.isnan(x), fill, x)


def _member_quality(votes: Sequence[Sequence[Vote]], human: Sequence[Any]) -> list[tuple[int, int]]:
    """Per member: (right, voted) on the training items (a vote is right when it equals the human label)."""
    out = []
    for j in range(len(votes[0])):
        pairs = [(row[j], h) for row, h in zip(votes, human, strict=True) if row[j] is not None]
        out.append((sum(v == h for v, h in pairs), len(pairs)))
    return out


def learn_weights(setting: str, learner: str, votes: Sequence[Sequence[Vote]], human: Sequence[Any]) -> LearnedJury:
    """Fit a weighted jury on training items.

    Args:
        setting: ``pair`` / ``score`` / ``batch``.
        learner: one of :data:`LEARNERS` [setting].
        votes: ``(items, members)`` votes on the training items (``None`` = abstained).
        human: ``(items,)`` the human consensus label of each training item.

    Raises:
        JuryError: no training items, a learner the setting does not accept, or (logistic) labels of a
            single class.
    """
    if not votes:
        raise JuryError("no labelled training items: a weighted jury learns its weights from human labels "
                        "(lower --train-fraction, or use another method)")
    check_method(setting, "weighted", learner)
    m = len(votes[0])
    if setting == "pair" and learner == "accuracy":
        k = max(2, len(set(human)))
        q = _member_quality(votes, human)
        return LearnedJury(learner, [accuracy_weight(c, n, k) for c, n in q], len(votes),
                           [c / n if n else math.nan for c, n in q])
    if setting == "pair":
        from sklearn.linear_model import LogisticRegression

        if len(set(human)) < 2:
            raise JuryError(f"the training labels are all {human[0]!r}: a logistic jury needs two classes")
        x = _onehot(votes)
        model = LogisticRegression(max_iter=1000).fit(x, list(human))
        coef = np.abs(np.asarray(model.coef_)).reshape(-1, m, 3).mean(axis=(0, 2))
        q = _member_quality(votes, human)
        return LearnedJury(learner, [float(c) for c in coef], len(votes), [c / n if n else math.nan for c, n in q],
                           model=model)
    if setting == "score":
        from sklearn.linear_model import LinearRegression

        x = _fill_scores(votes)
        keep = ~np.isnan(x).any(axis=1)
        y = np.asarray(human, dtype=np.float64)[keep]
        model = LinearRegression(positive=True).fit(x[keep], y)
        r = [_pearson(x[keep, j], y) for j in range(m)]
        return LearnedJury(learner, [float(c) for c in model.coef_], int(keep.sum()), r,
                           intercept=float(model.intercept_), model=model,
                           label_range=(float(y.min()), float(y.max())))
    sims = []
    for j in range(m):
        d = [normalised_levenshtein(row[j], h) for row, h in zip(votes, human, strict=True) if row[j] is not None]
        sims.append(1.0 - float(np.mean(d)) if d else 0.0)
    return LearnedJury(learner, sims, len(votes), sims)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r (NaN when a side is constant)."""
    return _quiet(lambda: np.corrcoef(a, b)[0, 1])


def predict_weighted(setting: str, fit: LearnedJury, votes: Sequence[Vote], *, split: str = "tie") -> Vote:
    """The weighted jury's verdict on one item (``None`` when every member abstained)."""
    if all(v is None for v in votes):
        return None
    if setting == "pair" and fit.learner == "accuracy":
        return majority_pair(votes, split=split, weights=fit.weights)[0]
    if setting == "pair":
        return str(fit.model.predict(_onehot([votes]))[0])
    if setting == "score":
        x = _fill_scores([votes])
        y = float(fit.model.predict(x)[0])
        lo, hi = fit.label_range or (-math.inf, math.inf)
        return min(max(y, lo), hi)
    return weighted_borda(votes, fit.weights)


def combine(setting: str, method: str, votes: Sequence[Vote], *, split: str = "tie",
            fit: LearnedJury | None = None) -> tuple[Vote, bool]:
    """One item's jury verdict: ``(value or None when all abstained, was the vote split)``.

    Raises:
        JuryError: a method the setting does not accept, or ``weighted`` without ``fit``.
    """
    check_method(setting, method, fit.learner if fit else None)
    if method == "weighted":
        if fit is None:
            raise JuryError("a weighted jury needs weights learned first (learn_weights)")
        if setting == "pair" and fit.learner == "accuracy":
            return majority_pair(votes, split=split, weights=fit.weights)
        return predict_weighted(setting, fit, votes, split=split), False
    if setting == "pair":
        return majority_pair(votes, split=split)
    if setting == "batch":
        return weighted_borda(votes), False
    return combine_scores(votes, method), False


# --------------------------------------------------------------------------------------------------
# Agreement between members, and the binomial model
# --------------------------------------------------------------------------------------------------


def _reliability(setting: str, votes: Sequence[Sequence[Vote]]) -> np.ndarray:
    """``(members, units)`` reliability data for Krippendorff's α (NaN = missing): pair choices coded
    first 0 / tie 1 / second 2; scores as they are; rankings as each slot's rank position (unit = item × slot)."""
    m = len(votes[0]) if votes else 0
    if setting == "pair":
        return np.array([[np.nan if row[j] is None else float(PAIR_CHOICES.index(row[j])) for row in votes]
                         for j in range(m)], dtype=np.float64)
    if setting == "score":
        return np.array([[np.nan if row[j] is None else float(row[j]) for row in votes] for j in range(m)],
                        dtype=np.float64)
    cols: list[list[float]] = [[] for _ in range(m)]
    for row in votes:
        slots = sorted({s for r in row if r is not None for s in r})
        for s in slots:
            for j in range(m):
                r = row[j]
                cols[j].append(float(list(r).index(s)) if r is not None and s in r else np.nan)
    return np.array(cols, dtype=np.float64)


def member_alpha(setting: str, votes: Sequence[Sequence[Vote]]) -> float:
    """Krippendorff's α among the members (level :data:`ALPHA_LEVEL` [setting]); NaN when undefined
    (fewer than two members, or a single value in the data).

    Args:
        votes: ``(items, members)``.
    """
    if not votes or len(votes[0]) < 2:
        return math.nan
    data = _reliability(setting, votes)
    return _quiet(lambda: krippendorff.alpha(reliability_data=data, level_of_measurement=ALPHA_LEVEL[setting]))


def pair_key(a: str, b: str) -> str:
    """The key of members ``a`` and ``b`` in :func:`pairwise_alpha`: ``"a|b"``, with ``\\`` and ``|`` inside a
    name escaped by a backslash, so that no two pairs share a key (``a`` + ``b|c`` and ``a|b`` + ``c`` would
    both be ``a|b|c``); the plain ``"a|b"`` of names without either character."""
    def esc(name: str) -> str:
        return name.replace("\\", "\\\\").replace("|", "\\|")
    return f"{esc(a)}|{esc(b)}"


def pairwise_alpha(setting: str, votes: Sequence[Sequence[Vote]], names: Sequence[str]) -> dict[str, float]:
    """Krippendorff's α of every pair of members, keyed by :func:`pair_key`."""
    out = {}
    for i, j in itertools.combinations(range(len(names)), 2):
        out[pair_key(names[i], names[j])] = member_alpha(setting, [[row[i], row[j]] for row in votes])
    return out


def majority_accuracy(p: Sequence[float] | float, n: int | None = None) -> float:
    """Probability that a strict majority of independent members is right on a two-class item.

    Args:
        p: each member's accuracy (a sequence), or one accuracy shared by ``n`` members.
        n: the number of members when ``p`` is a single number.

    Returns:
        ``Σ_{S: |S| > n/2} Π_{i∈S} p_i Π_{i∉S} (1 − p_i)`` (Poisson-binomial; for three equal members
        ``p³ + 3p²(1 − p)``). With an even ``n`` an even split counts as wrong.

    Raises:
        ValueError: a single ``p`` without ``n``.
    """
    if isinstance(p, (int, float)):
        if n is None:
            raise ValueError("majority_accuracy(p, n): n is needed with a single accuracy")
        ps = [float(p)] * n
    else:
        ps = [float(x) for x in p]
    dist = poisson_binomial(ps)  # distribution of the number of right members
    return float(dist[len(ps) // 2 + 1:].sum())


def vote_counts(votes: Sequence[Sequence[Vote]]) -> dict[str, int]:
    """How many items had every member vote, some abstain, or all abstain."""
    c: Counter[str] = Counter()
    for row in votes:
        n = sum(v is not None for v in row)
        c["all_voted" if n == len(row) else ("none_voted" if n == 0 else "some_abstained")] += 1
    return dict(c)


__all__ = ["ALPHA_LEVEL", "LEARNERS", "LEARNER_SOURCES", "METHODS", "SETTING_METHODS", "SPLITS", "JuryError",
           "LearnedJury", "accuracy_weight", "check_method", "combine", "combine_scores", "learn_weights",
           "majority_accuracy", "majority_pair", "member_alpha", "pairwise_alpha", "predict_weighted",
           "vote_counts", "weighted_borda"]
