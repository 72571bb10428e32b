"""``report.md``: a readable Markdown summary of one run's ``metrics.json``.

Reads only the metrics dict written by :mod:`judgeanything.analysis.metrics` (and imports nothing else of
the analysis package), so it can be regenerated from a finished run directory. It lives in ``analysis``
because ``report.md`` is part of what an analysis writes (and the leaderboard reuses its table helpers);
``judgeanything.report`` holds the presentation layers built on top (HTML, plots, the console summary).

The layout and the prose are the Jinja2 template ``templates/report.md.j2`` (tables: ``templates/_table.md.j2``),
as the HTML report's are; the functions below compute what it shows, one section each: the numbers already
formatted (:func:`fmt`, :func:`fmt_stat`), names made safe (:func:`md_text`; notes, which may hold the judge's
code spans, :func:`md_note`; a name shown as code, :func:`md_code`) and tables as :class:`Table`. Made safe means
kept as the text it is, whatever a judge's or a config's name or note holds: no HTML, link, image or block of its
own, and no table cell split.
:func:`markdown_environment` is shared by every Markdown output (the reference-baseline section of
:mod:`~judgeanything.analysis.reference`; the rules and process reports of :mod:`judgeanything.report`;
``leaderboard.md`` of :mod:`~judgeanything.analysis.leaderboard`, ``jury.md`` of :mod:`judgeanything.jury_cli`,
``arena.md`` of :mod:`judgeanything.arena_cli`, each from its template here), so one table macro and one escaping
rule serve them all.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

REPORT_MD = "report.md"

#: Columns shown in the group tables, per setting.
KEY_METRICS = {
    "pair": ("accuracy_with_tie", "accuracy_without_tie", "cohen_kappa", "tie_rate", "failure_rate"),
    "score": (
        "pearson",
        "spearman",
        "kendall_tau_b",
        "mae",
        "offset",
        "qwk",
        "krippendorff_alpha",
        "failure_rate",
    ),
    "batch": ("nlev", "exact_match", "failure_rate"),
}

#: The breakdown tables of a setting, in report order, with their titles (``difficulty:*`` and ``probe_family``
#: follow, sorted).
BREAKDOWNS = (
    ("family", "By family (MMU = text output, MMG = generation)"),
    ("task_type", "By task type"),
    ("input_modality", "By input modality"),
    ("output_modality", "By output modality"),
    ("modality_pair", "By modality pair"),
)

#: Rows of the self-preference table, in order (those present in the metrics).
SELF_PREFERENCE_ROWS = ("n_pairs", "n_own", "n_other", "judge_rate", "human_rate", "difference", "offset_own",
                        "offset_other", "p_value")


@dataclass(frozen=True)
class Table:
    """A Markdown table to render: column headers and rows of cells (any value; shown as ``str``, escaped)."""

    headers: list[Any]
    rows: list[list[Any]]


def fmt(x: Any, digits: int = 3) -> str:
    """A number for a table: ``0.812``; ``—`` for missing/NaN; ints without decimals."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return "—"
        return str(int(x)) if x.is_integer() and abs(x) >= 1000 else f"{x:.{digits}f}"
    return str(x)


def fmt_stat(s: Any) -> str:
    """``{value, ci_low, ci_high}`` → ``0.812 [0.790, 0.833]`` (or just the value)."""
    if not isinstance(s, Mapping):
        return fmt(s)
    v = fmt(s.get("value"))
    if s.get("ci_low") is not None and s.get("ci_high") is not None:
        return f"{v} [{fmt(s['ci_low'])}, {fmt(s['ci_high'])}]"
    return v


def _cell(x: Any) -> str:
    """A table cell: data text (model, task and judge names) kept as text, as :func:`md_text` keeps it, and
    ``|`` escaped, which would end the cell."""
    return _inert(str(x).replace("\\", "\\\\").replace("|", "\\|"))


