"""A rules run resumes like any run: rerunning judges nothing again, and editing one rule of the constitution
re-judges exactly that rule's items (the rule is part of each item's content hash); a bad constitution or
contrast stops the run with a message naming it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from judgeanything.errors import RunConfigError
from judgeanything.rules.constitution import DEFAULT_CONSTITUTION
from judgeanything.schema import SchemaError
from tests.support.compose import composed

pytestmark = pytest.mark.integration  # the app's runs, composed as the CLI composes them


def _run(out: Path, cache: Path, *overrides: str) -> list[dict]:
    from judgeanything.cli import run_from_config

    run_from_config(composed("setting=rules", "judge=random", f"benchmark.cache_dir={cache}", "run.progress=false",
                            "analysis.bootstrap=0", *overrides), out)
    return [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]


def test_rerun_resumes_and_an_edited_rule_is_judged_again(tmp_path: Path, data_cache: Path):
    c = tmp_path / "c.yaml"
    c.write_text(DEFAULT_CONSTITUTION.read_text())
    out = tmp_path / "run"
    first = _run(out, data_cache, f"setting.constitution={c}")
    assert len(first) == 24 * 5
    assert len(_run(out, data_cache, f"setting.constitution={c}")) == len(first)  # nothing judged again
    c.write_text(DEFAULT_CONSTITUTION.read_text().replace("The image contains a red shape.",
                                                          "The image contains at least one red shape."))
    again = _run(out, data_cache, f"setting.constitution={c}")
    new = again[len(first):]
    assert len(new) == 24 and {r["item_id"].rsplit("::", 1)[-1] for r in new} == {"red_shape"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["overall"]["screen"]["units"] == 24 * 5  # the latest record of each unit counts


def test_rule_edit_changes_only_that_rules_item_content(tmp_path: Path, data_cache: Path):
    from judgeanything.rules.constitution import load_constitution
    from judgeanything.rules.probes import rule_probes
    from judgeanything.schema import item_content_hash

    c = tmp_path / "c.yaml"
    c.write_text(DEFAULT_CONSTITUTION.read_text().replace("Something moves in the video.", "The ball moves."))
    a = {i.item_id: item_content_hash(i) for i in rule_probes(data_cache, load_constitution()).items}
    b = {i.item_id: item_content_hash(i) for i in rule_probes(data_cache, load_constitution(c)).items}
    changed = {k.rsplit("::", 1)[-1] for k in a if a[k] != b[k]}
    assert changed == {"motion"}


def test_bad_constitution_and_contrast_are_named(tmp_path: Path, data_cache: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{id: x}]")
    with pytest.raises(SchemaError, match=re.escape(str(bad)) + ".*statement"):
        _run(tmp_path / "a", data_cache, f"setting.constitution={bad}")
    with pytest.raises(RunConfigError, match=re.escape("setting.contrast='fog'")):
        _run(tmp_path / "b", data_cache, "setting.contrast=fog")
    with pytest.raises(RunConfigError, match="no rule items"):
        from judgeanything.cli import run_from_config

        run_from_config(composed("setting=rules", "judge=random", "benchmark=omniarena", "run.progress=false"),
                        tmp_path / "c")
