"""Analysis of a rule-judging run (``setting=rules``; CLUE, arXiv 2501.00192).

One unit = one item × rule. Its verdict is ``yes`` (violates), ``no``, ``n/a`` (the relevance screen skipped
the rule: a precondition did not hold) or a failure. Labels are ``yes`` / ``no`` / ``n/a`` (the probe family's
are by construction). Sections, each a small function ``(units, group, …) -> rows`` giving each number once
(its ``metrics.csv`` row and its place in the section's block of ``metrics.json``;
:mod:`judgeanything.analysis.table`), per rule and overall (``all``):

* :func:`verdict_section` — over units the judge answered yes/no whose label is yes/no: accuracy (bootstrap
  CI), precision / recall / F1 of violations (positive class ``yes``; scikit-learn), the violation rate;
* :func:`screen_section` — the relevance screen against the labels: skipped / judged counts, screen accuracy
  (skipped ⇔ label ``n/a``), and rules judged although not applicable;
* :func:`calibration_section` — Brier score and expected calibration error (ECE; Guo et al. 2017, eq. 3: 10
  equal-width bins of P(yes), |observed violation rate − mean P(yes)| weighted by bin size) of the recorded
  P(yes) — the debiased one where the verdict was debiased;
* :func:`debias_section` — the contrast kind, mean raw and contrast P(yes), mean margin, and the accuracy of
  the raw (undebiased) argmax on the same units;
* :func:`cascade_section` — the fraction escalated, accuracy of escalated / kept units, tokens of each stage
  and their cost at the price table's prices (:mod:`judgeanything.usage`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, precision_recall_fscore_support

from judgeanything.analysis.bootstrap import mean_stat, rng_for
from judgeanything.analysis.load import contents_of, items_by_id, set_aside_reason
from judgeanything.analysis.metrics import write_metrics
from judgeanything.analysis.table import CsvKey, JsonPath, MetricRow, MetricTable, Rows, nest
from judgeanything.jsonsafe import finite_or_none
from judgeanything.schema import NOT_APPLICABLE, RULE_VERDICTS
from judgeanything.store import LABELS, VERDICTS, read_jsonl
from judgeanything.usage import find_price, iter_latest_records, load_price_table, verdict_cost

ALL = "all"
ECE_BINS = 10


def _rule_of(item_id: str, items: Mapping[str, Mapping[str, Any]]) -> str:
    rule = (items.get(item_id) or {}).get("rule") or {}
    return str(rule.get("id") or item_id.rsplit("::", 1)[-1])


def _unit(rec: Mapping[str, Any], rule: str, label: str | None) -> dict[str, Any]:
    """One row per unit: verdict, P(yes), label and the debias / cascade / screen records."""
    o = (rec.get("outcomes") or [{}])[0]
    extra = rec.get("extra") or {}
    probs = o.get("probs") or {}
    debias = (extra.get("debias") or {}).get("overall")
    cascade = extra.get("cascade") or {}
    fast_debias = ((cascade.get("fast") or {}).get("debias") or {}).get("overall")
    return {"item_id": rec["item_id"], "rule": rule, "label": label,
            "verdict": None if "failure" in o else o.get("value"), "failure": o.get("failure"),
            "p_yes": float(probs["yes"]) if "yes" in probs else math.nan,
            "debias": debias or fast_debias, "escalated": cascade.get("escalated"),
            "cascade": cascade or None, "usage": rec.get("usage") or {}, "screened": len(extra.get("screen") or [])}


def load_rule_units(run_dir: Path) -> pd.DataFrame:
    """The units of a rules run (latest attempt of each, on the current item set), with labels; one row each.

    A record of an item removed since, or judged under an edited rule, is set aside
    (:func:`~judgeanything.analysis.load.set_aside_reason`, as in every analysis).

    Raises:
        FileNotFoundError: the run has no verdicts.jsonl or no items.jsonl.
    """
    run_dir = Path(run_dir)
    if not (run_dir / VERDICTS).exists():
        raise FileNotFoundError(f"{run_dir / VERDICTS}: no run log")
    items = items_by_id(run_dir)
    contents = contents_of(items)
    labels: dict[str, str] = {}
    if (run_dir / LABELS).exists():
        for d in read_jsonl(run_dir / LABELS):
            labels.setdefault(d["item_id"], str(d["value"]))
    rows = [_unit(r, _rule_of(r["item_id"], items), labels.get(r["item_id"]))
            for r in iter_latest_records(run_dir / VERDICTS)
            if set_aside_reason(str(r.get("item_id")), r.get("item_content"), contents) is None]
    return pd.DataFrame(rows, columns=["item_id", "rule", "label", "verdict", "failure", "p_yes", "debias",
                                       "escalated", "cascade", "usage", "screened"])


def counted(units: pd.DataFrame) -> pd.DataFrame:
    """Units the verdict metrics count: answered yes/no by the judge, labelled yes/no."""
    return units[units["verdict"].isin(RULE_VERDICTS) & units["label"].isin(RULE_VERDICTS)]


def _rows() -> Rows:
    return Rows("rules", "overall")


def verdict_section(units: pd.DataFrame, group: str, *, n_boot: int, ci: float, seed: int) -> list[MetricRow]:
    """Accuracy (bootstrap CI), precision / recall / F1 of violations, violation rate (module docstring)."""
    c = counted(units)
    b = _rows()
    b.put(("n",), len(c))
    if c.empty:
        return b.rows
    y, p = (c["label"] == "yes").to_numpy(), (c["verdict"] == "yes").to_numpy()
    acc = mean_stat((y == p).astype(float), n_boot=n_boot, ci=ci, rng=rng_for(seed, "rules-accuracy", group))
    prec, rec, f1, _ = precision_recall_fscore_support(y, p, average="binary", pos_label=True, zero_division=np.nan)
    b.put(("accuracy",), acc.as_dict(), CsvKey("rule", group, "accuracy"))
    for m, x in (("precision", prec), ("recall", rec), ("f1", f1), ("violation_rate", y.mean()),
                 ("yes_rate", p.mean())):
        b.put((m,), finite_or_none(x) if m in ("precision", "recall", "f1") else float(x),
              CsvKey("rule", group, m, n=len(c)))
    return b.rows


def screen_section(units: pd.DataFrame, group: str) -> list[MetricRow]:
    """Skipped / judged / failed counts, and the screen against the labels (module docstring); ``metrics.csv``
    lists the screen accuracy, the skipped count and the coverage (1 − failed / units)."""
    answered = units[units["verdict"].notna()]
    skipped = answered["verdict"] == NOT_APPLICABLE
    failed = int(units["verdict"].isna().sum())
    b = _rows()
    b.put(("units",), len(units))
    b.put(("skipped",), int(skipped.sum()), CsvKey("rule", group, "skipped", n=len(units), rank=(1,)))
    b.put(("judged",), int((~skipped).sum()))
    b.put(("failed",), failed)
    lab = answered[answered["label"].notna()]
    if len(lab):
        truly_na = lab["label"] == NOT_APPLICABLE
        said_na = lab["verdict"] == NOT_APPLICABLE
        b.put(("screen_accuracy",), float((truly_na == said_na).mean()),
              CsvKey("rule", group, "screen_accuracy", n=len(lab), rank=(0,)))
        b.put(("judged_not_applicable",), int((truly_na & ~said_na).sum()))
        b.put(("skipped_applicable",), int((~truly_na & said_na).sum()))
    b.csv("rule", group, "coverage", 1.0 - failed / len(units) if len(units) else math.nan, n=len(units), rank=(2,))
    return b.rows


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE of probabilities ``p`` (n,) for binary outcomes ``y`` (n,) over ``bins`` equal-width bins of p."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(float(y[m].mean()) - float(p[m].mean()))
    return float(ece)


def _listed(block: Mapping[str, Any], group: str, csv: Mapping[str, tuple[str, int | None]]) -> list[MetricRow]:
    """The rows of a section's ``metrics.json`` block; ``csv``: key → (``metrics.csv`` metric name, n) of the
    entries ``metrics.csv`` lists, in its order."""
    names = list(csv)

    def key(sub: JsonPath, node: Any, parent: Mapping[str, Any]) -> CsvKey | None:
        k = str(sub[0])
        if len(sub) != 1 or k not in csv:
            return None
        return CsvKey("rule", group, csv[k][0], n=csv[k][1], rank=(names.index(k),))
    b = _rows()
    if block:
        b.tree((), block, key)
    return b.rows


def calibration_section(units: pd.DataFrame, group: str) -> list[MetricRow]:
    """Brier score and ECE of the recorded P(yes) on counted units that have one."""
    c = counted(units)
    c = c[c["p_yes"].notna()]
    if c.empty:
        return []
    p, y = c["p_yes"].to_numpy(dtype=float), (c["label"] == "yes").to_numpy().astype(float)
    out = {"brier": float(brier_score_loss(y, p, pos_label=1.0)), "ece": expected_calibration_error(p, y),
           "n": len(c)}
    return _listed(out, group, {"brier": ("brier", len(c)), "ece": ("ece", len(c))})


def debias_section(units: pd.DataFrame, group: str) -> list[MetricRow]:
    """Raw vs contrast P(yes), the margin, and the raw argmax's accuracy on the same counted units."""
    c = counted(units)
    c = c[c["debias"].notna()]
    if c.empty:
        return []
    d = pd.DataFrame(list(c["debias"]))
    y = (c["label"] == "yes").to_numpy()
    out = {"contrast": str(d["contrast"].iloc[0]), "mean_p_yes": float(d["p_yes"].mean()),
           "mean_p_yes_contrast": float(d["p_yes_contrast"].mean()), "mean_margin": float(d["margin"].mean()),
           "raw_accuracy": float(((d["p_yes"].to_numpy() > 0.5) == y).mean()), "n": len(c)}
    return _listed(out, group, {"raw_accuracy": ("raw_accuracy", len(c)), "mean_margin": ("mean_margin", len(c))})


