"""Process judging (ProJudge): the error taxonomy, the per-step reader, the metrics with exact values, the
ProJudgeBench loader on files in the release's format, the probe family's labels by construction, and the
random / first baselines at their theoretical values on the probe family."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from judgeanything.analysis.process import first_error, process_metrics, step_metrics
from judgeanything.parsing.process import parse_process
from judgeanything.process.baselines import answer_json, baseline_steps, expected_metrics
from judgeanything.process.items import ProcessCase, StepLabel
from judgeanything.process.probes import process_probes
from judgeanything.process.release import load_projudgebench
from judgeanything.process.taxonomy import ERROR_TYPES, error_type
from judgeanything.schema import SchemaError

C, I = "correct", "incorrect"  # noqa: E741 (the step verdicts, short in tables)
Z = 3.29  # 99.9 % two-sided


@pytest.mark.parametrize(("name", "want"), [
    ("Reasoning Error", "reasoning"), ("Numerical Calculation Error", "numerical_calculation"),
    ("symbolic calculation", "symbolic_calculation"), ("Visual Interpretation Error", "visual_interpretation"),
    ("Knowledge Error", "knowledge"), ("Question Understanding Error", "question_understanding"),
    ("No solution provided", "no_solution"), ("calculation error", "numerical_calculation"),
    ("question_understanding", "question_understanding"), ("typo", None), ("", None), (None, None),
])
def test_error_type_reads_the_release_spellings(name: object, want: str | None) -> None:
    assert error_type(name) == want
    assert len(ERROR_TYPES) == 7


# --------------------------------------------------------------------------------------------------
# Per-step reader
# --------------------------------------------------------------------------------------------------


def test_parse_json_answer() -> None:
    raw = ('<think>step 2 looks wrong</think>Here is my evaluation:\n```json\n{"steps": [{"step": 1, "verdict": '
           '"correct"}, {"step": 2, "verdict": "incorrect", "error_type": "Numerical Calculation Error"}, '
           '{"step": 3, "correct": true}]}\n```')
    r = parse_process(raw, 3)
    assert r.failure is None and r.rule == "process/json"
    assert r.steps == ((C, None), (I, "numerical_calculation"), (C, None))


def test_parse_bare_step_objects_and_release_codes() -> None:
    raw = '[{"step": "1", "label": 1}, {"step": 2, "label": 0, "type": "knowledge"}]'
    assert parse_process(raw, 2).steps == ((C, None), (I, "knowledge"))


def test_parse_lines() -> None:
    raw = "Step 1: correct\nStep 2 - correct.\n**Step 3**: incorrect (visual interpretation error)\nStep 4: correct"
    r = parse_process(raw, 4)
    assert r.rule == "process/lines"
    assert r.steps == ((C, None), (C, None), (I, "visual_interpretation"), (C, None))


@pytest.mark.parametrize(("raw", "n", "kind", "words"), [
    ('{"steps": [{"step": 1, "verdict": "correct"}]}', 2, "parse_fail", "steps [2] not judged"),
    ('{"steps": [{"step": 1, "verdict": "correct"}, {"step": 1, "verdict": "incorrect"}, '
     '{"step": 2, "verdict": "correct"}]}', 2, "parse_fail", "judged both ways"),
    ("Step 1: correct\nStep 2: correct\nStep 3: correct", 2, "parse_fail", "outside 1..2"),
    ("The solution looks fine to me.", 2, "parse_fail", "no per-step verdicts"),
])
def test_incomplete_or_contradictory_answers_fail(raw: str, n: int, kind: str, words: str) -> None:
    r = parse_process(raw, n)
    assert r.steps == () and r.failure is not None
    assert r.failure.kind == kind and words in r.failure.detail


def test_cut_answer_is_truncated() -> None:
    r = parse_process('{"steps": [{"step": 1, "verdict": "correct"}, {"step": 2, "verd', 3, finish_reason="length")
    assert r.failure is not None and r.failure.kind == "truncated"


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------


def test_step_metrics_exact() -> None:
    ref1 = [(C, None), (I, "reasoning"), (C, None), (I, "knowledge")]
    jud1 = [(C, None), (I, "reasoning"), (I, "knowledge"), (C, None)]
    ref2 = [(C, None), (C, None)]
    jud2 = [(C, None), (C, None)]
    m = step_metrics([(ref1, jud1), (ref2, jud2)])
    # steps: 6; right: 1,2 of case 1 and both of case 2 → 4/6. Errors: 2 true, 2 flagged, 1 hit.
    assert m["step_accuracy"] == pytest.approx(4 / 6)
    assert (m["error_precision"], m["error_recall"], m["error_f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert m["first_error_accuracy"] == 1.0  # case 1: both 2; case 2: both none
    assert m["error_type_accuracy"] == 0.5 and m["error_type_accuracy_detected"] == 1.0
    assert first_error(ref1) == 2 and first_error(ref2) is None
    with pytest.raises(ValueError, match="3 steps for a solution of 4"):
        step_metrics([(ref1, jud1[:3])])


def test_process_metrics_groups_and_coverage() -> None:
    def case(cid: str, disc: str, mod: str, labels: list[StepLabel]) -> ProcessCase:
        return ProcessCase(cid, "q", tuple("s" for _ in labels), tuple(labels), discipline=disc, modality=mod)

    cases = [case("a", "math", "text", [StepLabel(C), StepLabel(I, "reasoning")]),
             case("b", "physics", "single_image", [StepLabel(I, "knowledge")]),
             case("c", "math", "single_image", [StepLabel(C)])]
    judged = {"a": [(C, None), (C, None)], "b": [(I, "knowledge")], "c": None}
    m = process_metrics(cases, judged)
    assert m["coverage"] == {"cases": 3, "judged": 2, "failed": 1}
    assert m["pooled"]["step_accuracy"] == pytest.approx(2 / 3)
    assert m["discipline"]["math"]["step_accuracy"] == 0.5
    assert m["discipline"]["physics"]["error_type_accuracy"] == 1.0
    assert set(m["modality"]) == {"text", "single_image"}


# --------------------------------------------------------------------------------------------------
# ProJudgeBench loader (files in the release's format)
# --------------------------------------------------------------------------------------------------


def release_rows() -> list[dict]:
    return [
        {"id": "k12_math_0", "question": "Compute 2+3*4.", "subject": "Math", "data_type": "pure_text",
         "image_paths": {"<image_1>": ""}, "student_solution": "...", "difficulty": "K12",
         "process_evaluation": [["3*4 = 12", "1", "", ""], ["2 + 12 = 15", "0", "Numerical Calculation Error",
                                                                   "2 + 12 is 14"], ["The answer is 15", "1", "", ""]]},
        {"id": "olymp_phys_3", "question": "<image_1> <image_2> Find v.", "subject": "Physics",
         "data_type": "multi_image", "image_paths": {"<image_1>": "images/a.png", "<image_2>": "images/b.png"},
         "process_evaluation": [["Read the slope as 3", "0", "Visual Interpretation Error", "it is 2"],
                                ["v = 3 m/s", "1", "", ""]]},
    ]


def test_projudgebench_parquet(tmp_path: Path) -> None:
    path = tmp_path / "test.parquet"
    pq.write_table(pa.Table.from_pylist(release_rows()), path)
    cases = load_projudgebench(path)
    assert [c.case_id for c in cases] == ["k12_math_0", "olymp_phys_3"]
    a, b = cases
    assert a.steps == ("3*4 = 12", "2 + 12 = 15", "The answer is 15") and a.first_error == 2
    assert a.labels[1] == StepLabel(I, "numerical_calculation", "2 + 12 is 14")
    assert (a.discipline, a.modality, a.media, a.meta["difficulty"]) == ("math", "text", (), "K12")
    assert b.modality == "multi_image" and [m.path for m in b.media] == ["images/a.png", "images/b.png"]
    assert b.labels[0].error_type == "visual_interpretation"
    assert [c.case_id for c in load_projudgebench(path, subjects={"physics"})] == ["olymp_phys_3"]


@pytest.mark.parametrize(("edit", "field"), [
    (lambda r: r.pop("question"), "question"),
    (lambda r: r["process_evaluation"][1].__setitem__(1, "2"), "process_evaluation[1]"),
    (lambda r: r["process_evaluation"][1].__setitem__(2, "Typo Error"), "process_evaluation[1]"),
    (lambda r: r.__setitem__("process_evaluation", []), "process_evaluation"),
])
def test_projudgebench_bad_rows_name_file_row_field(tmp_path: Path, edit: object, field: str) -> None:
    rows = release_rows()
    edit(rows[0])  # type: ignore[operator]
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(SchemaError) as e:
        load_projudgebench(path)
    assert e.value.row == 1 and e.value.field == field and str(path) in str(e.value)


def test_projudgebench_duplicate_id(tmp_path: Path) -> None:
    rows = release_rows()
    rows[1]["id"] = rows[0]["id"]
    path = tmp_path / "test.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(SchemaError, match="duplicate id"):
        load_projudgebench(path)


# --------------------------------------------------------------------------------------------------
# Probe family: labels by construction
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ProcessCase]]:
    root = tmp_path_factory.mktemp("probes")
    return root, process_probes(root, size=60, seed=3)


def test_probe_labels_by_construction(probes: tuple[Path, list[ProcessCase]]) -> None:
    cases = probes[1]
    assert len(cases) == 180
    for c in cases:
        errs = [i + 1 for i, lab in enumerate(c.labels) if lab.is_error]
        assert errs == ([] if c.meta["error_step"] is None else [c.meta["error_step"]])
        assert c.first_error == c.meta["error_step"]
        if errs:
            assert c.labels[errs[0] - 1].error_type == c.meta["error_type"]
    kinds = {(c.meta["kind"], c.meta["error_type"]) for c in cases}
    assert {("geometry", "knowledge"), ("chart", None), ("arithmetic", "question_understanding")} <= kinds
    assert {c.modality for c in cases if c.meta["kind"] == "arithmetic"} == {"text"}


def _numbers(s: str) -> list[int]:
    return [int(x) for x in re.findall(r"-?\d+", s.replace("−", "-"))]


def test_arithmetic_steps_are_right_except_the_injected_one(probes: tuple[Path, list[ProcessCase]]) -> None:
    for c in (c for c in probes[1] if c.meta["kind"] == "arithmetic"):
        n_q, price = _numbers(c.question)[1], _numbers(c.question)[0]
        bought, price_s = _numbers(c.steps[0])
        ok = [bought == n_q and price_s == price]
        b, p, cost = _numbers(c.steps[1])
        ok.append(b * p == cost)
        note, cost2, change = _numbers(c.steps[2].replace(" - ", " "))[:3]
        assert change > 0
        ok.append(note - cost2 == change)
        ok.append(_numbers(c.steps[3])[0] == change)
        assert [not x for x in ok] == [lab.is_error for lab in c.labels], (c.question, c.steps)


def test_chart_figure_shows_the_true_values(probes: tuple[Path, list[ProcessCase]]) -> None:
    root, cases = probes
    for c in [c for c in cases if c.meta["kind"] == "chart"][:6]:
        img = np.asarray(Image.open(root / c.media[0].path).convert("RGB")).astype(int)
        heights = []
        for i in range(3):
            col = img[:, 30 + 15 + i * 65 + 20]
            heights.append(int(((np.abs(col - 255).sum(axis=1) > 60) & (np.arange(len(col)) < 155)).sum()))
        unit = (180 - 25 - 15) / 10
        read = [_numbers(s)[0] for s in c.steps[:3]]
        truth = [round(h / unit) for h in heights]
        wrong = [r != t for r, t in zip(read, truth, strict=True)]
        assert wrong == [lab.is_error for lab in c.labels[:3]], (read, truth)


# --------------------------------------------------------------------------------------------------
# Baselines at their theoretical values
# --------------------------------------------------------------------------------------------------


def run_baseline(name: str, cases: list[ProcessCase]) -> dict:
    judged = {}
    for c in cases:
        r = parse_process(answer_json(baseline_steps(name, c.case_id, len(c.steps))), len(c.steps))
        assert r.failure is None
        judged[c.case_id] = list(r.steps)
    return process_metrics(cases, judged)["pooled"]


def test_first_baseline_lands_exactly_on_its_theoretical_values(probes: tuple[Path, list[ProcessCase]]) -> None:
    cases = probes[1]
    got, want = run_baseline("first", cases), expected_metrics("first", cases)
    for k, v in want.items():
        assert got[k] == pytest.approx(v), k
    assert want["first_error_accuracy"] == pytest.approx(sum(c.first_error is None for c in cases) / len(cases))


def test_random_baseline_lands_on_its_theoretical_values(probes: tuple[Path, list[ProcessCase]]) -> None:
    cases = probes[1]
    got, want = run_baseline("random", cases), expected_metrics("random", cases)
    n_steps, n_cases = got["steps"], got["cases"]
    n_err = sum(lab.is_error for c in cases for lab in c.labels)
    assert abs(got["step_accuracy"] - 0.5) <= Z * math.sqrt(0.25 / n_steps)
    assert abs(got["error_recall"] - 0.5) <= Z * math.sqrt(0.25 / n_err)
    assert abs(got["first_error_accuracy"] - want["first_error_accuracy"]) <= Z * math.sqrt(0.25 / n_cases)
    p = want["error_type_accuracy"]
    assert p == pytest.approx(1 / 14)
    assert abs(got["error_type_accuracy"] - p) <= Z * math.sqrt(p * (1 - p) / n_err)
    pi = want["error_precision"]
    assert abs(got["error_precision"] - pi) <= Z * math.sqrt(pi * (1 - pi) / (n_steps / 2))
    assert abs(got["error_f1"] - want["error_f1"]) <= 0.1


def test_baseline_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from judgeanything.process.__main__ import main

    assert main(["--size", "4", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "process_baselines.json").read_text())
    first = report["first"]
    assert first["observed"]["pooled"]["step_accuracy"] == pytest.approx(first["expected"]["step_accuracy"])
    assert first["observed"]["coverage"] == {"cases": 12, "judged": 12, "failed": 0}
    assert "| first | first_error_accuracy |" in capsys.readouterr().out
    path = tmp_path / "test.parquet"
    pq.write_table(pa.Table.from_pylist(release_rows()), path)
    assert main(["--projudgebench", str(path), "--out", str(tmp_path)]) == 0
    assert set(json.loads((tmp_path / "process_baselines.json").read_text())["random"]["observed"]["discipline"]) \
        == {"math", "physics"}
    assert main(["--projudgebench", str(tmp_path / "missing.parquet")]) == 1
