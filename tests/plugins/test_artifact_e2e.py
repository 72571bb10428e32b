"""The artifact plugin end to end, installed as a distribution (pip --target, on PYTHONPATH of the CLI
process; the venv is not touched), with no core file naming it:

* ``benchmark=probes benchmark.families=[artifact_defects]`` judged by the smoke judge: the judge is shown
  the rendered screenshots (as timestamped frames) and the code of every artifact; the HTML report shows
  the screenshots as a strip and links the code;
* the probe baselines land at their theoretical values (``first``: P(prefer slot 1) = 1, flip rate 1;
  ``random`` inside the binomial interval of ⅓);
* ``benchmark=artifactsbench`` (found through the plugin's Hydra search-path plugin) in checklist mode:
  an answer whose artifact does not parse fails alone, as a ``media_error`` naming the reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.conftest import cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAST = ["+media.artifact.capture_times=[0.0,0.5]", "+media.artifact.width=480", "+media.artifact.height=360"]


@pytest.fixture(scope="module")
def env(artifact_plugin: Path, browser: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pp = os.pathsep.join([str(artifact_plugin), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": pp, "JUDGEANYTHING_CACHE": str(tmp_path_factory.mktemp("cache"))}


def _records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "verdicts.jsonl").read_text().splitlines()]


def test_probe_family_judged_by_the_smoke_judge_through_the_plugin(env, tmp_path: Path) -> None:
    run = tmp_path / "smoke"
    cli("benchmark.families=[artifact_defects]", "judge=smoke", "setting=pair", f"hydra.run.dir={run}",
        "analysis.bootstrap=50", *FAST, env=env, timeout=900)
    recs = _records(run)
    assert len(recs) == 4 and all(r["outcomes"][0].get("failure") is None for r in recs), recs  # 2 queries × 2 pairs
    for r in recs:
        shown = [(m["modality"], m.get("source_modality"), m.get("part")) for m in r["media"]]
        assert shown == [("video", "artifact", None), ("text", "artifact", "code")] * 2, shown
        video = r["media"][0]
        assert video["frames"] == 2 and video["capture_labels"] == ["t=0s", "t=0.5s"]
    items = [json.loads(x) for x in (run / "items.jsonl").read_text().splitlines()]
    assert {i["task_name"] for i in items} == {"Text2Artifact"}
    html = (run / "report.html").read_text()
    assert html.count('<div class="strip">') >= 8 and html.count(">code</a>") >= 8
    media = list((run / "report_media").iterdir())
    assert any(p.suffix == ".png" for p in media) and any(p.name.endswith(".html.txt") for p in media)


def test_probe_baselines_land_at_their_theoretical_values(env, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    cli("-m", "judge=random,first", "benchmark.families=[artifact_defects]", "benchmark.size=medium",
        "setting=pair", "setting.order=both", f"hydra.sweep.dir={out}", "analysis.bootstrap=50", env=env,
        timeout=600)
    runs = {json.loads((d / "run.json").read_text())["judge"]: d for d in out.iterdir() if (d / "run.json").exists()}
    df = pd.read_csv(runs["first"] / "metrics.csv", keep_default_na=False)
    pos = df[(df.group_by == "position") & (df.rubric == "overall")].set_index("metric")["value"].astype(float)
    assert pos["p_prefer_slot_1"] == 1.0 and pos["flip_rate"] == 1.0
    check = {r["metric"]: r for r in json.loads((runs["random"] / "reference_check.json").read_text())}
    assert check["accuracy_with_tie"]["expected"] == pytest.approx(1 / 3) and check["accuracy_with_tie"]["inside"]


def _artifactsbench(root: Path) -> tuple[Path, Path, Path]:
    tasks = root / "artifacts_bench.json"
    checklist = "1. The page shows a heading.\n2. The heading is blue.\n3. A button reads 'Go'."
    tasks.write_text(json.dumps([
        {"index": 1, "question": "Make a page with a blue heading and a Go button.", "checklist": checklist,
         "class": "web"},
        {"index": 2, "question": "Draw a red circle in SVG.", "checklist": "1. One red circle.", "class": "svg"},
    ]))
    good = root / "good.jsonl"
    good.write_text("\n".join(json.dumps(r) for r in [
        {"index": 1, "answer": "Here you go:\n```html\n<html><body><h1 style='color:blue'>Hi</h1>"
                               "<button>Go</button></body></html>\n```"},
        {"index": 2, "answer": "<think>circle</think><svg xmlns='http://www.w3.org/2000/svg' width='100' "
                               "height='100'><circle cx='50' cy='50' r='40' fill='red'/></svg>"},
    ]))
    broken = root / "broken.jsonl"
    broken.write_text("\n".join(json.dumps(r) for r in [
        {"index": 1, "answer": "<html><body><h1>Hi</h1><script>let x = ;</script></body></html>"},
        {"index": 2, "answer": "I cannot draw."},
    ]))
    return tasks, good, broken


def test_artifactsbench_checklist_run_fails_only_the_broken_artifact(env, tmp_path: Path) -> None:
    tasks, good, broken = _artifactsbench(tmp_path)
    run = tmp_path / "ab"
    cli("benchmark=artifactsbench", f"benchmark.tasks_file={tasks}",
        f"benchmark.answers={{good: {good}, broken: {broken}}}", f"benchmark.work_dir={tmp_path / 'work'}",
        "judge=smoke", "setting=score", "mode=checklist", "mode.rubrics=[overall]", f"hydra.run.dir={run}",
        "analysis.bootstrap=50", *FAST, env=env, timeout=900)
    recs = {r["item_id"]: r for r in _records(run)}
    assert set(recs) == {"artifactsbench::1::good", "artifactsbench::1::broken", "artifactsbench::2::good",
                         "artifactsbench::2::broken"}
    bad = recs["artifactsbench::1::broken"]["outcomes"][0]
    assert bad["failure"] == "media_error" and "render failed (syntax_error)" in bad["detail"], bad
    for iid in ("artifactsbench::1::good", "artifactsbench::2::good", "artifactsbench::2::broken"):
        assert recs[iid]["outcomes"][0].get("failure") is None and recs[iid]["outcomes"][0]["value"] in range(1, 6)
    # the svg answer was rendered (its reasoning block dropped); the answer without an artifact was shown as text
    assert recs["artifactsbench::2::good"]["media"][0]["modality"] == "video"
    assert recs["artifactsbench::2::broken"]["media"] == []
    html = (run / "report.html").read_text()
    assert "render failed (syntax_error)" in html  # the report says why the broken artifact has no strip
