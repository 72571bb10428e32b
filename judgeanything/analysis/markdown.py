"""``report.md``: a readable Markdown summary of one run's ``metrics.json``.

Reads only the metrics dict written by :mod:`judgeanything.analysis.metrics` (and imports nothing else of
the analysis package), so it can be regenerated from a finished run directory. It lives in ``analysis``
because ``report.md`` is part of what an analysis writes (and the leaderboard reuses its table helpers);
``judgeanything.report`` holds the presentation layers built on top (HTML, plots, the console summary).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

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

HOW_TO_READ = (
    "**How to read this.** Each number compares the judge's verdicts with the human labels of the same "
    "items (several annotators → their consensus: majority vote for pairs with ties → *tie*, mean for "
    "scores). Square brackets hold a percentile bootstrap interval (items resampled); *n* is the number "
    "of items behind a number. Pair: *accuracy with tie* counts every item, *without tie* drops items "
    "humans called a tie (a judge tie there counts wrong). Score: Pearson r / Spearman ρ / Kendall τ-b "
    "measure rank agreement, MAE and *offset* (judge − human, > 0 = the judge is more lenient) measure "
    "calibration. Batch: *nlev* is the normalised edit distance between rankings (0 = identical; lower "
    "is better). *Macro* averages task types equally; *pooled* weights items equally. Failures (refusals, "
    "unparseable outputs…) are never scored: they lower *coverage* instead. Position bias is measured "
    "only when items were judged in both orders; *flip rate* is the share whose verdict changed with the "
    "order. The *human ceiling* compares each annotator with the other annotators' consensus."
)


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
    """A table cell: data text (model, task and judge names) kept as text — ``|`` and line breaks would
    break the table, and ``<``/``>`` would let a viewer that renders inline HTML run a name such as
    ``</script><script>…`` (backslash escapes of ASCII punctuation render as the character itself)."""
    return _no_html(str(x).replace("\\", "\\\\").replace("|", "\\|"))


def _no_html(text: str) -> str:
    """``text`` on one line with ``<`` and ``>`` backslash-escaped, so no Markdown viewer reads HTML in it."""
    return " ".join(text.splitlines()).replace("<", "\\<").replace(">", "\\>")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown pipe table. (A dozen lines; pandas' ``to_markdown`` would need the
    extra ``tabulate`` dependency for this alone.)"""
    out = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        out.append("| " + " | ".join(_cell(c) for c in r) + " |")
    return "\n".join(out)


def _group_table(groups: Mapping[str, Mapping[str, Any]], metrics: Sequence[str]) -> str:
    cols = [m for m in metrics if any(m in g for g in groups.values())]
    rows = []
    for name, g in groups.items():
        n = next((s.get("n") for s in g.values() if isinstance(s, Mapping) and s.get("n")), None)
        rows.append([name, fmt(n), *[fmt_stat(g.get(m)) for m in cols]])
    return md_table(["group", "n", *cols], rows)


def render_report(metrics: Mapping[str, Any]) -> str:
    """The Markdown text of ``report.md`` for a metrics dict (see :mod:`judgeanything.analysis.metrics`)."""
    run = metrics.get("run", {})
    p = metrics.get("params", {})
    out = [f"# Judge report — {run.get('judge', '?')} on {run.get('benchmark', '?')}", ""]
    out.append(
        md_table(
            ["judge", "judge family", "benchmark", "settings", "mode", "prompt version"],
            [
                [
                    run.get("judge"),
                    run.get("judge_family") or "—",
                    run.get("benchmark"),
                    ", ".join(run.get("settings", [])),
                    run.get("mode"),
                    run.get("prompt_version"),
                ]
            ],
        )
    )
    for note in run.get("judge_notes") or []:  # what the judge is, said up front (e.g. random weights)
        out += ["", f"> **About this judge.** {note}"]
    out += [
        "",
        HOW_TO_READ,
        "",
        f"Bootstrap: {p.get('bootstrap')} resamples, {fmt(100 * float(p.get('ci', 0.95)), 0)}% "
        f"percentile intervals, seed {p.get('seed')}; inconsistent pair orders in headline numbers: "
        f"**{p.get('headline_policy')}**; repeat reducer: {p.get('reducer')}.",
        "",
    ]
    for setting, s in metrics.get("settings", {}).items():
        out += _setting_section(setting, s)
    cost = metrics.get("cost") or {}
    if cost.get("records"):
        out += [
            "## Cost",
            "",
            md_table(
                ["records", "prompt tokens", "completion tokens", "judge time (s)"],
                [
                    [
                        cost.get("records"),
                        fmt(cost.get("prompt_tokens"), 0),
                        fmt(cost.get("completion_tokens"), 0),
                        fmt(cost.get("latency_s"), 1),
                    ]
                ],
            ),
            "",
        ]
    out += _usage_section(metrics.get("usage") or {})
    out += _requests_section(run.get("requests") or {})
    notes = metrics.get("notes") or []
    out += ["## Notes", ""] + ([f"- {_no_html(str(n))}" for n in notes] if notes else ["- (none)"]) + [""]
    return "\n".join(out)


