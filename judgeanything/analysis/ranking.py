"""Rank generation models from pair verdicts with a Bradley–Terry model (Bradley & Terry 1952).

Judge Anything's user story "use a chosen judge to rank generation models": each pair item is a game
between ``Response.model_name`` of its two responses; a judge (or human) ``"first"`` is a win for the
first model, ``"tie"`` half a win for each. P(i beats j) = σ(θᵢ − θⱼ); θ (log-odds "strengths") maximise
the ½-win-weighted log-likelihood with a weak ridge penalty λ/2·‖θ‖² (λ = 0.01) that keeps θ finite when
a model wins or loses every game and centres θ at 0. Fitted with ``scipy.optimize.minimize`` (Newton-CG,
analytic gradient and Hessian). Bootstrap: games are resampled (multinomial over distinct (pair, outcome) cells)
and all replicates are fitted in ONE Newton-CG problem whose objective is the sum of the independent replicate
objectives (block-separable, so its minimiser is every replicate's own minimiser).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit, log_expit

from judgeanything.analysis.bootstrap import count_chunks, percentile_ci, rng_for

RIDGE = 0.01
_OUTCOME = {"first": 1.0, "tie": 0.5, "second": 0.0}


def _fit(wins: np.ndarray, games: np.ndarray, a: np.ndarray, b: np.ndarray, m: int) -> np.ndarray:
    """θ of shape (R, m) for R replicates; wins/games (R, P) per model pair (a[p], b[p]): wins of a.

    Newton-CG (``scipy.optimize.minimize``) with the analytic gradient and Hessian-vector product: the
    replicates' objectives are independent, so the joint Hessian is block-diagonal and Newton converges
    in a handful of iterations for all of them at once.
    """
    r = wins.shape[0]
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
    return th - th.mean(axis=1, keepdims=True)


def bradley_terry(games: Sequence[tuple[str, str, float]], *, n_boot: int = 1000, ci: float = 0.95,
                  seed: int = 0) -> pd.DataFrame:
    """Bradley–Terry strengths with bootstrap CIs.

    Args:
        games: (model_a, model_b, score of a) with score 1 (a wins), 0.5 (tie), 0 (b wins).
        n_boot: bootstrap replicates (0 → no CI).

    Returns:
        DataFrame sorted by strength, columns ``model, strength, ci_low, ci_high, rank, games, win_rate``
        (strength: centred log-odds; win_rate counts ties as ½). Empty when there are no games.

    Raises:
        ValueError: a score outside {0, 0.5, 1} or a model playing itself.
    """
    cols = ["model", "strength", "ci_low", "ci_high", "rank", "games", "win_rate"]
    if not games:
        return pd.DataFrame(columns=cols)
    models = sorted({g[0] for g in games} | {g[1] for g in games})
    idx = {mname: i for i, mname in enumerate(models)}
    m = len(models)
    cells: dict[tuple[int, int, float], int] = {}
    for ga, gb, s in games:
        if s not in (0.0, 0.5, 1.0):
            raise ValueError(f"game score {s!r} is not 0, 0.5 or 1")
        if ga == gb:
            raise ValueError(f"model {ga!r} plays itself")
        i, j = idx[ga], idx[gb]
        key = (i, j, float(s)) if i < j else (j, i, 1.0 - float(s))
        cells[key] = cells.get(key, 0) + 1
    keys = list(cells)
    counts = np.array([cells[k] for k in keys], dtype=np.int64)
    pairs = sorted({(k[0], k[1]) for k in keys})
    pidx = {p: t for t, p in enumerate(pairs)}
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    cell_pair = np.array([pidx[(k[0], k[1])] for k in keys])
    cell_win = np.array([k[2] for k in keys])
    # (cells → pairs) aggregation matrices: games and a's wins per pair
    agg_games = np.zeros((len(keys), len(pairs)))
    agg_games[np.arange(len(keys)), cell_pair] = 1.0
    agg_wins = agg_games * cell_win[:, None]

    w = counts[None, :].astype(np.float64)
    theta = _fit(w @ agg_wins, w @ agg_games, a, b, m)[0]
    reps = []
    if n_boot > 0:
        rng = rng_for(seed, "bradley_terry")
        for chunk in count_chunks(counts, n_boot, rng, max_cells=max(2_000_000, len(keys))):
            cw = chunk.astype(np.float64)
            reps.append(_fit(cw @ agg_wins, cw @ agg_games, a, b, m))
    rep = np.concatenate(reps) if reps else np.empty((0, m))
    played = np.zeros(m)
    won = np.zeros(m)
    gms = (w @ agg_games)[0]
    wns = (w @ agg_wins)[0]
    np.add.at(played, a, gms)
    np.add.at(played, b, gms)
    np.add.at(won, a, wns)
    np.add.at(won, b, gms - wns)
    rows = []
    for i, name in enumerate(models):
        lo, hi = percentile_ci(rep[:, i], ci) if rep.size else (np.nan, np.nan)
        rows.append({"model": name, "strength": float(theta[i]), "ci_low": lo, "ci_high": hi,
                     "games": int(played[i]), "win_rate": float(won[i] / played[i]) if played[i] else np.nan})
    df = pd.DataFrame(rows, columns=[c for c in cols if c != "rank"])
    df = df.sort_values(["strength", "model"], ascending=[False, True]).reset_index(drop=True)
    df.insert(4, "rank", np.arange(1, len(df) + 1))
    return df


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
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
            for r in df.to_dict(orient="records")]
