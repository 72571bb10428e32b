"""Judge Anything adapter: synthetic files for every conversion and bad input; the real release metadata
(../shared) for counts and exact items."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from judgeanything.datasets.base import Dataset
from judgeanything.datasets.judgeanything import JudgeAnythingDataset, read_judging_output
from judgeanything.schema import TASK_TYPES, MediaRef, PairItem, SchemaError, ScoreItem, TaskType


def _assert_at(
    err: pytest.ExceptionInfo[SchemaError], file: Path, row: int | None, field: str | None
) -> None:
    """The error names the file, the row and the field, in its message and its attributes."""
    e = err.value
    assert e.file == str(file) and str(file) in str(e)
    assert e.row == row
    if row is not None:
        assert f"row {row}" in str(e)
    assert e.field == field
    if field is not None:
        assert repr(field) in str(e)


# --------------------------------------------------------------------------------------------------
# Synthetic release: conversions
# --------------------------------------------------------------------------------------------------


def test_is_a_dataset(ja_files):
    assert isinstance(JudgeAnythingDataset(**ja_files), Dataset)


def test_score_items_ids_and_text(ja_files):
    data = JudgeAnythingDataset(**ja_files).load("score")
    assert data.name == "judgeanything" and data.setting == "score"
    assert len(data.items) == 16
    assert [i.item_id for i in data.items[:4]] == ["t1::m_a", "t1::m_b", "t1::m_c", "t1::m_d"]
    first = data.items[0]
    assert isinstance(first, ScoreItem)
    assert first.response.text == "answer of m_a to t1"
    assert first.response.response_id == "r-t1-m_a"
    assert first.response.modality == "text"
    assert first.query.question == "What is 2+2?" and first.query.media == ()
    assert data.labels == [] and data.data_root is None


def test_codi_frames_sorted_into_one_video_and_still_kept_as_image(ja_files):
    items = {i.item_id: i for i in JudgeAnythingDataset(**ja_files).load("score").items}
    codi = items["av1::codi"].response
    assert codi.modality == "video"
    assert codi.media == (MediaRef("video", frames=tuple(f"Image/codi/av1/{k}.jpg" for k in range(4))),)
    assert codi.meta["frames_reordered"] is True
    still = items["av1::gluegen"].response
    assert still.modality == "video"
    assert still.media == (MediaRef("image", path="Image/gluegen/av1/sample_00000.jpg"),)
    video = items["av1::mmdiffusion"].response
    assert video.media == (MediaRef("video", path="Video/mmdiffusion/av1.mp4"),) and not video.meta


def test_frames_with_non_numeric_stems_keep_listed_order(write, ja_rows):
    rows = ja_rows["responses"]
    rows[4]["response"]["content"] = ["x/b.jpg", "x/a.jpg"]
    d = JudgeAnythingDataset(write("T.json", ja_rows["queries"]), write("J.json", rows))
    codi = next(i for i in d.load("score").items if i.item_id == "av1::codi").response
    assert codi.media[0].frames == ("x/b.jpg", "x/a.jpg") and codi.meta["frames_reordered"] is False


def test_query_media_order_video_then_audio_and_image_lists(ja_files):
    items = {i.query.uniq_id: i.query for i in JudgeAnythingDataset(**ja_files).load("batch").items}
    assert items["avt1"].media == (
        MediaRef("video", path="videos/v.mp4"),
        MediaRef("audio", path="audios/v.mp3"),
    )
    assert items["it1"].media == tuple(MediaRef("image", path=f"images/{k}.jpg") for k in (1, 2, 3))
    assert items["av1"].media == (MediaRef("audio", path="audios/a.mp3"),)


def test_response_dir_prefixes_response_media_only(ja_files, tmp_path):
    d = JudgeAnythingDataset(**ja_files, data_dir=tmp_path, response_dir="RawResponse")
    data = d.load("score")
    items = {i.item_id: i for i in data.items}
    assert items["av1::gluegen"].response.media[0].path == "RawResponse/Image/gluegen/av1/sample_00000.jpg"
    assert items["av1::gluegen"].query.media[0].path == "audios/a.mp3"
    assert data.data_root == tmp_path
    assert not any("does not exist" in n for n in data.notes)


def test_missing_media_root_loads_with_a_note(ja_files, tmp_path):
    data = JudgeAnythingDataset(**ja_files, data_dir=tmp_path / "nope").load("pair")
    assert len(data.items) == 8
    assert any("does not exist" in n and "nope" in n for n in data.notes)


def test_pairs_release_order_and_all_pairs(ja_files):
    pairs = JudgeAnythingDataset(**ja_files).load("pair").items
    assert [p.item_id for p in pairs[:2]] == ["t1::m_a_vs_m_b", "t1::m_c_vs_m_d"]
    assert all(isinstance(p, PairItem) for p in pairs) and len(pairs) == 8
    assert pairs[0].response_a.model_name == "m_a" and pairs[0].response_b.model_name == "m_b"
    allp = JudgeAnythingDataset(**ja_files, all_pairs=True).load("pair").items
    assert len(allp) == 24
    assert [p.meta["slots"] for p in allp[:6]] == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    assert allp[1].item_id == "t1::m_a_vs_m_c"


def test_batch_items(ja_files):
    batch = JudgeAnythingDataset(**ja_files).load("batch")
    assert [b.item_id for b in batch.items] == ["t1::batch", "av1::batch", "avt1::batch", "it1::batch"]
    assert [r.model_name for r in batch.items[1].responses] == [
        "codi",
        "gluegen",
        "mmdiffusion",
        "tempotokens",
    ]
    assert any("no human batch rankings" in n for n in batch.notes)


def test_tasks_filter_limit_and_unknown_task(ja_files):
    d = JudgeAnythingDataset(**ja_files, tasks=["Text2Text", "Image2Text"])
    assert {i.query.task_name for i in d.load("score").items} == {"Text2Text", "Image2Text"}
    assert len(JudgeAnythingDataset(**ja_files, tasks="Text2Text").load("batch").items) == 1
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(**ja_files, tasks=["Text2Txt"]).load("score")
    assert err.value.field == "tasks" and "'Text2Txt'" in str(err.value)
    assert "known: Text2Text, Image2Text, AudioVideo2Text, Audio2Video" in str(err.value)
    with pytest.raises(ValueError, match="limit"):
        JudgeAnythingDataset(**ja_files, limit=0)
    with pytest.raises(ValueError, match="unknown setting"):
        JudgeAnythingDataset(**ja_files).load("ranking")


def test_limit_keeps_first_queries_per_task(write, ja_rows):
    queries = ja_rows["queries"] + [{"uniq_id": "t2", "task_name": "Text2Text", "question": "q"}]
    rows = ja_rows["responses"] + [
        {
            "uniq_id": "t2",
            "response_id": "x",
            "task_name": "Text2Text",
            "model_name": "m_a",
            "response": {"type": "text", "content": "a"},
        }
    ]
    d = JudgeAnythingDataset(write("T.json", queries), write("J.json", rows), limit=1)
    assert [b.query.uniq_id for b in d.load("score").items if b.query.task_name == "Text2Text"] == ["t1"] * 4


# --------------------------------------------------------------------------------------------------
# Synthetic release: bad input
# --------------------------------------------------------------------------------------------------


def test_missing_required_field(write, ja_rows):
    q = ja_rows["queries"]
    del q[1]["question"]
    path = write("T.json", q)
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(path, write("J.json", ja_rows["responses"])).load("score")
    _assert_at(err, path, 2, "question")


def test_missing_media_field_of_the_task(write, ja_rows):
    q = ja_rows["queries"]
    del q[2]["audio_path"]
    path = write("T.json", q)
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(path, write("J.json", ja_rows["responses"])).load("score")
    _assert_at(err, path, 3, "audio_path")


def test_unknown_task_type_in_the_file(write, ja_rows):
    q = ja_rows["queries"]
    q[3]["task_name"] = "image-to-text"
    path = write("T.jsonl", q)
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(path, write("J.json", ja_rows["responses"])).load("score")
    _assert_at(err, path, 4, "task_name")
    assert "Image2Text" in str(err.value)  # the known task types are listed


def test_malformed_jsonl_line(write, ja_rows):
    lines: list = [*ja_rows["queries"][:2], '{"uniq_id": "x", "task_name": ', ja_rows["queries"][2]]
    path = write("T.jsonl", lines)
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(path, write("J.json", ja_rows["responses"])).load("score")
    _assert_at(err, path, 3, None)
    assert "line 3" in str(err.value)


def test_response_errors(write, ja_rows):
    t = write("T.json", ja_rows["queries"])
    cases = [
        (lambda rs: rs[5].update(uniq_id="nope"), 6, "uniq_id"),
        (lambda rs: rs[5].update(task_name="Text2Audio"), 6, "task_name"),
        (lambda rs: rs[7].update(model_name=rs[6]["model_name"]), 8, "model_name"),
        (lambda rs: rs[0]["response"].pop("content"), 1, "response.content"),
        (lambda rs: rs[0]["response"].update(type="smell"), 1, "response.type"),
        (lambda rs: rs[0]["response"].update(content=["a"]), 1, "response.content"),
        (lambda rs: rs[4]["response"].update(content=[]), 5, "response.content"),
        (lambda rs: rs[9].pop("response"), 10, "response"),
    ]
    for mutate, row, field in cases:
        rows = json.loads(json.dumps(ja_rows["responses"]))
        mutate(rows)
        path = write("J.json", rows)
        with pytest.raises(SchemaError) as err:
            JudgeAnythingDataset(t, path).load("score")
        _assert_at(err, path, row, field)


def test_missing_files_are_clear(tmp_path):
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(tmp_path / "TaskAnything.json", tmp_path / "J.json").load("score")
    assert err.value.file == str(tmp_path / "TaskAnything.json") and "does not exist" in str(err.value)


# --------------------------------------------------------------------------------------------------
# Human labels and checklists
# --------------------------------------------------------------------------------------------------


def _score_row(**kw):
    row = {
        "uniq_id": "t1",
        "task_name": "Text2Text",
        "model_name": "m_b",
        "rubric_name": "overall_score",
        "score": 4,
        "comment": "",
    }
    row.update(kw)
    return row


def _pair_row(**kw):
    row = {
        "uniq_id": "t1",
        "task_name": "Text2Text",
        "model_pair": "m_a_vs_m_b",
        "rubric_name": "overall_score",
        "choice": "0",
        "comment": "",
    }
    row.update(kw)
    return row


def test_human_scoring_rubrics_and_several_annotators(ja_files, write):
    path = write(
        "Human_Scoring.json",
        [
            _score_row(index=0),
            _score_row(index=1, score=2),
            _score_row(rubric_name="Relevance", score="5"),
            _score_row(uniq_id="av1", task_name="Audio2Video", model_name="codi", score=1, annotator="ann7"),
        ],
    )
    data = JudgeAnythingDataset(**ja_files, human_scoring=path).load("score")
    got = [(lab.item_id, lab.rubric, lab.value, lab.annotator) for lab in data.labels]
    assert got == [
        ("t1::m_b", "overall", 4, "0"),
        ("t1::m_b", "overall", 2, "1"),
        ("t1::m_b", "relevance", 5, "row3"),
        ("av1::codi", "overall", 1, "ann7"),
    ]
    assert any("annotators per item×rubric: {1: 2, 2: 1}" in n for n in data.notes)
    # human pairing is not read for the score setting, scoring not for pair
    assert JudgeAnythingDataset(**ja_files, human_scoring=path).load("pair").labels == []


def test_human_scoring_skips_rows_of_queries_not_loaded(ja_files, write):
    path = write(
        "Human_Scoring.json",
        [_score_row(), _score_row(uniq_id="it1", task_name="Image2Text", model_name="claude")],
    )
    data = JudgeAnythingDataset(**ja_files, human_scoring=path, tasks=["Text2Text"]).load("score")
    assert [lab.item_id for lab in data.labels] == ["t1::m_b"]
    assert any("1 rows skipped (query not loaded)" in n for n in data.notes)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (_score_row(score=7), "score"),
        (_score_row(score=0), "score"),
        (_score_row(score="four"), "score"),
        (_score_row(score=3.5), "score"),
        (_score_row(uniq_id="zzz"), "uniq_id"),
        (_score_row(model_name="m_z"), "model_name"),
        (_score_row(rubric_name="beauty"), "rubric_name"),
        (_score_row(task_name="Image2Text"), "task_name"),
        ({"uniq_id": "t1", "model_name": "m_a", "rubric_name": "overall_score"}, "score"),
    ],
)
def test_human_scoring_bad_rows(ja_files, write, row, field):
    path = write("Human_Scoring.jsonl", [_score_row(), row])
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(**ja_files, human_scoring=path).load("score")
    _assert_at(err, path, 2, field)


def test_human_pairing_choices_swap_and_unformed_pairs(ja_files, write):
    path = write(
        "Human_Pairing.json",
        [
            _pair_row(choice="0"),
            _pair_row(model_pair="m_b_vs_m_a", choice="0", user="u2"),  # named the other way round → swapped
            _pair_row(model_pair="m_d_vs_m_c", choice=1),
            _pair_row(model_pair="m_c_vs_m_d", choice="2", rubric_name="clarity"),
            _pair_row(model_pair="m_a_vs_m_c", choice="2"),  # not a release pair
        ],
    )
    data = JudgeAnythingDataset(**ja_files, human_pairing=path).load("pair")
    got = [(lab.item_id, lab.rubric, lab.value, lab.annotator) for lab in data.labels]
    assert got == [
        ("t1::m_a_vs_m_b", "overall", "first", "row1"),
        ("t1::m_a_vs_m_b", "overall", "second", "u2"),
        ("t1::m_c_vs_m_d", "overall", "tie", "row3"),
        ("t1::m_c_vs_m_d", "clarity", "second", "row4"),
    ]
    assert any("1 rows skipped (pair not formed)" in n for n in data.notes)
    allp = JudgeAnythingDataset(**ja_files, human_pairing=path, all_pairs=True).load("pair")
    assert ("t1::m_a_vs_m_c", "second") in [(lab.item_id, lab.value) for lab in allp.labels]


def test_model_pair_with_underscores_in_model_names(write, ja_rows):
    rows = ja_rows["responses"]
    for r, m in zip(rows[:4], ["a_vs_b", "c", "d_x", "e"], strict=True):
        r["model_name"] = m
    d = JudgeAnythingDataset(
        write("T.json", ja_rows["queries"]),
        write("J.json", rows),
        human_pairing=write("P.json", [_pair_row(model_pair="c_vs_a_vs_b", choice="0")]),
    )
    data = d.load("pair")
    assert data.items[0].item_id == "t1::a_vs_b_vs_c"
    assert [(lab.item_id, lab.value) for lab in data.labels] == [("t1::a_vs_b_vs_c", "second")]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (_pair_row(choice="3"), "choice"),
        (_pair_row(choice="A"), "choice"),
        (_pair_row(uniq_id="zzz"), "uniq_id"),
        (_pair_row(model_pair="m_a_vs_m_z"), "model_pair"),
        (_pair_row(model_pair="m_a-m_b"), "model_pair"),
        (_pair_row(rubric_name=""), "rubric_name"),
    ],
)
def test_human_pairing_bad_rows(ja_files, write, row, field):
    path = write("Human_Pairing.json", [_pair_row(), _pair_row(), row])
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(**ja_files, human_pairing=path).load("pair")
    _assert_at(err, path, 3, field)


def test_checklists(ja_files, write):
    path = write(
        "checklist.json",
        [
            {"uniq_id": "t1", "rubric": "overall_score", "checklists": ["Is the answer 4?", "Is it brief?"]},
            {"uniq_id": "t1", "rubric": "Clarity", "checklists": ["Is it clear?"]},
            {"uniq_id": "t1", "rubric": "clarity", "checklists": ["Is it clear?"]},  # an identical repeat
        ],
    )
    data = JudgeAnythingDataset(**ja_files, checklist=path).load("batch")
    q = {i.query.uniq_id: i.query for i in data.items}
    assert q["t1"].checklist == {
        "overall": ("Is the answer 4?", "Is it brief?"),
        "clarity": ("Is it clear?",),
    }
    assert q["av1"].checklist is None
    bad = write("checklist2.json", [{"uniq_id": "t1", "rubric": "clarity", "checklists": "Is it clear?"}])
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(**ja_files, checklist=bad).load("batch")
    _assert_at(err, bad, 1, "checklists")
    clash = write(
        "checklist3.json",
        [
            {"uniq_id": "t1", "rubric": "clarity", "checklists": ["a"]},
            {"uniq_id": "t1", "rubric": "clarity", "checklists": ["b"]},
        ],
    )
    with pytest.raises(SchemaError) as err:
        JudgeAnythingDataset(**ja_files, checklist=clash).load("batch")
    _assert_at(err, clash, 2, "checklists")
    assert "first at row 1" in str(err.value)


# --------------------------------------------------------------------------------------------------
# Judging-script output (recorded verdicts for the replay judge)
# --------------------------------------------------------------------------------------------------


def test_read_judging_output_pairs_and_scores(ja_files, write):
    ds = JudgeAnythingDataset(**ja_files)
    pairs = ds.load("pair").items
    out = write(
        "Pair_overall.json",
        [
            _pair_row(choice="2", comment="B is right"),
            _pair_row(model_pair="m_d_vs_m_c", choice="0"),  # other order → swapped
            _pair_row(model_pair="m_c_vs_m_d", choice="1", rubric_name="relevance"),
            _pair_row(uniq_id="it1", task_name="Image2Text", model_pair="qwen-vl-max_vs_claude", choice="0"),
        ],
    )
    got = read_judging_output(out, pairs)
    assert {k: [(v.rubric, v.value, v.comment) for v in vs] for k, vs in got.items()} == {
        "t1::m_a_vs_m_b": [("overall", "second", "B is right")],
        "t1::m_c_vs_m_d": [("overall", "second", ""), ("relevance", "tie", "")],
    }
    scores = ds.load("score").items
    s_out = write(
        "Score_rubric.jsonl", [_score_row(score=3, comment="ok"), _score_row(rubric_name="coherence")]
    )
    got = read_judging_output(s_out, scores)
    assert [(v.rubric, v.value, v.comment) for v in got["t1::m_b"]] == [
        ("overall", 3, "ok"),
        ("coherence", 4, ""),
    ]
    assert read_judging_output(s_out, pairs) == {}


def test_read_judging_output_bad_values_strict_and_lenient(ja_files, write):
    scores = JudgeAnythingDataset(**ja_files).load("score").items
    out = write(
        "Score.json",
        [
            _score_row(score=9),
            _score_row(rubric_name="clarity", score=2),
            _score_row(rubric_name="coherence", score=None),
        ],
    )
    with pytest.raises(SchemaError) as err:
        read_judging_output(out, scores)
    _assert_at(err, out, 1, "score")
    got = read_judging_output(out, scores, strict=False)
    assert [(v.rubric, v.value) for v in got["t1::m_b"]] == [("clarity", 2)]
    dup = write("Dup.json", [_score_row(), _score_row(score=2)])
    with pytest.raises(SchemaError) as err:
        read_judging_output(dup, scores, strict=False)
    _assert_at(err, dup, 2, "rubric_name")
    neither = write("Neither.json", [{"uniq_id": "t1", "rubric_name": "overall_score", "score": 3}])
    with pytest.raises(SchemaError) as err:
        read_judging_output(neither, scores, strict=False)
    _assert_at(err, neither, 1, "model_pair")


# --------------------------------------------------------------------------------------------------
# The real release metadata (../shared)
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(shared_dir: Path) -> dict[str, Path]:
    root = shared_dir / "data" / "judgeanything"
    return {"task_anything": root / "TaskAnything.json", "judge_anything": root / "JudgeAnything.json"}


@pytest.fixture(scope="module")
def raw(release: dict[str, Path]) -> dict[str, list[dict]]:
    return {
        "queries": json.loads(release["task_anything"].read_text()),
        "responses": json.loads(release["judge_anything"].read_text()),
    }


@pytest.fixture(scope="module")
def score_data(release):
    return JudgeAnythingDataset(**release, data_dir=release["task_anything"].parent / "media").load("score")


def test_release_counts(release, score_data):
    items = score_data.items
    assert len(items) == 6000
    assert len({i.query.uniq_id for i in items}) == 1500
    assert Counter(i.query.task_name for i in items) == {t: 400 for t in TASK_TYPES}
    queries = {i.query.uniq_id: i.query for i in items}
    assert Counter(q.task_name for q in queries.values()) == {t: 100 for t in TASK_TYPES}
    for q in queries.values():  # every task type maps to input/output modalities
        tt = TaskType.parse(q.task_name)
        assert tt.output in ("text", "image", "audio", "video")
        assert {m.modality for m in q.media} == set(tt.non_text_inputs)
    for r in (i.response for i in items):
        assert r.modality == queries[r.uniq_id].task.output
    ds = JudgeAnythingDataset(**release)
    assert len(ds.load("pair").items) == 3000
    assert len(JudgeAnythingDataset(**release, all_pairs=True).load("pair").items) == 9000
    assert len(ds.load("batch").items) == 1500
    assert len({i.item_id for i in items}) == 6000


def test_release_items_match_raw_json(score_data, raw):
    """Independent recomputation: every response's text / media path equals the raw JSON's."""
    by_id = {i.item_id: i for i in score_data.items}
    for row in raw["responses"]:
        item = by_id[f"{row['uniq_id']}::{row['model_name']}"]
        r, content = item.response, row["response"]["content"]
        assert r.response_id == row["response_id"]
        if row["response"]["type"] == "text":
            assert r.text == content and r.media == ()
        elif isinstance(content, list):
            assert sorted(r.media[0].frames) == sorted(content) and r.media[0].modality == "video"
        else:
            assert r.media == (MediaRef(row["response"]["type"], path=content),)
    queries = {i.query.uniq_id: i.query for i in score_data.items}
    for row in raw["queries"]:
        assert queries[row["uniq_id"]].question == row["question"]


def test_release_exact_items(release, score_data):
    by_id = {i.item_id: i for i in score_data.items}
    t2t = by_id["34d8478e::meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo_answer"]
    assert t2t.query.task_name == "Text2Text" and t2t.query.media == ()
    assert t2t.response.text.startswith("Thanks for your help!\n\nAnswer: The problem you are experiencing")
    assert t2t.response.response_id == "c08610f9"
    av = by_id["1732173202_1054_7e05b36d::gemini"].query
    assert av.media == (
        MediaRef("video", path="videos/Valor_AVQA/twhC-FhqnkU_0.000_10.000.mp4"),
        MediaRef("audio", path="audios/Valor_AVQA/twhC-FhqnkU_0.000_10.000.mp3"),
    )
    multi = by_id["1732019006_376_7b6a1840::Phi3V"].query
    assert [m.path for m in multi.media] == [
        f"images/DemonBench/DiDeMoSV/{k}.jpg" for k in (1128, 1129, 1130)
    ]
    uid = "173ece7b-5db5-4ce7-b61e-363668888e88"
    codi = by_id[f"{uid}::codi"].response
    assert codi.media == (
        MediaRef("video", frames=tuple(f"Image/Audio2Video/CoDi/{uid}/{k}.jpg" for k in range(4))),
    )
    assert by_id[f"{uid}::gluegen"].response.media == (
        MediaRef("image", path=f"Image/Audio2Video/GlueGen_DDIM/{uid}/sample_00000.jpg"),
    )
    assert any("100 listed out of order (0, 2, 1, 3)" in n for n in score_data.notes)
    assert any("does not exist" in n for n in score_data.notes)
    pairs = JudgeAnythingDataset(**release, tasks=["Text2Text"]).load("pair").items
    assert [p.item_id for p in pairs[:2]] == [
        "34d8478e::meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo_answer_vs_Qwen/Qwen2.5-72B-Instruct-Turbo_answer",
        "34d8478e::gpt-4o-mllm_answer_vs_claude-3-5-sonnet-20241022_answer",
    ]


def test_release_task_filter_and_limit(release):
    data = JudgeAnythingDataset(**release, tasks=["Text2Text"]).load("score")
    assert len(data.items) == 400 and {i.query.task_name for i in data.items} == {"Text2Text"}
    small = JudgeAnythingDataset(**release, limit=2).load("batch")
    assert Counter(i.query.task_name for i in small.items) == {t: 2 for t in TASK_TYPES}


def test_yaml_instantiates(shared_dir, monkeypatch):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    monkeypatch.setenv("JUDGEANYTHING_DATA", str(shared_dir / "data"))
    cfg = OmegaConf.load(
        Path(__file__).parents[2] / "judgeanything" / "conf" / "benchmark" / "judgeanything.yaml"
    )
    cfg.tasks = ["Image2Text"]
    ds = instantiate(cfg)
    data = ds.load("pair")
    assert isinstance(ds, JudgeAnythingDataset) and len(data.items) == 200
    assert data.data_root == shared_dir / "data" / "judgeanything"


def test_recorded_outputs_feed_replay(tmp_path, shared_dir):
    import json

    from judgeanything.datasets.judgeanything import JudgeAnythingDataset

    ja = shared_dir / "data" / "judgeanything"
    ds = JudgeAnythingDataset(ja / "TaskAnything.json", ja / "JudgeAnything.json", tasks=["Text2Text"],
                              limit=2)
    items = ds.load("pair").items
    a, b = items[0].item_id.split("::")[1].split("_vs_")
    rows = [{"uniq_id": items[0].query.uniq_id, "task_name": "Text2Text", "model_pair": f"{b}_vs_{a}",
             "rubric_name": "overall_choice", "choice": "0", "comment": "second wins"}]
    out = tmp_path / "judge_out.json"
    out.write_text(json.dumps(rows))
    ds.recorded_outputs = {"gpt-4o": out}
    data = ds.load("pair")
    (v,) = data.recorded["gpt-4o"][items[0].item_id]
    assert v.value == "second"  # "0" = first of the file's pair, which is our item's second response
