"""Plots: files exist and are PNGs, skipped plots leave no file, numbers equal independent computations."""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from judgeanything.analysis import analyze_run
from judgeanything.report._run import read_run, run_metrics
from judgeanything.report.plots import (
    AGREEMENT_PNG,
    CALIBRATION_PNG,
    OFFSET_PNG,
    AgreementPanel,
    agreement_by_task,
    calibration,
    modality_offsets,
    reliability,
    write_plots,
)
from judgeanything.store import StoreError, read_jsonl


def _png_ok(path: Path) -> Image.Image:
    im = Image.open(path)
    im.verify()
    im = Image.open(path)
    assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100
    return im


def _independent_ece(conf: list[float], correct: list[bool], n_bins: int = 10) -> float:
    """ECE by a plain loop with exact rational bin edges: bin k holds (k/n, (k+1)/n], 0 goes to bin 0."""
    total = 0.0
    for k in range(n_bins):
        lo, hi = Fraction(k, n_bins), Fraction(k + 1, n_bins)
        pairs = zip(conf, correct, strict=True)
        members = [(c, ok) for c, ok in pairs if lo < Fraction(c) <= hi or (k == 0 and c == 0)]
        if members:
            acc = sum(ok for _, ok in members) / len(members)
            mean_conf = sum(c for c, _ in members) / len(members)
            total += len(members) / len(conf) * abs(acc - mean_conf)
    return total


def _ece_from_png(path: Path) -> float:
    desc = Image.open(path).text["Description"]
    assert desc.startswith("ECE=")
    return float(desc.removeprefix("ECE="))


def test_pair_run_plots(pair_run: Path, caplog: pytest.LogCaptureFixture) -> None:
    (pair_run / "plots").mkdir()
    (pair_run / "plots" / OFFSET_PNG).write_bytes(b"stale")  # from an earlier call: must go
    with caplog.at_level(logging.INFO, logger="judgeanything.report.plots"):
        written = write_plots(pair_run)
    assert sorted(p.name for p in written) == sorted([AGREEMENT_PNG, CALIBRATION_PNG])
    for p in written:
        _png_ok(p)
    assert not (pair_run / "plots" / OFFSET_PNG).exists()
    assert any(OFFSET_PNG in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)


def test_calibration_ece_pair_matches_independent(pair_run: Path) -> None:
    # Independent: every non-failed record's max prob; correct = choice == human majority (tie on a split).
    human = {
        "p-img": "first",
        "p-aud": "second",
        "p-vid": "tie",
        "p-av": "tie",
        "p-miss": "first",
        "p-txt": "second",
    }
    conf, ok = [], []
    for rec in read_jsonl(pair_run / "verdicts.jsonl"):
        for o in rec["outcomes"]:
            if "failure" not in o:
                conf.append(max(o["probs"].values()))
                ok.append(o["value"] == human[rec["item_id"]])
    assert len(conf) == 11 and sum(ok) == 9
    expected = _independent_ece(conf, ok)
    cal = calibration(read_run(pair_run))
    assert cal is not None and cal.ece == pytest.approx(expected, abs=1e-12)
    write_plots(pair_run)
    assert _ece_from_png(pair_run / "plots" / CALIBRATION_PNG) == pytest.approx(expected, abs=1e-12)


