"""Every Markdown output (report.md, jury.md, arena.md, leaderboard.md) keeps data text (model, task, judge
names; notes) as text: no table break, no HTML a Markdown viewer could run, no link or image, no block of its
own; a judge's notes keep their code spans."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from judgeanything import arena_cli, jury_cli
from judgeanything.analysis.arena import ArenaResult
from judgeanything.analysis.jury import pair_key
from judgeanything.analysis.leaderboard import render_leaderboard
from judgeanything.analysis.markdown import md_code, md_note, md_table, md_text, render_report
from judgeanything.compare_cli import main as compare_main

from .runbuilder import item, label, record, v, write_run

HOSTILE = 'm</script><script>alert(1)</script> a|b \\| c\nnext <img src=x onerror=alert(2)>'


def _html(md: str) -> str:
    # no unescaped start of an HTML tag outside code spans (whose text is shown literally; the hostile text
    # holds no backtick), then: what an HTML-enabled renderer (as many viewers are) with GFM tables makes of
    # it (markdown-it-py comes with rich, when installed)
    assert not re.search(r"(?<!\\)<[A-Za-z/!?]", re.sub(r"`[^`]*`", "", md)), md
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


# --------------------------------------------------------------------------------------------------
# The escaping rules themselves, against a CommonMark renderer
# --------------------------------------------------------------------------------------------------

LINKS = "[click](http://evil.example/x) ![t](http://evil.example/t.png) [r]: http://evil.example <http://a.b>"
#: markup that is hostile only where it starts a line or fills a whole line (a list item's text)
BLOCKS = ["# heading", "- nested item", "1. ordered", "> quote", "```python", "~~~", "***", "    indented"]
MARKUP = st.text(alphabet="<>[]()!`\\|*_#-:~=1.) aZ/\n", max_size=30)
TAGS = re.compile(r"<(/?)([a-z0-9]+)")


def _render(md: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def _tags(html: str) -> set[str]:
    return {m.group(2) for m in TAGS.finditer(html)}


@settings(max_examples=300, deadline=None)
@given(MARKUP)
@example("\\<img src=x onerror=alert(1)\\>")  # a backslash before "<" must not undo its escape
@example("a \\<a a=\\> b")
@example(LINKS)
def test_md_text_renders_no_html_link_image_or_block(text: str) -> None:
    """Whatever a name holds, in a paragraph it stays one paragraph of inline text: no HTML, link, image,
    heading or list (emphasis and code spans of its own punctuation are all it can make)."""
    html = _render(f"x {md_text(text)}")
    assert _tags(html) <= {"p", "em", "strong", "code"}, html


@settings(max_examples=300, deadline=None)
@given(st.one_of(MARKUP, st.sampled_from(BLOCKS).flatmap(lambda b: MARKUP.map(lambda t: b + t))))
def test_md_note_is_one_list_item_of_inline_text(text: str) -> None:
    """A note as a list item: exactly one item holding inline text, whatever the note starts with or holds."""
    html = _render(f"- {md_note(text)}\n")
    assert _tags(html) <= {"ul", "li", "p", "em", "strong", "code"}, html
    assert html.count("<li>") == 1 and html.count("<ul>") == 1, html


CODE = re.compile(r"<code>(.*?)</code>")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="`ab *<", max_size=24))
def test_md_note_keeps_exactly_the_code_spans_a_reader_sees(text: str) -> None:
    """The code spans of a note are those a CommonMark reader (no HTML) finds in it, with the same text; nothing
    else becomes code, whatever backtick runs the note starts with."""
    markdown_it = pytest.importorskip("markdown_it")
    reader = markdown_it.MarkdownIt("commonmark", {"html": False}).render(f"x {text}\n")
    assert CODE.findall(_render(f"- {md_note(text)}\n")) == CODE.findall(reader)


def test_md_note_keeps_the_judges_code_spans_and_escapes_the_rest() -> None:
    note = ("The judge 'x</b><img src=x onerror=alert(1)>' is a SMOKE judge; run `judge=openai "
            "judge.model=<model> [judge.base_url=<server>]` instead. " + LINKS)
    md = md_note(note)
    assert "`judge=openai judge.model=<model> [judge.base_url=<server>]`" in md  # code spans as written
    html = _render(f"- {md}\n")
    assert _tags(html) == {"ul", "li", "code"}, html
    assert "<code>judge=openai judge.model=&lt;model&gt; [judge.base_url=&lt;server&gt;]</code>" in html
    assert "'x&lt;/b&gt;&lt;img src=x onerror=alert(1)&gt;'" in html and "[click](http://evil.example/x)" in html


@settings(max_examples=200, deadline=None)
@given(MARKUP)
def test_md_code_shows_any_text_literally(text: str) -> None:
    """A name as inline code renders as one code span holding exactly the name (on one line)."""
    one = " ".join(text.splitlines())
    html = _render(f"x {md_code(text)}")
    if one.strip():
        assert html == f"<p>x <code>{_escape(one)}</code></p>\n", (md_code(text), html)


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# --------------------------------------------------------------------------------------------------
# Every Markdown output, with a hostile judge, model, rubric name and notes
# --------------------------------------------------------------------------------------------------

EVIL = f"{HOSTILE} {LINKS}"


def _safe(md: str) -> str:
    """``md`` rendered, with no HTML, link or image and no line of the hostile text on its own."""
    html = _render(md)
    assert not _tags(html) & {"script", "img", "a", "iframe", "pre"}, html
    assert "<h1>next" not in html and "<h2>next" not in html and "\nnext" not in md
    return html


def test_hostile_judge_notes_and_notes_in_report_md() -> None:
    """The judge's notes ("About this judge") and the run's notes are the judge's and the config's text:
    shown as text, their code spans as code."""
    note = f"- {EVIL} and `judge.model=<model>`"
    md = render_report({"run": {"judge": "j", "judge_notes": [note, "# heading"]}, "params": {}, "settings": {},
                        "notes": [note, "1. not a list"]})
    html = _safe(md)
    assert html.count("<code>judge.model=&lt;model&gt;</code>") == 2  # about this judge, and in the Notes
    assert "> **About this judge.** \\- m\\</script\\>\\<script\\>alert(1)\\</script\\>" in md
    assert "> **About this judge.** \\# heading" in md and html.count("<h1>") == 1  # the title
    assert "\n- \\- m\\</script\\>" in md and "\n- 1\\. not a list" in md  # the Notes list
    assert html.count("<ul>") == 1 and html.count("<li>") == 2


def _pair_run(d: Path, judge: str, said: list[str], *, models: tuple[str, str] = ("m1", "m2"),
              snapshot: str = "model-x") -> Path:
    truth = ["first", "second", "first", "second", "tie", "first"]
    items = [item(f"q{i}::p", "pair", "Image2Text", list(models)) for i in range(len(truth))]
    recs = [record(f"q{i}::p", "pair", [v(s)], judge=judge, model=snapshot) for i, s in enumerate(said)]
    return write_run(d, items=items, verdicts=recs, labels=[label(f"q{i}::p", t) for i, t in enumerate(truth)],
                     run={"judge": judge, "notes": [EVIL]})


def test_hostile_names_in_jury_md(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    said = [["first", "second", "first", "first", "tie", "second"], ["first", "first", "second", "second",
                                                                     "tie", "first"]]
    runs = [_pair_run(tmp_path / f"r{k}", f"{EVIL} {k}", s) for k, s in enumerate(said)]
    assert jury_cli.main([*map(str, runs), "--out", str(tmp_path / "jury"), "--no-analyze",
                          "--name", EVIL]) == 0
    md = (tmp_path / "jury" / "jury.md").read_text(encoding="utf-8")
    assert md.startswith("# Jury: majority of m\\</script\\>\\<script\\>alert(1)\\</script\\> a|b \\\\| c next")
    html = _safe(md)
    assert html.count("<tr>") == 2 + 4  # α of one pair of members; two members and the jury vs humans
    assert "<td>m&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; a|b \\| c next" in html
    one = " ".join(EVIL.splitlines())
    pair = next(line for line in md.splitlines() if line.endswith(" | 0.000 |"))
    assert _read_row(pair) == [f"{one} 0 / {one} 1", "0.000"]  # the members' names whole, "|" and all
    assert capsys.readouterr().out.strip() == md.strip()


def test_hostile_names_in_arena_md(tmp_path: Path) -> None:
    run = _pair_run(tmp_path / "r", EVIL, ["first", "second", "second", "first", "tie", "first"],
                    models=(f"{EVIL} A", f"{EVIL} B"))
    assert arena_cli.main(["--run", str(run), "--out", str(tmp_path / "a"), "--bootstrap", "0"]) == 0
    md = (tmp_path / "a" / "arena.md").read_text(encoding="utf-8")
    html = _safe(md)
    assert "<h2>judge:m&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; a|b \\| c next" in html
    assert html.count("<th>") == 6 * 3  # two rankings and the agreement table keep their six columns
    assert html.count("<td>") == 6 * (2 + 2 + 2)


def test_hostile_names_and_warnings_in_leaderboard_md(tmp_path: Path) -> None:
    for k in range(2):  # one judge answered by two (hostile) snapshots: the Warnings section names them
        _pair_run(tmp_path / "sweep" / f"r{k}", EVIL, ["first", "second", "first", "second", "tie", "first"],
                  snapshot=f"{EVIL} snap{k}")
    assert compare_main([str(tmp_path / "sweep"), "--bootstrap", "0"]) == 0
    md = (tmp_path / "sweep" / "leaderboard.md").read_text(encoding="utf-8")
    html = _safe(md)
    assert html.count("<tr>") == 3 and "<td>m&lt;/script&gt;" in html
    warning = md.split("## Warnings\n\n", 1)[1]
    assert warning.startswith("- judge m\\</script\\>\\<script\\>alert(1)\\</script\\> a|b \\\\| c next")
    assert "[click]\\(http://evil.example/x)" in warning and warning.count("\n") == 1


# --------------------------------------------------------------------------------------------------
# Any name, in every output: only the outputs' own structure
# --------------------------------------------------------------------------------------------------

NAME = st.text(alphabet="<>[]()!`\\|*_#-:~1.) a/\n", min_size=1, max_size=16)
#: what the outputs themselves are made of (emphasis and code spans a name's own punctuation may add)
OWN = {"h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "em", "strong", "code"}


def _one(name: str) -> str:
    return " ".join(name.splitlines())


def _tables(md: str) -> list[list[str]]:
    """Every table row of ``md`` as its cells read back (:func:`_read_row`), after checking that the rendered
    document holds only the outputs' own elements."""
    assert _tags(_render(md)) <= OWN, _render(md)
    return [_read_row(line) for line in md.splitlines() if line.startswith("|") and not line.startswith("|---")]


