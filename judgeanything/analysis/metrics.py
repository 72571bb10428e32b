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
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from judgeanything.analysis.agreement import PRIMARY, Stat, agreement, ceiling_pairs
from judgeanything.analysis.bias import (
    gap,
    judge_family,
    modality_tests,
    position_bias,
    self_preference,
    size_bias,
)
from judgeanything.analysis.bootstrap import make_stat, rng_for
from judgeanything.analysis.injection import injection_susceptibility
from judgeanything.analysis.load import RunData, load_run, run_field
from judgeanything.analysis.markdown import write_report
from judgeanything.analysis.options import METRICS_JSON, AnalysisOptions
from judgeanything.analysis.parsing_stats import parse_stats
from judgeanything.analysis.ranking import model_rankings
from judgeanything.analysis.reference import (
    REFERENCE_JSON,
    reference_markdown,
    run_reference_check,
    write_reference_check,
)
from judgeanything.analysis.repeats import repeat_stats
from judgeanything.analysis.units import (
    attach_items,
    combine_orders,
    human_labels,
    join,
    reduce_repeats,
)
from judgeanything.schema import FAILURE_KINDS
from judgeanything.usage import drift_warnings, run_usage

METRICS_CSV = "metrics.csv"
CSV_COLUMNS = ["judge", "benchmark", "setting", "mode", "rubric", "group_by", "group", "metric", "value",
               "ci_low", "ci_high", "n"]
FORMAT = "judgeanything.metrics/1"
#: item column → group_by name of the breakdowns.
BREAKDOWNS = {"task_name": "task_type", "input_modality": "input_modality",
              "output_modality": "output_modality", "family": "family", "modality_pair": "modality_pair"}


