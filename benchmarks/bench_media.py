"""Benchmark: what sampling and caching save when media are decoded for judging.

Generates a 10 s 320x240 H.264 clip at 25 fps (250 frames) with an AAC track using imageio-ffmpeg's
ffmpeg, then measures in one process (median of ``--repeats`` runs each, wall clock):

1. decoding 8 frames chosen by timestamp with decord (open + ``get_batch`` of 8 indices) vs decoding
   every frame of the clip (open + ``get_batch`` of all 250), and our full ``VideoEncoder.encode``
   (header probe, timestamp sampling, resize, no audio) for reference;
2. one query's input (that clip with its audio track, default video options) encoded for each of its 4
   responses' units: a fresh decode per unit (no cache) vs :class:`MediaCache` (decoded once, then 3
   hits).

Writes ``benchmarks/results/bench_media.json`` and prints it. Usage::

    python benchmarks/bench_media.py [--repeats 5] [--seconds 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import decord
import imageio_ffmpeg
import numpy as np
from _machine import machine, write_results

from judgeanything.modalities import MediaCache, get_encoder
from judgeanything.schema import MediaRef


def make_clip(path: Path, seconds: float) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-y",
           "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i",
           "sine=frequency=330:sample_rate=44100", "-t", str(seconds), "-c:v", "libx264", "-pix_fmt",
           "yuv420p", "-c:a", "aac", str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_media.json")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clip = root / "clip.mp4"
        make_clip(clip, args.seconds)
        n = len(decord.VideoReader(str(clip)))
        idx8 = [int(i) for i in np.linspace(0, n - 1, 8).round()]

        def sample8() -> np.ndarray:
            return decord.VideoReader(str(clip), ctx=decord.cpu(0), num_threads=1).get_batch(idx8).asnumpy()

        def every() -> np.ndarray:
            vr = decord.VideoReader(str(clip), ctx=decord.cpu(0), num_threads=1)
            return vr.get_batch(list(range(len(vr)))).asnumpy()

        enc8 = get_encoder("video", num_frames=8, include_audio=False)
        ref = MediaRef("video", path="clip.mp4")
        assert sample8().shape[0] == 8 and every().shape[0] == n  # warm up (and check) both paths
        t_sample8 = median_time(sample8, args.repeats)
        t_every = median_time(every, args.repeats)
        t_encoder8 = median_time(lambda: enc8.encode(ref, root), args.repeats)

        full = get_encoder("video")  # default options: 8 frames, max_side 448, audio track at 16 kHz

        def uncached() -> None:
            for _ in range(4):
                full.encode(ref, root, "query")

        def cached() -> MediaCache:
            cache = MediaCache(root)
            for _ in range(4):
                cache.encode(ref, "query")
            assert (cache.misses, cache.hits) == (1, 3)
            return cache

        uncached()
        t_uncached = median_time(uncached, args.repeats)
        t_cached = median_time(cached, args.repeats)

    res = {
        "benchmark": "media",
        "clip": {"seconds": args.seconds, "frames": n, "size": "320x240", "fps": 25, "audio": "aac 44.1 kHz"},
        "repeats": args.repeats,
        "decord_8_frames_s": round(t_sample8, 5),
        "decord_every_frame_s": round(t_every, 5),
        "video_encoder_8_frames_s": round(t_encoder8, 5),
        "ratio_every_frame_vs_8_frames": round(t_every / t_sample8, 2),
        "ratio_every_frame_vs_video_encoder": round(t_every / t_encoder8, 2),
        "query_input_4_units_uncached_s": round(t_uncached, 5),
        "query_input_4_units_cached_s": round(t_cached, 5),
        "ratio_uncached_vs_cached": round(t_uncached / t_cached, 2),
        "machine": machine(decord=decord.__version__),
    }
    write_results(args.out, res, indent=1)


if __name__ == "__main__":
    main()
