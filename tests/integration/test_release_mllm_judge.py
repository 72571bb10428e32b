"""MLLM-as-a-Judge as published (Dongping-Chen/MLLM-Judge, Hub dataset shuaishuaicdp/MLLM-Judge), loaded
through the commands a user types: per-annotator files given together (→ human–human ceiling), every
human-label key variant, the recorded judges' step3 files replayed, and a Hub root read from a folder laid
out exactly as the HF cache (offline) or refused with one clear message.

Row layouts written here are the published ones: per-annotator rows ``{id, pair_id, image_path,
original_dataset, instruction, answer1, answer2, human_answer}`` (score rows ``{score_id, name, answer, id,
instruction, image_path, original_dataset, human_answer: "4"}``), step3 rows = the same plus ``result {name,
judge, analysis}`` — or ``{name, jduge, oral}`` with ``gpt_output``, as some rows of
``MLLM-as-a-Judge/step3/Score/CogVLM.jsonl`` spell it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from judgeanything.datasets.mllm_judge import MLLMJudgeDataset
from judgeanything.schema import SchemaError
from tests.support.compose import config_error, run_app

pytestmark = pytest.mark.integration


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _pair(pid: int, human: str, key: str = "human_answer") -> dict:
    return {"id": pid // 2, "pair_id": pid, "image_path": f"image/{pid // 2}.jpg", "original_dataset": "coco",
            "instruction": f"Question {pid}?", "answer1": {"name": "llava", "answer": f"one {pid}"},
            "answer2": {"name": "gpt4", "answer": f"two {pid}"}, key: human}


def _score(sid: int, human: object, key: str = "human_answer", **kw: object) -> dict:
    return {"score_id": sid, "name": "cogvlm", "answer": f"answer {sid}", "id": 100 + sid,
            "instruction": f"What is {sid}?", "image_path": f"image/{100 + sid}.jpg",
            "original_dataset": "coco", key: human, **kw}


def _metric(run: Path, metric: str, group_by: str) -> tuple[float, int]:
    df = pd.read_csv(run / "metrics.csv", keep_default_na=False)
    r = df[(df.metric == metric) & (df.group_by == group_by) & (df.rubric == "overall")]
    assert len(r) == 1, r
    return float(r.value.iloc[0]), int(r.n.iloc[0])


# Three annotators (marker1/3/4) over 6 pairs: pairs 1–4 labelled by two annotators each, 5–6 by one.
MARKERS = {
    "marker1": {1: "A", 2: "B", 3: "C", 5: "A"},
    "marker3": {1: "A", 2: "A", 4: "B", 6: "B"},
    "marker4": {3: "C", 4: "A"},
}


def _markers(root: Path) -> list[Path]:
    return [_jsonl(root / "arxiv_data" / "pair" / f"{m}_arxiv_pair.jsonl",
                   [_pair(pid, h) for pid, h in labels.items()]) for m, labels in MARKERS.items()]


def test_per_annotator_files_together_give_the_human_ceiling(tmp_path: Path) -> None:
    files = _markers(tmp_path)
    run = tmp_path / "run"
    run_app("benchmark=mllm_judge", "judge=first", "setting=pair",
            f"benchmark.pair_file=[{','.join(map(str, files))}]", f"hydra.run.dir={run}", "analysis.html=false",
            "analysis.plots=false", "analysis.bootstrap=50")
    # 4 two-annotator items; each annotator vs the other: agree on pairs 1 and 3 only → 4 of 8 comparisons;
    # without ties (pair 3 is C/C) 2 of 6.
    assert _metric(run, "accuracy_with_tie", "human_ceiling") == (pytest.approx(4 / 8), 8)
    assert _metric(run, "accuracy_without_tie", "human_ceiling") == (pytest.approx(2 / 6), 6)
    data = MLLMJudgeDataset(pair_file=[str(f) for f in files]).load("pair")
    assert [i.item_id for i in data.items] == [f"mllmj-pair::{k}" for k in (1, 2, 3, 5, 4, 6)]
    by_item: dict[str, dict[str, object]] = {}
    for lab in data.labels:
        by_item.setdefault(lab.item_id, {})[lab.annotator] = lab.value
    assert by_item["mllmj-pair::2"] == {"marker1_arxiv_pair": "second", "marker3_arxiv_pair": "first"}
    assert by_item["mllmj-pair::4"] == {"marker3_arxiv_pair": "second", "marker4_arxiv_pair": "first"}


def test_a_glob_reads_the_same_files(tmp_path: Path) -> None:
    files = _markers(tmp_path)
    glob = str(tmp_path / "arxiv_data" / "pair" / "marker*_arxiv_pair.jsonl")
    a = MLLMJudgeDataset(pair_file=glob).load("pair")
    b = MLLMJudgeDataset(pair_file=[str(f) for f in files]).load("pair")
    assert a.items == b.items and a.labels == b.labels
    with pytest.raises(FileNotFoundError, match="matches no file"):
        MLLMJudgeDataset(pair_file=str(tmp_path / "nothing*.jsonl")).load("pair")


def test_annotator_files_that_disagree_on_an_item_are_refused(tmp_path: Path) -> None:
    a = _jsonl(tmp_path / "m1.jsonl", [_pair(1, "A")])
    other = _pair(1, "B")
    other["answer2"] = {"name": "gpt4", "answer": "something else"}
    b = _jsonl(tmp_path / "m2.jsonl", [_pair(2, "A"), other])
    with pytest.raises(SchemaError) as err:
        MLLMJudgeDataset(pair_file=[str(a), str(b)]).load("pair")
    assert (err.value.file, err.value.row, err.value.field) == (str(b), 2, "pair_id")
    assert f"{a} row 1" in str(err.value)


@pytest.mark.parametrize("key", ["human_answer", "Human_answer", "human", "Human", "HUMAN_ANSWER", "human_label"])
def test_every_human_label_key_variant(tmp_path: Path, key: str) -> None:
    pair = _jsonl(tmp_path / "p.jsonl", [_pair(1, "B", key)])
    score = _jsonl(tmp_path / "s.jsonl", [_score(1, "4", key), _score(2, 2, key)])
    d = MLLMJudgeDataset(pair_file=pair, score_file=score)
    assert [lab.value for lab in d.load("pair").labels] == ["second"]
    assert [lab.value for lab in d.load("score").labels] == [4, 2]


def test_two_different_human_labels_in_one_row_are_refused(tmp_path: Path) -> None:
    row = _pair(1, "B")
    row["human"] = "A"
    path = _jsonl(tmp_path / "p.jsonl", [row])
    with pytest.raises(SchemaError, match="two different human labels") as err:
        MLLMJudgeDataset(pair_file=path).load("pair")
    assert err.value.row == 1 and err.value.field == "human"


def test_recorded_step3_judge_is_replayed(tmp_path: Path) -> None:
    """The release's step3 judge output (no human labels) replayed against a human-labelled file."""
    humans = _jsonl(tmp_path / "HQ" / "Score.jsonl", [_score(i, h) for i, h in enumerate([4, 3, 5, 1], 1)])
    step3 = _jsonl(tmp_path / "step3" / "Score" / "CogVLM.jsonl", [
        _score(1, None, result={"name": "CogVLM", "judge": "4", "analysis": "Judgement: 4</s>"}),
        _score(2, None, gpt_output="2</s>", result={"name": "cogvlm", "jduge": 2, "oral": "2</s>"}),
        _score(3, None, result={"name": "CogVLM", "judge": "Judgement: 5", "analysis": "Judgement: 5"}),
        _score(4, None, result={"name": "CogVLM", "judge": "1", "analysis": "Judgement: 1</s>"}),
        _score(9, None, result={"name": "CogVLM", "judge": "3", "analysis": "not a labelled item"}),
    ])
    data = MLLMJudgeDataset(score_file=humans, recorded_files=[str(step3)]).load("score")
    rec = {k: [v.value for v in vs] for k, vs in data.recorded["CogVLM"].items()}
    assert rec == {"mllmj-score::1": [4], "mllmj-score::2": [2], "mllmj-score::3": [], "mllmj-score::4": [1]}
    assert data.recorded_raw["CogVLM"]["mllmj-score::2"] == "2</s>"
    assert any("1 rows for items not loaded" in n and "1 unreadable" in n for n in data.notes)
    run = tmp_path / "run"
    run_app("benchmark=mllm_judge", "judge=replay", "judge.judge_name=CogVLM", "setting=score",
            f"benchmark.score_file={humans}", f"benchmark.recorded_files=[{step3}]", f"hydra.run.dir={run}",
            "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=0")
    log = [json.loads(s) for s in (run / "verdicts.jsonl").read_text().splitlines()]
    outcomes = {r["item_id"]: r["outcomes"][0] for r in log if "item_id" in r}
    assert [outcomes[f"mllmj-score::{i}"].get("value") for i in (1, 2, 3, 4)] == [4, 2, None, 1]
    assert outcomes["mllmj-score::3"]["failure"] == "parse_fail"


