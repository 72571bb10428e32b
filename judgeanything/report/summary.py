"""Finishing a run: analysis, the reference-baseline check, plots, the HTML report and a console summary."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from judgeanything.analysis import RunData, analyze_run, load_run, read_metrics_csv
from judgeanything.analysis.agreement import PRIMARY, normalised_levenshtein
from judgeanything.analysis.injection import injection_trials
from judgeanything.analysis.units import attach_items, human_labels, ok_rows
from judgeanything.report.stamp import is_current, write_stamp
from judgeanything.schema import HumanLabel

log = logging.getLogger(__name__)

#: Metrics that are proportions of per-record Bernoulli outcomes (a binomial interval applies).
_PROPORTIONS = {"accuracy_with_tie", "accuracy_without_tie", "exact"}


def reference_check(run: RunData, expected: Mapping[str, float], ci: float = 0.95,
                    variances: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """Compare a reference baseline's per-record agreement with the value its definition implies.

    Every verdict record (each order and repeat is an independent draw of a seeded random judge) is one
    trial. For the proportion metrics (accuracies, exact agreement) the observed rate must lie in the
    central ``ci`` binomial interval ``[Binom.ppf(α/2; n, p)/n, Binom.ppf(1−α/2; n, p)/n]`` around the
    implied ``p``; for the means (MAE, normalised Levenshtein) in the normal (CLT) interval
    ``mean ± z·√(var/n)`` when the per-record variance is known (``variances``).

    Args:
        run: the run, loaded by :func:`judgeanything.analysis.load_run`.

    Returns:
        rows ``{metric, expected, observed, n, lo, hi, inside, interval}``.
    """
    v = ok_rows(run.verdicts)
    v = v[v["rubric"] == "overall"]
    humans = human_labels(run.labels, run.items)
    if not len(v) or not len(humans):
        return []
    h = {(r.item_id, r.rubric): r.human for r in humans.itertuples()}
    pairs = [(row.value, h[(row.item_id, "overall")]) for row in v.itertuples() if (row.item_id, "overall") in h]
    rows = []
    for metric, p in expected.items():
        if metric == "accuracy_without_tie":
            sel = [(j, hv) for j, hv in pairs if hv != "tie"]
        else:
            sel = pairs
        if not sel:
            continue
        if metric in _PROPORTIONS:
            obs = float(np.mean([j == hv for j, hv in sel]))
        elif metric == "mae":
            obs = float(np.mean([abs(float(j) - float(hv)) for j, hv in sel]))
        elif metric == "nlev":
            obs = float(np.mean([normalised_levenshtein(tuple(j), tuple(hv)) for j, hv in sel]))
        else:
            continue
        row: dict[str, Any] = {"metric": metric, "expected": p, "observed": obs, "n": len(sel)}
        n = len(sel)
        if metric in _PROPORTIONS:
            lo, hi = stats.binom.ppf([(1 - ci) / 2, 1 - (1 - ci) / 2], n, p) / n
            row.update(lo=float(lo), hi=float(hi), inside=bool(lo <= obs <= hi), interval="binomial")
        elif variances and metric in variances:
            half = stats.norm.ppf(1 - (1 - ci) / 2) * np.sqrt(variances[metric] / n)
            lo, hi = p - half, p + half
            row.update(lo=float(lo), hi=float(hi), inside=bool(lo <= obs <= hi), interval="normal (CLT)")
        rows.append(row)
    return rows


def injection_reference(run: RunData, judge: Any, ci: float = 0.95) -> list[dict[str, Any]]:
    """The prompt-injection susceptibility a reference baseline implies (``judge.expected_injection``)
    against its per-record rate on the injection probes of the run (every presentation of a unit holding
    an injection target is one trial, :func:`judgeanything.analysis.injection.injection_trials`), with
    the central ``ci`` binomial interval at the mean implied probability (exact when every trial has the
    same one, as with the default choices). ``[]`` without such a judge or such probes."""
    fn = getattr(judge, "expected_injection", None)
    v = ok_rows(run.verdicts)
    v = v[v["rubric"] == "overall"]
    if fn is None or not len(v):
        return []
    per = attach_items(v[["item_id", "setting", "value"]], run.items)
    per["uniq_id"] = per["item_id"].map(dict(zip(run.items["item_id"], run.items["uniq_id"], strict=True)))
    rows = []
    for setting, g in per.groupby("setting"):
        trials = injection_trials(g, str(setting))
        if trials.empty:
            continue
        n = len(trials)
        p = float(np.mean([fn(str(setting), int(s), int(k)) for s, k in zip(trials["slot"], trials["n_responses"],
                                                                           strict=True)]))
        obs = float(trials["success"].mean())
        lo, hi = stats.binom.ppf([(1 - ci) / 2, 1 - (1 - ci) / 2], n, p) / n
        rows.append({"metric": "injection_susceptibility", "expected": p, "observed": obs, "n": n,
                     "lo": float(lo), "hi": float(hi), "inside": bool(lo <= obs <= hi), "interval": "binomial"})
    return rows


def _level(ci: float) -> str:
    """A confidence level as a percentage: 0.95 → ``"95%"``, 0.975 → ``"97.5%"``."""
    return f"{ci * 100:g}%"


def _reference_markdown(judge: str, rows: list[dict[str, Any]], ci: float) -> str:
    level = _level(ci)
    lines = [
        "",
        "## Reference baseline check",
        "",
        f"`{judge}` is a reference baseline: its expected agreement follows from its definition and "
        f"the label distribution. Each verdict record is one independent trial: proportions get a {level} "
        f"binomial interval, means (MAE, nlev) a {level} normal interval from their exact per-record variance. "
        "(The headline numbers above first combine an item's orders, so they differ from these per-record "
        "rates.)",
        "",
        f"| metric | implied by definition | observed | n | {level} interval | kind | inside |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        interval = f"[{r['lo']:.3f}, {r['hi']:.3f}]" if "lo" in r else "—"
        inside = ("yes" if r["inside"] else "**no**") if "inside" in r else "—"
        lines.append(f"| {r['metric']} | {r['expected']:.3f} | {r['observed']:.3f} | {r['n']} | {interval} | "
                     f"{r.get('interval', '—')} | {inside} |")
    return "\n".join(lines) + "\n"


def _headline(run_dir: Path) -> list[str]:
    df = read_metrics_csv(run_dir / "metrics.csv")
    out = []
    for setting, primary in PRIMARY.items():
        sel = df[(df.setting == setting) & (df.group_by == "pooled") & (df.rubric.isin(["overall", "all"]))]
        for metric in (primary, *(["accuracy_without_tie"] if setting == "pair" else []), "coverage"):
            r = sel[sel.metric == metric]
            if len(r):
                r0 = r.iloc[0]
                ci = (
                    f" [{r0.ci_low:.3f}, {r0.ci_high:.3f}]"
                    if np.isfinite(r0.ci_low) and np.isfinite(r0.ci_high)
                    else ""
                )
                out.append(f"{metric} = {r0.value:.3f}{ci} (n={r0.n})")
    return out


def finish_run(run_dir: Path, *, judge: Any, data: Any, analysis: Mapping[str, Any]) -> dict[str, Any]:
    """Analyse a finished run and write its reports; returns ``{"text": console summary, ...}``.

    ``analysis`` is the ``analysis`` config section (bootstrap, ci, seed, inconsistent, reducer, families,
    plots, html, enabled).
    """
    run_dir = Path(run_dir)
    if getattr(data, "setting", None) == "rules":  # its own metrics and report (judgeanything/report/rules.py)
        from judgeanything.report.rules import finish_rules_run

        return finish_rules_run(run_dir, judge=judge, data=data, analysis=analysis)
    lines = [f"run directory: {run_dir}"]
    summary: dict[str, Any] = {"run_dir": str(run_dir)}
    if not analysis.get("enabled", True):
        summary["text"] = "\n".join(lines)
        return summary
    outputs = ["metrics.json", "metrics.csv", "report.md"] + (["report.html"] if analysis.get("html", True) else [])
    if is_current(run_dir, analysis, outputs):  # a rerun that judged nothing: same files, same options
        lines[1:1] = _headline(run_dir)
        lines.append("analysis up to date (nothing changed since it was written): metrics and reports kept")
        lines.append(f"report: {run_dir / 'report.md'}")
        summary.update(text="\n".join(lines), up_to_date=True)
        return summary
    run = load_run(run_dir)  # read once: the analysis, the reference check and the HTML report share it
    if run.set_aside_note():
        lines.append(str(run.set_aside_note()))
    analyze_run(
        run_dir,
        data=run,
        bootstrap=int(analysis.get("bootstrap", 1000)),
        ci=float(analysis.get("ci", 0.95)),
        seed=int(analysis.get("seed", 0)),
        inconsistent=str(analysis.get("inconsistent", "all")),
        families=analysis.get("families"),
        reducer=str(analysis.get("reducer", "mode")),
    )
    expected_fn = getattr(judge, "expected_metrics", None)
    if expected_fn is not None:
        keep = {it.item_id for it in data.items}
        labels = [lab for lab in data.labels if lab.item_id in keep and lab.rubric == "overall"]
        labels = _one_per_item(labels)
        expected = expected_fn(data.setting, labels)
        variances = judge.expected_variances(data.setting, labels) if hasattr(judge, "expected_variances") else {}
        ci = float(analysis.get("ci", 0.95))
        rows = reference_check(run, expected, ci, variances) + injection_reference(run, judge, ci)
        if rows:
            summary["reference_check"] = rows
            (run_dir / "reference_check.json").write_text(json.dumps(rows, indent=1))
            with (run_dir / "report.md").open("a", encoding="utf-8") as f:
                f.write(_reference_markdown(judge.name, rows, ci))
            for r in rows:
                if "inside" in r:
                    lines.append(
                        f"reference check {r['metric']}: observed {r['observed']:.3f}, implied "
                        f"{r['expected']:.3f}, {_level(ci)} interval [{r['lo']:.3f}, {r['hi']:.3f}] → "
                        f"{'inside' if r['inside'] else 'OUTSIDE'}"
                    )
    if analysis.get("html", True):  # the HTML report draws the plots it embeds
        from judgeanything.report.html import write_html_report

        summary["html"] = str(write_html_report(run_dir, data=run))
    elif analysis.get("plots", True):
        from judgeanything.report.plots import write_plots

        summary["plots"] = [str(p) for p in write_plots(run_dir)]
    lines[1:1] = _headline(run_dir)
    lines.append(f"report: {run_dir / 'report.md'}" + (f" and {summary['html']}" if "html" in summary else ""))
    summary["text"] = "\n".join(lines)
    write_stamp(run_dir, analysis)
    return summary


def _one_per_item(labels: list[HumanLabel]) -> list[HumanLabel]:
    """The first label of each item (reference expectations assume one label per item)."""
    seen: dict[str, HumanLabel] = {}
    for lab in labels:
        seen.setdefault(lab.item_id, lab)
    return list(seen.values())
