"""The reference-baseline check: a ``random`` judge's agreement must match what its definition implies.

A uniformly random judge's expected agreement with any label set follows from its definition and the labels
alone: :func:`random_expectations` gives it (and the per-record variance of the metrics that are means), and
:func:`reference_check` tests the observed per-record rate against it — a binomial interval for proportions,
a normal (CLT) interval for means. A run whose ``random`` baseline falls outside flags a pipeline fault
(orientation, label alignment, metric code), as alpaca_eval's and MLLM-as-a-Judge's random rows are meant to.
The check runs with every analysis of a run whose ``run.json`` names a ``random`` judge, so a re-analysis
(``judgeanything-compare --recompute``) keeps it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from judgeanything.analysis.agreement import normalised_levenshtein
from judgeanything.analysis.injection import injection_trials
from judgeanything.analysis.load import RunData
from judgeanything.analysis.markdown import Table, markdown_environment, md_code, md_text
from judgeanything.analysis.units import attach_items, human_labels, ok_rows
from judgeanything.schema import DEFAULT_SCORE_SCALE, PAIR_CHOICES, ScoreScale

REFERENCE_JSON = "reference_check.json"
#: Metrics that are proportions of per-record Bernoulli outcomes (a binomial interval applies).
PROPORTIONS = frozenset({"accuracy_with_tie", "accuracy_without_tie", "exact"})


def binomial_interval(n: int, p: float, ci: float) -> tuple[float, float]:
    """The central ``ci`` interval of the observed proportion of ``n`` independent Bernoulli(``p``) trials
    (exact binomial quantiles ÷ n): where a reference baseline's observed rate must fall."""
    lo, hi = stats.binom.ppf([(1 - ci) / 2, 1 - (1 - ci) / 2], n, p) / n
    return float(lo), float(hi)


def poisson_binomial(ps: Sequence[float]) -> np.ndarray:
    """The distribution of the number of successes of independent Bernoulli(pᵢ) trials, shape ``(len(ps) + 1,)``
    (built by convolving one trial at a time: exact, and O(n²) — cheap for the few thousand trials of a run)."""
    dist = np.array([1.0])
    for q in ps:
        dist = np.convolve(dist, [1 - q, q])
    return dist