@settings(max_examples=60, deadline=None)
@given(st.lists(NAME, min_size=2, max_size=3, unique=True), NAME)
def test_any_member_and_rubric_name_keeps_jury_md_whole(members: list[str], rubric: str) -> None:
    acc = {m: {"accuracy_with_tie": 0.5, "n": 4} for m in [*members, "jury"]}
    pairs = [(a, b) for i, a in enumerate(members) for b in members[i + 1:]]
    report = {"method": "majority", "members": members,
              "agreement": {rubric: {"level": "nominal", "krippendorff_alpha": 0.3,
                                     "pairwise_alpha": {pair_key(a, b): 0.25 for a, b in pairs},
                                     "votes": {"all_voted": 4}, "agreement_with_humans": acc}}}
    md = jury_cli.jury_markdown(report)
    assert _tables(md) == [["members", "α"], *[[_one(f"{a} / {b}"), "0.250"] for a, b in pairs],
                           ["judge", "n", "accuracy_with_tie"], *[[_one(m), "4", "0.500"] for m in acc]]
    assert _render(md).count("<h2>") == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(NAME, min_size=2, max_size=3, unique=True), NAME)
def test_any_model_and_judge_name_keeps_arena_md_whole(models: list[str], judge: str) -> None:
    rows = [{"source": src, "group": "pooled", "method": "bt", "model": m, "strength": 0.1 * k, "ci_low": 0.0,
             "ci_high": 0.2, "rank": k + 1, "games": 3, "win_rate": 0.5}
            for src in ("human", f"judge:{judge}") for k, m in enumerate(models)]
    agreement = pd.DataFrame([{"group": "pooled", "judge": f"judge:{judge}", "kendall_tau": 1.0, "ci_low": 0.5,
                               "ci_high": 1.0, "n_models": len(models), "ci_method": "paired"}])
    md = arena_cli.arena_markdown(ArenaResult(pd.DataFrame(rows), agreement, {}), "bt", 0.95)
    ranking = [["rank", "model", "strength", "CI", "games", "win rate"],
               *[[str(k + 1), _one(m), f"{0.1 * k:+.3f}", "[+0.000, +0.200]", "3", "0.500"]
                 for k, m in enumerate(models)]]
    assert _tables(md) == [*ranking, *ranking, ["group", "judge", "τ", "CI", "models", "CI from"],
                           ["pooled", f"judge:{_one(judge)}", "+1.000", "[+0.500, +1.000]", str(len(models)),
                            "paired"]]
    assert _render(md).count("<h2>") == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(NAME, min_size=1, max_size=3), st.lists(NAME, max_size=2))
def test_any_judge_name_and_warning_keeps_leaderboard_md_whole(judges: list[str], warnings: list[str]) -> None:
    df = pd.DataFrame([{"judge": j, "setting": "pair", "agreement": 0.5, "agreement_ci_low": 0.4,
                        "agreement_ci_high": 0.6, "run_dir": "/r"} for j in judges])
    md = render_leaderboard(df, warnings)
    assert _tables(md) == [["judge", "setting", "agreement"], *[[_one(j), "pair", "0.500 [0.400, 0.600]"]
                                                                for j in judges]]
    html = _render(md)
    assert html.count("<h2>") == (1 if warnings else 0) and html.count("<li>") == len(warnings)
