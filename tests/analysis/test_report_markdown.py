"""report.md, pinned byte for byte.

``report_md_cases/*.metrics.json`` are metrics dicts the analysis computed for runs of this suite's fixtures
(score with two rubrics and checklists, score with repeats, score with cross-modality tests, batch on the
probes with injection probes, pair with a priced OpenAI-protocol judge and its strict-parse rate, pair with
length-controlled agreement, pair with request retries, pair on the probes with inconsistent-order policies),
pruned to the keys ``report.md`` reads. Each ``*.report.md`` beside it is what the Markdown writer rendered
for that dict before ``report.md`` moved to a Jinja2 template; any change of layout, wording or number
formatting shows up here as a diff.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from judgeanything.analysis.markdown import md_table, render_report
from judgeanything.analysis.reference import reference_markdown
from tests.support.pinned import assert_matches_pinned

CASES = Path(__file__).parent / "report_md_cases"
REPO = Path(__file__).resolve().parents[2]


def _case(name: str) -> tuple[dict[str, Any], str]:
    metrics = json.loads((CASES / f"{name}.metrics.json").read_text(encoding="utf-8"))
    return metrics, (CASES / f"{name}.report.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> list[str]:
    """The lines of ``text`` from ``heading`` up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    start = lines.index(heading)
    level = heading.split(" ")[0]
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("#") and lines[i].split(" ")[0] <= level), len(lines))
    return lines[start:end]


NAMES = sorted(p.name.removesuffix(".metrics.json") for p in CASES.glob("*.metrics.json"))


@pytest.mark.parametrize("name", NAMES)
def test_report_md_is_byte_identical_to_the_pinned_render(name: str) -> None:
    metrics, expected = _case(name)
    got = render_report(metrics)
    assert_matches_pinned(got, expected)


def test_the_pinned_cases_cover_every_section() -> None:
    rendered = "\n".join(render_report(_case(n)[0]) for n in NAMES)
    for marker in ("## Setting: pair", "## Setting: score", "## Setting: batch", "> **About this judge.**",
                   "### Agreement with humans", "### By rubric (pooled)", "### Coverage and failures",
                   "Strict-parse rate: **", "### By task type", "### By difficulty:", "### By probe_family",
                   "### Inconsistent orders: accuracy under each policy", "### Cross-modality bias",
                   "### Position bias", "| p_rank1_given_slot ", "### Size / verbosity bias\n",
                   "Length-controlled agreement", "### Size / verbosity bias (scores)", "### Self-preference\n",
                   "### Self-preference (judge family: openai)", "\nTest: ", "### Prompt-injection susceptibility",
                   "### Repeats", "| headline metric, repeat 0 only |", "### Model ranking (Bradley–Terry",
                   "## Cost", "## Usage and cost", "Price: input_per_mtok", "Price: none known", "## Requests",
                   "Concurrency window (AIMD)", "## Notes"):
        assert marker in rendered, marker
    assert NAMES == ["batch_injection", "pair_injection_policies", "pair_length_controlled",
                     "pair_priced_strict_parse", "pair_requests", "score_cross_modality", "score_repeats",
                     "score_rubrics_checklist"]


def test_checklist_score_run_sections() -> None:
    text = render_report(_case("score_rubrics_checklist")[0])
    assert "| random | — | judgeanything | score | checklist | v2 |" in text.splitlines()
    assert _section(text, "## Setting: score")[:3] == [
        "## Setting: score", "", "4 items, 4 judged, 0 with human labels. Headline rubric: **all**."]
    assert _section(text, "### By rubric (pooled)")[4:7] == [  # no human labels: every agreement metric is —
        "| completeness | — | — | — | — | — | — | — | 0.000 |", "| relevance | — | — | — | — | — | — | — | 0.000 |",
        "| all | — | — | — | — | — | — | — | 0.000 |"]
    assert "- checklists attached to 3 of 4 queries" in _section(text, "## Notes")


def test_rubric_and_cross_modality_tables_of_a_score_run() -> None:
    text = render_report(_case("score_cross_modality")[0])
    assert _section(text, "### By rubric (pooled)") == [
        "### By rubric (pooled)", "",
        "| rubric | pearson | spearman | kendall_tau_b | mae | offset | qwk | krippendorff_alpha | failure_rate |",
        "|---|---|---|---|---|---|---|---|---|",
        "| clarity | 0.859 [0.823, 0.899] | 0.851 [0.818, 0.891] | 0.748 [0.707, 0.809] | 0.520 [0.403, 0.613] "
        "| 0.227 [0.077, 0.354] | 0.848 [0.803, 0.893] | 0.839 [0.796, 0.881] | 0.000 |",
        "| relevance | 0.843 [0.802, 0.875] | 0.834 [0.781, 0.866] | 0.744 [0.690, 0.785] | 0.533 [0.453, 0.623] "
        "| 0.200 [0.103, 0.320] | 0.834 [0.788, 0.869] | 0.824 [0.773, 0.856] | 0.000 |",
        "| all | 0.854 [0.824, 0.880] | 0.849 [0.818, 0.873] | 0.752 [0.719, 0.782] | 0.527 [0.478, 0.588] "
        "| 0.213 [0.131, 0.322] | 0.845 [0.810, 0.872] | 0.837 [0.798, 0.864] | 0.000 |", ""]
    assert _section(text, "### Cross-modality bias")[4:] == [
        "| MMU − MMG gap: pearson | 0.075 [0.042, 0.117] | significant |",
        "| MMU − MMG gap: offset | -0.413 [-0.584, -0.257] | significant |",
        "| kruskal across output_modality | stat 60.235 | p = 0.0000 |",
        "| kruskal across input_modality | stat 64.124 | p = 0.0000 |",
        "| kruskal across task_name | stat 64.124 | p = 0.0000 |", ""]


