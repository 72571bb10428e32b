"""The analysis of a run reads its run log once: the usage summary (tokens, cost, cache hits, snapshots) comes
from the rows load_run keeps as it reads the log (it parsed the log a second time), and equals the summary
read back from the log's counted lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from judgeanything.analysis import analyze_run
from judgeanything.analysis.load import load_run
from judgeanything.jsonsafe import json_safe
from judgeanything.usage import run_usage

from .runbuilder import fail, item, label, record, v, write_run

PRICE = {"model_pattern": "m-*", "source": "cost.price", "input_per_mtok": 2.5, "output_per_mtok": 10.0,
         "cached_input_per_mtok": 1.25}


def _run(d: Path) -> Path:
    items, labels, verdicts = [], [], []
    for i in range(8):
        iid = f"{i}::p"
        items.append(item(iid, "pair", ["Image2Text", "Text2Text"][i % 2], ["m1", "m2"]))
        labels.append(label(iid, "first"))
        usage = {"prompt_tokens": 1000 + 13 * i, "completion_tokens": 7 * i + 1, "cached_prompt_tokens": 3 * i}
        r = record(iid, "pair", [v(["first", "second", "tie"][i % 3])], model=f"m-{i % 2}", usage=usage)
        r["extra"] = {"system_fingerprint": f"fp_{i % 3}", "gemini_media": [{"bytes": 10}] * 3}
        if i in (2, 5):
            r["extra"]["cache"] = "hit"
        if i == 3:  # a failed first attempt, superseded by the retry below
            verdicts.append({**record(iid, "pair", [fail("api_error")], usage={"prompt_tokens": 9}), "attempt": 0})
            r["attempt"] = 1
        verdicts.append(r)
    gone = record("9::p", "pair", [v("first")], usage={"prompt_tokens": 50_000})  # an item no longer in the set
    return write_run(d, items=items, labels=labels, verdicts=[gone, *verdicts], run={"price": PRICE})


def test_analysis_parses_the_run_log_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = _run(tmp_path / "run")
    opens: Counter[str] = Counter()
    real_open = Path.open

    def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.name == "verdicts.jsonl":
            opens[mode] += 1
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", path_open)
    m = analyze_run(d, bootstrap=0)
    assert opens == Counter({"rb": 1})  # it was 2: load_run, then the usage summary
    monkeypatch.undo()
    data = load_run(d)
    modality_of = dict(zip(data.items["item_id"], data.items["input_modality"], strict=True))
    read_back = json_safe(run_usage(d, data.records["line"], data.run, modality_of))
    assert m["usage"] == read_back
    assert m["usage"]["verdicts"] == 8 and m["usage"]["cached"] == 2
    assert m["usage"]["snapshots"] == {"m-0": 4, "m-1": 4}
    assert m["usage"]["system_fingerprints"] == {"fp_0": 3, "fp_1": 3, "fp_2": 2}
    assert m["usage"]["tokens"]["prompt_tokens"] == sum(1000 + 13 * i for i in range(8))
    assert data.usage_records is not None and all(set(r["extra"]) <= {"cache", "system_fingerprint"}
                                                  for r in data.usage_records)
