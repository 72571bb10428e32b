"""Score scales from config (``setting.scale``: 1–10, 0–100, named levels) carried through the prompt, the
official OpenAI SDK against a loopback server, parsing, the run record and the agreement metrics (judge
scores mapped onto the human labels' 1–5 scale)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats

from judgeanything.judges.token_verdicts import candidates_for, read_verdict
from judgeanything.prompts import build_prompt, render_answer
from judgeanything.schema import Query, Response, SchemaError, ScoreItem, ScoreScale
from tests.support.compose import composed, config_error, run_app
from tests.support.fake_openai import FakeServer, Script

pytestmark = pytest.mark.integration

HUMAN = [1, 2, 3, 4, 5, 5, 4, 2, 3, 1]
NAMED = ["poor", "fair", "good", "excellent"]


def _files(tmp: Path) -> tuple[Path, Path]:
    img = tmp / "media" / "image"
    img.mkdir(parents=True)
    rows = []
    for i, h in enumerate(HUMAN):
        Image.new("RGB", (8, 8), (20 * i, 0, 0)).save(img / f"{i}.png")
        rows.append({"score_id": i, "name": "m", "answer": f"quality marker q{h}", "id": i,
                     "instruction": f"Describe image {i}.", "image_path": f"image/{i}.png",
                     "original_dataset": "synthetic", "human_answer": str(h)})
    f = tmp / "Score.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f, tmp / "media"


def _reply(judge_of: Any) -> Any:
    def reply(body: dict[str, Any]) -> str:
        text = json.dumps(body["messages"])
        h = int(re.search(r"quality marker q(\d)", text).group(1))
        return json.dumps({"overall_comment": "ok", "overall_score": judge_of(h, text)})
    return reply


def _run(tmp: Path, scale: str, reply: Any) -> tuple[Path, Script]:
    f, media = _files(tmp)
    script = Script(reply=reply)
    run = tmp / "run"
    with FakeServer(script) as srv:
        run_app("benchmark=mllm_judge", "setting=score", f"setting.scale={scale}", f"benchmark.score_file={f}",
                f"benchmark.data_dir={media}", "judge=openai", "judge.model=m", f"judge.base_url={srv.base_url}",
                f"hydra.run.dir={run}", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=50")
    return run, script


def _pooled(run: Path, metric: str) -> float:
    df = pd.read_csv(run / "metrics.csv", keep_default_na=False)
    r = df[(df.group_by == "pooled") & (df.rubric == "overall") & (df.metric == metric)]
    return float(r.value.iloc[0])


def test_one_to_ten_scale_prompted_parsed_and_mapped_onto_the_labels(tmp_path: Path) -> None:
    judge = [2 * h if h % 2 else 2 * h - 1 for h in HUMAN]  # 1→2, 2→3, 3→6, 4→7, 5→10
    run, script = _run(tmp_path, "1-10", _reply(lambda h, _t: 2 * h if h % 2 else 2 * h - 1))
    prompt = json.dumps(script.requests[0]["messages"])
    assert "on a scale from 1 (worst) to 10 (best)" in prompt and "an integer from 1 to 10" in prompt
    schema = script.requests[0].get("response_format", {})
    assert schema.get("type") in ("json_object", "json_schema", None)
    log = [json.loads(s) for s in (run / "verdicts.jsonl").read_text().splitlines()]
    values = {r["item_id"]: r["outcomes"][0]["value"] for r in log}
    assert [values[f"mllmj-score::{i}"] for i in range(len(HUMAN))] == judge
    rj = json.loads((run / "run.json").read_text())
    assert rj["score_scale"] == {"min": 1, "max": 10, "labels": []} and rj["label_scale"]["max"] == 5
    mapped = np.array([1 + (j - 1) * 4 / 9 for j in judge])
    assert _pooled(run, "pearson") == pytest.approx(stats.pearsonr(judge, HUMAN).statistic)
    assert _pooled(run, "mae") == pytest.approx(np.mean(np.abs(mapped - HUMAN)))
    assert _pooled(run, "offset") == pytest.approx(np.mean(mapped - HUMAN))


def test_named_levels_are_asked_for_by_name_and_read_as_their_rank(tmp_path: Path) -> None:
    run, script = _run(tmp_path, "[poor,fair,good,excellent]", _reply(lambda h, _t: NAMED[min(h, 4) - 1]))
    prompt = json.dumps(script.requests[0]["messages"])
    assert 'one of \\"poor\\", \\"fair\\", \\"good\\", \\"excellent\\" (worst to best)' in prompt
    log = [json.loads(s) for s in (run / "verdicts.jsonl").read_text().splitlines()]
    got = {r["item_id"]: r["outcomes"][0]["value"] for r in log}
    assert [got[f"mllmj-score::{i}"] for i in range(len(HUMAN))] == [min(h, 4) for h in HUMAN]


def test_a_score_off_the_scale_is_out_of_range_never_rescaled(tmp_path: Path) -> None:
    run, _ = _run(tmp_path, "0-100", _reply(lambda h, _t: 25 * (h - 1) if h < 5 else 150))
    log = [json.loads(s) for s in (run / "verdicts.jsonl").read_text().splitlines()]
    outs = [r["outcomes"][0] for r in log]
    assert sorted(o.get("value", -1) for o in outs if "value" in o) == sorted(25 * (h - 1) for h in HUMAN if h < 5)
    assert [o["failure"] for o in outs if "failure" in o] == ["out_of_range"] * HUMAN.count(5)


def test_a_scale_on_the_pair_setting_is_refused(tmp_path: Path) -> None:
    from hydra.errors import ConfigCompositionException

    err = config_error(tmp_path / "r", "setting=pair", "+setting.scale=1-10")
    assert "setting.scale applies to the score setting, not 'pair'" in err
    with pytest.raises(ConfigCompositionException, match="scale"):  # Hydra: the pair setting has no such key
        composed("setting=pair", "setting.scale=1-10")


@pytest.mark.parametrize(("spec", "expected"), [
    (None, ScoreScale(1, 5)), ("1-10", ScoreScale(1, 10)), ("0 - 100", ScoreScale(0, 100)),
    (["poor", "fair", "good", "excellent"], ScoreScale(1, 4, ("poor", "fair", "good", "excellent"))),
    ({"min": 0, "labels": ["no", "yes"]}, ScoreScale(0, 1, ("no", "yes"))), ({"min": 0, "max": 10}, ScoreScale(0, 10)),
])
def test_scale_specs(spec: Any, expected: ScoreScale) -> None:
    assert ScoreScale.parse(spec) == expected


@pytest.mark.parametrize("spec", ["ten", {"max": 3, "labels": ["a", "b"]}, ["a", "A"], {"step": 2}, "5-1"])
def test_bad_scale_specs(spec: Any) -> None:
    with pytest.raises(SchemaError):
        ScoreScale.parse(spec)


def test_prompt_schema_and_answer_on_long_and_named_scales() -> None:
    item = ScoreItem("i", Query("u", "Text2Text", "2+2?"), Response("r", "u", "m", "text", text="4"))
    p = build_prompt(item, "rubrics", ["clarity"], scale=ScoreScale(0, 100))
    assert p.output_schema["properties"]["clarity_score"] == {
        "type": "integer", "minimum": 0, "maximum": 100, "description": "score from 0 (worst) to 100 (best)"}
    assert re.search(r"^  0 - .*\n  25 - .*\n  50 - .*\n  75 - .*\n  100 - ", p.text, re.M)
    named = ScoreScale.parse(NAMED)
    assert json.loads(render_answer("score", {"overall": 3}, scale=named))["overall_score"] == "good"


def test_token_probability_verdicts_on_named_and_ten_point_scales() -> None:
    named = ScoreScale.parse(NAMED)
    assert candidates_for("score", named) == {"poor": "1", "fair": "2", "good": "3", "excellent": "4"}
    tv = read_verdict("score", "overall", {"poor": 0.0, "fair": 0.0, "good": np.log(2.0), "excellent": 0.0}, 0.0,
                      named)
    assert tv.verdict.value == 3 and tv.token == "good"
    assert tv.verdict.expected == pytest.approx((1 + 2 + 3 * 2 + 4) / 5)
    ten = ScoreScale(1, 10)
    assert list(candidates_for("score", ten)) == [str(v) for v in range(1, 11)]
    tv = read_verdict("score", "overall", {str(v): (5.0 if v == 10 else 0.0) for v in range(1, 11)}, 0.0, ten)
    assert tv.verdict.value == 10 and tv.verdict.probs["10"] > 0.9
