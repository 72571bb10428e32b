"""Agreement between a judge and humans: pair, score and batch settings, with bootstrap CIs.

Point estimates come from the reference libraries on the raw per-item values (scipy: Pearson r, Spearman
ρ, Kendall τ-b; scikit-learn: Cohen's κ and quadratic-weighted κ; ``krippendorff``: ordinal α with judge
and human as two coders; ``rapidfuzz``: Levenshtein distance). Bootstrap replicates use closed forms of the
same statistics on the (judge value × human value) contingency table (see :mod:`.bootstrap`); the tests
check that the closed forms equal the libraries on the full sample.

Metric definitions follow MLLM-as-a-Judge (Chen et al., ICML 2024, §4) and Judge Anything
(Pu et al. 2025, §4):

* pair — ``accuracy_with_tie`` (all items), ``accuracy_without_tie`` (items whose human label is a tie
  dropped; a judge tie on the rest counts wrong), ``cohen_kappa`` (3-way first/tie/second), ``tie_rate``
  (judge), ``human_tie_rate``;
* score — ``pearson``, ``spearman``, ``kendall_tau_b``, ``mae``, ``exact`` (judge == human),
  ``cohen_kappa``, ``qwk`` (quadratic-weighted κ over the labels present), ``krippendorff_alpha`` (ordinal),
  ``offset`` (mean judge − human), and ``pearson_expected`` on the token-probability expected score when
  verdicts carry ``expected``;
* batch — ``nlev`` (mean normalised Levenshtein distance between the judge's and the human ranking:
  edit distance over the sequences of slots ÷ the longer length; 0 = identical; partial human rankings
  are compared as they are), ``exact_match`` (rankings identical).

Several annotators: the "human label" of an item is the consensus — pair: majority vote, a tie between
the most frequent choices becomes ``"tie"``; score: the mean; ranking: the most frequent ranking, or when
none is most frequent the Borda order (mean position, slots never ranked last, ties by slot index).
The human–human ceiling compares each annotator with the consensus of the *other* annotators on items
with ≥ 2 annotators, with the same metric.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import krippendorff
import numpy as np
from rapidfuzz.distance import Levenshtein
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from judgeanything.analysis.bootstrap import Stat, make_stat, replicates
from judgeanything.schema import PAIR_CHOICES

PAIR_METRICS = ("accuracy_with_tie", "accuracy_without_tie", "cohen_kappa", "tie_rate", "human_tie_rate")
SCORE_METRICS = ("pearson", "spearman", "kendall_tau_b", "mae", "exact", "cohen_kappa", "qwk",
                 "krippendorff_alpha", "offset")
BATCH_METRICS = ("nlev", "exact_match")
#: The headline agreement metric of each setting (leaderboards, plots, MMU–MMG gap).
PRIMARY = {"pair": "accuracy_with_tie", "score": "pearson", "batch": "nlev", "rules": "accuracy",
           "process": "step_accuracy"}
#: Metrics where lower is better.
LOWER_IS_BETTER = {"mae", "nlev"}


def _quiet(fn: Callable[[], Any]) -> float:
    """Run a library statistic; undefined cases (constant input, one category) → NaN, not an error."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            v = fn()
        except ValueError:  # e.g. krippendorff: "more than one value in the domain" needed
            return math.nan
    v = getattr(v, "statistic", v)
    if isinstance(v, tuple):
        v = v[0]
    return float(v)


# --------------------------------------------------------------------------------------------------
# Human consensus
# --------------------------------------------------------------------------------------------------


def consensus_pair(values: Sequence[str]) -> str:
    """Majority vote over pair choices; a tie between the most frequent choices → ``"tie"``."""
    c = Counter(values).most_common()
    if len(c) > 1 and c[0][1] == c[1][1]:
        return "tie"
    return c[0][0]


def consensus_score(values: Sequence[float]) -> float:
    """The mean of the annotators' scores."""
    return float(np.mean(np.asarray(values, dtype=np.float64)))


