"""Benchmark: judging throughput of the ``openai`` judge path ÷ the bare official SDK's, side by side.

A loopback OpenAI-compatible server (``tests/support/fault_openai.py``, in its own process) answers every
chat completion after a fixed latency. For each latency (200 ms, 20 ms), item kind and concurrency
(1, 16, 64, 128), one process measures, interleaved (``--repeats`` rounds, best of each):

* **bare SDK** — a minimal client: ``AsyncOpenAI.chat.completions.create`` in ``c`` asyncio workers,
  looping over prebuilt request bodies (the same messages our judge sends, media encoded beforehand): the
  floor any framework on this SDK pays;
* **bare SDK, post** — the same client sending the finished JSON body with the SDK's public ``client.post``
  (what the judge does): the SDK's own floor, without ``create()``'s per-request parameter transform;
* **judgeanything** — ``Runner.arun`` end to end on the same items (run directory written, prompts
  rendered, media encoded, verdicts parsed and fsync'ed to ``verdicts.jsonl``), with ``run.concurrency=c``;
* the **ideal** — ``c / latency`` requests per second.

Item kinds: ``text`` (pair items whose question and responses are text) and ``image`` (the image-bearing
probe items — a query image and/or image responses, ~40–100 KB of base64 PNG per request — copied under new
ids to reach the unit count). Each cell runs ``--seconds`` of ideal work (at most ``--max-units`` units).

``--shards``: the same c=64 / 200 ms text cell judged by two processes at c=32 each (``run.shard=0/2`` and
``1/2``'s item split, :func:`judgeanything.shard.select`), throughput = all units ÷ the slower process's wall
time, against the same ideal (64 in flight in all).

CPU per request is the client process's CPU time (``time.process_time``) over the units judged: the
framework's own cost beside the SDK's. ``--cpu`` adds the *marginal* CPU per request (a 300-unit and a
``--max-units`` run of each client at c=64 / 20 ms, the difference over the difference in units), which
leaves out fixed costs such as writing the run directory.

Writes ``benchmarks/results/bench_throughput.json``. Usage::

    python benchmarks/bench_throughput.py [--latencies 200 20] [--concurrency 1 16 64 128]
        [--kinds text image] [--seconds 4] [--repeats 2] [--shards]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import openai  # noqa: E402
from _loopback import LoopbackServer  # noqa: E402
from _machine import machine, write_results  # noqa: E402

from judgeanything.datasets.base import BenchmarkData  # noqa: E402
from judgeanything.judges.openai_compat import OpenAIJudge  # noqa: E402
from judgeanything.runner import Runner, RunOptions  # noqa: E402
from judgeanything.schema import PairItem, Query, Response  # noqa: E402

MODEL = "bench-judge"


# -- items ----------------------------------------------------------------------------------------------


def text_items(n: int) -> BenchmarkData:
    """``n`` pair items with text question and responses (~1.3 KB of prompt text each)."""
    items = []
    for i in range(n):
        q = Query(f"q{i}", "Text2Text", f"Question {i}: explain, in a short paragraph, why the sky looks blue "
                  "at noon and red at sunset, naming the physical effect involved. " * 2)
        a = Response(f"q{i}-a", q.uniq_id, "model-a", "text", text="Rayleigh scattering: short wavelengths "
                     "scatter more, so the sky is blue; at sunset light crosses more air and red remains. " * 2)
        b = Response(f"q{i}-b", q.uniq_id, "model-b", "text", text="The sky reflects the ocean, which is blue; "
                     "at sunset the sun is closer and hotter, so it glows red. " * 2)
        items.append(PairItem(f"q{i}::a_vs_b", q, a, b))
    return BenchmarkData(name="bench-text", setting="pair", items=items)


def image_items(n: int, cache_dir: Path | None) -> BenchmarkData:
    """``n`` image-bearing probe pair items (the probe suite's items with an image input or image responses,
    copied under new ids ``…#k`` to reach ``n``)."""
    from judgeanything.datasets.probes.dataset import ProbesDataset

    data = ProbesDataset(size="small", cache_dir=str(cache_dir) if cache_dir else None).load("pair")
    base = [it for it in data.items if _has_only_images(it)]
    if not base:
        raise RuntimeError("no image-bearing probe items")
    items = [replace(base[k % len(base)], item_id=f"{base[k % len(base)].item_id}#{k // len(base)}")
             for k in range(n)]
    return BenchmarkData(name="bench-image", setting="pair", items=items, data_root=data.data_root)


def _has_only_images(item: Any) -> bool:
    refs = [*item.query.media, *(m for r in item.responses for m in r.media)]
    return bool(refs) and all(m.modality == "image" for m in refs)


# -- bare SDK ---------------------------------------------------------------------------------------------


async def _prebuilt_bodies(data: BenchmarkData, base_url: str) -> list[dict[str, Any]]:
    """The request bodies our judge would send for these items (prompt rendered, media encoded), built
    once before timing: the bare client only sends them."""
    from judgeanything.judges.base import JudgeRequest
    from judgeanything.modalities.cache import MediaCache
    from judgeanything.prompts import build_prompt
    from judgeanything.schema import TextPart

    judge = OpenAIJudge(model=MODEL, base_url=base_url, response_format="none")
    cache = MediaCache(data.data_root, {})
    bodies = []
    distinct = {it.item_id.split("#")[0]: it for it in data.items}
    for item in distinct.values():
        prompt = build_prompt(item, "overall", ("overall",))
        parts = [p if isinstance(p, TextPart) else cache.encode(p.ref, p.role) for p in prompt.parts]
        bodies.append(judge.request_body(JudgeRequest("k", item, prompt, (0, 1), 0, parts)))
    return bodies


async def bare_sdk(bodies: list[dict[str, Any]], n: int, conc: int, base_url: str,
                   post: bool = False) -> dict[str, float]:
    """The bare client: ``chat.completions.create(**body)`` (the SDK as documented), or with ``post`` the
    SDK's ``client.post`` of the finished JSON body (what the judge sends: the SDK's own floor)."""
    from openai.types.chat import ChatCompletion

    from judgeanything.judges.openai_compat import wire_body

    client = openai.AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=0, timeout=60)
    todo = iter(range(n))
    wired = [wire_body(b) for b in bodies]
    done = 0

    async def worker() -> None:
        nonlocal done
        for i in todo:
            if post:
                resp = await client.post("/chat/completions", cast_to=ChatCompletion, body=wired[i % len(wired)])
            else:
                resp = await client.chat.completions.create(**bodies[i % len(bodies)])
            done += bool(resp.choices[0].message.content)

    c0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    await client.close()
    assert done == n
    return {"units": n, "wall_s": wall, "per_s": n / wall, "cpu_ms_per_unit": 1000 * cpu / n}


