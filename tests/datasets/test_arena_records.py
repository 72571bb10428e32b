"""OmniArena battle records and per-model answers as published (Judge Anything release, ``Arena/``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgeanything.datasets.arena import match_models, parse_outcome, read_answers, read_battles
from judgeanything.datasets.judgeanything import JudgeAnythingDataset
from judgeanything.schema import MediaRef, SchemaError


@pytest.mark.parametrize(("text", "expected"), [
    ("Baichuan-Omni-1.5 vs Gemini-1.5 Gemini-1.5 wins", ("Baichuan-Omni-1.5", "Gemini-1.5", "second")),
    ("Baichuan-Omni-1.5 vs Gemini-1.5 Baichuan-Omni-1.5 wins", ("Baichuan-Omni-1.5", "Gemini-1.5", "first")),
    ("Next-GPT vs Unified-IO2", ("Next-GPT", "Unified-IO2", "tie")),
    ("Next-GPT vs Unified-IO2 draw", ("Next-GPT", "Unified-IO2", "tie")),
    ("Next-GPT vs Unified-IO2 Tie", ("Next-GPT", "Unified-IO2", "tie")),
    ("GPT 4o mini vs Model B v2.1 GPT 4o mini wins", ("GPT 4o mini", "Model B v2.1", "first")),
    ("GPT 4o mini vs Model B v2.1 Model B v2.1 wins", ("GPT 4o mini", "Model B v2.1", "second")),
    ("  CoDi  VS  OneLLM   OneLLM Wins. ", ("CoDi", "OneLLM", "second")),
    ("a.b-c vs a.b a.b-c wins", ("a.b-c", "a.b", "first")),
])
def test_outcome_strings(text: str, expected: tuple[str, str, str]) -> None:
    assert parse_outcome(text) == expected


@pytest.mark.parametrize("text", ["Gemini-1.5 beats CoDi", "CoDi vs CoDi", "CoDi vs OneLLM Gemini wins", " vs OneLLM"])
def test_unreadable_outcomes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_outcome(text)


def test_battle_file_errors_name_the_entry(tmp_path: Path) -> None:
    f = tmp_path / "gang_Understanding_record.json"
    f.write_text(json.dumps({"u1": ["A vs B A wins", "A vs B C wins"]}))
    with pytest.raises(SchemaError) as err:
        read_battles(f)
    assert (err.value.file, err.value.field) == (str(f), "u1[1]")
    f.write_text(json.dumps({"u1": ["A vs B A wins", "B vs A"]}))
    got = read_battles(f)
    assert [(b.model_a, b.model_b, b.outcome, b.category) for b in got] == [
        ("A", "B", "first", "Understanding"), ("B", "A", "tie", "Understanding")]
    f.write_text(json.dumps([["A vs B"]]))
    with pytest.raises(SchemaError, match="JSON object"):
        read_battles(f)


def test_a_battle_file_with_a_number_past_pythons_digit_cap_names_the_file(tmp_path: Path) -> None:
    """A 5,000-digit number in the record made ``json`` raise a bare ValueError (int conversion limit)."""
    f = tmp_path / "gang_Generation_record.json"
    f.write_text('{"u1": ["A vs B A wins"], "u2": [' + "9" * 5000 + "]}")
    with pytest.raises(SchemaError, match="not readable as JSON") as err:
        read_battles(f)
    assert err.value.file == str(f)
    f.write_bytes(b'{"u1": ["A vs B \xff wins"]}')
    with pytest.raises(SchemaError, match="not readable as JSON"):
        read_battles(f)


def test_model_names_matched_to_answer_files(tmp_path: Path) -> None:
    files = [tmp_path / p for p in ("bc-omni/Baichuan-Omni-1.5.json", "codi/Codi.json", "gemini/Gemini.json",
                                    "nextgpt/nextgpt_output.json", "unifiedio2/UnifiedIO2.json")]
    got = match_models(["Baichuan-Omni-1.5", "CoDi", "Gemini-1.5", "Next-GPT", "Unified-IO2", "Unknown"], files,
                       {"CoDi": tmp_path / "x.json"})
    assert {k: str(v.relative_to(tmp_path)) for k, v in got.items()} == {
        "Baichuan-Omni-1.5": "bc-omni/Baichuan-Omni-1.5.json", "CoDi": "x.json", "Gemini-1.5": "gemini/Gemini.json",
        "Next-GPT": "nextgpt/nextgpt_output.json", "Unified-IO2": "unifiedio2/UnifiedIO2.json"}


def test_answer_shapes(tmp_path: Path) -> None:
    f = tmp_path / "m" / "M.json"
    f.parent.mkdir()
    f.write_text(json.dumps([
        {"uniq_id": "a", "answer": {"type": "Text", "content": "hello"}},
        {"uniq_id": "b", "answer": [{"type": "text", "content": ["x", "y"]}, {"type": "image", "content": "i.png"}]},
    ]))
    got = read_answers(f)
    assert got["a"] == ("hello", ())
    assert got["b"] == ("x\ny", (MediaRef("image", path=str(f.parent / "i.png")),))
    f.write_text(json.dumps([{"uniq_id": "a", "answer": [{"type": "smell", "content": "?"}]}]))
    with pytest.raises(SchemaError) as err:
        read_answers(f)
    assert (err.value.row, err.value.field) == (1, "answer[0].type")


def test_image_path_repr_must_be_a_list_literal(tmp_path: Path) -> None:
    ta = tmp_path / "TaskAnything.json"
    ja = tmp_path / "JudgeAnything.json"
    ja.write_text("[]")
    ta.write_text(json.dumps([{"uniq_id": "q", "task_name": "Image2Text", "question": "?",
                               "image_path": "['a.jpg', __import__('os')]"}]))
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(ta, ja).load("score")
    assert (err.value.row, err.value.field) == (1, "image_path")
    ta.write_text(json.dumps([{"uniq_id": "q", "task_name": "Image2Text", "question": "?",
                               "image_path": "[\"a.jpg\", 'b.jpg']"}]))
    ja.write_text(json.dumps([{"uniq_id": "q", "model_name": "m", "response": {"type": "text", "content": "x"}}]))
    item = JudgeAnythingDataset(ta, ja).load("score").items[0]
    assert [m.path for m in item.query.media] == ["a.jpg", "b.jpg"]


def test_arena_cli_reports_bad_input_and_nothing_to_rank(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from judgeanything.arena_cli import main

    assert main([]) == 2 and "give --root, --battles or --run" in capsys.readouterr().err
    f = tmp_path / "gang_Understanding_record.json"
    f.write_text(json.dumps({"u1": ["A vs B A wins", "A-1 vs B.2 C wins"]}))
    assert main(["--battles", str(f), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert str(f) in err and "'u1[1]'" in err and "the winner names neither" in err
    f.write_text(json.dumps({"u1": ["A vs A"]}))
    assert main(["--battles", str(f), "--out", str(tmp_path / "o")]) == 1  # a model playing itself
    f.write_text(json.dumps({}))
    assert main(["--battles", str(f), "--out", str(tmp_path / "o")]) == 2
    assert "no games" in capsys.readouterr().err
    assert main(["--battles", str(tmp_path / "none*.json")]) == 2
    assert "matches no file" in capsys.readouterr().err