#: ``]`` right before ``(``, ``[`` or ``:``: the middle of an inline link or image ``[text](url)``, a reference
#: link ``[text][ref]`` or a link reference definition ``[ref]: url`` (CommonMark §4.7, §6.3).
_LINK_TAIL = re.compile(r"\]([(\[:])")


def _inert(text: str) -> str:
    """``text`` (its backslashes already doubled) on one line, with ``<`` and ``>`` backslash-escaped, so no
    Markdown viewer reads HTML or an autolink in it, and no link or image: the character after a ``]`` that
    would make one is escaped (``[text]`` alone stays, as no reference is ever defined; a bare URL stays as
    written, which GitHub shows as a link to what it says). Backslash escapes of ASCII punctuation render as
    the character itself (CommonMark §2.4)."""
    one = " ".join(text.splitlines()).replace("<", "\\<").replace(">", "\\>")
    return _LINK_TAIL.sub(r"]\\\1", one)


def md_text(x: Any) -> str:
    """A value shown in the report's prose or headings (a judge, rubric, group or model name, a config value),
    kept as text: one line, backslashes doubled (so none escapes what follows), no HTML, link or image
    (:func:`_inert`). Every such value reaches a template through this (notes: :func:`md_note`)."""
    return _inert(str(x).replace("\\", "\\\\"))


def md_code(x: Any) -> str:
    """A value shown as inline code, e.g. a judge or snapshot name: on one line, between backtick fences one
    longer than its longest backtick run, so nothing in it closes the code span early (CommonMark §6.1: code
    span content is shown literally, nothing escaped). Padded with a space each side where it starts or ends
    with a backtick (which would join the fence) or both starts and ends with a space (a reader strips one each
    side of such content unless it is all spaces)."""
    text = " ".join(str(x).splitlines())
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if not text or "`" in (text[0], text[-1]) or (text[0] == text[-1] == " " and text.strip()) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


#: The start of a line that would open a block (CommonMark §4, §5): a backtick run (a code fence), a heading,
#: quote, list item, thematic break, setext underline or ``~`` fence; or an ordered list item (digits, then ``.``
#: or ``)``).
_BLOCK_START = re.compile(r"^(?:(`+)|([#>+*=_~-])|(\d{1,9})([.)]))")


def _block_start_escaped(m: re.Match[str]) -> str:
    """:data:`_BLOCK_START`'s match, escaped: each backtick of a run (escaping only the first would leave the
    rest to open a code span of its own), a marker, or an ordered list item's ``.`` / ``)``."""
    ticks, mark, digits, dot = m.groups()
    return "\\`" * len(ticks) if ticks else f"\\{mark}" if mark else f"{digits}\\{dot}"


def md_note(x: Any) -> str:
    """A note (a judge's, a run's; a warning) shown as a list item or after a label. A judge's notes are its
    own Markdown with names of the config in them: the code spans they hold are kept as code (their text is
    shown literally, so nothing in one is HTML), the rest is kept as text as :func:`md_text` keeps it, and a
    start that would open a block of its own (a heading, list or indented code inside the list item) is escaped
    or, for leading white space, left out."""
    pieces = _code_spans(" ".join(str(x).splitlines()).lstrip())
    first = pieces[0][1] if pieces[0][0] else _BLOCK_START.sub(_block_start_escaped, md_text(pieces[0][1]))
    return first + "".join(piece if code else md_text(piece) for code, piece in pieces[1:])


_BACKTICKS = re.compile("`+")


