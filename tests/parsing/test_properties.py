"""Property tests (hypothesis) of parse_output, in every setting (pair with and without tie, score, batch
ranking of 2–5) and rubric set:

* a generated verdict, written in any of the styles judges use (the prompt's JSON, fenced or not; prose
  anchors with any separator; ``[[A]]``; ``[RESULT] 4``; label styles; markdown tables; the prompt's keys
  in prose), wrapped in random chatter, markdown, ``<think>`` blocks holding *other* verdicts, an echoed
  answer-format example, and Unicode variants (full-width forms, curly quotes, zero-width and no-break
  spaces), parses to the generated value;
* two generated verdicts that disagree, written with equal strength in one output, are a ``parse_fail``;
* under a token-limit stop only the complete JSON answer counts; prose verdicts are ``truncated``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgeanything.parsing import parse_output
from judgeanything.prompts import render_answer
from judgeanything.schema import RUBRICS, Failure, Outcome, ranking_to_letters

# JA_HYPOTHESIS_EXAMPLES=3000 for a deeper search (passes; ~5 min on 2 shared cores)
SETTINGS = settings(max_examples=int(os.environ.get("JA_HYPOTHESIS_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Chatter that holds no verdict: no anchor word, response label, number, lone capital letter or rubric name.
CHATTER = [
    "Let me look at this carefully.",
    "The request asks for a short description of the scene.",
    "Overall the writing is fluent and the facts check out.",
    "There is a small inconsistency in the middle paragraph.",
    "The audio track is clear and free of noise.",
    "Here is my evaluation.",
    "Hope this helps!",
    "I weighed accuracy against style.",
    "Some details could be expanded, though nothing essential is missing.",
    "The colours in the picture match the description.",
]
SEPS = [": ", ":", " - ", " — ", " – ", "：", " = ", ": \n", " -> ", "：\u200b", ":\u00a0"]
PAIR_LABELS = [("Response 1", "Response 2"), ("Assistant A", "Assistant B"), ("Answer 1", "Answer 2"),
               ("Output (a)", "Output (b)"), ("Model A", "Model B"), ("Response A", "Response B"),
               ("the first response", "the second response")]


def fullwidth(s: str) -> str:
    """ASCII → full-width forms (NFKC maps them back): ``Score: 4`` → ``Ｓｃｏｒｅ：４``."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def _result(o: Outcome) -> object:
    return o.kind if isinstance(o, Failure) else o.value


# ------------------------------------------------------------------------------------------------
# Generated verdicts
# ------------------------------------------------------------------------------------------------


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, int, tuple[str, ...], dict[str, Any]]:
    """(setting, n_responses, rubrics, value per rubric)."""
    setting = draw(st.sampled_from(["score", "pair", "pair-no-tie", "batch"]))
    n = {"score": 1, "pair": 2, "pair-no-tie": 2}.get(setting) or draw(st.integers(2, 5))
    rubrics = draw(st.one_of(st.just(("overall",)),
                             st.lists(st.sampled_from(RUBRICS), min_size=2, max_size=4, unique=True).map(tuple)))
    if setting == "score":
        vals = st.integers(1, 5)
    elif setting == "pair":
        vals = st.sampled_from(["first", "tie", "second"])
    elif setting == "pair-no-tie":
        vals = st.sampled_from(["first", "second"])
    else:
        vals = st.permutations(list(range(n))).map(tuple)
    return setting.split("-")[0], n, rubrics, {r: draw(vals) for r in rubrics}


def prose_value(draw: st.DrawFn, setting: str, v: Any) -> str:
    """A value as a judge writes it after a label."""
    if setting == "score":
        return draw(st.sampled_from([f"{v}", f"{v}/5", f"{v} out of 5", f"[[{v}]]"]))
    if setting == "pair":
        if v == "tie":
            return draw(st.sampled_from(["tie", "Tie", "[[C]]", "a tie"]))
        k = 0 if v == "first" else 1
        return draw(st.sampled_from([PAIR_LABELS[i][k] for i in range(len(PAIR_LABELS))]
                                    + ["[[A]]" if k == 0 else "[[B]]", '"A"' if k == 0 else '"B"']))
    letters = ranking_to_letters(v)
    return draw(st.sampled_from([letters, " > ".join(letters), " → ".join(letters),
                                 "[" + ", ".join(f"[{c}]" for c in letters) + "]"]))


