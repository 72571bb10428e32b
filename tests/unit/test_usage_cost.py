"""Prices, cost per verdict, run usage summaries, snapshot drift, and the budget's admission control."""

from __future__ import annotations

import json

import pytest

from judgeanything.budget import Budget
from judgeanything.usage import (
    Price,
    PriceError,
    cross_run_warnings,
    drift_warnings,
    find_price,
    iter_latest_records,
    load_price_table,
    resolve_price,
    summarise_usage,
    verdict_cost,
)

GPT4O = Price(input_per_mtok=2.5, output_per_mtok=10.0, cached_input_per_mtok=1.25)


def test_the_packaged_table_loads_and_the_longest_pattern_wins():
    table = load_price_table()
    assert find_price(table, "gpt-4o-2024-08-06")[0] == "gpt-4o-2024-08-06"
    assert find_price(table, "gpt-4o-mini-2024-07-18")[0] == "gpt-4o-mini*"
    assert find_price(table, "gpt-4o-mini-2024-07-18")[1].output_per_mtok == 0.60
    # the reported snapshot first, then the configured id
    assert find_price(table, "my-finetune", "gpt-4.1")[0] == "gpt-4.1"
    assert find_price(table, "Qwen/Qwen2.5-VL-7B-Instruct") is None


def test_cost_of_one_verdict_prices_cached_and_audio_tokens_apart():
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 100_000}
    assert verdict_cost(usage, GPT4O) == pytest.approx(2.5 + 1.0)
    cached = {"prompt_tokens": 1_000_000, "completion_tokens": 0, "cached_prompt_tokens": 400_000}
    assert verdict_cost(cached, GPT4O) == pytest.approx(0.6 * 2.5 + 0.4 * 1.25)
    audio = Price(2.5, 10.0, audio_input_per_mtok=40.0, audio_output_per_mtok=80.0)
    u = {"prompt_tokens": 2000, "audio_prompt_tokens": 1000, "completion_tokens": 300, "audio_completion_tokens": 100}
    assert verdict_cost(u, audio) == pytest.approx((1000 * 2.5 + 1000 * 40 + 200 * 10 + 100 * 80) / 1e6)
    assert verdict_cost({}, GPT4O) == 0.0 and verdict_cost({"prompt_tokens": "x"}, GPT4O) == 0.0


def test_bad_prices_are_named(tmp_path):
    with pytest.raises(PriceError, match=r"cost\.price: output_per_mtok is required"):
        resolve_price({"price": {"input_per_mtok": 1}}, "m")
    with pytest.raises(PriceError, match="must be a finite number"):
        Price.from_mapping({"input_per_mtok": -1, "output_per_mtok": 1}, "x")
    bad = tmp_path / "p.yaml"
    bad.write_text("models:\n  m: {input_per_mtok: 1, output_per_mtok: 2, per_image: 3}\n")
    with pytest.raises(PriceError, match=r"model 'm': unknown price field\(s\) per_image"):
        load_price_table(bad)
    good = tmp_path / "q.yaml"
    good.write_text("models:\n  local-*: {input_per_mtok: 0, output_per_mtok: 0}\n")
    assert resolve_price({"prices": str(good)}, "local-qwen") == {
        "model_pattern": "local-*", "source": str(good), "input_per_mtok": 0.0, "output_per_mtok": 0.0}


def _rec(key, item, usage, model="m-1", attempt=0, hit=False, fp=None):
    extra = {}
    if hit:
        extra["cache"] = "hit"
    if fp:
        extra["system_fingerprint"] = fp
    return {"key": key, "item_id": item, "usage": usage, "model": model, "attempt": attempt, "extra": extra}


