"""The analysis of one (setting, rubric) as small sections, each ``(frames, options) -> rows``.

A section reads the frames of one (setting, rubric) (:class:`RubricFrames`), computes one family of statistics
(agreement pooled / per group / macro, human ceiling, inconsistent-pair policies, repeats, distributions, and the
biases) and returns its :class:`~judgeanything.analysis.table.MetricRow` s — each statistic once, with its place
in ``metrics.json`` and its ``metrics.csv`` row (the layout is :mod:`judgeanything.analysis.metrics`' docstring).
:data:`RUBRIC_SECTIONS` lists them in the order they run.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from judgeanything.analysis.agreement import PRIMARY, Stat, agreement, ceiling_pairs
from judgeanything.analysis.bias import gap, modality_tests, position_bias, self_preference, size_bias
from judgeanything.analysis.bootstrap import make_stat, rng_for
from judgeanything.analysis.injection import injection_susceptibility
from judgeanything.analysis.options import AnalysisOptions
from judgeanything.analysis.ranking import model_rankings
from judgeanything.analysis.repeats import repeat_stats
from judgeanything.analysis.table import CsvKey, JsonPath, MetricRow, Rows, View, is_number
from judgeanything.analysis.units import attach_items, combine_orders, join, reduce_repeats
from judgeanything.schema import FAILURE_KINDS

#: item column → group_by name of the breakdowns.
BREAKDOWNS = {"task_name": "task_type", "input_modality": "input_modality",
              "output_modality": "output_modality", "family": "family", "modality_pair": "modality_pair"}
#: the groupings whose primary metric, offset, tie and failure rates the cross-modality section shows
CROSS_MODALITY_GROUPS = ("task_type", "input_modality", "output_modality")
#: ``metrics.csv`` order of the self-preference statistics
SELF_PREFERENCE_CSV = ("judge_rate", "human_rate", "difference", "offset_own", "offset_other", "p_value", "n_pairs",
                       "flagged")
Mask: TypeAlias = "pd.Series[bool]"


@dataclass(frozen=True)
class RubricFrames:
    """The frames of one (setting, rubric) and what several sections share (computed once, on first use).

    Attributes:
        verdicts: the verdict rows (failures and repeats included).
        per_order: one row per (item, rubric, order), repeats reduced (:func:`~.units.reduce_repeats`).
        units: one row per (item, rubric), orders combined under the headline policy.
        humans: the human consensus per (item, rubric) (empty without labels).
        items: the run's items.
        judge_family: the judge's model family (self-preference), ``None`` when unknown.
        rankings: whether to fit Bradley–Terry model rankings (not for the pooled rubric ``all``).
    """

    setting: str
    rubric: str
    verdicts: pd.DataFrame
    per_order: pd.DataFrame
    units: pd.DataFrame
    humans: pd.DataFrame
    items: pd.DataFrame
    judge_family: str | None = None
    rankings: bool = True

    def rows(self) -> Rows:
        return Rows(self.setting, self.rubric)

    def at(self, *keys: str) -> JsonPath:
        """A path in this rubric's section of ``metrics.json``."""
        return ("settings", self.setting, "rubrics", self.rubric, *keys)

    def bias_at(self, kind: str, *keys: str) -> JsonPath:
        """A path in this rubric's entry of the setting's bias section ``kind``."""
        return ("settings", self.setting, "bias", kind, self.rubric, *keys)

    @cached_property
    def joined(self) -> pd.DataFrame:
        """Units joined to the human consensus and the item attributes (empty without labels)."""
        return join(self.units, self.humans, self.items) if not self.humans.empty else pd.DataFrame()

    @cached_property
    def full(self) -> pd.DataFrame:
        """Every unit with its item attributes and, where labelled, the human consensus (biases read it)."""
        full = attach_items(self.units, self.items)
        if not self.humans.empty:
            full = full.merge(self.humans[["item_id", "rubric", "human"]], on=["item_id", "rubric"], how="left")
        return full

    @cached_property
    def failure_rows(self) -> pd.DataFrame:
        """Verdict rows (``item_id, failure``) with item attributes, for per-group failure rates."""
        return attach_items(self.verdicts[["item_id", "failure"]], self.items)

    def agree(self, joined: pd.DataFrame, opt: AnalysisOptions, *names: object) -> dict[str, Stat]:
        """Agreement metrics of the setting on ``joined`` (``{}`` when empty), bootstrap stream named ``names``."""
        if joined.empty:
            return {}
        score = self.setting == "score"
        judge, human = list(joined["value"]), list(joined["human"])
        if score:
            judge, human = [float(v) for v in judge], [float(v) for v in human]
        return agreement(self.setting, judge, human,
                         expected=joined["expected"].to_numpy(dtype=np.float64) if score else None,
                         n_boot=opt.bootstrap, ci=opt.ci, rng=rng_for(opt.seed, self.setting, self.rubric, *names))

    def pooled(self, opt: AnalysisOptions) -> dict[str, Stat]:
        return self._memo(("pooled", opt), lambda: self.agree(self.joined, opt, "pooled"))

    def group_stats(self, opt: AnalysisOptions) -> dict[tuple[str, str], dict[str, Stat]]:
        """Agreement per breakdown group ``(group_by, group)`` of the labelled units."""
        def compute() -> dict[tuple[str, str], dict[str, Stat]]:
            j = self.joined
            return {(gb, g): self.agree(j[m.to_numpy()], opt, gb, g) for gb, g, m in groups(j)}
        return self._memo(("group_stats", opt), compute)

    def _memo(self, key: tuple[str, AnalysisOptions], make: Callable[[], Any]) -> Any:
        """``make()`` once per (name, options) — several sections read the pooled and per-group agreement."""
        cache: dict[tuple[str, AnalysisOptions], Any] = self.__dict__.setdefault("_memo_cache", {})
        if key not in cache:
            cache[key] = make()
        return cache[key]