def _code_spans(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into ``(is a code span, piece)``, found as CommonMark does (§6.1): a backtick run opens a
    code span that the next run of the same length closes; a run with none is literal text. Backslashes are
    ignored, as outside code spans :func:`md_text` doubles them. (markdown-it-py, which renders Markdown,
    keeps no source offsets of inline code, so it cannot cut the source text; this is the one rule needed.)"""
    runs = list(_BACKTICKS.finditer(text))
    closer: dict[int, int] = {}  # run index → index of the next run of the same length
    latest: dict[int, int] = {}
    for k in range(len(runs) - 1, -1, -1):
        n = len(runs[k].group())
        if n in latest:
            closer[k] = latest[n]
        latest[n] = k
    pieces: list[tuple[bool, str]] = []
    start = k = 0
    while k < len(runs):
        if k not in closer:
            k += 1
            continue
        end = runs[closer[k]].end()
        pieces += [(False, text[start:runs[k].start()]), (True, text[runs[k].start():end])]
        start, k = end, closer[k] + 1
    return [p for p in pieces if p[1]] + [(False, text[start:])] if pieces else [(False, text)]


def _oneline(text: str) -> str:
    """The ``oneline`` template filter: a paragraph wrapped in the template for reading, on one line (its
    final line break kept)."""
    if text.endswith("\n"):
        return text[:-1].replace("\n", " ") + "\n"
    return text.replace("\n", " ")


@functools.cache
def markdown_environment(package: str = "judgeanything.analysis") -> jinja2.Environment:
    """The Jinja2 environment of Markdown reports: the ``templates`` folder of ``package`` (e.g.
    ``judgeanything.report`` for the rules and process reports), then this package's (``_table.md.j2``).
    Plain text (Markdown is not HTML: no autoescape; cells are escaped by the ``cell`` filter),
    ``StrictUndefined`` so a context key missing is an error, not a blank; the ``oneline`` filter."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader(name, "templates")
                                    for name in dict.fromkeys((package, "judgeanything.analysis"))]),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = _cell
    env.filters["oneline"] = _oneline
    return env


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown pipe table (no trailing newline), laid out by the ``table`` macro of
    ``templates/_table.md.j2``, which ``report.md`` uses too. (pandas' ``to_markdown`` would need the extra
    ``tabulate`` dependency for this alone.)"""
    macro = markdown_environment().get_template("_table.md.j2").module.table  # type: ignore[attr-defined]
    return str(macro(list(headers), [list(r) for r in rows]))


def reference_check_table(check: Sequence[Mapping[str, Any]]) -> Table:
    """The rows ``{metric, expected, observed, n, lo, hi, inside}`` of a reference-baseline check (rules and
    process runs) as a table: values to 3 decimals, the interval ``[lo, hi]``, **no** when outside."""
    return Table(["metric", "expected", "observed", "n", "interval", "inside"],
                 [[r["metric"], f"{r['expected']:.3f}", f"{r['observed']:.3f}", r["n"],
                   f"[{r['lo']:.3f}, {r['hi']:.3f}]", "yes" if r["inside"] else "**no**"] for r in check])


def render_report(metrics: Mapping[str, Any]) -> str:
    """The Markdown text of ``report.md`` for a metrics dict (see :mod:`judgeanything.analysis.metrics`)."""
    run = metrics.get("run", {})
    return markdown_environment().get_template("report.md.j2").render(
        header=_header(run, metrics.get("params", {})),
        settings=[_setting(setting, s) for setting, s in metrics.get("settings", {}).items()],
        cost=_cost(metrics.get("cost") or {}),
        usage=_usage(metrics.get("usage") or {}),
        requests=_requests(run.get("requests") or {}),
        notes=[md_note(n) for n in metrics.get("notes") or []],
    )


def write_report(run_dir: Path | str, metrics: Mapping[str, Any]) -> Path:
    """Write ``report.md`` (from a metrics dict) into ``run_dir``; returns its path."""
    path = Path(run_dir) / REPORT_MD
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(render_report(metrics), encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------------------
# The run: header, cost, usage, requests
# --------------------------------------------------------------------------------------------------


def _header(run: Mapping[str, Any], p: Mapping[str, Any]) -> dict[str, Any]:
    """The title, the run's facts (judge, benchmark, settings…), what the judge is, the analysis options."""
    return {
        "judge": md_text(run.get("judge", "?")),
        "benchmark": md_text(run.get("benchmark", "?")),
        "run": Table(
            ["judge", "judge family", "benchmark", "settings", "mode", "prompt version"],
            [[run.get("judge"), run.get("judge_family") or "—", run.get("benchmark"),
              ", ".join(run.get("settings", [])), run.get("mode"), run.get("prompt_version")]],
        ),
        # what the judge is, said up front (e.g. random weights): the judge's own Markdown, its code spans kept
        "judge_notes": [md_note(n) for n in run.get("judge_notes") or []],
        "bootstrap": md_text(p.get("bootstrap")),
        "ci_percent": fmt(100 * float(p.get("ci", 0.95)), 0),
        "seed": md_text(p.get("seed")),
        "headline_policy": md_text(p.get("headline_policy")),
        "reducer": md_text(p.get("reducer")),
    }