def _stage_cost(units: pd.DataFrame, stage: str, prices: Mapping[str, Any]) -> tuple[dict[str, int], float | None]:
    tokens: dict[str, int] = {}
    usd: float | None = 0.0
    for rec in units["cascade"]:
        u = ((rec or {}).get(stage) or {}).get("usage") or {}
        for k, v in u.items():
            if isinstance(v, int | float):
                tokens[k] = tokens.get(k, 0) + int(v)
        model = ((rec or {}).get(stage) or {}).get("model") or ""
        hit = find_price(prices, model) if model else None
        if u and hit is None:
            usd = None
        elif u and usd is not None and hit is not None:
            usd += verdict_cost(u, hit[1])
    return tokens, usd


def cascade_section(units: pd.DataFrame, group: str, prices: Mapping[str, Any]) -> list[MetricRow]:
    """Fraction escalated, accuracy kept vs escalated, tokens and cost per stage (module docstring); the slow
    stage's cost is listed as ``escalation_cost_usd`` (n = escalated units) when it is known."""
    cas = units[units["cascade"].notna()]
    if cas.empty:
        return []
    esc = cas["escalated"].astype(bool)
    c = counted(cas)
    ok = (c["label"] == c["verdict"])
    out: dict[str, Any] = {"units": len(cas), "escalated": int(esc.sum()), "escalated_fraction": float(esc.mean()),
                           "threshold": (cas["cascade"].iloc[0] or {}).get("threshold")}
    if len(c):
        ce = c["escalated"].astype(bool)
        out["accuracy_kept"] = float(ok[~ce].mean()) if (~ce).any() else None
        out["accuracy_escalated"] = float(ok[ce].mean()) if ce.any() else None
    for stage in ("fast", "slow"):
        tokens, usd = _stage_cost(cas, stage, prices)
        out[f"{stage}_tokens"] = tokens
        out[f"{stage}_cost_usd"] = usd
    csv = {"escalated_fraction": ("escalated_fraction", len(cas))}
    if out["slow_cost_usd"] is not None:
        csv["slow_cost_usd"] = ("escalation_cost_usd", int(esc.sum()))
    return _listed(out, group, csv)