# ---------------------------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------------------------


def groups(frame: pd.DataFrame) -> list[tuple[str, str, Mask]]:
    """(group_by, group, boolean mask) for every breakdown present in ``frame`` (rows with item attributes):
    :data:`BREAKDOWNS`, ``difficulty:<knob>`` (item ``meta["difficulty"]``) and ``probe_family``."""
    out: list[tuple[str, str, Mask]] = []
    if frame.empty:
        return out
    for col, gb in BREAKDOWNS.items():
        for g in sorted(frame[col].dropna().unique()):
            out.append((gb, str(g), frame[col] == g))
    metas = frame["meta"]
    knobs = sorted({k for m in metas if isinstance(m, dict) and isinstance(m.get("difficulty"), dict)
                    for k in m["difficulty"]})
    for k in knobs:
        vals = metas.map(lambda m, k=k: _scalar(m.get("difficulty", {}).get(k)) if isinstance(m, dict) else None)
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


def _sd(d: Mapping[str, Stat]) -> dict[str, Any]:
    return {m: s.as_dict() for m, s in d.items()}


def _counts(values: pd.Series) -> dict[str, int]:
    c: dict[str, int] = {}
    for v in values:
        key = f"{v:g}" if isinstance(v, (int, float)) else str(v)
        c[key] = c.get(key, 0) + 1
    return dict(sorted(c.items()))


# ---------------------------------------------------------------------------------------------------------------
# Rubric sections: failures and agreement
# ---------------------------------------------------------------------------------------------------------------


def failure_summary(verdicts: pd.DataFrame) -> dict[str, Any]:
    """``{rows, verdicts, failures, coverage, failure_rate, by_kind: {kind: count}}`` of verdict rows."""
    n = len(verdicts)
    nf = int(verdicts["failure"].notna().sum())
    counts = {k: int((verdicts["failure"] == k).sum()) for k in FAILURE_KINDS if (verdicts["failure"] == k).any()}
    return {"rows": n, "verdicts": n - nf, "failures": nf,
            "coverage": (n - nf) / n if n else float("nan"), "failure_rate": nf / n if n else float("nan"),
            "by_kind": counts}


def failure_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Unit counts and the pooled failures: ``coverage``, ``failure_rate`` and ``failures:<kind>`` (counts), all
    with n = verdict rows attempted."""
    b = f.rows()
    b.put(f.at("n_units"), len(f.units))
    b.put(f.at("n_joined"), len(f.joined))
    fail = failure_summary(f.verdicts)

    def key(sub: JsonPath, node: Any, parent: Mapping[str, Any]) -> CsvKey | None:
        if sub in (("coverage",), ("failure_rate",)):
            return CsvKey("pooled", "all", str(sub[0]), n=fail["rows"])
        if len(sub) == 2 and sub[0] == "by_kind":
            return CsvKey("pooled", "all", f"failures:{sub[1]}", n=fail["rows"])
        return None
    b.tree(f.at("failures"), fail, key)
    return b.rows


def pooled_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Agreement with the human consensus over every labelled unit (:mod:`.agreement`)."""
    b = f.rows()
    b.stats(f.at("pooled"), "pooled", "all", f.pooled(opt))
    return b.rows