# -- judgeanything ----------------------------------------------------------------------------------------


async def framework(data: BenchmarkData, conc: int, base_url: str, run_dir: Path) -> dict[str, float]:
    judge = OpenAIJudge(model=MODEL, base_url=base_url, response_format="none", concurrency=conc)
    runner = Runner(data, judge, run_dir, RunOptions(progress=False, concurrency=conc))
    c0, t0 = time.process_time(), time.perf_counter()
    counts = await runner.arun()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = len(data.items)
    assert counts["judged"] == n and counts["failures"] == 0, counts
    return {"units": n, "wall_s": wall, "per_s": n / wall, "cpu_ms_per_unit": 1000 * cpu / n}


def _shard_proc(args: tuple[str, int, int, str, str, Any]) -> dict[str, float]:
    """One process of the two-process cell: ``client`` ("judgeanything" or "sdk.post") on shard ``i`` of 2 of
    ``n`` text items (``run.shard``'s split), ``conc`` at a time."""
    client, n, conc, base_url, run_dir, shard_index = args
    from judgeanything.shard import Shard, select

    data = text_items(n)
    mine, _ = select(data.items, Shard(shard_index, 2))
    data = replace(data, items=mine)
    logging.disable(logging.WARNING)
    if client == "sdk.post":
        bodies = asyncio.run(_prebuilt_bodies(data, base_url))
        return asyncio.run(bare_sdk(bodies, len(mine), conc, base_url, post=True))
    return asyncio.run(framework(data, conc, base_url, Path(run_dir)))


# -- driver -----------------------------------------------------------------------------------------------