def _cost(cost: Mapping[str, Any]) -> Table | None:
    """Records, tokens and judge time of the run (``None`` when no record was counted)."""
    if not cost.get("records"):
        return None
    return Table(["records", "prompt tokens", "completion tokens", "judge time (s)"],
                 [[cost.get("records"), fmt(cost.get("prompt_tokens"), 0), fmt(cost.get("completion_tokens"), 0),
                   fmt(cost.get("latency_s"), 1)]])


def _usd(x: Any) -> str:
    return "unknown (no price)" if x is None else f"${float(x):.4f}"


def _usage(u: Mapping[str, Any]) -> dict[str, Any] | None:
    """Token usage, cost and spend by input modality, the price used, and the model snapshots that answered
    (``None`` when no verdict was counted)."""
    if not u.get("verdicts"):
        return None
    price = u.get("price") or {}
    where = (f"{price.get('model_pattern')} in {price.get('source')}" if price.get("model_pattern")
             else price.get("source"))
    rows = []
    for label, d in [("all", u), *sorted((u.get("by_modality") or {}).items())]:
        t = d.get("tokens") or {}
        rows.append([label, d.get("verdicts"), d.get("cached"), fmt(t.get("prompt_tokens"), 0),
                     fmt(t.get("completion_tokens"), 0), _usd(d.get("cost_usd")), _usd(d.get("spent_usd"))])
    details = {k: v for k, v in (u.get("tokens") or {}).items() if k not in ("prompt_tokens", "completion_tokens")}
    snaps = u.get("snapshots") or {}
    return {
        "price": md_text(", ".join(f"{k} {v}" for k, v in price.items() if k.endswith("_mtok"))) if price else None,
        "price_source": md_text(where),
        "table": Table(["input modality", "verdicts", "from cache", "prompt tokens", "completion tokens", "cost",
                        "spent"], rows),
        "details": md_text(", ".join(f"{k} {fmt(v, 0)}" for k, v in sorted(details.items()))),
        "snapshots": ", ".join(f"{md_code(k)} ×{md_text(v)}" for k, v in sorted(snaps.items())),
    }


