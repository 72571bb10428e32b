"""build_prompt: media placement for every TaskAnything task type, answer format, errors."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest

from judgeanything.prompts import (
    DEFAULT_TEMPLATE_DIR,
    PROMPT_VERSION,
    PromptError,
    build_prompt,
    data_fence,
    describe_task,
    load_rubrics,
    output_schema,
    render_answer,
)
from judgeanything.schema import (
    RUBRICS,
    TASK_TYPES,
    BatchItem,
    MediaRef,
    MediaSlot,
    PairItem,
    Query,
    Response,
    SchemaError,
    ScoreItem,
    TaskType,
    TextPart,
)

# Query input media per task type, mirroring TaskAnything.json: Image2Text questions may carry several
# images with {image#k} markers; AudioVideo2Text has a video and its audio track as two inputs.
QUERY_MEDIA: dict[str, tuple[MediaRef, ...]] = {
    "Text2Text": (),
    "Image2Text": tuple(MediaRef("image", path=f"images/DemonBench/{k}.jpg") for k in (1128, 1129, 1130)),
    "Video2Text": (MediaRef("video", path="videos/CVRR/169.mp4"),),
    "Audio2Text": (MediaRef("audio", path="audios/LTU/yhQ2Lg.mp3"),),
    "AudioVideo2Text": (MediaRef("video", path="videos/Valor/tw.mp4"),
                        MediaRef("audio", path="audios/Valor/tw.mp3")),
    "Text2Image": (),
    "Text2Video": (),
    "Text2Audio": (),
    "Image2Image": (MediaRef("image", path="images/EditBench/BG_0084.jpg"),),
    "Image2Video": (MediaRef("image", path="images/I2VBench/adc7.jpg"),),
    "Image2Audio": (MediaRef("image", path="images/ImageHear/car3.jpg"),),
    "Video2Video": (MediaRef("video", path="videos/V2VBench/aurora.mp4"),),
    "Video2Audio": (MediaRef("video", path="videos/VGGSound/9Tz.mp4"),),
    "Audio2Video": (MediaRef("audio", path="audios/AVSync/MTL8.mp3"),),
    "Audio2Audio": (MediaRef("audio", path="audios/AudioEditor/4kJ.mp3"),),
}
QUESTIONS = {
    "Image2Text": "Finish the story. Context: {image#1}Caption#1: snow track.{image#2}Caption#2: a left "
                  "turn.{image#3}",
}


def _response(task: str, k: int) -> Response:
    """Response k (0-based) in the output modality of ``task``, shaped like JudgeAnything.json."""
    out = TaskType.parse(task).output
    rid, uid = f"r{k}", f"q-{task}"
    if out == "text":
        return Response(rid, uid, f"model{k}", "text", text=f"ANSWER-TEXT-{k}")
    if task == "Audio2Video":  # CoDi's responses are lists of frame images: one video given as frames
        frames = tuple(f"Image/Audio2Video/CoDi/{uid}/{i}.jpg" for i in range(4))
        return Response(rid, uid, f"model{k}", "video", media=(MediaRef("video", frames=frames),))
    ext = {"image": "jpg", "audio": "mp3", "video": "mp4"}[out]
    return Response(rid, uid, f"model{k}", out, media=(MediaRef(out, path=f"{out}/{task}/{k}.{ext}"),))


def _query(task: str, checklist: dict[str, tuple[str, ...]] | None = None) -> Query:
    return Query(f"q-{task}", task, QUESTIONS.get(task, f"INSTRUCTION for {task}."), QUERY_MEDIA[task],
                 checklist=checklist)


def _item(task: str, setting: str, n: int = 4, checklist: dict[str, tuple[str, ...]] | None = None):
    q = _query(task, checklist)
    if setting == "score":
        return ScoreItem(f"{task}-s", q, _response(task, 0))
    if setting == "pair":
        return PairItem(f"{task}-p", q, _response(task, 0), _response(task, 1))
    return BatchItem(f"{task}-b", q, tuple(_response(task, k) for k in range(n)))


def _shape(prompt) -> list[tuple[str, str | None, str | None]]:
    return [("text", None, None) if isinstance(p, TextPart) else ("media", p.ref.modality, p.role)
            for p in prompt.parts]


def _expected_shape(task: str, n_responses: int) -> list[tuple[str, str | None, str | None]]:
    """Text, then each query media item followed by text, then each response media item followed by text."""
    t = ("text", None, None)
    shape = [t]
    for ref in QUERY_MEDIA[task]:
        shape += [("media", ref.modality, "query"), t]
    out = TaskType.parse(task).output
    if out != "text":
        for k in range(n_responses):
            shape += [("media", out, f"response {k + 1}"), t]
    return shape


@pytest.mark.parametrize("mode", ["overall", "rubrics"])
@pytest.mark.parametrize("setting", ["pair", "score"])
@pytest.mark.parametrize("task", TASK_TYPES)
def test_media_sequence_per_task(task: str, setting: str, mode: str) -> None:
    item = _item(task, setting)
    p = build_prompt(item, mode)
    n = 1 if setting == "score" else 2
    assert _shape(p) == _expected_shape(task, n)
    assert p.n_responses == n
    assert p.setting == setting and p.mode == mode
    assert p.version == f"{PROMPT_VERSION}/{setting}_{mode}"
    # media refs are the item's own, in order
    slots = [x for x in p.parts if isinstance(x, MediaSlot)]
    want = list(item.query.media) + [m for r in item.responses for m in r.media]
    assert [s.ref for s in slots] == want
    text = p.text
    # the instruction is introduced before its media; response texts appear in presentation order
    assert text.index(item.query.question.strip()) < (text.index("<query") if item.query.media else len(text))
    if TaskType.parse(task).output == "text":
        positions = [text.index(f"ANSWER-TEXT-{k}") for k in range(n)]
        assert positions == sorted(positions)
        if setting == "pair":
            assert text.index("## Response 1") < positions[0] < text.index("## Response 2") < positions[1]
    # no template syntax or sentinel left over
    for blob in (text, p.system):
        assert not re.search(r"\{\{|\}\}|\{%|%\}|\{#|#\}|\x00|Undefined", blob.replace("{image#", ""))


@pytest.mark.parametrize("task", TASK_TYPES)
def test_batch_labels_and_roles(task: str) -> None:
    p = build_prompt(_item(task, "batch", n=4), "overall")
    assert _shape(p) == _expected_shape(task, 4)
    assert p.n_responses == 4
    for letter in "ABCD":
        assert f"## Response {letter}" in p.text
    assert p.output_schema["properties"]["overall_ranking"]["pattern"] == "^[A-D]{4}$"


def test_image_markers_are_named_and_frames_are_said() -> None:
    p = build_prompt(_item("Image2Text", "pair"), "overall")
    for k in (1, 2, 3):
        assert f"[Input image {k}, written {{image#{k}}} in the instruction]" in p.text
    p = build_prompt(_item("Audio2Video", "score"), "overall")
    assert "[Response video, given as a sequence of still frames]" in p.text
    p = build_prompt(_item("AudioVideo2Text", "score"), "overall")
    assert "[Input video]\n<query video>" in p.text and "[Input audio]\n<query audio>" in p.text


@pytest.mark.parametrize("setting", ["score", "pair", "batch"])
@pytest.mark.parametrize("mode,rubrics", [("overall", None), ("rubrics", None),
                                          ("rubrics", ["clarity", "coherence"]),
                                          ("checklist", ["relevance", "completeness"])])
def test_schema_enumerates_exactly_the_requested_rubrics(setting: str, mode: str,
                                                         rubrics: list[str] | None) -> None:
    checklist = {"relevance": ("Mentions the snow.",), "completeness": ("Ends the story.", "Names the road.")}
    p = build_prompt(_item("Image2Text", setting, checklist=checklist), mode, rubrics)
    want = ("overall",) if mode == "overall" else tuple(rubrics or RUBRICS)
    assert p.rubrics == want
    suffix = {"score": "score", "pair": "choice", "batch": "ranking"}[setting]
    keys = [k for r in want for k in (f"{r}_comment", f"{r}_{suffix}")]
    s = p.output_schema
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["type"] == "object" and s["additionalProperties"] is False
    assert list(s["properties"]) == keys and s["required"] == keys
    for r in want:
        v = s["properties"][f"{r}_{suffix}"]
        if setting == "score":
            assert v["type"] == "integer" and v["enum"] == [1, 2, 3, 4, 5]
        elif setting == "pair":
            assert v["type"] == "string" and v["enum"] == ["0", "1", "2"]
        # every key the schema wants is spelled out in the prompt's answer section
        assert f'"{r}_comment"' in p.text and f'"{r}_{suffix}"' in p.text
    others = set(load_rubrics()) - set(want)
    assert not any(f'"{o}_{suffix}"' in p.text for o in others)


def test_output_schema_accepts_our_answers_and_rejects_bad_ones() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import json

    for setting, n in (("score", 1), ("pair", 2), ("batch", 3)):
        schema = output_schema(setting, RUBRICS, n)
        jsonschema.Draft202012Validator.check_schema(schema)
        good = {"score": 5, "pair": "tie", "batch": (2, 0, 1)}[setting]
        answer = json.loads(render_answer(setting, {r: good for r in RUBRICS}, n_responses=n))
        jsonschema.validate(answer, schema)
        bad = dict(answer, clarity_score=6) if setting == "score" else \
            dict(answer, clarity_choice="3") if setting == "pair" else dict(answer, clarity_ranking="ABD")
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({k: v for k, v in answer.items() if k != "coherence_comment"}, schema)


def test_checklist_items_are_listed_under_their_rubric() -> None:
    checklist = {"relevance": ("Mentions the snow.", "Uses the third image."),
                 "Clarity": ("Is one sentence.",)}  # capitalised key: matched case-insensitively
    p = build_prompt(_item("Image2Text", "score", checklist=checklist), "checklist", ["relevance", "clarity"])
    text = p.text
    assert (text.index("### Relevance") < text.index("  - Mentions the snow.")
            < text.index("  - Uses the third image."))
    assert text.index("### Clarity") < text.index("  - Is one sentence.")
    assert text.index("  - Uses the third image.") < text.index("### Clarity")
    assert p.version == f"{PROMPT_VERSION}/score_checklist"


def test_levels_shown_for_score_only() -> None:
    spec = load_rubrics()["clarity"]
    score = build_prompt(_item("Text2Image", "score"), "rubrics", ["clarity"]).text
    pair = build_prompt(_item("Text2Image", "pair"), "rubrics", ["clarity"]).text
    for k, line in spec.levels.items():
        assert f"{k} - {line}" in score
        assert f"{k} - {line}" not in pair
    assert spec.description in score and spec.description in pair


def test_empty_text_response_is_marked_and_reference_is_shown() -> None:
    q = Query("q1", "Text2Text", "What is 2+2?", reference="4")
    item = PairItem("i1", q, Response("a", "q1", "m", "text", text="4"),
                    Response("b", "q1", "m", "text", text="  "))
    text = build_prompt(item).text
    assert "(This response is empty: the system produced nothing.)" in text
    fence = data_fence(item)
    assert 'A reference answer is available' in text and f'{fence["open"]}\n4\n{fence["close"]}' in text


def test_data_text_cannot_forge_media_slots() -> None:
    q = Query("q1", "Image2Text", "look \x000\x00 here", (MediaRef("image", path="a.jpg"),))
    item = ScoreItem("i1", q, Response("a", "q1", "m", "text", text="x\x001\x00y"))
    p = build_prompt(item)
    assert _shape(p) == [("text", None, None), ("media", "image", "query"), ("text", None, None)]
    assert "look 0 here" in p.text and "x1y" in p.text


@pytest.mark.parametrize("kwargs,match", [
    ({"mode": "debate"}, "unknown mode"),
    ({"mode": "rubrics", "rubrics": ["relevance", "style"]}, r"unknown rubric\(s\) \['style'\]"),
    ({"mode": "rubrics", "rubrics": []}, "rubrics is empty"),
    ({"mode": "rubrics", "rubrics": ["clarity", "clarity"]}, "rubrics repeat"),
    ({"mode": "rubrics", "rubrics": "clarity"}, "not the string"),
    ({"mode": "overall", "rubrics": ["clarity"]}, "mode 'overall' judges the single rubric"),
    ({"mode": "checklist"}, "checklist mode needs query.checklist"),
    ({"version": "../v1"}, "plain folder name"),
    ({"version": "v9"}, "does not exist"),
])
def test_bad_requests_raise_clear_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(PromptError, match=match):
        build_prompt(_item("Image2Text", "pair"), **kwargs)


def test_checklist_missing_for_a_rubric_names_it() -> None:
    item = _item("Text2Text", "pair", checklist={"relevance": ("Answers the question.",)})
    with pytest.raises(PromptError,
                       match=r"no checklist items for rubric 'clarity' \(it has: \['relevance'\]\)"):
        build_prompt(item, "checklist", ["relevance", "clarity"])


def test_response_without_content_and_tiny_batch_raise() -> None:
    q = _query("Text2Text")
    with pytest.raises(PromptError, match=r"response r9 .* has neither text nor media"):
        build_prompt(ScoreItem("i", q, Response("r9", q.uniq_id, "m", "text")))
    with pytest.raises(PromptError, match=r"batch ranking needs 2\.\.26 responses, got 1"):
        build_prompt(BatchItem("i", q, (_response("Text2Text", 0),)))


def _copy_templates(tmp_path: Path) -> Path:
    root = tmp_path / "prompts"
    shutil.copytree(DEFAULT_TEMPLATE_DIR / PROMPT_VERSION, root / PROMPT_VERSION)
    return root


def test_template_dir_and_version_override(tmp_path: Path) -> None:
    root = _copy_templates(tmp_path)
    shutil.copytree(root / PROMPT_VERSION, root / "custom")
    (root / "custom" / "system.j2").write_text("Custom system for {{ setting }}.")
    p = build_prompt(_item("Text2Audio", "pair"), version="custom", template_dir=root)
    assert p.system == "Custom system for pair." and p.version == "custom/pair_overall"


def test_template_that_drops_media_is_refused(tmp_path: Path) -> None:
    root = _copy_templates(tmp_path)
    macros = root / PROMPT_VERSION / "_macros.j2"
    macros.write_text(macros.read_text().replace("{{ media_label(x, \"Input\") }}\n{{ x.slot }}",
                                                 "{{ media_label(x, \"Input\") }}"))
    with pytest.raises(PromptError, match=r"must place every media item exactly once.*'query'"):
        build_prompt(_item("Image2Image", "pair"), template_dir=root)


def test_template_with_undefined_variable_fails_loudly(tmp_path: Path) -> None:
    root = _copy_templates(tmp_path)
    (root / PROMPT_VERSION / "pair_overall.j2").write_text("{{ no_such_thing }}")
    with pytest.raises(PromptError, match="undefined value"):
        build_prompt(_item("Text2Text", "pair"), template_dir=root)


@pytest.mark.parametrize("bad,field", [
    ("clarity:\n  title: Clarity\n  description: x\n  levels: {1: a, 2: b, 3: c, 4: d}\n", "clarity.levels"),
    ("clarity:\n  title: Clarity\n  levels: {1: a, 2: b, 3: c, 4: d, 5: e}\n", "clarity.description"),
    ("Bad Name:\n  title: x\n", "Bad Name"),
])
def test_bad_rubric_file_names_file_and_field(tmp_path: Path, bad: str, field: str) -> None:
    root = _copy_templates(tmp_path)
    (root / PROMPT_VERSION / "rubrics.yaml").write_text(bad)
    with pytest.raises(SchemaError, match=re.escape(f"field {field!r}")) as e:
        load_rubrics(PROMPT_VERSION, root)
    assert "rubrics.yaml" in str(e.value)


def test_rubric_file_defines_the_paper_rubrics_with_five_levels() -> None:
    specs = load_rubrics()
    assert tuple(specs) == ("overall", *RUBRICS)
    for spec in specs.values():
        assert list(spec.levels) == [1, 2, 3, 4, 5] and all(spec.levels.values())


def test_describe_task_covers_every_task_type() -> None:
    texts = [describe_task(t) for t in TASK_TYPES]
    assert all(len(t) > 40 for t in texts) and len(set(texts)) == len(TASK_TYPES)
    assert "starts from that image" in describe_task("Image2Video")
    generic = describe_task("Document2Text")
    assert "document content" in generic and "a piece of text" in generic
    with pytest.raises(SchemaError, match="unknown task type"):
        describe_task("not a task")


def test_all_nine_templates_render_for_a_mixed_item() -> None:
    checklist = {r: (f"check {r}",) for r in ("overall", *RUBRICS)}
    for setting, mode in itertools.product(("score", "pair", "batch"), ("overall", "rubrics", "checklist")):
        p = build_prompt(_item("AudioVideo2Text", setting, n=3, checklist=checklist), mode)
        assert p.version == f"{PROMPT_VERSION}/{setting}_{mode}"
        assert p.text.startswith("Below is a request") and p.text.rstrip().endswith("}")
        if mode == "checklist":
            assert all(f"  - check {r}" in p.text for r in p.rubrics)