def cell(kind: str, latency_ms: float, conc: int, args: argparse.Namespace, base_url: str,
         tmp: Path) -> dict[str, Any]:
    ideal = conc / (latency_ms / 1000)
    n = int(max(conc * 2, 40, min(args.max_units, ideal * args.seconds)))
    data = text_items(n) if kind == "text" else image_items(n, args.cache_dir)
    bodies = asyncio.run(_prebuilt_bodies(data, base_url))
    sdk, post, ours = [], [], []
    load_before = os.getloadavg()[0]
    for r in range(args.repeats):
        sdk.append(asyncio.run(bare_sdk(bodies, n, conc, base_url)))
        post.append(asyncio.run(bare_sdk(bodies, n, conc, base_url, post=True)))
        ours.append(asyncio.run(framework(data, conc, base_url, tmp / f"{kind}-{latency_ms}-{conc}-{r}")))
    best_sdk = max(sdk, key=lambda x: x["per_s"])
    best_post = max(post, key=lambda x: x["per_s"])
    best_ours = max(ours, key=lambda x: x["per_s"])
    row = {"kind": kind, "latency_ms": latency_ms, "concurrency": conc, "units": n, "ideal_per_s": ideal,
           "sdk": best_sdk, "sdk_post": best_post, "judgeanything": best_ours,
           "ratio_vs_sdk": best_ours["per_s"] / best_sdk["per_s"],
           "ratio_vs_sdk_post": best_ours["per_s"] / best_post["per_s"],
           "ratio_vs_ideal": best_ours["per_s"] / ideal, "sdk_vs_ideal": best_sdk["per_s"] / ideal,
           "cpu_ratio_vs_sdk": best_ours["cpu_ms_per_unit"] / best_sdk["cpu_ms_per_unit"],
           "cpu_ratio_vs_sdk_post": best_ours["cpu_ms_per_unit"] / best_post["cpu_ms_per_unit"],
           "all_sdk_per_s": [round(x["per_s"], 1) for x in sdk],
           "all_sdk_post_per_s": [round(x["per_s"], 1) for x in post],
           "all_judgeanything_per_s": [round(x["per_s"], 1) for x in ours],
           # the machine's 1-minute load average around the cell (2 cores: above 2, other jobs took CPU time)
           "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    print(f"{kind:5} {latency_ms:5.0f} ms c={conc:3d} n={n:5d}: sdk {best_sdk['per_s']:6.1f}/s "
          f"{best_sdk['cpu_ms_per_unit']:.2f} ms | sdk.post {best_post['per_s']:6.1f}/s "
          f"{best_post['cpu_ms_per_unit']:.2f} ms | ja {best_ours['per_s']:6.1f}/s "
          f"{best_ours['cpu_ms_per_unit']:.2f} ms | ideal {ideal:6.0f}/s | ja/sdk {row['ratio_vs_sdk']:.2f} "
          f"ja/ideal {row['ratio_vs_ideal']:.2f} cpu ja/sdk {row['cpu_ratio_vs_sdk']:.2f} "
          f"(load {row['load_avg'][0]:.1f}→{row['load_avg'][1]:.1f})", flush=True)
    return row


def cpu_cell(kind: str, args: argparse.Namespace, base_url: str, tmp: Path) -> dict[str, Any]:
    """Marginal CPU per request: (CPU of a long run − CPU of a short run) ÷ (the difference in units), for each
    client, so that fixed costs (a run directory's files, the HTTP client's TLS context, imports) cancel out
    and what remains is the cost of one more request. Concurrency 64 against the 20 ms server."""
    small, large = 300, int(args.max_units)
    out: dict[str, Any] = {"kind": kind, "units": [small, large]}
    runs: dict[str, list[tuple[float, float]]] = {"sdk": [], "sdk_post": [], "judgeanything": []}
    for r in range(args.repeats):
        for n in (small, large):
            data = text_items(n) if kind == "text" else image_items(n, args.cache_dir)
            bodies = asyncio.run(_prebuilt_bodies(data, base_url))
            for name in runs:
                if name == "judgeanything":
                    got = asyncio.run(framework(data, 64, base_url, tmp / f"cpu-{kind}-{n}-{r}"))
                else:
                    got = asyncio.run(bare_sdk(bodies, n, 64, base_url, post=name == "sdk_post"))
                runs[name].append((n, got["cpu_ms_per_unit"] * n))
    for name, pts in runs.items():
        per = []
        for i in range(0, len(pts), 2):
            (n1, c1), (n2, c2) = pts[i], pts[i + 1]
            per.append((c2 - c1) / (n2 - n1))
        out[f"{name}_cpu_ms_per_request"] = min(per)
    out["ratio_vs_sdk"] = out["judgeanything_cpu_ms_per_request"] / out["sdk_cpu_ms_per_request"]
    out["ratio_vs_sdk_post"] = out["judgeanything_cpu_ms_per_request"] / out["sdk_post_cpu_ms_per_request"]
    print(f"marginal CPU per request, {kind}: sdk {out['sdk_cpu_ms_per_request']:.2f} ms, sdk.post "
          f"{out['sdk_post_cpu_ms_per_request']:.2f} ms, judgeanything {out['judgeanything_cpu_ms_per_request']:.2f}"
          f" ms → {out['ratio_vs_sdk']:.2f}× the SDK ({out['ratio_vs_sdk_post']:.2f}× its post floor)", flush=True)
    return out


