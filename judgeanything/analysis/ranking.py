"""Rank generation models from pair verdicts with a Bradley–Terry model (Bradley & Terry 1952).

Judge Anything's user story "use a chosen judge to rank generation models": each pair item is a game
between ``Response.model_name`` of its two responses; a judge (or human) ``"first"`` is a win for the
first model, ``"tie"`` half a win for each. P(i beats j) = σ(θᵢ − θⱼ); θ (log-odds "strengths") maximise
the ½-win-weighted log-likelihood with a weak ridge penalty λ/2·‖θ‖² (λ = 0.01) that keeps θ finite when
a model wins or loses every game and centres θ at 0. Fitted with ``scipy.optimize.minimize`` (Newton-CG,
analytic gradient and Hessian). Bootstrap: games are resampled (multinomial over distinct (pair, outcome) cells)
and all replicates are fitted in ONE Newton-CG problem whose objective is the sum of the independent replicate
objectives (block-separable, so its minimiser is every replicate's own minimiser).

:func:`fit_strengths` also fits Davidson's tie model (Davidson 1970), which gives ties their own probability
ν√(πᵢπⱼ)/(πᵢ + πⱼ + ν√(πᵢπⱼ)) instead of counting them as half-wins; OmniArena
(:mod:`judgeanything.analysis.arena`, ``judgeanything-arena``) offers both.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit, log_expit

from judgeanything.analysis.bootstrap import count_chunks, percentile_ci, rng_for
from judgeanything.jsonsafe import finite_or_none

RIDGE = 0.01
_OUTCOME = {"first": 1.0, "tie": 0.5, "second": 0.0}


@dataclass(frozen=True)
class Strengths:
    """A fitted ranking: ``models`` (sorted names), ``theta`` (m,) centred log-strengths, ``reps`` (R, m)
    bootstrap replicates (R = 0 without a bootstrap), ``tie`` the Davidson tie parameter ν (NaN for
    Bradley–Terry) and ``table`` (see :func:`bradley_terry`)."""

    models: list[str]
    theta: np.ndarray
    reps: np.ndarray
    table: pd.DataFrame
    tie: float = float("nan")


@dataclass(frozen=True)
class _Cells:
    """Games aggregated into distinct (model pair, outcome) cells: the unit of the bootstrap."""

    models: list[str]
    counts: np.ndarray      # (C,) games per cell
    a: np.ndarray           # (P,) first model of each model pair
    b: np.ndarray           # (P,) second model
    to_wins: np.ndarray     # (C, P): a's wins (½ per tie)
    to_games: np.ndarray    # (C, P): games
    to_ties: np.ndarray     # (C, P): ties


def _cells(games: Sequence[tuple[str, str, float]]) -> _Cells:
    models = sorted({g[0] for g in games} | {g[1] for g in games})
    idx = {mname: i for i, mname in enumerate(models)}
    cells: dict[tuple[int, int, float], int] = {}
    for ga, gb, sc in games:
        if sc not in (0.0, 0.5, 1.0):
            raise ValueError(f"game score {sc!r} is not 0, 0.5 or 1")
        if ga == gb:
            raise ValueError(f"model {ga!r} plays itself")
        i, j = idx[ga], idx[gb]
        key = (i, j, float(sc)) if i < j else (j, i, 1.0 - float(sc))
        cells[key] = cells.get(key, 0) + 1
    keys = list(cells)
    pairs = sorted({(k[0], k[1]) for k in keys})
    pidx = {p: t for t, p in enumerate(pairs)}
    to_games = np.zeros((len(keys), len(pairs)))
    to_games[np.arange(len(keys)), [pidx[(k[0], k[1])] for k in keys]] = 1.0
    win = np.array([k[2] for k in keys])
    return _Cells(models, np.array([cells[k] for k in keys], dtype=np.int64), np.array([p[0] for p in pairs]),
                  np.array([p[1] for p in pairs]), to_games * win[:, None], to_games,
                  to_games * (win == 0.5)[:, None])


def _fit(w: np.ndarray, c: _Cells, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Bradley–Terry θ (R, m) for R replicates of cell weights ``w`` (R, C) (ties as half-wins), and a NaN
    tie parameter per replicate.

    Newton-CG (``scipy.optimize.minimize``) with the analytic gradient and Hessian-vector product: the
    replicates' objectives are independent, so the joint Hessian is block-diagonal and Newton converges
    in a handful of iterations for all of them at once.
    """
    r = w.shape[0]
    wins, games, a, b = w @ c.to_wins, w @ c.to_games, c.a, c.b
    inc = np.zeros((a.size, m))  # pair × model incidence: +1 for a, −1 for b, so d = θ @ incᵀ
    inc[np.arange(a.size), a] = 1.0
    inc[np.arange(a.size), b] = -1.0

    def f(theta_flat: np.ndarray) -> tuple[float, np.ndarray]:
        th = theta_flat.reshape(r, m)
        d = th @ inc.T
        nll = -(wins * log_expit(d) + (games - wins) * log_expit(-d)).sum() + RIDGE / 2 * (th**2).sum()
        g_d = games * expit(d) - wins  # d nll / d d
        return float(nll), (RIDGE * th + g_d @ inc).ravel()

    def hessp(theta_flat: np.ndarray, vec: np.ndarray) -> np.ndarray:
        th = theta_flat.reshape(r, m)
        vv = vec.reshape(r, m)
        sd = expit(th @ inc.T)
        return (RIDGE * vv + (games * sd * (1 - sd) * (vv @ inc.T)) @ inc).ravel()

    res = optimize.minimize(f, np.zeros(r * m), jac=True, hessp=hessp, method="Newton-CG",
                            options={"xtol": 1e-10, "maxiter": 200})
    th = res.x.reshape(r, m)
    return th - th.mean(axis=1, keepdims=True), np.full(r, np.nan)


