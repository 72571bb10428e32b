"""Real human labels and recorded judge verdicts from the MLLM-as-a-Judge HQ release (../shared): rows are
converted to run directories here (human label vs the recorded judge's verdict), analysed, and every
metric is checked against an independent computation on the raw rows."""

from __future__ import annotations

from pathlib import Path

import krippendorff
import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from judgeanything.analysis import analyze_run
from judgeanything.schema import pair_choice_from_letter, ranking_from_letters
from tests.support.jsonl import read_jsonl
from tests.support.oracles import levenshtein

from .runbuilder import fail, item, label, record, v, write_run


def _rows(shared_dir: Path, name: str) -> list[dict]:
    path = shared_dir / "data" / "mllm_judge" / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return read_jsonl(path)


def _pooled(m: dict, setting: str) -> dict:
    return m["settings"][setting]["rubrics"]["overall"]["pooled"]


def test_hq_pair(shared_dir: Path, tmp_path: Path) -> None:
    rows = _rows(shared_dir, "HQ_Pair.jsonl")
    items, labels, verdicts = [], [], []
    for i, r in enumerate(rows):  # several rows share pair_id: key by line
        iid = f"hq_pair::{i}"
        items.append(item(iid, "pair", "Image2Text", [r["answer1"]["name"], r["answer2"]["name"]],
                          texts=[r["answer1"]["answer"], r["answer2"]["answer"]]))
        labels.append(label(iid, pair_choice_from_letter(r["human_answer"])))
        verdicts.append(record(iid, "pair", [v(pair_choice_from_letter(r["result"]["judge"]))],
                               judge=r["result"]["name"]))
    d = write_run(tmp_path / "pair", items=items, labels=labels, verdicts=verdicts, run={"judge": "gpt4"})
    got = _pooled(analyze_run(d, bootstrap=200), "pair")
    h = [r["human_answer"] for r in rows]
    j = [r["result"]["judge"] for r in rows]  # letters: A first, B second, C tie
    assert got["accuracy_with_tie"]["value"] == pytest.approx(np.mean([a == b for a, b in zip(h, j, strict=True)]))
    nt = [(a, b) for a, b in zip(h, j, strict=True) if a != "C"]
    assert got["accuracy_without_tie"]["value"] == pytest.approx(np.mean([a == b for a, b in nt]))
    assert got["accuracy_without_tie"]["n"] == len(nt)
    assert got["cohen_kappa"]["value"] == pytest.approx(cohen_kappa_score(j, h))
    assert got["tie_rate"]["value"] == pytest.approx(j.count("C") / len(j))
    assert got["accuracy_with_tie"]["n"] == 89


def test_hq_score(shared_dir: Path, tmp_path: Path) -> None:
    rows = _rows(shared_dir, "HQ_Score.jsonl")
    items, labels, verdicts = [], [], []
    for i, r in enumerate(rows):
        iid = f"hq_score::{i}"
        items.append(item(iid, "score", "Image2Text", [r["name"]], texts=[r["answer"]]))
        labels.append(label(iid, int(r["Human_answer"])))
        verdicts.append(record(iid, "score", [v(int(r["evaluator"]["judge_Evaluator"]))], order=(0,)))
    d = write_run(tmp_path / "score", items=items, labels=labels, verdicts=verdicts)
    got = _pooled(analyze_run(d, bootstrap=200), "score")
    y = [int(r["Human_answer"]) for r in rows]
    x = [int(r["evaluator"]["judge_Evaluator"]) for r in rows]
    assert got["pearson"]["value"] == pytest.approx(stats.pearsonr(x, y).statistic)
    assert got["spearman"]["value"] == pytest.approx(stats.spearmanr(x, y).statistic)
    assert got["kendall_tau_b"]["value"] == pytest.approx(stats.kendalltau(x, y).statistic)
    assert got["mae"]["value"] == pytest.approx(np.mean(np.abs(np.subtract(x, y))))
    assert got["exact"]["value"] == pytest.approx(np.mean(np.equal(x, y)))
    assert got["offset"]["value"] == pytest.approx(np.mean(np.subtract(x, y)))
    assert got["cohen_kappa"]["value"] == pytest.approx(cohen_kappa_score(x, y))
    assert got["qwk"]["value"] == pytest.approx(cohen_kappa_score(x, y, weights="quadratic"))
    assert got["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff.alpha(reliability_data=[x, y], level_of_measurement="ordinal"))
    assert got["pearson"]["n"] == len(rows)
    assert got["pearson"]["ci_low"] < got["pearson"]["value"] < got["pearson"]["ci_high"]


def test_hq_batch(shared_dir: Path, tmp_path: Path) -> None:
    rows = _rows(shared_dir, "HQ_Batch.jsonl")
    items, labels, verdicts, pairs = [], [], [], []
    n_bad = 0
    for i, r in enumerate(rows):
        iid = f"hq_batch::{i}"
        n = len(r["answers"])
        try:
            h = ranking_from_letters(r["human_answer"], n)
        except ValueError:  # a human ranking naming a response the row does not have: not usable
            continue
        items.append(item(iid, "batch", "Image2Text", [a["name"] for a in r["answers"]],
                          texts=[a["answer"] for a in r["answers"]]))
        labels.append(label(iid, h))
        try:
            j = ranking_from_letters(r["evaluator"]["judge_evaluator"], n)
        except ValueError:  # e.g. a slot beyond the item's responses: a failure, never a ranking
            verdicts.append(record(iid, "batch", [fail("out_of_range")], order=tuple(range(n))))
            n_bad += 1
            continue
        verdicts.append(record(iid, "batch", [v(j)], order=tuple(range(n))))
        pairs.append((r["evaluator"]["judge_evaluator"], r["human_answer"]))
    d = write_run(tmp_path / "batch", items=items, labels=labels, verdicts=verdicts)
    m = analyze_run(d, bootstrap=200)
    got = _pooled(m, "batch")
    ref = [levenshtein(list(a), list(b)) / max(len(a), len(b)) for a, b in pairs]  # on the letter strings
    assert got["nlev"]["value"] == pytest.approx(np.mean(ref))
    assert got["exact_match"]["value"] == pytest.approx(np.mean([a == b for a, b in pairs]))
    assert got["nlev"]["n"] == len(pairs)
    cov = m["settings"]["batch"]["coverage"]
    assert cov["failures"] == n_bad and cov["by_kind"].get("out_of_range", 0) == n_bad