def breakdown_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Agreement per group (:func:`groups`) with the group's failure rate and coverage; groups in which every
    verdict failed are listed with their failure rate only."""
    b = f.rows()
    b.put(f.at("breakdowns"), {})
    fr = f.failure_rows
    fail_masks = {(gb, g): m for gb, g, m in groups(fr)}
    listed: set[tuple[str, str]] = set()
    for (gb, g), st in f.group_stats(opt).items():
        b.stats(f.at("breakdowns", gb, g), gb, g, st)
        listed.add((gb, g))
        _failure_rate(b, f, gb, g, fr, fail_masks.get((gb, g)))
    for (gb, g), m in fail_masks.items():
        if (gb, g) not in listed and m.any():
            _failure_rate(b, f, gb, g, fr, m)
    return b.rows


def _failure_rate(b: Rows, f: RubricFrames, gb: str, g: str, fr: pd.DataFrame, mask: Mask | None) -> None:
    if mask is None or not mask.any():
        return
    rows = fr[mask.to_numpy()]
    rate = float(rows["failure"].notna().mean())
    b.put(f.at("breakdowns", gb, g, "failure_rate"), {"value": rate, "ci_low": None, "ci_high": None,
                                                       "n": len(rows)}, CsvKey(gb, g, "failure_rate"))
    b.csv(gb, g, "coverage", 1 - rate, n=len(rows))


def macro_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """The unweighted mean over task types of each agreement metric; its CI is the percentile CI of the mean of
    the per-task bootstrap replicates (a bootstrap stratified by task type)."""
    per_task = {g: st for (gb, g), st in f.group_stats(opt).items() if gb == "task_type"}
    if not per_task:
        return []
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
        macro[m] = make_stat(float(np.mean(vals[ok])), r, int(ok.sum()), opt.ci)
    b = f.rows()
    b.stats(f.at("macro"), "macro", "task_type", macro)
    return b.rows


def ceiling_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """The human ceiling: each annotator vs the consensus of the others (items with ≥ 2 annotators)."""
    h = f.humans
    if h.empty or not (h["n_annotators"] >= 2).any():
        return []
    a, c = ceiling_pairs(f.setting, list(h["annotator_values"]))
    if f.setting == "score":
        a, c = [float(x) for x in a], [float(x) for x in c]
    hc = agreement(f.setting, a, c, n_boot=opt.bootstrap, ci=opt.ci,
                   rng=rng_for(opt.seed, f.setting, f.rubric, "ceiling"))
    b = f.rows()
    b.stats(f.at("human_ceiling"), "human_ceiling", "all", hc)
    return b.rows


def policy_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Pair accuracies under each inconsistent-pair policy (tie / drop / average), when some pair was judged in
    both orders."""
    if f.setting != "pair" or f.joined.empty or not (f.units["n_orders"] > 1).any():
        return []
    b = f.rows()
    b.put(f.at("inconsistent_policies"), {})
    for p in opt.policies:
        u = f.units if p == opt.headline_policy else combine_orders(f.per_order, f.setting, p)
        st = f.agree(join(u, f.humans, f.items), opt, "policy", p)
        keep: dict[str, Stat] = {m: st[m] for m in ("accuracy_with_tie", "accuracy_without_tie", "tie_rate") if m in st}
        b.stats(f.at("inconsistent_policies", p), "inconsistent_policy", p, keep)
    return b.rows