def fit_strengths(games: Sequence[tuple[str, str, float]], *, method: str = "bt", n_boot: int = 1000,
                  ci: float = 0.95, seed: int = 0, stream: str = "") -> Strengths:
    """Bradley–Terry (``bt``: a tie counts as half a win for each side) or Davidson (``davidson``: ties
    modelled, Davidson 1970, "On extending the Bradley–Terry model to accommodate ties in paired
    comparison experiments", JASA 65(329)) strengths with percentile bootstrap CIs over games.

    Args:
        games: (model_a, model_b, score of a) with score 1 (a wins), 0.5 (tie), 0 (b wins).
        method: ``bt`` or ``davidson``.
        n_boot: bootstrap replicates (0 → no CI).
        stream: names an independent random stream for the bootstrap (e.g. the games' source), so two
            sources with the same ``seed`` are not resampled identically.

    Raises:
        ValueError: an unknown method, a score outside {0, 0.5, 1} or a model playing itself.
    """
    if method not in ("bt", "davidson"):
        raise ValueError(f"unknown ranking method {method!r}; expected bt or davidson")
    if not games:
        return Strengths([], np.empty(0), np.empty((0, 0)), pd.DataFrame(columns=TABLE_COLUMNS))
    c = _cells(games)
    m = len(c.models)
    fit = _fit if method == "bt" else _fit_davidson
    w = c.counts[None, :].astype(np.float64)
    theta, nu = fit(w, c, m)
    reps_l = []
    if n_boot > 0:
        rng = rng_for(seed, "bradley_terry" if method == "bt" else "davidson", *((stream,) if stream else ()))
        for chunk in count_chunks(c.counts, n_boot, rng, max_cells=max(2_000_000, len(c.counts))):
            reps_l.append(fit(chunk.astype(np.float64), c, m)[0])
    rep = np.concatenate(reps_l) if reps_l else np.empty((0, m))
    return Strengths(c.models, theta[0], rep, _table(c, w, theta[0], rep, ci), float(nu[0]))


TABLE_COLUMNS = ["model", "strength", "ci_low", "ci_high", "rank", "games", "win_rate"]


