"""``judgeanything-checklists`` through the official OpenAI SDK against a loopback chat-completions server:
per-query checklists written with the query's media, cleaned (bullets, repeats, over-long points, the cap),
recorded with the judge that wrote them, written in the release's per-task layout, resumed on rerun, and
read back by ``mode=checklist``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from judgeanything.checklists_cli import generate
from judgeanything.datasets.judgeanything import JudgeAnythingDataset
from tests.integration.test_release_judgeanything import _release_args, release
from tests.support.compose import composed, run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration


def _question(body: dict[str, Any]) -> str:
    user = next(m for m in body["messages"] if m["role"] == "user")
    text = "".join(p.get("text", "") for p in user["content"]) if isinstance(user["content"], list) else user["content"]
    return re.search(r'Instruction:\n<<<DATA \w+>>>\n(.*?)\n<<<END DATA', text, re.DOTALL).group(1)


def _reply(body: dict[str, Any]) -> str:
    q = _question(body)
    if q == "Tell a story.":
        return "I cannot write checklists today."
    return "```json\n" + json.dumps({
        "Relevance": [f"1. Does it answer: {q}", f"Does it answer: {q}", "- Is it one sentence?"],
        "clarity": ["Is it one sentence?", " ".join(["word"] * 30)],
        "completeness": [f"Point {i}?" for i in range(8)],
    }) + "\n```"


def _overrides(root: Path, url: str) -> list[str]:
    return ["benchmark=judgeanything_release", f"benchmark.root={root}", "benchmark.checklist=null", "judge=openai",
            "judge.model=writer-1", f"judge.base_url={url}", "judge.max_attempts=1",
            "checklists.rubrics=[relevance,clarity,completeness]", "checklists.max_items=3"]


@pytest.mark.slow  # starts processes
def test_checklists_written_cleaned_recorded_resumed_and_read_back(tmp_path: Path) -> None:
    root = release(tmp_path / "rel")
    out = tmp_path / "checklists"
    script = Script(reply=_reply)
    with FakeServer(script) as srv:
        # the console script end to end, once; the resume in-process (the same generate())
        p = subprocess.run([sys.executable, "-m", "judgeanything.checklists_cli", *_overrides(root, srv.base_url),
                            f"hydra.run.dir={out}"], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        n_first = len(script.requests)
        generate(composed(*_overrides(root, srv.base_url), config_name="checklists"), out)
        n_second = len(script.requests) - n_first
    assert n_first == 4 and n_second == 1  # the failed query (it3) is asked again, the others resume
    images = [part for body in script.requests[:n_first] for m in body["messages"] if isinstance(m["content"], list)
              for part in m["content"] if part.get("type") == "image_url"]
    assert len(images) == 1 + 2 + 2 and all(i["image_url"]["url"].startswith("data:image/") for i in images)
    assert "3 failed" not in p.stdout and "checklists for 3 of 4 queries" in p.stdout
    log = [json.loads(s) for s in (out / "generation.jsonl").read_text().splitlines()]
    bad = [r for r in log if r["uniq_id"] == "it3"]
    assert len(bad) == 2 and all(r["failure"]["kind"] == "parse_fail" for r in bad)
    assert bad[0]["raw"] == "I cannot write checklists today."
    good = next(r for r in log if r["uniq_id"] == "it1")
    assert good["judge"]["model"] == "writer-1" and good["prompt_version"] == "v2/checklist_generate"
    assert good["checklists"] == {"relevance": ["Does it answer: What colour?", "Is it one sentence?"],
                                  "completeness": ["Point 0?", "Point 1?", "Point 2?"]}
    rows = json.loads((out / "Image2Text.json").read_text())
    assert [r["uniq_id"] for r in rows] == ["it1", "it2"]
    assert rows[0]["checklists"][0] == {"checklist": "Does it answer: What colour?", "rubric": "relevance"}
    assert rows[0]["generated_by"]["model"] == "writer-1"
    assert not (out / "checklist.json").exists() and (out / "Text2Text.json").is_file()
    # read back as the release's per-task checklists, and judged with them
    data = JudgeAnythingDataset(**{**_release_args(root), "checklist": str(out)}).load("score")
    q = {i.query.uniq_id: i.query for i in data.items}
    assert q["it2"].checklist == {"relevance": ("Does it answer: Which differs?", "Is it one sentence?"),
                                  "completeness": ("Point 0?", "Point 1?", "Point 2?")}
    assert q["it3"].checklist is None
    run = tmp_path / "run"
    run_app("benchmark=judgeanything_release", f"benchmark.root={root}", f"benchmark.checklist={out}",
            "benchmark.tasks=[Text2Text]", "setting=score", "mode=checklist", "mode.rubrics=[relevance,completeness]",
            "judge=random", f"hydra.run.dir={run}", "analysis.html=false", "analysis.plots=false",
            "analysis.bootstrap=0")
    assert (run / "verdicts.jsonl").read_text().count("\n") == 4


def test_single_file_layout(tmp_path: Path) -> None:
    root = release(tmp_path / "rel")
    out = tmp_path / "c"
    with FakeServer(Script(reply=_reply)) as srv:  # in-process: the console script is run end to end above
        generate(composed("benchmark=judgeanything_release", f"benchmark.root={root}", "benchmark.checklist=null",
                          "benchmark.tasks=[Text2Text]", "judge=openai", "judge.model=w",
                          f"judge.base_url={srv.base_url}", "checklists.layout=single",
                          "checklists.rubrics=[relevance]", config_name="checklists"), out)
    rows = json.loads((out / "checklist.json").read_text())
    assert [(r["uniq_id"], r["rubric"], r["checklists"]) for r in rows] == [
        ("tt1", "relevance", ["Does it answer: What is 2+2?", "Is it one sentence?"])]
