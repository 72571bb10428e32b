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
from judgeanything.analysis.markdown import fmt, fmt_stat, md_table
from judgeanything.analysis.metrics import METRICS_JSON, analyze_run
from judgeanything.store import VERDICTS

LEADERBOARD_CSV = "leaderboard.csv"
LEADERBOARD_MD = "leaderboard.md"
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


def _metrics(run_dir: Path) -> dict[str, Any]:
    path = run_dir / METRICS_JSON
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return analyze_run(run_dir)


def _stat(d: Mapping[str, Any] | None) -> tuple[Any, Any, Any]:
    if not isinstance(d, Mapping):
        return (None, None, None)
    return (d.get("value"), d.get("ci_low"), d.get("ci_high"))


def leaderboard_rows(run_dir: Path, metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The leaderboard rows of one run's metrics dict (one per setting)."""
    run = metrics.get("run", {})
    cost = metrics.get("cost", {}) or {}
    rows = []
    for setting, s in metrics.get("settings", {}).items():
        rb = s.get("headline_rubric")
        sec = s.get("rubrics", {}).get(rb, {}) if rb else {}
        metric = PRIMARY.get(setting, "")
        pooled = sec.get("pooled", {})
        v, lo, hi = _stat(pooled.get(metric))
        counts = s.get("counts", {})
        row: dict[str, Any] = {"judge": run.get("judge"), "kind": run.get("judge_kind") or "?",
                               "benchmark": run.get("benchmark"),
                               "setting": setting,
                               "mode": run.get("mode"), "rubric": rb, "items": counts.get("items"),
                               "judged": counts.get("judged_items"), "metric": metric, "agreement": v,
                               "agreement_ci_low": lo, "agreement_ci_high": hi}
        if setting == "pair":
            row["acc_without_tie"], row["acc_without_tie_ci_low"], row["acc_without_tie_ci_high"] = _stat(
                pooled.get("accuracy_without_tie"))
        if setting == "score":
            row["offset"] = _stat(pooled.get("offset"))[0]
        bd = sec.get("breakdowns", {})
        for gb, prefix in (("family", ""), ("output_modality", "out=")):
            for g, d in sorted(bd.get(gb, {}).items()):
                gv, glo, ghi = _stat(d.get(metric))
                if gv is not None:
                    row[f"agreement[{prefix}{g}]"] = gv
                    row[f"agreement[{prefix}{g}]_ci_low"] = glo
                    row[f"agreement[{prefix}{g}]_ci_high"] = ghi
        row["failure_rate"] = (sec.get("failures") or {}).get("failure_rate")
        row["strict_parse_rate"] = (s.get("parsing") or {}).get("strict_parse_rate")
        bias = s.get("bias", {})
        pos = (bias.get("position") or {}).get(rb) or {}
        row["consistency"] = _stat(pos.get("consistency"))[0]
        row["flip_rate"] = _stat(pos.get("flip_rate"))[0]
        slot1 = (pos.get("p_prefer_slot") or pos.get("p_rank1_given_slot") or {}).get("1")
        row["p_prefer_slot1"] = _stat(slot1)[0]
        size = ((bias.get("size") or {}).get(rb) or {}).get("primary") or {}
        row["p_prefer_longer"] = _stat(size.get("p_prefer_larger"))[0]
        sp = (bias.get("self_preference") or {}).get(rb) or {}
        row["self_preference_rate"] = _stat(sp.get("judge_rate"))[0]
        row["self_preference_flagged"] = sp.get("flagged")
        row.update(_injection_columns((bias.get("prompt_injection") or {}).get(rb) or {}))
        row["prompt_tokens"] = cost.get("prompt_tokens")
        row["completion_tokens"] = cost.get("completion_tokens")
        row["time_s"] = cost.get("latency_s")
        usage = metrics.get("usage") or {}
        row["cost_usd"] = usage.get("cost_usd")
        row["spent_usd"] = usage.get("spent_usd")
        row["cached"] = usage.get("cached")
        row["run_dir"] = str(run_dir)
        rows.append(row)
    return rows


def _injection_columns(inj: Mapping[str, Any]) -> dict[str, Any]:
    """``injection_susceptibility`` (pooled, with its CI) and ``injection[out=<modality>]`` per output
    modality, from a run's prompt-injection section; ``{}`` when the run held no injection probe."""
    out: dict[str, Any] = {}
    for g, d in sorted((inj.get("by_modality") or {}).items()):
        v, lo, hi = _stat(d.get("susceptibility"))
        if v is None:
            continue
        name = "injection_susceptibility" if g == "all" else f"injection[out={g}]"
        out[name], out[f"{name}_ci_low"], out[f"{name}_ci_high"] = v, lo, hi
    return out


def build_leaderboard(run_dirs: Sequence[Path | str]) -> pd.DataFrame:
    """One leaderboard over run directories (``metrics.json`` computed where missing).

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
        StoreError / SchemaError: a run directory that cannot be read.
    """
    rows: list[dict[str, Any]] = []
    for d in run_dirs:
        d = Path(d)
        rows += leaderboard_rows(d, _metrics(d))
    if not rows:
        return pd.DataFrame(columns=BASE_COLUMNS)
    df = pd.DataFrame(rows)
    df["_key"] = [(-1 if m in LOWER_IS_BETTER else 1) * (a if a is not None and a == a else float("-inf"))
                  for m, a in zip(df["metric"], df["agreement"], strict=True)]
    df = df.sort_values(["setting", "_key", "judge"], ascending=[True, False, True], kind="stable")
    return df.drop(columns="_key").reset_index(drop=True)


def leaderboard_markdown(df: pd.DataFrame) -> str:
    """The leaderboard as a Markdown table (CI columns folded into ``value [low, high]``)."""
    if df.empty:
        return "(no runs)"
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
    return md_table(cols, rows)


def _none(v: Any) -> Any:
    try:
        return None if v is None or v != v else v
    except (TypeError, ValueError):
        return v


def write_leaderboard(df: pd.DataFrame, out_dir: Path | str) -> tuple[Path, Path]:
    """Write ``leaderboard.csv`` and ``leaderboard.md`` into ``out_dir`` (created); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv, md = out / LEADERBOARD_CSV, out / LEADERBOARD_MD
    df.to_csv(csv, index=False)
    md.write_text("# Judge leaderboard\n\n" + leaderboard_markdown(df) + "\n", encoding="utf-8")
    return csv, md
