"""report.md and the leaderboard keep data text (model, task, judge names; notes) as text: no table break,
no HTML a Markdown viewer could run."""

from __future__ import annotations

import re

import pytest

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