def shards_cell(args: argparse.Namespace, base_url: str, tmp: Path) -> dict[str, Any]:
    """Two processes at c=32 each (200 ms server), each judging one shard of the text items: judgeanything
    (two ``run.shard=i/2`` runs) and, interleaved, the bare SDK's ``client.post`` floor on the same split."""
    conc_total, latency_ms = 64, 200.0
    ideal = conc_total / (latency_ms / 1000)
    n = int(min(args.max_units, ideal * args.seconds))
    ctx = mp.get_context("spawn")
    rows: dict[str, list[dict[str, Any]]] = {"judgeanything": [], "sdk.post": []}
    for r in range(args.repeats):
        for client in rows:
            jobs = [(client, n, conc_total // 2, base_url, str(tmp / f"shard{i}-{r}"), i) for i in range(2)]
            t0 = time.perf_counter()
            with ctx.Pool(2) as pool:
                parts = pool.map(_shard_proc, jobs)
            wall = time.perf_counter() - t0  # includes the processes' start-up (imports), as a user pays it
            slowest = max(p["wall_s"] for p in parts)
            units = sum(p["units"] for p in parts)
            rows[client].append({"units": units, "wall_s_runs": slowest, "wall_s_with_startup": wall,
                                 "per_s": units / slowest, "shards": parts})
    best = {c: max(x, key=lambda x: x["per_s"]) for c, x in rows.items()}
    out = {"kind": "text", "latency_ms": latency_ms, "processes": 2, "concurrency_each": conc_total // 2,
           "ideal_per_s": ideal, "best": best["judgeanything"], "best_sdk_post": best["sdk.post"],
           "ratio_vs_ideal": best["judgeanything"]["per_s"] / ideal,
           "sdk_post_ratio_vs_ideal": best["sdk.post"]["per_s"] / ideal,
           "ratio_vs_sdk_post": best["judgeanything"]["per_s"] / best["sdk.post"]["per_s"],
           "all_per_s": [round(x["per_s"], 1) for x in rows["judgeanything"]],
           "all_sdk_post_per_s": [round(x["per_s"], 1) for x in rows["sdk.post"]],
           "load_avg": round(os.getloadavg()[0], 2)}
    print(f"2 shards × c=32, 200 ms: judgeanything {best['judgeanything']['per_s']:.1f}/s "
          f"({out['ratio_vs_ideal']:.2f} of the ideal {ideal:.0f}/s), bare SDK post {best['sdk.post']['per_s']:.1f}/s "
          f"({out['sdk_post_ratio_vs_ideal']:.2f}) → ja/sdk.post {out['ratio_vs_sdk_post']:.2f} "
          f"(load {out['load_avg']:.1f})", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latencies", type=float, nargs="+", default=[200.0, 20.0])
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64, 128])
    ap.add_argument("--kinds", nargs="+", default=["text", "image"], choices=["text", "image"])
    ap.add_argument("--seconds", type=float, default=4.0, help="ideal seconds of work per cell")
    ap.add_argument("--max-units", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--shards", action="store_true", help="also the two-process cell")
    ap.add_argument("--cpu", action="store_true", help="also the marginal CPU per request (20 ms server)")
    ap.add_argument("--cache-dir", type=Path, default=None, help="where the probe suite is generated")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_throughput.json")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    rows, shard_row, cpu_rows = [], None, []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for latency in args.latencies:
            with LoopbackServer(latency / 1000) as srv:
                for kind in args.kinds:
                    for conc in args.concurrency:
                        rows.append(cell(kind, latency, conc, args, srv.base_url, tmp))
                if args.shards and latency == 200.0:
                    shard_row = shards_cell(args, srv.base_url, tmp)
                if args.cpu and latency == 20.0:
                    cpu_rows = [cpu_cell(kind, args, srv.base_url, tmp) for kind in args.kinds]
    result = {"machine": machine(openai=openai.__version__),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "cells": rows, "shards": shard_row, "cpu_per_request": cpu_rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_results(args.out, result)


if __name__ == "__main__":
    main()
