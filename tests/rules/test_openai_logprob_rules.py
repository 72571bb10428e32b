"""``setting=rules`` with ``judge=openai judge.verdict=logprob`` against a loopback server that speaks the
OpenAI chat-completions protocol (the official SDK on both sides of the wire): the relevance screen's questions,
the rule question and its contrast input (media removed) are separate requests, and the server's top logprobs
become P(yes | input) = 0.8 and P(yes | contrast) = 0.3 → a debiased P(yes) of (1 + 0.5) / 2 = 0.75."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.rules.conftest import records
from tests.support.fake_openai import FakeServer, Script
from tests.support.token_cases import logprobs

pytestmark = pytest.mark.integration


def _text(body: dict[str, Any]) -> str:
    parts = []
    for m in body["messages"]:
        c = m["content"]
        parts += [c] if isinstance(c, str) else [p.get("text", "") for p in c if p.get("type") == "text"]
    return "\n".join(parts)


def _has_image(body: dict[str, Any]) -> bool:
    return any(isinstance(m["content"], list) and any(p.get("type") == "image_url" for p in m["content"])
               for m in body["messages"])


def _p_yes(body: dict[str, Any]) -> float:
    """The server's P(yes): preconditions — yes for "still image" only; rules — 0.8 with the image, 0.3 without."""
    text = _text(body)
    if "Before a rule can be checked" in text:
        return 0.9 if "Claim: The content is a still image." in text else 0.1
    return 0.8 if _has_image(body) else 0.3


def _tokens(body: dict[str, Any]) -> tuple[list[str], dict[int, list[tuple[str, float]]]]:
    p = _p_yes(body)
    first, second = (("yes", p), ("no", 1 - p)) if p >= 0.5 else (("no", 1 - p), ("yes", p))
    toks = ['{"', "overall", "_violation", '":', ' "', first[0], '"}']
    return toks, {5: [first, second]}


def test_debiased_rule_verdicts_from_api_logprobs(run_rules):
    def reply(body: dict[str, Any]) -> str:
        return "".join(_tokens(body)[0])

    def choice(body: dict[str, Any]) -> dict[str, Any]:
        return {"logprobs": logprobs(*_tokens(body))}

    with FakeServer(Script(reply=reply, choice=choice)) as srv:
        run = run_rules("openai-rules", "judge=openai", "judge.model=m", "judge.verdict=logprob",
                        "judge.top_logprobs=5", f"judge.base_url={srv.base_url}", "run.limit=5")
        sent = list(srv.script.requests)
    recs = records(run)
    assert len(recs) == 5  # image_000 under the five rules
    # 5 precondition questions, then the 3 rules that apply, each with its contrast input
    assert len(sent) == 5 + 3 * 2 and all(b["logprobs"] is True for b in sent)
    for rid in ("too_many_shapes", "red_shape", "written_text"):
        r = recs[f"rule::image_000::{rid}"]
        (o,) = r["outcomes"]
        assert o["value"] == "yes" and o["probs"]["yes"] == pytest.approx(0.75)
        d = r["extra"]["debias"]["overall"]
        assert d["contrast"] == "no_media"
        assert d["p_yes"] == pytest.approx(0.8) and d["p_yes_contrast"] == pytest.approx(0.3)
        assert d["margin"] == pytest.approx(0.5)
        assert r["extra"]["screen"][0]["value"] == "yes"
    for rid in ("audible_tone", "motion"):
        r = recs[f"rule::image_000::{rid}"]
        assert r["outcomes"][0]["value"] == "n/a" and r["extra"]["screen"][0]["value"] == "no"
    m = json.loads((run / "metrics.json").read_text())["overall"]
    assert m["screen"]["skipped"] == 2 and m["screen"]["screen_accuracy"] == 1.0
    assert m["debias"]["mean_margin"] == pytest.approx(0.5)


