"""Position, size, self-preference and cross-modality bias on synthetic judges with known behaviour."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from judgeanything.analysis import analyze_run, family_of, read_metrics_csv
from judgeanything.analysis.bias import size_of

from .runbuilder import item, label, record, v, write_run

CH = ["first", "tie", "second"]


def _pair_items(n: int, rnd: random.Random, models=("m1", "m2")) -> tuple[list, list, list]:
    items, labels, lengths = [], [], []
    for i in range(n):
        la, lb = rnd.randint(5, 400), rnd.randint(5, 400)
        while lb == la:
            lb = rnd.randint(5, 400)
        task = ["Image2Text", "Text2Text", "Audio2Text"][i % 3]
        ms = list(models) if i % 2 else list(models)[::-1]
        items.append(item(f"{i}::p", "pair", task, ms, texts=["x" * la, "y" * lb]))
        labels.append(label(f"{i}::p", rnd.choice(CH)))
        lengths.append((la, lb))
    return items, labels, lengths


def test_first_like_judge_in_both_orders(tmp_path: Path) -> None:
    rnd = random.Random(0)
    items, labels, _ = _pair_items(60, rnd)
    verdicts = []
    for it in items:
        # always picks the response shown first → dataset orientation depends on the order
        verdicts.append(record(it["item_id"], "pair", [v("first")], order=(0, 1)))
        verdicts.append(record(it["item_id"], "pair", [v("second")], order=(1, 0)))
    d = write_run(tmp_path / "first", items=items, labels=labels, verdicts=verdicts, run={"judge": "first"})
    m = analyze_run(d, bootstrap=100)
    pos = m["settings"]["pair"]["bias"]["position"]["overall"]
    assert pos["flip_rate"]["value"] == 1.0
    assert pos["consistency"]["value"] == 0.0
    assert pos["p_prefer_slot"]["1"]["value"] == 1.0
    assert pos["p_prefer_slot"]["2"]["value"] == 0.0
    assert pos["both_orders"] == 60
    # under the "tie" policy every item becomes a tie
    assert m["settings"]["pair"]["rubrics"]["overall"]["pooled"]["tie_rate"]["value"] == 1.0
    df = read_metrics_csv(d / "metrics.csv")
    r = df[(df.group_by == "inconsistent_policy") & (df.group == "drop")]
    assert r.empty  # every item dropped → no numbers, not made-up ones


def test_longer_like_judge(tmp_path: Path) -> None:
    rnd = random.Random(1)
    items, labels, lengths = _pair_items(80, rnd)
    verdicts = [record(it["item_id"], "pair", [v("first" if la > lb else "second")])
                for it, (la, lb) in zip(items, lengths, strict=True)]
    # humans agree with length only half of the time: labels are random above
    d = write_run(tmp_path / "longer", items=items, labels=labels, verdicts=verdicts, run={"judge": "longer"})
    m = analyze_run(d, bootstrap=100)
    sz = m["settings"]["pair"]["bias"]["size"]["overall"]
    assert sz["primary"]["p_prefer_larger"]["value"] == 1.0
    assert sz["features"]["chars"]["p_prefer_larger"]["value"] == 1.0
    hum = [lab["value"] for lab in labels]
    dec = [(h, la > lb) for h, (la, lb) in zip(hum, lengths, strict=True) if h != "tie"]
    assert sz["primary"]["human_p_prefer_larger"] == pytest.approx(np.mean([(h == "first") == f for h, f in dec]))
    assert all(b["p_judge_larger"] == 1.0 for b in sz["primary"]["by_ratio"])
    assert sum(b["n"] for b in sz["primary"]["by_ratio"]) == 80


def test_length_controlled_agreement(tmp_path: Path) -> None:
    """A judge that follows humans but, when humans tie, picks the longer: the size coefficient is
    positive; a judge that ignores length has a size coefficient near 0 and LC ≈ observed agreement."""
    rnd = random.Random(2)
    items, labels, lengths = _pair_items(400, rnd)
    hum = [lab["value"] for lab in labels]
    lengthy, fair = [], []
    for it, h, (la, lb) in zip(items, hum, lengths, strict=True):
        longer = "first" if la > lb else "second"
        noisy = h if rnd.random() < 0.8 else rnd.choice(["first", "second"])
        lengthy.append(record(it["item_id"], "pair", [v(longer if h == "tie" or rnd.random() < 0.3 else h)]))
        fair.append(record(it["item_id"], "pair", [v(noisy if noisy != "tie" else rnd.choice(["first", "second"]))]))
    d1 = write_run(tmp_path / "lengthy", items=items, labels=labels, verdicts=lengthy)
    d2 = write_run(tmp_path / "fair", items=items, labels=labels, verdicts=fair)
    lc1 = analyze_run(d1, bootstrap=0)["settings"]["pair"]["bias"]["size"]["overall"]["length_controlled"]
    lc2 = analyze_run(d2, bootstrap=0)["settings"]["pair"]["bias"]["size"]["overall"]["length_controlled"]
    assert lc1["size_coef"] > 1.0
    assert abs(lc2["size_coef"]) < 0.3
    assert lc2["lc_agreement"] == pytest.approx(lc2["model_agreement"], abs=0.02)
    # the modelled agreement reproduces the observed one (logistic regression calibration)
    assert lc1["model_agreement"] == pytest.approx(lc1["observed_agreement"], abs=0.05)


def test_self_preference_flagged_only_for_self_preferring_judge(tmp_path: Path) -> None:
    rnd = random.Random(3)
    items, labels, verdicts_self, verdicts_fair = [], [], [], []
    for i in range(200):
        ms = ["gpt-4o", "llava-1.5"] if i % 2 else ["qwen2-vl", "gpt-4o-mini"]
        iid = f"{i}::p"
        items.append(item(iid, "pair", "Image2Text", ms))
        h = rnd.choice(CH)
        labels.append(label(iid, h))
        own = "first" if ms[0].startswith("gpt") else "second"
        verdicts_self.append(record(iid, "pair", [v(own if rnd.random() < 0.7 else h)]))
        verdicts_fair.append(record(iid, "pair", [v(h)]))
    d1 = write_run(tmp_path / "self", items=items, labels=labels, verdicts=verdicts_self,
                   run={"judge": "gpt-4o-2024-08-06"})
    d2 = write_run(tmp_path / "fair", items=items, labels=labels, verdicts=verdicts_fair,
                   run={"judge": "gpt-4o-2024-08-06"})
    sp1 = analyze_run(d1, bootstrap=500)["settings"]["pair"]["bias"]["self_preference"]["overall"]
    sp2 = analyze_run(d2, bootstrap=500)["settings"]["pair"]["bias"]["self_preference"]["overall"]
    assert sp1["judge_family"] == "openai" and sp1["n_pairs"] == 200
    assert sp1["flagged"] is True
    assert sp1["difference"]["ci_low"] > 0
    assert sp2["flagged"] is False
    assert sp2["difference"]["value"] == 0.0
    # the rate itself, recomputed: own-family wins + ½ ties
    own_choice = ["first" if it["responses"][0]["model_name"].startswith("gpt") else "second" for it in items]
    jv = [r["outcomes"][0]["value"] for r in verdicts_self]
    rate = np.mean([0.5 if j == "tie" else float(j == o) for j, o in zip(jv, own_choice, strict=True)])
    assert sp1["judge_rate"]["value"] == pytest.approx(rate)
    # a custom family map: the judge's family no longer matches anything
    m = analyze_run(d1, bootstrap=0, families={"llava": "llava"})
    assert m["settings"]["pair"]["bias"]["self_preference"]["overall"]["judge_family"] is None


def test_self_preference_scores_offset_own_vs_other(tmp_path: Path) -> None:
    """Score setting: mean judge − human offset on the judge family's responses vs the others'."""
    rnd = random.Random(5)
    items, labels, lenient, fair, offs = [], [], [], [], {True: [], False: []}
    for i in range(120):
        own = i % 3 == 0
        iid = f"{i}::s"
        items.append(item(iid, "score", "Text2Image", ["dall-e-3" if own else "sdxl"]))
        h = rnd.randint(1, 4)
        labels.append(label(iid, h))
        j = h + 1 if own else h + rnd.choice([-1, 0, 0, 1]) * (h > 1)
        lenient.append(record(iid, "score", [v(j)], order=(0,)))
        fair.append(record(iid, "score", [v(h)], order=(0,)))
        offs[own].append(j - h)
    run = {"judge": "gpt-4o"}
    d1 = write_run(tmp_path / "lenient", items=items, labels=labels, verdicts=lenient, run=run)
    d2 = write_run(tmp_path / "fair", items=items, labels=labels, verdicts=fair, run=run)
    sp1 = analyze_run(d1, bootstrap=500)["settings"]["score"]["bias"]["self_preference"]["overall"]
    sp2 = analyze_run(d2, bootstrap=500)["settings"]["score"]["bias"]["self_preference"]["overall"]
    assert (sp1["judge_family"], sp1["n_own"], sp1["n_other"]) == ("openai", 40, 80)
    assert sp1["offset_own"]["value"] == pytest.approx(np.mean(offs[True])) == 1.0
    assert sp1["offset_other"]["value"] == pytest.approx(np.mean(offs[False]))
    assert sp1["difference"]["value"] == pytest.approx(1.0 - np.mean(offs[False]))
    assert sp1["difference"]["ci_low"] > 0 and sp1["flagged"] is True
    assert sp2["difference"]["value"] == 0.0 and sp2["flagged"] is False


def test_self_preference_without_humans_uses_binomial(tmp_path: Path) -> None:
    items = [item(f"{i}::p", "pair", "Image2Text", ["claude-3", "llava"]) for i in range(40)]
    verdicts = [record(f"{i}::p", "pair", [v("first")]) for i in range(40)]
    d = write_run(tmp_path / "c", items=items, verdicts=verdicts, run={"judge": "claude-3-5-sonnet"})
    sp = analyze_run(d, bootstrap=0)["settings"]["pair"]["bias"]["self_preference"]["overall"]
    assert sp["judge_family"] == "anthropic"
    assert sp["p_value"] == pytest.approx(0.5**40)
    assert sp["flagged"] is True


def test_family_map_and_sizes() -> None:
    assert family_of("Qwen2.5-VL-7B-Instruct") == "qwen"
    assert family_of("gemini-1.5-pro") == "google"
    assert family_of("totally-unknown") is None
    assert family_of("video1-generator") is None  # "o1" only as a word
    assert family_of("o1-mini") == "openai"
    assert family_of("My-GPT", {"gpt": "openai"}) == "openai"
    with pytest.raises(ValueError, match="regular expression"):
        family_of("x", {"(": "broken"})
    assert size_of({"width": 10, "height": 20}, "pixels") == 200.0
    assert np.isnan(size_of({}, "duration_s"))


def test_cross_modality_chi2_for_pairs(tmp_path: Path) -> None:
    from scipy.stats import chi2_contingency

    rnd = random.Random(4)
    items, labels, verdicts, correct = [], [], [], {"text": [0, 0], "image": [0, 0]}
    for i in range(120):
        task = "Image2Text" if i % 2 else "Text2Image"
        iid = f"{i}::p"
        items.append(item(iid, "pair", task, ["a", "b"]))
        h = rnd.choice(["first", "second"])
        labels.append(label(iid, h))
        good = rnd.random() < (0.9 if task == "Image2Text" else 0.5)
        j = h if good else ("second" if h == "first" else "first")
        verdicts.append(record(iid, "pair", [v(j)]))
        correct["text" if task == "Image2Text" else "image"][0 if good else 1] += 1
    d = write_run(tmp_path / "x", items=items, labels=labels, verdicts=verdicts)
    m = analyze_run(d, bootstrap=200)
    cm = m["settings"]["pair"]["bias"]["cross_modality"]["overall"]
    ref = chi2_contingency(np.array([correct["image"], correct["text"]]))
    assert cm["tests"]["output_modality"]["p_value"] == pytest.approx(ref.pvalue)
    gap = cm["mmu_vs_mmg"]["accuracy_with_tie"]
    assert gap["value"] == pytest.approx(correct["text"][0] / 60 - correct["image"][0] / 60)
    assert gap["significant"] is True


def test_batch_permutations_consistency(tmp_path: Path) -> None:
    """Batch items judged in two permutations: consistency = identical dataset-orientation rankings;
    inconsistent rankings are combined by Borda for the headline nlev."""
    from judgeanything.analysis.agreement import borda, normalised_levenshtein

    rnd = random.Random(6)
    items, labels, verdicts, truth = [], [], [], []
    for i in range(40):
        iid = f"{i}::b"
        items.append(item(iid, "batch", "Image2Text", ["a", "b", "c"]))
        h = tuple(rnd.sample(range(3), 3))
        labels.append(label(iid, h))
        r1 = tuple(rnd.sample(range(3), 3))
        r2 = r1 if i % 2 else tuple(rnd.sample(range(3), 3))
        verdicts += [record(iid, "batch", [v(r1)], order=(0, 1, 2)), record(iid, "batch", [v(r2)], order=(2, 0, 1))]
        truth.append((h, r1, r2))
    d = write_run(tmp_path / "bp", items=items, labels=labels, verdicts=verdicts)
    m = analyze_run(d, bootstrap=50)
    pos = m["settings"]["batch"]["bias"]["position"]["overall"]
    assert pos["consistency"]["value"] == pytest.approx(np.mean([r1 == r2 for _, r1, r2 in truth]))
    assert pos["mean_nlev_between_orders"] == pytest.approx(
        np.mean([normalised_levenshtein(r1, r2) for _, r1, r2 in truth]))
    combined = [r1 if r1 == r2 else borda([r1, r2]) for _, r1, r2 in truth]
    nlev = np.mean([normalised_levenshtein(c, h) for c, (h, _, _) in zip(combined, truth, strict=True)])
    assert m["settings"]["batch"]["rubrics"]["overall"]["pooled"]["nlev"]["value"] == pytest.approx(nlev)
