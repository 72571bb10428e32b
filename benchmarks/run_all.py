"""Run every benchmark script in this folder once, in one process each; results land in benchmarks/results/.

    python benchmarks/run_all.py            # (or: make bench)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Extra argument sets per script (each produces a results file the README quotes).
RUNS: dict[str, list[list[str]]] = {
    "bench_hf_judge.py": [["--family", "qwen2_vl"], ["--family", "qwen2_5_omni"]],
    # the 200 ms loopback latency, and an API-like 1 s latency at a rate-limited concurrency
    "bench_cache.py": [[], ["--latency", "1.0", "--concurrency", "8", "--items", "100",
                            "--out", str(Path(__file__).resolve().parent / "results" / "bench_cache_api.json")]],
    # the whole grid, and the c = 64 cells the READMEs quote (results/bench_throughput_c64_stages.json)
    "bench_throughput.py": [["--shards", "--cpu"],
                            ["--latencies", "200", "20", "--concurrency", "64", "--shards", "--cpu", "--repeats", "3",
                             "--out", str(HERE / "results" / "bench_throughput_c64_stages.json")]],
}


def main() -> int:
    """Run ``bench_*.py`` in turn (with each argument set of :data:`RUNS`); returns the number of failed runs."""
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        for args in RUNS.get(script.name, [[]]):
            print(f"== {script.name} {' '.join(args)}", flush=True)
            failed += subprocess.run([sys.executable, str(script), *args], check=False).returncode != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