def fit_weighted(games: Sequence[tuple[str, str, float]], weights: np.ndarray, *,
                 method: str = "bt") -> tuple[list[str], np.ndarray]:
    """Strengths for R given weightings of ``games`` (``weights``: (R, n_games), e.g. item-level bootstrap
    counts mapped onto each item's games), fitted in one problem as in :func:`fit_strengths`.

    Returns:
        ``(models, theta)`` with ``theta`` (R, m), centred per replicate.

    Raises:
        ValueError: an unknown method, a bad game score, a weights matrix of the wrong width.
    """
    if method not in ("bt", "davidson"):
        raise ValueError(f"unknown ranking method {method!r}; expected bt or davidson")
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if w.shape[1] != len(games):
        raise ValueError(f"weights have {w.shape[1]} columns for {len(games)} games")
    c = _cells(games)
    idx = {mname: i for i, mname in enumerate(c.models)}
    keys: dict[tuple[int, int, float], int] = {}
    for ga, gb, sc in games:  # the cell order of _cells: first appearance of each (pair, outcome)
        i, j = idx[ga], idx[gb]
        keys.setdefault((i, j, float(sc)) if i < j else (j, i, 1.0 - float(sc)), len(keys))
    to_cell = np.zeros((len(games), len(keys)))
    for g, (ga, gb, sc) in enumerate(games):
        i, j = idx[ga], idx[gb]
        to_cell[g, keys[(i, j, float(sc)) if i < j else (j, i, 1.0 - float(sc))]] = 1.0
    fit = _fit if method == "bt" else _fit_davidson
    return c.models, fit(w @ to_cell, c, len(c.models))[0]


def _table(c: _Cells, w: np.ndarray, theta: np.ndarray, rep: np.ndarray, ci: float) -> pd.DataFrame:
    m = len(c.models)
    played, won = np.zeros(m), np.zeros(m)
    gms, wns = (w @ c.to_games)[0], (w @ c.to_wins)[0]
    np.add.at(played, c.a, gms)
    np.add.at(played, c.b, gms)
    np.add.at(won, c.a, wns)
    np.add.at(won, c.b, gms - wns)
    rows = []
    for i, name in enumerate(c.models):
        lo, hi = percentile_ci(rep[:, i], ci) if rep.size else (np.nan, np.nan)
        rows.append({"model": name, "strength": float(theta[i]), "ci_low": lo, "ci_high": hi,
                     "games": int(played[i]), "win_rate": float(won[i] / played[i]) if played[i] else np.nan})
    df = pd.DataFrame(rows, columns=[col for col in TABLE_COLUMNS if col != "rank"])
    df = df.sort_values(["strength", "model"], ascending=[False, True]).reset_index(drop=True)
    df.insert(4, "rank", np.arange(1, len(df) + 1))
    return df


def bradley_terry(games: Sequence[tuple[str, str, float]], *, n_boot: int = 1000, ci: float = 0.95,
                  seed: int = 0) -> pd.DataFrame:
    """Bradley–Terry strengths with bootstrap CIs (ties as half-wins; :func:`fit_strengths`).

    Returns:
        DataFrame sorted by strength, columns ``model, strength, ci_low, ci_high, rank, games, win_rate``
        (strength: centred log-odds; win_rate counts ties as ½). Empty when there are no games.

    Raises:
        ValueError: a score outside {0, 0.5, 1} or a model playing itself.
    """
    return fit_strengths(games, n_boot=n_boot, ci=ci, seed=seed).table