def single_statement(draw: st.DrawFn, setting: str, v: Any) -> str:
    """A whole statement of one (overall) verdict, in one of the styles judges write."""
    sep = draw(st.sampled_from(SEPS))
    if setting == "score":
        return draw(st.sampled_from([
            f"Score{sep}{prose_value(draw, setting, v)}", f"Final score{sep}{v}", f"Rating{sep}{v}/5",
            f"Overall rating{sep}{v}", f"[[{v}]]", f"[RESULT] {v}", f"I would give it a {v}.",
            f"Overall, the score is {v}.", f"My rating is {v} out of 5."]))
    if setting == "pair":
        if v == "tie":
            return draw(st.sampled_from([f"Final verdict{sep}tie", "[[C]]", f"Verdict{sep}[[C]]",
                                         "It's a tie.", "Both responses are equally good."]))
        k = 0 if v == "first" else 1
        label = draw(st.sampled_from(PAIR_LABELS))[k]
        return draw(st.sampled_from([
            "[[A]]" if k == 0 else "[[B]]", f"Final verdict{sep}{label}", f"Verdict{sep}{label}",
            f"Winner{sep}{label}", f"{label[0].upper()}{label[1:]} is better.",
            f"Verdict{sep}{'“A”' if k == 0 else '“B”'}", f"I prefer {label}."]))
    return draw(st.sampled_from([f"Ranking{sep}", f"Final ranking{sep}", f"Rank{sep}"])) + prose_value(draw,
                                                                                                         setting, v)


def rubric_lines(draw: st.DrawFn, setting: str, values: dict[str, Any], style: str | None = None) -> str:
    """One line per rubric (title, or the prompt's key read with the prompt's convention), or a table."""
    style = style or draw(st.sampled_from(["title", "key", "table"]))
    if style == "table":
        rows = [f"| {r.capitalize()} | {prose_value(draw, setting, v)} |" for r, v in values.items()]
        return "| Criterion | Verdict |\n|---|---|\n" + "\n".join(rows)
    lines = []
    for r, v in values.items():
        sep = draw(st.sampled_from(SEPS))
        if style == "key":
            suffix = {"score": "score", "pair": "choice", "batch": "ranking"}[setting]
            code = {"first": "0", "tie": "1", "second": "2"}.get(v) if setting == "pair" else None
            value = code or (str(v) if setting == "score" else ranking_to_letters(v))
            lines.append(f"{r}_{suffix}{sep}{value}")
        else:
            lines.append(f"**{r.capitalize()}**{sep}{prose_value(draw, setting, v)}")
    return "\n".join(lines)


def json_answer(draw: st.DrawFn, setting: str, n: int, values: dict[str, Any]) -> str:
    answer = render_answer(setting, values, n_responses=n, comments={r: "fine" for r in values})
    if draw(st.booleans()):
        answer = json.dumps(json.loads(answer), indent=2)
    return f"```json\n{answer}\n```" if draw(st.booleans()) else answer


def decorate(draw: st.DrawFn, line: str) -> str:
    """Markdown and Unicode variants of one verdict line."""
    line = draw(st.sampled_from([line, f"**{line}**", f"## {line}", f"- {line}", f"> {line}"]))
    return draw(st.sampled_from([line, fullwidth(line), line.replace(" ", "\u00a0"), line.replace(":", ":\u200b")]))


def chatter(draw: st.DrawFn) -> str:
    words = st.text(alphabet="dfghjklmnpqsuvwxyz", min_size=2, max_size=7)
    parts = draw(st.lists(st.one_of(st.sampled_from(CHATTER), st.lists(words, min_size=1, max_size=6).map(" ".join)),
                          max_size=3))
    return "\n".join(parts)


