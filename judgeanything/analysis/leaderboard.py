"""Judge leaderboards across run directories (e.g. the runs of a Hydra multirun).

One row per (run directory × setting) — i.e. judge × setting × mode × benchmark — with the columns of
AlpacaEval's judge-quality table adapted to multimodal judging: agreement with humans (headline metric of
the setting with its CI, also per family MMU/MMG and per output modality), failure rate, position
consistency / flip rate (when both orders were run), P(prefer slot 1), P(prefer longer), self-preference
rate, token sums and judge time. Values come from each run's ``metrics.json`` (computed first when absent).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from judgeanything.analysis.agreement import LOWER_IS_BETTER, PRIMARY
from judgeanything.analysis.markdown import Table, fmt, fmt_stat, markdown_environment, md_note, md_table
from judgeanything.analysis.metrics import METRICS_JSON, analyze_run
from judgeanything.analysis.table import lookup, stat_triple, stat_value
from judgeanything.store import VERDICTS

LEADERBOARD_CSV = "leaderboard.csv"
LEADERBOARD_MD = "leaderboard.md"
LEADERBOARD_TEMPLATE = "leaderboard.md.j2"
BASE_COLUMNS = ["judge", "benchmark", "setting", "mode", "rubric", "items", "judged", "metric", "agreement",
                "agreement_ci_low", "agreement_ci_high"]


def find_run_dirs(paths: Iterable[Path | str]) -> list[Path]:
    """Run directories (those holding ``verdicts.jsonl``) at or below each path, sorted, deduplicated.

    Raises:
        FileNotFoundError: a path that does not exist.
    """
    found: set[Path] = set()
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or directory")
        if p.is_file() and p.name == VERDICTS:
            found.add(p.parent.resolve())
            continue
        if (p / VERDICTS).is_file():
            found.add(p.resolve())
        for v in p.rglob(VERDICTS):
            found.add(v.parent.resolve())
    return sorted(found)


def load_metrics(run_dir: Path | str) -> dict[str, Any]:
    """A run's ``metrics.json`` as a dict, analysed first (with the default options) when it is absent.

    Raises:
        StoreError / SchemaError: a run directory that cannot be analysed;
        ValueError: a ``metrics.json`` that is not valid JSON.
    """
    path = Path(run_dir) / METRICS_JSON
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e}); delete it (or pass --recompute) to analyse the run "
                             "again") from e
    return analyze_run(run_dir)


def leaderboard_rows(run_dir: Path, metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The leaderboard rows of one run's metrics dict (one per setting)."""
    return [_setting_row(run_dir, metrics, setting) for setting in lookup(metrics, "settings", default={})]


def _setting_row(run_dir: Path, m: Mapping[str, Any], setting: str) -> dict[str, Any]:
    """One leaderboard row: the headline rubric's agreement (pooled, per family and output modality), failure
    and strict-parse rates, biases, then the run's cost."""
    s = ("settings", setting)
    rb = lookup(m, *s, "headline_rubric")
    sec = (*s, "rubrics", rb)
    metric = PRIMARY.get(setting, "")
    v, lo, hi = stat_triple(lookup(m, *sec, "pooled", metric))
    row: dict[str, Any] = {"judge": lookup(m, "run", "judge"), "kind": lookup(m, "run", "judge_kind") or "?",
                           "benchmark": lookup(m, "run", "benchmark"), "setting": setting,
                           "mode": lookup(m, "run", "mode"), "rubric": rb, "items": lookup(m, *s, "counts", "items"),
                           "judged": lookup(m, *s, "counts", "judged_items"), "metric": metric, "agreement": v,
                           "agreement_ci_low": lo, "agreement_ci_high": hi}
    if setting == "pair":
        _put_stat(row, "acc_without_tie", lookup(m, *sec, "pooled", "accuracy_without_tie"), always=True)
    if setting == "score":
        row["offset"] = stat_value(m, *sec, "pooled", "offset")
    for gb, prefix in (("family", ""), ("output_modality", "out=")):
        for g, d in sorted(lookup(m, *sec, "breakdowns", gb, default={}).items()):
            _put_stat(row, f"agreement[{prefix}{g}]", lookup(d, metric))
    row["failure_rate"] = lookup(m, *sec, "failures", "failure_rate")
    row["strict_parse_rate"] = lookup(m, *s, "parsing", "strict_parse_rate")
    row.update(_bias_columns(lookup(m, *s, "bias", default={}), rb))
    row.update(_cost_columns(m))
    row["run_dir"] = str(run_dir)
    return row