def _fit_davidson(w: np.ndarray, c: _Cells, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Davidson θ (R, m) and ν (R,) for R replicates of cell weights ``w`` (R, C).

    P(a wins) = πₐ/D, P(b wins) = π_b/D, P(tie) = ν√(πₐπ_b)/D with D = πₐ + π_b + ν√(πₐπ_b), π = e^θ;
    maximum likelihood with the same ridge on θ as Bradley–Terry and log ν bounded to [−20, 5] (no ties
    at all drives ν → 0). All replicates are fitted in one L-BFGS-B problem (block-separable objective).
    """
    r = w.shape[0]
    wins_a = w @ (c.to_wins - c.to_ties / 2)    # decisive wins of a
    ties = w @ c.to_ties
    loss_a = w @ c.to_games - wins_a - ties
    n = wins_a + ties + loss_a
    inc = np.zeros((c.a.size, m))
    inc[np.arange(c.a.size), c.a] = 1.0
    inc_b = np.zeros((c.a.size, m))
    inc_b[np.arange(c.a.size), c.b] = 1.0

    def f(x: np.ndarray) -> tuple[float, np.ndarray]:
        th, dl = x[: r * m].reshape(r, m), x[r * m:]
        ta, tb = th @ inc.T, th @ inc_b.T
        tt = dl[:, None] + (ta + tb) / 2
        logd = np.logaddexp(np.logaddexp(ta, tb), tt)
        nll = -(wins_a * ta + loss_a * tb + ties * tt - n * logd).sum() + RIDGE / 2 * (th**2).sum()
        pa, pb, pt = np.exp(ta - logd), np.exp(tb - logd), np.exp(tt - logd)
        ga = -(wins_a + ties / 2) + n * (pa + pt / 2)
        gb = -(loss_a + ties / 2) + n * (pb + pt / 2)
        g_th = ga @ inc + gb @ inc_b + RIDGE * th
        g_dl = (-ties + n * pt).sum(axis=1)
        return float(nll), np.concatenate([g_th.ravel(), g_dl])

    bounds = [(None, None)] * (r * m) + [(-20.0, 5.0)] * r
    x0 = np.concatenate([np.zeros(r * m), np.full(r, -1.0)])
    res = optimize.minimize(f, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    th = res.x[: r * m].reshape(r, m)
    return th - th.mean(axis=1, keepdims=True), np.exp(res.x[r * m:])


def games_from(values: Sequence[str], models: Sequence[Sequence[str]]) -> list[tuple[str, str, float]]:
    """Games from dataset-orientation pair choices and each item's two model names (self-games and
    items whose two responses share a model are skipped)."""
    out = []
    for v, ms in zip(values, models, strict=True):
        if len(ms) == 2 and ms[0] != ms[1] and v in _OUTCOME:
            out.append((ms[0], ms[1], _OUTCOME[v]))
    return out


def model_rankings(units: pd.DataFrame, *, n_boot: int = 1000, ci: float = 0.95, seed: int = 0,
                   by: str = "task_name") -> dict[str, Any]:
    """Bradley–Terry rankings from the judge's pair verdicts and, when present, from the human labels,
    pooled and per ``by`` group, with Spearman ρ between the two rankings' strengths.

    Args:
        units: combined judge verdicts of pair items with ``value``, ``models``, ``task_name`` and
            optionally ``human`` (None where an item has no label).

    Returns:
        ``{group: {"judge": [rows], "human": [rows], "spearman": float|None, "n_models_common": int}}``
        with group ``"pooled"`` first.
    """
    out: dict[str, Any] = {}
    if units.empty:
        return out
    groups = [("pooled", units)] + [(str(g), d) for g, d in units.groupby(by, sort=True)]
    for name, d in groups:
        jg = games_from(list(d["value"]), list(d["models"]))
        if not jg:
            continue
        jdf = bradley_terry(jg, n_boot=n_boot, ci=ci, seed=seed)
        entry: dict[str, Any] = {"judge": _records(jdf)}
        if "human" in d.columns:
            hd = d[d["human"].notna()]
            hg = games_from(list(hd["human"]), list(hd["models"]))
            if hg:
                hdf = bradley_terry(hg, n_boot=n_boot, ci=ci, seed=seed)
                entry["human"] = _records(hdf)
                common = sorted(set(jdf["model"]) & set(hdf["model"]))
                entry["n_models_common"] = len(common)
                if len(common) >= 2:
                    js = jdf.set_index("model").loc[common, "strength"]
                    hs = hdf.set_index("model").loc[common, "strength"]
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", stats.ConstantInputWarning)  # → NaN → None
                        rho = stats.spearmanr(js, hs).statistic
                    entry["spearman"] = float(rho) if np.isfinite(rho) else None
        out[name] = entry
    return out


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: finite_or_none(v) if isinstance(v, float) else v for k, v in r.items()}
            for r in df.to_dict(orient="records")]
