"""The checklist-writing prompt and the reading of its answer."""

from __future__ import annotations

import pytest

from judgeanything.checklists import ChecklistParseError, clean_items, parse_checklists
from judgeanything.prompts import PromptError, build_prompt
from judgeanything.prompts._checklist import build_checklist_prompt
from judgeanything.schema import MediaRef, MediaSlot, Query, Response, ScoreItem, TextPart


def test_prompt_places_the_query_media_once_and_asks_for_each_rubric() -> None:
    q = Query("u", "AudioVideo2Text", "What makes the {image#1} sound?",
              (MediaRef("video", path="v.mp4"), MediaRef("audio", path="a.wav")))
    p = build_checklist_prompt(q, ["relevance", "clarity"], max_items=4, max_words=12)
    slots = [x for x in p.parts if isinstance(x, MediaSlot)]
    assert [(s.role, s.ref.path) for s in slots] == [("query", "v.mp4"), ("query", "a.wav")]
    text = "".join(x.text for x in p.parts if isinstance(x, TextPart))
    assert "At most 4 points per criterion" in text and "at most 12 words" in text
    assert "What makes the {image#1} sound?" in text and '"relevance": [' in text and '"clarity": [...]' in text
    assert p.version == "v2/checklist_generate" and p.output_schema["required"] == ["relevance", "clarity"]
    assert p.output_schema["properties"]["clarity"]["maxItems"] == 4
    with pytest.raises(PromptError, match="unknown or no rubric"):
        build_checklist_prompt(q, ["beauty"])


def test_clean_items_strips_bullets_repeats_long_points_and_caps() -> None:
    seen: set[str] = set()
    got = clean_items(["1) Is it red?", "is it RED", "(b) Is it round?", 7, "", " ".join("x" * 9), "a) Two?", "Three?"],
                      max_items=3, max_words=8, seen=seen)
    assert got == ["Is it red?", "Is it round?", "Two?"]
    assert clean_items(["Is it red!"], max_items=3, max_words=8, seen=seen) == []


@pytest.mark.parametrize(("raw", "why"), [
    ("no json here", "no JSON object"),
    ('{"relevance": ["ok?"', "not valid"),
    ('["a", "b"]', "no JSON object"),
    ('{"other": ["Is it?"]}', "no usable checklist point"),
])
def test_unusable_answers_are_failures(raw: str, why: str) -> None:
    with pytest.raises(ChecklistParseError, match=why):
        parse_checklists(raw, ["relevance"], max_items=3, max_words=10)


def test_a_single_string_point_and_text_around_the_json() -> None:
    got = parse_checklists('Sure! {"RELEVANCE": "Does it count 3 stars?"} Hope this helps.', ["relevance"],
                           max_items=3, max_words=10)
    assert got == {"relevance": ("Does it count 3 stars?",)}


@pytest.mark.parametrize("setting", ["score", "pair", "batch"])
def test_checklist_mode_on_the_default_probes_with_the_default_rubrics(setting: str) -> None:
    """The probes' query-wide checklist (their known facts) is given with every default rubric."""
    from judgeanything.datasets.probes import ProbesDataset
    from judgeanything.schema import RUBRICS

    items = ProbesDataset(size="small", seed=0).load(setting).items
    for item in items[:: max(1, len(items) // 8)]:
        facts = item.query.checklist["overall"]
        p = build_prompt(item, "checklist")
        text = "".join(x.text for x in p.parts if isinstance(x, TextPart))
        assert p.rubrics == RUBRICS
        for fact in facts:
            assert text.count(f"  - {fact}") == len(RUBRICS)


def test_a_rubric_checklist_wins_over_the_query_wide_one() -> None:
    q = Query("u", "Text2Text", "2+2?", checklist={"overall": ("Is it 4?",), "clarity": ("Is it one word?",)})
    item = ScoreItem("i", q, Response("r", "u", "m", "text", text="4"))
    text = build_prompt(item, "checklist", ["relevance", "clarity"]).text
    assert text.count("  - Is it 4?") == 1 and text.count("  - Is it one word?") == 1


def test_a_judge_that_writes_no_text_gives_failures_not_checklists(tmp_path) -> None:
    """A baseline answers with structured verdicts only: every query is a recorded failure, nothing is written
    to the release files, and a rerun asks again."""
    import json

    from judgeanything.checklists import ChecklistOptions, ChecklistWriter, write_release
    from judgeanything.judges.baselines import RandomJudge

    queries = [Query(f"q{i}", "Text2Text", f"What is {i}+{i}?") for i in range(3)]
    writer = ChecklistWriter(RandomJudge(), tmp_path, ChecklistOptions(rubrics=("relevance",)), media_root=None)
    assert writer.run(queries) == [] and writer.run(queries) == []
    log = [json.loads(s) for s in (tmp_path / "generation.jsonl").read_text().splitlines()]
    assert len(log) == 6 and all(r["failure"]["kind"] == "parse_fail" for r in log)
    assert "structured verdicts only" in log[0]["failure"]["detail"]
    assert write_release([], tmp_path, "single") == [tmp_path / "checklist.json"]
    assert json.loads((tmp_path / "checklist.json").read_text()) == []
