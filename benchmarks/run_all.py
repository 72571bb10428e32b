"""Run every benchmark script in this folder once, in one process each; results land in benchmarks/results/.

    python benchmarks/run_all.py            # (or: make bench)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run ``bench_*.py`` in turn; returns the number of scripts that failed."""
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        failed += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
