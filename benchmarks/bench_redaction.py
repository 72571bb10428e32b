"""Benchmark: what the one redaction (:mod:`judgeanything.redaction`) costs on the run log's hot path, and that
it stays linear in the length of the text on inputs built to make regexes backtrack.

Measured in one process (the fastest of ``--repeats`` timings of ``--number`` calls each, process CPU time):

1. a typical run-log record (pair verdict with a JSON raw answer, one image's provenance): ``redact_values``
   against ``orjson.dumps`` of the same record — the serialisation the store does anyway;
2. the same record with a 2,000-character reasoning answer (prose with ``:`` and ``=``);
3. pathological texts (long runs of name characters, ``a:a:a:…``, ``http://http://…``, ``sk-sk-…``, an
   unterminated quoted secret, ``Bearer Bearer…``) at 10 kB and 100 kB: the 100 kB / 10 kB time ratio is ≈10
   for linear work (a regex tried from every position of a run would make it ≈100).

Writes ``benchmarks/results/bench_redaction.json`` and prints it. Usage::

    python benchmarks/bench_redaction.py [--repeats 7] [--number 2000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from _machine import machine, write_results

from judgeanything.redaction import redact_text, redact_values

RECORD: dict[str, Any] = {
    "key": "0df3790f494cefc46f3790f3", "item_id": "mllmj-pair::100", "item_content": "a1b2c3d4e5f6a7b8c9d0e1f2",
    "task_name": "Image2Text", "setting": "pair", "mode": "overall", "rubrics": ["overall"], "order": [0, 1],
    "repeat": 0, "judge": "gpt-4o-2024-08-06", "prompt_version": "v1/pair_overall",
    "outcomes": [{"rubric": "overall", "value": "second", "comment": "Response 2 counts the dots correctly."}],
    "raw": '{"overall_comment": "Response 2 counts the dots correctly.", "overall_choice": "2"}',
    "finish_reason": "stop", "usage": {"prompt_tokens": 812, "completion_tokens": 31}, "latency_s": 0.81,
    "model": "gpt-4o-2024-08-06", "ts": "2026-12-07T15:05:08+00:00", "downgrades": [],
    "media": [{"source": "image/0.png", "sha256": "0d6a9c5faccd49776d6fa9e3a0c61c99653235d1bfb5547e6c33b8df66f11f6c",
               "format": "PNG", "mode": "RGB", "original_size": [640, 480], "final_size": [640, 480],
               "max_side": 1024, "role": "query", "modality": "image"}],
    "extra": {"system_fingerprint": "fp_50cad350e4"},
}
REASONING = ("Response 1: it counts three dots; the image shows four. Response 2 = four, correct. " * 24)[:2000]
PATHOLOGICAL = {"name run": "x", "a:a:": "a:", "=a=a": "=a", "http://": "http://", "sk-": "sk-",
                "open quote": None, "Bearer": "Bearer "}


def median_time(fn: Callable[[], object], repeats: int, number: int) -> float:
    """Seconds of this process's CPU per call: the fastest of ``repeats`` timings of ``number`` calls (on a
    machine shared with other jobs, the minimum CPU time is the stable statistic; wall time and the median
    move with the neighbours' load)."""
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(number):
            fn()
        times.append((time.process_time() - t0) / number)
    return min(times)


def pathological(kind: str, n: int) -> str:
    unit = PATHOLOGICAL[kind]
    if unit is None:
        return 'password: "' + "y" * (n - 11)
    return (unit * (n // len(unit) + 1))[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--number", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_redaction.json")
    args = ap.parse_args()
    rec_long = dict(RECORD, raw=REASONING)
    res: dict[str, Any] = {"machine": machine(), "repeats": args.repeats, "number": args.number}
    for name, rec in (("record", RECORD), ("record_2k_reasoning", rec_long)):
        dumps = median_time(lambda r=rec: orjson.dumps(r), args.repeats, args.number)
        red = median_time(lambda r=rec: redact_values(r), args.repeats, args.number)
        res[name] = {"orjson_dumps_us": round(dumps * 1e6, 2), "redact_values_us": round(red * 1e6, 2),
                     "ratio_redact_to_dumps": round(red / dumps, 2)}
    scaling = {}
    for kind in PATHOLOGICAL:
        small, big = pathological(kind, 10_000), pathological(kind, 100_000)
        t_small = median_time(lambda s=small: redact_text(s), args.repeats, 3)
        t_big = median_time(lambda s=big: redact_text(s), args.repeats, 3)
        scaling[kind] = {"ms_10kB": round(t_small * 1e3, 3), "ms_100kB": round(t_big * 1e3, 3),
                         "ratio_100k_to_10k": round(t_big / t_small, 1)}
    res["scaling"] = scaling
    write_results(args.out, res, indent=1)


if __name__ == "__main__":
    main()
