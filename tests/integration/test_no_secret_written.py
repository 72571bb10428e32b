"""No credential reaches a file or the console: secrets planted every way a user can pass one — the key variable,
URL userinfo, a ``?api_key=`` query string, ``extra_body`` and headers inside it, a key pasted into
``judge.api_key_env``, and a server that echoes the ``Authorization`` header into its completion — through a
single run, a ``-m`` sweep and a failing run against a loopback OpenAI-compatible server; then every file
written (run and sweep directories, Hydra's files, logs, caches under the test's HOME / XDG cache) and the
captured stdout / stderr are searched for each secret."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import BIN
from tests.support.fake_openai import FakeServer, Script

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # the console script, a sweep included

ENV_KEY = "sk-test-ENVKEY0123456789abcdef"
USERINFO_PASSWORD = "UserinfoPass4821"
QUERY_KEY = "QueryKey7731xyzw"
BODY_KEY = "BodyKey5512qrst"
HEADER_TOKEN = "HeaderTok9043mnop"
NESTED_PASSWORD = "NestedPw3390uvwx"
PASTED_KEY = "sk-pasted-PASTEDKEY556677889900"


def _secrets() -> dict[str, str]:
    basic = base64.b64encode(f"judge:{USERINFO_PASSWORD}".encode()).decode()
    return {"env key": ENV_KEY, "userinfo password": USERINFO_PASSWORD, "userinfo as Basic auth": basic,
            "query key": QUERY_KEY, "extra_body key": BODY_KEY, "header token": HEADER_TOKEN,
            "nested password": NESTED_PASSWORD, "key pasted into api_key_env": PASTED_KEY}


def _run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "judgeanything"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_no_secret_reaches_any_file_or_the_console(tmp_path: Path, tiny_pair_benchmark) -> None:
    f, media, _ = tiny_pair_benchmark
    home, xdg = tmp_path / "home", tmp_path / "xdg-cache"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(xdg), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1",
               OPENAI_API_KEY=ENV_KEY)
    env.pop("JUDGEANYTHING_CACHE_DIR", None)
    extra_body = (f"+judge.extra_body={{api_key: {BODY_KEY}, metadata: {{headers: {{X-Api-Key: {HEADER_TOKEN}}},"
                  f" db: {{password: {NESTED_PASSWORD}}}}}}}")
    common = ["benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}", "judge=openai",
              "judge.model=fake", "judge.response_format=none", "judge.max_attempts=1", "run.limit=4",
              "analysis.bootstrap=20", "analysis.plots=false", extra_body]
    reply = '{"overall_comment": "ok", "overall_choice": "2"}'
    with FakeServer(Script(reply=reply, echo_header="Authorization")) as srv:
        plain = srv.base_url
        with_userinfo = plain.replace("http://", f"http://judge:{USERINFO_PASSWORD}@")
        with_query = f"{plain}?api_key={QUERY_KEY}"
        single = _run(tmp_path, env, *common, f"judge.base_url={plain}", "hydra.run.dir=single")
        # the sweep asks the server again (cache.mode=off): its Basic-auth echo and 404s are paths of their own
        sweep = _run(tmp_path, env, "-m", *common, f"judge.base_url='{with_userinfo}','{with_query}'",
                     "cache.mode=off", "hydra.sweep.dir=sweep", "hydra.output_subdir=.hydra")
        n_requests = len(srv.script.requests)
    # cache.mode=off: the answers cached by the runs above would otherwise spare this run the key it lacks
    pasted = _run(tmp_path, env, *common, "judge.base_url=http://judge.invalid:9/v1", f"judge.api_key_env={PASTED_KEY}",
                  "cache.mode=off", "hydra.run.dir=pasted")
    assert single.returncode == 0, single.stderr
    assert sweep.returncode == 0, sweep.stderr
    assert pasted.returncode == 2 and "is not a variable name" in pasted.stderr, pasted.stderr
    # the runs did what they claim: the server answered, and echoed the key it was sent into the raw output
    assert n_requests >= 8  # the single run and the userinfo job (the ?api_key= URL is a 404 route: api_errors)
    assert '"failure": "api_error"' in next((tmp_path / "sweep").glob("1-*/verdicts.jsonl")).read_text()
    assert "you sent Authorization: Bearer ***" in (tmp_path / "single" / "verdicts.jsonl").read_text()
    # ... and the secrets were planted where they would land: masked there now
    assert '"api_key": "***"' in (tmp_path / "single" / "run.json").read_text()
    multirun = (tmp_path / "sweep" / "multirun.yaml").read_text()
    assert "http://***@127.0.0.1" in multirun and "?api_key=***" in multirun and "api_key: ***" in multirun
    assert list((tmp_path / "sweep").glob("*/.hydra/*.yaml"))
    assert any(p.name.endswith(".log") for p in tmp_path.rglob("*"))
    assert any(p.is_file() for p in (xdg / "judgeanything").rglob("*"))  # the judge cache was written, and is searched
    written = [p for p in tmp_path.rglob("*") if p.is_file()]  # every file, hidden and binary ones too
    assert len(written) > 40
    leaks = [(name, str(p.relative_to(tmp_path))) for p in written for name, s in _secrets().items()
             if s.encode() in p.read_bytes()]
    for label, proc in (("single", single), ("sweep", sweep), ("pasted", pasted)):
        leaks += [(name, f"{label} {stream}") for name, s in _secrets().items()
                  for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)) if s in text]
    assert leaks == []


SERVICE_TOKEN = "SvcTok7781abcdWXYZ"      # an environment variable of another service, echoed by the model
JUDGE_KEY = "JudgeKey4410efghIJKL"        # the judge's key (a variable named by judge.api_key_env)
FRAGMENT_TOKEN = "FragTok2297ijklMNOP"    # an OAuth-style token in the base URL's fragment
DOTTED_KEY = "DottedKey8812mnopQRST"      # +judge.extra_body.x_api_key=… (a dotted override, not a dict)
GROQ_SHAPED = "gsk_" + "Q" * 12 + "groqshape0123456789"  # a provider key under a harmless extra_body key


def test_other_secret_paths_never_reach_a_file_or_the_console(tmp_path: Path, tiny_pair_benchmark) -> None:
    """Secrets planted in ways the test above does not: a variable of another service (``MY_SERVICE_TOKEN``)
    that the model writes into its answer, a 401 whose error message quotes the ``Authorization`` header sent,
    a token in the base URL's fragment, a dotted ``extra_body`` override and a provider-shaped key under a
    harmless key."""
    f, media, _ = tiny_pair_benchmark
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(tmp_path / "xdg"), HF_HUB_OFFLINE="1",
               MY_SERVICE_TOKEN=SERVICE_TOKEN, RT_JUDGE_KEY=JUDGE_KEY)
    env.pop("JUDGEANYTHING_CACHE_DIR", None)
    reply = json.dumps({"overall_comment": f"my token is {SERVICE_TOKEN}", "overall_choice": "2"})
    script = Script(reply=reply, statuses=[401], error_message=lambda h: f"bad key: {h.get('authorization')}")
    with FakeServer(script) as srv:
        proc = _run(tmp_path, env, "benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}",
                    "judge=openai", "judge.model=fake", "judge.response_format=none", "judge.max_attempts=1",
                    "judge.api_key_env=RT_JUDGE_KEY", "run.limit=3", "analysis.bootstrap=20", "analysis.plots=false",
                    f"judge.base_url='{srv.base_url}#access_token={FRAGMENT_TOKEN}'",
                    f"+judge.extra_body.x_api_key={DOTTED_KEY}", f"+judge.extra_body.user={GROQ_SHAPED}",
                    "hydra.run.dir=run")
        sent = list(srv.script.requests)
    assert proc.returncode == 0, proc.stderr
    # the planted values did travel: the server got requests carrying them, and its 401 became an api_error
    assert len(sent) >= 3 and sent[0]["x_api_key"] == DOTTED_KEY and sent[0]["user"] == GROQ_SHAPED
    verdicts = (tmp_path / "run" / "verdicts.jsonl").read_text()
    assert '"api_error"' in verdicts and "bad key: Bearer ***" in verdicts and "my token is ***" in verdicts
    secrets = {"service token": SERVICE_TOKEN, "judge key": JUDGE_KEY, "fragment token": FRAGMENT_TOKEN,
               "dotted extra_body key": DOTTED_KEY, "provider-shaped key": GROQ_SHAPED}
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in written) and any(p.name.endswith(".log") for p in written)
    assert not (tmp_path / "run" / ".hydra").exists()  # no Hydra copy of the overrides unless asked for
    leaks = [(name, str(p.relative_to(tmp_path))) for p in written for name, s in secrets.items()
             if s.encode() in p.read_bytes()]
    leaks += [(name, stream) for name, s in secrets.items()
              for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)) if s in text]
    assert leaks == []
