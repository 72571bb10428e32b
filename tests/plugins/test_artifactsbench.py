"""The ArtifactsBench loader on small files in the release's format: which code is the artifact (the
harness's last-<html>-else-last-<svg> rule), items per setting, checklists, and bad rows named by file,
row and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgeanything.prompts import build_prompt
from judgeanything.schema import SchemaError


@pytest.fixture()
def ab(artifact_plugin: Path):  # type: ignore[no-untyped-def]
    from judgeanything_artifact import artifactsbench

    return artifactsbench


def test_extraction_follows_the_harness_rule(ab) -> None:  # type: ignore[no-untyped-def]
    two = "<html><body>first</body></html> text <html lang='en'><body>second</body></html> <svg></svg>"
    assert ab.extract_artifact(two) == ("html", "<html lang='en'><body>second</body></html>")
    assert ab.extract_artifact("x <svg a='1'><g/></svg> y <svg b='2'></svg>") == ("svg", "<svg b='2'></svg>")
    assert ab.extract_artifact("```html\n<div>no html element</div>\n```") == ("html", "<div>no html element</div>")
    assert ab.extract_artifact("<think><html><body>draft</body></html></think>No code, sorry.") is None
    assert ab.extract_artifact("plain prose") is None


def _write(root: Path) -> tuple[Path, Path, Path]:
    tasks = root / "tasks.jsonl"
    tasks.write_text("\n".join(json.dumps(r) for r in [
        {"index": 7, "question": "A blue button.", "checklist": "1. Button exists.\n\n2. It is blue.\n",
         "class": "web", "difficulty": "easy"},
        {"index": 8, "question": "A red circle.", "checklist": ["One circle", "It is red"], "class": "svg"},
    ]))
    a = root / "a.json"
    a.write_text(json.dumps([{"index": 7, "answer": "<html><body><button>B</button></body></html>",
                              "gemini_ans": "61"},
                             {"index": 8, "answer": "<svg><circle r='4' fill='red'/></svg>"}]))
    b = root / "b.jsonl"
    b.write_text(json.dumps({"index": 7, "model_infer_result": "I would rather not."}) + "\n")
    return tasks, a, b


def test_items_per_setting_checklists_and_artifact_files(ab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tasks, a, b = _write(tmp_path)
    ds = ab.ArtifactsBenchDataset(str(tasks), {"model-a": str(a), "model-b": str(b)}, work_dir=str(tmp_path / "w"))
    score = ds.load("score")
    assert [it.item_id for it in score.items] == ["artifactsbench::7::model-a", "artifactsbench::7::model-b",
                                                  "artifactsbench::8::model-a"]
    first = score.items[0]
    assert first.query.task_name == "Text2Artifact" and first.query.checklist == {
        "overall": ("1. Button exists.", "2. It is blue.")}
    assert first.query.meta["class"] == "web" and first.response.meta["recorded_score"] == 61.0
    (ref,) = first.response.media
    assert ref.modality == "artifact" and ref.path.endswith(".html")
    assert (score.data_root / ref.path).read_text() == "<html><body><button>B</button></body></html>"
    no_code = score.items[1].response
    assert no_code.media == () and no_code.text == "I would rather not." and no_code.meta["artifact"] is None
    assert score.items[2].response.media[0].path.endswith(".svg")
    assert [it.item_id for it in ds.load("pair").items] == ["artifactsbench::7::model-a_vs_model-b"]
    assert [len(it.responses) for it in ds.load("batch").items] == [2]
    assert score.labels == [] and any("no per-item human labels" in n for n in score.notes)
    # checklist mode puts the task's own criteria in the prompt
    text = "".join(getattr(p, "text", "") for p in build_prompt(first, "checklist", ["overall"]).parts)
    assert "Button exists." in text and "It is blue." in text
    only_svg = ab.ArtifactsBenchDataset(str(tasks), {"model-a": str(a)}, work_dir=str(tmp_path / "w"),
                                        classes=["svg"]).load("score")
    assert [it.item_id for it in only_svg.items] == ["artifactsbench::8::model-a"]


@pytest.mark.parametrize(("tasks_rows", "answer_rows", "row", "field", "message"), [
    ([{"question": "q"}], [], 1, "index", "missing required field"),
    ([{"index": 1, "question": "q"}, {"index": 1, "question": "r"}], [], 2, "index", "duplicate task index"),
    ([{"index": 1, "question": "q", "checklist": {"a": 1}}], [], 1, "checklist", "must be text"),
    ([{"index": 1, "question": ""}], [], 1, "question", "must be non-empty text"),
    ([{"index": 1, "question": "q"}], [{"index": 2, "answer": "x"}], 1, "index", "not in"),
    ([{"index": 1, "question": "q"}], [{"index": 1}], 1, "answer", "missing required field"),
    ([{"index": 1, "question": "q"}], [{"index": 1, "answer": "x", "gemini_ans": "high"}], 1, "gemini_ans",
     "not a number"),
    ([{"index": 1, "question": "q"}], [{"index": 1, "answer": "x"}, {"index": 1, "answer": "y"}], 2, "index",
     "a second answer"),
])
def test_bad_rows_name_file_row_and_field(ab, tmp_path: Path, tasks_rows, answer_rows, row, field,  # type: ignore[no-untyped-def]
                                          message) -> None:
    tasks, answers = tmp_path / "t.jsonl", tmp_path / "a.jsonl"
    tasks.write_text("\n".join(json.dumps(r) for r in tasks_rows) + "\n")
    answers.write_text("\n".join(json.dumps(r) for r in answer_rows) + "\n")
    ds = ab.ArtifactsBenchDataset(str(tasks), {"m": str(answers)} if answer_rows else None,
                                  work_dir=str(tmp_path / "w"))
    with pytest.raises(SchemaError) as ei:
        ds.load("score")
    assert (ei.value.row, ei.value.field) == (row, field) and message in str(ei.value), str(ei.value)
