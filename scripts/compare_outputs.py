"""Check that two sets of run directories hold the same results, byte for byte where deterministic.

    python scripts/compare_outputs.py BEFORE AFTER

``BEFORE`` and ``AFTER`` are folders holding run directories (and sweep folders with a leaderboard) made by the
same commands — e.g. the probe demo sweep and the three MLLM-as-a-Judge replays, once before and once after a
refactor. Every result file under ``BEFORE`` (``metrics.json``, ``metrics.csv``, ``report.md``,
``reference_check.json``, ``leaderboard.csv``/``.md``, and the verdict records of ``verdicts.jsonl``) is compared
with the file at the same relative path under ``AFTER`` after masking what differs between two runs of the same
code: the folder names themselves, wall-clock timestamps and measured times (``latency_s``, ``time_s``,
``judge time`` columns), and whether the shared judge cache answered (``cached``, ``extra.cache``,
``attempts``). Exit status 0 when everything matches, 1 (with a unified diff per file) otherwise.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

RESULT_FILES = ("metrics.json", "metrics.csv", "report.md", "reference_check.json", "leaderboard.csv",
                "leaderboard.md", "verdicts.jsonl")
#: keys whose values are wall-clock times or durations (never deterministic), or say whether the shared judge
#: cache answered (``cached`` counts, a record's ``extra.cache``, the requests ``attempts`` it saved): a second
#: run of the same commands is answered from the cache the first one filled, with the same verdicts
VOLATILE_KEYS = frozenset({"ts", "latency_s", "time_s", "started", "finished", "cached", "attempts"})
#: keys present only when the judge cache answered (dropped before comparing)
CACHE_ONLY_KEYS = frozenset({"cache"})
_VOLATILE_COLUMN = re.compile(r"time|latency|cache", re.I)


def _mask_json(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: "<volatile>" if k in VOLATILE_KEYS else _mask_json(v) for k, v in obj.items()
                if k not in CACHE_ONLY_KEYS}
    if isinstance(obj, list):
        return [_mask_json(v) for v in obj]
    return obj


def _mask_csv(text: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return text
    header = rows[0]
    volatile_cols = {i for i, h in enumerate(header) if h in VOLATILE_KEYS}
    metric_col = header.index("metric") if "metric" in header else None
    value_cols = [i for i, h in enumerate(header) if h in ("value", "ci_low", "ci_high")]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for r in rows:
        r = ["<volatile>" if i in volatile_cols and r is not header else c for i, c in enumerate(r)]
        if metric_col is not None and r is not header and len(r) > metric_col and r[metric_col] in VOLATILE_KEYS:
            r = ["<volatile>" if i in value_cols else c for i, c in enumerate(r)]
        w.writerow(r)
    return out.getvalue()


def _mask_markdown(text: str) -> str:
    """Mask the cells of table columns whose header names a time (the judge's measured seconds)."""
    out, volatile = [], set()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|"):
            cells = line.strip().strip("|").split("|")
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt.startswith("|---") or nxt.startswith("| ---"):  # a header row
                volatile = {k for k, c in enumerate(cells) if _VOLATILE_COLUMN.search(c)}
            elif not line.startswith("|---"):
                cells = [" <volatile> " if k in volatile else c for k, c in enumerate(cells)]
                line = "|" + "|".join(cells) + "|"
        else:
            volatile = set()
        out.append(line)
    return "\n".join(out)


def normalise(path: Path, root: Path) -> str:
    text = path.read_text(encoding="utf-8").replace(str(root.resolve()), "<ROOT>").replace(str(root), "<ROOT>")
    if path.name.endswith(".json"):
        return json.dumps(_mask_json(json.loads(text)), indent=1, sort_keys=True)
    if path.name.endswith(".jsonl"):
        return "\n".join(json.dumps(_mask_json(json.loads(ln)), sort_keys=True) for ln in text.splitlines() if ln)
    if path.name.endswith(".csv"):
        return _mask_csv(text)
    return _mask_markdown(text)


def compare(before: Path, after: Path) -> list[str]:
    """Returns one message per differing or missing file (empty when all match)."""
    problems = []
    files = sorted(p for p in before.rglob("*") if p.name in RESULT_FILES)
    if not files:
        return [f"{before}: no result files found"]
    for p in files:
        rel = p.relative_to(before)
        q = after / rel
        if not q.exists():
            problems.append(f"{rel}: missing under {after}")
            continue
        a, b = normalise(p, before), normalise(q, after)
        if a != b:
            diff = "\n".join(list(difflib.unified_diff(a.splitlines(), b.splitlines(), str(p), str(q),
                                                       lineterm="", n=1))[:40])
            problems.append(f"{rel}: differs\n{diff}")
    print(f"compared {len(files)} result files under {before} with {after}: "
          f"{len(files) - len(problems)} identical, {len(problems)} differ")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = compare(Path(args[0]), Path(args[1]))
    for m in problems:
        print(m)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
