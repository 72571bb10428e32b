"""The tidy metrics table is the single source: metrics.json is its rows nested, metrics.csv its listed rows; and
the section functions on small hand-made runs give the values worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeanything.analysis import analyze_run, load_run, read_metrics_csv
from judgeanything.analysis.metrics import compute_metrics, compute_table, setting_frames
from judgeanything.analysis.options import AnalysisOptions
from judgeanything.analysis.sections import (
    RubricFrames,
    breakdown_section,
    cross_modality_section,
    distribution_section,
    failure_section,
    macro_section,
    pooled_section,
    position_section,
)
from judgeanything.analysis.table import MetricRow, MetricTable, Rows, is_stat, lookup, nest, stat_triple, stat_value
from judgeanything.analysis.units import human_labels

from .runbuilder import fail, item, label, record, v, write_run

NO_BOOT = AnalysisOptions(bootstrap=0)


def _pair_run(d: Path) -> Path:
    """8 pair items over two task types, two rubrics, judged in both orders; item 7's verdicts all fail."""
    items, labels, verdicts = [], [], []
    for i in range(8):
        iid = f"q{i}::pair"
        items.append(item(iid, "pair", "Image2Text" if i < 4 else "Text2Image", ["m1", "m2"],
                          texts=["short", "a much longer response"]))
        for rb in ("overall", "clarity"):
            labels.append(label(iid, "first" if i % 2 else "second", rubric=rb))
        for order in ((0, 1), (1, 0)):
            if i == 7:
                verdicts.append(record(iid, "pair", [fail("parse_fail"), fail("parse_fail", "clarity")], order=order))
                continue
            choice = "first" if i % 3 else ("tie" if order == (0, 1) else "second")
            verdicts.append(record(iid, "pair", [v(choice), v("first", "clarity")], order=order,
                                   usage={"prompt_tokens": 10, "completion_tokens": 2}, latency_s=0.5))
    return write_run(d, items=items, labels=labels, verdicts=verdicts, run={"mode": "rubrics"})


@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = _pair_run(tmp_path_factory.mktemp("table") / "pair")
    analyze_run(d, bootstrap=50)
    return d


def _frames(d: Path, rubric: str = "overall", opt: AnalysisOptions = NO_BOOT) -> RubricFrames:
    data = load_run(d)
    humans = human_labels(data.labels, data.items)
    return next(f for f in setting_frames(data, "pair", opt, humans, None) if f.rubric == rubric)


def _csv(rows: list[MetricRow]) -> dict[tuple[str | None, str, str], MetricRow]:
    return {(r.group_by, r.group, r.metric): r for r in rows if r.in_csv}


# ------------------------------------------------------------------------------------------------------------
# metrics.json = nest(table), metrics.csv = the table's listed rows
# ------------------------------------------------------------------------------------------------------------


def _score_run(d: Path) -> Path:
    """Score items, two rubrics, three repeats, labels on one rubric only, one failed repeat."""
    items, labels, verdicts = [], [], []
    for i in range(9):
        iid = f"s{i}::score"
        items.append(item(iid, "score", ("Image2Text", "Text2Image", "Audio2Text")[i % 3], ["m1"]))
        labels.append(label(iid, 1 + i % 5, rubric="relevance"))
        for r in range(3):
            outs = [v(1 + (i + r) % 5, "relevance"), v(1 + i % 4, "clarity")]
            if i == 4 and r == 2:
                outs = [fail("parse_fail", "relevance"), fail("parse_fail", "clarity")]
            verdicts.append(record(iid, "score", outs, order=(0,), repeat=r, mode="rubrics"))
    return write_run(d, items=items, labels=labels, verdicts=verdicts, run={"mode": "rubrics"})


def _batch_run(d: Path) -> Path:
    """Batch rankings of three responses judged in two presentation orders, no human labels."""
    items, verdicts = [], []
    for i in range(6):
        iid = f"b{i}::batch"
        items.append(item(iid, "batch", "Image2Text", ["a", "b", "c"]))
        verdicts.append(record(iid, "batch", [v((0, 1, 2) if i % 2 else (2, 1, 0))], order=(0, 1, 2)))
        verdicts.append(record(iid, "batch", [v((0, 1, 2))], order=(2, 0, 1)))
    return write_run(d, items=items, verdicts=verdicts)


