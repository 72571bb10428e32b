"""Benchmark: analysis of 100,000 pair + score verdicts with 1,000 bootstrap resamples.

Builds two synthetic run directories (50,000 pair items and 50,000 score items over the 15 Judge
Anything task types, human labels for each), then measures, in one process:

1. ``load_run`` (JSONL → frames), ``compute_metrics`` (every breakdown with 1,000-resample CIs, biases,
   Bradley–Terry rankings) and ``analyze_run`` end to end (both + metrics.json/csv, report.md), in wall
   and CPU seconds (the machine may be shared: CPU time is the steadier number);
2. the pooled agreement metrics alone with the vectorised bootstrap (:mod:`judgeanything.analysis.bootstrap`);
3. the same pooled metrics with a plain Python loop bootstrap (resample item indices, call scipy /
   scikit-learn / krippendorff per replicate) — timed on ``--loop-reps`` replicates and scaled linearly to
   1,000 (each replicate costs the same, so the scaling is exact up to timer noise).

Writes ``benchmarks/results/bench_analysis.json`` and prints it. Usage::

    python benchmarks/bench_analysis.py [--n 100000] [--boot 1000] [--loop-reps 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import krippendorff
import numpy as np
from _machine import machine, write_results
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from judgeanything.analysis import analyze_run, compute_metrics, load_run, pair_agreement, score_agreement
from judgeanything.schema import TASK_TYPES

CH = np.array(["first", "tie", "second"])


def _write(d: Path, setting: str, n: int, rng: np.random.Generator) -> tuple[list, list]:
    d.mkdir(parents=True)
    tasks = rng.integers(0, len(TASK_TYPES), n)
    if setting == "pair":
        human = CH[rng.integers(0, 3, n)]
        judge = np.where(rng.random(n) < 0.7, human, CH[rng.integers(0, 3, n)])
    else:
        human = rng.integers(1, 6, n)
        judge = np.clip(human + rng.integers(-1, 2, n), 1, 5)
    models = [f"model{k}" for k in range(6)]
    with (d / "items.jsonl").open("w") as fi, (d / "labels.jsonl").open("w") as fl, \
            (d / "verdicts.jsonl").open("w") as fv:
        for i in range(n):
            iid = f"{setting}{i}"
            k = 2 if setting == "pair" else 1
            ms = rng.choice(models, k, replace=False).tolist()
            resp = [{"response_id": f"{iid}/{s}", "model_name": m, "modality": "text", "text": "", "media": []}
                    for s, m in enumerate(ms)]
            sizes = [{"chars": int(c)} for c in rng.integers(10, 2000, k)]
            fi.write(json.dumps({"item_id": iid, "setting": setting, "uniq_id": iid,
                                 "task_name": TASK_TYPES[tasks[i]], "responses": resp, "sizes": sizes}) + "\n")
            hv = human[i].item() if hasattr(human[i], "item") else human[i]
            jv = judge[i].item() if hasattr(judge[i], "item") else judge[i]
            fl.write(json.dumps({"item_id": iid, "rubric": "overall", "value": hv, "annotator": "h"}) + "\n")
            fv.write(json.dumps({"key": iid, "item_id": iid, "setting": setting, "mode": "overall",
                                 "rubrics": ["overall"], "order": list(range(k)), "repeat": 0, "judge": "bench",
                                 "outcomes": [{"rubric": "overall", "value": jv}],
                                 "usage": {"prompt_tokens": 100, "completion_tokens": 5}, "latency_s": 0.1}) + "\n")
    (d / "run.json").write_text(json.dumps({"judge": "bench", "benchmark": "synthetic", "setting": setting,
                                            "mode": "overall"}))
    return list(judge), list(human)


def _loop_bootstrap(pj: list, ph: list, sj: list, sh: list, reps: int, seed: int) -> float:
    """Seconds for ``reps`` replicates of the pooled pair + score metrics, resampling in plain Python."""
    rng = np.random.default_rng(seed)
    pj_a, ph_a = np.array(pj), np.array(ph)
    sj_a, sh_a = np.array(sj, dtype=float), np.array(sh, dtype=float)
    t = time.perf_counter()
    for _ in range(reps):
        i = rng.integers(0, len(pj), len(pj))
        j, h = pj_a[i], ph_a[i]
        _ = float(np.mean(j == h)), float(np.mean(j[h != "tie"] == h[h != "tie"])), cohen_kappa_score(j, h)
        i = rng.integers(0, len(sj), len(sj))
        x, y = sj_a[i], sh_a[i]
        _ = (stats.pearsonr(x, y), stats.spearmanr(x, y), stats.kendalltau(x, y), np.mean(np.abs(x - y)),
             np.mean(x == y), cohen_kappa_score(x.astype(int), y.astype(int)),
             cohen_kappa_score(x.astype(int), y.astype(int), weights="quadratic"),
             krippendorff.alpha(reliability_data=np.vstack([x, y]), level_of_measurement="ordinal"))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="total verdicts (half pair, half score)")
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--loop-reps", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_analysis.json")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    half = args.n // 2
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        pj, ph = _write(Path(tmp) / "pair", "pair", half, rng)
        sj, sh = _write(Path(tmp) / "score", "score", half, rng)
        t_write = time.perf_counter() - t0
        timings = {}
        for setting in ("pair", "score"):
            d = Path(tmp) / setting
            w0, c0 = time.perf_counter(), time.process_time()
            data = load_run(d)
            w1, c1 = time.perf_counter(), time.process_time()
            compute_metrics(data, bootstrap=args.boot)
            w2, c2 = time.perf_counter(), time.process_time()
            analyze_run(d, bootstrap=args.boot)
            w3, c3 = time.perf_counter(), time.process_time()
            timings[setting] = {"load_wall_s": round(w1 - w0, 2), "load_cpu_s": round(c1 - c0, 2),
                                "compute_metrics_wall_s": round(w2 - w1, 2), "compute_metrics_cpu_s": round(c2 - c1, 2),
                                "analyze_run_wall_s": round(w3 - w2, 2), "analyze_run_cpu_s": round(c3 - c2, 2)}
    t0 = time.perf_counter()
    pair_agreement(pj, ph, n_boot=args.boot, rng=np.random.default_rng(1))
    score_agreement([float(x) for x in sj], [float(x) for x in sh], n_boot=args.boot,
                    rng=np.random.default_rng(2))
    t_vec = time.perf_counter() - t0
    t_loop = _loop_bootstrap(pj, ph, sj, sh, args.loop_reps, 3)
    loop_scaled = t_loop * args.boot / args.loop_reps
    res = {
        "verdicts": 2 * half, "bootstrap": args.boot,
        "per_setting": timings,
        "analyze_run_total_wall_s": round(sum(t["analyze_run_wall_s"] for t in timings.values()), 2),
        "analyze_run_total_cpu_s": round(sum(t["analyze_run_cpu_s"] for t in timings.values()), 2),
        "compute_metrics_total_cpu_s": round(sum(t["compute_metrics_cpu_s"] for t in timings.values()), 2),
        "pooled_agreement_vectorised_s": round(t_vec, 3),
        "pooled_agreement_python_loop_s": {"measured_reps": args.loop_reps, "measured_s": round(t_loop, 2),
                                           "scaled_to_boot_s": round(loop_scaled, 1)},
        "speedup_pooled": round(loop_scaled / t_vec, 1),
        "write_synthetic_runs_s": round(t_write, 2),
        "machine": machine(),
    }
    write_results(args.out, res, indent=1)


if __name__ == "__main__":
    main()