def test_negated_contrast_compares_the_claim_with_its_negation(run_rules):
    """``setting.contrast=negated``: the contrast request shows the same image and asks the rule's negation; the
    server believes the claim (P(yes) 0.8) more than its negation (0.1) → margin 0.7, P_d(yes) 0.85."""
    from judgeanything.rules.constitution import load_constitution

    negations = [r.negated for r in load_constitution().rules]

    def p(body: dict[str, Any]) -> float:
        text = _text(body)
        if "Before a rule can be checked" in text:
            return 0.9
        return 0.1 if any(f"Claim: {n}" in text for n in negations) else 0.8

    def toks(body: dict[str, Any]) -> tuple[list[str], dict[int, list[tuple[str, float]]]]:
        q = p(body)
        first, second = (("yes", q), ("no", 1 - q)) if q >= 0.5 else (("no", 1 - q), ("yes", q))
        return ['{"', "overall", "_violation", '":', ' "', first[0], '"}'], {5: [first, second]}

    with FakeServer(Script(reply=lambda b: "".join(toks(b)[0]), choice=lambda b: {"logprobs": logprobs(*toks(b))})) \
            as srv:
        run = run_rules("openai-negated", "judge=openai", "judge.model=m", "judge.verdict=logprob",
                        "judge.top_logprobs=5", f"judge.base_url={srv.base_url}", "run.limit=5",
                        "setting.screen=false", "setting.contrast=negated")
        sent = list(srv.script.requests)
    assert len(sent) == 5 * 2 and all(_has_image(b) for b in sent)  # the contrast keeps the media
    for r in records(run).values():
        d = r["extra"]["debias"]["overall"]
        assert d["contrast"] == "negated" and d["p_yes_contrast"] == pytest.approx(0.1)
        assert r["outcomes"][0]["value"] == "yes" and r["outcomes"][0]["probs"]["yes"] == pytest.approx(0.85)


def test_precondition_chain_stops_at_the_first_that_does_not_hold(run_rules, tmp_path):
    """Preconditions are asked in chain order and the chain stops at the first "no": rule `a` (yes, no) asks
    two, rule `b` (no, …) asks one and never its second, rule `c` (yes, yes) asks both and then the rule."""
    c = tmp_path / "chain.yaml"
    c.write_text("""
rules:
  - {id: a, statement: Claim A., preconditions: [P-yes-1., P-no-2.]}
  - {id: b, statement: Claim B., preconditions: [P-no-3., P-yes-4.]}
  - {id: c, statement: Claim C., preconditions: [P-yes-5., P-yes-6.]}
""")

    def toks(body: dict[str, Any]) -> tuple[list[str], dict[int, list[tuple[str, float]]]]:
        ans = "no" if "Claim: P-no-" in _text(body) else "yes"
        return ['{"', "overall", "_violation", '":', ' "', ans, '"}'], {5: [(ans, 0.9), ("no" if ans == "yes"
                                                                                      else "yes", 0.1)]}

    with FakeServer(Script(reply=lambda b: "".join(toks(b)[0]), choice=lambda b: {"logprobs": logprobs(*toks(b))})) \
            as srv:
        run = run_rules("openai-chain", "judge=openai", "judge.model=m", "judge.verdict=logprob",
                        "judge.top_logprobs=5", f"judge.base_url={srv.base_url}", "run.limit=3",
                        f"setting.constitution={c}", "setting.contrast=none")
        asked = [next(line for line in _text(b).splitlines() if line.startswith("Claim:")) for b in srv.script.requests]
    assert sorted(asked) == sorted(["Claim: P-yes-1.", "Claim: P-no-2.", "Claim: P-no-3.", "Claim: P-yes-5.",
                                    "Claim: P-yes-6.", "Claim: Claim C."])
    recs = records(run)
    screens = {i.rsplit("::", 1)[-1]: [s["precondition"] for s in r["extra"]["screen"]] for i, r in recs.items()}
    assert screens == {"a": ["P-yes-1.", "P-no-2."], "b": ["P-no-3."], "c": ["P-yes-5.", "P-yes-6."]}
    values = {i.rsplit("::", 1)[-1]: r["outcomes"][0]["value"] for i, r in recs.items()}
    assert values == {"a": "n/a", "b": "n/a", "c": "yes"}
    assert "precondition 2 does not hold" in recs["rule::image_000::a"]["outcomes"][0]["comment"]