class _Rows:
    """Collects tidy metric rows."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.ctx: dict[str, Any] = {}

    def add(self, group_by: str, group: str, metric: str, value: Any, ci_low: Any = None, ci_high: Any = None,
            n: Any = None) -> None:
        self.rows.append({**self.ctx, "group_by": group_by, "group": str(group), "metric": metric,
                          "value": _num(value), "ci_low": _num(ci_low), "ci_high": _num(ci_high),
                          "n": None if n is None else int(n)})

    def stats(self, group_by: str, group: str, d: Mapping[str, Any], prefix: str = "") -> None:
        for m, s in d.items():
            if isinstance(s, Stat):
                self.add(group_by, group, prefix + m, s.value, s.ci_low, s.ci_high, s.n)
            elif isinstance(s, dict) and "value" in s:
                self.add(group_by, group, prefix + m, s.get("value"), s.get("ci_low"), s.get("ci_high"),
                         s.get("n"))
            elif isinstance(s, (int, float, bool, np.number)) and not isinstance(s, str):
                self.add(group_by, group, prefix + m, s)


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, str):
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _sd(d: Mapping[str, Stat]) -> dict[str, Any]:
    return {m: s.as_dict() for m, s in d.items()}


def clean_json(o: Any) -> Any:
    """Recursively make ``o`` JSON-safe: NaN/inf → None, numpy scalars → Python, tuples → lists."""
    if isinstance(o, dict):
        return {str(k): clean_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [clean_json(v) for v in o]
    if isinstance(o, (np.bool_, bool)):
        return bool(o)
    if isinstance(o, (np.integer, int)):
        return int(o)
    if isinstance(o, (np.floating, float)):
        return float(o) if math.isfinite(float(o)) else None
    if isinstance(o, np.ndarray):
        return clean_json(o.tolist())
    return o


def _agree(setting: str, joined: pd.DataFrame, n_boot: int, ci: float, rng: np.random.Generator
           ) -> dict[str, Stat]:
    if joined.empty:
        return {}
    expected = joined["expected"].to_numpy(dtype=np.float64) if setting == "score" else None
    judge = list(joined["value"])
    human = list(joined["human"])
    if setting == "score":
        judge = [float(v) for v in judge]
        human = [float(v) for v in human]
    return agreement(setting, judge, human, expected=expected, n_boot=n_boot, ci=ci, rng=rng)


def _groups(frame: pd.DataFrame) -> list[tuple[str, str, pd.Series]]:
    """(group_by, group, boolean mask) for every breakdown present in ``frame``."""
    out: list[tuple[str, str, pd.Series]] = []
    if frame.empty:
        return out
    for col, gb in BREAKDOWNS.items():
        for g in sorted(frame[col].dropna().unique()):
            out.append((gb, str(g), frame[col] == g))
    metas = frame["meta"]
    knobs = sorted({k for m in metas if isinstance(m, dict) and isinstance(m.get("difficulty"), dict)
                    for k in m["difficulty"]})
    for k in knobs:
        vals = metas.map(lambda m, k=k: _scalar(m.get("difficulty", {}).get(k))
                          if isinstance(m, dict) else None)
        for g in sorted(vals.dropna().unique(), key=_sort_key):
            out.append((f"difficulty:{k}", str(g), vals == g))
    fams = metas.map(lambda m: m.get("family") if isinstance(m, dict) and isinstance(m.get("family"), str)
                     else None)
    for g in sorted(fams.dropna().unique()):
        out.append(("probe_family", str(g), fams == g))
    return out


def _scalar(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool)) else (None if v is None else json.dumps(v))


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float)) else (1, str(v))


def _failures(v: pd.DataFrame, items: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    """Failure counts of verdict rows, pooled; and rows with item attributes for per-group rates."""
    n = len(v)
    nf = int(v["failure"].notna().sum())
    counts = {k: int((v["failure"] == k).sum()) for k in FAILURE_KINDS if (v["failure"] == k).any()}
    pooled = {"rows": n, "verdicts": n - nf, "failures": nf,
              "coverage": (n - nf) / n if n else math.nan, "failure_rate": nf / n if n else math.nan,
              "by_kind": counts}
    return pooled, attach_items(v[["item_id", "failure"]], items)


def _rubric_analysis(setting: str, rubric: str, v: pd.DataFrame, per_order: pd.DataFrame,
                     units: pd.DataFrame, humans: pd.DataFrame, data: RunData, rows: _Rows, *,
                     n_boot: int, ci: float, seed: int, policies: tuple[str, ...], primary_policy: str,
                     reducer: str, families: Mapping[str, str] | None, judge_fam: str | None,
                     do_rankings: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Everything for one (setting, rubric). Returns (rubric section, bias section)."""
    items = data.items
    sec: dict[str, Any] = {}
    bias: dict[str, Any] = {}
    joined = join(units, humans, items) if not humans.empty else pd.DataFrame()
    sec["n_units"] = len(units)
    sec["n_joined"] = len(joined)
    # failures
    fail, fail_rows = _failures(v, items)
    sec["failures"] = fail
    rows.add("pooled", "all", "coverage", fail["coverage"], n=fail["rows"])
    rows.add("pooled", "all", "failure_rate", fail["failure_rate"], n=fail["rows"])
    for k, c in fail["by_kind"].items():
        rows.add("pooled", "all", f"failures:{k}", c, n=fail["rows"])
    # agreement, pooled
    pooled = _agree(setting, joined, n_boot, ci, rng_for(seed, setting, rubric, "pooled"))
    sec["pooled"] = _sd(pooled)
    rows.stats("pooled", "all", pooled)
    # breakdowns
    breakdowns: dict[str, dict[str, Any]] = {}
    per_task: dict[str, dict[str, Stat]] = {}
    gstats: dict[tuple[str, str], dict[str, Stat]] = {}
    fail_groups = {(gb, g): m for gb, g, m in _groups(fail_rows)}
    for gb, g, mask in _groups(joined):
        st = _agree(setting, joined[mask.to_numpy()], n_boot, ci, rng_for(seed, setting, rubric, gb, g))
        gstats[(gb, g)] = st
        if gb == "task_type":
            per_task[g] = st
        d = _sd(st)
        rows.stats(gb, g, st)
        fm = fail_groups.get((gb, g))
        if fm is not None and fm.any():
            f = fail_rows[fm.to_numpy()]
            rate = float(f["failure"].notna().mean())
            d["failure_rate"] = {"value": rate, "ci_low": None, "ci_high": None, "n": len(f)}
            rows.add(gb, g, "failure_rate", rate, n=len(f))
            rows.add(gb, g, "coverage", 1 - rate, n=len(f))
        breakdowns.setdefault(gb, {})[g] = d
    for (gb, g), fm in fail_groups.items():  # groups where every verdict failed
        if g not in breakdowns.get(gb, {}) and fm.any():
            f = fail_rows[fm.to_numpy()]
            rate = float(f["failure"].notna().mean())
            breakdowns.setdefault(gb, {})[g] = {
                "failure_rate": {"value": rate, "ci_low": None, "ci_high": None, "n": len(f)}}
            rows.add(gb, g, "failure_rate", rate, n=len(f))
            rows.add(gb, g, "coverage", 1 - rate, n=len(f))
    sec["breakdowns"] = breakdowns
    # macro over task types
    if per_task:
        macro: dict[str, Stat] = {}
        for m in next(iter(per_task.values())):
            vals = np.array([t[m].value for t in per_task.values() if m in t])
            reps = [t[m].reps for t in per_task.values() if m in t and t[m].reps.size]
            ok = np.isfinite(vals)
            if not ok.any():
                continue
            r = np.empty(0)
            if reps and len({x.size for x in reps}) == 1:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # a replicate NaN in every task
                    r = np.nanmean(np.vstack(reps), axis=0)
            macro[m] = make_stat(float(np.mean(vals[ok])), r, int(ok.sum()), ci)
        sec["macro"] = _sd(macro)
        rows.stats("macro", "task_type", macro)
    # human ceiling
    if not humans.empty and (humans["n_annotators"] >= 2).any():
        a, b = ceiling_pairs(setting, list(humans["annotator_values"]))
        if setting == "score":
            a, b = [float(x) for x in a], [float(x) for x in b]
        hc = agreement(setting, a, b, n_boot=n_boot, ci=ci, rng=rng_for(seed, setting, rubric, "ceiling"))
        sec["human_ceiling"] = _sd(hc)
        rows.stats("human_ceiling", "all", hc)
    # inconsistent-pair policies side by side
    if setting == "pair" and not joined.empty and (units["n_orders"] > 1).any():
        pol: dict[str, Any] = {}
        for p in policies:
            u = units if p == primary_policy else combine_orders(per_order, setting, p)
            st = _agree(setting, join(u, humans, items), n_boot, ci,
                        rng_for(seed, setting, rubric, "policy", p))
            keep: dict[str, Stat] = {m: st[m] for m in ("accuracy_with_tie", "accuracy_without_tie", "tie_rate")
                                     if m in st}
            pol[p] = _sd(keep)
            rows.stats("inconsistent_policy", p, keep)
        sec["inconsistent_policies"] = pol
    # repeats
    if (v["repeat"] > 0).any():
        rs = repeat_stats(v, setting)
        sec["repeats"] = {"stability": rs}
        rows.stats("repeats", "stability", {k: x for k, x in rs.items() if k != "n_units"})
        if not joined.empty:
            first = combine_orders(reduce_repeats(v[v["repeat"] == 0], setting, reducer), setting,
                                   primary_policy)
            m = PRIMARY[setting]
            st0 = _agree(setting, join(first, humans, items), n_boot, ci,
                         rng_for(seed, setting, rubric, "rep0"))
            if m in st0 and m in pooled:
                sec["repeats"]["first_repeat"] = st0[m].as_dict()
                sec["repeats"]["reduced"] = pooled[m].as_dict()
                rows.stats("repeats", "first_repeat", {m: st0[m]})
                rows.stats("repeats", "reduced", {m: pooled[m]})
    # distribution of judge (and human) values
    if setting in ("pair", "score") and not units.empty:
        dist = {"judge": _counts(units["value"])}
        if not humans.empty:
            dist["human"] = _counts(humans["human"])
        sec["distribution"] = dist
        for who, c in dist.items():
            for val, k in c.items():
                rows.add("distribution", who, f"count:{val}", k)
    # ---- biases
    fam_stats = {g: gstats.get(("family", g)) for g in ("mmu", "mmg")}
    cm: dict[str, Any] = {"groups": {}}
    for gb in ("task_type", "input_modality", "output_modality"):
        cm["groups"][gb] = {g: {k: d.get(k) for k in (PRIMARY[setting], "offset", "tie_rate", "failure_rate")
                                if k in d} for g, d in breakdowns.get(gb, {}).items()}
    if fam_stats["mmu"] and fam_stats["mmg"]:
        gaps = {}
        for m in (PRIMARY[setting], "offset"):
            if m in fam_stats["mmu"] and m in fam_stats["mmg"]:
                gaps[m] = gap(fam_stats["mmu"][m], fam_stats["mmg"][m], ci)
                rows.add("mmu_vs_mmg", "mmu-mmg", m, gaps[m]["value"], gaps[m]["ci_low"], gaps[m]["ci_high"],
                         gaps[m]["n"])
        cm["mmu_vs_mmg"] = gaps
    tests = modality_tests(joined, setting)
    cm["tests"] = tests
    for col, t in tests.items():
        rows.add(f"modality_test:{col}", t["test"], "statistic", t.get("statistic"))
        rows.add(f"modality_test:{col}", t["test"], "p_value", t.get("p_value"))
    bias["cross_modality"] = cm
    pos = position_bias(per_order, setting, humans=humans if not humans.empty else None, n_boot=n_boot, ci=ci,
                        seed=seed)
    if pos:
        bias["position"] = pos
        flat = {k: x for k, x in pos.items() if k in ("consistency", "flip_rate", "tie_rate",
                                                     "mean_nlev_between_orders", "human_p_first")}
        for k in ("p_prefer_slot", "p_rank1_given_slot"):
            for slot, x in pos.get(k, {}).items():
                flat[f"{k}_{slot}"] = x
        rows.stats("position", "all", flat)
    full = attach_items(units, items)
    if not humans.empty:
        full = full.merge(humans[["item_id", "rubric", "human"]], on=["item_id", "rubric"], how="left")
    sz = size_bias(full, setting, n_boot=n_boot, ci=ci, seed=seed)
    if sz:
        bias["size"] = sz
        feats = {"primary": sz["primary"]} if "primary" in sz else {}
        feats.update(sz.get("features", {}))
        for f, d in feats.items():
            rows.stats(f"size:{f}", "all", {k: d[k] for k in ("p_prefer_larger", "human_p_prefer_larger")
                                             if k in d and d[k] is not None})
            for b in d.get("by_ratio", []):
                hi = "inf" if b["ratio_high"] is None else f"{b['ratio_high']:g}"
                rows.stats(f"size:{f}", f"ratio[{b['ratio_low']:g},{hi})",
                           {k: b[k] for k in ("p_judge_larger", "p_human_larger") if b.get(k) is not None},
                           )
        if "length_controlled" in sz:
            lc = sz["length_controlled"]
            rows.stats("length_controlled", "primary", {k: x for k, x in lc.items() if k != "n"})
        for f, d in sz.get("score_size_spearman", {}).items():
            rows.stats(f"size_spearman:{f}", "all", {k: d[k] for k in ("judge", "human") if d[k] is not None})
    if setting in ("pair", "score"):
        has_h = "human" in full.columns
        sp_units = full if setting == "pair" else (full[full["human"].notna()] if has_h else full.iloc[0:0])
        sp = self_preference(sp_units, setting, judge_fam, families, n_boot=n_boot, ci=ci, seed=seed)
        bias["self_preference"] = sp
        if sp.get("judge_family"):
            flat = {k: sp[k] for k in ("judge_rate", "human_rate", "difference", "offset_own", "offset_other",
                                       "p_value", "n_pairs") if sp.get(k) is not None}
            if "flagged" in sp:
                flat["flagged"] = float(sp["flagged"])
            rows.stats("self_preference", sp["judge_family"], flat)
    if setting == "pair" and do_rankings:
        rk = model_rankings(full, n_boot=n_boot, ci=ci, seed=seed)
        if rk:
            sec["model_rankings"] = rk
            for g, e in rk.items():
                for who in ("judge", "human"):
                    for r in e.get(who, []):
                        rows.add(f"model_ranking:{g}", who, f"bt:{r['model']}", r["strength"], r["ci_low"],
                                 r["ci_high"], r["games"])
                if e.get("spearman") is not None:
                    rows.add(f"model_ranking:{g}", "both", "spearman_judge_vs_human", e["spearman"],
                             n=e.get("n_models_common"))
    inj = _injection_section(setting, per_order, items, rows, n_boot=n_boot, ci=ci, seed=seed)
    if inj:
        bias["prompt_injection"] = inj
    return sec, bias


