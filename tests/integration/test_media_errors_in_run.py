"""Missing, empty, corrupt and truncated media, and a path escaping the data root: each item is recorded as a
``media_error`` naming its file, and the run goes on with the others."""

from __future__ import annotations

import json

import pytest

from tests.support.compose import run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration


def test_broken_media_become_media_errors_and_the_run_goes_on(tmp_path, tiny_pair_benchmark):
    f, media, n = tiny_pair_benchmark
    img = media / "image"
    originals = {i: (img / f"{i}.png").read_bytes() for i in (1, 2, 3, 4)}
    (img / "1.png").write_bytes(b"")                                     # empty
    (img / "2.png").write_bytes(b"garbage" * 20)                       # corrupt (not an image at all)
    (img / "3.png").unlink()                                            # missing
    data4 = (img / "4.png").read_bytes()
    (img / "4.png").write_bytes(data4[: len(data4) // 2])                # truncated
    (tmp_path / "outside.png").write_bytes((img / "5.png").read_bytes())
    rows = [json.loads(x) for x in f.read_text().splitlines()]
    rows[5]["image_path"] = "../outside.png"                            # escapes the data root
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = tmp_path / "run"
    with FakeServer(Script(reply='{"overall_comment": "ok", "overall_choice": "2"}')) as srv:
        run_app("benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}", "judge=openai",
                "judge.model=fake", f"judge.base_url={srv.base_url}", "judge.response_format=none",
                "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20", f"hydra.run.dir={run}")
    recs = {r["item_id"]: r for r in map(json.loads, (run / "verdicts.jsonl").read_text().splitlines())}
    assert len(recs) == n
    reasons = {1: "empty file", 2: "not a decodable image", 3: "file not found", 4: "truncated",
               5: "escapes the data root"}
    for i, reason in reasons.items():
        (o,) = recs[f"mllmj-pair::{100 + i}"]["outcomes"]
        assert o["failure"] == "media_error", o
        assert reason in o["detail"] and ("outside.png" if i == 5 else f"{i}.png") in o["detail"], o["detail"]
    ok = [r for k, r in recs.items() if int(k.split("::")[1]) - 100 not in reasons]
    assert len(ok) == n - len(reasons) and all(r["outcomes"][0]["value"] == "second" for r in ok)
    assert len(srv.script.requests) == n - len(reasons)  # broken items never reached the judge
    metrics = json.loads((run / "metrics.json").read_text())
    assert json.dumps(metrics).count("media_error") >= 1

    # the files fixed, a rerun asked to retry media errors judges exactly those units again (the README's command)
    for i, data in originals.items():
        (img / f"{i}.png").write_bytes(data)
    with FakeServer(Script(reply='{"overall_comment": "ok", "overall_choice": "2"}')) as srv:
        run_app("benchmark=mllm_judge", f"benchmark.pair_file={f}", f"benchmark.data_dir={media}", "judge=openai",
                "judge.model=fake", f"judge.base_url={srv.base_url}", "judge.response_format=none",
                "run.retry_failures=[api_error,media_error]",
                "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=20", f"hydra.run.dir={run}")
    assert len(srv.script.requests) == 4  # the four fixed files; the escaping path is refused again, unsent
    latest = {r["item_id"]: r for r in map(json.loads, (run / "verdicts.jsonl").read_text().splitlines())}
    for i in (1, 2, 3, 4):
        (o,) = latest[f"mllmj-pair::{100 + i}"]["outcomes"]
        assert o == {**o, "value": "second"} and latest[f"mllmj-pair::{100 + i}"]["attempt"] == 1
    assert latest["mllmj-pair::105"]["outcomes"][0]["failure"] == "media_error"
