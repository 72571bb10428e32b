"""The rules analysis sections on hand-computed cases: verdict metrics, calibration (Brier, ECE), the screen,
debiasing and the cascade's escalation cost at a known price."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgeanything.analysis.rules import (
    calibration_section,
    cascade_section,
    debias_section,
    expected_calibration_error,
    screen_section,
    verdict_section,
)
from judgeanything.analysis.table import nest
from judgeanything.usage import Price

COLUMNS = ["item_id", "rule", "label", "verdict", "failure", "p_yes", "debias", "escalated", "cascade", "usage",
           "screened"]


def _units(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(COLUMNS, r, strict=True)) for r in rows], columns=COLUMNS)


def _u(label: str | None, verdict: str | None, p: float = float("nan"), debias: dict | None = None,
       escalated: bool | None = None, cascade: dict | None = None, failure: str | None = None) -> tuple:
    return ("i", "r", label, verdict, failure, p, debias, escalated, cascade, {}, 0)


def test_verdict_metrics_count_only_answered_labelled_units() -> None:
    units = _units([_u("yes", "yes"), _u("yes", "no"), _u("no", "yes"), _u("no", "no"), _u("no", "no"),
                    _u("n/a", "yes"), _u("yes", "n/a"), _u("yes", None, failure="parse_fail")])
    v = nest(verdict_section(units, "all", n_boot=0, ci=0.95, seed=0))
    assert v["n"] == 5 and v["accuracy"]["value"] == pytest.approx(3 / 5)
    assert v["precision"] == pytest.approx(1 / 2) and v["recall"] == pytest.approx(1 / 2)
    assert v["f1"] == pytest.approx(1 / 2) and v["violation_rate"] == pytest.approx(2 / 5)
    s = nest(screen_section(units, "all"))
    assert (s["units"], s["skipped"], s["judged"], s["failed"]) == (8, 1, 6, 1)
    # 7 answered and labelled: 5 applicable judged (right), n/a judged (wrong), applicable skipped (wrong)
    assert s["screen_accuracy"] == pytest.approx(5 / 7)
    assert s["judged_not_applicable"] == 1 and s["skipped_applicable"] == 1


def test_brier_and_ece_by_hand() -> None:
    p = np.array([0.9, 0.9, 0.2, 0.2, 0.6])
    y = np.array([1, 0, 0, 0, 1])
    # bins: [0.2, 0.2] → |0 − 0.2| weight 2/5; [0.6] → |1 − 0.6| weight 1/5; [0.9, 0.9] → |0.5 − 0.9| weight 2/5
    assert expected_calibration_error(p, y) == pytest.approx(2 / 5 * 0.2 + 1 / 5 * 0.4 + 2 / 5 * 0.4)
    units = _units([_u("yes" if t else "no", "yes" if q > 0.5 else "no", q) for q, t in zip(p, y, strict=True)])
    c = nest(calibration_section(units, "all"))
    assert c["brier"] == pytest.approx(float(np.mean((p - y) ** 2))) and c["n"] == 5


def test_debias_section_reports_raw_accuracy_on_the_same_units() -> None:
    d = [{"contrast": "blank", "p_yes": 0.7, "p_yes_contrast": 0.8, "margin": -0.1},
         {"contrast": "blank", "p_yes": 0.4, "p_yes_contrast": 0.1, "margin": 0.3}]
    units = _units([_u("no", "no", 0.45, d[0]), _u("yes", "yes", 0.65, d[1])])
    out = nest(debias_section(units, "all"))
    assert out["contrast"] == "blank" and out["raw_accuracy"] == 0.0  # raw argmax: yes, no — both wrong
    assert out["mean_margin"] == pytest.approx(0.1) and out["mean_p_yes_contrast"] == pytest.approx(0.45)


def test_cascade_fraction_and_escalation_cost_at_the_slow_models_price() -> None:
    slow_usage = {"prompt_tokens": 1000, "completion_tokens": 200}
    kept = {"escalated": False, "threshold": 0.3, "fast": {"usage": {"prompt_tokens": 10}}}
    up = {"escalated": True, "threshold": 0.3, "fast": {"usage": {"prompt_tokens": 10}},
          "slow": {"usage": slow_usage, "model": "big-judge"}}
    units = _units([_u("yes", "yes", escalated=False, cascade=kept), _u("no", "yes", escalated=True, cascade=up),
                    _u("no", "no", escalated=True, cascade=up), _u("yes", "yes", escalated=False, cascade=kept)])
    prices = {"big-*": Price(input_per_mtok=2.0, output_per_mtok=10.0)}
    k = nest(cascade_section(units, "all", prices))
    assert k["escalated"] == 2 and k["escalated_fraction"] == 0.5 and k["threshold"] == 0.3
    assert k["accuracy_kept"] == 1.0 and k["accuracy_escalated"] == 0.5
    assert k["slow_tokens"] == {"prompt_tokens": 2000, "completion_tokens": 400}
    assert k["slow_cost_usd"] == pytest.approx(2 * (1000 * 2.0 + 200 * 10.0) / 1e6)
    assert nest(cascade_section(units, "all", {}))["slow_cost_usd"] is None  # no price: unknown, not 0


def test_rule_metrics_json_and_csv_are_one_table() -> None:
    """Every metrics.csv row of a rules analysis has its number at its place in metrics.json, and the JSON holds the
    overall block, one block per rule and the leaderboard block read from them."""
    from judgeanything.analysis.rules import compute_rule_metrics
    rows = [_u("yes", "yes", 0.9), _u("no", "yes", 0.6), _u("no", "no", 0.2), _u("n/a", "n/a"),
            _u("yes", None, failure="parse_fail")]
    units = _units(rows)
    units["rule"] = ["r1", "r1", "r2", "r2", "r2"]
    metrics, df = compute_rule_metrics(units, judge="j", n_boot=0, prices={})
    assert list(metrics) == ["judge", "setting", "run", "settings", "cost", "overall", "rules"]
    assert list(metrics["rules"]) == ["r1", "r2"]
    assert metrics["overall"]["verdicts"]["accuracy"]["value"] == pytest.approx(2 / 3)
    assert metrics["settings"]["rules"]["rubrics"]["overall"]["pooled"]["accuracy"] == \
        metrics["overall"]["verdicts"]["accuracy"]
    where = {"accuracy": "verdicts", "precision": "verdicts", "recall": "verdicts", "f1": "verdicts",
             "violation_rate": "verdicts", "yes_rate": "verdicts", "screen_accuracy": "screen", "skipped": "screen",
             "brier": "calibration", "ece": "calibration"}
    seen = 0
    for r in df.itertuples():
        if r.metric not in where:
            continue
        block = metrics["overall"] if r.group == "all" else metrics["rules"][r.group]
        node = block[where[r.metric]][r.metric]
        got = node["value"] if isinstance(node, dict) else node
        assert (got is None and pd.isna(r.value)) or got == pytest.approx(r.value), (r.group, r.metric)
        seen += 1
    assert seen >= 20
    cov = df[(df.group == "r2") & (df.metric == "coverage")].value.item()
    assert cov == pytest.approx(2 / 3)  # r2: one of three units failed
