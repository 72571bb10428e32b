"""Done-when: on the rule probe family the reference baselines land at their theoretical values.

* ``first`` answers the first answer a yes/no question offers, ``yes``, to every question: every precondition
  holds (nothing is skipped), every rule is violated → accuracy = precision = π (the violation rate of the
  applicable units), recall = 1, F1 = 2π/(1+π), exactly; screen accuracy = the applicable fraction.
* ``random`` answers yes/no with probability ½ to every question (each precondition, then the rule): accuracy
  and recall lie in their binomial 95% intervals around ½, and the screen skips a rule with probability ½.
"""

from __future__ import annotations

import json

import pytest
from scipy import stats

from tests.rules.conftest import records

pytestmark = pytest.mark.integration  # the app's runs, composed as the CLI composes them


@pytest.fixture(scope="module")
def runs(run_rules):
    return {j: run_rules(j, f"judge={j}") for j in ("first", "random")}


def _labels(run):
    return {json.loads(x)["item_id"]: json.loads(x)["value"] for x in (run / "labels.jsonl").read_text().splitlines()}


def test_first_is_exact(runs):
    run = runs["first"]
    labels = _labels(run)
    recs = records(run)
    assert len(recs) == len(labels) == 24 * 5
    assert {r["outcomes"][0]["value"] for r in recs.values()} == {"yes"}  # nothing skipped, all "violated"
    applicable = [v for v in labels.values() if v != "n/a"]
    pi = sum(v == "yes" for v in applicable) / len(applicable)
    m = json.loads((run / "metrics.json").read_text())["overall"]
    v, s = m["verdicts"], m["screen"]
    assert v["n"] == len(applicable)
    assert v["accuracy"]["value"] == pytest.approx(pi, abs=1e-12)
    assert v["precision"] == pytest.approx(pi, abs=1e-12) and v["recall"] == 1.0
    assert v["f1"] == pytest.approx(2 * pi / (1 + pi), abs=1e-12)
    assert s["skipped"] == 0 and s["screen_accuracy"] == pytest.approx(len(applicable) / len(labels))
    check = {r["metric"]: r for r in json.loads((run / "reference_check.json").read_text())}
    assert set(check) == {"accuracy", "recall", "precision"} and all(r["inside"] for r in check.values())
    assert all(r["lo"] == r["hi"] == r["expected"] for r in check.values())  # exact, not an interval


def test_random_within_binomial_intervals(runs):
    run = runs["random"]
    labels = _labels(run)
    recs = records(run)
    m = json.loads((run / "metrics.json").read_text())["overall"]
    check = {r["metric"]: r for r in json.loads((run / "reference_check.json").read_text())}
    assert set(check) == {"accuracy", "recall"}
    for r in check.values():
        assert r["expected"] == 0.5 and r["inside"] and r["lo"] < 0.5 < r["hi"], r
    # the screen: one precondition per rule, each "holds" with probability 1/2, whatever the content
    n = len(recs)
    skipped = sum(r["outcomes"][0]["value"] == "n/a" for r in recs.values())
    lo, hi = stats.binom.ppf([0.025, 0.975], n, 0.5)
    assert lo <= skipped <= hi and m["screen"]["skipped"] == skipped
    counted = [i for i, r in recs.items() if r["outcomes"][0]["value"] in ("yes", "no") and labels[i] != "n/a"]
    assert m["verdicts"]["n"] == len(counted)
    hits = sum(recs[i]["outcomes"][0]["value"] == labels[i] for i in counted)
    assert m["verdicts"]["accuracy"]["value"] == pytest.approx(hits / len(counted))


def test_report_states_the_check(runs):
    text = (runs["random"] / "report.md").read_text()
    assert "# Rule judging: random" in text and "## Reference baseline check" in text
    assert "| **all** |" in text and "| motion |" in text


def test_leaderboard_lists_rules_runs_by_accuracy(runs):
    from judgeanything.analysis.leaderboard import build_leaderboard

    df = build_leaderboard(list(runs.values()))
    assert set(df["judge"]) == {"first", "random"} and set(df["setting"]) == {"rules"}
    assert set(df["metric"]) == {"accuracy"}
    for j, run in runs.items():
        m = json.loads((run / "metrics.json").read_text())
        row = df[df["judge"] == j].iloc[0]
        assert row["agreement"] == pytest.approx(m["overall"]["verdicts"]["accuracy"]["value"])
        assert row["items"] == 120 and row["kind"] == "baseline"