def echo(setting: str, rubrics: tuple[str, ...]) -> list[str]:
    """Answer-format examples a judge may echo before answering (they must be ignored)."""
    suffix = {"score": "score", "pair": "choice", "batch": "ranking"}[setting]
    template = "{" + ", ".join(f'"{r}_comment": "<your comment>", "{r}_{suffix}": <value>' for r in rubrics) + "}"
    out = [f"The format asked for is {template}."]
    if setting == "pair":
        out.append('Output "[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.')
        out.append("Answer with A, B or C.")
    if setting == "score":
        out.append("Score: <1-5>")
    return out


@st.composite
def outputs(draw: st.DrawFn) -> tuple[str, int, tuple[str, ...], dict[str, Any], str, bool]:
    """(setting, n, rubrics, values, output text, whether the verdict is the JSON answer)."""
    setting, n, rubrics, values = draw(cases())
    use_json = draw(st.booleans())
    if use_json:
        body = json_answer(draw, setting, n, values)
    elif len(rubrics) == 1:
        body = decorate(draw, single_statement(draw, setting, values["overall"]))
    else:
        body = rubric_lines(draw, setting, values)
    pieces = [chatter(draw), body, chatter(draw)]
    if draw(st.booleans()):  # a reasoning block holding a different verdict: removed before reading
        other = draw(values_like(setting, n, rubrics))
        decoy = rubric_lines(draw, setting, other) if len(rubrics) > 1 else single_statement(draw, setting,
                                                                                             other["overall"])
        pieces.insert(0, f"<think>\n{decoy}\n</think>")
    if not use_json and draw(st.booleans()):
        pieces.insert(1, draw(st.sampled_from(echo(setting, rubrics))))
    return setting, n, rubrics, values, "\n\n".join(p for p in pieces if p), use_json