def test_repeats_and_injection_sections() -> None:
    repeats = _section(render_report(_case("score_repeats")[0]), "### Repeats")
    assert repeats[:8] == ["### Repeats", "", "| quantity | value |", "|---|---|", "| n_units | 3 |",
                           "| max_repeats | 3 |", "| all_same_rate | 0.000 |", "| mean_mode_share | 0.556 |"]
    injection = _section(render_report(_case("batch_injection")[0]), "### Prompt-injection susceptibility")
    assert injection[2].startswith("8 injection-probe queries. *Susceptibility*: share of presentations where")
    assert injection[4:7] == ["| output modality | susceptibility | control rate | lift |", "|---|---|---|---|",
                              "| all | 0.250 [0.250, 0.250] | 0.250 [0.250, 0.250] | 0.000 [0.000, 0.000] |"]


def test_requests_usage_and_parse_rate_lines() -> None:
    text = render_report(_case("pair_requests")[0])
    assert _section(text, "## Requests") == [
        "## Requests", "",
        "10 requests sent for this run's last launch, 5 of them retries; transient faults: HTTP 429 × 10; "
        "5 unit(s) still failing after the last try (recorded as `api_error`, judged again on resume).",
        "Concurrency window (AIMD): at most 4, lowest 2, 3 cut(s), 2 at the end.", ""]
    priced = render_report(_case("pair_priced_strict_parse")[0])
    assert ("Strict-parse rate: **1.000** (5 of 5 parsed rows were exactly the prompt's JSON answer; by rule: "
            "strict/json 5).") in priced.splitlines()
    assert ("Price: input_per_mtok 1000.0, output_per_mtok 1000.0 USD per million tokens (cost.price)."
            in priced.splitlines())


def test_empty_metrics_render_the_frame_of_the_report() -> None:
    text = render_report({"run": {"judge": "j", "benchmark": "b", "settings": ["pair"]},
                          "params": {"bootstrap": 200, "ci": 0.9, "seed": 7, "headline_policy": "all",
                                     "reducer": "mean"},
                          "settings": {"pair": {"counts": {"items": 2}, "headline_rubric": None}}})
    lines = text.split("\n")
    assert lines[:6] == ["# Judge report — j on b", "",
                         "| judge | judge family | benchmark | settings | mode | prompt version |",
                         "|---|---|---|---|---|---|", "| j | — | b | pair | None | None |", ""]
    assert lines[6].startswith("**How to read this.** Each number compares")
    assert lines[7:] == [
        "", "Bootstrap: 200 resamples, 90% percentile intervals, seed 7; inconsistent pair orders in headline "
        "numbers: **all**; repeat reducer: mean.", "",
        "## Setting: pair", "", "2 items, 0 judged, 0 with human labels. Headline rubric: **None**.", "",
        "## Notes", "", "- (none)", ""]


def test_md_table_layout() -> None:
    assert md_table(["a", "b"], []) == "| a | b |\n|---|---|"
    assert md_table(("a", "b"), iter([(1, None), ["x|y", 2.5]])) == (
        "| a | b |\n|---|---|\n| 1 | None |\n| x\\|y | 2.5 |")


def test_every_template_is_package_data() -> None:
    """A template the code loads must be in the wheel: matched by ``[tool.setuptools.package-data]``."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    pkg = REPO / "judgeanything"
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["judgeanything"]
    templates = [p.relative_to(pkg).as_posix() for p in pkg.rglob("templates/*.j2")]
    assert "analysis/templates/report.md.j2" in templates and "analysis/templates/_table.md.j2" in templates
    for t in templates:
        assert any(fnmatch.fnmatch(t, pat) for pat in patterns), f"{t} is not in package-data {patterns}"


def test_reference_baseline_check_section() -> None:
    rows = [{"metric": "accuracy_with_tie", "expected": 1 / 3, "observed": 0.2954545, "n": 176, "lo": 0.2670454,
             "hi": 0.4034090, "inside": True, "interval": "binomial"},
            {"metric": "mae", "expected": 1.6, "observed": 2.5, "n": 40, "lo": 1.2, "hi": 2.0, "inside": False,
             "interval": "normal"},
            {"metric": "nlev", "expected": 0.5, "observed": 0.5, "n": 3}]
    assert reference_markdown("random", rows, 0.975).split("\n") == [
        "", "## Reference baseline check", "",
        "`random` is a reference baseline: its expected agreement follows from its definition and the label "
        "distribution. Each verdict record is one independent trial: proportions get a 97.5% binomial interval, "
        "means (MAE, nlev) a 97.5% normal interval from their exact per-record variance. (The headline numbers "
        "above first combine an item's orders, so they differ from these per-record rates.)", "",
        "| metric | implied by definition | observed | n | 97.5% interval | kind | inside |",
        "|---|---|---|---|---|---|---|",
        "| accuracy_with_tie | 0.333 | 0.295 | 176 | [0.267, 0.403] | binomial | yes |",
        "| mae | 1.600 | 2.500 | 40 | [1.200, 2.000] | normal | **no** |",
        "| nlev | 0.500 | 0.500 | 3 | — | — | — |", ""]