def leaderboard_block(per: Mapping[str, Any], units: pd.DataFrame, *, judge: str, kind: str,
                      benchmark: str) -> dict[str, Any]:
    """The ``run`` / ``settings`` / ``cost`` blocks every run's ``metrics.json`` has, so that
    ``judgeanything-compare`` and sweep leaderboards list a rules run by its accuracy (the primary metric of
    the setting, :data:`judgeanything.analysis.agreement.PRIMARY`) with a per-rule breakdown."""
    o = per[ALL]
    screen = o["screen"]
    units_n = max(1, screen.get("units", 0))
    tokens = {k: float(sum(int((u or {}).get(k) or 0) for u in units["usage"]))
              for k in ("prompt_tokens", "completion_tokens")}
    return {"run": {"judge": judge, "judge_kind": kind, "benchmark": benchmark, "mode": "overall"},
            "settings": {"rules": {
                "headline_rubric": "overall",
                "counts": {"items": screen.get("units", 0), "judged_items": screen.get("judged", 0)},
                "rubrics": {"overall": {
                    "pooled": {"accuracy": o["verdicts"].get("accuracy"),
                               **{m: {"value": o["verdicts"].get(m)} for m in ("precision", "recall", "f1")}},
                    "failures": {"failure_rate": screen.get("failed", 0) / units_n},
                    "breakdowns": {"rule": {r: {"accuracy": m["verdicts"].get("accuracy")}
                                            for r, m in per.items() if r != ALL}}}}}},
            "cost": tokens}