def _requests_section(r: Mapping[str, Any]) -> list[str]:
    """What the retry policy and the rate controller did (``run.json`` → ``requests``), for API judges whose
    requests met faults: tries, retries, transient faults by kind, units given up on (their ``api_error`` is
    counted under failures above) and the adaptive window."""
    if not r.get("retries") and not r.get("gave_up") and not (r.get("window") or {}).get("decreases"):
        return []
    faults = ", ".join(f"{k} × {v}" for k, v in (r.get("transient_faults") or {}).items()) or "none"
    w = r.get("window") or {}
    out = ["## Requests", "",
           f"{r.get('attempts', 0)} requests sent for this run's last launch, {r.get('retries', 0)} of them retries; "
           f"transient faults: {faults}; {r.get('gave_up', 0)} unit(s) still failing after the last try "
           "(recorded as `api_error`, judged again on resume)."]
    if w:
        out.append(f"Concurrency window (AIMD): at most {w.get('maximum')}, lowest {w.get('lowest')}, "
                   f"{w.get('decreases')} cut(s), {w.get('final')} at the end.")
    return [*out, ""]


def _parsing_line(p: Mapping[str, Any]) -> list[str]:
    """How the judge's text was read (strict-parse rate and rules), when any outcome came from text."""
    if not p.get("parsed_rows"):
        return []
    rules = ", ".join(f"{k} {v}" for k, v in (p.get("by_rule") or {}).items())
    return [f"Strict-parse rate: **{fmt(p.get('strict_parse_rate'))}** ({p.get('strict')} of "
            f"{p.get('parsed_rows')} parsed rows were exactly the prompt's JSON answer; by rule: {rules}).", ""]


