"""Acceptance: `judge=replay` on MLLM-as-a-Judge's HQ files reproduces an independent recomputation of
"recorded judge vs human label" straight from the raw JSONL (no code of ours involved in the reference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.support.compose import run_app
from tests.support.jsonl import read_jsonl
from tests.support.oracles import levenshtein

pytestmark = pytest.mark.integration


def _pooled(run_dir, metric):
    df = pd.read_csv(run_dir / "metrics.csv", keep_default_na=False)
    r = df[(df.group_by == "pooled") & (df.rubric == "overall") & (df.metric == metric)]
    assert len(r) == 1, f"{metric}: {len(r)} pooled rows"
    return float(r.value.iloc[0]), int(r.n.iloc[0])


def _run(tmp_path, setting, path):
    out = tmp_path / setting
    run_app("benchmark=mllm_judge", "judge=replay", f"setting={setting}", f"benchmark.{setting}_file={path}",
            f"hydra.run.dir={out}", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=100")
    return out


def test_pair_accuracy_with_and_without_tie(tmp_path, shared_dir):
    path = shared_dir / "data" / "mllm_judge" / "HQ_Pair.jsonl"
    rows = read_jsonl(path)
    out = _run(tmp_path, "pair", path)
    with_tie = np.mean([r["result"]["judge"] == r["human_answer"] for r in rows])
    no_tie = [r for r in rows if r["human_answer"] != "C"]
    without_tie = np.mean([r["result"]["judge"] == r["human_answer"] for r in no_tie])
    assert _pooled(out, "accuracy_with_tie")[0] == pytest.approx(with_tie, abs=1e-12) and with_tie > 0.5
    assert _pooled(out, "accuracy_without_tie") == (pytest.approx(without_tie, abs=1e-12), len(no_tie))


def test_score_pearson_against_the_clean_recorded_score(tmp_path, shared_dir):
    path = shared_dir / "data" / "mllm_judge" / "HQ_Score.jsonl"
    rows = read_jsonl(path)
    out = _run(tmp_path, "score", path)
    judge = [int(r["evaluator"]["judge_Evaluator"]) for r in rows]
    human = [int(r["Human_answer"]) for r in rows]
    assert _pooled(out, "pearson") == (pytest.approx(stats.pearsonr(judge, human).statistic, abs=1e-12), len(rows))
    assert _pooled(out, "spearman")[0] == pytest.approx(stats.spearmanr(judge, human).statistic, abs=1e-12)
    assert _pooled(out, "kendall_tau_b")[0] == pytest.approx(stats.kendalltau(judge, human).statistic, abs=1e-12)
    assert _pooled(out, "mae")[0] == pytest.approx(np.mean(np.abs(np.subtract(judge, human))), abs=1e-12)


def test_batch_normalised_levenshtein(tmp_path, shared_dir):
    path = shared_dir / "data" / "mllm_judge" / "HQ_Batch.jsonl"
    rows = read_jsonl(path)
    out = _run(tmp_path, "batch", path)
    ref = np.mean([levenshtein(r["evaluator"]["judge_evaluator"], r["human_answer"])
                   / max(len(r["evaluator"]["judge_evaluator"]), len(r["human_answer"])) for r in rows])
    assert _pooled(out, "nlev") == (pytest.approx(ref, abs=1e-12), len(rows))
