#!/usr/bin/env python3
"""Start N ``vllm serve`` replicas of one judge model — one per GPU (or per group of GPUs with tensor
parallelism), each on its own port — wait until every one answers, then print the matching judge override:

    $ python scripts/serve_vllm_replicas.py Qwen/Qwen2.5-VL-7B-Instruct --gpus 0,1,2,3 --port 8000 \\
          -- --max-model-len 32768 --limit-mm-per-prompt '{"image": 4}'
    judge.base_url=[http://127.0.0.1:8000/v1,http://127.0.0.1:8001/v1,http://127.0.0.1:8002/v1,http://127.0.0.1:8003/v1]

    $ judgeanything judge=openai judge.model=Qwen/Qwen2.5-VL-7B-Instruct \\
          'judge.base_url=[http://127.0.0.1:8000/v1,...]' judge.concurrency=256

The openai judge spreads requests over the URLs (least-loaded first). The script stays in the foreground
and stops every replica on Ctrl-C / SIGTERM (or when one of them dies); ``--url-file`` also writes the
override line to a file once all replicas are up (for batch scripts that start the servers in the
background, see scripts/slurm/). Each replica logs to ``<log-dir>/replica-<i>.log``.

``--serve-cmd`` replaces ``vllm serve`` (e.g. ``"python -m sglang.launch_server --model-path"`` or
``"transformers serve"``); tensor parallelism (``--gpus-per-replica k``) adds ``--tensor-parallel-size k``
for vLLM only. Readiness: ``GET /health`` (vLLM, SGLang) or ``GET /v1/models`` answering 200.
Exit codes: 0 stopped on request, 1 a replica failed (its log tail is printed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def visible_gpus() -> list[str]:
    """GPU ids this process may use: ``$CUDA_VISIBLE_DEVICES`` when set, else ``nvidia-smi -L``'s count."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip()]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def plan(gpus: list[str], replicas: int | None, per_replica: int) -> list[list[str]]:
    """GPU groups, one per replica (``per_replica`` GPUs each).

    Raises:
        SystemExit(2): not enough GPUs for the replicas asked for.
    """
    n = replicas if replicas is not None else len(gpus) // per_replica
    if n < 1 or n * per_replica > len(gpus):
        sys.exit(f"serve_vllm_replicas: {n} replica(s) × {per_replica} GPU(s) need {max(n, 1) * per_replica} GPUs; "
                 f"{len(gpus)} visible ({','.join(gpus) or 'none'}); pass --gpus or --replicas")
    return [gpus[i * per_replica:(i + 1) * per_replica] for i in range(n)]


def ready(url: str) -> bool:
    for path in ("/health", "/v1/models"):
        try:
            with urllib.request.urlopen(url + path, timeout=5) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError, ValueError):
            continue
    return False


def tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def stop(procs: list[subprocess.Popen[bytes]], grace_s: float = 30.0) -> None:
    """SIGTERM every replica's process group, then SIGKILL what is left after ``grace_s``."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace_s
    for p in procs:
        try:
            p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="the model to serve (a Hub id or a local folder)")
    ap.add_argument("--gpus", default=None, help="GPU ids to use, comma-separated (default: all visible)")
    ap.add_argument("--replicas", type=int, default=None, help="how many replicas (default: GPUs ÷ per replica)")
    ap.add_argument("--gpus-per-replica", type=int, default=1, help="tensor-parallel GPUs per replica")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: reachable from other nodes)")
    ap.add_argument("--advertise-host", default=None, help="host name in the printed URLs (default: --host, or "
                    "this node's name when --host is 0.0.0.0)")
    ap.add_argument("--port", type=int, default=8000, help="first port; replica i listens on port + i")
    ap.add_argument("--serve-cmd", default="vllm serve", help="the server command, given the model then --host/--port")
    ap.add_argument("--log-dir", type=Path, default=Path("logs/vllm"))
    ap.add_argument("--wait-timeout", type=float, default=1800.0, help="seconds to wait for all replicas")
    ap.add_argument("--url-file", type=Path, default=None, help="also write the judge.base_url override here")
    return ap


def _start(args: argparse.Namespace, groups: list[list[str]], extra: list[str],
           procs: list[subprocess.Popen[bytes]]) -> list[str]:
    """Start one server per GPU group (appended to ``procs`` as they start); returns their URLs."""
    cmd = shlex.split(args.serve_cmd)
    is_vllm = cmd[:2] == ["vllm", "serve"]
    host = args.advertise_host or (os.uname().nodename if args.host == "0.0.0.0" else args.host)
    urls: list[str] = []
    for i, group in enumerate(groups):
        port = args.port + i
        tp = ["--tensor-parallel-size", str(len(group))] if is_vllm and len(group) > 1 else []
        full = [*cmd, args.model, "--host", args.host, "--port", str(port), *tp, *extra]
        log = (args.log_dir / f"replica-{i}.log").open("wb")
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ",".join(group)}
        print(f"replica {i}: GPUs {','.join(group)} port {port}: {shlex.join(full)}", file=sys.stderr)
        procs.append(subprocess.Popen(full, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        urls.append(f"http://{host}:{port}/v1")
    return urls


def _wait_ready(args: argparse.Namespace, procs: list[subprocess.Popen[bytes]]) -> bool:
    """Poll every replica's health endpoint until all answer; False (reason printed) if one exits first or
    the wait times out."""
    deadline = time.monotonic() + args.wait_timeout
    pending = set(range(len(procs)))
    local = args.host if args.host != "0.0.0.0" else "127.0.0.1"
    while pending:
        for i in sorted(pending):
            if procs[i].poll() is not None:
                print(f"replica {i} exited with {procs[i].returncode} before it was ready; its log:\n"
                      f"{tail(args.log_dir / f'replica-{i}.log')}", file=sys.stderr)
                return False
            if ready(f"http://{local}:{args.port + i}"):
                pending.discard(i)
                print(f"replica {i} ready", file=sys.stderr)
        if pending and time.monotonic() > deadline:
            print(f"replicas {sorted(pending)} not ready after {args.wait_timeout:.0f} s; see {args.log_dir}",
                  file=sys.stderr)
            return False
        if pending:
            time.sleep(1.0)  # polling a server's health endpoint: nothing to wait on but time
    return True


def _announce(urls: list[str], url_file: Path | None) -> None:
    """Print the ``judge.base_url`` override (and write it to ``url_file`` atomically)."""
    line = f"judge.base_url=[{','.join(urls)}]"
    if url_file is not None:
        tmp = url_file.with_suffix(url_file.suffix + ".tmp")
        tmp.write_text(line + "\n")
        tmp.replace(url_file)
    print(line, flush=True)


def _serve(args: argparse.Namespace, procs: list[subprocess.Popen[bytes]]) -> int:
    """Serve until stopped, or until a replica dies (1, its log printed)."""
    while True:
        for i, p in enumerate(procs):
            if p.poll() is not None:
                print(f"replica {i} exited with {p.returncode}; stopping the others. Its log:\n"
                      f"{tail(args.log_dir / f'replica-{i}.log')}", file=sys.stderr)
                return 1
        time.sleep(2.0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = _parser()
    args = ap.parse_args(argv)
    if args.gpus_per_replica < 1:
        ap.error("--gpus-per-replica must be >= 1")
    gpus = [g.strip() for g in args.gpus.split(",") if g.strip()] if args.gpus is not None else visible_gpus()
    groups = plan(gpus, args.replicas, args.gpus_per_replica)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGTERM, _interrupt)  # a batch system's stop: the same clean shutdown as Ctrl-C
    try:
        urls = _start(args, groups, extra, procs)
        if not _wait_ready(args, procs):
            return 1
        _announce(urls, args.url_file)
        return _serve(args, procs)
    except KeyboardInterrupt:
        return 0
    finally:
        stop(procs)
        if args.url_file is not None:
            args.url_file.unlink(missing_ok=True)  # the URLs are no longer served


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