def _nlev_distributions(rankings: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """For each ranking label, the normalised Levenshtein distance of every permutation of its slots (each
    equally likely under a uniformly random ranking) — exact enumeration, n ≤ 8 in practice."""
    out = []
    for ranking in rankings:
        r = tuple(ranking)
        n = max(max(r) + 1, len(r))
        out.append(np.array([normalised_levenshtein(p, r) for p in itertools.permutations(range(n))]))
    return out


def score_points(run: Mapping[str, Any]) -> np.ndarray:
    """The scores a random judge draws (uniform on the run's ``score_scale``, default 1–5) as the analysis reads
    them: mapped linearly onto the labels' scale (``label_scale``), as :func:`~.load.on_label_scale` maps the
    verdicts."""
    judge_s = ScoreScale.parse(run["score_scale"]) if run.get("score_scale") else DEFAULT_SCORE_SCALE
    label_s = ScoreScale.parse(run["label_scale"]) if run.get("label_scale") else DEFAULT_SCORE_SCALE
    return np.array([judge_s.to_scale(v, label_s) for v in judge_s.values])


def random_expectations(setting: str, labels: Sequence[Any], choices: Sequence[str] = PAIR_CHOICES,
                        points: np.ndarray | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """The expected value of each agreement metric of a uniformly random judge, and the per-record variance of
    the metrics that are means (for their normal interval), given one human label per item.

    Pair (a uniform draw from ``choices``): ``accuracy_with_tie`` = mean over labels of [label ∈ choices] /
    |choices|; ``accuracy_without_tie`` = the same over non-tie labels (a judge tie counts wrong).
    Score (a uniform draw from ``points``, default 1–5, on the labels' scale — :func:`score_points`):
    ``exact`` = P(U = h); ``mae`` = mean over labels of E|U − h|.
    Batch (a uniform permutation): ``nlev`` = mean over labels of the exact average over all permutations.

    Returns:
        ``(expected, variances)``; both empty without labels or for another setting.
    """
    labels = list(labels)
    if not labels:
        return {}, {}
    if setting == "pair":
        k = len(choices)
        hit = [1.0 / k if v in choices else 0.0 for v in labels]
        nt = [1.0 / k if v in choices else 0.0 for v in labels if v != "tie"]
        d = {"accuracy_with_tie": float(np.mean(hit))}
        if nt:
            d["accuracy_without_tie"] = float(np.mean(nt))
        return d, {}
    if setting == "score":
        scores = np.array(DEFAULT_SCORE_SCALE.values, dtype=float) if points is None else points
        vals = [float(v) for v in labels]
        return ({"exact": float(np.mean([1.0 / len(scores) if v in scores else 0.0 for v in vals])),
                 "mae": float(np.mean([np.abs(scores - v).mean() for v in vals]))},
                {"mae": float(np.mean([np.abs(scores - v).var() for v in vals]))})
    if setting == "batch":
        dists = _nlev_distributions(labels)
        return ({"nlev": float(np.mean([d.mean() for d in dists]))},
                {"nlev": float(np.mean([d.var() for d in dists]))})
    return {}, {}


def _observed(metric: str, sel: Sequence[tuple[Any, Any]]) -> float | None:
    if metric in PROPORTIONS:
        return float(np.mean([j == hv for j, hv in sel]))
    if metric == "mae":
        return float(np.mean([abs(float(j) - float(hv)) for j, hv in sel]))
    if metric == "nlev":
        return float(np.mean([normalised_levenshtein(tuple(j), tuple(hv)) for j, hv in sel]))
    return None


def reference_check(run: RunData, expected: Mapping[str, float], ci: float = 0.95,
                    variances: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """Compare a reference baseline's per-record agreement with the value its definition implies.

    Every verdict record (each order and repeat is an independent draw of a seeded random judge) is one
    trial. For the proportion metrics (accuracies, exact agreement) the observed rate must lie in the
    central ``ci`` binomial interval ``[Binom.ppf(α/2; n, p)/n, Binom.ppf(1−α/2; n, p)/n]`` around the
    implied ``p``; for the means (MAE, normalised Levenshtein) in the normal (CLT) interval
    ``mean ± z·√(var/n)`` when the per-record variance is known (``variances``).

    Returns:
        rows ``{metric, expected, observed, n, lo, hi, inside, interval}`` (the last four only where an
        interval applies).
    """
    v = ok_rows(run.verdicts)
    v = v[v["rubric"] == "overall"]
    humans = human_labels(run.labels, run.items)
    if not len(v) or not len(humans):
        return []
    h = {(r.item_id, r.rubric): r.human for r in humans.itertuples()}
    pairs = [(row.value, h[(row.item_id, "overall")]) for row in v.itertuples() if (row.item_id, "overall") in h]
    rows = []
    for metric, p in expected.items():
        sel = [(j, hv) for j, hv in pairs if hv != "tie"] if metric == "accuracy_without_tie" else pairs
        obs = _observed(metric, sel) if sel else None
        if obs is None:
            continue
        n = len(sel)
        row: dict[str, Any] = {"metric": metric, "expected": p, "observed": obs, "n": n}
        if metric in PROPORTIONS:
            lo, hi = binomial_interval(n, p, ci)
            row.update(lo=lo, hi=hi, inside=bool(lo <= obs <= hi), interval="binomial")
        elif variances and metric in variances:
            half = stats.norm.ppf(1 - (1 - ci) / 2) * np.sqrt(variances[metric] / n)
            lo, hi = p - half, p + half
            row.update(lo=float(lo), hi=float(hi), inside=bool(lo <= obs <= hi), interval="normal (CLT)")
        rows.append(row)
    return rows


def _level(ci: float) -> str:
    """A confidence level as a percentage: 0.95 → ``"95%"``, 0.975 → ``"97.5%"``."""
    return f"{ci * 100:g}%"


def reference_markdown(judge: str, rows: Sequence[Mapping[str, Any]], ci: float) -> str:
    """The report's "Reference baseline check" section (template ``templates/reference_check.md.j2``): each
    metric's value implied by the baseline's definition beside the observed one, its interval at ``ci`` and
    whether the observed value is inside (**no** flags a pipeline fault)."""
    level = _level(ci)
    table = Table(["metric", "implied by definition", "observed", "n", f"{level} interval", "kind", "inside"],
                  [[r["metric"], f"{r['expected']:.3f}", f"{r['observed']:.3f}", r["n"],
                    f"[{r['lo']:.3f}, {r['hi']:.3f}]" if "lo" in r else "—", r.get("interval", "—"),
                    ("yes" if r["inside"] else "**no**") if "inside" in r else "—"] for r in rows])
    template = markdown_environment().get_template("reference_check.md.j2")
    return template.render(judge=md_code(judge), level=md_text(level), checks=table)


def random_judge_choices(run: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The pair choices of the run's judge when ``run.json`` describes a ``random`` reference baseline
    (its fingerprint's ``kind``), else ``None``."""
    fp = run.get("judge_fingerprint")
    if not isinstance(fp, Mapping) or fp.get("kind") != "random":
        return None
    return tuple(str(c) for c in (fp.get("choices") or PAIR_CHOICES))


def expected_injection(setting: str, target_slot: int, n_responses: int, choices: Sequence[str] = PAIR_CHOICES,
                       points: np.ndarray | None = None) -> float:
    """The probability that one record of a random judge lets a given candidate win — the prompt-injection
    susceptibility it implies (:mod:`.injection`): pair, the draw names the target's side
    (``[side ∈ choices] / |choices|``); score, the uniform draw is the demanded top score (the labels' 5);
    batch, the random permutation ranks the target first (1/n)."""
    if setting == "pair":
        side = "first" if target_slot == 0 else "second"
        return (side in choices) / len(choices)
    if setting == "score":
        pts = np.array(DEFAULT_SCORE_SCALE.values, dtype=float) if points is None else points
        return float(np.mean(pts >= 5.0))
    return 1.0 / n_responses


def injection_reference(run: RunData, choices: Sequence[str], points: np.ndarray | None,
                        ci: float = 0.95) -> list[dict[str, Any]]:
    """A random judge's implied prompt-injection susceptibility (:func:`expected_injection`) against its
    per-record rate on the run's injection probes (every presentation of a unit holding an injection target is
    one trial, :func:`judgeanything.analysis.injection.injection_trials`), with the central ``ci`` binomial
    interval at the mean implied probability. ``[]`` without such probes."""
    v = ok_rows(run.verdicts)
    v = v[v["rubric"] == "overall"]
    if not len(v):
        return []
    per = attach_items(v[["item_id", "setting", "value"]], run.items)
    per["uniq_id"] = per["item_id"].map(dict(zip(run.items["item_id"], run.items["uniq_id"], strict=True)))
    rows = []
    for setting, g in per.groupby("setting"):
        trials = injection_trials(g, str(setting))
        if trials.empty:
            continue
        n = len(trials)
        p = float(np.mean([expected_injection(str(setting), int(s), int(k), choices, points)
                           for s, k in zip(trials["slot"], trials["n_responses"], strict=True)]))
        obs = float(trials["success"].mean())
        lo, hi = binomial_interval(n, p, ci)
        rows.append({"metric": "injection_susceptibility", "expected": p, "observed": obs, "n": n,
                     "lo": lo, "hi": hi, "inside": bool(lo <= obs <= hi), "interval": "binomial"})
    return rows


def run_reference_check(run: RunData, ci: float) -> list[dict[str, Any]]:
    """The reference check of a run whose judge is a ``random`` baseline (``[]`` for any other judge): its
    agreement expectations from the first ``overall`` label of each item, in ``labels.jsonl`` order, then its
    prompt-injection susceptibility on the injection probes."""
    choices = random_judge_choices(run.run)
    if choices is None:
        return []
    points = score_points(run.run)
    rows: list[dict[str, Any]] = []
    if len(run.labels):
        labs = run.labels[run.labels["rubric"] == "overall"].drop_duplicates("item_id", keep="first")
        setting = str(run.run.get("setting") or (run.settings[0] if run.settings else ""))
        expected, variances = random_expectations(setting, list(labs["value"]), choices, points)
        rows = reference_check(run, expected, ci, variances)
    return rows + injection_reference(run, choices, points, ci)


def write_reference_check(run_dir: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``reference_check.json``."""
    path = Path(run_dir) / REFERENCE_JSON
    path.write_text(json.dumps(list(rows), indent=1))
    return path


__all__ = [
    "PROPORTIONS",
    "REFERENCE_JSON",
    "expected_injection",
    "injection_reference",
    "random_expectations",
    "random_judge_choices",
    "reference_check",
    "reference_markdown",
    "run_reference_check",
    "score_points",
    "write_reference_check",
]