def _requests(r: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the retry policy and the rate controller did (``run.json`` → ``requests``), for API judges whose
    requests met faults: tries, retries, transient faults by kind, units given up on (their ``api_error`` is
    counted under failures) and the adaptive window; ``None`` when nothing was retried, given up or cut."""
    if not r.get("retries") and not r.get("gave_up") and not (r.get("window") or {}).get("decreases"):
        return None
    w = r.get("window") or {}
    return {
        "attempts": md_text(r.get("attempts", 0)),
        "retries": md_text(r.get("retries", 0)),
        "faults": md_text(", ".join(f"{k} × {v}" for k, v in (r.get("transient_faults") or {}).items()) or "none"),
        "gave_up": md_text(r.get("gave_up", 0)),
        "window": {k: md_text(w.get(k)) for k in ("maximum", "lowest", "decreases", "final")} if w else None,
    }


# --------------------------------------------------------------------------------------------------
# One setting: agreement, coverage, breakdowns, repeats, model rankings
# --------------------------------------------------------------------------------------------------


def _setting(setting: str, s: Mapping[str, Any]) -> dict[str, Any]:
    """One ``## Setting`` section: counts and headline rubric, then (when there is a headline rubric) its
    agreement, coverage and breakdown tables, biases, repeats and model rankings."""
    main = s.get("headline_rubric")
    c = s.get("counts", {})
    out: dict[str, Any] = {"setting": md_text(setting), "rubric": None if main is None else md_text(main),
                           "n_items": md_text(c.get("items", 0)), "n_judged": md_text(c.get("judged_items", 0)),
                           "n_labelled": md_text(c.get("labelled_items", 0))}
    if main is None:
        return out
    rub = s.get("rubrics", {})
    sec = rub.get(main, {})
    keys = KEY_METRICS.get(setting, ())
    return out | {
        "agreement": _agreement(sec),
        "by_rubric": _by_rubric(rub, keys),
        "coverage": _coverage(sec.get("failures", {})),
        "parsing": _parsing(s.get("parsing") or {}),
        "groups": _breakdowns(sec.get("breakdowns", {}), keys),
        "policies": _policies(sec.get("inconsistent_policies")),
        "bias": _bias(s.get("bias", {}), main),
        "repeats": _repeats(sec.get("repeats")),
        "rankings": _rankings(sec.get("model_rankings")),
    }


def _agreement(sec: Mapping[str, Any]) -> Table | None:
    """Pooled, macro (task types weighted equally) and human-ceiling values of the headline rubric's metrics."""
    if not sec.get("pooled", {}):
        return None
    scopes = (("pooled", "pooled"), ("macro", "macro (task types)"), ("human_ceiling", "human ceiling"))
    rows = [[scope, m, fmt_stat(st), fmt(st.get("n"))] for key, scope in scopes for m, st in sec.get(key, {}).items()]
    return Table(["scope", "metric", "value [CI]", "n"], rows)


def _by_rubric(rub: Mapping[str, Any], keys: Sequence[str]) -> Table | None:
    """The setting's key metrics (pooled) and failure rate for every rubric, when there are several."""
    if len(rub) <= 1:
        return None
    cols = [m for m in keys if m != "failure_rate"]
    rows = [[rb, *[fmt_stat(r.get("pooled", {}).get(m)) for m in cols], fmt(r.get("failures", {}).get("failure_rate"))]
            for rb, r in rub.items()]
    return Table(["rubric", *cols, "failure_rate"], rows)


def _coverage(f: Mapping[str, Any]) -> Table:
    """Verdict rows, verdicts, failures (and their kinds) and coverage of the headline rubric."""
    kinds = f.get("by_kind", {})
    return Table(["verdict rows", "verdicts", "failures", "coverage", *kinds.keys()],
                 [[f.get("rows"), f.get("verdicts"), f.get("failures"), fmt(f.get("coverage")), *kinds.values()]])


def _parsing(p: Mapping[str, Any]) -> dict[str, Any] | None:
    """How the judge's text was read (strict-parse rate and rules), when any outcome came from text."""
    if not p.get("parsed_rows"):
        return None
    rules = ", ".join(f"{k} {v}" for k, v in (p.get("by_rule") or {}).items())
    return {"rate": md_text(fmt(p.get("strict_parse_rate"))), "strict": md_text(p.get("strict")),
            "rows": md_text(p.get("parsed_rows")), "rules": md_text(rules)}


def _group_table(groups: Mapping[str, Mapping[str, Any]], metrics: Sequence[str]) -> Table:
    """One breakdown: a row per group (its n, the key metrics it has)."""
    cols = [m for m in metrics if any(m in g for g in groups.values())]
    rows = []
    for name, g in groups.items():
        n = next((s.get("n") for s in g.values() if isinstance(s, Mapping) and s.get("n")), None)
        rows.append([name, fmt(n), *[fmt_stat(g.get(m)) for m in cols]])
    return Table(["group", "n", *cols], rows)


def _breakdowns(bd: Mapping[str, Any], keys: Sequence[str]) -> list[tuple[str, Table]]:
    """``(title, table)`` of every breakdown present: :data:`BREAKDOWNS`, then probe difficulty knobs and
    probe families."""
    named = [(title, bd[gb]) for gb, title in BREAKDOWNS if bd.get(gb)]
    probes = sorted(k for k in bd if k.startswith("difficulty:") or k == "probe_family")
    named += [(f"By {md_text(gb)}", bd[gb]) for gb in probes]
    return [(title, _group_table(groups, keys)) for title, groups in named]


def _policies(pol: Mapping[str, Mapping[str, Any]] | None) -> Table | None:
    """Pair accuracy under each inconsistent-order policy."""
    if not pol:
        return None
    ms = sorted({m for d in pol.values() for m in d})
    return Table(["policy", *ms], [[p, *[fmt_stat(d.get(m)) for m in ms]] for p, d in pol.items()])


def _repeats(r: Mapping[str, Any] | None) -> Table | None:
    """Stability across repeated judgements, and the headline metric from repeat 0 vs the reduced repeats."""
    if not r:
        return None
    rows = [[k, fmt(v)] for k, v in r.get("stability", {}).items()]
    if "first_repeat" in r:
        rows += [["headline metric, repeat 0 only", fmt_stat(r["first_repeat"])],
                 ["headline metric, repeats reduced", fmt_stat(r["reduced"])]]
    return Table(["quantity", "value"], rows)


def _rankings(rankings: Mapping[str, Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Per group: the Bradley–Terry ranking from the judge's pair verdicts beside the humans' strengths, and
    Spearman ρ between the two."""
    out = []
    for g, e in (rankings or {}).items():
        hum = {r["model"]: r for r in e.get("human", [])}
        rows = [[r["rank"], r["model"],
                 fmt_stat({"value": r["strength"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}), r["games"],
                 fmt(r["win_rate"]), fmt(hum[r["model"]]["strength"]) if r["model"] in hum else "—"]
                for r in e.get("judge", [])]
        rho = e.get("spearman")
        out.append({"group": md_text(g), "rho": None if rho is None else md_text(fmt(rho)),
                    "table": Table(["rank", "model", "strength [CI]", "games", "win rate", "human strength"], rows)})
    return out


# --------------------------------------------------------------------------------------------------
# Biases of the headline rubric
# --------------------------------------------------------------------------------------------------


def _bias(bias: Mapping[str, Any], rubric: str) -> dict[str, Any]:
    """The bias tables of one rubric: cross-modality, position, size / verbosity (pairs, length-controlled,
    scores), self-preference and prompt injection; each ``None`` when not measured."""
    def of(kind: str) -> Mapping[str, Any]:
        return (bias.get(kind) or {}).get(rubric) or {}

    size = of("size")
    return {
        "cross_modality": _cross_modality(of("cross_modality")),
        "position": _position(of("position")),
        "size": _size(size),
        "length_controlled": _length_controlled(size.get("length_controlled")),
        "score_size": _score_size(size.get("score_size_spearman")),
        "self_preference": _self_preference(of("self_preference")),
        "injection": _injection(of("prompt_injection")),
    }


def _cross_modality(cm: Mapping[str, Any]) -> Table | None:
    """The MMU − MMG gap of each metric and the tests across modality columns."""
    if not (cm.get("mmu_vs_mmg") or cm.get("tests")):
        return None
    rows = [[f"MMU − MMG gap: {m}", fmt_stat(g), "significant" if g.get("significant") else "—"]
            for m, g in cm.get("mmu_vs_mmg", {}).items()]
    rows += [[f"{t['test']} across {col}", f"stat {fmt(t.get('statistic'))}", f"p = {fmt(t.get('p_value'), 4)}"]
             for col, t in cm.get("tests", {}).items()]
    return Table(["quantity", "value", "test"], rows)


def _position(pos: Mapping[str, Any]) -> Table | None:
    """Position bias: consistency across orders, flip rate, slot preferences."""
    if not pos:
        return None
    rows = [["records", fmt(pos.get("n_records"))], ["items judged in ≥ 2 orders", fmt(pos.get("both_orders"))]]
    rows += [[k, fmt_stat(pos[k])]
             for k in ("consistency", "flip_rate", "tie_rate", "human_p_first", "mean_nlev_between_orders") if k in pos]
    rows += [[f"{k} {slot}", fmt_stat(st)] for k in ("p_prefer_slot", "p_rank1_given_slot")
             for slot, st in pos.get(k, {}).items()]
    return Table(["quantity", "value"], rows)


def _size(sz: Mapping[str, Any]) -> Table | None:
    """P(judge prefers the larger response) per size feature, beside the humans' rate."""
    feats = ({"primary": sz["primary"]} if "primary" in sz else {}) | sz.get("features", {})
    if not feats:
        return None
    rows = [[f, d.get("n_pairs"), fmt_stat(d.get("p_prefer_larger")), fmt(d.get("human_p_prefer_larger"))]
            for f, d in feats.items()]
    return Table(["feature", "pairs", "judge P(prefer larger)", "human"], rows)


def _length_controlled(lc: Mapping[str, Any] | None) -> Table | None:
    """Length-controlled agreement (Dubois et al. 2024, length-controlled AlpacaEval)."""
    if not lc:
        return None
    return Table(["n", "size coef", "observed agreement", "model agreement", "LC agreement"],
                 [[lc["n"], fmt(lc["size_coef"]), fmt(lc["observed_agreement"]), fmt(lc["model_agreement"]),
                   fmt(lc["lc_agreement"])]])


def _score_size(sp: Mapping[str, Mapping[str, Any]] | None) -> Table | None:
    """Spearman ρ of the judge's and the humans' scores with each log size feature."""
    if not sp:
        return None
    return Table(["feature", "n", "Spearman ρ(judge score, log size)", "ρ(human score, log size)"],
                 [[f, d["n"], fmt(d["judge"]), fmt(d["human"])] for f, d in sp.items()])


def _self_preference(sp: Mapping[str, Any]) -> dict[str, Any] | None:
    """Self-preference: the judge family's rate of preferring its own family's responses against the humans'
    (``judge_family`` ``None`` and a ``note`` when not measured)."""
    if not sp:
        return None
    if not sp.get("judge_family"):
        return {"judge_family": None, "note": md_text(sp.get("note", "unknown judge family"))}
    rows = [[k, fmt_stat(sp[k])] for k in SELF_PREFERENCE_ROWS if k in sp]
    if "flagged" in sp:
        rows.append(["flagged", "**yes**" if sp["flagged"] else "no"])
    test = sp.get("test")
    return {"judge_family": md_text(sp["judge_family"]), "table": Table(["quantity", "value"], rows),
            "test": md_text(test) if test else None}


def _injection(inj: Mapping[str, Any]) -> dict[str, Any] | None:
    """Prompt-injection susceptibility, control rate and lift per output modality, and the rate per style."""
    if not inj:
        return None
    rows = [[g, fmt_stat(d.get("susceptibility")), fmt_stat(d.get("control_rate")), fmt_stat(d.get("lift"))]
            for g, d in inj.get("by_modality", {}).items()]
    styles = [[s, fmt_stat(d.get("rate"))] for s, d in inj.get("by_style", {}).items()]
    return {"n_queries": md_text(inj.get("n_queries")),
            "by_modality": Table(["output modality", "susceptibility", "control rate", "lift"], rows),
            "by_style": Table(["injection style", "rate"], styles)}
