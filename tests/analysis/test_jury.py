"""Juries (judgeanything-jury): the binomial model of a majority of independent judges, explicit split votes,
learned weights, mean / median / Borda with exact values, member agreement, refusals of mismatched runs, and
the jury's run directory read back by the analysis and the leaderboard like any judge's."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from judgeanything import jury_cli
from judgeanything.analysis import jury as J
from judgeanything.analysis import load_run
from judgeanything.compare_cli import main as compare_main
from judgeanything.store import RunRecord, _dumps

from .runbuilder import fail, item, label, record, v, write_run

OTHER = {"first": "second", "second": "first"}
Z = 3.29  # two-sided 99.9 % normal quantile: the binomial CIs below


def pair_member(d: Path, name: str, truth: list[str], said: list[str | None], *, benchmark: str = "probes",
                orders: tuple[tuple[int, int], ...] = ((0, 1),)) -> Path:
    """A pair run of judge ``name``: ``said[i]`` on item i (None → a parse failure), labels ``truth``."""
    items = [item(f"q{i}::p", "pair", "Image2Text", ["m1", "m2"]) for i in range(len(truth))]
    recs = []
    for i, s in enumerate(said):
        for o in orders:
            recs.append(record(f"q{i}::p", "pair", [fail("parse_fail") if s is None else v(s)], order=o, judge=name,
                               model=name, usage={"prompt_tokens": 10, "completion_tokens": 2}, latency_s=0.5))
    labels = [label(f"q{i}::p", t) for i, t in enumerate(truth)]
    return write_run(d / name, items=items, verdicts=recs, labels=labels,
                     run={"judge": name, "benchmark": benchmark, "setting": "pair", "judge_kind": "model"})


def simulate(rng: np.random.Generator, truth: list[str], p: float) -> list[str | None]:
    """An independent judge right with probability ``p`` on each two-class item."""
    return [t if rng.random() < p else OTHER[t] for t in truth]


def panel(tmp: Path, n: int, accuracies: Sequence[float], seed: int, prefix: str = "j"
          ) -> tuple[list[str], list[list[str | None]], list[Path]]:
    """``n`` two-class pair items with a random truth, one independent judge per accuracy in ``accuracies``
    (:func:`simulate`), each written as a member run ``<prefix><k>``: (truth, what each said, the runs)."""
    rng = np.random.default_rng(seed)
    truth = [str(rng.choice(["first", "second"])) for _ in range(n)]
    said = [simulate(rng, truth, p) for p in accuracies]
    return truth, said, [pair_member(tmp, f"{prefix}{k}", truth, s) for k, s in enumerate(said)]


def jury(tmp: Path, runs: list[Path], *args: str, out: str = "jury") -> tuple[int, Path]:
    rc = jury_cli.main([*map(str, runs), "--out", str(tmp / out), "--bootstrap", "0", "--no-html", *args])
    return rc, tmp / out


def accuracy(run: Path) -> float:
    m = json.loads((run / "metrics.json").read_text())
    return m["settings"]["pair"]["rubrics"]["overall"]["pooled"]["accuracy_with_tie"]["value"]


def jury_values(run: Path) -> dict[str, object]:
    out = {}
    for line in (run / "verdicts.jsonl").read_text().splitlines():
        r = json.loads(line)
        o = r["outcomes"][0]
        out[r["item_id"]] = o.get("value", o.get("failure"))
    return out


# --------------------------------------------------------------------------------------------------
# The binomial model (Condorcet): the required test
# --------------------------------------------------------------------------------------------------


def test_majority_of_three_independent_judges_beats_each_by_the_binomial_margin(tmp_path: Path) -> None:
    n, p = 2000, 0.7
    truth, said, runs = panel(tmp_path, n, [p] * 3, seed=7, prefix="judge")
    rc, out = jury(tmp_path, runs)
    assert rc == 0
    member_acc = [float(np.mean([x == t for x, t in zip(s, truth, strict=True)])) for s in said]
    got = accuracy(out)
    predicted = J.majority_accuracy(p, 3)
    assert predicted == pytest.approx(p**3 + 3 * p**2 * (1 - p))  # 0.784
    assert J.majority_accuracy(member_acc) == pytest.approx(
        member_acc[0] * member_acc[1] * member_acc[2] + sum(
            member_acc[i] * member_acc[j] * (1 - member_acc[k]) for i, j, k in ((0, 1, 2), (0, 2, 1), (1, 2, 0))))
    half = Z * math.sqrt(predicted * (1 - predicted) / n)
    assert abs(got - predicted) <= half, (got, predicted)
    for acc in member_acc:
        assert got > acc
        margin_half = Z * math.sqrt(predicted * (1 - predicted) / n + p * (1 - p) / n)
        assert abs((got - acc) - (predicted - p)) <= margin_half, (got, acc)
    # the analysis' number is the jury's verdicts scored against the labels, nothing else
    vals = jury_values(out)
    assert got == pytest.approx(np.mean([vals[f"q{i}::p"] == t for i, t in enumerate(truth)]))
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "jury" and [m["name"] for m in run["members"]] == ["judge0", "judge1", "judge2"]
    # independent members: α near 0 (they agree only through being right), reported alongside
    report = json.loads((out / "jury.json").read_text())
    assert abs(report["agreement"]["overall"]["krippendorff_alpha"] - (2 * p - 1) ** 2) < 0.05


def test_majority_accuracy_poisson_binomial_matches_enumeration() -> None:
    ps = [0.9, 0.6, 0.55, 0.8, 0.7]
    total = 0.0
    for mask in range(1 << len(ps)):
        right = [(mask >> i) & 1 for i in range(len(ps))]
        if sum(right) > len(ps) / 2:
            total += math.prod(q if r else 1 - q for q, r in zip(ps, right, strict=True))
    assert J.majority_accuracy(ps) == pytest.approx(total)
    assert J.majority_accuracy(0.6, 2) == pytest.approx(0.36)  # an even split counts wrong
    with pytest.raises(ValueError, match="n is needed"):
        J.majority_accuracy(0.6)


# --------------------------------------------------------------------------------------------------
# Split votes, abstentions, both orders
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("votes", "split", "want"), [
    (["first", "second"], "tie", ("tie", True)),
    (["first", "second"], "chair", ("first", True)),
    (["second", "first"], "chair", ("second", True)),
    (["first", "tie", "second"], "tie", ("tie", True)),
    (["tie", "first", "second"], "chair", ("tie", True)),
    (["first", "first", "second"], "tie", ("first", False)),
    ([None, "second", None], "tie", ("second", False)),
    ([None, None], "tie", (None, False)),
])
def test_majority_pair_resolves_split_votes_explicitly(votes: list, split: str, want: tuple) -> None:
    assert J.majority_pair(votes, split=split) == want


def test_split_votes_abstentions_and_orders_in_the_jury_run(tmp_path: Path) -> None:
    truth = ["first", "second", "first", "second"]
    a = pair_member(tmp_path, "a", truth, ["first", "second", None, None])
    b = pair_member(tmp_path, "b", truth, ["second", "second", "first", None])
    rc, out = jury(tmp_path, [a, b], "--split", "chair")
    assert rc == 0
    vals = jury_values(out)
    # item 0 split → chair (a); item 1 agreed; item 2 a abstained (failed) → b; item 3 all failed → failure
    assert vals == {"q0::p": "first", "q1::p": "second", "q2::p": "first", "q3::p": "parse_fail"}
    recs = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    assert recs[0]["outcomes"][0]["comment"] == "split vote resolved by split=chair"
    assert recs[2]["extra"]["jury"]["votes"]["overall"] == {"a": {"failure": "parse_fail"}, "b": "first"}
    assert recs[0]["usage"] == {"prompt_tokens": 20, "completion_tokens": 4}  # what the jury cost
    lines = (out / "verdicts.jsonl").read_text().splitlines()  # the runner's line format (store.RunRecord), exactly
    assert [_dumps(RunRecord.from_dict(r, file="v", line=1).to_dict()) for r in recs] == lines
    data = load_run(out)
    assert data.judge_name == "jury-majority"
    assert set(data.verdicts["failure"].dropna()) == {"parse_fail"}
    rc, out2 = jury(tmp_path, [a, b], out="jury-tie")
    assert jury_values(out2)["q0::p"] == "tie"


def test_member_judged_in_both_orders_votes_its_order_combined_verdict(tmp_path: Path) -> None:
    truth = ["first", "first"]
    a = pair_member(tmp_path, "a", truth, ["first", "first"])
    b = pair_member(tmp_path, "b", truth, ["first", "second"])
    # c says "first" in order (0,1) and "second" in (1,0) for item 1: inconsistent → a tie vote
    c = pair_member(tmp_path, "c", truth, ["first", "first"], orders=((0, 1), (1, 0)))
    lines = [json.loads(x) for x in (c / "verdicts.jsonl").read_text().splitlines()]
    lines[3]["outcomes"][0]["value"] = "second"
    (c / "verdicts.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    rc, out = jury(tmp_path, [a, b, c])
    assert rc == 0
    recs = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    assert recs[1]["extra"]["jury"]["votes"]["overall"] == {"a": "first", "b": "second", "c": "tie"}
    assert recs[1]["outcomes"][0]["value"] == "tie"  # one vote each: split


# --------------------------------------------------------------------------------------------------
# Learned weights on a held-out split
# --------------------------------------------------------------------------------------------------


def test_weighted_jury_accuracy_weights_are_the_log_odds_of_training_accuracy(tmp_path: Path) -> None:
    n = 1200
    truth, said, runs = panel(tmp_path, n, (0.9, 0.6, 0.6), seed=3)
    rc, out = jury(tmp_path, runs, "--method", "weighted", "--train-fraction", "0.4", "--seed", "1")
    assert rc == 0
    train = jury_cli.train_items([f"q{i}::p" for i in range(n)], {f"q{i}::p": f"q{i}" for i in range(n)}, 0.4, 1)
    assert 0.3 * n < len(train) < 0.5 * n
    run = json.loads((out / "run.json").read_text())
    w = run["jury"]["weights"]["overall"]
    assert w["train_items"] == len(train) and w["learner"] == "accuracy"
    for k in range(3):
        right = sum(said[k][i] == truth[i] for i in range(n) if f"q{i}::p" in train)
        acc = (right + 1) / (len(train) + 2)
        assert w["weights"][k] == pytest.approx(math.log(acc / (1 - acc)))
    # w0 > w1 + w2: the weighted jury follows the strong judge on every held-out item
    assert w["weights"][0] > w["weights"][1] + w["weights"][2]
    vals = jury_values(out)
    held = [i for i in range(n) if f"q{i}::p" not in train]
    assert set(vals) == {f"q{i}::p" for i in held}  # only items the weights were not learned on
    assert all(vals[f"q{i}::p"] == said[0][i] for i in held)
    assert len(load_run(out).items) == len(held) and set(load_run(out).labels["item_id"]) == set(vals)


def test_weighted_logistic_jury_learns_to_follow_the_strong_judge(tmp_path: Path) -> None:
    n = 1600
    _, said, runs = panel(tmp_path, n, (0.9, 0.6, 0.6), seed=11)
    rc, out = jury(tmp_path, runs, "--method", "weighted", "--learner", "logistic")
    assert rc == 0
    vals = jury_values(out)
    # Bayes-optimal here is to follow j0 even against the two others (posterior 0.8), which a logistic
    # model on one-hot votes can represent; it does on (nearly) every held-out item
    follow = np.mean([vals[k] == said[0][int(k[1:].split("::")[0])] for k in vals])
    assert follow >= 0.98
    assert accuracy(out) > 0.85


def test_weighted_score_jury_is_a_non_negative_stacked_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 200
    a, b, c = (rng.integers(1, 6, n) for _ in range(3))
    human = 0.25 * a + 0.75 * b  # c carries nothing
    runs = []
    for name, s in (("a", a), ("b", b), ("c", c)):
        items = [item(f"q{i}::s", "score", "Image2Text", ["m1"]) for i in range(n)]
        recs = [record(f"q{i}::s", "score", [v(int(x))], order=(0,), judge=name) for i, x in enumerate(s)]
        labels = [label(f"q{i}::s", float(h)) for i, h in enumerate(human)]
        runs.append(write_run(tmp_path / name, items=items, verdicts=recs, labels=labels,
                              run={"judge": name, "setting": "score"}))
    rc, out = jury(tmp_path, runs, "--method", "weighted")
    assert rc == 0
    w = json.loads((out / "run.json").read_text())["jury"]["weights"]["overall"]
    assert w["weights"] == pytest.approx([0.25, 0.75, 0.0], abs=1e-6)
    assert w["intercept"] == pytest.approx(0.0, abs=1e-6)
    vals = jury_values(out)
    for k, x in vals.items():
        i = int(k[1:].split("::")[0])
        assert x == pytest.approx(human[i], abs=1e-6)


# --------------------------------------------------------------------------------------------------
# Mean / median / Borda with exact values
# --------------------------------------------------------------------------------------------------


def score_members(tmp: Path) -> tuple[list[Path], list[float]]:
    scores = {"a": [1, 2, 5, 4, 3], "b": [2, 2, 4, None, 5], "c": [5, 3, 4, 2, 1]}
    human = [2.0, 2.0, 5.0, 3.0, 4.0]
    runs = []
    for name, s in scores.items():
        items = [item(f"q{i}::s", "score", "Audio2Text", ["m1"]) for i in range(5)]
        recs = [record(f"q{i}::s", "score", [fail("out_of_range") if x is None else v(x)], order=(0,), judge=name)
                for i, x in enumerate(s)]
        runs.append(write_run(tmp / name, items=items, verdicts=recs,
                              labels=[label(f"q{i}::s", h) for i, h in enumerate(human)],
                              run={"judge": name, "setting": "score"}))
    return runs, human


@pytest.mark.parametrize(("method", "want"), [
    ("mean", [8 / 3, 7 / 3, 13 / 3, 3.0, 3.0]),
    ("median", [2.0, 2.0, 4.0, 3.0, 3.0]),
])
def test_mean_and_median_juries_exact(tmp_path: Path, method: str, want: list[float]) -> None:
    runs, human = score_members(tmp_path)
    rc, out = jury(tmp_path, runs, "--method", method)
    assert rc == 0
    vals = jury_values(out)
    assert [vals[f"q{i}::s"] for i in range(5)] == pytest.approx(want)
    m = json.loads((out / "metrics.json").read_text())["settings"]["score"]["rubrics"]["overall"]["pooled"]
    assert m["pearson"]["value"] == pytest.approx(stats.pearsonr(want, human).statistic)
    assert m["mae"]["value"] == pytest.approx(np.mean(np.abs(np.array(want) - human)))


def test_scores_have_no_majority(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs, _ = score_members(tmp_path)
    rc, _ = jury(tmp_path, runs, "--method", "majority")
    assert rc == 2
    assert "use mean or median" in capsys.readouterr().err


def test_batch_majority_is_the_borda_count(tmp_path: Path) -> None:
    ranks = {"a": [(0, 1, 2, 3), (2, 0, 1)], "b": [(1, 0, 2, 3), (2, 1, 0)], "c": [(1, 2, 0, 3), (0, 2, 1)]}
    runs = []
    for name, rs in ranks.items():
        items = [item("q0::b", "batch", "Text2Image", ["m1", "m2", "m3", "m4"]),
                 item("q1::b", "batch", "Text2Image", ["m1", "m2", "m3"])]
        recs = [record(f"q{i}::b", "batch", [v(r)], order=tuple(range(len(r))), judge=name) for i, r in enumerate(rs)]
        runs.append(write_run(tmp_path / name, items=items, verdicts=recs,
                              labels=[label("q0::b", (1, 0, 2, 3)), label("q1::b", (2, 0, 1))],
                              run={"judge": name, "setting": "batch"}))
    rc, out = jury(tmp_path, runs)
    assert rc == 0
    # mean positions q0: slot0 (0+1+2)/3=1, slot1 (1+0+0)/3=1/3, slot2 (2+2+1)/3=5/3, slot3 3 → (1, 0, 2, 3)
    # q1: slot2 (0+0+1)/3, slot0 (1+2+0)/3=1, slot1 (2+1+2)/3 → (2, 0, 1)
    assert jury_values(out) == {"q0::b": [1, 0, 2, 3], "q1::b": [2, 0, 1]}
    m = json.loads((out / "metrics.json").read_text())["settings"]["batch"]["rubrics"]["overall"]["pooled"]
    assert m["exact_match"]["value"] == 1.0
    assert J.weighted_borda([(0, 1, 2), (1, 2, 0), (2, 0, 1)], [3.0, 1.0, 1.0]) == (0, 1, 2)


# --------------------------------------------------------------------------------------------------
# Agreement among members
# --------------------------------------------------------------------------------------------------


def test_member_alpha_is_krippendorffs_alpha_of_the_votes(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    truth = [str(rng.choice(["first", "second"])) for _ in range(60)]
    said = [simulate(rng, truth, 0.8) for _ in range(3)]
    said[2][5] = None
    said[1][7] = "tie"
    runs = [pair_member(tmp_path, f"j{k}", truth, s) for k, s in enumerate(said)]
    rc, out = jury(tmp_path, runs)
    assert rc == 0
    code = {"first": 0.0, "tie": 1.0, "second": 2.0}
    data = np.array([[np.nan if x is None else code[x] for x in s] for s in said])
    sec = json.loads((out / "jury.json").read_text())["agreement"]["overall"]
    assert sec["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(reliability_data=data,
                                                                          level_of_measurement="nominal"))
    assert sec["pairwise_alpha"]["j0|j2"] == pytest.approx(krippendorff.alpha(
        reliability_data=data[[0, 2]], level_of_measurement="nominal"))
    assert sec["votes"] == {"all_voted": 59, "some_abstained": 1}
    humans = sec["agreement_with_humans"]
    assert humans["j0"]["accuracy_with_tie"] == pytest.approx(np.mean([s == t for s, t in zip(said[0], truth,
                                                                                                strict=True)]))
    assert J.member_alpha("pair", [["first", "first"], ["second", "second"]]) == pytest.approx(1.0)


def test_pairwise_alpha_keeps_every_pair_of_member_names_apart() -> None:
    # "a" + "b|c" and "a|b" + "c" joined with "|" are the same key; one α overwrote the other
    names = ["a", "b|c", "a|b", "c", "d\\", "|e"]
    rows = [["first", "second", "first", "tie", "second", "first"], ["second", "second", "first", "first", "tie",
                                                                         "second"], ["tie", "first", "second",
                                                                                     "first", "first", "tie"]]
    alphas = J.pairwise_alpha("pair", rows, names)
    assert len(alphas) == len(names) * (len(names) - 1) // 2  # 15 pairs, 15 keys
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            want = J.member_alpha("pair", [[r[i], r[j]] for r in rows])
            got = alphas[J.pair_key(a, b)]
            assert got == pytest.approx(want, nan_ok=True)
    assert J.pair_key("j0", "j2") == "j0|j2"  # names without | or \\ keep the plain key of earlier jury.json


# --------------------------------------------------------------------------------------------------
# Refusals, and the leaderboard
# --------------------------------------------------------------------------------------------------


def test_mismatched_benchmarks_are_refused_naming_the_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = ["first", "second"]
    a = pair_member(tmp_path, "a", truth, truth)
    b = pair_member(tmp_path, "b", truth, truth, benchmark="mllm_judge")
    rc, out = jury(tmp_path, [a, b])
    err = capsys.readouterr().err
    assert rc == 2 and "differ in benchmark" in err and str(a) in err and str(b) in err
    assert not (out / "verdicts.jsonl").exists()


def test_different_items_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = pair_member(tmp_path, "a", ["first", "second"], ["first", "second"])
    b = pair_member(tmp_path, "b", ["first", "second", "first"], ["first", "second", "first"])
    rc, _ = jury(tmp_path, [a, b])
    err = capsys.readouterr().err
    assert rc == 2 and "judged different items" in err and "q2::p" in err
    rc, _ = jury(tmp_path, [a])
    assert rc == 2 and "at least two" in capsys.readouterr().err
    rc, _ = jury(tmp_path, [a, a])
    assert rc == 2 and "given twice" in capsys.readouterr().err


def test_edited_item_content_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = pair_member(tmp_path, "a", ["first"], ["first"])
    b = pair_member(tmp_path, "b", ["first"], ["first"])
    for d, h in ((a, "c1"), (b, "c2")):
        rows = [json.loads(x) | {"content": h} for x in (d / "items.jsonl").read_text().splitlines()]
        (d / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rc, _ = jury(tmp_path, [a, b])
    assert rc == 2 and "different content" in capsys.readouterr().err


def test_the_leaderboard_ranks_the_jury_like_any_judge(tmp_path: Path) -> None:
    n = 400
    rng = np.random.default_rng(9)
    truth = [str(rng.choice(["first", "second"])) for _ in range(n)]
    runs = [pair_member(tmp_path / "sweep", f"j{k}", truth, simulate(rng, truth, 0.75)) for k in range(3)]
    rc, _ = jury(tmp_path / "sweep", runs)
    assert rc == 0
    assert compare_main([str(tmp_path / "sweep"), "--bootstrap", "0"]) == 0
    lb = pd.read_csv(tmp_path / "sweep" / "leaderboard.csv")
    assert lb["judge"].iloc[0] == "jury-majority"
    assert lb.set_index("judge").loc["jury-majority", "kind"] == "jury"
    assert lb.set_index("judge").loc["jury-majority", "prompt_tokens"] == 3 * 10 * n


def test_scores_on_another_scale_are_combined_on_the_labels_scale_once(tmp_path: Path) -> None:
    # members asked on 1–10, labels on 1–5: each member's scores are mapped (x−1)·4/9+1, the jury's are not
    # mapped a second time by the analysis
    scores = {"a": [1, 10, 4], "b": [10, 10, 7]}
    runs = []
    for name, s in scores.items():
        items = [item(f"q{i}::s", "score", "Image2Text", ["m1"]) for i in range(3)]
        recs = [record(f"q{i}::s", "score", [v(x)], order=(0,), judge=name) for i, x in enumerate(s)]
        runs.append(write_run(tmp_path / name, items=items, verdicts=recs,
                              labels=[label(f"q{i}::s", h) for i, h in enumerate([3, 5, 3])],
                              run={"judge": name, "setting": "score", "score_scale": {"min": 1, "max": 10},
                                   "label_scale": {"min": 1, "max": 5}}))
    rc, out = jury(tmp_path, runs, "--method", "mean")
    assert rc == 0

    def to5(x: float) -> float:
        return (x - 1) * 4 / 9 + 1

    want = [(to5(a) + to5(b)) / 2 for a, b in zip(scores["a"], scores["b"], strict=True)]
    assert [jury_values(out)[f"q{i}::s"] for i in range(3)] == pytest.approx(want)
    data = load_run(out)
    assert list(data.verdicts.sort_values("item_id")["value"]) == pytest.approx(want)


def test_every_rubric_gets_its_own_jury_verdict(tmp_path: Path) -> None:
    votes = {"a": {"clarity": 2, "relevance": 5}, "b": {"clarity": 4, "relevance": 4}, "c": {"clarity": 3,
                                                                                          "relevance": 1}}
    runs = []
    for name, vs in votes.items():
        recs = [record("q0::s", "score", [v(x, rubric=rb) for rb, x in vs.items()], order=(0,), judge=name,
                       mode="rubrics")]
        runs.append(write_run(tmp_path / name, items=[item("q0::s", "score", "Image2Text", ["m1"])], verdicts=recs,
                              labels=[label("q0::s", 3, rubric="clarity"), label("q0::s", 4, rubric="relevance")],
                              run={"judge": name, "setting": "score", "mode": "rubrics"}))
    rc, out = jury(tmp_path, runs, "--method", "median")
    assert rc == 0
    rec = json.loads((out / "verdicts.jsonl").read_text().splitlines()[0])
    assert {o["rubric"]: o["value"] for o in rec["outcomes"]} == {"clarity": 3.0, "relevance": 4.0}
    assert rec["rubrics"] == ["clarity", "relevance"] and rec["mode"] == "rubrics"
    report = json.loads((out / "jury.json").read_text())
    assert set(report["agreement"]) == {"clarity", "relevance"}


def test_methods_a_setting_does_not_take_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = ["first", "second"]
    runs = [pair_member(tmp_path, n, truth, truth) for n in ("a", "b")]
    for method in ("mean", "median"):
        rc, out = jury(tmp_path, runs, "--method", method)
        assert rc == 2 and "use one of majority, weighted" in capsys.readouterr().err
        assert not (out / "run.json").exists()
    rc, _ = jury(tmp_path, runs, "--method", "weighted", "--learner", "regression")
    assert rc == 2 and "learner 'regression' does not apply to pair" in capsys.readouterr().err


def test_weighted_batch_jury_learns_each_members_closeness_to_the_humans(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 60
    human = [tuple(int(x) for x in rng.permutation(4)) for _ in range(n)]
    good = list(human)  # member "good" ranks exactly as the humans
    noisy = [tuple(int(x) for x in rng.permutation(4)) for _ in range(n)]
    runs = []
    for name, rs in (("good", good), ("noisy1", noisy), ("noisy2", [tuple(reversed(r)) for r in noisy])):
        items = [item(f"q{i}::b", "batch", "Text2Image", ["m1", "m2", "m3", "m4"]) for i in range(n)]
        recs = [record(f"q{i}::b", "batch", [v(r)], order=(0, 1, 2, 3), judge=name) for i, r in enumerate(rs)]
        runs.append(write_run(tmp_path / name, items=items, verdicts=recs,
                              labels=[label(f"q{i}::b", h) for i, h in enumerate(human)],
                              run={"judge": name, "setting": "batch"}))
    rc, out = jury(tmp_path, runs, "--method", "weighted")
    assert rc == 0
    w = json.loads((out / "run.json").read_text())["jury"]["weights"]["overall"]["weights"]
    assert w[0] == pytest.approx(1.0) and w[1] < 1.0 and w[2] < 1.0
    # the two noisy members' Borda positions cancel (one is the other reversed): the good member decides
    assert all(tuple(x) == human[int(k[1:].split("::")[0])] for k, x in jury_values(out).items())


def test_the_jury_never_writes_over_a_judge_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = ["first", "second"]
    a = pair_member(tmp_path, "a", truth, truth)
    b = pair_member(tmp_path, "b", truth, truth)
    c = pair_member(tmp_path, "c", truth, truth)
    before = (a / "verdicts.jsonl").read_bytes()
    assert jury_cli.main([str(a), str(b), "--out", str(a), "--no-analyze"]) == 2
    assert "is a member run directory" in capsys.readouterr().err
    assert jury_cli.main([str(a), str(b), "--out", str(c), "--no-analyze"]) == 2
    assert "holds a judge run, not a jury" in capsys.readouterr().err
    assert (a / "verdicts.jsonl").read_bytes() == before
    rc, out = jury(tmp_path, [a, b])
    assert rc == 0
    rc, out = jury(tmp_path, [a, b, c])  # a jury directory is rewritten by the next jury
    assert rc == 0 and len(json.loads((out / "run.json").read_text())["members"]) == 3


def test_the_jury_gets_the_html_report_of_a_judge(tmp_path: Path) -> None:
    truth = ["first", "second", "first"]
    runs = [pair_member(tmp_path, n, truth, s) for n, s in (("a", truth), ("b", ["second"] * 3))]
    assert jury_cli.main([*map(str, runs), "--out", str(tmp_path / "j"), "--bootstrap", "0"]) == 0
    html = (tmp_path / "j" / "report.html").read_text()
    assert "jury-majority" in html
