"""Benchmark: peak memory of a run at 1× and 10× the items, and of a rerun that judges nothing.

Each measurement is a fresh process (its peak RSS, ``VmHWM``, is its own) running what the CLI runs
for one job: the runner with the ``openai`` judge against a loopback server (a separate process) on
synthetic text pair items, then ``finish_run`` (analysis with bootstrap CIs, the Markdown and HTML
reports). Measured in one invocation:

1. a first run of ``--n`` items;
2. a first run of 10 × ``--n`` items;
3. a rerun of (2) into the same directory: everything is already judged.

Writes ``benchmarks/results/bench_memory.json``. Usage::

    python benchmarks/bench_memory.py [--n 600] [--bootstrap 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine, write_results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import json, resource, sys, time
sys.path[:0] = [{root!r}, {here!r}]
from pathlib import Path
from _loopback import text_pairs
from judgeanything.judges.openai_compat import OpenAIJudge
from judgeanything.runner import Runner, RunOptions
from judgeanything.report.summary import finish_run

def peak_mb():
    # VmHWM: the peak RSS of this process image. ru_maxrss is not used: Linux carries the forked parent's
    # high-water mark across exec into it, so a child would report the launching process's size
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

base = peak_mb()
data = text_pairs({n})
judge = OpenAIJudge(model="bench-judge", base_url={url!r}, concurrency=32, max_attempts=1)
t0 = time.perf_counter()
counts = Runner(data, judge, Path({run_dir!r}), RunOptions(progress=False)).run()
t_run = time.perf_counter() - t0
after_run = peak_mb()
finish_run(Path({run_dir!r}), judge=judge, data=data,
           analysis={{"bootstrap": {boot}, "plots": False, "html": True}})
print(json.dumps({{"after_imports_mb": base, "peak_after_judging_mb": after_run, "peak_mb": peak_mb(),
                  "judged": counts["judged"], "skipped": counts["skipped"], "failures": counts["failures"],
                  "judge_s": t_run,
                  "total_s": time.perf_counter() - t0}}))
"""


def measure(n: int, run_dir: Path, url: str, boot: int) -> dict[str, float]:
    code = CHILD.format(root=str(ROOT), here=str(HERE), n=n, url=url, run_dir=str(run_dir), boot=boot)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-3000:])
    res = json.loads(p.stdout.strip().splitlines()[-1])
    if res["failures"]:
        raise RuntimeError(f"{res['failures']} units failed: the measurement would not be of a real run")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=600, help="items at 1× (10× is measured too)")
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "bench_memory.json")
    args = ap.parse_args()
    sys.path[:0] = [str(ROOT), str(HERE)]
    from _loopback import LoopbackServer, pair_verdict

    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(reply=pair_verdict) as server:
        small = measure(args.n, Path(tmp) / "x1", server.base_url, args.bootstrap)
        big = measure(10 * args.n, Path(tmp) / "x10", server.base_url, args.bootstrap)
        rerun = measure(10 * args.n, Path(tmp) / "x10", server.base_url, args.bootstrap)
    out = {
        "benchmark": "bench_memory",
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),  # at the end
        "n_items_1x": args.n, "n_items_10x": 10 * args.n, "bootstrap": args.bootstrap,
        "first_run_1x": small, "first_run_10x": big, "rerun_10x": rerun,
        "peak_growth_10x": big["peak_mb"] / small["peak_mb"] - 1,
        "peak_growth_10x_judging": big["peak_after_judging_mb"] / small["peak_after_judging_mb"] - 1,
        "rerun_peak_over_first_run": rerun["peak_mb"] / big["peak_mb"],
    }
    write_results(args.out, out)


if __name__ == "__main__":
    main()