def _assert_one_table(d: Path) -> None:
    """metrics.json on disk is the nested table (plus what analyze_run adds after it: usage, drift notes);
    metrics.csv is the table's listed rows cell for cell; metrics.json holds each listed row's numbers at its path."""
    data = load_run(d)
    opt = AnalysisOptions.of_run(d)
    table = compute_table(data, opt)
    written = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    derived = table.to_json()
    assert json.dumps({k: written[k] for k in derived if k != "notes"}) == json.dumps(
        {k: x for k, x in derived.items() if k != "notes"})
    assert written["notes"][: len(derived["notes"])] == derived["notes"]
    assert compute_metrics(data, opt)[0] == derived
    csv = read_metrics_csv(d / "metrics.csv")
    assert len(csv) == len(table.csv_rows) > 10
    for (_, c), r in zip(csv.iterrows(), table.csv_rows, strict=True):
        assert (c.setting, c.rubric, c.group_by, c.group, c.metric) == (r.setting, r.rubric, r.group_by, r.group,
                                                                        r.metric)
        for col in ("value", "ci_low", "ci_high"):
            cell, want = c[col], getattr(r, col)
            assert (pd.isna(cell) and want is None) or cell == pytest.approx(want, rel=1e-12)
        assert (pd.isna(c.n) and r.n is None) or c.n == r.n
    at_path = 0
    for r in table.csv_rows:
        if r.path is None:
            continue
        node = lookup(written, *r.path)
        at_path += 1
        if is_stat(node):
            assert list(stat_triple(node)) == [r.value, r.ci_low, r.ci_high]
            assert node["n"] == r.n
        elif isinstance(node, dict):  # a Bradley–Terry record
            assert (node["strength"], node["games"]) == (r.value, r.n)
        else:
            assert (None if node is None else float(node)) == r.value
    assert at_path > 5


def test_metrics_json_is_the_table_nested_and_csv_its_rows(pair_dir: Path) -> None:
    _assert_one_table(pair_dir)


@pytest.mark.parametrize("build", [_score_run, _batch_run])
def test_one_table_for_scores_with_repeats_and_unlabelled_batches(tmp_path: Path, build: Any) -> None:
    d = build(tmp_path / "run")
    analyze_run(d, bootstrap=20)
    _assert_one_table(d)
    m = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    s = next(iter(m["settings"].values()))
    if build is _score_run:
        assert list(s["rubrics"]) == ["clarity", "relevance", "all"]
        assert s["headline_rubric"] == "all"
        assert s["rubrics"]["clarity"]["pooled"] == {}  # no labels for clarity: agreement blank, verdicts kept
        assert s["rubrics"]["relevance"]["repeats"]["stability"]["n_units"] == 9
    else:
        assert s["rubrics"]["overall"]["n_joined"] == 0
        assert s["bias"]["position"]["overall"]["both_orders"] == 6
        assert stat_value(s, "bias", "position", "overall", "consistency") == pytest.approx(3 / 6)


def test_views_show_the_rows_they_point_at(pair_dir: Path) -> None:
    m = json.loads((pair_dir / "metrics.json").read_text(encoding="utf-8"))
    s = m["settings"]["pair"]
    assert s["headline_rubric"] == "overall"
    assert s["coverage"] == s["rubrics"]["overall"]["failures"]
    groups = s["bias"]["cross_modality"]["overall"]["groups"]["task_type"]
    bd = s["rubrics"]["overall"]["breakdowns"]["task_type"]
    assert groups.keys() == bd.keys() == {"Image2Text", "Text2Image"}
    for g, d in groups.items():
        assert list(d) == [k for k in ("accuracy_with_tie", "offset", "tie_rate", "failure_rate") if k in bd[g]]
        assert all(d[k] == bd[g][k] for k in d)


def test_every_rubric_and_the_pooled_rubric_are_analysed(pair_dir: Path) -> None:
    m = json.loads((pair_dir / "metrics.json").read_text(encoding="utf-8"))
    s = m["settings"]["pair"]
    assert list(s["rubrics"]) == ["overall", "clarity", "all"]
    assert "model_rankings" not in s["rubrics"]["all"]  # rankings are fitted per rubric only
    # clarity: the judge always says "first"; humans say first on odd items → 3 of 7 labelled units right
    assert stat_value(s, "rubrics", "clarity", "pooled", "accuracy_with_tie") == pytest.approx(3 / 7)
    assert s["rubrics"]["all"]["n_units"] == 14