def borda(rankings: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """Borda aggregate: slots sorted by mean position (a slot absent from a ranking is placed after its
    last element), ties by slot index; only slots that appear in some ranking."""
    slots = sorted({s for r in rankings for s in r})
    pos = {s: float(np.mean([list(r).index(s) if s in r else len(r) for r in rankings])) for s in slots}
    return tuple(sorted(slots, key=lambda s: (pos[s], s)))


def consensus_ranking(values: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """The most frequent ranking; without a unique most frequent one, the Borda order (:func:`borda`)."""
    c = Counter(tuple(v) for v in values).most_common()
    if len(c) == 1 or c[0][1] > c[1][1]:
        return c[0][0]
    return borda(values)


def consensus(setting: str, values: Sequence[Any]) -> Any:
    """The human label of one item from one or more annotators' values (see module docstring)."""
    if setting == "pair":
        return consensus_pair(values)
    if setting == "score":
        return consensus_score(values)
    return consensus_ranking(values)


def ceiling_pairs(setting: str, per_item: Sequence[Sequence[Any]]) -> tuple[list[Any], list[Any]]:
    """(annotator value, consensus of the others) for every annotator of every item with ≥ 2 annotators."""
    a: list[Any] = []
    b: list[Any] = []
    for vals in per_item:
        if len(vals) < 2:
            continue
        for i, v in enumerate(vals):
            a.append(v)
            b.append(consensus(setting, [x for j, x in enumerate(vals) if j != i]))
    return a, b


# --------------------------------------------------------------------------------------------------
# Pair comparison
# --------------------------------------------------------------------------------------------------

_PIDX = {c: i for i, c in enumerate(PAIR_CHOICES)}  # first 0, tie 1, second 2


def pair_table_stats(w: np.ndarray) -> dict[str, np.ndarray]:
    """Pair metrics from ``(b, 9)`` cell weights of the (judge choice × human choice) table, rows = judge,
    in the order first/tie/second. Returns ``(b,)`` arrays for each of :data:`PAIR_METRICS`."""
    t = w.reshape(-1, 3, 3)
    n = t.sum(axis=(1, 2))
    diag = np.trace(t, axis1=1, axis2=2)
    px, py = t.sum(axis=2), t.sum(axis=1)
    with np.errstate(all="ignore"):
        pe = (px * py).sum(axis=1) / n**2
        po = diag / n
        return {
            "accuracy_with_tie": po,
            "accuracy_without_tie": (t[:, 0, 0] + t[:, 2, 2]) / (py[:, 0] + py[:, 2]),
            "cohen_kappa": (po - pe) / (1 - pe),
            "tie_rate": px[:, 1] / n,
            "human_tie_rate": py[:, 1] / n,
        }


def pair_agreement(judge: Sequence[str], human: Sequence[str], *, n_boot: int = 1000, ci: float = 0.95,
                   rng: np.random.Generator | None = None) -> dict[str, Stat]:
    """Pair agreement metrics (module docstring) of aligned per-item choices.

    Args:
        judge, human: equal-length sequences of ``"first" | "tie" | "second"`` (dataset orientation).

    Raises:
        ValueError: lengths differ or a value is not a pair choice.
    """
    if len(judge) != len(human):
        raise ValueError(f"judge ({len(judge)}) and human ({len(human)}) lengths differ")
    n = len(judge)
    if n == 0:
        return {}
    try:
        ji = np.array([_PIDX[x] for x in judge])
        hi = np.array([_PIDX[x] for x in human])
    except KeyError as e:
        raise ValueError(f"pair choice {e.args[0]!r} is not one of {PAIR_CHOICES}") from e
    counts = np.bincount(ji * 3 + hi, minlength=9)
    nt = hi != 1
    values = {
        "accuracy_with_tie": float(np.mean(ji == hi)),
        "accuracy_without_tie": float(np.mean(ji[nt] == hi[nt])) if nt.any() else math.nan,
        "cohen_kappa": _quiet(lambda: cohen_kappa_score(ji, hi)),
        "tie_rate": float(np.mean(ji == 1)),
        "human_tie_rate": float(np.mean(hi == 1)),
    }
    rng = rng or np.random.default_rng(0)
    table = pair_table_stats
    reps = _multi_reps(counts, table, PAIR_METRICS, n_boot, rng)
    out = {m: make_stat(values[m], reps[m], n, ci) for m in PAIR_METRICS}
    out["accuracy_without_tie"].n = int(nt.sum())
    return out


def _multi_reps(counts: np.ndarray, fn: Callable[[np.ndarray], dict[str, np.ndarray]], names: Sequence[str],
                n_boot: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Replicates of several statistics computed from the same resampled tables."""
    store: dict[str, list[np.ndarray]] = {m: [] for m in names}

    def one(w: np.ndarray) -> np.ndarray:
        d = fn(w)
        for m in names:
            store[m].append(d[m])
        return np.zeros(w.shape[0])

    replicates(counts, one, n_boot, rng)
    return {m: (np.concatenate(v) if v else np.empty(0)) for m, v in store.items()}


# --------------------------------------------------------------------------------------------------
# Score evaluation
# --------------------------------------------------------------------------------------------------


def _wpearson(t: np.ndarray, rx: np.ndarray, ry: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Weighted Pearson r of a (b, K, K) table with row values rx (b|1, K) and column values ry."""
    px, py = t.sum(axis=2), t.sum(axis=1)
    mx = (px * rx).sum(axis=1) / n
    my = (py * ry).sum(axis=1) / n
    dx = rx - mx[:, None]
    dy = ry - my[:, None]
    cov = np.einsum("bij,bi,bj->b", t, np.broadcast_to(dx, px.shape), np.broadcast_to(dy, py.shape))
    vx = (px * dx**2).sum(axis=1)
    vy = (py * dy**2).sum(axis=1)
    return cov / np.sqrt(vx * vy)


def _midranks(p: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) of each category given (b, K) category counts."""
    return np.cumsum(p, axis=1) - p + (p + 1) / 2


def score_table_stats(w: np.ndarray, u: np.ndarray) -> dict[str, np.ndarray]:
    """Score metrics from ``(b, K·K)`` cell weights of the (judge × human) table over sorted values ``u``
    (both coders on the same value list). Returns ``(b,)`` arrays for each of :data:`SCORE_METRICS`.

    Closed forms: Pearson/Spearman as weighted moments (Spearman on mid-ranks from the margins, as scipy
    ranks ties); Kendall τ-b = (C − D) / √((n₀ − n₁)(n₀ − n₂)) with C, D the concordant/discordant pair
    counts from 2-D cumulative sums; quadratic κ with weights (i − j)² over label indices (scikit-learn's
    definition); Krippendorff's ordinal α = 1 − Σ o·δ² / Σ e·δ² with coincidences o = T + Tᵀ
    (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").
    """
    k = u.size
    t = w.reshape(-1, k, k)
    n = t.sum(axis=(1, 2))
    px, py = t.sum(axis=2), t.sum(axis=1)
    out: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        uu = u[None, :]
        out["pearson"] = _wpearson(t, uu, uu, n)
        out["spearman"] = _wpearson(t, _midranks(px), _midranks(py), n)
        # Kendall τ-b
        rev = t[:, ::-1, ::-1].cumsum(axis=1).cumsum(axis=2)[:, ::-1, ::-1]  # Σ_{i'≥i, j'≥j}
        below = np.zeros_like(t)
        below[:, :-1, :-1] = rev[:, 1:, 1:]  # Σ_{i'>i, j'>j}
        conc = (t * below).sum(axis=(1, 2))
        mix = t[:, ::-1, :].cumsum(axis=1)[:, ::-1, :].cumsum(axis=2)  # Σ_{i'≥i, j'≤j}
        other = np.zeros_like(t)
        other[:, :-1, 1:] = mix[:, 1:, :-1]  # Σ_{i'>i, j'<j}
        disc = (t * other).sum(axis=(1, 2))
        n0 = n * (n - 1) / 2
        n1 = (px * (px - 1) / 2).sum(axis=1)
        n2 = (py * (py - 1) / 2).sum(axis=1)
        out["kendall_tau_b"] = (conc - disc) / np.sqrt((n0 - n1) * (n0 - n2))
        diff = u[:, None] - u[None, :]
        out["mae"] = (t * np.abs(diff)).sum(axis=(1, 2)) / n
        out["offset"] = (t * diff).sum(axis=(1, 2)) / n
        diag = np.trace(t, axis1=1, axis2=2)
        out["exact"] = diag / n
        pe = (px * py).sum(axis=1) / n**2
        out["cohen_kappa"] = (diag / n - pe) / (1 - pe)
        idx = np.arange(k)
        wq = (idx[:, None] - idx[None, :]).astype(np.float64) ** 2
        expected = px[:, :, None] * py[:, None, :] / n[:, None, None]
        out["qwk"] = 1 - (t * wq).sum(axis=(1, 2)) / (expected * wq).sum(axis=(1, 2))
        o = t + t.transpose(0, 2, 1)
        nv = o.sum(axis=2)
        cs = np.cumsum(nv, axis=1)
        lower = np.where(idx[:, None] <= idx[None, :], nv[:, :, None], nv[:, None, :])
        between = np.abs(cs[:, :, None] - cs[:, None, :]) + lower
        delta = (between - (nv[:, :, None] + nv[:, None, :]) / 2) ** 2
        ntot = nv.sum(axis=1)
        e = (nv[:, :, None] * nv[:, None, :]) / (ntot - 1)[:, None, None]
        out["krippendorff_alpha"] = 1 - (o * delta).sum(axis=(1, 2)) / (e * delta).sum(axis=(1, 2))
    return out


def score_agreement(judge: Sequence[float], human: Sequence[float], *,
                    expected: Sequence[float] | None = None, n_boot: int = 1000, ci: float = 0.95,
                    rng: np.random.Generator | None = None) -> dict[str, Stat]:
    """Score agreement metrics (module docstring) of aligned per-item scores.

    Args:
        judge, human: equal-length numeric sequences (human: consensus, possibly fractional).
        expected: optional per-item expected scores (NaN where absent) → ``pearson_expected`` on the items
            that have one.

    Raises:
        ValueError: lengths differ.
    """
    if len(judge) != len(human):
        raise ValueError(f"judge ({len(judge)}) and human ({len(human)}) lengths differ")
    x = np.asarray(judge, dtype=np.float64)
    y = np.asarray(human, dtype=np.float64)
    n = x.size
    if n == 0:
        return {}
    u, inv = np.unique(np.concatenate([x, y]), return_inverse=True)
    # κ on category codes (0..K−1 in value order): scikit-learn's labels are then the sorted values present,
    # exactly as with the raw scores, and fractional consensus scores are accepted as categories
    cx, cy = inv[:n], inv[n:]
    values = {
        "pearson": _quiet(lambda: stats.pearsonr(x, y)),
        "spearman": _quiet(lambda: stats.spearmanr(x, y)),
        "kendall_tau_b": _quiet(lambda: stats.kendalltau(x, y, variant="b")),
        "mae": float(np.mean(np.abs(x - y))),
        "exact": float(np.mean(x == y)),
        "cohen_kappa": _quiet(lambda: cohen_kappa_score(cx, cy)),
        "qwk": _quiet(lambda: cohen_kappa_score(cx, cy, weights="quadratic")),
        "krippendorff_alpha": _quiet(lambda: krippendorff.alpha(reliability_data=np.vstack([x, y]),
                                                                level_of_measurement="ordinal")),
        "offset": float(np.mean(x - y)),
    }
    k = u.size
    counts = np.bincount(inv[:n] * k + inv[n:], minlength=k * k)
    rng = rng or np.random.default_rng(0)
    if k <= 64:
        reps = _multi_reps(counts, lambda w: score_table_stats(w, u), SCORE_METRICS, n_boot, rng)
    else:  # continuous values: the K×K table would be too large; resample items (one cell each)
        reps = _multi_reps(np.ones(n, dtype=np.int64), lambda w: _item_score_stats(w, x, y),
                           SCORE_METRICS, n_boot, rng)
    out = {m: make_stat(values[m], reps[m], n, ci) for m in SCORE_METRICS}
    if expected is not None:
        ex = np.asarray(expected, dtype=np.float64)
        ok = np.isfinite(ex)
        if ok.sum() >= 2:
            v = _quiet(lambda: stats.pearsonr(ex[ok], y[ok]))
            r = replicates(np.ones(int(ok.sum()), dtype=np.int64),
                           lambda w: _wpearson_items(w, ex[ok], y[ok]), n_boot, rng)
            out["pearson_expected"] = make_stat(v, r, int(ok.sum()), ci)
    return out


def _wpearson_items(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weighted Pearson r over items, (b, n) weights."""
    n = w.sum(axis=1)
    mx = w @ x / n
    my = w @ y / n
    with np.errstate(all="ignore"):
        cov = w @ (x * y) / n - mx * my
        vx = w @ (x * x) / n - mx**2
        vy = w @ (y * y) / n - my**2
        return cov / np.sqrt(vx * vy)


def _item_score_stats(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Score metrics from item weights (continuous fallback); rank/κ/α statistics are NaN here."""
    n = w.sum(axis=1)
    nan = np.full(w.shape[0], np.nan)
    return {"pearson": _wpearson_items(w, x, y), "spearman": nan, "kendall_tau_b": nan,
            "mae": w @ np.abs(x - y) / n, "offset": w @ (x - y) / n, "exact": w @ (x == y).astype(float) / n,
            "cohen_kappa": nan, "qwk": nan, "krippendorff_alpha": nan}


# --------------------------------------------------------------------------------------------------
# Batch ranking
# --------------------------------------------------------------------------------------------------


def normalised_levenshtein(a: Sequence[int], b: Sequence[int]) -> float:
    """Edit distance between two slot sequences ÷ the longer length (0 = identical, 1 = nothing shared in
    place). MLLM-as-a-Judge's batch-ranking metric (Chen et al. 2024, §4.1). Uses rapidfuzz."""
    m = max(len(a), len(b))
    return 0.0 if m == 0 else Levenshtein.distance(list(a), list(b)) / m


def batch_agreement(judge: Sequence[Sequence[int]], human: Sequence[Sequence[int]], *, n_boot: int = 1000,
                    ci: float = 0.95, rng: np.random.Generator | None = None) -> dict[str, Stat]:
    """Batch metrics: mean normalised Levenshtein distance ``nlev`` and ``exact_match`` rate.

    Raises:
        ValueError: lengths differ.
    """
    if len(judge) != len(human):
        raise ValueError(f"judge ({len(judge)}) and human ({len(human)}) lengths differ")
    n = len(judge)
    if n == 0:
        return {}
    d = np.array([normalised_levenshtein(a, b) for a, b in zip(judge, human, strict=True)])
    u, inv = np.unique(d, return_inverse=True)
    counts = np.bincount(inv, minlength=u.size)
    rng = rng or np.random.default_rng(0)

    def fn(w: np.ndarray) -> dict[str, np.ndarray]:
        tot = w.sum(axis=1)
        return {"nlev": w @ u / tot, "exact_match": w @ (u == 0).astype(float) / tot}

    reps = _multi_reps(counts, fn, BATCH_METRICS, n_boot, rng)
    values = {"nlev": float(d.mean()), "exact_match": float(np.mean(d == 0))}
    return {m: make_stat(values[m], reps[m], n, ci) for m in BATCH_METRICS}


def agreement(setting: str, judge: Sequence[Any], human: Sequence[Any], *,
              expected: Sequence[float] | None = None, n_boot: int = 1000, ci: float = 0.95,
              rng: np.random.Generator | None = None) -> dict[str, Stat]:
    """Dispatch to :func:`pair_agreement`, :func:`score_agreement` or :func:`batch_agreement`.

    Raises:
        ValueError: an unknown setting.
    """
    if setting == "pair":
        return pair_agreement(judge, human, n_boot=n_boot, ci=ci, rng=rng)
    if setting == "score":
        return score_agreement(judge, human, expected=expected, n_boot=n_boot, ci=ci, rng=rng)
    if setting == "batch":
        return batch_agreement(judge, human, n_boot=n_boot, ci=ci, rng=rng)
    raise ValueError(f"unknown setting {setting!r}; expected pair, score or batch")


def item_correct(setting: str, judge: Any, human: Any) -> float:
    """Per-item agreement used by significance tests: 1/0 for pairs (exact choice), 1 − nlev for batch,
    and ``judge − human`` offset for scores."""
    if setting == "pair":
        return float(judge == human)
    if setting == "batch":
        return 1.0 - normalised_levenshtein(judge, human)
    return float(judge) - float(human)
