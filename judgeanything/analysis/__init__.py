"""Analysis of judge runs: agreement with humans, biases, repeats, model rankings, leaderboards.

Reads run directories only (the format of :mod:`judgeanything.store`); never calls a judge.

Public API::

    load_run(run_dir) -> RunData
    analyze_run(run_dir, *, bootstrap=1000, ci=0.95, seed=0, inconsistent="all", families=None,
                reducer="mode") -> dict          # writes metrics.json, metrics.csv, report.md
    compute_metrics(data, ...) -> (dict, DataFrame)   # both views of compute_table(data, ...) -> MetricTable
    lookup(metrics, *path), stat_triple(node)        # read a metrics.json-shaped dict
    build_leaderboard(run_dirs) -> DataFrame; write_leaderboard(df, out_dir) -> (csv, md)
    find_run_dirs(paths) -> list[Path]
"""

from judgeanything.analysis.agreement import (
    PRIMARY,
    agreement,
    batch_agreement,
    normalised_levenshtein,
    pair_agreement,
    score_agreement,
)
from judgeanything.analysis.bias import DEFAULT_FAMILIES, family_of
from judgeanything.analysis.bootstrap import Stat
from judgeanything.analysis.leaderboard import build_leaderboard, find_run_dirs, write_leaderboard
from judgeanything.analysis.load import RunData, load_run
from judgeanything.analysis.metrics import CSV_COLUMNS, analyze_run, compute_metrics, compute_table, read_metrics_csv
from judgeanything.analysis.ranking import bradley_terry
from judgeanything.analysis.table import MetricTable, lookup, stat_triple

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_FAMILIES",
    "PRIMARY",
    "MetricTable",
    "RunData",
    "Stat",
    "agreement",
    "analyze_run",
    "batch_agreement",
    "bradley_terry",
    "build_leaderboard",
    "compute_metrics",
    "compute_table",
    "family_of",
    "find_run_dirs",
    "load_run",
    "lookup",
    "normalised_levenshtein",
    "pair_agreement",
    "read_metrics_csv",
    "score_agreement",
    "stat_triple",
    "write_leaderboard",
]