def values_like(setting: str, n: int, rubrics: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Values for the same setting, responses and rubrics (ties included for pairs)."""
    if setting == "score":
        one: st.SearchStrategy[Any] = st.integers(1, 5)
    elif setting == "pair":
        one = st.sampled_from(["first", "tie", "second"])
    else:
        one = st.permutations(list(range(n))).map(tuple)
    return st.fixed_dictionaries({r: one for r in rubrics})


@SETTINGS
@given(outputs())
def test_generated_verdicts_parse_to_their_value(case: tuple[str, int, tuple[str, ...], dict[str, Any], str, bool]
                                                 ) -> None:
    setting, n, rubrics, values, text, _ = case
    out = parse_output(text, setting, rubrics, n_responses=n)
    assert [_result(o) for o in out] == [values[r] for r in rubrics], text
    assert all(o.parsed_by for o in out)


# ------------------------------------------------------------------------------------------------
# Conflicts and token limits
# ------------------------------------------------------------------------------------------------


def same_style(setting: str, template: int, sep: str, v: Any) -> str:
    """Statement ``template`` of a value; for one template every value is written with equal strength."""
    if setting == "score":
        return [f"Score{sep}{v}", f"Final score{sep}{v}", f"Rating{sep}{v}/5", f"[[{v}]]", f"[RESULT] {v}",
                f"I would give it a {v}."][template % 6]
    if setting == "pair":
        letter = {"first": "A", "second": "B", "tie": "C"}[v]
        word = {"first": "Response 1", "second": "Assistant B", "tie": "tie"}[v]
        sentence = {"first": "Response 1 is better.", "second": "The second response is better.",
                    "tie": "It's a tie."}[v]
        return [f"[[{letter}]]", f"Final verdict{sep}{word}", sentence, f"Winner{sep}{word}"][template % 4]
    letters = ranking_to_letters(v)
    return [f"Ranking{sep}{' > '.join(letters)}", f"Final ranking{sep}{letters}"][template % 2]


@st.composite
def conflicts(draw: st.DrawFn) -> tuple[str, int, tuple[str, ...], str]:
    """An output with two verdicts of equal strength that disagree on at least one rubric; returns the
    rubrics they disagree on."""
    setting, n, rubrics, first = draw(cases())
    second = draw(values_like(setting, n, rubrics).filter(lambda v: v != first))
    style = draw(st.sampled_from(["json", "prose", "json+prose"]))
    if style == "json":
        a, b = json_answer(draw, setting, n, first), json_answer(draw, setting, n, second)
    elif style == "json+prose":  # the JSON answer contradicted by a strongest-tier verdict in the text
        a = json_answer(draw, setting, n, first)
        b = (rubric_lines(draw, setting, second, "title") if len(rubrics) > 1
             else same_style(setting, 0 if setting != "pair" else draw(st.sampled_from([0, 1])),
                             draw(st.sampled_from(SEPS)), second["overall"]))
        if setting == "score" and len(rubrics) == 1:
            b = f"Final score: {second['overall']}"
        if draw(st.booleans()):
            a, b = b, a
    elif len(rubrics) == 1:
        template, sep = draw(st.integers(0, 5)), draw(st.sampled_from(SEPS))
        a, b = same_style(setting, template, sep, first["overall"]), same_style(setting, template, sep,
                                                                                 second["overall"])
    else:
        line_style = draw(st.sampled_from(["title", "key", "table"]))
        a, b = rubric_lines(draw, setting, first, line_style), rubric_lines(draw, setting, second, line_style)
    text = "\n\n".join([chatter(draw), a, chatter(draw), b, chatter(draw)])
    return setting, n, tuple(r for r in rubrics if first[r] != second[r]), text


@SETTINGS
@given(conflicts())
def test_two_verdicts_that_disagree_are_a_parse_failure(case: tuple[str, int, tuple[str, ...], str]) -> None:
    setting, n, disagree, text = case
    out = parse_output(text, setting, disagree, n_responses=n)
    assert [_result(o) for o in out] == ["parse_fail"] * len(disagree), text
    assert all(isinstance(o, Failure) and "disagree" in o.detail for o in out)


@SETTINGS
@given(outputs(), st.sampled_from(["length", "max_tokens", "MAX_TOKENS", "max_output_tokens"]))
def test_token_limit_only_complete_json_counts(case: tuple[str, int, tuple[str, ...], dict[str, Any], str, bool],
                                               reason: str) -> None:
    """At a token-limit stop the complete JSON answer still counts; a prose verdict — however complete
    it looks — is ``truncated`` (the same prose parses to its value without the limit)."""
    setting, n, rubrics, values, text, use_json = case
    got = [_result(o) for o in parse_output(text, setting, rubrics, n_responses=n, finish_reason=reason)]
    assert got == ([values[r] for r in rubrics] if use_json else ["truncated"] * len(rubrics)), text


@st.composite
def worst_first_rankings(draw: st.DrawFn) -> tuple[str, int, tuple[int, ...]]:
    """A best-first ranking of 2–5 responses written worst first under a stated direction (issue 8 item 11)."""
    n = draw(st.integers(2, 5))
    best_first = tuple(draw(st.permutations(range(n))))
    letters = ranking_to_letters(tuple(reversed(best_first)))
    label = draw(st.sampled_from(["Ranking from worst to best", "worst to best", "Final ranking (worst to best)",
                                  "Ranking (in ascending order of quality)", "From lowest to highest",
                                  "Ranking, least to most helpful"]))
    joined = draw(st.sampled_from([" > ", ", ", ""])).join(letters)
    return f"{chatter(draw)}\n{label}: {joined}\n{chatter(draw)}", n, best_first


@SETTINGS
@given(worst_first_rankings())
def test_a_ranking_written_worst_first_is_read_best_first(case: tuple[str, int, tuple[int, ...]]) -> None:
    raw, n, best_first = case
    assert _result(parse_output(raw, "batch", ("overall",), n_responses=n)[0]) == best_first


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from(["No wait, actually {b}.", "Actually, {b}.",
                                                              "On second thought, {b}.", "Correction: {b}.",
                                                              "Let me revise that to {b}.",
                                                              "I change my score to {b}."]),
       st.sampled_from(["I'd rate it {a}.", "Score: {a}.", "Rating - {a}/5.", "[[{a}]]"]))
def test_a_self_corrected_score_is_never_the_first_value(a: int, b: int, revision: str, first: str) -> None:
    raw = f"{first.format(a=a)} {revision.format(b=b)}"
    got = _result(parse_output(raw, "score", ("overall",))[0])
    assert got == "parse_fail" or (a == b and got == a), raw
