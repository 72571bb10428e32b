"""Sharding one run (run.shard=i/n) and judgeanything-merge: two shards run at the same time (sharing one
judge cache) merge into a run equal to the unsharded one — verdict set, metrics.csv and the metrics that
matter; the merge refuses missing, overlapping, foreign and unfinished shards."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from judgeanything.merge_cli import main as merge_main
from tests.integration.conftest import BIN, popen_cli
from tests.support.compose import config_error, run_app

pytestmark = pytest.mark.integration

ARGS = ["judge=random", "setting=pair", "setting.order=both", "run.limit=16", "analysis.bootstrap=50",
        "analysis.html=false", "analysis.plots=false", "run.progress=false"]


def _verdict_set(run: Path) -> set[str]:
    recs = [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]
    return {json.dumps({k: r[k] for k in ("key", "item_id", "order", "repeat", "outcomes")}, sort_keys=True)
            for r in recs}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shards")
    run_app(*ARGS, f"hydra.run.dir={tmp / 'whole'}")
    # the two shards as separate processes at the same time, as a cluster runs them
    procs = [popen_cli(*ARGS, f"run.shard={i}/2", f"hydra.run.dir={tmp / f'shard{i}'}") for i in range(2)]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out
    return tmp


@pytest.mark.slow  # starts processes
def test_two_shards_merged_equal_the_unsharded_run(runs, capsys):
    s0, s1 = (json.loads((runs / f"shard{i}" / "run.json").read_text()) for i in range(2))
    assert s0["shard"]["count"] == 2 and s0["shard"]["n_items_total"] == 16
    assert s0["n_items"] + s1["n_items"] == 16 and min(s0["n_items"], s1["n_items"]) > 0
    # the judgeanything-merge console script end to end (the refusals below call its main in-process)
    p = subprocess.run([str(BIN / "judgeanything-merge"), str(runs / "shard0"), str(runs / "shard1"), "--out",
                        str(runs / "merged")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    merged, whole = runs / "merged", runs / "whole"
    assert _verdict_set(merged) == _verdict_set(whole)
    items = [json.loads(x)["item_id"] for x in (merged / "items.jsonl").read_text().splitlines()]
    assert items == [json.loads(x)["item_id"] for x in (whole / "items.jsonl").read_text().splitlines()]
    a = pd.read_csv(merged / "metrics.csv", keep_default_na=False)
    b = pd.read_csv(whole / "metrics.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(a, b)
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (merged, whole))
    assert ma["settings"] == mb["settings"]
    run = json.loads((merged / "run.json").read_text())
    assert "shard" not in run and "shard" not in run["identity"] and run["n_items"] == 16
    assert [m["shard"] for m in run["merged_from"]] == ["0/2", "1/2"]


def _refused(*args: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert merge_main([*args]) == 2
    return capsys.readouterr().err


@pytest.mark.slow  # starts processes
def test_the_merge_refuses_missing_overlapping_foreign_and_unfinished_shards(runs, tmp_path, capsys):
    s0, s1 = str(runs / "shard0"), str(runs / "shard1")
    assert "missing shard(s) 1/2" in _refused(s0, "--out", str(tmp_path / "m"), capsys=capsys)
    assert "shard 0/2 is given twice" in _refused(s0, s0, s1, "--out", str(tmp_path / "m"), capsys=capsys)
    assert "not a shard run" in _refused(s0, str(runs / "whole"), "--out", str(tmp_path / "m"), capsys=capsys)
    # a shard of another run (another judge): different identities
    run_app(*ARGS, "judge=first", "run.shard=1/2", f"hydra.run.dir={tmp_path / 'first1'}")
    err = _refused(s0, str(tmp_path / "first1"), "--out", str(tmp_path / "m"), capsys=capsys)
    assert "shards of different runs (differ in: judge)" in err
    # a shard cut off before it finished
    cut = tmp_path / "cut1"
    subprocess.run(["cp", "-r", s1, str(cut)], check=True)
    lines = (cut / "verdicts.jsonl").read_text().splitlines()
    (cut / "verdicts.jsonl").write_text("\n".join(lines[:-2]) + "\n")
    assert "is unfinished" in _refused(s0, str(cut), "--out", str(tmp_path / "m"), capsys=capsys)
    # a malformed record: refused before merging, naming the file, line and field
    broken = tmp_path / "broken1"
    subprocess.run(["cp", "-r", s1, str(broken)], check=True)
    recs = [json.loads(x) for x in (broken / "verdicts.jsonl").read_text().splitlines()]
    recs[1]["repeat"] = -1
    (broken / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    err = _refused(s0, str(broken), "--out", str(tmp_path / "m"), capsys=capsys)
    assert "unreadable verdicts.jsonl" in err and "row 2" in err and "field 'repeat'" in err
    # an item planted in the wrong shard
    bad = tmp_path / "bad1"
    subprocess.run(["cp", "-r", s1, str(bad)], check=True)
    extra = (runs / "shard0" / "items.jsonl").read_text().splitlines()[0]
    (bad / "items.jsonl").write_text((bad / "items.jsonl").read_text() + extra + "\n")
    run = json.loads((bad / "run.json").read_text())
    run["shard"]["positions"].append(0)
    (bad / "run.json").write_text(json.dumps(run))
    assert "overlapping shards: item" in _refused(s0, str(bad), "--out", str(tmp_path / "m"), capsys=capsys)
    assert not (tmp_path / "m").exists()  # nothing written by a refused merge


def test_bad_shard_specs_are_config_errors_naming_the_option(tmp_path):
    assert "run.shard='2/2'" in config_error(tmp_path / "x", *ARGS, "run.shard=2/2")
