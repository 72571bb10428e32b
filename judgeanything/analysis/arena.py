"""OmniArena: rank generation models from pair outcomes — human battles, a judge run's pair verdicts, or
both — per task type and overall, and measure how far the judge's ranking agrees with the humans'.

Games are rows ``source, group, model_a, model_b, score`` (score of ``model_a``: 1 win, ½ tie, 0 loss);
``source`` is ``human`` or ``judge:<name>``; ``group`` the task type. Strengths come from
:func:`judgeanything.analysis.ranking.fit_strengths` (Bradley–Terry with ties as half-wins, or Davidson's
tie model) with percentile bootstrap CIs. The agreement of two sources' rankings is Kendall's τ-b between
their strengths over the models both ranked. When both sources judged the same items (a judge run on the
OmniArena battles: games carry an ``item`` column), its CI resamples those items jointly — each replicate
refits both rankings on the same resampled battles, so the CI reflects disagreement, not battle sampling
twice over; otherwise replicate *r* of one source is paired with replicate *r* of the other (each
resampled over its own games, independently). ``agreement.ci_method`` says which.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from judgeanything.analysis.bootstrap import percentile_ci, rng_for
from judgeanything.analysis.load import load_run
from judgeanything.analysis.ranking import Strengths, fit_strengths, fit_weighted
from judgeanything.analysis.units import combine_orders, reduce_repeats

GAME_COLUMNS = ["source", "group", "model_a", "model_b", "score", "item"]
POOLED = "pooled"
_SCORE = {"first": 1.0, "tie": 0.5, "second": 0.0}


def games_frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows ``(source, group, model_a, model_b, score[, item])`` as a games frame (``item``: the battle's id,
    ``None`` when unknown)."""
    return pd.DataFrame([(*r, None) if len(r) == 5 else tuple(r) for r in rows], columns=GAME_COLUMNS)


