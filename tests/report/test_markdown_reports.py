"""report.md of rules and process runs, pinned byte for byte.

``markdown_cases/*.json`` hold ``{"metrics", "check"}`` as the rules / process analysis computed them for this
suite's fixture runs (a cascade judge with debiased token probabilities, priced and unpriced; the random
reference baseline with its check; a process run with typed failures). Each ``*.report.md`` beside it is what
the hand-built writers rendered for it before these reports moved to Jinja2 templates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judgeanything.report import process, rules
from tests.support.pinned import assert_matches_pinned

CASES = Path(__file__).parent / "markdown_cases"
NAMES = sorted(p.stem for p in CASES.glob("*.json"))


def _case(name: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    case = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    return case["metrics"], case["check"], (CASES / f"{name}.report.md").read_text(encoding="utf-8")


def _render(name: str, metrics: dict[str, Any], check: list[dict[str, Any]]) -> str:
    return (rules if name.startswith("rules") else process).render(metrics, check)


@pytest.mark.parametrize("name", NAMES)
def test_report_md_is_byte_identical_to_the_pinned_render(name: str) -> None:
    metrics, check, expected = _case(name)
    got = _render(name, metrics, check)
    assert_matches_pinned(got, expected)


def test_the_cases() -> None:
    assert NAMES == ["process_failures", "process_reference_check", "rules_debias_cascade_no_price",
                     "rules_debias_cascade_priced", "rules_reference_check"]


def test_rules_sections() -> None:
    metrics, check, _ = _case("rules_debias_cascade_no_price")
    lines = rules.render(metrics, check).splitlines()
    assert lines[:5] == ["# Rule judging: cascade", "",
                         "Verdict per item × rule: yes = violates. Skipped rules (a precondition does not hold) are "
                         "not counted.", "",
                         "| rule | n | accuracy | precision | recall | F1 | Brier | ECE | skipped | screen acc. | "
                         "escalated |"]
    assert lines[-1].endswith("cost of escalation: unknown (no price for the slow model).")
    metrics, check, _ = _case("rules_reference_check")
    text = rules.render(metrics, check)
    assert text.endswith("\n") and not text.endswith("\n\n")
    tail = text.split("\n## Reference baseline check\n\n", 1)[1].splitlines()
    assert tail[:2] == ["| metric | expected | observed | n | interval | inside |", "|---|---|---|---|---|---|"]
    assert len(tail) == 2 + len(check)
    r = check[0]
    assert tail[2] == (f"| {r['metric']} | {r['expected']:.3f} | {r['observed']:.3f} | {r['n']} | "
                       f"[{r['lo']:.3f}, {r['hi']:.3f}] | {'yes' if r['inside'] else '**no**'} |")


def test_process_header_names_the_failures() -> None:
    metrics, check, _ = _case("process_failures")
    lines = process.render(metrics, check).splitlines()
    assert lines[:3] == ["# Process judging — stub on probes", "",
                         "Per step: correct / incorrect and an incorrect step's error type (ProJudge, arXiv "
                         "2503.06553). Cases: 3, judged 1, failed 2 (truncated 1, parse_fail 1)."]
    assert lines[-1] == "| modality single_image | 0.800 | 0.000 | 0.000 | 0.000 | 0.000 | 0.000 | — |"


def test_names_stay_inside_their_table_cell() -> None:
    hostile = "a|b <script>x</script>"
    metrics, check, _ = _case("rules_reference_check")
    metrics["rules"] = {hostile: next(iter(metrics["rules"].values()))}
    row = rules.render(metrics, check).splitlines()[7]
    assert row.startswith("| a\\|b \\<script\\>x\\</script\\> | ")
    assert row.replace("\\|", "").count("|") == 12  # 11 cells
    metrics, check, _ = _case("process_failures")
    metrics["discipline"] = {hostile: metrics["pooled"]}
    text = process.render(metrics, check)
    assert "| discipline a\\|b \\<script\\>x\\</script\\> | 0.800 |" in text and "<script>" not in text


@pytest.mark.parametrize("contrast", ["a<b> `x`", "``", " both ends ", "no_media"])
def test_the_contrast_input_is_shown_as_code_exactly(contrast: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    metrics, check, _ = _case("rules_debias_cascade_no_price")
    metrics = json.loads(json.dumps(metrics).replace('"no_media"', json.dumps(contrast)))
    line = next(x for x in rules.render(metrics, check).splitlines() if x.startswith("Contrast input:"))
    html = markdown_it.MarkdownIt("commonmark").render(line)
    code = html.split("<code>", 1)[1].split("</code>", 1)[0]
    # one code span holding the text as written (no escaping backslashes, not closed early by a backtick)
    assert html.count("<code>") == 1
    expected = contrast.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert code.strip() == expected.strip()