def repeat_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Stability across repeats (:func:`~.repeats.repeat_stats`) and the primary metric on the first repeat
    only vs on reduced repeats."""
    v = f.verdicts
    if not (v["repeat"] > 0).any():
        return []
    b = f.rows()
    b.tree(f.at("repeats", "stability"), repeat_stats(v, f.setting),
           lambda sub, node, _: CsvKey("repeats", "stability", str(sub[0]))
           if sub != ("n_units",) and is_number(node) else None)
    pooled = f.pooled(opt)
    m = PRIMARY[f.setting]
    if not f.joined.empty:
        first = combine_orders(reduce_repeats(v[v["repeat"] == 0], f.setting, opt.reducer), f.setting,
                               opt.headline_policy)
        st0 = f.agree(join(first, f.humans, f.items), opt, "rep0")
        if m in st0 and m in pooled:
            b.put(f.at("repeats", "first_repeat"), st0[m].as_dict(), CsvKey("repeats", "first_repeat", m))
            b.put(f.at("repeats", "reduced"), pooled[m].as_dict(), CsvKey("repeats", "reduced", m))
    return b.rows


def distribution_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """How often the judge (and the human consensus) gave each score value / pair choice: ``count:<value>``."""
    if f.setting not in ("pair", "score") or f.units.empty:
        return []
    dist = {"judge": _counts(f.units["value"])}
    if not f.humans.empty:
        dist["human"] = _counts(f.humans["human"])
    b = f.rows()
    b.tree(f.at("distribution"), dist,
           lambda sub, node, _: CsvKey("distribution", str(sub[0]), f"count:{sub[1]}") if len(sub) == 2 else None)
    return b.rows


# ---------------------------------------------------------------------------------------------------------------
# Rubric sections: biases and model rankings
# ---------------------------------------------------------------------------------------------------------------


def cross_modality_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Cross-modality bias: the breakdowns' primary metric, offset, tie and failure rates by task type and
    input / output modality (a view of the breakdowns), the MMU − MMG gap of the primary metric (and offset),
    and the tests of whether agreement differs across modality groups (:func:`~.bias.modality_tests`)."""
    b = f.rows()
    pick = (PRIMARY[f.setting], "offset", "tie_rate", "failure_rate")
    b.put(f.bias_at("cross_modality", "groups"), {})
    for gb in CROSS_MODALITY_GROUPS:
        b.put(f.bias_at("cross_modality", "groups", gb), View(f.at("breakdowns", gb), pick))
    fam = f.group_stats(opt)
    mmu, mmg = fam.get(("family", "mmu")), fam.get(("family", "mmg"))
    if mmu and mmg:
        b.put(f.bias_at("cross_modality", "mmu_vs_mmg"), {})
        for m in (PRIMARY[f.setting], "offset"):
            if m in mmu and m in mmg:
                b.put(f.bias_at("cross_modality", "mmu_vs_mmg", m), gap(mmu[m], mmg[m], opt.ci),
                      CsvKey("mmu_vs_mmg", "mmu-mmg", m))
    tests = modality_tests(f.joined, f.setting)
    b.tree(f.bias_at("cross_modality", "tests"), tests,
           lambda sub, node, parent: CsvKey(f"modality_test:{sub[0]}", parent["test"], str(sub[1]))
           if len(sub) == 2 and sub[1] in ("statistic", "p_value") else None)
    return b.rows


def position_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Position bias (:func:`~.bias.position_bias`): consistency / flip rate across orders, tie rate, P(prefer
    slot k) or P(rank 1 | slot k); ``metrics.csv`` lists the scalars first, then the per-slot rates."""
    pos = position_bias(f.per_order, f.setting, humans=f.humans if not f.humans.empty else None,
                        n_boot=opt.bootstrap, ci=opt.ci, seed=opt.seed)
    if not pos:
        return []
    scalars = ("consistency", "flip_rate", "tie_rate", "mean_nlev_between_orders", "human_p_first")
    slotted = ("p_prefer_slot", "p_rank1_given_slot")

    def key(sub: JsonPath, node: Any, parent: Mapping[str, Any]) -> CsvKey | None:
        if len(sub) == 1 and sub[0] in scalars and is_number(node):
            return CsvKey("position", "all", str(sub[0]), rank=(0,))
        if len(sub) == 2 and sub[0] in slotted and is_number(node):
            return CsvKey("position", "all", f"{sub[0]}_{sub[1]}", rank=(1 + slotted.index(str(sub[0])),))
        return None
    b = f.rows()
    b.tree(f.bias_at("position"), pos, key)
    return b.rows


def _size_key(sub: JsonPath, node: Any, parent: Mapping[str, Any]) -> CsvKey | None:
    """``metrics.csv`` rows of :func:`~.bias.size_bias`: per feature (``primary`` first) the judge's and the
    humans' P(prefer larger) and per size-ratio bin; the length-controlled agreement; score–size Spearman ρ."""
    if not is_number(node):
        return None
    head = sub[0]
    if head == "length_controlled" and len(sub) == 2 and sub[1] != "n":
        return CsvKey("length_controlled", "primary", str(sub[1]), rank=(2,))
    if head == "score_size_spearman" and len(sub) == 3 and sub[2] in ("judge", "human"):
        return CsvKey(f"size_spearman:{sub[1]}", "all", str(sub[2]), rank=(3,))
    feat, rest, rank = (sub[0], sub[1:], (0,)) if head == "primary" else (sub[1], sub[2:], (1,))
    if head not in ("primary", "features") or not rest:
        return None
    if len(rest) == 1 and rest[0] in ("p_prefer_larger", "human_p_prefer_larger"):
        return CsvKey(f"size:{feat}", "all", str(rest[0]), rank=rank)
    if len(rest) == 3 and rest[0] == "by_ratio" and rest[2] in ("p_judge_larger", "p_human_larger"):
        hi = "inf" if parent["ratio_high"] is None else f"{parent['ratio_high']:g}"
        return CsvKey(f"size:{feat}", f"ratio[{parent['ratio_low']:g},{hi})", str(rest[2]), rank=rank)
    return None


