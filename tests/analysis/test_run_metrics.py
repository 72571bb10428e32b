"""End to end on synthetic run directories: every number in metrics.csv against a recomputation from the
raw lists that went into the files."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from judgeanything.analysis import analyze_run, load_run, read_metrics_csv
from judgeanything.analysis.metrics import CSV_COLUMNS
from judgeanything.schema import SchemaError
from judgeanything.store import StoreError

from .runbuilder import fail, item, label, record, v, write_run

TASKS = ["Image2Text", "Text2Image", "Audio2Text", "Video2Audio"]
CH = ["first", "tie", "second"]


def majority(vals: list[str]) -> str:
    c = Counter(vals).most_common()
    return "tie" if len(c) > 1 and c[0][1] == c[1][1] else c[0][0]


def get(df: pd.DataFrame, metric: str, group_by: str = "pooled", group: str = "all",
        rubric: str = "overall") -> pd.Series:
    r = df[(df.metric == metric) & (df.group_by == group_by) & (df.group == group) & (df.rubric == rubric)]
    assert len(r) == 1, (metric, group_by, group, rubric, len(r))
    return r.iloc[0]


@pytest.fixture
def pair_run(tmp_path: Path) -> dict:
    """Pair items judged in both orders, two annotators, some failures (one whole-request failure)."""
    rnd = random.Random(1)
    items, labels, verdicts = [], [], []
    truth = {}
    for i in range(160):
        iid = f"q{i}::pair"
        task = TASKS[i % 4]
        items.append(item(iid, "pair", task, ["m1", "m2"], meta={"difficulty": {"level": i % 2}}))
        a1 = rnd.choice(CH)
        a2 = a1 if rnd.random() < 0.7 else rnd.choice(CH)
        labels += [label(iid, a1, annotator="a1"), label(iid, a2, annotator="a2")]
        orders = {}
        for order in [(0, 1), (1, 0)]:
            if i % 17 == 0 and order == (1, 0):
                verdicts.append(record(iid, "pair", [fail("parse_fail")], order=order))
                continue
            if i % 23 == 0 and order == (0, 1):
                verdicts.append(record(iid, "pair", [fail("api_error", rubric="*")], order=order))
                continue
            j = majority([a1, a2]) if rnd.random() < 0.65 else rnd.choice(CH)
            p = {"first": rnd.random(), "tie": rnd.random(), "second": rnd.random()}
            tot = sum(p.values())
            p = {k: x / tot for k, x in p.items()}
            orders[order] = (j, p)
            verdicts.append(record(iid, "pair", [v(j, probs=p)], order=order,
                                   usage={"prompt_tokens": 100, "completion_tokens": 7}, latency_s=0.25))
        truth[iid] = {"task": task, "human": majority([a1, a2]), "ann": [a1, a2], "orders": orders,
                      "level": i % 2}
    d = write_run(tmp_path / "pair", items=items, labels=labels, verdicts=verdicts)
    return {"dir": d, "truth": truth, "n_records": len(verdicts)}


def combine(orders: dict, policy: str) -> str | None:
    vals = [x[0] for x in orders.values()]
    if not vals:
        return None
    if len(set(vals)) == 1:
        return vals[0]
    if policy == "drop":
        return None
    if policy == "tie":
        return "tie"
    avg = {c: sum(x[1][c] for x in orders.values()) / len(orders) for c in CH}
    return max(avg, key=avg.get)


def acc(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    w = sum(j == h for j, h in pairs) / len(pairs)
    nt = [(j, h) for j, h in pairs if h != "tie"]
    return w, sum(j == h for j, h in nt) / len(nt)


def test_pair_run_metrics(pair_run: dict) -> None:
    m = analyze_run(pair_run["dir"], bootstrap=200)
    df = read_metrics_csv(pair_run["dir"] / "metrics.csv")
    assert list(df.columns) == CSV_COLUMNS
    truth = pair_run["truth"]
    units = {iid: (combine(t["orders"], "tie"), t["human"]) for iid, t in truth.items()}
    pairs = [u for u in units.values() if u[0] is not None]
    w, nt = acc(pairs)
    assert get(df, "accuracy_with_tie").value == pytest.approx(w)
    assert get(df, "accuracy_without_tie").value == pytest.approx(nt)
    assert get(df, "accuracy_with_tie").n == len(pairs)
    r = get(df, "accuracy_with_tie")
    assert r.ci_low <= r.value <= r.ci_high
    # per task type and macro
    per_task = {}
    for task in TASKS:
        tp = [units[i] for i, t in truth.items() if t["task"] == task and units[i][0] is not None]
        per_task[task] = acc(tp)[0]
        assert get(df, "accuracy_with_tie", "task_type", task).value == pytest.approx(per_task[task])
    assert get(df, "accuracy_with_tie", "macro", "task_type").value == pytest.approx(np.mean(list(per_task.values())))
    # family / modality pair / difficulty knob
    mmu = [units[i] for i, t in truth.items() if t["task"] in ("Image2Text", "Audio2Text") and units[i][0]]
    assert get(df, "accuracy_with_tie", "family", "mmu").value == pytest.approx(acc(mmu)[0])
    v2a = [units[i] for i, t in truth.items() if t["task"] == "Video2Audio" and units[i][0]]
    assert get(df, "accuracy_with_tie", "modality_pair", "video→audio").value == pytest.approx(acc(v2a)[0])
    lvl1 = [units[i] for i, t in truth.items() if t["level"] == 1 and units[i][0]]
    assert get(df, "accuracy_with_tie", "difficulty:level", "1").value == pytest.approx(acc(lvl1)[0])
    # inconsistency policies side by side
    for policy in ("tie", "drop", "average"):
        pp = [(combine(t["orders"], policy), t["human"]) for t in truth.values()]
        pp = [p for p in pp if p[0] is not None]
        assert get(df, "accuracy_with_tie", "inconsistent_policy", policy).value == pytest.approx(acc(pp)[0])
        assert get(df, "accuracy_without_tie", "inconsistent_policy", policy).value == pytest.approx(acc(pp)[1])
    # failures: 160 items × 2 orders verdict rows, the "*" failure expanded to the record's rubric
    n_pf = sum(1 for i in range(160) if i % 17 == 0)
    n_api = sum(1 for i in range(160) if i % 23 == 0)
    rows = pair_run["n_records"]
    assert get(df, "failures:parse_fail").value == n_pf
    assert get(df, "failures:api_error").value == n_api
    assert get(df, "coverage").value == pytest.approx((rows - n_pf - n_api) / rows)
    assert m["settings"]["pair"]["coverage"]["by_kind"] == {"api_error": n_api, "parse_fail": n_pf}
    # position bias: consistency on items with both orders
    both = [t["orders"] for t in truth.values() if len(t["orders"]) == 2]
    cons = sum(o[(0, 1)][0] == o[(1, 0)][0] for o in both) / len(both)
    assert get(df, "consistency", "position").value == pytest.approx(cons)
    assert get(df, "flip_rate", "position").value == pytest.approx(1 - cons)
    # P(prefer presented slot 1): order (0,1) "first" → slot 1; order (1,0) "second" → slot 1
    slot1 = dec = 0
    for t in truth.values():
        for order, (j, _) in t["orders"].items():
            if j == "tie":
                continue
            dec += 1
            slot1 += (j == "first") == (order == (0, 1))
    assert get(df, "p_prefer_slot_1", "position").value == pytest.approx(slot1 / dec)
    # human ceiling: each annotator vs the other's label (the consensus of one annotator is that label)
    hp = [(t["ann"][0], t["ann"][1]) for t in truth.values()] + [(t["ann"][1], t["ann"][0]) for t in truth.values()]
    assert get(df, "accuracy_with_tie", "human_ceiling").value == pytest.approx(acc(hp)[0])
    # cost sums
    cost = df[df.group_by == "cost"].set_index("metric")["value"]
    ok_records = rows - n_pf - n_api
    assert cost["prompt_tokens"] == 100 * ok_records
    assert cost["latency_s"] == pytest.approx(0.25 * ok_records)
    # outputs written and JSON strict
    d = pair_run["dir"]
    json.loads((d / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    report = (d / "report.md").read_text()
    for heading in ("How to read this", "By family", "By task type", "Coverage and failures", "Position bias",
                    "synthetic run for tests", "Inconsistent orders"):
        assert heading in report


def test_inconsistent_policy_choice(pair_run: dict) -> None:
    m = analyze_run(pair_run["dir"], bootstrap=0, inconsistent="drop")
    pp = [(combine(t["orders"], "drop"), t["human"]) for t in pair_run["truth"].values()]
    pp = [p for p in pp if p[0] is not None]
    got = m["settings"]["pair"]["rubrics"]["overall"]["pooled"]["accuracy_with_tie"]
    assert got["value"] == pytest.approx(acc(pp)[0])
    assert list(m["settings"]["pair"]["rubrics"]["overall"]["inconsistent_policies"]) == ["drop"]
    with pytest.raises(ValueError, match="inconsistent"):
        analyze_run(pair_run["dir"], inconsistent="coinflip")


def test_score_run_with_repeats_rubrics_and_tests(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    items, labels, verdicts = [], [], []
    rows = []
    for i in range(150):
        iid = f"q{i}::score"
        task = TASKS[i % 4]
        items.append(item(iid, "score", task, ["m1"]))
        for rb in ("relevance", "clarity"):
            h = int(rng.integers(1, 6))
            labels.append(label(iid, h, rubric=rb))
            bias = 1 if task == "Text2Image" else 0
            reps = [int(np.clip(h + bias + rng.integers(-1, 2), 1, 5)) for _ in range(3)]
            for r, s in enumerate(reps):
                verdicts.append(record(iid, "score", [v(s, rubric=rb, expected=s + 0.1)], order=(0,), repeat=r,
                                       mode="rubrics"))
            c = Counter(reps).most_common()
            top = [x for x, k in c if k == c[0][1]]
            med = float(np.median(reps))
            mode = min(top, key=lambda x, med=med: (abs(x - med), x))
            rows.append({"item": iid, "task": task, "rubric": rb, "human": h, "judge": mode,
                         "first": reps[0], "reps": reps})
    d = write_run(tmp_path / "score", items=items, labels=labels, verdicts=verdicts, run={"mode": "rubrics"})
    analyze_run(d, bootstrap=100)
    df = read_metrics_csv(d / "metrics.csv")
    t = pd.DataFrame(rows)
    for rb in ("relevance", "clarity"):
        s = t[t.rubric == rb]
        x, y = s.judge.tolist(), s.human.tolist()
        assert get(df, "pearson", rubric=rb).value == pytest.approx(stats.pearsonr(x, y).statistic)
        assert get(df, "kendall_tau_b", rubric=rb).value == pytest.approx(stats.kendalltau(x, y).statistic)
        assert get(df, "mae", rubric=rb).value == pytest.approx(np.mean(np.abs(np.subtract(x, y))))
        assert get(df, "offset", rubric=rb).value == pytest.approx(np.mean(np.subtract(x, y)))
        assert get(df, "pearson_expected", rubric=rb).value == pytest.approx(
            stats.pearsonr([np.mean(r) + 0.1 for r in s.reps], y).statistic)
        # repeats: repeat-0 only vs reduced; stability
        assert get(df, "pearson", "repeats", "first_repeat", rb).value == pytest.approx(
            stats.pearsonr(s["first"], y).statistic)
        same = np.mean([len(set(r)) == 1 for r in s.reps])
        assert get(df, "all_same_rate", "repeats", "stability", rb).value == pytest.approx(same)
        assert get(df, "mean_variance", "repeats", "stability", rb).value == pytest.approx(
            np.mean([np.var(r, ddof=1) for r in s.reps]))
        # offset per output modality and Kruskal–Wallis across output modalities
        for out_mod, tasks in {"image": ["Text2Image"], "text": ["Image2Text", "Audio2Text"]}.items():
            g = s[s.task.isin(tasks)]
            assert get(df, "offset", "output_modality", out_mod, rb).value == pytest.approx(
                np.mean(g.judge - g.human))
        groups = [s[s.task.isin(ts)] for ts in (["Video2Audio"], ["Text2Image"], ["Image2Text", "Audio2Text"])]
        ref = stats.kruskal(*[(g.judge - g.human).to_numpy() for g in groups])
        assert get(df, "p_value", "modality_test:output_modality", "kruskal", rb).value == pytest.approx(ref.pvalue)
    # rubric "all" pools both rubrics' units
    x, y = t.judge.tolist(), t.human.tolist()
    assert get(df, "pearson", rubric="all").value == pytest.approx(stats.pearsonr(x, y).statistic)
    # MMU − MMG gap in offset: MMG (Text2Image biased +1, Video2Audio 0) vs MMU
    s = t[t.rubric == "relevance"]
    mmu = s[s.task.isin(["Image2Text", "Audio2Text"])]
    mmg = s[~s.task.isin(["Image2Text", "Audio2Text"])]
    gap = get(df, "offset", "mmu_vs_mmg", "mmu-mmg", "relevance")
    assert gap.value == pytest.approx(np.mean(mmu.judge - mmu.human) - np.mean(mmg.judge - mmg.human))
    assert gap.ci_low <= gap.value <= gap.ci_high


def test_score_reducer_mean(tmp_path: Path) -> None:
    items = [item("a::s", "score", "Image2Text", ["m"]), item("b::s", "score", "Image2Text", ["m"]),
             item("c::s", "score", "Image2Text", ["m"])]
    verdicts = []
    reps = {"a::s": [1, 2, 2], "b::s": [4, 5, 3], "c::s": [5, 5, 2]}
    for iid, rs in reps.items():
        verdicts += [record(iid, "score", [v(s)], order=(0,), repeat=k) for k, s in enumerate(rs)]
    labels = [label("a::s", 1), label("b::s", 4), label("c::s", 5)]
    d = write_run(tmp_path / "r", items=items, labels=labels, verdicts=verdicts)
    m = analyze_run(d, bootstrap=0, reducer="mean")
    mae = np.mean([abs(np.mean(reps[k]) - h) for k, h in zip(reps, [1, 4, 5], strict=True)])
    assert m["settings"]["score"]["rubrics"]["overall"]["pooled"]["mae"]["value"] == pytest.approx(mae)
    m = analyze_run(d, bootstrap=0, reducer="median")
    mae = np.mean([abs(np.median(reps[k]) - h) for k, h in zip(reps, [1, 4, 5], strict=True)])
    assert m["settings"]["score"]["rubrics"]["overall"]["pooled"]["mae"]["value"] == pytest.approx(mae)


def test_batch_run_nlev_and_rank1_slot(tmp_path: Path) -> None:
    rnd = random.Random(9)
    items, labels, verdicts, truth = [], [], [], []
    for i in range(60):
        iid = f"q{i}::batch"
        items.append(item(iid, "batch", TASKS[i % 4], ["a", "b", "c", "d"]))
        h = tuple(rnd.sample(range(4), 4))
        labels.append(label(iid, h))
        order = tuple(rnd.sample(range(4), 4))
        j = tuple(rnd.sample(range(4), 4))
        verdicts.append(record(iid, "batch", [v(j)], order=order))
        truth.append((h, j, order))
    d = write_run(tmp_path / "b", items=items, labels=labels, verdicts=verdicts)
    analyze_run(d, bootstrap=50)
    df = read_metrics_csv(d / "metrics.csv")
    from tests.support.oracles import levenshtein

    nlev = np.mean([levenshtein(list(j), list(h)) / 4 for h, j, _ in truth])
    assert get(df, "nlev").value == pytest.approx(nlev)
    for k in range(1, 5):
        p = np.mean([order.index(j[0]) + 1 == k for _, j, order in truth])
        assert get(df, f"p_rank1_given_slot_{k}", "position").value == pytest.approx(p)


def test_load_errors_name_file_line_field(tmp_path: Path) -> None:
    items = [item("a::p", "pair", "Image2Text", ["m1", "m2"])]
    good = record("a::p", "pair", [v("first")])
    d = write_run(tmp_path / "e", items=items, verdicts=[good])
    assert len(load_run(d).verdicts) == 1
    (d / "verdicts.jsonl").write_text(json.dumps(good) + "\n{not json\n" + json.dumps(good) + "\n")
    with pytest.raises(StoreError, match=r"verdicts.jsonl: line 2"):
        load_run(d)
    bad = dict(good, outcomes=[{"rubric": "overall", "value": "A"}])
    (d / "verdicts.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(SchemaError, match=r"verdicts.jsonl.*row 2.*outcomes\[0\]\.value"):
        load_run(d)
    (d / "verdicts.jsonl").write_text(json.dumps({k: x for k, x in good.items() if k != "item_id"}) + "\n")
    with pytest.raises(SchemaError, match=r"row 1.*'item_id'"):
        load_run(d)
    (d / "verdicts.jsonl").write_text(json.dumps(dict(good, item_id="zzz")) + "\n")
    orphan = load_run(d)  # a verdict on an item no longer in the item set is set aside, not an error
    assert len(orphan.verdicts) == 0 and orphan.set_aside == {"items no longer in the item set": 1}
    for fld, val in (("repeat", "2"), ("repeat", 1.5), ("repeat", -1), ("order", 3), ("order", ["0", "1"])):
        (d / "verdicts.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(dict(good, **{fld: val})) + "\n")
        with pytest.raises(SchemaError, match=rf"verdicts.jsonl, row 2, field '{fld}'"):
            load_run(d)
    (d / "verdicts.jsonl").write_text(json.dumps(good) + "\n")
    (d / "labels.jsonl").write_text(json.dumps(label("a::p", "first")) + "\n" + json.dumps(label("a::p", 3)) + "\n")
    with pytest.raises(SchemaError, match=r"labels.jsonl.*row 2.*'value'"):
        analyze_run(d, bootstrap=0)
    with pytest.raises(StoreError, match="missing"):
        load_run(tmp_path)


def test_torn_tail_is_tolerated_and_no_labels_noted(tmp_path: Path) -> None:
    items = [item(f"{i}::p", "pair", "Image2Text", ["m1", "m2"]) for i in range(3)]
    recs = [record(f"{i}::p", "pair", [v("first")]) for i in range(3)]
    d = write_run(tmp_path / "t", items=items, verdicts=recs)
    with (d / "verdicts.jsonl").open("a") as f:
        f.write('{"key": "torn", "item_')
    m = analyze_run(d, bootstrap=0)
    assert m["settings"]["pair"]["counts"]["judged_items"] == 3
    assert any("no human labels" in n for n in m["notes"])
    assert m["settings"]["pair"]["rubrics"]["overall"]["pooled"] == {}


def test_a_key_logged_twice_counts_once_with_its_first_record(tmp_path: Path) -> None:
    # two runs on one directory (before the store locked it) each logged every unit
    items = [item(f"{i}::p", "pair", "Image2Text", ["m1", "m2"]) for i in range(2)]
    recs = [record(f"{i}::p", "pair", [v("first")]) for i in range(2)]
    again = [record(f"{i}::p", "pair", [v("second")]) for i in range(2)]
    d = write_run(tmp_path / "dup", items=items, verdicts=recs + again,
                  labels=[label(f"{i}::p", "first") for i in range(2)])
    verdicts = load_run(d).verdicts
    assert sorted(verdicts["item_id"]) == ["0::p", "1::p"] and set(verdicts["value"]) == {"first"}
    m = analyze_run(d, bootstrap=0)
    assert m["settings"]["pair"]["counts"]["judged_items"] == 2
