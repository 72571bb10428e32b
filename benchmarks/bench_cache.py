"""Benchmark: a warm-cache relaunch of a 3-judge sweep against the cold sweep.

A loopback OpenAI-compatible server (its own process) answers after ``--latency`` seconds and counts the
requests it gets. One process runs the sweep's three jobs one after another as Hydra's basic launcher does
(three ``openai`` judges, pair comparison in both orders on synthetic text items, the runner with the judge
cache in ``readwrite`` mode; analysis is left out: it is the same work either way), timing:

1. the cold sweep — an empty judge cache, fresh run directories;
2. the warm relaunch — the same sweep into *new* run directories (so resuming cannot help: every answer
   must come from the judge cache);
3. the resumed relaunch — the same sweep into the cold sweep's directories (what relaunching the same
   ``-m`` command does: everything is skipped).

Reports each wall time and this process's CPU time, the requests the server received in each phase (the
relaunches must get zero, else the script fails), and the ratios cold ÷ warm and cold ÷ resumed.
Writes ``benchmarks/results/bench_cache.json``. Usage::

    python benchmarks/bench_cache.py [--items 200] [--latency 0.2] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine, write_results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JUDGES = ("judge-a", "judge-b", "judge-c")


def run_sweep(base_url: str, out: Path, cache_dir: Path, items: int, concurrency: int) -> tuple[float, float]:
    """The three jobs, one after another in this process; returns (wall seconds, this process's CPU seconds)."""
    from _loopback import text_pairs

    from judgeanything.cache import CacheOptions, JudgeCache
    from judgeanything.judges.openai_compat import OpenAIJudge
    from judgeanything.runner import Runner, RunOptions

    data = text_pairs(items)
    t0, c0 = time.perf_counter(), time.process_time()
    for name in JUDGES:
        judge = OpenAIJudge(model=name, base_url=base_url, concurrency=concurrency, max_attempts=1)
        cache = JudgeCache(CacheOptions(dir=str(cache_dir)))
        counts = Runner(data, judge, out / name, RunOptions(pair_order="both", progress=False),
                        judge_cache=cache).run()
        cache.close()
        if counts["failures"]:
            raise RuntimeError(f"{counts['failures']} units failed: not a real sweep")
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200, help="pair items per judge (× 2 orders = units)")
    ap.add_argument("--latency", type=float, default=0.2, help="server answer delay, seconds")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "bench_cache.json")
    args = ap.parse_args()
    sys.path[:0] = [str(ROOT), str(HERE)]
    from _loopback import LoopbackServer, pair_verdict

    units = 3 * 2 * args.items
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(args.latency, reply=pair_verdict) as server:
        cache = Path(tmp) / "judge-cache"
        (cold, cold_cpu) = run_sweep(server.base_url, Path(tmp) / "cold", cache, args.items, args.concurrency)
        cold_requests = server.requests()
        (warm, warm_cpu) = run_sweep(server.base_url, Path(tmp) / "warm", cache, args.items, args.concurrency)
        warm_requests = server.requests() - cold_requests
        (resumed, resumed_cpu) = run_sweep(server.base_url, Path(tmp) / "cold", cache, args.items, args.concurrency)
        resumed_requests = server.requests() - cold_requests - warm_requests
    if warm_requests or resumed_requests:
        raise RuntimeError(f"the relaunches asked the judge {warm_requests} + {resumed_requests} times")
    out = {
        "benchmark": "bench_cache",
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),  # at the end
        "judges": list(JUDGES), "items_per_judge": args.items, "units": units, "latency_s": args.latency,
        "concurrency": args.concurrency,
        "cold_s": round(cold, 3), "cold_cpu_s": round(cold_cpu, 3), "cold_requests": cold_requests,
        "warm_cache_new_dirs_s": round(warm, 3), "warm_cpu_s": round(warm_cpu, 3), "warm_requests": warm_requests,
        "warm_ms_per_unit": round(1000 * warm / units, 3),
        "resumed_same_dirs_s": round(resumed, 3), "resumed_cpu_s": round(resumed_cpu, 3),
        "resumed_requests": resumed_requests,
        "speedup_warm_cache": round(cold / warm, 1), "speedup_resumed": round(cold / resumed, 1),
        "ideal_cold_s": round(units * args.latency / args.concurrency, 3),
    }
    write_results(args.out, out)


if __name__ == "__main__":
    main()