def size_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Verbosity / size bias (:func:`~.bias.size_bias`)."""
    sz = size_bias(f.full, f.setting, n_boot=opt.bootstrap, ci=opt.ci, seed=opt.seed)
    if not sz:
        return []
    b = f.rows()
    b.tree(f.bias_at("size"), sz, _size_key)
    return b.rows


def self_preference_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Self-preference of the judge's model family (:func:`~.bias.self_preference`; pair and score): scores on
    the labelled units only."""
    if f.setting not in ("pair", "score"):
        return []
    full = f.full
    has_h = "human" in full.columns
    units = full if f.setting == "pair" else (full[full["human"].notna()] if has_h else full.iloc[0:0])
    sp = self_preference(units, f.setting, f.judge_family, opt.family_map, n_boot=opt.bootstrap, ci=opt.ci,
                         seed=opt.seed)
    fam = sp.get("judge_family")

    def key(sub: JsonPath, node: Any, parent: Mapping[str, Any]) -> CsvKey | None:
        if not fam or len(sub) != 1 or sub[0] not in SELF_PREFERENCE_CSV or node is None:
            return None
        return CsvKey("self_preference", fam, str(sub[0]), rank=(SELF_PREFERENCE_CSV.index(str(sub[0])),))
    b = f.rows()
    b.tree(f.bias_at("self_preference"), sp, key)
    return b.rows


def ranking_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Bradley–Terry strengths of the compared models from the judge's and the humans' pair verdicts, pooled and
    per task type, and Spearman ρ between the two rankings (:func:`~.ranking.model_rankings`)."""
    if f.setting != "pair" or not f.rankings:
        return []
    rk = model_rankings(f.full, n_boot=opt.bootstrap, ci=opt.ci, seed=opt.seed)
    if not rk:
        return []

    def key(sub: JsonPath, node: Any, parent: Mapping[str, Any]) -> CsvKey | None:
        g = f"model_ranking:{sub[0]}"
        if len(sub) == 3 and sub[1] in ("judge", "human"):
            return CsvKey(g, str(sub[1]), f"bt:{node['model']}", fields=("strength", "ci_low", "ci_high", "games"))
        if sub[1:] == ("spearman",) and node is not None:
            return CsvKey(g, "both", "spearman_judge_vs_human", n=parent.get("n_models_common"))
        return None
    b = f.rows()
    b.tree(f.at("model_rankings"), rk, key)
    return b.rows


def injection_section(f: RubricFrames, opt: AnalysisOptions) -> list[MetricRow]:
    """Prompt-injection susceptibility (:mod:`.injection`) per output modality and per injection style."""
    if f.per_order.empty:
        return []
    po = attach_items(f.per_order, f.items)
    po["uniq_id"] = po["item_id"].map(dict(zip(f.items["item_id"], f.items["uniq_id"], strict=True)))
    res = injection_susceptibility(po, f.setting, n_boot=opt.bootstrap, ci=opt.ci, seed=opt.seed)
    if not res:
        return []
    b = f.rows()
    b.put(f.bias_at("prompt_injection", "by_modality"), {})
    for g, st in res["by_modality"].items():
        b.stats(f.bias_at("prompt_injection", "by_modality", g), "prompt_injection", g, st)
    b.put(f.bias_at("prompt_injection", "by_style"), {})
    for style, st in res["by_style"].items():
        b.stats(f.bias_at("prompt_injection", "by_style", style), "prompt_injection_style", style, st)
    b.put(f.bias_at("prompt_injection", "n_queries"), res["n_queries"])
    return b.rows


Section = Callable[[RubricFrames, AnalysisOptions], list[MetricRow]]
#: the sections of one (setting, rubric), in the order they run (and ``metrics.csv`` lists them)
RUBRIC_SECTIONS: tuple[Section, ...] = (
    failure_section, pooled_section, breakdown_section, macro_section, ceiling_section, policy_section,
    repeat_section, distribution_section, cross_modality_section, position_section, size_section,
    self_preference_section, ranking_section, injection_section,
)

__all__ = ["BREAKDOWNS", "RUBRIC_SECTIONS", "RubricFrames", "Section", "breakdown_section", "ceiling_section",
           "cross_modality_section", "distribution_section", "failure_section", "failure_summary", "groups",
           "injection_section", "macro_section", "policy_section", "pooled_section", "position_section",
           "ranking_section", "repeat_section", "self_preference_section", "size_section"]
