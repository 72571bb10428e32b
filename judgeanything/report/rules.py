"""Finishing a rule-judging run: metrics (:mod:`judgeanything.analysis.rules`), the reference-baseline check and
``report.md``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from judgeanything.analysis.markdown import Table, fmt, markdown_environment, md_code, md_text, reference_check_table
from judgeanything.analysis.reference import binomial_interval
from judgeanything.analysis.rules import compute_rule_metrics, counted, load_rule_units, write_metrics
from judgeanything.schema import HumanLabel


def _baseline(judge: Any) -> Any:
    """The reference baseline under the rules wrappers (a judge with ``expected_metrics``), or None."""
    seen = 0
    while judge is not None and seen < 5:
        if getattr(judge, "expected_metrics", None) is not None:
            return judge
        judge = getattr(judge, "verdict_judge", None) or getattr(judge, "inner", None)
        seen += 1
    return None


def baseline_check(units: Any, expected: Mapping[str, float], observed: Mapping[str, Any],
                   ci: float = 0.95, *, exact: bool = False) -> list[dict[str, Any]]:
    """Each expected metric next to the observed one. A proportion whose expected value is strictly between 0
    and 1 gets the central ``ci`` binomial interval around it over its trials (accuracy: the counted units;
    recall: the violations among them), each unit an independent trial; a value of 0 or 1 (a deterministic
    baseline) must match exactly."""
    c = counted(units)
    trials = {"accuracy": len(c), "recall": int((c["label"] == "yes").sum()),
              "precision": int((c["verdict"] == "yes").sum())}
    out = []
    for m, p in expected.items():
        got = observed.get(m)
        obs = got.get("value") if isinstance(got, Mapping) else got
        n = trials.get(m, len(c))
        if obs is None or n == 0:
            continue
        row: dict[str, Any] = {"metric": m, "expected": p, "observed": float(obs), "n": n}
        if 0 < p < 1 and not exact:
            lo, hi = binomial_interval(n, p, ci)
            row.update(lo=lo, hi=hi, inside=bool(lo <= obs <= hi))
        else:
            row.update(lo=p, hi=p, inside=abs(float(obs) - p) < 1e-9)
        out.append(row)
    return out


def _fmt(x: Any) -> str:
    """A cell: a number, or a statistic's value (``{value, …}``) without its interval."""
    return fmt(x.get("value") if isinstance(x, Mapping) else x)


def render(metrics: Mapping[str, Any], check: list[dict[str, Any]]) -> str:
    """``report.md`` of a rules run (template ``report/templates/rules.md.j2``): per rule and overall accuracy,
    precision / recall / F1 of violations, calibration, screen and cascade; the debiased token probabilities
    and the cascade's cost when measured; the reference-baseline ``check`` rows of :func:`baseline_check`."""
    o = metrics["overall"]
    return markdown_environment("judgeanything.report").get_template("rules.md.j2").render(
        judge=md_text(metrics["judge"]), rules=_rule_table(o, metrics["rules"]), debias=_debias(o.get("debias") or {}),
        cascade=_cascade(o.get("cascade") or {}), check=reference_check_table(check) if check else None)


def _rule_table(overall: Mapping[str, Any], rules: Mapping[str, Mapping[str, Any]]) -> Table:
    rows = []
    for name, m in [("**all**", overall), *rules.items()]:
        v, s, c, k = m["verdicts"], m["screen"], m["calibration"], m["cascade"]
        rows.append([name, v.get("n", 0), _fmt(v.get("accuracy")), _fmt(v.get("precision")), _fmt(v.get("recall")),
                     _fmt(v.get("f1")), _fmt(c.get("brier")), _fmt(c.get("ece")),
                     f"{s.get('skipped', 0)}/{s.get('units', 0)}", _fmt(s.get("screen_accuracy")),
                     _fmt(k.get("escalated_fraction"))])
    return Table(["rule", "n", "accuracy", "precision", "recall", "F1", "Brier", "ECE", "skipped", "screen acc.",
                  "escalated"], rows)


def _debias(d: Mapping[str, Any]) -> dict[str, str] | None:
    """The debiased token probabilities against the contrast input (CLUE §3), formatted."""
    if not d:
        return None
    return {"contrast": md_code(d["contrast"]), "n": md_text(d["n"]),
            **{k: f"{d[k]:.3f}" for k in ("mean_p_yes", "mean_p_yes_contrast", "mean_margin", "raw_accuracy")}}


def _cascade(k: Mapping[str, Any]) -> dict[str, str] | None:
    """The cascade: threshold, units escalated, accuracy kept and escalated, tokens and the cost of escalation."""
    if not k:
        return None
    cost = k.get("slow_cost_usd")
    return {"threshold": md_text(k.get("threshold")), "escalated": md_text(k["escalated"]),
            "units": md_text(k["units"]),
            "fraction": f"{k['escalated_fraction']:.1%}", "accuracy_kept": _fmt(k.get("accuracy_kept")),
            "accuracy_escalated": _fmt(k.get("accuracy_escalated")), "fast_tokens": md_text(k.get("fast_tokens")),
            "slow_tokens": md_text(k.get("slow_tokens")),
            "cost": "unknown (no price for the slow model)" if cost is None else f"${cost:.4f}"}


def finish_rules_run(run_dir: Path, *, judge: Any, data: Any, analysis: Mapping[str, Any]) -> dict[str, Any]:
    """Analyse a rules run: ``metrics.json``, ``metrics.csv``, ``report.md`` (and ``reference_check.json`` for a
    reference baseline); returns ``{"text": console summary, ...}``."""
    run_dir = Path(run_dir)
    summary: dict[str, Any] = {"run_dir": str(run_dir)}
    units = load_rule_units(run_dir)
    ci = float(analysis.get("ci", 0.95))
    metrics, df = compute_rule_metrics(units, judge=str(judge.name), n_boot=int(analysis.get("bootstrap", 1000)),
                                       ci=ci, seed=int(analysis.get("seed", 0)), kind=str(judge.kind),
                                       benchmark=str(getattr(data, "name", "probes")))
    check: list[dict[str, Any]] = []
    baseline = _baseline(judge)
    if baseline is not None:
        keep = set(counted(units)["item_id"])
        labels = [HumanLabel(i, "overall", lab) for i, lab in zip(units["item_id"], units["label"], strict=True)
                  if i in keep]
        check = baseline_check(units, baseline.expected_metrics("rules", labels), metrics["overall"]["verdicts"], ci,
                               exact=bool(getattr(baseline, "deterministic", False)))
        if check:
            metrics["reference_check"] = check
            (run_dir / "reference_check.json").write_text(json.dumps(check, indent=1))
    write_metrics(run_dir, metrics, df)
    (run_dir / "report.md").write_text(render(metrics, check), encoding="utf-8")
    v = metrics["overall"]["verdicts"]
    summary["metrics"] = metrics
    summary["text"] = "\n".join([f"run directory: {run_dir}",
                                 f"accuracy = {_fmt(v.get('accuracy'))} (n={v.get('n', 0)}), F1 = {_fmt(v.get('f1'))}",
                                 f"report: {run_dir / 'report.md'}"])
    return summary


__all__ = ["baseline_check", "finish_rules_run", "render"]