def _hub_cache(cache: Path, repo: str, files: dict[str, list[dict]]) -> Path:
    """A folder laid out exactly as the HF cache holds a dataset snapshot (refs/main → snapshots/<sha>)."""
    base = cache / f"datasets--{repo.replace('/', '--')}"
    sha = "0123456789abcdef0123456789abcdef01234567"
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text(sha)
    for rel, rows in files.items():
        _jsonl(base / "snapshots" / sha / rel, rows)
    return base / "snapshots" / sha


def test_hub_release_from_the_hf_cache_offline(tmp_path: Path, hub_cache: Path) -> None:
    snap = _hub_cache(hub_cache, "shuaishuaicdp/MLLM-Judge",
                      {"Hard & HQ/HQ/Pair.jsonl": [_pair(1, "A"), _pair(2, "C")]})
    run = tmp_path / "run"
    run_app("benchmark=mllm_judge_release", "judge=first", "setting=pair", f"hydra.run.dir={run}",
            "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=0")
    log = [json.loads(s) for s in (run / "verdicts.jsonl").read_text().splitlines()]
    assert sorted(r["item_id"] for r in log if "item_id" in r) == ["mllmj-pair::1", "mllmj-pair::2"]
    assert snap.is_dir()


def test_hub_release_missing_offline_is_one_clear_message(tmp_path: Path, hub_cache: Path) -> None:
    err = config_error(tmp_path / "r", "benchmark=mllm_judge_release", "judge=first", "setting=score")
    assert "shuaishuaicdp/MLLM-Judge" in err.splitlines()[0]
    assert "hf download shuaishuaicdp/MLLM-Judge --repo-type dataset --include 'Hard & HQ/HQ/Score.jsonl'" in err
    assert str(hub_cache) in err


def test_local_root_mirrors_the_release(tmp_path: Path) -> None:
    _jsonl(tmp_path / "rel" / "Hard & HQ" / "HQ" / "Pair.jsonl", [_pair(1, "A")])
    run = tmp_path / "run"
    run_app("benchmark=mllm_judge_release", f"benchmark.root={tmp_path / 'rel'}", "judge=first", "setting=pair",
            f"hydra.run.dir={run}", "analysis.html=false", "analysis.plots=false", "analysis.bootstrap=0")
    assert (run / "metrics.csv").is_file()