def _injection_section(setting: str, per_order: pd.DataFrame, items: pd.DataFrame, rows: _Rows, *,
                       n_boot: int, ci: float, seed: int) -> dict[str, Any]:
    """Prompt-injection susceptibility (:mod:`.injection`) per output modality and per style, as rows
    ``prompt_injection/<modality|all>`` and ``prompt_injection_style/<style>``; ``{}`` without probes."""
    if per_order.empty:
        return {}
    po = attach_items(per_order, items)
    po["uniq_id"] = po["item_id"].map(dict(zip(items["item_id"], items["uniq_id"], strict=True)))
    res = injection_susceptibility(po, setting, n_boot=n_boot, ci=ci, seed=seed)
    if not res:
        return {}
    for g, st in res["by_modality"].items():
        rows.stats("prompt_injection", g, st)
    for style, st in res["by_style"].items():
        rows.stats("prompt_injection_style", style, st)
    return {"by_modality": {g: _sd(st) for g, st in res["by_modality"].items()},
            "by_style": {s: _sd(st) for s, st in res["by_style"].items()}, "n_queries": res["n_queries"]}


def _counts(values: pd.Series) -> dict[str, int]:
    c: dict[str, int] = {}
    for v in values:
        key = f"{v:g}" if isinstance(v, (int, float)) else str(v)
        c[key] = c.get(key, 0) + 1
    return dict(sorted(c.items()))


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


