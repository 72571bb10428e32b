"""A resumed run with ``run.budget_usd`` reads its run log once at start: the budget's earlier spending is taken
in the same pass as the resume state (it was read twice more, by a separate two-pass scan), and comes to what
the usage summary of the log's counted records says."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from judgeanything import store
from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.runner import Runner, RunOptions
from judgeanything.schema import Failure
from judgeanything.store import RunLog, iter_latest_records
from judgeanything.usage import paid_cost, price_of, summarise_usage
from tests.support.items import toy_pairs

PRICE = {"model_pattern": "priced", "source": "cost.price", "input_per_mtok": 3.0, "output_per_mtok": 15.0,
         "cached_input_per_mtok": 0.3}
ANSWER = '{"overall_comment": "", "overall_choice": "1"}'


class _Priced(Judge):
    """Answers every request with token counts that differ per item (so each verdict costs its own amount),
    except the items in ``fail`` (an ``api_error``: retried by the next session)."""

    name = "priced"
    kind = "api"
    needs_media = False

    def __init__(self, fail: frozenset[int] = frozenset()) -> None:
        self.fail = fail
        self.asked = 0

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        out = []
        for r in requests:
            self.asked += 1
            i = int(r.item.item_id.split("::")[0][1:])
            if i in self.fail:
                out.append(JudgeResult(failure=Failure("api_error", "HTTP 503"), model="priced-1"))
                continue
            usage = {"prompt_tokens": 1000 + 37 * i, "completion_tokens": 11 * i + 3, "cached_prompt_tokens": 7 * i}
            out.append(JudgeResult(raw=ANSWER, finish_reason="stop", usage=usage, model="priced-1"))
        return out


def _session(run: Path, judge: Judge, budget: float = 50.0) -> dict[str, Any]:
    Runner(toy_pairs(12), judge, run, RunOptions(progress=False, budget_usd=budget), price=PRICE).run()
    return json.loads((run / "run.json").read_text())


def _count_log_reads(monkeypatch: pytest.MonkeyPatch) -> tuple[Counter[str], list[int]]:
    """Opens of ``verdicts.jsonl`` by mode, and how many lines the store parsed (its ``orjson.loads`` calls)."""
    opens: Counter[str] = Counter()
    parsed = [0]
    real_open = Path.open

    def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.name == "verdicts.jsonl":
            opens[mode] += 1
        return real_open(self, mode, *args, **kwargs)

    class _Counting:
        JSONDecodeError = orjson.JSONDecodeError
        dumps = staticmethod(orjson.dumps)

        @staticmethod
        def loads(data: Any) -> Any:
            parsed[0] += 1
            return orjson.loads(data)

    monkeypatch.setattr(Path, "open", path_open)
    monkeypatch.setattr(store, "orjson", _Counting)
    return opens, parsed


def test_a_resumed_budget_run_reads_its_log_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    _session(run, _Priced(fail=frozenset({0, 5, 9})))
    second = _Priced()
    _session(run, second)  # the three failures retried: their second attempts supersede the first
    assert second.asked == 3
    lines = (run / "verdicts.jsonl").read_text().count("\n")
    assert lines == 15
    opens, parsed = _count_log_reads(monkeypatch)
    third = _Priced()
    info = _session(run, third)  # nothing left to judge: only the start-up reads
    assert third.asked == 0
    assert opens["rb"] == 1 and parsed[0] == lines  # one pass (it was three: 45 lines parsed)
    monkeypatch.undo()
    want = summarise_usage(iter_latest_records(run / "verdicts.jsonl"), price_of(PRICE))
    assert info["budget"]["spent_usd"] == want["spent_usd"] > 0  # all of it from the earlier sessions


def test_the_tally_is_of_the_records_that_count_in_log_order(tmp_path: Path) -> None:
    """``RunLog(tally=paid_cost)`` gives one value per key — its latest attempt's, a judge-cache hit paying
    nothing — in the order :func:`iter_latest_records` yields them, so the budget's sum is the usage summary's
    spent_usd to the last bit."""
    price = price_of(PRICE)
    assert price is not None

    def rec(key: str, tokens: int, attempt: int = 0, hit: bool = False) -> dict[str, Any]:
        r: dict[str, Any] = {"key": key, "item_id": key, "usage": {"prompt_tokens": tokens, "completion_tokens": 3}}
        if attempt:
            r["attempt"] = attempt
        if hit:
            r["extra"] = {"cache": "hit"}
        return r

    rows = [rec("a", 101), rec("b", 1_000_003, hit=True), rec("c", 7), rec("a", 55, attempt=1), rec("d", 1),
            rec("c", 999, attempt=1), rec("c", 5), rec("e", 123_457)]
    run = tmp_path / "run"
    run.mkdir()
    (run / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with RunLog(run, tally=functools.partial(paid_cost, price=price)) as log:
        paid = log.tallied_at_open
        assert sorted(log.done) == ["a", "b", "c", "d", "e"]
    latest = list(iter_latest_records(run / "verdicts.jsonl"))
    assert [r["key"] for r in latest] == ["b", "a", "d", "c", "e"]
    assert paid == [paid_cost(r, price) for r in latest] and paid[0] is None
    spent = 0.0
    for usd in paid:
        spent += usd or 0.0
    assert round(spent, 6) == summarise_usage(latest, price)["spent_usd"]
    with RunLog(run) as log:
        assert log.tallied_at_open == []
