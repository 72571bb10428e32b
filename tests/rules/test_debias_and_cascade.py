"""Done-when, with the smoke judge (tiny random-weight Qwen2.5-Omni, ``judge=smoke``) on the rule probe family:

* the debiased verdict differs from the raw one exactly by the contrast input's probabilities:
  P_d(yes) = (1 + P(yes | input) − P(yes | contrast)) / 2, where P(yes | input) is what the same judge gives
  without debiasing (``setting.contrast=none``) and P(yes | contrast) what it gives on the contrast input
  (media removed) judged directly;
* the cascade (``judge=cascade``: fast = the smoke model's debiased token probabilities, slow = the same model
  generating its reasoning first) with threshold 0 equals the fast judge, with threshold 1 the slow judge, and
  in between escalates exactly the units whose |margin| is at most the threshold.

The relevance screen is off (``setting.screen=false``): a random-weight model answers preconditions at random,
and these checks are about the verdicts. Five units: one image under the five rules.
"""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from judgeanything.rules.contrast import contrast_parts, contrast_request
from judgeanything.rules.debias import p_yes
from judgeanything.schema import TextPart, Verdict
from tests.rules.conftest import records

pytestmark = [pytest.mark.integration, pytest.mark.slow]
COMMON = ("setting.screen=false", "run.limit=5")
SLOW = ("judge=smoke", "judge.verdict=generate", "judge.name=smoke-omni-tiny-cot", "judge.sampling.max_tokens=48")


@pytest.fixture(scope="module")
def runs(run_rules):
    return {
        "fast": run_rules("fast", "judge=smoke", *COMMON),
        "raw": run_rules("raw", "judge=smoke", "setting.contrast=none", *COMMON),
        "slow": run_rules("slow", *SLOW, *COMMON),
        "c0": run_rules("c0", "judge=cascade", "judge.threshold=0", *COMMON),
        "c1": run_rules("c1", "judge=cascade", "judge.threshold=1", *COMMON),
    }


def _prepared(run_dir, judge, n=5):
    """The requests of a run's first ``n`` units as the runner prepares them (decoded media)."""
    from judgeanything.datasets.probes import ProbesDataset
    from judgeanything.modalities.cache import MediaCache
    from judgeanything.rules.constitution import load_constitution
    from judgeanything.runner.prepare import RequestPreparer
    from judgeanything.runner.units import plan_units

    cfg = json.loads((run_dir / "run.json").read_text())["config"]
    data = ProbesDataset(cache_dir=cfg["benchmark"]["cache_dir"]).load_rules(load_constitution())
    units = plan_units(data.items[:n], mode="overall", rubrics=("overall",), judge_fp={}, prompt_version="v2")
    prep = RequestPreparer(judge, MediaCache(data.data_root, cfg.get("media") or {}), mode="overall",
                           rubrics=("overall",), prompt_version="v2")
    return [prep.prepare(u, []) for u in units]


def test_debiased_differs_from_raw_exactly_by_the_contrast(runs):
    from judgeanything.judges.hf import HFJudge

    fast, raw = records(runs["fast"]), records(runs["raw"])
    assert len(fast) == len(raw) == 5
    judge = HFJudge("smoke:qwen2_5_omni", name="smoke-omni-tiny", device="cpu", dtype="float32", verdict="logprob",
                    processor_kwargs={"videos_kwargs": {"size": {"shortest_edge": 3136, "longest_edge": 50176}}})
    reqs = _prepared(runs["fast"], judge)
    direct = asyncio.run(judge.judge([contrast_request(r, "no_media") for r in reqs]))
    for req, con in zip(reqs, direct, strict=True):
        rec = fast[req.item.item_id]
        d = rec["extra"]["debias"]["overall"]
        v = Verdict.from_dict(rec["outcomes"][0])
        assert d["contrast"] == "no_media"
        p_raw = p_yes(Verdict.from_dict(raw[req.item.item_id]["outcomes"][0]))
        q = p_yes(con.outcomes[0])
        assert d["p_yes"] == pytest.approx(p_raw, abs=1e-4)  # the undebiased judge's own P(yes | input)
        assert d["p_yes_contrast"] == pytest.approx(q, abs=1e-4)  # the contrast input judged directly
        assert d["margin"] == d["p_yes"] - d["p_yes_contrast"]
        assert v.probs["yes"] == (1 + (d["p_yes"] - d["p_yes_contrast"])) / 2  # exactly
        assert v.value == ("yes" if d["p_yes"] > d["p_yes_contrast"] else "no")
        assert rec["usage"]["forward_passes"] == 2  # the input and its contrast, both counted
    m = json.loads((runs["fast"] / "metrics.json").read_text())["overall"]
    assert m["debias"]["contrast"] == "no_media" and m["debias"]["n"] == m["verdicts"]["n"]
    assert 0 <= m["calibration"]["brier"] <= 1 and 0 <= m["calibration"]["ece"] <= 1