def _tree() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, width=32),
                     st.text(max_size=3))
    stat = st.fixed_dictionaries({"value": st.floats(0, 1), "ci_low": st.none() | st.floats(0, 1),
                                  "ci_high": st.none() | st.floats(0, 1), "n": st.integers(0, 9)})
    return st.recursive(leaf | stat, lambda kids: st.lists(kids, max_size=3)
                        | st.dictionaries(st.text("abcxyz01", min_size=1, max_size=3), kids, max_size=3),
                        max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(tree=_tree())
def test_rows_of_any_tree_nest_back_to_it_key_order_included(tree: Any) -> None:
    b = Rows("pair", "overall")
    b.tree(("settings", "x"), tree)
    assert json.dumps(nest(b.rows)) == json.dumps({"settings": {"x": tree}})


def test_nest_rejects_a_list_position_out_of_order() -> None:
    b = Rows("pair", "overall")
    b.put(("a", 1), 3)
    with pytest.raises(ValueError, match="list position 1 out of order"):
        nest(b.rows)


def test_lookup_and_stat_accessors() -> None:
    m = {"a": {"b": [{"value": 0.5, "ci_low": 0.25, "ci_high": 0.75, "n": 4}]}, "s": "text"}
    assert stat_triple(lookup(m, "a", "b", 0)) == (0.5, 0.25, 0.75)
    assert stat_value(m, "a", "b", 0) == 0.5
    assert lookup(m, "a", "missing", default="d") == "d"
    assert lookup(m, "s", "deeper") is None  # through a leaf
    assert lookup(m, "a", "b", 3) is None
    assert stat_triple(None) == (None, None, None)


# ------------------------------------------------------------------------------------------------------------
# Section functions, values by hand
# ------------------------------------------------------------------------------------------------------------


def test_failure_section_counts_and_rates(pair_dir: Path) -> None:
    f = _frames(pair_dir)
    rows = failure_section(f, NO_BOOT)
    csv = _csv(rows)
    # 16 verdict rows (8 items × 2 orders), item 7's two fail
    assert csv[("pooled", "all", "coverage")].value == pytest.approx(14 / 16)
    assert csv[("pooled", "all", "failure_rate")].value == pytest.approx(2 / 16)
    assert csv[("pooled", "all", "failures:parse_fail")].value == 2
    assert {r.n for r in csv.values()} == {16}
    out = nest(rows)["settings"]["pair"]["rubrics"]["overall"]
    assert out["n_units"] == 7 and out["n_joined"] == 7
    assert out["failures"] == {"rows": 16, "verdicts": 14, "failures": 2, "coverage": 14 / 16,
                               "failure_rate": 2 / 16, "by_kind": {"parse_fail": 2}}


def _accuracy_by_hand(items: range) -> float:
    """overall: i % 3 != 0 → the judge says first in both orders; else tie / second → inconsistent → tie."""
    right = 0
    for i in items:
        judge = "first" if i % 3 else "tie"
        right += judge == ("first" if i % 2 else "second")
    return right / len(items)


def test_pooled_and_breakdown_sections(pair_dir: Path) -> None:
    f = _frames(pair_dir)
    pooled = _csv(pooled_section(f, NO_BOOT))
    assert pooled[("pooled", "all", "accuracy_with_tie")].value == pytest.approx(_accuracy_by_hand(range(7)))
    assert pooled[("pooled", "all", "accuracy_with_tie")].ci_low is None  # bootstrap=0: no CI
    bd = _csv(breakdown_section(f, NO_BOOT))
    assert bd[("task_type", "Image2Text", "accuracy_with_tie")].value == pytest.approx(_accuracy_by_hand(range(4)))
    assert bd[("task_type", "Text2Image", "accuracy_with_tie")].value == pytest.approx(
        _accuracy_by_hand(range(4, 7)))
    # Text2Image: 8 verdict rows, item 7's 2 failed
    assert bd[("task_type", "Text2Image", "failure_rate")].value == pytest.approx(2 / 8)
    assert bd[("task_type", "Text2Image", "coverage")].value == pytest.approx(6 / 8)
    assert bd[("task_type", "Text2Image", "coverage")].path is None  # metrics.csv only
    assert bd[("task_type", "Image2Text", "failure_rate")].value == 0.0  # every group with verdicts has one


def test_a_group_whose_verdicts_all_failed_is_listed_with_its_failure_rate(tmp_path: Path) -> None:
    items = [item("a::p", "pair", "Image2Text", ["m1", "m2"]), item("b::p", "pair", "Text2Audio", ["m1", "m2"])]
    verdicts = [record("a::p", "pair", [v("first")]), record("b::p", "pair", [fail("refusal")])]
    d = write_run(tmp_path / "r", items=items, verdicts=verdicts,
                  labels=[label("a::p", "first"), label("b::p", "second")])
    rows = breakdown_section(_frames(d), NO_BOOT)
    csv = _csv(rows)
    assert csv[("task_type", "Text2Audio", "failure_rate")].value == 1.0
    assert csv[("task_type", "Text2Audio", "coverage")].value == 0.0
    assert csv[("task_type", "Image2Text", "accuracy_with_tie")].value == 1.0
    out = nest(rows)["settings"]["pair"]["rubrics"]["overall"]["breakdowns"]
    assert out["task_type"]["Text2Audio"] == {"failure_rate": {"value": 1.0, "ci_low": None, "ci_high": None,
                                                               "n": 1}}


def test_macro_is_the_unweighted_mean_over_task_types(pair_dir: Path) -> None:
    f = _frames(pair_dir)
    macro = _csv(macro_section(f, NO_BOOT))
    want = (_accuracy_by_hand(range(4)) + _accuracy_by_hand(range(4, 7))) / 2
    assert macro[("macro", "task_type", "accuracy_with_tie")].value == pytest.approx(want)
    assert macro[("macro", "task_type", "accuracy_with_tie")].n == 2


def test_distribution_section_counts_values(pair_dir: Path) -> None:
    csv = _csv(distribution_section(_frames(pair_dir, "clarity"), NO_BOOT))
    assert csv[("distribution", "judge", "count:first")].value == 7
    assert csv[("distribution", "human", "count:first")].value == 4
    assert csv[("distribution", "human", "count:second")].value == 4


def test_position_section_lists_scalars_before_slots_but_keeps_the_json_order(pair_dir: Path) -> None:
    f = _frames(pair_dir)
    rows = position_section(f, NO_BOOT)
    pos = nest(rows)["settings"]["pair"]["bias"]["position"]["overall"]
    assert list(pos)[:3] == ["n_records", "tie_rate", "p_prefer_slot"]
    # 7 judged items × 2 orders; 3 ties (items 0, 3 and 6 in order (0, 1)) of 14 records
    assert pos["n_records"] == 14 and pos["tie_rate"] == pytest.approx(3 / 14)
    # consistent across orders: items 1, 2, 4, 5 (first both times), not 0, 3, 6 (tie vs second)
    assert pos["consistency"]["value"] == pytest.approx(4 / 7)
    assert pos["flip_rate"]["value"] == pytest.approx(3 / 7)
    t = MetricTable()
    t.add(rows)
    names = [r.metric for r in t.csv_rows]
    assert names.index("consistency") < names.index("p_prefer_slot_1")
    assert names[-2:] == ["p_prefer_slot_1", "p_prefer_slot_2"]


def test_cross_modality_groups_are_a_view_of_the_breakdowns(pair_dir: Path) -> None:
    f = _frames(pair_dir)
    rows = breakdown_section(f, NO_BOOT) + cross_modality_section(f, NO_BOOT)
    out = nest(rows)["settings"]["pair"]
    cm = out["bias"]["cross_modality"]["overall"]
    assert cm["groups"]["input_modality"] == {g: {k: d[k] for k in ("accuracy_with_tie", "tie_rate",
                                                                     "failure_rate") if k in d}
                                              for g, d in out["rubrics"]["overall"]["breakdowns"]
                                              ["input_modality"].items()}
    gap = _csv(rows)[("mmu_vs_mmg", "mmu-mmg", "accuracy_with_tie")]
    assert gap.value == pytest.approx(_accuracy_by_hand(range(4)) - _accuracy_by_hand(range(4, 7)))
    assert gap.value is not None and not math.isnan(gap.value)