def compute_metrics(data: RunData, options: AnalysisOptions | None = None,
                    **overrides: Any) -> tuple[dict[str, Any], pd.DataFrame]:
    """All metrics of a loaded run (see module docstring for what is computed and how it is laid out).

    Args:
        data: a loaded run.
        options: how to analyse (:class:`~judgeanything.analysis.options.AnalysisOptions`; default: its
            defaults); saved in the result's ``params``.
        overrides: single options replaced, by name (``bootstrap=0``).

    Returns:
        (metrics dict, tidy DataFrame with :data:`CSV_COLUMNS`).

    Raises:
        ValueError: an unknown policy or reducer, or ``ci`` outside (0, 1).
    """
    opt = resolve_options(options, overrides)
    bootstrap, ci, seed, reducer, families = opt.bootstrap, opt.ci, opt.seed, opt.reducer, opt.family_map
    primary_policy, policies = opt.headline_policy, opt.policies
    run = data.run
    judge = data.judge_name
    benchmark = run_field(run, "benchmark", None)
    mode = run_field(run, "mode", data.verdicts)
    judge_names = [judge, run_field(run, "model", data.verdicts)]
    for k in ("judge", "judge_fingerprint"):  # dicts of the judge's config: model ids live there
        if isinstance(run.get(k), dict):
            judge_names += [str(x) for x in run[k].values() if isinstance(x, str)]
        elif isinstance(run.get(k), str):
            judge_names.append(run[k])
    judge_names += [str(x) for x in data.verdicts["model"].dropna().unique()] if len(data.verdicts) else []
    judge_fam = judge_family(judge_names, families)
    rows = _Rows()
    notes: list[str] = [str(n) for n in (run.get("notes") or [])]
    if data.set_aside_note():
        notes.append(str(data.set_aside_note()))
    out: dict[str, Any] = {
        "format": FORMAT,
        "run": {"judge": judge, "judge_family": judge_fam, "benchmark": benchmark, "mode": mode,
                "prompt_version": run_field(run, "prompt_version", data.verdicts),
                "settings": data.settings, "run_dir": str(data.run_dir),
                "judge_notes": [str(n) for n in (run.get("judge_notes") or [])],
                "judge_kind": run.get("judge_kind"),
                **({"requests": run["requests"]} if isinstance(run.get("requests"), dict) else {})},
        "params": opt.to_params(),
        "settings": {},
    }
    all_humans = human_labels(data.labels, data.items)
    for setting in data.settings:
        rows.ctx = {"judge": judge, "benchmark": benchmark, "setting": setting, "mode": mode}
        vs = data.verdicts[data.verdicts["setting"] == setting]
        set_items = set(vs["item_id"])
        humans_s = all_humans[all_humans["item_id"].isin(set(data.items.loc[data.items["setting"] == setting,
                                                                              "item_id"]) | set_items)]
        rubrics = sorted(vs["rubric"].unique(), key=lambda r: (r != "overall", r))
        per: dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}
        for rb in rubrics:
            v = vs[vs["rubric"] == rb]
            po = reduce_repeats(v, setting, reducer)
            u = combine_orders(po, setting, primary_policy)
            h = humans_s[humans_s["rubric"] == rb]
            per[rb] = (v, po, u, h)
        if len(rubrics) > 1:
            per["all"] = tuple(pd.concat([p[i] for p in per.values()], ignore_index=True) for i in range(4))
            notes.append(f"{setting}: rubric 'all' pools every (item × rubric) unit of {len(rubrics)} "
                         "rubrics; "
                         "its CIs treat those units as independent.")
        sset: dict[str, Any] = {"counts": {"items": int((data.items["setting"] == setting).sum()),
                                           "judged_items": len(set_items),
                                           "labelled_items": int(humans_s["item_id"].nunique())},
                                "rubrics": {}, "bias": {}}
        if humans_s.empty:
            notes.append(f"{setting}: no human labels — agreement metrics are not computed.")
        else:
            unlabelled = [rb for rb in rubrics if humans_s[humans_s["rubric"] == rb].empty]
            if unlabelled:
                have = sorted(set(humans_s["rubric"]))
                notes.append(f"{setting}: no human labels for rubric(s) {', '.join(unlabelled)} (labels exist for "
                             f"{', '.join(have)}), so their agreement is blank; their verdicts, failures and "
                             "biases are still reported.")
        for rb, (v, po, u, h) in per.items():
            rows.ctx["rubric"] = rb
            sec, bias = _rubric_analysis(setting, rb, v, po, u, h, data, rows, n_boot=bootstrap, ci=ci,
                                         seed=seed,
                                         policies=policies, primary_policy=primary_policy, reducer=reducer,
                                         families=families, judge_fam=judge_fam, do_rankings=rb != "all")
            sset["rubrics"][rb] = sec
            for k, x in bias.items():
                sset["bias"].setdefault(k, {})[rb] = x
        main = "overall" if "overall" in per else ("all" if "all" in per else next(iter(per), None))
        sset["headline_rubric"] = main
        if main is not None:
            sset["coverage"] = sset["rubrics"][main]["failures"]
        sset["parsing"] = parse_stats(vs)
        rows.ctx["rubric"] = "*"
        rows.add("pooled", "all", "strict_parse_rate", sset["parsing"]["strict_parse_rate"],
                 n=sset["parsing"]["parsed_rows"])
        out["settings"][setting] = sset
    rec = data.records
    cost = {"records": len(rec), "prompt_tokens": float(rec["prompt_tokens"].sum(min_count=1))
            if len(rec) else None,
            "completion_tokens": float(rec["completion_tokens"].sum(min_count=1)) if len(rec) else None,
            "latency_s": float(rec["latency_s"].sum(min_count=1)) if len(rec) else None}
    out["cost"] = cost
    rows.ctx = {"judge": judge, "benchmark": benchmark, "setting": "*", "mode": mode, "rubric": "*"}
    rows.stats("cost", "all", {k: x for k, x in cost.items() if x is not None and not
                               (isinstance(x, float) and math.isnan(x))})
    out["notes"] = notes
    df = pd.DataFrame(rows.rows, columns=CSV_COLUMNS)
    df["n"] = df["n"].astype("Int64")
    return clean_json(out), df


