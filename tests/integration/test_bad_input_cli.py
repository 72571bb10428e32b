"""Bad input stops the CLI with one clear line naming the file / row / field (exit code 2, no traceback),
and nothing already judged is lost. The message of each case is checked in-process (Hydra's compose API,
``tests/support/compose.py``); the console behaviour once through the real CLI."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import cli
from tests.support.compose import config_error

pytestmark = pytest.mark.integration


def _fail(*args: str) -> str:
    p = cli(*args, "analysis.html=false", "analysis.plots=false", check=False)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    return p.stderr


@pytest.mark.slow  # starts processes
def test_malformed_jsonl_line(tmp_path, tiny_pair_benchmark):
    f, _media, _ = tiny_pair_benchmark
    lines = f.read_text().splitlines()
    lines[2] = lines[2][:40]
    f.write_text("\n".join(lines) + "\n")
    err = _fail("benchmark=mllm_judge", f"benchmark.pair_file={f}", "judge=replay", f"hydra.run.dir={tmp_path / 'r'}")
    assert str(f) in err and "row 3" in err


def test_missing_field_and_label_out_of_range(tmp_path, tiny_pair_benchmark):
    f, _, _ = tiny_pair_benchmark
    rows = [json.loads(x) for x in f.read_text().splitlines()]
    del rows[4]["instruction"]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    err = config_error(tmp_path / "a", "benchmark=mllm_judge", f"benchmark.pair_file={f}", "judge=replay")
    assert "row 5" in err and "instruction" in err
    rows[4]["instruction"] = "x"
    rows[6]["human_answer"] = "E"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    err = config_error(tmp_path / "b", "benchmark=mllm_judge", f"benchmark.pair_file={f}", "judge=replay")
    assert "row 7" in err and "human_answer" in err


def test_unknown_task_type(tmp_path, shared_dir):
    ja = shared_dir / "data" / "judgeanything"
    err = config_error(tmp_path / "r", "benchmark=judgeanything", "benchmark.tasks=[Text2Smell]",
                       f"benchmark.task_anything={ja / 'TaskAnything.json'}",
                       f"benchmark.judge_anything={ja / 'JudgeAnything.json'}", "judge=random")
    assert "Text2Smell" in err


def test_checklist_mode_without_checklists_names_the_item(tmp_path, tiny_pair_benchmark):
    f, _media, _ = tiny_pair_benchmark
    err = config_error(tmp_path / "r", "benchmark=mllm_judge", f"benchmark.pair_file={f}", "judge=random",
                       "mode=checklist", "analysis.html=false", "analysis.plots=false")
    assert "mllmj-pair::100" in err and "checklist" in err
