"""jury.md, arena.md and leaderboard.md, pinned byte for byte.

``md_output_cases/`` holds, for each case, what each writer rendered before it moved to a Jinja2 template
(``*.md``) beside the inputs it was rendered from — real runs, not hand-written dicts:

* ``jury_<case>.jury.json`` / ``.jury.md``: ``judgeanything-jury`` over member runs built as ``test_jury``
  builds them (pair majority with ``split`` tie and chair, a weighted pair jury, a score mean, a batch Borda
  count, members of one judge name, two rubrics); ``jury.md`` is rendered from ``jury.json`` alone.
* ``leaderboard_<case>.csv`` / ``.warnings.json`` / ``.md``: ``judgeanything-compare`` over three pair runs,
  over pair and score juries with their members (two settings), over two runs of one judge answered by
  different model snapshots (the Warnings section), and over the probe demo sweep
  (``scripts/golden_outputs.sh``).
* ``arena_<case>.rankings.csv`` / ``.agreement.csv`` / ``.json`` (method, CI level) / ``.md``:
  ``judgeanything-arena`` over the four demo runs (human labels and four judges, per task type) and over a
  battle-record file ranked with Davidson's tie model at a 90 % level.

Any change of layout, wording or number formatting shows up here as a diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from judgeanything.analysis.arena import ArenaResult
from judgeanything.analysis.leaderboard import write_leaderboard
from judgeanything.arena_cli import arena_markdown
from judgeanything.jury_cli import jury_markdown
from tests.support.pinned import assert_matches_pinned

CASES = Path(__file__).parent / "md_output_cases"


def _names(prefix: str, suffix: str) -> list[str]:
    return sorted(p.name.removeprefix(prefix).removesuffix(suffix) for p in CASES.glob(f"{prefix}*{suffix}"))


@pytest.mark.parametrize("name", _names("jury_", ".jury.json"))
def test_jury_md_is_byte_identical_to_the_pinned_render(name: str) -> None:
    report = json.loads((CASES / f"jury_{name}.jury.json").read_text(encoding="utf-8"))
    assert_matches_pinned(jury_markdown(report), CASES / f"jury_{name}.jury.md")


@pytest.mark.parametrize("name", _names("leaderboard_", ".csv"))
def test_leaderboard_md_is_byte_identical_to_the_pinned_render(name: str, tmp_path: Path) -> None:
    df = pd.read_csv(CASES / f"leaderboard_{name}.csv")
    warnings = json.loads((CASES / f"leaderboard_{name}.warnings.json").read_text(encoding="utf-8"))
    _, md = write_leaderboard(df, tmp_path, warnings)
    assert_matches_pinned(md.read_text(encoding="utf-8"), CASES / f"leaderboard_{name}.md")


@pytest.mark.parametrize("name", _names("arena_", ".json"))
def test_arena_md_is_byte_identical_to_the_pinned_render(name: str) -> None:
    opts = json.loads((CASES / f"arena_{name}.json").read_text(encoding="utf-8"))
    res = ArenaResult(pd.read_csv(CASES / f"arena_{name}.rankings.csv"),
                      pd.read_csv(CASES / f"arena_{name}.agreement.csv"), {})
    assert_matches_pinned(arena_markdown(res, opts["method"], opts["ci"]), CASES / f"arena_{name}.md")


def test_the_pinned_cases_are_all_there() -> None:
    assert _names("jury_", ".jury.json") == ["batch_borda", "pair_majority", "pair_majority_chair",
                                             "pair_same_judge_names", "pair_two_rubrics", "pair_weighted_accuracy",
                                             "score_mean"]
    assert _names("leaderboard_", ".csv") == ["demo", "juries_two_settings", "snapshot_warning",
                                              "three_pair_runs"]
    assert _names("arena_", ".json") == ["battles_davidson", "demo_runs"]
    text = "".join(p.read_text(encoding="utf-8") for p in CASES.glob("*.md"))
    for marker in ("## Warnings\n\n- judge gpt-4o:", "| judge-x@judge-x#0 / judge-x@judge-x#1 |", "## clarity",
                   "## Judge vs human ranking (Kendall τ-b)", "(Davidson tie model; 90% bootstrap CIs)",
                   "| jury-median | jury | synthetic | score |"):
        assert marker in text, marker


def test_empty_outputs_as_the_old_writers_left_them(tmp_path: Path) -> None:
    """Nothing to show: the frame of each file, as the string-joining writers wrote it."""
    _, md = write_leaderboard(pd.DataFrame(), tmp_path)
    assert md.read_text(encoding="utf-8") == "# Judge leaderboard\n\n(no runs)\n"
    _, md = write_leaderboard(pd.DataFrame(), tmp_path, ["judge j: two snapshots"])
    assert md.read_text(encoding="utf-8") == (
        "# Judge leaderboard\n\n(no runs)\n\n## Warnings\n\n- judge j: two snapshots\n")
    empty = ArenaResult(pd.DataFrame(columns=["source", "group"]), pd.DataFrame(), {})
    assert arena_markdown(empty, "bt", 0.95) == (
        "# OmniArena rankings (Bradley–Terry, ties as half-wins; 95% bootstrap CIs)\n\n")
    assert jury_markdown({"method": "mean", "members": ["a", "b"], "agreement": {}}) == "# Jury: mean of a, b\n"
