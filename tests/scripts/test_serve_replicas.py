"""scripts/serve_vllm_replicas.py with a stand-in server command (vLLM needs CUDA): one replica per GPU
group on consecutive ports, the printed judge.base_url override, clean shutdown, a failing replica."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.loopback import free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "serve_vllm_replicas.py"
FAKE = f"{sys.executable} {REPO / 'tests' / 'support' / 'fake_serve.py'}"

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="process groups"),
              pytest.mark.slow]  # starts server processes


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(SCRIPT), "--log-dir", str(tmp_path / "logs"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)


def _port_pair() -> int:
    for _ in range(20):
        p = free_port()
        try:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports")


def test_two_replicas_one_gpu_each_then_a_clean_stop(tmp_path):
    port = _port_pair()
    proc = _start(tmp_path, "tiny/judge", "--gpus", "2,5", "--port", str(port), "--serve-cmd", FAKE,
                  "--url-file", str(tmp_path / "urls.txt"), "--", "--max-model-len", "4096")
    try:
        line = proc.stdout.readline().strip()  # printed once every replica answers
        urls = [f"http://127.0.0.1:{port}/v1", f"http://127.0.0.1:{port + 1}/v1"]
        assert line == f"judge.base_url=[{','.join(urls)}]"
        assert (tmp_path / "urls.txt").read_text().strip() == line
        seen = []
        for u in urls:
            with urllib.request.urlopen(u + "/models", timeout=5) as r:
                seen.append(json.loads(r.read())["data"][0])
        assert [s["gpus"] for s in seen] == ["2", "5"] and [s["port"] for s in seen] == [port, port + 1]
        assert all(s["id"] == "tiny/judge" and s["extra"] == ["--max-model-len", "4096"] for s in seen), seen
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
    assert rc == 0
    assert not (tmp_path / "urls.txt").exists()  # no stale URLs once the servers are gone
    for u in urls:
        with pytest.raises(OSError):
            urllib.request.urlopen(u + "/models", timeout=2)


def test_tensor_parallel_groups_and_too_few_gpus(tmp_path):
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("serve_vllm_replicas", SCRIPT)
    mod = module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.plan(["0", "1", "2", "3"], None, 2) == [["0", "1"], ["2", "3"]]
    assert mod.plan(["0", "1", "2", "3"], 3, 1) == [["0"], ["1"], ["2"]]
    with pytest.raises(SystemExit, match="need 6 GPUs; 4 visible"):
        mod.plan(["0", "1", "2", "3"], 3, 2)


def test_a_replica_that_cannot_start_stops_the_script_with_its_log(tmp_path):
    proc = _start(tmp_path, "tiny/judge", "--gpus", "0", "--port", str(free_port()), "--serve-cmd", FAKE,
                  "--", "--fail")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and out == ""
    assert "replica 0 exited with 3 before it was ready" in err and "cannot load tiny/judge" in err


def test_slurm_examples_are_valid_bash_and_their_launcher_preset_composes():
    for f in sorted((REPO / "scripts" / "slurm").iterdir()):
        subprocess.run(["bash", "-n", str(f)], check=True)
    cfg = subprocess.run([str(Path(sys.executable).parent / "judgeanything"), "hydra/launcher=slurm",
                          "hydra.launcher.partition=gpu", "--cfg", "hydra", "-p", "hydra.launcher"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert "SlurmLauncher" in cfg and "partition: gpu" in cfg and "max_num_timeout: 3" in cfg
