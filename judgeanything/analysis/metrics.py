"""Assemble all analyses of one run directory into ``metrics.json`` and a tidy ``metrics.csv``.

``metrics.csv`` — one row per number; the columns (stable; the HTML report and plots read them):

    judge, benchmark, setting, mode, rubric, group_by, group, metric, value, ci_low, ci_high, n

* ``rubric``: a rubric name (``overall``, ``relevance``, …) or ``all`` (every (item × rubric) unit pooled;
  only when a run has ≥ 2 rubrics; its CIs treat the units as independent).
* ``group_by`` / ``group``:
  - ``pooled`` / ``all`` — every judged item. Agreement metrics (:mod:`.agreement`), plus ``coverage``,
    ``failure_rate`` and ``failures:<kind>`` (value = count, n = verdict rows attempted);
  - ``macro`` / ``task_type`` — the unweighted mean over task types (CI: mean of per-task replicates, a
    bootstrap stratified by task type);
  - ``task_type``, ``input_modality`` (non-text inputs joined by ``+``; ``text`` for Text2X),
    ``output_modality``, ``family`` (``mmu``/``mmg``), ``modality_pair`` (``image→text``),
    ``difficulty:<knob>`` (item ``meta["difficulty"]``), ``probe_family`` (item ``meta["family"]``) —
    the same metrics per group, with ``failure_rate`` / ``coverage``;
  - ``human_ceiling`` / ``all`` — each annotator vs the consensus of the others (≥ 2 annotators);
  - ``inconsistent_policy`` / ``tie|drop|average`` — pair accuracies when inconsistent orders are counted
    as a tie, dropped or averaged (only when some item was judged in both orders);
  - ``repeats`` / ``first_repeat|reduced`` — the primary metric on repeat 0 only vs on reduced repeats;
    ``repeats`` / ``stability`` — ``all_same_rate``, ``mean_mode_share``, ``mean_variance``, ``mean_std``;
  - ``mmu_vs_mmg`` / ``mmu-mmg`` — the family gap of the primary metric (and ``offset`` for scores);
  - ``position`` / ``all`` — ``consistency``, ``flip_rate``, ``p_prefer_slot_<k>``,
    ``p_rank1_given_slot_<k>``, ``tie_rate``, ``mean_nlev_between_orders``;
  - ``size:<feature>`` / ``all`` — ``p_prefer_larger``, ``human_p_prefer_larger`` (feature ``primary``:
    text chars, audio/video duration, image pixels); ``size:<feature>`` / ``ratio[lo,hi)`` —
    ``p_judge_larger``, ``p_human_larger``; ``length_controlled`` / ``primary`` — ``size_coef``,
    ``observed_agreement``, ``model_agreement``, ``lc_agreement``;
    ``size_spearman:<feature>`` / ``judge|human``;
  - ``self_preference`` / ``<family>`` — ``judge_rate``, ``human_rate``, ``difference``, ``flagged`` (0/1),
    ``p_value``; scores: ``offset_own``, ``offset_other``, ``difference``;
  - ``modality_test:<grouping>`` / ``kruskal|chi2`` — ``statistic``, ``p_value``;
  - ``model_ranking:<pooled|task type>`` / ``judge|human`` — ``bt:<model>`` strengths (with CIs) and
    ``spearman_judge_vs_human`` (group ``both``);
  - ``distribution`` / ``judge|human`` — ``count:<value>`` (score values and pair choices);
  - ``prompt_injection`` / ``<output modality>|all`` — ``susceptibility`` (the injected wrong candidate
    wins), ``control_rate`` (the same candidate without the injection wins), ``lift`` (their difference);
    ``prompt_injection_style`` / ``<style>`` — ``rate`` per injection style (``none`` = control); n =
    presentations, CIs resample queries (:mod:`.injection`);
  - ``cost`` / ``all`` — ``records``, ``prompt_tokens``, ``completion_tokens``, ``latency_s`` (sums over
    the run's records; these rows have ``setting`` and ``rubric`` ``*``).

``metrics.json`` holds the same numbers nested: ``{"format", "run", "params", "settings": {setting:
{"counts", "coverage", "rubrics": {rubric: {"pooled", "macro", "breakdowns", "human_ceiling",
"inconsistent_policies", "repeats", "failures"}}, "bias": {"cross_modality", "position", "size",
"self_preference", "prompt_injection"}, "model_rankings", "distribution"}}, "cost", "notes"}`` (stat = ``{value, ci_low,
ci_high, n}``; NaN is written as null).

Both files are views of one :class:`~judgeanything.analysis.table.MetricTable`: :func:`compute_table` runs the
section functions of :mod:`judgeanything.analysis.sections` (one per family of statistics, each
``(frames, options) -> rows``) for every (setting, rubric); each row is one statistic with its ``metrics.csv``
cells and its place in ``metrics.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from judgeanything.analysis.bias import judge_family
from judgeanything.analysis.load import RunData, load_run, run_field
from judgeanything.analysis.markdown import write_report
from judgeanything.analysis.options import METRICS_JSON, AnalysisOptions
from judgeanything.analysis.parsing_stats import parse_stats
from judgeanything.analysis.reference import (
    REFERENCE_JSON,
    reference_markdown,
    run_reference_check,
    write_reference_check,
)
from judgeanything.analysis.sections import BREAKDOWNS as BREAKDOWNS
from judgeanything.analysis.sections import RUBRIC_SECTIONS, RubricFrames
from judgeanything.analysis.table import CSV_COLUMNS as CSV_COLUMNS
from judgeanything.analysis.table import CsvKey, JsonPath, MetricRow, MetricTable, Rows, View
from judgeanything.analysis.units import combine_orders, human_labels, reduce_repeats
from judgeanything.jsonsafe import json_safe
from judgeanything.usage import counted_usage, drift_warnings, run_usage

METRICS_CSV = "metrics.csv"
FORMAT = "judgeanything.metrics/1"


def resolve_options(options: AnalysisOptions | None, overrides: Mapping[str, Any]) -> AnalysisOptions:
    """``options`` (default: :class:`AnalysisOptions`' defaults) with ``overrides`` (option name → value) applied.

    Raises:
        TypeError: an override that is not an analysis option.
        ValueError: a bad value.
    """
    base = options if options is not None else AnalysisOptions()
    unknown = sorted(set(overrides) - set(base.to_params()))
    if unknown:
        raise TypeError(f"unknown analysis option(s) {', '.join(unknown)}")
    if not overrides:
        return base
    return AnalysisOptions.from_mapping({**base.to_params(), **overrides})


def judge_names(data: RunData) -> list[str | None]:
    """Every name the run gives its judge (config name, model ids in the judge's config, verdicts' models) —
    what the self-preference family is read from."""
    run = data.run
    names: list[str | None] = [data.judge_name, run_field(run, "model", data.verdicts)]
    for k in ("judge", "judge_fingerprint"):  # dicts of the judge's config: model ids live there
        if isinstance(run.get(k), dict):
            names += [str(x) for x in run[k].values() if isinstance(x, str)]
        elif isinstance(run.get(k), str):
            names.append(run[k])
    names += [str(x) for x in data.verdicts["model"].dropna().unique()] if len(data.verdicts) else []
    return names


def run_rows(data: RunData, opt: AnalysisOptions, judge_fam: str | None) -> list[MetricRow]:
    """``format``, ``run`` (judge, family, benchmark, mode, prompt version, settings, notes of the judge,
    request counters) and ``params`` (the analysis options)."""
    run = data.run
    b = Rows("*", "*")
    b.put(("format",), FORMAT)
    b.tree(("run",), {"judge": data.judge_name, "judge_family": judge_fam,
                      "benchmark": run_field(run, "benchmark", None), "mode": run_field(run, "mode", data.verdicts),
                      "prompt_version": run_field(run, "prompt_version", data.verdicts),
                      "settings": data.settings, "run_dir": str(data.run_dir),
                      "judge_notes": [str(n) for n in (run.get("judge_notes") or [])],
                      "judge_kind": run.get("judge_kind"),
                      **({"requests": run["requests"]} if isinstance(run.get("requests"), dict) else {})})
    b.tree(("params",), opt.to_params())
    b.put(("settings",), {})
    return b.rows


def setting_rubrics(data: RunData, setting: str) -> list[str]:
    """The rubrics judged in ``setting``, ``overall`` first, then by name."""
    vs = data.verdicts[data.verdicts["setting"] == setting]
    return sorted(vs["rubric"].unique(), key=lambda r: (r != "overall", r))


def setting_frames(data: RunData, setting: str, opt: AnalysisOptions, humans: pd.DataFrame,
                   judge_fam: str | None) -> list[RubricFrames]:
    """The frames of each rubric of ``setting`` (``overall`` first), and of ``all`` (every rubric pooled, no
    model rankings) when there are ≥ 2; ``humans``: the run's consensus labels."""
    vs = data.verdicts[data.verdicts["setting"] == setting]
    frames: list[RubricFrames] = []
    for rb in setting_rubrics(data, setting):
        v = vs[vs["rubric"] == rb]
        po = reduce_repeats(v, setting, opt.reducer)
        frames.append(RubricFrames(setting, rb, v, po, combine_orders(po, setting, opt.headline_policy),
                                   humans[humans["rubric"] == rb], data.items, judge_fam))
    if len(frames) > 1:
        v, po, u, h = (pd.concat([getattr(f, a) for f in frames], ignore_index=True)
                       for a in ("verdicts", "per_order", "units", "humans"))
        frames.append(RubricFrames(setting, "all", v, po, u, h, data.items, judge_fam, rankings=False))
    return frames


def setting_humans(data: RunData, setting: str, humans: pd.DataFrame) -> pd.DataFrame:
    """The consensus labels of the setting's items (those of the setting and those judged in it)."""
    ids = set(data.items.loc[data.items["setting"] == setting, "item_id"])
    ids |= set(data.verdicts.loc[data.verdicts["setting"] == setting, "item_id"])
    return humans[humans["item_id"].isin(ids)]


def setting_notes(setting: str, rubrics: list[str], humans: pd.DataFrame) -> list[str]:
    """Notes on what a setting's numbers mean: the pooled rubric, missing human labels."""
    notes = []
    if len(rubrics) > 1:
        notes.append(f"{setting}: rubric 'all' pools every (item × rubric) unit of {len(rubrics)} rubrics; "
                     "its CIs treat those units as independent.")
    if humans.empty:
        notes.append(f"{setting}: no human labels — agreement metrics are not computed.")
        return notes
    unlabelled = [rb for rb in rubrics if humans[humans["rubric"] == rb].empty]
    if unlabelled:
        have = sorted(set(humans["rubric"]))
        notes.append(f"{setting}: no human labels for rubric(s) {', '.join(unlabelled)} (labels exist for "
                     f"{', '.join(have)}), so their agreement is blank; their verdicts, failures and "
                     "biases are still reported.")
    return notes


def setting_head(data: RunData, setting: str, humans: pd.DataFrame) -> list[MetricRow]:
    """The setting's item counts and its (then empty) ``rubrics`` and ``bias`` sections."""
    at: JsonPath = ("settings", setting)
    b = Rows(setting, "*")
    judged = data.verdicts.loc[data.verdicts["setting"] == setting, "item_id"]
    b.tree((*at, "counts"), {"items": int((data.items["setting"] == setting).sum()),
                             "judged_items": judged.nunique(), "labelled_items": int(humans["item_id"].nunique())})
    b.put((*at, "rubrics"), {})
    b.put((*at, "bias"), {})
    return b.rows


def setting_tail(data: RunData, setting: str, rubrics: list[str]) -> list[MetricRow]:
    """The headline rubric (``overall``, else ``all``, else the first), its failures as the setting's
    ``coverage``, and how the verdicts were parsed (``strict_parse_rate``, rubric ``*`` in ``metrics.csv``)."""
    at: JsonPath = ("settings", setting)
    main = "overall" if "overall" in rubrics else ("all" if "all" in rubrics else next(iter(rubrics), None))
    b = Rows(setting, "*")
    b.put((*at, "headline_rubric"), main)
    if main is not None:
        b.put((*at, "coverage"), View((*at, "rubrics", main, "failures")))
    parsing = parse_stats(data.verdicts[data.verdicts["setting"] == setting])
    b.tree((*at, "parsing"), parsing,
           lambda sub, node, _: CsvKey("pooled", "all", "strict_parse_rate", n=parsing["parsed_rows"])
           if sub == ("strict_parse_rate",) else None)
    return b.rows


def cost_rows(records: pd.DataFrame) -> list[MetricRow]:
    """Sums over the run's records: ``records``, ``prompt_tokens``, ``completion_tokens``, ``latency_s``."""
    has = len(records) > 0
    cost = {"records": len(records)} | {
        k: float(records[k].sum(min_count=1)) if has else None
        for k in ("prompt_tokens", "completion_tokens", "latency_s")}
    b = Rows("*", "*")
    b.tree(("cost",), cost, lambda sub, node, _: CsvKey("cost", "all", str(sub[0]))
           if node is not None and not (isinstance(node, float) and math.isnan(node)) else None)
    return b.rows


def compute_table(data: RunData, options: AnalysisOptions | None = None, **overrides: Any) -> MetricTable:
    """Every statistic of a loaded run as one :class:`~judgeanything.analysis.table.MetricTable` (arguments as
    in :func:`compute_metrics`): run / params rows, per setting its counts, each rubric's
    :data:`~judgeanything.analysis.sections.RUBRIC_SECTIONS` and its parsing, then the cost and the notes."""
    opt = resolve_options(options, overrides)
    run = data.run
    judge_fam = judge_family(judge_names(data), opt.family_map)
    table = MetricTable(columns={"judge": data.judge_name, "benchmark": run_field(run, "benchmark", None),
                                 "mode": run_field(run, "mode", data.verdicts)})
    notes = [str(n) for n in (run.get("notes") or [])]
    if data.set_aside_note():
        notes.append(str(data.set_aside_note()))
    table.add(run_rows(data, opt, judge_fam))
    humans = human_labels(data.labels, data.items)
    for setting in data.settings:
        hs = setting_humans(data, setting, humans)
        frames = setting_frames(data, setting, opt, hs, judge_fam)
        notes += setting_notes(setting, setting_rubrics(data, setting), hs)
        table.add(setting_head(data, setting, hs))
        for f in frames:
            for section in RUBRIC_SECTIONS:
                table.add(section(f, opt))
        table.add(setting_tail(data, setting, [f.rubric for f in frames]))
    table.add(cost_rows(data.records))
    tail = Rows("*", "*")
    tail.tree(("notes",), notes)
    table.add(tail.rows)
    return table


def compute_metrics(data: RunData, options: AnalysisOptions | None = None,
                    **overrides: Any) -> tuple[dict[str, Any], pd.DataFrame]:
    """All metrics of a loaded run (see module docstring for what is computed and how it is laid out).

    Args:
        data: a loaded run.
        options: how to analyse (:class:`~judgeanything.analysis.options.AnalysisOptions`; default: its
            defaults); saved in the result's ``params``.
        overrides: single options replaced, by name (``bootstrap=0``).

    Returns:
        (metrics dict, tidy DataFrame with :data:`CSV_COLUMNS`) — both views of one
        :func:`compute_table`: the dict is :meth:`MetricTable.to_json`, the frame :meth:`MetricTable.frame`.

    Raises:
        ValueError: an unknown policy or reducer, or ``ci`` outside (0, 1).
    """
    table = compute_table(data, options, **overrides)
    return table.to_json(), table.frame()


def analyze_run(run_dir: Path | str, options: AnalysisOptions | None = None, *, data: RunData | None = None,
                **overrides: Any) -> dict[str, Any]:
    """Analyse one run directory: write ``metrics.json``, ``metrics.csv``, ``report.md`` and, for a ``random``
    reference baseline, ``reference_check.json`` (its section closes ``report.md``).

    Arguments as in :func:`compute_metrics` (``options`` default to :class:`AnalysisOptions`' defaults; a run's
    own are :meth:`AnalysisOptions.of_run`); ``data``: the run already loaded by :func:`load_run` (saves a
    second read of the run log when the caller needs it too).

    Returns:
        the metrics dict, equal to what ``metrics.json`` reads back as (JSON types only).

    Raises:
        StoreError / SchemaError: unreadable or malformed run files (naming file and line);
        ValueError: bad parameters.
    """
    run_dir = Path(run_dir)
    data = load_run(run_dir) if data is None else data
    opt = resolve_options(options, overrides)
    metrics, df = compute_metrics(data, opt)
    metrics = {**metrics, "usage": _usage(run_dir, data)}
    metrics["notes"] = list(metrics.get("notes") or []) + drift_warnings(metrics["usage"],
                                                                          str(data.run.get("judge") or "?"))
    metrics = json_safe(metrics)  # what metrics.json holds, so callers need not read the file back
    write_metrics(run_dir, metrics, df)
    report = write_report(run_dir, metrics)
    rows = run_reference_check(data, opt.ci)
    if rows:
        write_reference_check(run_dir, rows)
        with report.open("a", encoding="utf-8") as f:
            f.write(reference_markdown(data.judge_name, rows, opt.ci))
    else:
        (run_dir / REFERENCE_JSON).unlink(missing_ok=True)  # never a stale check beside new metrics
    return metrics


def _usage(run_dir: Path, data: RunData) -> dict[str, Any]:
    """Tokens, cost (at the price ``run.json`` recorded), cache hits and model snapshots of the counted
    verdict records, in total and by input modality (:func:`judgeanything.usage.counted_usage`), from the rows
    :func:`load_run` kept (the log is read again only for a :class:`RunData` built without them)."""
    modality_of = dict(zip(data.items["item_id"], data.items["input_modality"], strict=True))
    if data.usage_records is not None:
        return json_safe(counted_usage(data.usage_records, data.run, modality_of))
    return json_safe(run_usage(run_dir, data.records["line"], data.run, modality_of))


def write_metrics(run_dir: Path, metrics: Mapping[str, Any], df: pd.DataFrame) -> tuple[Path, Path]:
    """Write ``metrics.json`` and ``metrics.csv`` atomically; returns their paths."""
    run_dir = Path(run_dir)
    jp, cp = run_dir / METRICS_JSON, run_dir / METRICS_CSV
    tmp = jp.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(json_safe(dict(metrics)), indent=1, ensure_ascii=False, allow_nan=False),
                   encoding="utf-8")
    tmp.replace(jp)
    tmp = cp.with_suffix(".csv.tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(cp)
    return jp, cp


def read_metrics_csv(path: Path | str) -> pd.DataFrame:
    """Read a ``metrics.csv`` back (group labels and metric names stay strings)."""
    df = pd.read_csv(path, dtype={"group": str, "group_by": str, "metric": str, "rubric": str,
                                  "setting": str, "judge": str, "benchmark": str, "mode": str},
                     keep_default_na=False,
                     na_values={"value": [""], "ci_low": [""], "ci_high": [""], "n": [""]})
    df["n"] = df["n"].astype("Int64")
    return df
