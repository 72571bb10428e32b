"""Judge biases: cross-modality offsets and tests, position bias, verbosity/size bias, self-preference.

* Cross-modality (Judge Anything §5): per-group numbers come from the breakdown rows of
  :mod:`.metrics`; here: the MMU − MMG gap with a bootstrap CI of the difference (independent resamples of
  the two families), and tests that agreement differs across modalities — Kruskal–Wallis over per-item
  judge − human offsets (score) and χ² of correct/incorrect counts (pair) grouped by output modality,
  input modality and task type (scipy).
* Position bias (Zheng et al. 2023 "Judging LLM-as-a-judge", §3.3; MLLM-as-a-Judge §5): on records of the
  same item judged in different orders, *consistency* = share of (item, rubric) whose dataset-orientation
  verdicts agree across orders, flip rate = 1 − consistency. P(prefer slot k) is over the PRESENTED
  positions: for order (1, 0) a dataset ``"first"`` was shown in slot 2. Ties are left out of the
  denominator (their share is reported as ``tie_rate``). Batch: P(rank 1 | slot k) = share of records
  whose top-ranked response was shown in slot k.
* Verbosity / size bias (AlpacaEval's "P(prefer longer)"; Dubois et al. 2024, "Length-Controlled
  AlpacaEval", arXiv 2404.04475): for each size feature (text ``chars``/``words``, audio/video
  ``duration_s``, image ``pixels`` = width × height, image ``count``, ``n_frames``) on pairs whose two
  responses differ in it, P(judge prefers the larger) (judge ties excluded), the human rate on the same
  pairs, and both binned by the size ratio larger/smaller. Length-controlled agreement: a logistic
  regression (scikit-learn, no penalty) of the judge's choice (first = 1, second = 0; judge ties left out)
  on the human preference h ∈ {+1 first, 0 tie, −1 second} and z = log(size₁/size₂) / SD (not centred, so
  z = 0 means equal sizes); reported: the size coefficient, the observed agreement, and the modelled
  agreement mean P(judge = human) with z as observed and with z set to 0 (the "length-controlled"
  agreement, as LC win rates zero the length term). Score setting: Spearman ρ of judge and of human scores
  with log size.
* Self-preference (Panickssery et al. 2024, "LLM evaluators recognize and favor their own generations"):
  model and judge names map to families by regular expressions; on pairs where exactly one response is
  from the judge's family, the judge's own-family rate (ties ½) vs the human rate on the same pairs, with
  a paired bootstrap CI of the difference; flagged when its lower bound is > 0. Without human labels, a
  one-sided binomial test of the judge's non-tie own-family wins against ½ (flagged at p < 0.05).
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from judgeanything.analysis.agreement import item_correct, normalised_levenshtein
from judgeanything.analysis.bootstrap import Stat, mean_stat, percentile_ci, rng_for
from judgeanything.jsonsafe import finite_or_none

#: Default generator/judge family map (regex → family), searched case-insensitively in order.
DEFAULT_FAMILIES: dict[str, str] = {
    r"gpt|openai|\bo[134]\b|dall-?e|sora|whisper": "openai",
    r"claude|anthropic": "anthropic",
    r"qwen": "qwen",
    r"gemini|gemma|imagen|veo|bard|palm": "google",
    r"llama|\bmeta-": "meta",
    r"mistral|pixtral|mixtral": "mistral",
    r"deepseek|janus": "deepseek",
    r"internvl|intern": "internlm",
    r"llava": "llava",
    r"cogvlm|cogvideo|glm": "zhipu",
    r"minicpm": "openbmb",
    r"phi-?\d": "microsoft",
    r"stable.?diffusion|sdxl|stable.?audio|stable.?video|svd": "stability",
}

SIZE_FEATURES = ("chars", "words", "duration_s", "pixels", "count", "n_frames")
#: The size feature that stands for "longer" per output modality.
PRIMARY_SIZE = {"text": "chars", "audio": "duration_s", "video": "duration_s", "image": "pixels"}
RATIO_BINS = (1.0, 1.1, 1.5, 2.0, 4.0, math.inf)


def size_of(size: Mapping[str, Any], feature: str) -> float:
    """One size feature of one response (``pixels`` falls back to width × height); NaN when absent."""
    v = size.get(feature)
    if v is None and feature == "pixels" and size.get("width") and size.get("height"):
        v = float(size["width"]) * float(size["height"])
    try:
        f = float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


# --------------------------------------------------------------------------------------------------
# Cross-modality
# --------------------------------------------------------------------------------------------------


def gap(a: Stat, b: Stat, ci: float = 0.95) -> dict[str, Any]:
    """Difference a − b of two independently bootstrapped statistics, with the percentile CI of the
    differences of their replicates."""
    if a.reps.size and a.reps.size == b.reps.size:
        lo, hi = percentile_ci(a.reps - b.reps, ci)
    else:
        lo = hi = math.nan
    d = Stat(a.value - b.value, lo, hi, a.n + b.n)
    out = d.as_dict()
    out["significant"] = bool(math.isfinite(lo) and (lo > 0 or hi < 0))
    return out


def modality_tests(joined: pd.DataFrame, setting: str) -> dict[str, Any]:
    """Do per-item agreements differ across modality groups?

    Score: Kruskal–Wallis H over per-item offsets (judge − human); pair: χ² of correct/incorrect counts
    (scipy ``chi2_contingency``); batch: Kruskal–Wallis over per-item 1 − nlev. For ``output_modality``,
    ``input_modality`` and ``task_name``; a grouping with < 2 non-empty groups is skipped.
    """
    out: dict[str, Any] = {}
    if joined.empty:
        return out
    per_item = np.array([item_correct(setting, j, h) for j, h in zip(joined["value"], joined["human"],
                                                                       strict=True)])
    for col in ("output_modality", "input_modality", "task_name"):
        groups = {g: per_item[(joined[col] == g).to_numpy()] for g in sorted(joined[col].unique())}
        groups = {g: v for g, v in groups.items() if v.size}
        if len(groups) < 2:
            continue
        res: dict[str, Any]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if setting == "pair":
                table = np.array([[v.sum(), v.size - v.sum()] for v in groups.values()])
                if (table.sum(axis=0) == 0).any():
                    res = {"test": "chi2", "statistic": None, "p_value": None,
                           "note": "all items correct or all wrong: no test"}
                else:
                    chi2, p, dof, _ = stats.chi2_contingency(table)
                    res = {"test": "chi2", "statistic": float(chi2), "p_value": float(p), "dof": int(dof)}
            else:
                try:
                    h, p = stats.kruskal(*groups.values())
                    res = {"test": "kruskal", "statistic": float(h), "p_value": float(p)}
                except ValueError as e:  # all values identical
                    res = {"test": "kruskal", "statistic": None, "p_value": None, "note": str(e)}
        res["groups"] = {g: int(v.size) for g, v in groups.items()}
        out[col] = res
    return out


# --------------------------------------------------------------------------------------------------
# Position bias
# --------------------------------------------------------------------------------------------------


def _presented_slot(order: Sequence[int], dataset_slot: int) -> int:
    """1-based presented position of a dataset slot under ``order`` (identity when order is empty)."""
    order = list(order)
    return (order.index(dataset_slot) if dataset_slot in order else dataset_slot) + 1


def position_bias(per_order: pd.DataFrame, setting: str, *, humans: pd.DataFrame | None = None,
                  n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> dict[str, Any]:
    """Position bias from per-order verdicts (one row per item × rubric × order after repeat reduction).

    Returns (pair): ``n_records, p_prefer_slot`` ({"1": Stat dict, "2": …}), ``tie_rate``,
    ``both_orders`` (number of (item, rubric) judged in ≥ 2 orders), ``consistency``, ``flip_rate`` (Stat
    dicts, absent when no unit has two orders), ``human_p_first`` (dataset-orientation share of "first"
    among non-tie human labels, for reference). Batch: ``p_rank1_given_slot``, ``consistency``,
    ``flip_rate`` and ``mean_nlev_between_orders``. Score: ``{}``.
    """
    if setting not in ("pair", "batch") or per_order.empty:
        return {}
    out: dict[str, Any] = {"n_records": len(per_order)}
    rng = rng_for(seed, "position")
    if setting == "pair":
        slots = [None if v == "tie" else _presented_slot(o, 0 if v == "first" else 1)
                 for v, o in zip(per_order["value"], per_order["order"], strict=True)]
        chosen = np.array([s for s in slots if s is not None])
        out["tie_rate"] = float(np.mean([s is None for s in slots]))
        out["p_prefer_slot"] = {str(k): mean_stat((chosen == k).astype(float), n_boot=n_boot, ci=ci,
                                                  rng=rng).as_dict() for k in (1, 2)}
        if humans is not None and not humans.empty:
            h = humans["human"]
            nt = h[h != "tie"]
            if len(nt):
                out["human_p_first"] = float(np.mean(nt == "first"))
    else:
        n_slots = max(len(o) if len(o) else len(v) for o, v in zip(per_order["order"], per_order["value"],
                                                                  strict=True))
        top = np.array([_presented_slot(o, v[0]) for o, v in zip(per_order["order"], per_order["value"],
                                                               strict=True)])
        out["p_rank1_given_slot"] = {str(k): mean_stat((top == k).astype(float), n_boot=n_boot, ci=ci,
                                                       rng=rng).as_dict() for k in range(1, n_slots + 1)}
    consistent: list[float] = []
    between: list[float] = []
    multi = per_order[per_order.duplicated(["item_id", "rubric"], keep=False).to_numpy()]
    for _, g in multi.groupby(["item_id", "rubric"], sort=False):
        if g["order"].nunique() < 2:
            continue
        vals = list(g["value"])
        consistent.append(float(all(v == vals[0] for v in vals)))
        if setting == "batch":
            between.extend(normalised_levenshtein(vals[i], vals[j]) for i in range(len(vals))
                           for j in range(i + 1, len(vals)))
    out["both_orders"] = len(consistent)
    if consistent:
        c = mean_stat(np.array(consistent), n_boot=n_boot, ci=ci, rng=rng)
        out["consistency"] = c.as_dict()
        out["flip_rate"] = Stat(1 - c.value, 1 - c.ci_high, 1 - c.ci_low, c.n).as_dict()
        if between:
            out["mean_nlev_between_orders"] = float(np.mean(between))
    return out


# --------------------------------------------------------------------------------------------------
# Verbosity / size bias
# --------------------------------------------------------------------------------------------------


def size_table(units: pd.DataFrame, slot: int) -> pd.DataFrame:
    """The size features of response ``slot`` of every row of ``units`` (columns :data:`SIZE_FEATURES` +
    ``primary``; NaN where absent or not a positive finite number)."""
    recs = [z[slot] if len(z) > slot and isinstance(z[slot], Mapping) else {} for z in units["sizes"]]
    t = pd.DataFrame.from_records(recs, index=range(len(recs)))
    cols = {}
    for f in (*SIZE_FEATURES, "width", "height"):
        c = pd.to_numeric(t[f], errors="coerce") if f in t.columns else pd.Series(np.nan, index=t.index)
        cols[f] = c.astype(np.float64).where(lambda x: np.isfinite(x))
    out = pd.DataFrame({f: cols[f] for f in SIZE_FEATURES})
    out["pixels"] = out["pixels"].fillna(cols["width"] * cols["height"])  # pixels = width × height
    mods = units["output_modality"].to_numpy()
    prim = np.full(len(out), np.nan)
    for mod, feat in PRIMARY_SIZE.items():
        m = mods == mod
        prim[m] = out[feat].to_numpy()[m]
    other = ~np.isin(mods, list(PRIMARY_SIZE))
    prim[other] = out["chars"].to_numpy()[other]
    out["primary"] = prim
    return out


def size_bias(units: pd.DataFrame, setting: str, *, n_boot: int = 1000, ci: float = 0.95,
              seed: int = 0) -> dict[str, Any]:
    """Verbosity / size bias (module docstring) of combined judge verdicts joined to item attributes.

    Args:
        units: one row per (item, rubric) with ``value`` (judge), ``sizes``, ``output_modality`` and,
            when humans exist, ``human`` (NaN/None elsewhere).

    Returns:
        pair: ``{"primary": {...}, "features": {feature: {...}}, "length_controlled": {...}}``;
        score: ``{"score_size_spearman": {feature: {"judge", "human", "n"}}}``; batch: ``{}``.
    """
    if units.empty or setting == "batch":
        return {}
    rng = rng_for(seed, "size")
    has_h = "human" in units.columns
    if setting == "score":
        res: dict[str, Any] = {}
        first = size_table(units, 0)
        for feat in ("primary", *SIZE_FEATURES):
            s = first[feat].to_numpy(dtype=np.float64)
            ok = np.isfinite(s) & (s > 0)
            if ok.sum() < 3 or np.unique(s[ok]).size < 2:
                continue
            ls = np.log(s[ok])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rj = stats.spearmanr(units["value"].to_numpy(dtype=float)[ok], ls).statistic
                rh = (stats.spearmanr(pd.to_numeric(units["human"]).to_numpy(dtype=float)[ok], ls).statistic
                      if has_h else math.nan)
            res[feat] = {"judge": finite_or_none(rj), "human": finite_or_none(rh), "n": int(ok.sum())}
        return {"score_size_spearman": res} if res else {}
    out: dict[str, Any] = {"features": {}}
    two = np.array([len(z) == 2 for z in units["sizes"]])
    sa, sb = size_table(units, 0), size_table(units, 1)
    for feat in ("primary", *SIZE_FEATURES):
        a = np.where(two, sa[feat].to_numpy(dtype=np.float64), np.nan)
        b = np.where(two, sb[feat].to_numpy(dtype=np.float64), np.nan)
        ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0) & (a != b)
        if not ok.any():
            continue
        d = _size_pref(units[ok], a[ok], b[ok], has_h, n_boot, ci, rng)
        if feat == "primary":
            out["primary"] = d
            lc = length_controlled(units[ok], a[ok], b[ok]) if has_h else None
            if lc:
                out["length_controlled"] = lc
        else:
            out["features"][feat] = d
    return out if out.get("primary") or out["features"] else {}


def _size_pref(u: pd.DataFrame, a: np.ndarray, b: np.ndarray, has_h: bool, n_boot: int, ci: float,
               rng: np.random.Generator) -> dict[str, Any]:
    larger_first = a > b
    ratio = np.maximum(a, b) / np.minimum(a, b)
    judge = u["value"].to_numpy()
    jt = judge != "tie"
    j_larger = (judge == "first") == larger_first
    res: dict[str, Any] = {"n_pairs": len(u),
                           "p_prefer_larger": mean_stat(j_larger[jt].astype(float), n_boot=n_boot, ci=ci,
                                                        rng=rng).as_dict()}
    if has_h:
        hum = u["human"].to_numpy()
        ht = np.array([h in ("first", "second") for h in hum])
        h_larger = (hum == "first") == larger_first
        res["human_p_prefer_larger"] = float(np.mean(h_larger[ht])) if ht.any() else None
    bins = []
    for lo, hi in itertools.pairwise(RATIO_BINS):
        m = (ratio >= lo) & (ratio < hi)
        if not m.any():
            continue
        row: dict[str, Any] = {"ratio_low": lo, "ratio_high": hi if math.isfinite(hi) else None,
                               "n": int(m.sum()),
                               "p_judge_larger": finite_or_none(float(np.mean(j_larger[m & jt]))) if (m & jt).any()
                               else None}
        if has_h:
            mh = m & ht
            row["p_human_larger"] = float(np.mean(h_larger[mh])) if mh.any() else None
        bins.append(row)
    res["by_ratio"] = bins
    return res


def length_controlled(u: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> dict[str, Any] | None:
    """Length-controlled agreement (module docstring); None when the regression cannot be fitted (fewer
    than 10 non-tie judge verdicts or one class only)."""
    judge = u["value"].to_numpy()
    hum = u["human"].to_numpy()
    keep = (judge != "tie") & np.array([h in ("first", "second", "tie") for h in hum])
    if keep.sum() < 10:
        return None
    y = (judge[keep] == "first").astype(int)
    if y.min() == y.max():
        return None
    h = np.select([hum[keep] == "first", hum[keep] == "second"], [1.0, -1.0], 0.0)
    lr = np.log(a[keep] / b[keep])
    sd = float(np.std(lr))
    z = lr / sd if sd > 0 else lr
    x = np.column_stack([h, z])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=np.inf, max_iter=1000).fit(x, y)  # unpenalised
    x0 = x.copy()
    x0[:, 1] = 0.0
    p = model.predict_proba(x)[:, 1]
    p0 = model.predict_proba(x0)[:, 1]
    ht = h != 0  # agreement is measured on items whose human label is not a tie
    if not ht.any():
        return None

    def agree(pf: np.ndarray) -> float:
        return float(np.mean(np.where(h[ht] > 0, pf[ht], 1 - pf[ht])))

    return {"n": int(keep.sum()), "size_coef": float(model.coef_[0][1]),
            "human_coef": float(model.coef_[0][0]), "intercept": float(model.intercept_[0]),
            "log_ratio_sd": sd, "observed_agreement": float(np.mean((y[ht] == 1) == (h[ht] > 0))),
            "model_agreement": agree(p), "lc_agreement": agree(p0)}


# --------------------------------------------------------------------------------------------------
# Self-preference
# --------------------------------------------------------------------------------------------------


def family_of(name: str | None, families: Mapping[str, str] | None = None) -> str | None:
    """The family of a model or judge name: the first regex of ``families`` (default
    :data:`DEFAULT_FAMILIES`) found in it, case-insensitively; None when none matches.

    Raises:
        ValueError: an invalid regular expression (named).
    """
    if not name:
        return None
    for pat, fam in (families if families is not None else DEFAULT_FAMILIES).items():
        try:
            if re.search(pat, str(name), flags=re.IGNORECASE):
                return fam
        except re.error as e:
            raise ValueError(f"family pattern {pat!r} is not a valid regular expression: {e}") from e
    return None


def judge_family(names: Sequence[str | None], families: Mapping[str, str] | None = None) -> str | None:
    """The family of the first of ``names`` (judge name, model id…) that maps to one."""
    for n in names:
        f = family_of(n, families)
        if f:
            return f
    return None


def self_preference(units: pd.DataFrame, setting: str, judge_fam: str | None,
                    families: Mapping[str, str] | None = None, *, n_boot: int = 1000, ci: float = 0.95,
                    seed: int = 0, alpha: float = 0.05) -> dict[str, Any]:
    """Self-preference of a judge whose family is ``judge_fam`` (module docstring).

    Args:
        units: combined judge verdicts with ``models`` (per item, dataset order) and optionally ``human``.

    Returns:
        ``{"judge_family", "n_pairs", "judge_rate", "human_rate", "difference", "flagged", "test", …}``;
        for scores, the mean offset on own-family responses vs the others; ``{"judge_family": None, "note"}``
        when the judge's family is unknown, ``n_pairs: 0`` when no pair qualifies.
    """
    if not judge_fam:
        return {"judge_family": None, "note": "the judge's family is unknown (no family pattern matches)"}
    rng = rng_for(seed, "self")
    fams = [[family_of(m, families) for m in ms] for ms in units["models"]] if len(units) else []
    has_h = "human" in units.columns
    if setting == "score":
        own = np.array([f[0] == judge_fam if f else False for f in fams], dtype=bool)
        if not has_h or not own.any() or own.all():
            return {"judge_family": judge_fam, "n_own": int(own.sum()), "n_other": int((~own).sum())}
        off = units["value"].to_numpy(dtype=float) - pd.to_numeric(units["human"]).to_numpy(dtype=float)
        a = mean_stat(off[own], n_boot=n_boot, ci=ci, rng=rng)
        b = mean_stat(off[~own], n_boot=n_boot, ci=ci, rng=rng)
        g = gap(a, b, ci)
        return {"judge_family": judge_fam, "n_own": int(own.sum()), "n_other": int((~own).sum()),
                "offset_own": a.as_dict(), "offset_other": b.as_dict(), "difference": g,
                "flagged": bool(g["ci_low"] is not None and g["ci_low"] > 0)}
    if setting != "pair":
        return {"judge_family": judge_fam, "note": "self-preference is measured on pair and score settings"}
    own_slot = np.array([(0 if f[0] == judge_fam else 1) if len(f) == 2 and (f[0] == judge_fam) != (
        f[1] == judge_fam) else -1 for f in fams], dtype=int)
    m = own_slot >= 0
    res: dict[str, Any] = {"judge_family": judge_fam, "n_pairs": int(m.sum())}
    if not m.any():
        return res
    own_choice = np.where(own_slot[m] == 0, "first", "second")
    jv = units["value"].to_numpy()[m]
    jr = np.where(jv == "tie", 0.5, (jv == own_choice).astype(float))
    res["judge_rate"] = mean_stat(jr, n_boot=n_boot, ci=ci, rng=rng).as_dict()
    hv = units["human"].to_numpy()[m] if has_h else None
    if hv is not None and pd.notna(hv).all():
        hr = np.where(hv == "tie", 0.5, (hv == own_choice).astype(float))
        res["human_rate"] = mean_stat(hr, n_boot=n_boot, ci=ci, rng=rng).as_dict()
        d = jr - hr
        ds = mean_stat(d, n_boot=n_boot, ci=ci, rng=rng)  # paired: resample pairs, difference per pair
        res["difference"] = ds.as_dict()
        res["test"] = "paired bootstrap of judge − human own-family rate"
        res["flagged"] = bool(math.isfinite(ds.ci_low) and ds.ci_low > 0)
    else:
        wins = int((jv == own_choice).sum())
        decided = int((jv != "tie").sum())
        p = stats.binomtest(wins, decided, 0.5, alternative="greater").pvalue if decided else math.nan
        res["test"] = "one-sided binomial test of non-tie own-family wins vs 1/2 (no human labels)"
        res["p_value"] = finite_or_none(p)
        res["flagged"] = bool(math.isfinite(p) and p < alpha)
    return res

