"""Raw-output cap (``run.max_raw_chars``): a huge judge answer is parsed in full, stored shortened (head and tail
kept, its full length and the cap recorded), and shown shortened in the HTML report — one 20 MB answer made a
63 MB run log and a 63 MB report before."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges.base import Judge, JudgeRequest, JudgeResult
from judgeanything.report.html import RAW_SHOWN, write_html_report
from judgeanything.report.summary import finish_run
from judgeanything.runner import RunConfigError, Runner, RunOptions
from judgeanything.schema import HumanLabel, PairItem, Query, Response
from judgeanything.store import cap_text


@pytest.mark.parametrize("n", [0, 1, 999, 1000, 1001, 54_321])
def test_cap_keeps_head_and_tail_within_the_cap(n: int) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(n))
    out, meta = cap_text(text, 1000)
    if n <= 1000:
        assert (out, meta) == (text, {})
        return
    assert len(out) == 1000 and meta == {"raw_chars": n, "raw_cap": 1000}
    head, tail = out.split("\n[… ")[0], out.split(" …]\n")[-1]
    assert text.startswith(head) and text.endswith(tail) and abs(len(head) - len(tail)) <= 1
    assert f"{n - 1000:,} characters cut (run.max_raw_chars=1,000)" in out
    assert cap_text(text, None) == (text, {})


class _Verbose(Judge):
    """A judge whose answer is megabytes of reasoning with the verdict at the very end."""

    name = "verbose"
    needs_media = False

    def __init__(self, size: int) -> None:
        thought = "Let me think about both responses carefully. "
        verdict = '\n{"overall_comment": "done", "overall_choice": "2"}'
        self.raw = (thought * (size // len(thought) + 1))[:size] + verdict

    async def judge(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        return [JudgeResult(raw=self.raw, finish_reason="stop") for _ in requests]


def test_a_huge_answer_is_parsed_whole_stored_capped_and_shown_short(tmp_path: Path) -> None:
    q = Query("u0", "Text2Text", "which is better?")
    a, b = Response("a", "u0", "ma", "text", text="yes"), Response("b", "u0", "mb", "text", text="no")
    item = PairItem("u0", q, a, b)
    data = BenchmarkData("toy", "pair", [item], labels=[HumanLabel("u0", "overall", "second")])
    judge = _Verbose(5_000_000)
    Runner(data, judge, tmp_path, RunOptions(progress=False, max_raw_chars=20_000)).run()
    finish_run(tmp_path, analysis={"bootstrap": 10, "plots": False})
    (rec,) = [json.loads(x) for x in (tmp_path / "verdicts.jsonl").read_text().splitlines()]
    assert rec["outcomes"][0]["value"] == "second"  # the verdict at the end of the full text was read
    assert len(rec["raw"]) == 20_000 and rec["raw_cap"] == 20_000
    assert rec["raw_chars"] == len(judge.raw) > 5_000_000
    assert rec["raw"].endswith('"overall_choice": "2"}') and rec["raw"].startswith("Let me think")
    assert (tmp_path / "verdicts.jsonl").stat().st_size < 40_000
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert len(html) < 200_000
    assert f"raw output ({rec['raw_chars']:,} chars; shortened to {RAW_SHOWN:,} here; stored shortened to " \
           f"run.max_raw_chars=20,000)" in html
    assert write_html_report(tmp_path).stat().st_size == len(html.encode())


def test_the_cap_is_validated() -> None:
    for bad in (0, 199, True):
        with pytest.raises(RunConfigError, match=r"run\.max_raw_chars"):
            RunOptions(max_raw_chars=bad)
    assert RunOptions(max_raw_chars=None).max_raw_chars is None