def games_from_outcomes(source: str, rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """Games from ``(group, model_a, model_b, outcome[, item])`` with outcome ``first`` / ``second`` / ``tie``
    (battles whose two sides are the same model are left out: they say nothing about a ranking)."""
    return games_frame((source, r[0], r[1], r[2], _SCORE[r[3]], r[4] if len(r) > 4 else None)
                       for r in rows if r[1] != r[2] and r[3] in _SCORE)


def games_from_run(run_dir: Any, *, policy: str = "tie", reducer: str = "mode") -> pd.DataFrame:
    """The ``overall`` pair verdicts of one run directory as games of source ``judge:<judge name>`` (and its
    human labels as source ``human``), grouped by task type.

    Repeats are reduced with ``reducer`` and the two orders of a pair combined with ``policy`` (an
    inconsistent pair is a tie by default), exactly as the run's own analysis does.

    Raises:
        StoreError / SchemaError: an unreadable run directory.
        ValueError: a run that is not a pair comparison.
    """
    data = load_run(run_dir)
    items = data.items.set_index("item_id")
    if not data.items.empty and set(data.items["setting"]) != {"pair"}:
        raise ValueError(f"{run_dir}: not a pair comparison run (settings {sorted(set(data.items['setting']))})")
    v = data.verdicts[data.verdicts["rubric"] == "overall"]
    judge = str(v["judge"].iloc[0]) if not v.empty else "judge"
    units = combine_orders(reduce_repeats(v, "pair", reducer), "pair", policy)
    rows = [(str(items.at[u.item_id, "task_name"]), *_models(items.at[u.item_id, "models"]), u.value, u.item_id)
            for u in units.itertuples() if u.item_id in items.index]
    out = [games_from_outcomes(f"judge:{judge}", rows)]
    lab = data.labels[data.labels["rubric"] == "overall"]
    hrows = [(str(items.at[r.item_id, "task_name"]), *_models(items.at[r.item_id, "models"]), r.value, r.item_id)
             for r in lab.itertuples() if r.item_id in items.index]
    if hrows:
        out.append(games_from_outcomes("human", hrows))
    return pd.concat(out, ignore_index=True)


def _models(ms: Sequence[str]) -> tuple[str, str]:
    return (str(ms[0]), str(ms[1])) if len(ms) == 2 else ("", "")


@dataclass(frozen=True)
class ArenaResult:
    """Rankings (tidy: ``source, group, method, model, strength, ci_low, ci_high, rank, games, win_rate``),
    the agreement of every judge source with ``human`` per group (``group, judge, kendall_tau, ci_low,
    ci_high, n_models, ci_method``), and the fitted strengths per (source, group)."""

    rankings: pd.DataFrame
    agreement: pd.DataFrame
    fits: dict[tuple[str, str], Strengths]


def rank_arena(games: pd.DataFrame, *, method: str = "bt", n_boot: int = 1000, ci: float = 0.95,
               seed: int = 0, min_games: int = 1) -> ArenaResult:
    """Strengths per source, overall (group ``pooled``) and per group, and judge–human Kendall τ.

    Args:
        games: a games frame (:data:`GAME_COLUMNS`).
        method: ``bt`` or ``davidson`` (see :func:`fit_strengths`).
        min_games: groups with fewer games are not ranked on their own (they still count in ``pooled``).

    Raises:
        ValueError: an unknown method or a bad game score.
    """
    fits: dict[tuple[str, str], Strengths] = {}
    tables = []
    for source, sg in games.groupby("source", sort=True):
        parts = [(POOLED, sg)] + [(str(g), d) for g, d in sg.groupby("group", sort=True)]
        for group, d in parts:
            if len(d) < min_games:
                continue
            st = fit_strengths(list(zip(d["model_a"], d["model_b"], d["score"], strict=True)), method=method,
                               n_boot=n_boot, ci=ci, seed=seed, stream=f"{source}/{group}")
            fits[(str(source), group)] = st
            tables.append(st.table.assign(source=source, group=group, method=method))
    cols = ["source", "group", "method", "model", "strength", "ci_low", "ci_high", "rank", "games", "win_rate"]
    rankings = pd.concat(tables, ignore_index=True)[cols] if tables else pd.DataFrame(columns=cols)
    opts = {"method": method, "n_boot": n_boot, "ci": ci, "seed": seed}
    return ArenaResult(rankings, _agreement(fits, games, opts), fits)


def _group_games(games: pd.DataFrame, source: str, group: str) -> pd.DataFrame:
    g = games[games["source"] == source]
    return g if group == POOLED else g[g["group"].astype(str) == group]


def _agreement(fits: dict[tuple[str, str], Strengths], games: pd.DataFrame, opts: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for (source, group), st in fits.items():
        human = fits.get(("human", group))
        if source == "human" or human is None:
            continue
        paired = paired_tau_ci(_group_games(games, source, group), _group_games(games, "human", group), **opts)
        if paired is not None:
            tau, lo, hi, n, n_items = paired
            how = f"paired: {n_items} battles both judged, resampled jointly"
        else:
            tau, lo, hi, n = kendall_tau_ci(st, human, opts["ci"])
            how = "independent resamples of each source's games"
        rows.append({"group": group, "judge": source, "kendall_tau": tau, "ci_low": lo, "ci_high": hi,
                     "n_models": n, "ci_method": how})
    return pd.DataFrame(rows, columns=["group", "judge", "kendall_tau", "ci_low", "ci_high", "n_models",
                                       "ci_method"])


def paired_tau_ci(judge: pd.DataFrame, human: pd.DataFrame, *, method: str = "bt", n_boot: int = 1000,
                  ci: float = 0.95, seed: int = 0) -> tuple[float, float, float, int, int] | None:
    """Kendall τ-b between the judge's and the humans' strengths on the battles both judged, with a CI from
    resampling those battles jointly (item-level bootstrap; both rankings refitted on each replicate).

    Returns:
        ``(tau, ci_low, ci_high, n_models, n_items)``, or ``None`` when fewer than 2 battles carry an
        ``item`` id in both frames (the caller then uses :func:`kendall_tau_ci`).
    """
    common = sorted(set(judge["item"].dropna()) & set(human["item"].dropna()))
    if len(common) < 2:
        return None
    j, h = judge[judge["item"].isin(common)], human[human["item"].isin(common)]
    pos = {it: k for k, it in enumerate(common)}
    jg = list(zip(j["model_a"], j["model_b"], j["score"], strict=True))
    hg = list(zip(h["model_a"], h["model_b"], h["score"], strict=True))
    mj, tj = fit_weighted(jg, np.ones((1, len(jg))), method=method)
    mh, th = fit_weighted(hg, np.ones((1, len(hg))), method=method)
    models = sorted(set(mj) & set(mh))
    if len(models) < 2:
        return float("nan"), float("nan"), float("nan"), len(models), len(common)
    ij, ih = [mj.index(x) for x in models], [mh.index(x) for x in models]
    tau = _tau(tj[0, ij], th[0, ih])
    if n_boot <= 0:
        return tau, float("nan"), float("nan"), len(models), len(common)
    w = rng_for(seed, "arena-paired").multinomial(len(common), np.full(len(common), 1 / len(common)), size=n_boot)
    _, rj = fit_weighted(jg, w[:, [pos[x] for x in j["item"]]], method=method)
    _, rh = fit_weighted(hg, w[:, [pos[x] for x in h["item"]]], method=method)
    reps = np.array([_tau(rj[r, ij], rh[r, ih]) for r in range(n_boot)])
    ok = reps[np.isfinite(reps)]
    lo, hi = percentile_ci(ok, ci) if ok.size else (np.nan, np.nan)
    return tau, float(lo), float(hi), len(models), len(common)


def kendall_tau_ci(a: Strengths, b: Strengths, ci: float = 0.95) -> tuple[float, float, float, int]:
    """Kendall τ-b between two rankings' strengths over their common models, with a percentile CI from
    paired bootstrap replicates (replicate *r* of ``a`` with replicate *r* of ``b``).

    Returns:
        ``(tau, ci_low, ci_high, n_models)``; NaN where fewer than 2 models are common (or no replicates).
    """
    common = sorted(set(a.models) & set(b.models))
    if len(common) < 2:
        return float("nan"), float("nan"), float("nan"), len(common)
    ia = [a.models.index(mname) for mname in common]
    ib = [b.models.index(mname) for mname in common]
    tau = _tau(a.theta[ia], b.theta[ib])
    n = min(len(a.reps), len(b.reps))
    if n == 0:
        return tau, float("nan"), float("nan"), len(common)
    reps = np.array([_tau(a.reps[r, ia], b.reps[r, ib]) for r in range(n)])
    lo, hi = percentile_ci(reps[np.isfinite(reps)], ci) if np.isfinite(reps).any() else (np.nan, np.nan)
    return tau, float(lo), float(hi), len(common)


def _tau(x: np.ndarray, y: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant input → NaN
        t = stats.kendalltau(x, y).statistic
    return float(t) if np.isfinite(t) else float("nan")


def win_rate_matrix(games: pd.DataFrame, order: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Row model's win rate against the column model (ties count ½) and the number of games, as two
    (m, m) frames in ``order`` (default: sorted names); NaN where two models never met."""
    models = list(order) if order is not None else sorted(set(games["model_a"]) | set(games["model_b"]))
    wins = pd.DataFrame(0.0, index=models, columns=models)
    count = pd.DataFrame(0, index=models, columns=models)
    for a, b, s in zip(games["model_a"], games["model_b"], games["score"], strict=True):
        if a in wins.index and b in wins.index:
            wins.at[a, b] += s
            wins.at[b, a] += 1.0 - s
            count.at[a, b] += 1
            count.at[b, a] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = wins / count.where(count > 0)
    return rate, count
