"""report.md and the leaderboard keep data text (model, task, judge names; notes) as text: no table break,
no HTML a Markdown viewer could run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeanything.analysis.markdown import md_table, render_report

HOSTILE = 'm</script><script>alert(1)</script> a|b \\| c\nnext <img src=x onerror=alert(2)>'


def _html(md: str) -> str:
    # no unescaped start of an HTML tag, then: what an HTML-enabled renderer (as many viewers are) with
    # GFM tables makes of it (markdown-it-py comes with rich, when installed)
    assert not re.search(r"(?<!\\)<[A-Za-z/!?]", md), md
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def test_table_cells_render_as_the_text_they_hold() -> None:
    html = _html(md_table(["model", "n"], [[HOSTILE, 3]]))
    assert "<script>" not in html and "<img" not in html
    assert html.count("<td>") == 2  # one row, two cells: the pipes in the name did not split it
    text = ('m&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; a|b \\| c next '
            '&lt;img src=x onerror=alert(2)&gt;')
    assert f"<td>{text}</td>" in html


def test_notes_cannot_inject_html_or_headings() -> None:
    md = render_report({"run": {"judge": "j"}, "params": {}, "settings": {},
                        "notes": [HOSTILE, "rows kept apart with @row<N>"]})
    html = _html(md)
    assert "<script>" not in html and "<img" not in html and "<h1>next" not in html
    assert "@row&lt;N&gt;" in html


def _hostile_metrics() -> dict[str, Any]:
    """A metrics dict with the hostile text in every slot the report shows outside a table cell: judge, benchmark,
    setting, rubric, breakdown knob, ranking group, judge family, self-preference test, parse rule, transient
    fault kind, analysis options, price, snapshots, notes."""
    stat = {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 4}
    sec = {"pooled": {"accuracy_with_tie": stat}, "failures": {"rows": 4, "verdicts": 4, "failures": 0},
           "breakdowns": {f"difficulty:{HOSTILE}": {HOSTILE: {"accuracy_with_tie": stat}}},
           "model_rankings": {HOSTILE: {"judge": [{"rank": 1, "model": HOSTILE, "strength": 0.1, "ci_low": 0.0,
                                                   "ci_high": 0.2, "games": 3, "win_rate": 0.5}], "spearman": 1.0}}}
    bias = {"self_preference": {HOSTILE: {"judge_family": HOSTILE, "n_pairs": 3, "test": HOSTILE}},
            "prompt_injection": {HOSTILE: {"n_queries": HOSTILE, "by_modality": {}, "by_style": {}}}}
    return {"run": {"judge": HOSTILE, "benchmark": HOSTILE, "settings": [HOSTILE],
                    "requests": {"attempts": 2, "retries": 1, "transient_faults": {HOSTILE: 1}}},
            "params": {"bootstrap": HOSTILE, "seed": HOSTILE, "headline_policy": HOSTILE, "reducer": HOSTILE},
            "settings": {HOSTILE: {"counts": {"items": HOSTILE}, "headline_rubric": HOSTILE, "bias": bias,
                                   "rubrics": {HOSTILE: sec},
                                   "parsing": {"parsed_rows": 4, "strict": 4, "by_rule": {HOSTILE: 4}}}},
            "usage": {"verdicts": 4, "price": {"input_per_mtok": HOSTILE, "source": HOSTILE},
                      "tokens": {HOSTILE: 3}, "snapshots": {HOSTILE: HOSTILE}},
            "notes": [HOSTILE]}


def test_names_in_prose_and_headings_cannot_inject_html() -> None:
    md = render_report(_hostile_metrics())
    html = _html(md)
    assert "<script>" not in html and "<img" not in html
    # one line each: a name cannot start a heading or a list of its own
    assert "\nnext" not in md and "<h1>next" not in html and "<h2>next" not in html
    assert md.count("m\\</script\\>\\<script\\>alert(1)\\</script\\>") >= 16


def _read_row(line: str) -> list[str]:
    """The cells of a table row as a Markdown reader sees them: split at unescaped pipes, escapes undone; an
    unescaped ``<`` or ``>`` (HTML a viewer could run) fails."""
    cells, cur, i = [], "", 1
    while i < len(line):
        c = line[i]
        assert c not in "<>", line
        if c == "\\":
            cur, i = cur + line[i + 1], i + 2
        elif c == "|":
            cells, cur, i = [*cells, cur], "", i + 1
        else:
            cur, i = cur + c, i + 1
    return [c[1:-1] for c in cells]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), min_size=3, max_size=3), max_size=4))
def test_any_cell_text_stays_in_its_cell(rows: list[list[str]]) -> None:
    """Whatever a name holds (pipes, backslashes, line breaks, angle brackets), a row keeps its cells and
    each cell reads back as the text written (line breaks as spaces), one line per row."""
    lines = md_table(["a", "b", "c"], rows).split("\n")
    assert len(lines) == 2 + len(rows) and lines[1] == "|---|---|---|"
    for line, row in zip(lines[2:], rows, strict=True):
        assert _read_row(line) == [" ".join(text.splitlines()) for text in row]
