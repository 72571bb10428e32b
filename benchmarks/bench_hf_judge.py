"""Benchmark: what token-probability verdicts and batching save in the local ``hf`` judge.

On one tiny random-weight model (default: the Qwen2-VL family of :mod:`judgeanything.models.tiny`; also
``--family qwen2_5_omni``) and the SAME requests (``--n`` pair comparisons, each with a generated 96x128
PNG-decoded image and two short text responses; Omni requests also carry a 1 s audio clip), measures in
one process, medians of ``--repeats`` interleaved runs after a full warm-up, wall clock:

1. time per verdict, token-probability verdicts (one forward pass after a JSON prefill, CLUE-style) vs
   generate-and-parse (greedy generation of up to ``--max-new-tokens`` tokens, then
   :func:`judgeanything.parsing.parse_output`), both batched by 4;
2. batched (4 requests per call, left padding) vs one by one, for both modes;
3. for reference, token-probability verdicts in rubrics mode (six rubrics = six forward passes).

Random weights rarely emit the end token, so generation runs to ``--max-new-tokens`` (reported as the
mean completion length): the generate cost is that of a judge writing a ~64-token answer.

Writes ``benchmarks/results/bench_hf_judge_<family>.json`` and prints it. Usage::

    python benchmarks/bench_hf_judge.py [--family qwen2_vl] [--n 16] [--repeats 5] [--max-new-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _machine import machine, write_results

from judgeanything.judges.base import JudgeRequest
from judgeanything.judges.hf import HFJudge
from judgeanything.modalities.base import EncodedAudio, EncodedImage
from judgeanything.models.tiny import build_tiny_model
from judgeanything.parsing import parse_output
from judgeanything.schema import RUBRICS, PairItem, Prompt, Query, Response, TextPart


def make_requests(n: int, with_audio: bool, rubrics: Sequence[str] = ("overall",)) -> list[JudgeRequest]:
    """``n`` pair requests with a decoded PNG (and a 1 s 16 kHz tone when ``with_audio``)."""
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(buf, format="PNG")
        buf.seek(0)
        img = EncodedImage(image=Image.open(buf).convert("RGB"), role="query")
        q = Query(uniq_id=f"q{i}", task_name="Image2Text", question="Describe the image.")
        a = Response(f"a{i}", q.uniq_id, "model-a", "text", text="A noisy picture " + "with dots " * (i % 4))
        b = Response(f"b{i}", q.uniq_id, "model-b", "text", text="Random coloured pixels.")
        parts: list[Any] = [TextPart(f"Instruction: {q.question}\nInput image: "), img]
        if with_audio:
            t = np.arange(16000) / 16000
            parts += [TextPart("\nInput audio: "),
                      EncodedAudio((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000, role="query")]
        parts += [TextPart(f"\nResponse 1: {a.text}\nResponse 2: {b.text}\nWhich response is better? "
                           'Answer in JSON: {"overall_comment": "...", "overall_choice": "0|1|2"}')]
        mode = "overall" if tuple(rubrics) == ("overall",) else "rubrics"
        prompt = Prompt(setting="pair", mode=mode, rubrics=tuple(rubrics), system="You are a careful judge.",
                        parts=(), version="bench", n_responses=2)
        out.append(JudgeRequest(key=f"r{i}", item=PairItem(f"i{i}", q, a, b), prompt=prompt, order=(0, 1),
                                parts=parts))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="qwen2_vl", choices=["qwen2_vl", "qwen2_5_omni", "llava"])
    ap.add_argument("--n", type=int, default=16, help="requests (a multiple of 4)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--out", type=Path, default=None,
                    help="default: benchmarks/results/bench_hf_judge_<family>.json")
    args = ap.parse_args()
    if args.out is None:
        args.out = Path(__file__).parent / "results" / f"bench_hf_judge_{args.family}.json"

    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    model_dir = build_tiny_model(args.family, Path(tempfile.mkdtemp()) / args.family)
    with_audio = args.family == "qwen2_5_omni"
    reqs = make_requests(args.n, with_audio)
    rubric_reqs = make_requests(args.n, with_audio, RUBRICS)
    common: dict[str, Any] = {"device": "cpu", "dtype": "float32", "sampling": {"max_tokens": args.max_new_tokens}}
    if args.family == "qwen2_5_omni":
        common["processor_kwargs"] = {"videos_kwargs": {"size": {"shortest_edge": 3136, "longest_edge": 50176}}}
    judges = {(v, b): HFJudge(str(model_dir), verdict=v, batch_size=b, **common)
              for v in ("logprob", "generate") for b in (4, 1)}

    def run(verdict: str, bs: int, requests: list[JudgeRequest]) -> list[Any]:
        results = judges[(verdict, bs)].judge_sync(requests)
        if verdict == "generate":
            for r in results:
                parse_output(r.raw, "pair", ["overall"], finish_reason=r.finish_reason)
        return results

    cases: dict[str, Callable[[], list[Any]]] = {
        f"{v}_bs{b}": (lambda v=v, b=b: run(v, b, reqs)) for v in ("logprob", "generate") for b in (4, 1)}
    cases["logprob_rubrics6_bs4"] = lambda: run("logprob", 4, rubric_reqs)
    # Warm-up: load every judge and run every case once in full. On CPU the first call with a new tensor
    # shape is several times slower (allocation, kernel selection); timing starts once every shape was seen.
    t0 = time.perf_counter()
    warm = {k: fn() for k, fn in cases.items()}
    warmup_s = time.perf_counter() - t0
    failures = sum(r.failure is not None for rs in warm.values() for r in rs)
    if failures:
        raise SystemExit(f"{failures} requests failed in the warm-up; nothing to time")
    mean_completion = statistics.mean(r.usage["completion_tokens"] for r in warm["generate_bs4"])
    mean_prompt = statistics.mean(r.usage["prompt_tokens"] for r in warm["generate_bs4"])
    # Interleaved: every repeat times every case once, so a load change on a shared machine hits all alike.
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.repeats):
        for k, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    t = {k: statistics.median(v) / args.n for k, v in times.items()}
    res = {
        "family": args.family,
        "n_requests": args.n,
        "repeats": args.repeats,
        "max_new_tokens": args.max_new_tokens,
        "mean_prompt_tokens": mean_prompt,
        "mean_completion_tokens_generate": mean_completion,
        "warmup_seconds_all_cases": round(warmup_s, 2),
        "seconds_per_verdict": {k: round(v, 5) for k, v in t.items()},
        "ratios": {
            "generate_over_logprob_bs4": round(t["generate_bs4"] / t["logprob_bs4"], 2),
            "generate_over_logprob_bs1": round(t["generate_bs1"] / t["logprob_bs1"], 2),
            "one_by_one_over_batched_logprob": round(t["logprob_bs1"] / t["logprob_bs4"], 2),
            "one_by_one_over_batched_generate": round(t["generate_bs1"] / t["generate_bs4"], 2),
            "rubrics6_over_overall_logprob_bs4": round(t["logprob_rubrics6_bs4"] / t["logprob_bs4"], 2),
        },
        "machine": machine(torch=torch.__version__, transformers=transformers.__version__,
                           torch_threads=torch.get_num_threads()),
    }
    write_results(args.out, res)


if __name__ == "__main__":
    main()
