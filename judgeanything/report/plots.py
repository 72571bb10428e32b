"""Plots of one run (matplotlib, Agg canvas, PNG files in ``<run_dir>/plots/``).

* ``agreement_by_task.png`` — agreement with the humans per task type with bootstrap CI error bars, read
  from ``metrics.csv`` rows with ``group_by == "task_type"`` and the analysis layer's headline metric
  (``analysis.agreement.PRIMARY``): pair accuracy with ties, score Pearson r, batch normalised Levenshtein
  distance ``nlev`` (the headline metrics of Judge Anything §4 and MLLM-as-a-Judge §4).
* ``offset_heatmap.png`` — mean judge − human score offset by input modality × output modality (score
  setting): the ``offset`` rows of ``metrics.csv`` with ``group_by == "modality_pair"``, so each cell is
  the number the analysis reports (repeats reduced by its reducer, orders combined, human consensus).
* ``calibration.png`` — reliability diagram of token-probability verdicts (counted records whose
  verdicts carry ``probs``, from the analysis frames): confidence = the largest candidate probability,
  correct = the verdict equals the human consensus; 10 equal-width bins and the expected calibration
  error (ECE, Guo et al. 2017, "On Calibration of Modern Neural Networks", eq. 3) in the title and in the
  PNG's ``Description`` text chunk.

Each plot is skipped (no file, an INFO log line) when its data is absent. Figures are drawn on
``matplotlib.figure.Figure`` with the Agg canvas, so importing this module never changes pyplot's backend.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from judgeanything.analysis.agreement import LOWER_IS_BETTER, PRIMARY
from judgeanything.analysis.metrics import METRICS_CSV
from judgeanything.report._run import RunFiles, agrees, finite, read_run

log = logging.getLogger(__name__)

PLOTS_DIR = "plots"
AGREEMENT_PNG = "agreement_by_task.png"
OFFSET_PNG = "offset_heatmap.png"
CALIBRATION_PNG = "calibration.png"
DIFFICULTY_PNG = "difficulty_curves.png"
N_BINS = 10


def write_plots(run_dir: Path | str) -> list[Path]:
    """Draw every plot whose data the run has into ``run_dir/plots/``.

    Returns:
        The PNG files written (a subset of ``agreement_by_task.png``, ``offset_heatmap.png``,
        ``calibration.png``, ``difficulty_curves.png``). A plot without data is skipped: its file is
        removed if an earlier call left one, and the reason is logged at INFO.

    Raises:
        FileNotFoundError: not a run directory (no ``run.json``).
        StoreError / SchemaError: a malformed run file or ``metrics.csv`` (names the file and line).
    """
    return write_plots_for(read_run(run_dir))


def write_plots_for(run: RunFiles) -> list[Path]:
    """:func:`write_plots` for a run already read (the HTML report reads the run once)."""
    out_dir = run.run_dir / PLOTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, draw in (
        (AGREEMENT_PNG, plot_agreement_by_task),
        (OFFSET_PNG, plot_offset_heatmap),
        (CALIBRATION_PNG, plot_calibration),
        (DIFFICULTY_PNG, plot_difficulty_curves),
    ):
        path = draw(run, out_dir / name)
        if path is None:
            (out_dir / name).unlink(missing_ok=True)
        else:
            written.append(path)
    return written


def _save(fig: Figure, path: Path, description: str = "") -> Path:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, format="png", dpi=110, metadata={"Description": description} if description else None)
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------------------
# Agreement by task type (metrics.csv)
# --------------------------------------------------------------------------------------------------


#: One task-type cell: (value, ci_low, ci_high); the CI bounds are ``None`` when metrics.csv has none.
Cell = tuple[float, float | None, float | None]


@dataclass
class AgreementPanel:
    """One setting's headline agreement metric per rubric and task type (a panel of the bar chart).

    Attributes:
        setting / metric: e.g. ``"pair"`` / ``"accuracy_with_tie"``.
        values: rubric → task type → :data:`Cell` (rows with a missing or non-finite value are left out).
    """

    setting: str
    metric: str
    values: dict[str, dict[str, Cell]]


def agreement_by_task(metrics: pd.DataFrame) -> list[AgreementPanel]:
    """The ``group_by == "task_type"`` rows of ``metrics.csv`` (:func:`~judgeanything.report._run.run_metrics`)
    for each setting's headline metric (``analysis.agreement.PRIMARY``), one panel per setting that has
    any; ``[]`` without metrics."""
    df = metrics[metrics["group_by"] == "task_type"]
    panels = []
    for setting, metric in PRIMARY.items():
        values: dict[str, dict[str, Cell]] = defaultdict(dict)
        for r in df[(df["setting"] == setting) & (df["metric"] == metric)].itertuples(index=False):
            v = finite(r.value)
            if v is not None:
                values[str(r.rubric)][str(r.group)] = (v, finite(r.ci_low), finite(r.ci_high))
        if values:
            panels.append(AgreementPanel(setting, metric, dict(values)))
    return panels


def plot_agreement_by_task(run: RunFiles, path: Path) -> Path | None:
    """Bar chart of :func:`agreement_by_task` (one panel per setting, one bar per rubric and task type)
    with the ``ci_low``–``ci_high`` interval as error bars. Returns ``None`` (nothing drawn) when
    ``metrics.csv`` is absent or has no task-type rows of a headline metric."""
    panels = agreement_by_task(run.metrics)
    if not panels:
        log.info(
            "plot %s skipped: %s has no task_type rows of %s",
            path.name,
            run.run_dir / METRICS_CSV,
            "/".join(PRIMARY.values()),
        )
        return None
    n_tasks = max(len({t for cells in p.values.values() for t in cells}) for p in panels)
    fig = Figure(figsize=(max(6.0, 0.9 * n_tasks), 3.6 * len(panels)))
    for k, panel in enumerate(panels):
        ax = fig.add_subplot(len(panels), 1, k + 1)
        tasks = sorted({t for cells in panel.values.values() for t in cells})
        rubrics = sorted(panel.values, key=lambda r: (r != "overall", r))
        width = 0.8 / len(rubrics)
        x = np.arange(len(tasks))
        for j, rubric in enumerate(rubrics):
            cells = [panel.values[rubric].get(t, (math.nan, None, None)) for t in tasks]
            y = np.array([c[0] for c in cells])
            below = [c[0] - c[1] if c[1] is not None else 0.0 for c in cells]
            above = [c[2] - c[0] if c[2] is not None else 0.0 for c in cells]
            yerr = np.clip(np.array([below, above]), 0.0, None)
            ax.bar(x + (j - (len(rubrics) - 1) / 2) * width, y, width, yerr=yerr, capsize=3, label=rubric)
        ax.set_xticks(x, tasks, rotation=30, ha="right", fontsize=8)
        better = " (lower is better)" if panel.metric in LOWER_IS_BETTER else ""
        ax.set_ylabel(f"{panel.metric}{better}")
        ax.set_title(f"{panel.setting}: {panel.metric} by task type ({run.ci_label} CI)")
        ax.axhline(0, color="black", lw=0.6)
        if len(rubrics) > 1:
            ax.legend(fontsize=7, ncol=min(4, len(rubrics)))
    return _save(fig, path)


# --------------------------------------------------------------------------------------------------
# Agreement as a function of each difficulty knob (probe suite: metrics.csv group_by difficulty:<knob>)
# --------------------------------------------------------------------------------------------------


def _knob_key(v: str) -> tuple[int, float, str]:
    try:
        return (0, float(v), v)
    except ValueError:
        return (1, 0.0, v)


def difficulty_curves(metrics: pd.DataFrame) -> dict[str, dict[str, list[tuple[str, Cell, int]]]]:
    """Per setting's headline metric (``overall`` rubric, else the first), per difficulty knob with ≥ 2
    values: ``[(knob value, (value, ci_low, ci_high), n)]`` sorted by value (numeric when it parses).

    Knob values come from the items' ``meta["difficulty"]`` (the probe suite's documented knobs); items of
    different probe families that share a knob name are pooled at each value."""
    df = metrics[metrics["group_by"].astype(str).str.startswith("difficulty:")]
    out: dict[str, dict[str, list[tuple[str, Cell, int]]]] = {}
    for setting, metric in PRIMARY.items():
        sel = df[(df["setting"] == setting) & (df["metric"] == metric)]
        if sel.empty:
            continue
        rubrics = sorted(set(sel["rubric"]), key=lambda r: (r != "overall", r))
        sel = sel[sel["rubric"] == rubrics[0]]
        knobs: dict[str, list[tuple[str, Cell, int]]] = {}
        for gb, g in sel.groupby("group_by"):
            pts = []
            for r in g.itertuples(index=False):
                v = finite(r.value)
                if v is not None:
                    n = int(r.n) if r.n is not None and not pd.isna(r.n) else 0
                    pts.append((str(r.group), (v, finite(r.ci_low), finite(r.ci_high)), n))
            if len(pts) >= 2:
                knobs[str(gb).split(":", 1)[1]] = sorted(pts, key=lambda p: _knob_key(p[0]))
        if knobs:
            out[f"{setting}: {metric}"] = knobs
    return out


def plot_difficulty_curves(run: RunFiles, path: Path) -> Path | None:
    """One small panel per difficulty knob: the headline metric at each knob value with its CI — where
    a judge's perception breaks down as a probe gets harder. ``None`` when no knob has ≥ 2 values."""
    curves = difficulty_curves(run.metrics)
    panels = [(title, knob, pts) for title, knobs in curves.items() for knob, pts in sorted(knobs.items())]
    if not panels:
        log.info("plot %s skipped: no difficulty:<knob> rows with two or more values in %s", path.name,
                 run.run_dir / METRICS_CSV)
        return None
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows))
    for k, (title, knob, pts) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, k + 1)
        x = np.arange(len(pts))
        y = np.array([c[0] for _, c, _ in pts])
        lo = [c[0] - c[1] if c[1] is not None else 0.0 for _, c, _ in pts]
        hi = [c[2] - c[0] if c[2] is not None else 0.0 for _, c, _ in pts]
        numeric = all(_knob_key(v)[0] == 0 for v, _, _ in pts)  # categories get no connecting line
        ax.errorbar(x, y, yerr=np.clip(np.array([lo, hi]), 0.0, None), marker="o", capsize=3,
                    linestyle="-" if numeric else "none")
        ax.set_xticks(x, [f"{v}\n(n={n})" for v, _, n in pts], fontsize=6)
        ax.set_title(f"{knob}", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        if k % cols == 0:
            ax.set_ylabel(title.split(": ", 1)[1], fontsize=7)
    fig.suptitle(f"{', '.join(curves)} by difficulty knob ({run.ci_label} CI)", fontsize=9)
    return _save(fig, path)


# --------------------------------------------------------------------------------------------------
# Judge − human offset by input × output modality (score setting)
# --------------------------------------------------------------------------------------------------


@dataclass
class OffsetTable:
    """Mean judge − human score offsets.

    Attributes:
        rubric: the rubric shown (``"overall"`` when the run has it, else ``"all"``: every rubric pooled).
        inputs / outputs: row / column modality names.
        mean: ``(len(inputs), len(outputs))`` float, NaN where no item falls.
        n: ``(len(inputs), len(outputs))`` int, item × rubric pairs per cell.
    """

    rubric: str
    inputs: list[str]
    outputs: list[str]
    mean: np.ndarray
    n: np.ndarray


def modality_offsets(metrics: pd.DataFrame) -> OffsetTable | None:
    """Judge − human offsets of the score setting, per input modality × output modality: the ``offset``
    rows of ``metrics.csv`` with ``group_by == "modality_pair"`` (groups such as ``"audio+video→text"``;
    the input modality is the non-text inputs joined with ``+``, or ``text`` for Text2X). Rubric
    ``overall``, else ``all``, else the first. Returns ``None`` when there is no such row with a value."""
    df = metrics[(metrics["setting"] == "score") & (metrics["group_by"] == "modality_pair")
                 & (metrics["metric"] == "offset") & metrics["value"].map(finite).notna()]
    if df.empty:
        return None
    rubrics = set(df["rubric"])
    rubric = next((r for r in ("overall", "all") if r in rubrics), min(rubrics))
    df = df[df["rubric"] == rubric]
    pair = df["group"].str.split("→", n=1, expand=True)
    cells = pd.DataFrame({"input": pair[0], "output": pair[1], "value": df["value"].astype(float),
                          "n": df["n"].fillna(0).astype(int)})
    mean = cells.pivot(index="input", columns="output", values="value")
    n = cells.pivot(index="input", columns="output", values="n").fillna(0).astype(int)
    return OffsetTable(rubric, [str(i) for i in mean.index], [str(c) for c in mean.columns],
                       mean.to_numpy(dtype=float), n.to_numpy())


def plot_offset_heatmap(run: RunFiles, path: Path) -> Path | None:
    """Heat map of :func:`modality_offsets` (diverging colours centred on 0, cells annotated with the
    mean offset and n). Returns ``None`` when there is no score data."""
    table = modality_offsets(run.metrics)
    if table is None:
        log.info("plot %s skipped: no score-setting modality_pair offset rows in %s", path.name,
                 run.run_dir / METRICS_CSV)
        return None
    fig = Figure(figsize=(1.6 * len(table.outputs) + 2.5, 1.0 * len(table.inputs) + 1.8))
    ax = fig.add_subplot(1, 1, 1)
    lim = float(np.nanmax(np.abs(table.mean))) or 1.0
    im = ax.imshow(np.ma.masked_invalid(table.mean), cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -lim, lim))
    for i in range(len(table.inputs)):
        for j in range(len(table.outputs)):
            if table.n[i, j]:
                ax.text(j, i, f"{table.mean[i, j]:+.2f}\nn={table.n[i, j]}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(table.outputs)), table.outputs)
    ax.set_yticks(range(len(table.inputs)), table.inputs)
    ax.set_xlabel("output modality")
    ax.set_ylabel("input modality")
    ax.set_title(f"judge − human score offset ({table.rubric})")
    fig.colorbar(im, ax=ax, label="mean offset (score points)")
    return _save(fig, path)


# --------------------------------------------------------------------------------------------------
# Calibration of token-probability verdicts
# --------------------------------------------------------------------------------------------------


@dataclass
class Calibration:
    """A reliability diagram's data.

    Attributes:
        confidence: ``(N,) float`` largest candidate probability of each verdict with ``probs`` and a label.
        correct: ``(N,) bool`` whether that verdict agrees with the human consensus.
        bin_count / bin_confidence / bin_accuracy: ``(n_bins,)`` per equal-width bin ``(k/n, (k+1)/n]``
            (the first bin also holds 0); mean confidence and accuracy are NaN in empty bins.
        ece: expected calibration error ``Σ_b (n_b / N) |acc_b − conf_b|`` (Guo et al. 2017, eq. 3).
    """

    confidence: np.ndarray
    correct: np.ndarray
    bin_count: np.ndarray
    bin_confidence: np.ndarray
    bin_accuracy: np.ndarray
    ece: float


def reliability(confidence: Sequence[float], correct: Sequence[bool], n_bins: int = N_BINS) -> Calibration:
    """Bin ``confidence`` into ``n_bins`` equal-width bins and compute the ECE.

    Hand-rolled on numpy because scikit-learn's ``calibration_curve`` drops the per-bin counts the ECE
    weights by. Raises ``ValueError`` for empty input or confidences outside [0, 1].
    """
    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if conf.size == 0 or conf.shape != ok.shape:
        raise ValueError(f"need equal, non-empty confidence/correct arrays, got {conf.shape} and {ok.shape}")
    if np.any((conf < 0) | (conf > 1 + 1e-9)):
        raise ValueError("confidences must lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.digitize(conf, edges[1:-1], right=True)  # bin k holds (edges[k], edges[k+1]]
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / count
        acc = np.bincount(idx, weights=ok.astype(float), minlength=n_bins) / count
    gaps = np.where(count > 0, np.abs(acc - mean_conf), 0.0)
    ece = float(np.sum(count / conf.size * gaps))
    return Calibration(conf, ok, count, mean_conf, acc, ece)


def calibration(run: RunFiles, n_bins: int = N_BINS) -> Calibration | None:
    """Reliability data of every counted verdict that carries ``probs`` and has a human label (both
    orders and every repeat count). The verdict's ``value`` is the judge's answer; its confidence is
    ``max(probs)``. Returns ``None`` when no such verdict exists."""
    conf: list[float] = []
    ok: list[bool] = []
    v = run.data.verdicts
    for item_id, rubric, setting, value, probs in zip(v["item_id"], v["rubric"], v["setting"], v["value"],
                                                     v["probs"], strict=True):
        human = run.human(item_id, rubric)
        if not probs or human is None:  # failures have no probs
            continue
        conf.append(max(float(p) for p in probs.values()))
        ok.append(bool(agrees(setting, value, human)))
    if not conf:
        return None
    return reliability(conf, ok, n_bins)


def plot_calibration(run: RunFiles, path: Path) -> Path | None:
    """Reliability diagram (accuracy per confidence bin against the diagonal, bar widths = bins, counts
    annotated) with the ECE in the title and in the PNG ``Description`` chunk (``ECE=<value>``).
    Returns ``None`` when no verdict has ``probs``."""
    cal = calibration(run)
    if cal is None:
        log.info("plot %s skipped: no verdict with token probabilities (probs) and a human label", path.name)
        return None
    n_bins = cal.bin_count.size
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    fig = Figure(figsize=(5.2, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    filled = cal.bin_count > 0
    ax.bar(
        edges[:-1][filled],
        cal.bin_accuracy[filled],
        width=1.0 / n_bins,
        align="edge",
        edgecolor="black",
        alpha=0.75,
        label="accuracy",
    )
    ax.plot(
        cal.bin_confidence[filled],
        cal.bin_accuracy[filled],
        "o",
        color="black",
        ms=3,
        label="mean confidence",
    )
    for k in np.flatnonzero(filled):
        ax.text(
            edges[k] + 0.5 / n_bins,
            min(cal.bin_accuracy[k] + 0.02, 0.97),
            f"n={cal.bin_count[k]}",
            ha="center",
            fontsize=7,
        )
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (largest candidate probability)")
    ax.set_ylabel("accuracy vs human")
    ax.set_title(f"calibration of token-probability verdicts\nn={cal.confidence.size}, ECE={cal.ece:.3f}")
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, path, description=f"ECE={cal.ece!r}")


# --------------------------------------------------------------------------------------------------
# OmniArena win-rate matrix
# --------------------------------------------------------------------------------------------------


def plot_win_rate(rate: pd.DataFrame, count: pd.DataFrame, path: Path, title: str) -> Path:
    """Heat map of a win-rate matrix (row model's win rate against the column model, ties ½; models in
    ranking order), each cell annotated with the rate and the number of games; pairs that never met are
    blank. ``rate``/``count``: (m, m) frames from :func:`judgeanything.analysis.arena.win_rate_matrix`."""
    m = len(rate)
    fig = Figure(figsize=(0.9 * m + 3.0, 0.75 * m + 2.0))
    ax = fig.add_subplot(1, 1, 1)
    values = rate.to_numpy(dtype=np.float64)
    im = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu", norm=TwoSlopeNorm(0.5, 0.0, 1.0))
    for i in range(m):
        for j in range(m):
            if count.iat[i, j]:
                ax.text(j, i, f"{values[i, j]:.2f}\nn={count.iat[i, j]}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(m), [str(c) for c in rate.columns], rotation=45, ha="right")
    ax.set_yticks(range(m), [str(c) for c in rate.index])
    ax.set_xlabel("opponent")
    ax.set_ylabel("model")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="win rate (ties count ½)")
    return _save(fig, path, description=title)