def test_score_run_plots_offsets_and_ece(score_run: Path, score_cases: list, caplog: pytest.LogCaptureFixture
                                         ) -> None:
    with caplog.at_level(logging.INFO, logger="judgeanything.report.plots"):
        written = write_plots(score_run)  # not analysed yet: no metrics.csv, no heat map
    assert [p.name for p in written] == [CALIBRATION_PNG]
    assert any(OFFSET_PNG in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    analyze_run(score_run, bootstrap=0)
    written = write_plots(score_run)
    assert {OFFSET_PNG, CALIBRATION_PNG} <= {p.name for p in written}
    for p in written:
        _png_ok(p)

    # Offsets by hand: per item the analysis's judge score (repeats reduced by the default "mode": s2's
    # 2 and 3 are equally frequent and equally far from their median → the lower, 2) minus the human
    # mean, averaged per input × output modality.
    table = modality_offsets(run_metrics(score_run))
    assert table is not None and table.rubric == "overall"
    got = {
        (i, o): (table.mean[a, b], table.n[a, b])
        for a, i in enumerate(table.inputs)
        for b, o in enumerate(table.outputs)
        if table.n[a, b]
    }
    assert got == {
        ("image", "text"): (pytest.approx(0.0), 2),  # s1 4 − 3, s2 2 − 3
        ("text", "image"): (pytest.approx(0.0), 1),  # s3 5 − 5
        ("audio+video", "text"): (pytest.approx(-1.5), 1),  # s4 1 − mean(2, 3)
        ("text", "audio"): (pytest.approx(0.0), 1),  # s5 3 − 3
        ("audio", "audio"): (pytest.approx(2.0), 1),  # s6 4 − 2 (its refusal is not a score)
    }
    assert math.isnan(table.mean[table.inputs.index("audio+video"), table.outputs.index("audio")])

    conf, ok = [], []
    for _iid, _task, judged, human, probs in score_cases:
        if probs is not None:
            conf.append(max(probs.values()))
            ok.append(round(sum(human) / len(human), 6) == judged[0])

    assert ok == [False, False, True, False, True]
    expected = _independent_ece(conf, ok)
    assert _ece_from_png(score_run / "plots" / CALIBRATION_PNG) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx((0.75 + 0.45 + 0.58 + (1 - 0.92) + (1 - 0.61)) / 5)


def test_reliability_bins_and_errors() -> None:
    cal = reliability([0.0, 0.1, 0.15, 1.0], [True, False, True, True])
    assert cal.bin_count.tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert cal.ece == pytest.approx(_independent_ece([0.0, 0.1, 0.15, 1.0], [True, False, True, True]))
    with pytest.raises(ValueError, match="non-empty"):
        reliability([], [])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        reliability([1.5], [True])


def test_agreement_panels_and_plot(score_run: Path) -> None:
    header = "setting,rubric,group_by,group,metric,value,ci_low,ci_high,n\n"
    rows = [
        "score,overall,task_type,Image2Text,pearson,0.5,0.1,0.8,20",
        "score,clarity,task_type,Image2Text,pearson,0.3,,,20",
        "score,clarity,task_type,Text2Audio,pearson,nan,,,3",  # no value: left out
        "score,overall,task_type,Image2Text,spearman,0.9,0.8,1.0,20",  # not the headline metric
        "batch,overall,task_type,Image2Text,nlev,0.4,0.3,0.5,10",
        "score,overall,pooled,all,pearson,0.4,0.2,0.6,40",  # not a task-type row
    ]
    (score_run / "metrics.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    assert agreement_by_task(run_metrics(score_run)) == [
        AgreementPanel(
            "score",
            "pearson",
            {"overall": {"Image2Text": (0.5, 0.1, 0.8)}, "clarity": {"Image2Text": (0.3, None, None)}},
        ),
        AgreementPanel("batch", "nlev", {"overall": {"Image2Text": (0.4, 0.3, 0.5)}}),
    ]
    written = write_plots(score_run)
    assert AGREEMENT_PNG in {p.name for p in written}
    _png_ok(score_run / "plots" / AGREEMENT_PNG)

    (score_run / "metrics.csv").write_text(header + rows[3] + "\n", encoding="utf-8")
    assert agreement_by_task(run_metrics(score_run)) == []
    assert AGREEMENT_PNG not in {p.name for p in write_plots(score_run)}
    assert not (score_run / "plots" / AGREEMENT_PNG).exists()


def test_bad_metrics_csv(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("setting,metric,value\npair,accuracy,1\n", encoding="utf-8")
    with pytest.raises(StoreError, match=r"metrics.csv: cannot be read as a metrics.csv \(KeyError: 'n'\)"):
        run_metrics(tmp_path)
    (tmp_path / "metrics.csv").write_text("setting,metric,value,n\npair,accuracy,1,3\n", encoding="utf-8")
    with pytest.raises(StoreError, match=r"metrics.csv: missing column\(s\) ci_high, ci_low, group, group_by, rubric"):
        run_metrics(tmp_path)
    assert run_metrics(tmp_path / "absent").empty


def test_not_a_run_dir(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"run\.json"):
        write_plots(tmp_path)