def _setting_section(setting: str, s: Mapping[str, Any]) -> list[str]:
    main = s.get("headline_rubric")
    rub = s.get("rubrics", {})
    keys = KEY_METRICS.get(setting, ())
    c = s.get("counts", {})
    out = [
        f"## Setting: {setting}",
        "",
        f"{c.get('items', 0)} items, {c.get('judged_items', 0)} judged, {c.get('labelled_items', 0)} with "
        f"human labels. Headline rubric: **{main}**.",
        "",
    ]
    if main is None:
        return out
    sec = rub.get(main, {})
    pooled = sec.get("pooled", {})
    if pooled:
        rows = [["pooled", m, fmt_stat(st), fmt(st.get("n"))] for m, st in pooled.items()]
        rows += [["macro (task types)", m, fmt_stat(st), fmt(st.get("n"))] for m, st in sec.get("macro", {}).items()]
        rows += [["human ceiling", m, fmt_stat(st), fmt(st.get("n"))] for m, st in sec.get("human_ceiling", {}).items()]
        out += ["### Agreement with humans", "", md_table(["scope", "metric", "value [CI]", "n"], rows), ""]
    if len(rub) > 1:
        rows = [
            [
                rb,
                *[fmt_stat(r.get("pooled", {}).get(m)) for m in keys if m != "failure_rate"],
                fmt(r.get("failures", {}).get("failure_rate")),
            ]
            for rb, r in rub.items()
        ]
        out += [
            "### By rubric (pooled)",
            "",
            md_table(["rubric", *[m for m in keys if m != "failure_rate"], "failure_rate"], rows),
            "",
        ]
    f = sec.get("failures", {})
    out += [
        "### Coverage and failures",
        "",
        md_table(
            ["verdict rows", "verdicts", "failures", "coverage", *f.get("by_kind", {}).keys()],
            [
                [
                    f.get("rows"),
                    f.get("verdicts"),
                    f.get("failures"),
                    fmt(f.get("coverage")),
                    *f.get("by_kind", {}).values(),
                ]
            ],
        ),
        "",
    ]
    out += _parsing_line(s.get("parsing") or {})
    bd = sec.get("breakdowns", {})
    for gb, title in (
        ("family", "By family (MMU = text output, MMG = generation)"),
        ("task_type", "By task type"),
        ("input_modality", "By input modality"),
        ("output_modality", "By output modality"),
        ("modality_pair", "By modality pair"),
    ):
        if bd.get(gb):
            out += [f"### {title}", "", _group_table(bd[gb], keys), ""]
    for gb in sorted(k for k in bd if k.startswith("difficulty:") or k == "probe_family"):
        out += [f"### By {gb}", "", _group_table(bd[gb], keys), ""]
    if sec.get("inconsistent_policies"):
        pol = sec["inconsistent_policies"]
        ms = sorted({m for d in pol.values() for m in d})
        out += [
            "### Inconsistent orders: accuracy under each policy",
            "",
            md_table(["policy", *ms], [[p, *[fmt_stat(d.get(m)) for m in ms]] for p, d in pol.items()]),
            "",
        ]
    out += _bias_section(s.get("bias", {}), main)
    if sec.get("repeats"):
        r = sec["repeats"]
        st = r.get("stability", {})
        rows = [[k, fmt(v)] for k, v in st.items()]
        if "first_repeat" in r:
            rows += [
                ["headline metric, repeat 0 only", fmt_stat(r["first_repeat"])],
                ["headline metric, repeats reduced", fmt_stat(r["reduced"])],
            ]
        out += ["### Repeats", "", md_table(["quantity", "value"], rows), ""]
    if sec.get("model_rankings"):
        out += ["### Model ranking (Bradley–Terry from the judge's pair verdicts)", ""]
        for g, e in sec["model_rankings"].items():
            hum = {r["model"]: r for r in e.get("human", [])}
            rows = [
                [
                    r["rank"],
                    r["model"],
                    fmt_stat({"value": r["strength"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}),
                    r["games"],
                    fmt(r["win_rate"]),
                    fmt(hum[r["model"]]["strength"]) if r["model"] in hum else "—",
                ]
                for r in e.get("judge", [])
            ]
            rho = e.get("spearman")
            out += [
                f"**{g}**" + (f" — Spearman ρ judge vs human strengths: {fmt(rho)}" if rho is not None else ""),
                "",
                md_table(["rank", "model", "strength [CI]", "games", "win rate", "human strength"], rows),
                "",
            ]
    return out


def _bias_section(bias: Mapping[str, Any], rubric: str) -> list[str]:
    out: list[str] = []
    cm = (bias.get("cross_modality") or {}).get(rubric) or {}
    if cm.get("mmu_vs_mmg") or cm.get("tests"):
        rows = [
            [f"MMU − MMG gap: {m}", fmt_stat(g), "significant" if g.get("significant") else "—"]
            for m, g in cm.get("mmu_vs_mmg", {}).items()
        ]
        rows += [
            [
                f"{t['test']} across {col}",
                f"stat {fmt(t.get('statistic'))}",
                f"p = {fmt(t.get('p_value'), 4)}",
            ]
            for col, t in cm.get("tests", {}).items()
        ]
        out += ["### Cross-modality bias", "", md_table(["quantity", "value", "test"], rows), ""]
    pos = (bias.get("position") or {}).get(rubric) or {}
    if pos:
        rows = [
            ["records", fmt(pos.get("n_records"))],
            ["items judged in ≥ 2 orders", fmt(pos.get("both_orders"))],
        ]
        for k in ("consistency", "flip_rate", "tie_rate", "human_p_first", "mean_nlev_between_orders"):
            if k in pos:
                rows.append([k, fmt_stat(pos[k])])
        for k in ("p_prefer_slot", "p_rank1_given_slot"):
            for slot, st in pos.get(k, {}).items():
                rows.append([f"{k} {slot}", fmt_stat(st)])
        out += ["### Position bias", "", md_table(["quantity", "value"], rows), ""]
    sz = (bias.get("size") or {}).get(rubric) or {}
    if sz:
        feats = ({"primary": sz["primary"]} if "primary" in sz else {}) | sz.get("features", {})
        if feats:
            rows = [
                [f, d.get("n_pairs"), fmt_stat(d.get("p_prefer_larger")), fmt(d.get("human_p_prefer_larger"))]
                for f, d in feats.items()
            ]
            out += [
                "### Size / verbosity bias",
                "",
                "P(prefer larger) over pairs whose responses differ in the feature (judge ties left out); "
                "*primary* = text chars, audio/video duration, image pixels.",
                "",
                md_table(["feature", "pairs", "judge P(prefer larger)", "human"], rows),
                "",
            ]
        lc = sz.get("length_controlled")
        if lc:
            out += [
                "Length-controlled agreement (logistic regression of the judge's choice on the human "
                "preference and the standardised log size ratio, size term then set to 0 — after "
                "Dubois et al. 2024, length-controlled AlpacaEval):",
                "",
                md_table(
                    ["n", "size coef", "observed agreement", "model agreement", "LC agreement"],
                    [
                        [
                            lc["n"],
                            fmt(lc["size_coef"]),
                            fmt(lc["observed_agreement"]),
                            fmt(lc["model_agreement"]),
                            fmt(lc["lc_agreement"]),
                        ]
                    ],
                ),
                "",
            ]
        if sz.get("score_size_spearman"):
            rows = [[f, d["n"], fmt(d["judge"]), fmt(d["human"])] for f, d in sz["score_size_spearman"].items()]
            out += [
                "### Size / verbosity bias (scores)",
                "",
                md_table(["feature", "n", "Spearman ρ(judge score, log size)", "ρ(human score, log size)"], rows),
                "",
            ]
    sp = (bias.get("self_preference") or {}).get(rubric) or {}
    if sp:
        if not sp.get("judge_family"):
            out += ["### Self-preference", "", f"Not measured: {sp.get('note', 'unknown judge family')}.", ""]
        else:
            rows = [
                [k, fmt_stat(sp[k])]
                for k in (
                    "n_pairs",
                    "n_own",
                    "n_other",
                    "judge_rate",
                    "human_rate",
                    "difference",
                    "offset_own",
                    "offset_other",
                    "p_value",
                )
                if k in sp
            ]
            if "flagged" in sp:
                rows.append(["flagged", "**yes**" if sp["flagged"] else "no"])
            out += [
                f"### Self-preference (judge family: {sp['judge_family']})",
                "",
                md_table(["quantity", "value"], rows),
                "",
            ]
            if sp.get("test"):
                out += [f"Test: {sp['test']}.", ""]
    out += _injection_section((bias.get("prompt_injection") or {}).get(rubric) or {})
    return out


def _injection_section(inj: Mapping[str, Any]) -> list[str]:
    """The prompt-injection table: susceptibility, control rate and lift per output modality."""
    if not inj:
        return []
    rows = [[g, fmt_stat(d.get("susceptibility")), fmt_stat(d.get("control_rate")), fmt_stat(d.get("lift"))]
            for g, d in inj.get("by_modality", {}).items()]
    styles = [[s, fmt_stat(d.get("rate"))] for s, d in inj.get("by_style", {}).items()]
    return ["### Prompt-injection susceptibility", "",
            f"{inj.get('n_queries')} injection-probe queries. *Susceptibility*: share of presentations where "
            "the judge let the wrong candidate carrying an instruction aimed at it win (pair: chose it; score: "
            "gave it the demanded 5; batch: ranked it first); *control*: the same candidate with a neutral "
            "sentence instead; *lift* = susceptibility − control. CIs resample queries.", "",
            md_table(["output modality", "susceptibility", "control rate", "lift"], rows), "",
            md_table(["injection style", "rate"], styles), ""]


def _usd(x: Any) -> str:
    return "unknown (no price)" if x is None else f"${float(x):.4f}"


def _usage_section(u: Mapping[str, Any]) -> list[str]:
    """Token usage, cost and spend by input modality, the price used, and the model snapshots that answered."""
    if not u.get("verdicts"):
        return []
    price = u.get("price") or {}
    where = (f"{price.get('model_pattern')} in {price.get('source')}" if price.get("model_pattern")
             else price.get("source"))
    rows = []
    for label, d in [("all", u), *sorted((u.get("by_modality") or {}).items())]:
        t = d.get("tokens") or {}
        rows.append([label, d.get("verdicts"), d.get("cached"), fmt(t.get("prompt_tokens"), 0),
                     fmt(t.get("completion_tokens"), 0), _usd(d.get("cost_usd")), _usd(d.get("spent_usd"))])
    out = ["## Usage and cost", "",
           f"Price: {', '.join(f'{k} {v}' for k, v in price.items() if k.endswith('_mtok'))} USD per million tokens"
           f" ({_no_html(str(where))})." if price else "Price: none known for this judge (cost.price or "
           "conf/prices.yaml); costs are unknown, not zero.",
           "`cost` is what the verdicts cost at that price; `spent` leaves out the answers served from the judge "
           "cache (no call this run).", "",
           md_table(["input modality", "verdicts", "from cache", "prompt tokens", "completion tokens", "cost",
                     "spent"], rows), ""]
    details = {k: v for k, v in (u.get("tokens") or {}).items() if k not in ("prompt_tokens", "completion_tokens")}
    if details:
        out += ["Reported token details: " + ", ".join(f"{k} {fmt(v, 0)}" for k, v in sorted(details.items())), ""]
    snaps = u.get("snapshots") or {}
    if snaps:
        out += ["Model snapshots that answered: " + ", ".join(f"`{_no_html(k)}` ×{v}" for k, v in
                                                               sorted(snaps.items())), ""]
    return out


def write_report(run_dir: Path | str, metrics: Mapping[str, Any]) -> Path:
    """Write ``report.md`` (from a metrics dict) into ``run_dir``; returns its path."""
    path = Path(run_dir) / REPORT_MD
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(render_report(metrics), encoding="utf-8")
    tmp.replace(path)
    return path