def group_sections(units: pd.DataFrame, name: str, *, n_boot: int, ci: float, seed: int,
                   prices: Mapping[str, Any]) -> list[list[MetricRow]]:
    """The rows of every section of one group (``all`` or a rule), each section's under its ``metrics.json``
    block (``overall.<section>`` or ``rules.<rule>.<section>``), one list per section."""
    at: JsonPath = ("overall",) if name == ALL else ("rules", name)
    sections = {"verdicts": verdict_section(units, name, n_boot=n_boot, ci=ci, seed=seed),
                "screen": screen_section(units, name), "calibration": calibration_section(units, name),
                "debias": debias_section(units, name), "cascade": cascade_section(units, name, prices)}
    head = _rows()
    head.put(at, {})
    out = [head.rows]
    for sec, rows in sections.items():
        block = _rows()
        block.put((*at, sec), {})
        out.append(block.rows + [r if r.path is None else replace(r, path=(*at, sec, *r.path)) for r in rows])
    return out


def compute_rule_metrics(units: pd.DataFrame, *, judge: str, benchmark: str = "probes", n_boot: int = 1000,
                         ci: float = 0.95, seed: int = 0, prices: Mapping[str, Any] | None = None,
                         kind: str = "?") -> tuple[dict[str, Any], pd.DataFrame]:
    """Every section, overall (``all``) and per rule; returns ``(metrics.json dict, tidy rows)`` — both views of
    one :class:`~judgeanything.analysis.table.MetricTable`."""
    table = load_price_table() if prices is None else prices
    rules = _rows()
    rules.put(("rules",), {})  # "rules" follows "overall", even with no rule
    body: list[Sequence[MetricRow]] = [*group_sections(units, ALL, n_boot=n_boot, ci=ci, seed=seed, prices=table),
                                       rules.rows]
    for name, g in units.groupby("rule", sort=True):
        body += group_sections(g, str(name), n_boot=n_boot, ci=ci, seed=seed, prices=table)
    blocks = nest(r for rows in body for r in rows)
    per = {ALL: blocks["overall"], **blocks["rules"]}
    head = _rows()
    head.put(("judge",), judge)
    head.put(("setting",), "rules")
    head.tree((), leaderboard_block(per, units, judge=judge, kind=kind, benchmark=benchmark))
    out = MetricTable(columns={"judge": judge, "benchmark": benchmark, "mode": "overall"})
    for rows in (head.rows, *body):
        out.add(rows)
    return out.to_json(), out.frame()


__all__ = ["ECE_BINS", "calibration_section", "cascade_section", "compute_rule_metrics", "counted",
           "debias_section", "expected_calibration_error", "leaderboard_block", "load_rule_units",
           "screen_section", "verdict_section", "write_metrics"]
