"""``judgeanything-arena``: OmniArena model rankings from pair outcomes — the release's human battle records,
a judge run's pair verdicts, or both — per task type and overall, with the judge–human agreement.

Writes to ``--out``: ``rankings.csv`` (source, group, method, model, strength, CI, rank, games, win rate),
``agreement.csv`` (Kendall τ-b of each judge's ranking with the humans', with CI), ``winrate_<source>.png``
(pooled win-rate matrix per source) and ``arena.md`` (also printed).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from judgeanything.analysis.arena import (
    POOLED,
    ArenaResult,
    games_from_outcomes,
    games_from_run,
    rank_arena,
    win_rate_matrix,
)
from judgeanything.analysis.markdown import Table, markdown_environment, md_text
from judgeanything.datasets._io import read_records
from judgeanything.datasets.arena import RECORDS, battle_item_ids, read_battles
from judgeanything.datasets.release import ReleaseNotFound, expand_files, resolve_root
from judgeanything.report.plots import plot_win_rate
from judgeanything.schema import SchemaError
from judgeanything.store import StoreError

TASKS = "X2XRawBenchmark/TaskAnything.json"
ARENA_MD = "arena.md"
ARENA_TEMPLATE = "arena.md.j2"


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="judgeanything-arena", description=__doc__.splitlines()[0])
    ap.add_argument("--root", help="the Judge Anything release folder or hf://pudashi/JudgeAnything: reads its "
                    f"battle records ({RECORDS}) and {TASKS}")
    ap.add_argument("--battles", nargs="*", default=[], help="battle record files or globs "
                    "(gang_<Category>_record.json: uniq_id → ['<a> vs <b> <winner> wins', ...])")
    ap.add_argument("--task-anything", help="TaskAnything.json, to group battles by task type (default: the "
                    "root's; without it battles are grouped by their record's category)")
    ap.add_argument("--run", nargs="*", default=[], type=Path, help="judge run directories (pair setting); "
                    "their human labels are used when no battles are given")
    ap.add_argument("--method", choices=["bt", "davidson"], default="bt",
                    help="bt: Bradley–Terry, ties as half-wins; davidson: Davidson's tie model")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the CIs (0: none)")
    ap.add_argument("--ci", type=float, default=0.95)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-games", type=int, default=1, help="rank a task type on its own from this many games")
    ap.add_argument("--policy", choices=["tie", "drop", "average"], default="tie",
                    help="a pair judged in both orders whose verdicts disagree")
    ap.add_argument("--out", type=Path, default=Path("arena"))
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point. Exit codes: 0 ok, 2 bad arguments or nothing to rank, 1 unreadable input."""
    a = _args(argv)
    if not (a.root or a.battles or a.run):
        print("judgeanything-arena: give --root, --battles or --run", file=sys.stderr)
        return 2
    try:
        games = _collect(a)
    except (SchemaError, StoreError, ReleaseNotFound, ValueError) as e:
        print(f"judgeanything-arena: {e}", file=sys.stderr)
        return 2 if isinstance(e, ReleaseNotFound) else 1
    if games.empty:
        print("judgeanything-arena: no games (no decisive or tied pair outcome between two models)", file=sys.stderr)
        return 2
    res = rank_arena(games, method=a.method, n_boot=a.bootstrap, ci=a.ci, seed=a.seed, min_games=a.min_games)
    md = _write(res, games, a.out, a.method, a.ci)
    print(md)
    print(f"\nwrote {a.out}/rankings.csv, agreement.csv, arena.md and the win-rate plots", file=sys.stderr)
    return 0


def _collect(a: argparse.Namespace) -> pd.DataFrame:
    parts = []
    base = resolve_root(a.root, [RECORDS, TASKS], what="OmniArena") if a.root else None
    specs = list(a.battles) or ([RECORDS] if base is not None else [])
    files = expand_files(specs, base=base, what="judgeanything-arena --battles") if specs else []
    tasks_file = a.task_anything or (base / TASKS if base is not None else None)
    task_of = ({r.require_str("uniq_id"): r.require_str("task_name")
                for r in read_records(tasks_file, what="TaskAnything.json (--task-anything)")}
               if tasks_file is not None else {})
    battles = [b for f in files for b in read_battles(f)]
    if battles:  # item ids as benchmark=omniarena names them, so a judge run on the battles pairs with them
        parts.append(games_from_outcomes("human", [(task_of.get(b.uniq_id, b.category), b.model_a, b.model_b,
                                                    b.outcome, iid)
                                                   for b, iid in zip(battles, battle_item_ids(battles), strict=True)]))
    have_humans = bool(battles)
    for run in a.run:
        g = games_from_run(run, policy=a.policy)
        # Runs of one benchmark carry the same human labels: they count once (battles, else the first run's).
        parts.append(g[g["source"] != "human"] if have_humans else g)
        have_humans = have_humans or bool((g["source"] == "human").any())
    if not parts:
        return pd.DataFrame(columns=["source", "group", "model_a", "model_b", "score"])
    return pd.concat(parts, ignore_index=True)


def _write(res: ArenaResult, games: pd.DataFrame, out: Path, method: str, ci: float) -> str:
    out.mkdir(parents=True, exist_ok=True)
    res.rankings.to_csv(out / "rankings.csv", index=False)
    res.agreement.to_csv(out / "agreement.csv", index=False)
    for source, sg in games.groupby("source", sort=True):
        order = list(res.rankings[(res.rankings.source == source) & (res.rankings.group == POOLED)]["model"])
        rate, count = win_rate_matrix(sg, order)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(source))
        plot_win_rate(rate, count, out / f"winrate_{name}.png", f"{source}: win rate, all task types")
    md = arena_markdown(res, method, ci)
    (out / ARENA_MD).write_text(md, encoding="utf-8")
    return md


def arena_markdown(res: ArenaResult, method: str, ci: float) -> str:
    """``arena.md`` (template ``analysis/templates/arena.md.j2``): each source's pooled ranking, then the
    Kendall τ-b of each judge's ranking with the humans' per group (when a judge was ranked)."""
    what = "Bradley–Terry, ties as half-wins" if method == "bt" else "Davidson tie model"
    pooled = res.rankings[res.rankings.group == POOLED]
    sources = [{"name": md_text(source), "table": _ranking_table(d)}
               for source, d in pooled.groupby("source", sort=True)]
    agreement = None if res.agreement.empty else Table(
        ["group", "judge", "τ", "CI", "models", "CI from"],
        [[r.group, r.judge, f"{r.kendall_tau:+.3f}", _ci(r.ci_low, r.ci_high), r.n_models, r.ci_method]
         for r in res.agreement.itertuples()])
    return markdown_environment().get_template(ARENA_TEMPLATE).render(what=what, ci=f"{ci:.0%}", sources=sources,
                                                                      agreement=agreement)


def _ranking_table(d: pd.DataFrame) -> Table:
    """One source's ranking: rank, model, strength and its CI, games, win rate."""
    return Table(["rank", "model", "strength", "CI", "games", "win rate"],
                 [[r.rank, r.model, f"{r.strength:+.3f}", _ci(r.ci_low, r.ci_high), r.games, f"{r.win_rate:.3f}"]
                  for r in d.itertuples()])


def _ci(lo: float, hi: float) -> str:
    return "–" if not (np.isfinite(lo) and np.isfinite(hi)) else f"[{lo:+.3f}, {hi:+.3f}]"


if __name__ == "__main__":
    sys.exit(main())