def _put_stat(row: dict[str, Any], name: str, node: Any, *, always: bool = False) -> None:
    """``name``, ``name_ci_low``, ``name_ci_high`` of a stat node (skipped when it has no value, unless
    ``always``)."""
    v, lo, hi = stat_triple(node)
    if v is not None or always:
        row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = v, lo, hi


def _bias_columns(bias: Mapping[str, Any], rb: Any) -> dict[str, Any]:
    """Position consistency / flip rate, P(prefer slot 1), P(prefer longer), self-preference and
    prompt-injection columns of the headline rubric ``rb``."""
    pos = ("position", rb)
    slot1 = lookup(bias, *pos, "p_prefer_slot") or lookup(bias, *pos, "p_rank1_given_slot") or {}
    out: dict[str, Any] = {"consistency": stat_value(bias, *pos, "consistency"),
                           "flip_rate": stat_value(bias, *pos, "flip_rate"),
                           "p_prefer_slot1": stat_value(slot1, "1"),
                           "p_prefer_longer": stat_value(bias, "size", rb, "primary", "p_prefer_larger"),
                           "self_preference_rate": stat_value(bias, "self_preference", rb, "judge_rate"),
                           "self_preference_flagged": lookup(bias, "self_preference", rb, "flagged")}
    out.update(_injection_columns(lookup(bias, "prompt_injection", rb, default={})))
    return out


def _cost_columns(m: Mapping[str, Any]) -> dict[str, Any]:
    """Token sums and judge time (``cost``), the priced cost and cache hits (``usage``)."""
    return {"prompt_tokens": lookup(m, "cost", "prompt_tokens"),
            "completion_tokens": lookup(m, "cost", "completion_tokens"), "time_s": lookup(m, "cost", "latency_s"),
            "cost_usd": lookup(m, "usage", "cost_usd"), "spent_usd": lookup(m, "usage", "spent_usd"),
            "cached": lookup(m, "usage", "cached")}


def _injection_columns(inj: Mapping[str, Any]) -> dict[str, Any]:
    """``injection_susceptibility`` (pooled, with its CI) and ``injection[out=<modality>]`` per output
    modality, from a run's prompt-injection section; ``{}`` when the run held no injection probe."""
    out: dict[str, Any] = {}
    for g, d in sorted(lookup(inj, "by_modality", default={}).items()):
        _put_stat(out, "injection_susceptibility" if g == "all" else f"injection[out={g}]",
                  lookup(d, "susceptibility"))
    return out


