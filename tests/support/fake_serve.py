"""A stand-in for ``vllm serve MODEL --host H --port P`` in script tests: answers ``/health`` and
``/v1/models`` (whose ``data[0]`` carries the model, the port and the ``CUDA_VISIBLE_DEVICES`` it was given).
``--fail`` exits at once with an error, like a server that cannot load its model."""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--fail", action="store_true")
    args, rest = ap.parse_known_args()
    if args.fail:
        print(f"RuntimeError: cannot load {args.model}", flush=True)
        sys.exit(3)
    info = {"id": args.model, "port": args.port, "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"), "extra": rest}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"" if self.path == "/health" else json.dumps({"data": [info]}).encode()
            self.send_response(200 if self.path in ("/health", "/v1/models") else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
