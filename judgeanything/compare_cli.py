"""``judgeanything-compare``: one judge leaderboard over run directories (or a Hydra multirun folder).

Finds every directory holding ``verdicts.jsonl`` under the given paths, analyses those without
``metrics.json`` (or all of them with ``--recompute``) with each run's own analysis options (those saved in its
``metrics.json``, else its config's ``analysis`` section; ``--bootstrap`` / ``--seed`` override them), prints
the leaderboard as Markdown and writes ``leaderboard.csv`` / ``leaderboard.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judgeanything.analysis.leaderboard import (
    build_leaderboard,
    find_run_dirs,
    leaderboard_markdown,
    load_metrics,
    write_leaderboard,
)
from judgeanything.analysis.metrics import METRICS_JSON, analyze_run
from judgeanything.analysis.options import AnalysisOptions
from judgeanything.schema import SchemaError
from judgeanything.store import StoreError
from judgeanything.usage import cross_run_warnings


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point. Exit codes: 0 ok, 2 bad arguments / no run directories, 1 unreadable run."""
    ap = argparse.ArgumentParser(prog="judgeanything-compare", description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", type=Path, help="run directories or a folder holding them (searched "
                    "recursively for verdicts.jsonl)")
    ap.add_argument("--out", type=Path, default=None, help="where to write leaderboard.csv/.md (default: the "
                    "single path given, else the current directory)")
    ap.add_argument("--recompute", action="store_true", help="re-analyse runs that already have metrics.json")
    ap.add_argument("--bootstrap", type=int, default=None, help="bootstrap resamples when analysing a run "
                    "(default: the run's own)")
    ap.add_argument("--seed", type=int, default=None, help="analysis seed (default: the run's own)")
    args = ap.parse_args(argv)
    try:
        runs = find_run_dirs(args.paths)
    except FileNotFoundError as e:
        print(f"judgeanything-compare: {e}", file=sys.stderr)
        return 2
    if not runs:
        print("judgeanything-compare: no run directories (with verdicts.jsonl) under "
              + ", ".join(map(str, args.paths)), file=sys.stderr)
        return 2
    try:
        metrics = [_run_metrics(r, args) for r in runs]  # each run's metrics.json read (or written) once
        df = build_leaderboard(runs, metrics)
    except (StoreError, SchemaError, ValueError) as e:
        print(f"judgeanything-compare: {e}", file=sys.stderr)
        return 1
    out = args.out or (args.paths[0] if len(args.paths) == 1 and args.paths[0].is_dir() else Path.cwd())
    warnings = snapshot_warnings(list(zip(runs, metrics, strict=True)))
    csv, md = write_leaderboard(df, out, warnings)
    print(leaderboard_markdown(df))
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"\nwrote {csv} and {md} ({len(runs)} run directories)", file=sys.stderr)
    return 0


def _run_metrics(run_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The run's metrics: analysed now (missing ``metrics.json``, or ``--recompute``: with the run's own
    options, ``--bootstrap`` / ``--seed`` overriding them), else read from its ``metrics.json``.

    Raises:
        StoreError / SchemaError: an unreadable run; ValueError: bad options or an unparseable metrics.json.
    """
    if args.recompute or not (run_dir / METRICS_JSON).exists():
        given = {k: v for k, v in (("bootstrap", args.bootstrap), ("seed", args.seed)) if v is not None}
        return analyze_run(run_dir, AnalysisOptions.of_run(run_dir), **given)
    return load_metrics(run_dir)


def snapshot_warnings(runs: Sequence[tuple[Path, Mapping[str, Any]]]) -> list[str]:
    """Compared runs of one judge answered by different model snapshots.

    Args:
        runs: ``(run directory, its metrics dict)`` per run (the snapshots are the metrics'
            ``usage.snapshots``; :func:`judgeanything.usage.cross_run_warnings`).
    """
    entries = [(r.name, str((m.get("run") or {}).get("judge") or "?"), m.get("usage") or {}) for r, m in runs]
    return cross_run_warnings(entries)


if __name__ == "__main__":
    sys.exit(main())