def build_leaderboard(run_dirs: Sequence[Path | str],
                      metrics: Sequence[Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """One leaderboard over run directories (``metrics.json`` computed where missing).

    Args:
        run_dirs: the run directories.
        metrics: each run's metrics dict, in the order of ``run_dirs``, when the caller holds them already
            (``judgeanything-compare`` reads each file once for the leaderboard and its warnings); default:
            :func:`load_metrics` of each.

    Returns:
        DataFrame, one row per run × setting, sorted by setting then headline agreement (best first:
        higher accuracy / Pearson r, lower nlev). Columns: :data:`BASE_COLUMNS`, per-family and per-output
        modality ``agreement[...]`` (+ ``_ci_low``/``_ci_high``), ``failure_rate, strict_parse_rate,
        consistency, flip_rate, p_prefer_slot1, p_prefer_longer, self_preference_rate, self_preference_flagged``,
        ``injection_susceptibility`` and ``injection[out=<modality>]`` (with CIs; runs with injection
        probes), ``prompt_tokens,
        completion_tokens, time_s, cost_usd`` (at the run's price; blank when unknown), ``spent_usd`` (without
        judge-cache hits), ``cached`` (verdicts answered from the judge cache), ``run_dir``.

    Raises:
        StoreError / SchemaError: a run directory that cannot be read;
        ValueError: ``metrics`` not one per run directory.
    """
    if metrics is not None and len(metrics) != len(run_dirs):
        raise ValueError(f"build_leaderboard: {len(metrics)} metrics dicts for {len(run_dirs)} run directories")
    rows: list[dict[str, Any]] = []
    for i, d in enumerate(run_dirs):
        d = Path(d)
        rows += leaderboard_rows(d, load_metrics(d) if metrics is None else metrics[i])
    if not rows:
        return pd.DataFrame(columns=BASE_COLUMNS)
    df = pd.DataFrame(rows)
    df["_key"] = [(-1 if m in LOWER_IS_BETTER else 1) * (a if a is not None and a == a else float("-inf"))
                  for m, a in zip(df["metric"], df["agreement"], strict=True)]
    df = df.sort_values(["setting", "_key", "judge"], ascending=[True, False, True], kind="stable")
    return df.drop(columns="_key").reset_index(drop=True)


def leaderboard_table(df: pd.DataFrame) -> Table | None:
    """The leaderboard's table, CI columns folded into ``value [low, high]`` (``run_dir`` left out); ``None``
    for an empty leaderboard."""
    if df.empty:
        return None
    cols = [c for c in df.columns if not c.endswith(("_ci_low", "_ci_high")) and c != "run_dir"]
    rows = []
    for _, r in df.iterrows():
        line = []
        for c in cols:
            v = r[c]
            if f"{c}_ci_low" in df.columns:
                line.append(fmt_stat({"value": _none(v), "ci_low": _none(r[f"{c}_ci_low"]),
                                      "ci_high": _none(r[f"{c}_ci_high"])}))
            elif c in ("prompt_tokens", "completion_tokens"):
                line.append(fmt(_none(v), 0))
            else:
                line.append(fmt(_none(v)))
        rows.append(line)
    return Table(cols, rows)


def leaderboard_markdown(df: pd.DataFrame) -> str:
    """The leaderboard as a Markdown table (what ``judgeanything-compare`` prints), ``(no runs)`` when empty."""
    t = leaderboard_table(df)
    return "(no runs)" if t is None else md_table(t.headers, t.rows)


def render_leaderboard(df: pd.DataFrame, warnings: Sequence[str] = ()) -> str:
    """``leaderboard.md`` (template ``templates/leaderboard.md.j2``): the table and the ``warnings`` on the
    compared runs (names in them kept as text, :func:`~judgeanything.analysis.markdown.md_note`)."""
    return markdown_environment().get_template(LEADERBOARD_TEMPLATE).render(
        board=leaderboard_table(df), warnings=[md_note(w) for w in warnings])


def _none(v: Any) -> Any:
    try:
        return None if v is None or v != v else v
    except (TypeError, ValueError):
        return v


def write_leaderboard(df: pd.DataFrame, out_dir: Path | str, warnings: Sequence[str] = ()) -> tuple[Path, Path]:
    """Write ``leaderboard.csv`` and ``leaderboard.md`` (:func:`render_leaderboard`, with ``warnings``) into
    ``out_dir`` (created); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv, md = out / LEADERBOARD_CSV, out / LEADERBOARD_MD
    df.to_csv(csv, index=False)
    md.write_text(render_leaderboard(df, warnings), encoding="utf-8")
    return csv, md
