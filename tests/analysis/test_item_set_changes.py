"""Item-set changes never strand a run: after a smaller ``run.limit``, a removed row, ids that moved to other
content, or an edited row, the same run directory is judged and analysed on the *current* items; the records
of the old item set are set aside, counted by reason, and never count (89 items → 89 verdict rows)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from judgeanything.analysis.load import EDITED, REMOVED, load_run
from judgeanything.datasets.base import BenchmarkData
from judgeanything.judges.baselines import FirstJudge
from judgeanything.report.summary import finish_run
from judgeanything.runner import Runner, RunOptions
from judgeanything.schema import HumanLabel, PairItem, Query, Response

ANALYSIS = {"bootstrap": 10, "plots": False, "html": True}
N = 89


def _item(i: int, answer: str = "yes") -> PairItem:
    q = Query(f"u{i}", "Text2Text", f"question {i}")
    return PairItem(f"u{i}", q, Response("a", q.uniq_id, "ma", "text", text=f"{answer} {i}"),
                    Response("b", q.uniq_id, "mb", "text", text=f"no {i}"))


def _data(items: list[PairItem]) -> BenchmarkData:
    labels = [HumanLabel(it.item_id, "overall", "first") for it in items]
    return BenchmarkData("toy", "pair", items, labels=labels)


def _run(run_dir: Path, items: list[PairItem], limit: int | None = None) -> dict[str, object]:
    data = _data(items)
    judge = FirstJudge()
    counts = Runner(data, judge, run_dir, RunOptions(progress=False, limit=limit)).run()
    summary = finish_run(run_dir, analysis=ANALYSIS)
    return {"counts": counts, "summary": summary, "run": load_run(run_dir)}


@pytest.fixture()
def full_run(tmp_path: Path) -> tuple[Path, list[PairItem]]:
    items = [_item(i) for i in range(N)]
    first = _run(tmp_path, items)
    assert first["counts"]["judged"] == N and first["run"].set_aside == {}
    return tmp_path, items


def test_a_smaller_limit_analyses_the_current_items(full_run: tuple[Path, list[PairItem]]) -> None:
    run_dir, items = full_run
    out = _run(run_dir, items, limit=30)
    run = out["run"]
    assert out["counts"]["judged"] == 0 and out["counts"]["skipped"] == 30
    assert len(run.items) == 30 and len(run.verdicts) == 30
    assert set(run.verdicts["item_id"]) == set(run.items["item_id"])
    assert run.set_aside == {REMOVED: N - 30}
    note = f"{N - 30} verdict record(s) in verdicts.jsonl were set aside"
    assert note in out["summary"]["text"]
    assert any(note in n for n in json.loads((run_dir / "metrics.json").read_text())["notes"])
    assert note in (run_dir / "report.md").read_text()
    assert note in (run_dir / "report.html").read_text(encoding="utf-8")


def test_a_removed_row_and_moved_ids(full_run: tuple[Path, list[PairItem]]) -> None:
    run_dir, items = full_run
    kept = [it for i, it in enumerate(items) if i != 7]
    out = _run(run_dir, kept)
    assert out["run"].set_aside == {REMOVED: 1} and len(out["run"].verdicts) == N - 1
    # a duplicate id upstream renumbers the rows: ids u10..u12 now name other content (u11's, u12's, u13's)
    moved = list(kept)
    for k in (9, 10, 11):  # positions of u10, u11, u12 in `kept`
        moved[k] = replace(kept[k + 1], item_id=kept[k].item_id)
    moved = moved[:12] + moved[13:]  # u13 itself is gone (its content now lives under u12)
    out = _run(run_dir, moved)
    run = out["run"]
    assert out["counts"]["judged"] == 3  # the renamed ids are judged afresh on their new content
    assert run.set_aside == {REMOVED: 2, EDITED: 3}  # u7 and u13 gone; u10-u12's old verdicts are stale
    assert len(run.verdicts) == len(moved) == len(run.items)


def test_an_edited_row_counts_once(full_run: tuple[Path, list[PairItem]]) -> None:
    run_dir, items = full_run
    edited = list(items)
    edited[5] = _item(5, answer="a different answer")
    out = _run(run_dir, edited)
    run = out["run"]
    assert out["counts"]["judged"] == 1
    assert len((run_dir / "verdicts.jsonl").read_text().splitlines()) == N + 1
    assert len(run.verdicts) == N and len(run.records) == N  # 89 items → 89 verdict rows, not 90
    assert run.set_aside == {EDITED: 1}
    rec = next(r for r in map(json.loads, (run_dir / "verdicts.jsonl").read_text().splitlines()[-1:]))
    assert rec["item_id"] == "u5" and rec["key"] in set(run.records["key"])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["settings"]["pair"]["counts"]["items"] == N


def test_a_log_from_before_contents_were_recorded_still_counts(tmp_path: Path) -> None:
    items = [_item(i) for i in range(4)]
    _run(tmp_path, items)
    for name, field in (("verdicts.jsonl", "item_content"), ("items.jsonl", "content")):
        rows = [json.loads(x) for x in (tmp_path / name).read_text().splitlines()]
        (tmp_path / name).write_text("".join(json.dumps({k: v for k, v in r.items() if k != field}) + "\n"
                                             for r in rows))
    run = load_run(tmp_path)
    assert len(run.verdicts) == 4 and run.set_aside == {}

