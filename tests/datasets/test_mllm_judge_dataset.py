"""MLLM-as-a-Judge adapter: synthetic rows for conversions and bad input; the HQ files in ../shared for
counts, exact items and an independent recomputation of every label."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgeanything.datasets.base import Dataset
from judgeanything.datasets.mllm_judge import MLLMJudgeDataset
from judgeanything.schema import MediaRef, SchemaError, ranking_from_letters
from tests.support.jsonl import read_jsonl


def _at(err: pytest.ExceptionInfo[SchemaError], file: Path, row: int | None, field: str | None) -> None:
    e = err.value
    assert e.file == str(file) and str(file) in str(e)
    assert e.row == row and (row is None or f"row {row}" in str(e))
    assert e.field == field and (field is None or repr(field) in str(e))


def pair_row(pair_id: int = 1, **kw) -> dict:
    row = {
        "id": 7,
        "pair_id": pair_id,
        "image_path": "image/7.jpg",
        "original_dataset": "coco",
        "instruction": "What is shown?",
        "answer1": {"name": "gpt4", "answer": "A cat."},
        "answer2": {"name": "llava", "answer": "A dog."},
        "human_answer": "A",
        "comparison": 0,
        "turn": 0,
        "evaluator": {"judge_human": 1, "analysis": 5, "hallucination": 0, "name": "gpt4"},
        "result": {"name": "gpt4", "judge": "B", "analysis": "B is better. [[B]]"},
    }
    row.update(kw)
    return row


def score_row(score_id: int = 1, **kw) -> dict:
    row = {
        "score_id": score_id,
        "name": "llava",
        "answer": "A lime.",
        "id": 100,
        "instruction": "What fruit?",
        "image_path": "image/100.jpg",
        "original_dataset": "coco",
        "Human_answer": 3,
        "evaluator": {"judge_Evaluator": 4, "judge_human": 1, "analysis": 5, "hallucination": 0},
        "result": {"name": "gemini", "judge": "11114", "analysis": "Judgement:[[4]]"},
    }
    row.update(kw)
    return row


def batch_row(id_: str = "9", n: int = 4, **kw) -> dict:
    row = {
        "id": id_,
        "instruction": "Describe.",
        "image_path": f"image/{id_}.jpg",
        "original_dataset": "WIT",
        "answers": [{"name": m, "answer": f"answer {m}"} for m in ["llava", "cogvlm", "gpt4", "gemini"][:n]],
        "human_answer": "CDAB"[:n] if n == 4 else "CAB",
        "comparison": 2,
        "evaluator": {
            "name": "gpt4",
            "judge_evaluator": "CDAB" if n == 4 else "CAB",
            "judge_human": 1,
            "analysis": 5,
            "hallucination": 0,
            "judge": "Ranking: [[C], [D], [A], [B]]",
        },
    }
    row.update(kw)
    return row


# --------------------------------------------------------------------------------------------------
# Synthetic rows
# --------------------------------------------------------------------------------------------------


def test_pair_items_labels_and_recorded(write):
    path = write(
        "HQ_Pair.jsonl",
        [
            pair_row(1),
            pair_row(2, human_answer="C", result={"name": "gemini", "judge": "c", "analysis": "tie"}),
        ],
    )
    ds = MLLMJudgeDataset(pair_file=path)
    assert isinstance(ds, Dataset)
    data = ds.load("pair")
    a = data.items[0]
    assert a.item_id == "mllmj-pair::1" and a.query.uniq_id == "7" and a.query.task_name == "Image2Text"
    assert a.query.media == (MediaRef("image", path="image/7.jpg"),)
    assert a.query.meta["original_dataset"] == "coco" and a.query.question == "What is shown?"
    assert (a.response_a.model_name, a.response_a.text) == ("gpt4", "A cat.")
    assert (a.response_b.model_name, a.response_b.text) == ("llava", "A dog.")
    assert a.response_a.response_id != a.response_b.response_id
    assert [(lab.item_id, lab.rubric, lab.value) for lab in data.labels] == [
        ("mllmj-pair::1", "overall", "first"),
        ("mllmj-pair::2", "overall", "tie"),
    ]
    assert {j: {k: [v.value for v in vs] for k, vs in per.items()} for j, per in data.recorded.items()} == {
        "gpt4": {"mllmj-pair::1": ["second"]},
        "gemini": {"mllmj-pair::2": ["tie"]},
    }
    assert data.recorded_raw["gpt4"]["mllmj-pair::1"] == "B is better. [[B]]"


def test_unreadable_recorded_verdict_keeps_raw_and_no_value(write):
    path = write(
        "HQ_Pair.jsonl", [pair_row(1, result={"name": "gpt4", "judge": "neither", "analysis": "hmm"})]
    )
    data = MLLMJudgeDataset(pair_file=path).load("pair")
    assert data.recorded == {"gpt4": {"mllmj-pair::1": []}}
    assert data.recorded_raw == {"gpt4": {"mllmj-pair::1": "hmm"}}
    assert "1 unreadable recorded verdicts" in data.notes


def test_score_variants_and_recorded(write):
    path = write(
        "HQ_Score.jsonl",
        [
            score_row(1),
            score_row(2, Human_answer="4"),
            score_row(3, evaluator={"judge_evaluator": "5"}),
        ],
    )
    data = MLLMJudgeDataset(score_file=path).load("score")
    assert [(lab.item_id, lab.value) for lab in data.labels] == [
        ("mllmj-score::1", 3),
        ("mllmj-score::2", 4),
        ("mllmj-score::3", 3),
    ]
    rec = data.recorded["gemini"]
    assert [rec[f"mllmj-score::{k}"][0].value for k in (1, 2, 3)] == [4, 4, 5]
    assert data.recorded_raw["gemini"]["mllmj-score::1"] == "11114"
    assert data.items[0].response.text == "A lime." and data.items[0].response.model_name == "llava"


def test_score_lowercase_human_answer(write):
    row = score_row(1)
    row["human_answer"] = row.pop("Human_answer")
    data = MLLMJudgeDataset(score_file=write("s.jsonl", [row])).load("score")
    assert data.labels[0].value == 3


def test_batch_rankings_partial_and_phantom_slot(write):
    path = write(
        "HQ_Batch.jsonl",
        [
            batch_row("a"),
            batch_row("b", human_answer="CA"),
            batch_row(
                "c",
                n=3,
                human_answer="CBAD",
                evaluator={"name": "gemini", "judge_evaluator": "CABD", "judge": "[[C]], [[A]], [[B]]"},
            ),
        ],
    )
    kept = MLLMJudgeDataset(batch_file=path).load("batch")  # default: phantom letters kept as given
    assert [lab.value for lab in kept.labels] == [(2, 3, 0, 1), (2, 0), (2, 1, 0, 3)]
    assert kept.recorded["gemini"]["mllmj-batch::c"][0].value == (2, 0, 1, 3)
    assert "1 human rankings ending in a letter that names no answer (kept as given)" in "\n".join(kept.notes)
    data = MLLMJudgeDataset(batch_file=path, phantom_slots="drop").load("batch")
    assert [i.item_id for i in data.items] == ["mllmj-batch::a", "mllmj-batch::b", "mllmj-batch::c"]
    assert [len(i.responses) for i in data.items] == [4, 4, 3]
    assert [r.model_name for r in data.items[0].responses] == ["llava", "cogvlm", "gpt4", "gemini"]
    assert [lab.value for lab in data.labels] == [(2, 3, 0, 1), (2, 0), (2, 1, 0)]
    assert data.recorded["gemini"]["mllmj-batch::c"][0].value == (2, 0, 1)
    assert data.recorded["gpt4"]["mllmj-batch::a"][0].value == (2, 3, 0, 1)
    assert data.recorded_raw["gemini"]["mllmj-batch::c"] == "[[C]], [[A]], [[B]]"
    notes = "\n".join(data.notes)
    assert "1 partial human rankings (2 of 4 slots)" in notes
    assert "1 human rankings ending in a letter that names no answer (dropped)" in notes
    assert "1 recorded rankings ending in a letter that names no answer (dropped)" in notes


def test_batch_ids_fall_back_to_rows_when_ids_repeat(write):
    data = MLLMJudgeDataset(
        batch_file=write("b.jsonl", [batch_row("x"), batch_row("x", human_answer="ABCD")])
    ).load("batch")
    assert [i.item_id for i in data.items] == ["mllmj-batch::row1", "mllmj-batch::row2"]


def test_every_row_is_an_item_and_repeated_ids_are_kept_apart(write):
    rows = [score_row(5), score_row(5), score_row(6), score_row(6, answer="different"), score_row(7)]
    data = MLLMJudgeDataset(score_file=write("s.jsonl", rows)).load("score")
    assert [i.item_id for i in data.items] == [
        "mllmj-score::5@row1",
        "mllmj-score::5@row2",
        "mllmj-score::6@row3",
        "mllmj-score::6@row4",
        "mllmj-score::7",
    ]
    assert any("row 2 repeats row 1" in n for n in data.notes)
    limited = MLLMJudgeDataset(score_file=write("s.jsonl", rows), limit=2).load("score")
    assert [i.item_id for i in limited.items] == ["mllmj-score::5@row1", "mllmj-score::5@row2"]


@pytest.mark.parametrize(
    ("name", "rows", "row", "field"),
    [
        ("HQ_Pair.jsonl", [pair_row(1), pair_row(2, human_answer="D")], 2, "human_answer"),
        ("HQ_Pair.jsonl", [pair_row(1, answer2={"name": "x"})], 1, "answer2.answer"),
        ("HQ_Pair.jsonl", [pair_row(1, answer1="just text")], 1, "answer1"),
        ("HQ_Pair.jsonl", [{k: v for k, v in pair_row(1).items() if k != "instruction"}], 1, "instruction"),
        ("HQ_Pair.jsonl", [{k: v for k, v in pair_row(1).items() if k != "pair_id"}], 1, "pair_id"),
        ("HQ_Pair.jsonl", [pair_row(1, result={"judge": "A"})], 1, "result.name"),
        ("HQ_Score.jsonl", [score_row(1), score_row(2, Human_answer=7)], 2, "Human_answer"),
        ("HQ_Score.jsonl", [score_row(1, Human_answer="7")], 1, "Human_answer"),
        ("HQ_Score.jsonl", [score_row(1, Human_answer="good")], 1, "Human_answer"),
        (
            "HQ_Score.jsonl",
            [{k: v for k, v in score_row(1).items() if k != "Human_answer"}],
            1,
            "human_answer",
        ),
        # a recorded judge's name that is not text (a number, a list) is a malformed row, not a converted name
        ("HQ_Score.jsonl", [score_row(1, evaluator={"judge_Evaluator": 4, "name": 4}, result=None)], 1,
         "evaluator.name"),
        ("HQ_Score.jsonl", [score_row(1, evaluator={"judge_Evaluator": 4}, result={"name": ["gpt4"]})], 1,
         "result.name"),
        ("HQ_Batch.jsonl", [batch_row("1", n=3, evaluator={"judge_evaluator": "CAB", "name": True})], 1,
         "evaluator.name"),
        ("HQ_Score.jsonl", [score_row(1, original_dataset=float("nan"))], 1, "original_dataset"),
        ("HQ_Batch.jsonl", [batch_row("1", human_answer="AAB")], 1, "human_answer"),
        ("HQ_Batch.jsonl", [batch_row("1", human_answer="ABCE")], 1, "human_answer"),
        ("HQ_Batch.jsonl", [batch_row("1", n=3, human_answer="DAB")], 1, "human_answer"),
        ("HQ_Batch.jsonl", [batch_row("1", human_answer="12")], 1, "human_answer"),
        ("HQ_Batch.jsonl", [batch_row("1", answers=[{"name": "a", "answer": "b"}])], 1, "answers"),
        (
            "HQ_Batch.jsonl",
            [batch_row("1", answers=[{"name": "a", "answer": "b"}, {"answer": "c"}])],
            1,
            "answers[1].name",
        ),
    ],
)
def test_bad_rows(write, name, rows, row, field):
    path = write(name, rows)
    setting = name[3:-6].lower()
    with pytest.raises(SchemaError) as err:
        MLLMJudgeDataset(**{f"{setting}_file": path}).load(setting)
    _at(err, path, row, field)


def test_malformed_line_and_missing_files(write, tmp_path):
    path = write("HQ_Pair.jsonl", [pair_row(1), '{"id": 3, "pair_id": ', pair_row(2)])
    with pytest.raises(SchemaError) as err:
        MLLMJudgeDataset(pair_file=path).load("pair")
    _at(err, path, 2, None)
    with pytest.raises(ValueError, match="score_file"):
        MLLMJudgeDataset(pair_file=path).load("score")
    with pytest.raises(SchemaError) as err:
        MLLMJudgeDataset(batch_file=tmp_path / "HQ_Batch.jsonl").load("batch")
    assert "does not exist" in str(err.value) and "batch_file" in str(err.value)
    with pytest.raises(ValueError, match="unknown setting"):
        MLLMJudgeDataset(pair_file=path).load("ranking")


# --------------------------------------------------------------------------------------------------
# The HQ files (../shared)
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hq(shared_dir: Path) -> dict[str, Path]:
    root = shared_dir / "data" / "mllm_judge"
    return {
        "pair_file": root / "HQ_Pair.jsonl",
        "score_file": root / "HQ_Score.jsonl",
        "batch_file": root / "HQ_Batch.jsonl",
    }


def test_hq_pair(hq):
    raw = read_jsonl(hq["pair_file"])
    assert len(raw) == 89
    data = MLLMJudgeDataset(**hq).load("pair")
    assert len(data.items) == 89 and len({i.item_id for i in data.items}) == 89
    assert data.items[0].item_id == "mllmj-pair::14"
    assert {i.item_id for i in data.items} >= {"mllmj-pair::1229@row25", "mllmj-pair::1229@row34"}
    letters = {"A": "first", "B": "second", "C": "tie"}
    labels = {lab.item_id: lab.value for lab in data.labels}
    for item, row in zip(data.items, raw, strict=True):  # independent recomputation, row by row
        assert labels[item.item_id] == letters[row["human_answer"]]
        assert (
            item.response_a.text == row["answer1"]["answer"]
            and item.response_b.text == row["answer2"]["answer"]
        )
        assert item.query.uniq_id == str(row["id"]) and item.query.question == row["instruction"]
        verdict = data.recorded[row["result"]["name"]][item.item_id][0]
        assert verdict.value == letters[row["result"]["judge"]]
    assert {k: len(v) for k, v in data.recorded.items()} == {"gpt4": 79, "gemini": 10}
    agree = sum(labels[i] == v[0].value for per in data.recorded.values() for i, v in per.items())
    assert agree == sum(r["human_answer"] == r["result"]["judge"] for r in raw)


def test_hq_score(hq):
    raw = read_jsonl(hq["score_file"])
    assert len(raw) == 95
    data = MLLMJudgeDataset(**hq).load("score")
    assert len(data.items) == 95  # line 30 is an exact copy of line 29: still a row of the file
    assert any("row 30 repeats row 29" in n for n in data.notes)
    labels = {lab.item_id: lab.value for lab in data.labels}
    first = data.items[0]
    assert (first.item_id, labels[first.item_id]) == ("mllmj-score::0", 3)
    assert data.recorded["gpt4"]["mllmj-score::0"][0].value == 4
    by_id = {i.item_id: i for i in data.items}
    for line, row in enumerate(raw, start=1):
        item_id = f"mllmj-score::{row['score_id']}"
        if item_id not in by_id:
            item_id = f"{item_id}@row{line}"
        assert labels[item_id] == int(row["Human_answer"])
        assert by_id[item_id].response.text == row["answer"]
        assert data.recorded[row["result"]["name"]][item_id][0].value == int(
            row["evaluator"]["judge_Evaluator"]
        )
        assert data.recorded_raw[row["result"]["name"]][item_id] == row["result"]["judge"]


def test_hq_batch(hq):
    raw = read_jsonl(hq["batch_file"])
    assert len(raw) == 89
    data = MLLMJudgeDataset(**hq).load("batch")
    assert len(data.items) == 89
    labels = {lab.item_id: lab.value for lab in data.labels}
    assert labels["mllmj-batch::1100"] == (0, 2, 3, 1)  # "ACDB"
    assert labels["mllmj-batch::240"] == (2, 0)  # "CA": partial, kept as given
    assert labels["mllmj-batch::812"] == (2, 1, 0, 3)  # "CBAD" over 3 answers: kept as given
    for row in raw:
        assert labels[f"mllmj-batch::{row['id']}"] == ranking_from_letters(row["human_answer"])
    notes = "\n".join(data.notes)
    assert "1 partial human rankings (2 of 4 slots)" in notes
    assert "5 human rankings ending in a letter that names no answer (kept as given)" in notes
    dropped = MLLMJudgeDataset(**hq, phantom_slots="drop").load("batch")
    labels = {lab.item_id: lab.value for lab in dropped.labels}
    assert labels["mllmj-batch::812"] == (2, 1, 0)
    for row in raw:
        n = len(row["answers"])
        expect = tuple(s for s in ranking_from_letters(row["human_answer"]) if s < n)
        assert labels[f"mllmj-batch::{row['id']}"] == expect
    assert {k: len(v) for k, v in data.recorded.items()} == {"gpt4": 71, "gemini": 18}


def test_yaml_instantiates(shared_dir, monkeypatch):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    monkeypatch.setenv("JUDGEANYTHING_DATA", str(shared_dir / "data"))
    cfg = OmegaConf.load(
        Path(__file__).parents[2] / "judgeanything" / "conf" / "benchmark" / "mllm_judge.yaml"
    )
    cfg.limit = 5
    ds = instantiate(cfg)
    assert isinstance(ds, MLLMJudgeDataset)
    assert [len(ds.load(s).items) for s in ("pair", "score", "batch")] == [5, 5, 5]
