"""Finishing a run: analysis (with the reference-baseline check), plots, the HTML report and a console summary."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from judgeanything.analysis import analyze_run, load_run, read_metrics_csv
from judgeanything.analysis.agreement import PRIMARY
from judgeanything.analysis.options import AnalysisOptions
from judgeanything.analysis.reference import REFERENCE_JSON
from judgeanything.report.stamp import is_current, write_stamp

log = logging.getLogger(__name__)


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


def finish_run(run_dir: Path, *, analysis: Mapping[str, Any], judge: Any = None, data: Any = None) -> dict[str, Any]:
    """Analyse a finished run and write its reports; returns ``{"text": console summary, ...}``.

    ``analysis`` is the ``analysis`` config section (the options of
    :class:`~judgeanything.analysis.options.AnalysisOptions`, and ``plots``, ``html``, ``enabled``). ``judge`` and
    ``data`` are needed only by a ``rules`` run (its own report, :mod:`judgeanything.report.rules`); every other
    run is analysed from its directory alone.

    Raises:
        ValueError: a bad analysis option.
    """
    run_dir = Path(run_dir)
    if not analysis.get("enabled", True):  # analysis.enabled=false: the run only, whatever its setting
        return {"run_dir": str(run_dir), "text": f"run directory: {run_dir}"}
    if getattr(data, "setting", None) == "process":  # its own metrics and report (judgeanything/report/process.py)
        from judgeanything.report.process import finish_process_run

        return finish_process_run(run_dir, judge=judge, data=data, analysis=analysis)
    if getattr(data, "setting", None) == "rules":  # its own metrics and report (judgeanything/report/rules.py)
        from judgeanything.report.rules import finish_rules_run

        return finish_rules_run(run_dir, judge=judge, data=data, analysis=analysis)
    lines = [f"run directory: {run_dir}"]
    summary: dict[str, Any] = {"run_dir": str(run_dir)}
    outputs = ["metrics.json", "metrics.csv", "report.md"] + (["report.html"] if analysis.get("html", True) else [])
    if is_current(run_dir, analysis, outputs):  # a rerun that judged nothing: same files, same options
        lines[1:1] = _headline(run_dir)
        lines.append("analysis up to date (nothing changed since it was written): metrics and reports kept")
        lines.append(f"report: {run_dir / 'report.md'}")
        summary.update(text="\n".join(lines), up_to_date=True)
        return summary
    run = load_run(run_dir)  # read once: the analysis (with the reference check) and the HTML report share it
    if run.set_aside_note():
        lines.append(str(run.set_aside_note()))
    options = AnalysisOptions.from_mapping(analysis)
    analyze_run(run_dir, options, data=run)
    ref = run_dir / REFERENCE_JSON
    if ref.exists():
        summary["reference_check"] = rows = json.loads(ref.read_text(encoding="utf-8"))
        lines += [f"reference check {r['metric']}: observed {r['observed']:.3f}, implied {r['expected']:.3f}, "
                  f"{options.ci * 100:g}% interval [{r['lo']:.3f}, {r['hi']:.3f}] → "
                  f"{'inside' if r['inside'] else 'OUTSIDE'}" for r in rows if "inside" in r]
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