def analyze_run(run_dir: Path | str, options: AnalysisOptions | None = None, *, data: RunData | None = None,
                **overrides: Any) -> dict[str, Any]:
    """Analyse one run directory: write ``metrics.json``, ``metrics.csv``, ``report.md`` and, for a ``random``
    reference baseline, ``reference_check.json`` (its section closes ``report.md``).

    Arguments as in :func:`compute_metrics` (``options`` default to :class:`AnalysisOptions`' defaults; a run's
    own are :meth:`AnalysisOptions.of_run`); ``data``: the run already loaded by :func:`load_run` (saves a
    second read of the run log when the caller needs it too).

    Returns:
        the metrics dict (as written to ``metrics.json``).

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
    verdict records, in total and by input modality (:func:`judgeanything.usage.run_usage`)."""
    modality_of = dict(zip(data.items["item_id"], data.items["input_modality"], strict=True))
    return clean_json(run_usage(run_dir, data.records["line"], data.run, modality_of))


def write_metrics(run_dir: Path, metrics: Mapping[str, Any], df: pd.DataFrame) -> tuple[Path, Path]:
    """Write ``metrics.json`` and ``metrics.csv`` atomically; returns their paths."""
    run_dir = Path(run_dir)
    jp, cp = run_dir / METRICS_JSON, run_dir / METRICS_CSV
    tmp = jp.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(clean_json(dict(metrics)), indent=1, ensure_ascii=False, allow_nan=False),
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