def test_run_summary_by_modality_counts_cache_hits_as_free_and_latest_attempts_only(tmp_path):
    log = tmp_path / "verdicts.jsonl"
    rows = [_rec("k1", "a", {"prompt_tokens": 1000, "completion_tokens": 100}),
            _rec("k2", "b", {}, attempt=0),  # an api_error attempt …
            _rec("k2", "b", {"prompt_tokens": 3000, "completion_tokens": 100}, attempt=1),  # … superseded
            _rec("k3", "b", {"prompt_tokens": 1000, "completion_tokens": 100}, hit=True, fp="fp_2")]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"key": "torn')
    s = summarise_usage(iter_latest_records(log), GPT4O, {"a": "text", "b": "image"})
    assert s["verdicts"] == 3 and s["cached"] == 1
    assert s["tokens"] == {"prompt_tokens": 5000, "completion_tokens": 300}
    one = (1000 * 2.5 + 100 * 10) / 1e6
    assert s["cost_usd"] == pytest.approx(one + (3000 * 2.5 + 100 * 10) / 1e6 + one)
    assert s["spent_usd"] == pytest.approx(s["cost_usd"] - one)
    assert s["by_modality"]["image"]["verdicts"] == 2 and s["by_modality"]["image"]["cached"] == 1
    assert s["by_modality"]["text"]["cost_usd"] == pytest.approx(one)
    assert summarise_usage(iter_latest_records(log), None)["cost_usd"] is None  # no price: unknown, not 0


def test_snapshot_drift_within_a_run_and_across_runs_is_warned():
    recs = [_rec("k1", "a", {}, model="m-1", fp="fp_a"), _rec("k2", "a", {}, model="m-2", fp="fp_b")]
    s = summarise_usage(recs, None)
    w = drift_warnings(s, "gpt")
    assert len(w) == 2 and "2 model snapshots (m-1 ×1, m-2 ×1)" in w[0] and "system fingerprints" in w[1]
    assert drift_warnings(summarise_usage(recs[:1], None), "gpt") == []
    runs = [("run1", "gpt", {"snapshots": {"m-1": 5}}), ("run2", "gpt", {"snapshots": {"m-2": 5}}),
            ("run3", "other", {"snapshots": {"x": 1}})]
    (w,) = cross_run_warnings(runs)
    assert "judge gpt" in w and "run1: m-1" in w and "run2: m-2" in w
    assert cross_run_warnings(runs[:1] + runs[2:]) == []


def test_budget_admits_one_probe_then_reserves_the_mean_cost():
    b = Budget(limit_usd=0.01, price=GPT4O)
    u = {"prompt_tokens": 1000, "completion_tokens": 50}  # 0.003 USD
    assert b.admit() and not b.admit() and b.wait_needed() and not b.stopped  # cost unknown: one at a time
    b.settle(u, cached=False)
    assert b.admit(2)  # 0.003 spent + 2 × 0.003 reserved ≤ 0.01
    assert not b.admit() and b.stopped  # 0.003 + 3 × 0.003 > 0.01
    b.settle(u, cached=False)
    b.settle(u, cached=True)  # a cache hit costs nothing
    assert b.spent == pytest.approx(0.006) and not b.admit()
    assert b.summary() == {"limit_usd": 0.01, "spent_usd": 0.006, "spent_this_session_usd": 0.006,
                           "stopped": True}


def test_budget_counts_earlier_sessions_and_is_inactive_without_a_limit_or_a_price():
    assert not Budget(1.0, GPT4O, spent_before=1.0).admit()
    assert Budget(None, GPT4O).admit(10**6) and Budget(0.0, None).admit(10**6)
    with pytest.raises(ValueError, match="budget_usd"):
        Budget(-1.0, GPT4O)


def test_a_resumed_budget_starts_from_the_earlier_sessions_mean_cost():
    b = Budget(0.1, GPT4O, spent_before=0.09, calls_before=5)  # 0.018 per call so far
    assert not b.admit() and b.stopped  # 0.09 + 0.018 > 0.1: nothing is sent to learn it
    assert Budget(0.2, GPT4O, spent_before=0.09, calls_before=5).admit(6)  # 0.09 + 6 × 0.018 ≤ 0.2


def test_per_modality_prompt_tokens_are_summed_where_a_judge_reports_them():
    recs = [_rec("k1", "a", {"prompt_tokens": 900, "completion_tokens": 10, "text_prompt_tokens": 100,
                             "image_prompt_tokens": 258, "video_prompt_tokens": 542}),
            _rec("k2", "a", {"prompt_tokens": 300, "completion_tokens": 10, "audio_prompt_tokens": 200,
                             "text_prompt_tokens": 100})]
    assert summarise_usage(recs, None)["tokens"] == {
        "prompt_tokens": 1200, "completion_tokens": 20, "text_prompt_tokens": 200, "image_prompt_tokens": 258,
        "video_prompt_tokens": 542, "audio_prompt_tokens": 200}