def test_contrast_inputs_are_what_they_say(runs):
    from judgeanything.judges.baselines import FirstJudge
    from judgeanything.modalities.base import EncodedAudio, EncodedImage, EncodedVideo

    first = FirstJudge()
    first.needs_media = True  # decode the media for this check
    reqs = _prepared(runs["fast"], first, 15)
    vid = next(r for r in reqs if any(isinstance(p, EncodedVideo) for p in r.parts))
    (frames,) = [p for p in vid.parts if isinstance(p, EncodedVideo)]
    (grey,) = [p for p in contrast_parts(vid.parts, "blank") if isinstance(p, EncodedVideo)]
    assert grey.frames.shape == frames.frames.shape and set(grey.frames.ravel()) == {128}
    assert grey.timestamps == frames.timestamps
    (soft,) = [p for p in contrast_parts(vid.parts, "blur", 3.0) if isinstance(p, EncodedVideo)]
    assert soft.frames.shape == frames.frames.shape and soft.frames.std() < frames.frames.std()
    img = next(r for r in reqs if any(isinstance(p, EncodedImage) for p in r.parts))
    snd = next(r for r in reqs if any(isinstance(p, EncodedAudio) for p in r.parts))
    assert all(isinstance(p, TextPart) for p in contrast_parts(img.parts, "no_media"))
    (blank,) = [p for p in contrast_parts(img.parts, "blank") if isinstance(p, EncodedImage)]
    (orig,) = [p for p in img.parts if isinstance(p, EncodedImage)]
    assert blank.image.size == orig.image.size and set(np.asarray(blank.image).ravel()) == {128}
    (blur,) = [p for p in contrast_parts(img.parts, "blur", 4.0) if isinstance(p, EncodedImage)]
    a, b = np.asarray(orig.image, dtype=float), np.asarray(blur.image, dtype=float)
    assert a.shape == b.shape and np.abs(a - b).mean() > 1 and b.std() < a.std()
    (silent,) = [p for p in contrast_parts(snd.parts, "blank") if isinstance(p, EncodedAudio)]
    assert not silent.samples.any() and len(silent.samples) == len(next(
        p for p in snd.parts if isinstance(p, EncodedAudio)).samples)
    neg = contrast_request(img, "negated")
    assert neg.parts[:-1] == img.parts[:-1] and neg.prompt.parts[:-1] == img.prompt.parts[:-1]
    assert img.item.rule.negated in neg.parts[-1].text and img.item.rule.statement not in neg.parts[-1].text


def test_cascade_threshold_0_is_the_fast_judge(runs):
    fast, c0 = records(runs["fast"]), records(runs["c0"])
    assert set(fast) == set(c0)
    for i, rec in c0.items():
        assert rec["extra"]["cascade"]["escalated"] is False
        got, want = Verdict.from_dict(rec["outcomes"][0]), Verdict.from_dict(fast[i]["outcomes"][0])
        assert got.value == want.value and got.probs == pytest.approx(want.probs, abs=1e-6)
    k = json.loads((runs["c0"] / "metrics.json").read_text())["overall"]["cascade"]
    assert k["escalated"] == 0 and k["escalated_fraction"] == 0.0


def test_cascade_threshold_1_is_the_slow_judge(runs):
    slow, c1, fast = records(runs["slow"]), records(runs["c1"]), records(runs["fast"])
    assert set(slow) == set(c1)
    for i, rec in c1.items():
        assert rec["extra"]["cascade"]["escalated"] is True
        assert rec["outcomes"] == slow[i]["outcomes"] and rec["raw"] == slow[i]["raw"]
        # both stages were paid for: the run's usage is the fast stage's plus the slow one's
        assert rec["usage"]["prompt_tokens"] == fast[i]["usage"]["prompt_tokens"] + slow[i]["usage"]["prompt_tokens"]
    k = json.loads((runs["c1"] / "metrics.json").read_text())["overall"]["cascade"]
    assert k["escalated_fraction"] == 1.0 and k["slow_tokens"]["prompt_tokens"] > 0
    assert "## Cascade" in (runs["c1"] / "report.md").read_text()


def test_cascade_escalates_exactly_below_the_threshold(runs, run_rules):
    fast, slow = records(runs["fast"]), records(runs["slow"])
    margins = {i: abs(r["extra"]["debias"]["overall"]["margin"]) for i, r in fast.items()}
    t = float(np.median(list(margins.values())))
    mid = records(run_rules("cmid", "judge=cascade", f"judge.threshold={t!r}", *COMMON))
    assert 0 < sum(margins[i] <= t for i in mid) < len(mid)
    for i, rec in mid.items():
        up = margins[i] <= t
        assert rec["extra"]["cascade"]["escalated"] is up
        assert rec["extra"]["cascade"]["confidence"] == pytest.approx(margins[i], abs=1e-6)
        want = slow[i] if up else fast[i]
        assert rec["outcomes"][0]["value" if "value" in want["outcomes"][0] else "failure"] == \
            want["outcomes"][0].get("value", want["outcomes"][0].get("failure"))
