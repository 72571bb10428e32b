"""The probe suite as a benchmark: coverage, item/label consistency, reproducibility, cache, filters."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from judgeanything.datasets.base import Dataset
from judgeanything.datasets.probes import FAMILIES, ProbesDataset
from judgeanything.datasets.probes.families import CORE_FAMILIES
from judgeanything.schema import TASK_TYPES, BatchItem, PairItem, ScoreItem, TaskType

from .probe_sets import ProbeSet

REPO = Path(__file__).resolve().parents[2]


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_small_generation_time_is_reported(small: ProbeSet) -> None:
    n_files = len(_hashes(small.root))
    print(f"\nprobes small: {len(small.data['batch'].items)} queries, {n_files} files, "
          f"generated in {small.seconds:.2f} s")
    assert n_files > 100


def test_small_covers_every_task_type_with_two_queries_per_family(small: ProbeSet) -> None:
    assert isinstance(small.ds, Dataset)
    batch = small.data["batch"]
    assert {it.query.task_name for it in batch.items} == set(TASK_TYPES)
    per_family = Counter(it.query.meta["family"] for it in batch.items)
    expected = {f.name for f in CORE_FAMILIES if all(shutil.which(x) for x in f.requires)}
    assert set(per_family) == expected and set(per_family.values()) == {2}
    assert Counter(it.query.meta["variant"] for it in batch.items) == {"distinct": len(expected),
                                                                        "tie": len(expected)}
    assert batch.data_root == small.root and batch.name == "probes"


def test_media_match_task_modalities_and_exist(small: ProbeSet) -> None:
    for it in small.data["batch"].items:
        q, task = it.query, TaskType.parse(it.query.task_name)
        assert sorted(m.modality for m in q.media) == sorted(task.non_text_inputs), q.uniq_id
        assert len(it.responses) == 4 and len({r.model_name for r in it.responses}) == 4
        for ref in [*q.media, *(m for r in it.responses for m in r.media)]:
            assert ref.path is not None and not Path(ref.path).is_absolute()
            assert (small.root / ref.path).is_file()
        for r in it.responses:
            assert r.modality == task.output
            assert (r.text is not None) == (task.output == "text") and bool(r.media) == (task.output != "text")
            assert r.meta["construction"] == r.model_name
            # candidate file names give nothing away about the construction
            assert all(r.model_name not in (m.path or "") for m in r.media)
        assert q.checklist and q.checklist["overall"]
        assert set(q.meta) >= {"family", "difficulty", "truth", "variant"} and q.meta["difficulty"]


def test_ids_and_labels_are_consistent_across_settings(small: ProbeSet) -> None:
    score_items = small.data["score"].items
    labels = {s: {lab.item_id: lab for lab in small.data[s].labels} for s in ("score", "pair", "batch")}
    for s in labels:
        ids = [it.item_id for it in small.data[s].items]
        assert len(ids) == len(set(ids)) == len(labels[s])
        assert all(lab.rubric == "overall" and lab.annotator == "construction" for lab in labels[s].values())
    score = {it.item_id: int(labels["score"][it.item_id].value) for it in score_items}
    assert all(isinstance(it, ScoreItem) for it in score_items)
    assert set(score.values()) == {1, 2, 3, 4, 5}
    for it in score_items:
        q = it.query
        assert it.item_id == f"probe::{q.task_name}::{q.meta['family']}::{q.meta['probe_index']}::" \
                             f"{it.response.model_name}"
    n_tie = 0
    for it in small.data["pair"].items:
        assert isinstance(it, PairItem)
        a, b = it.response_a.model_name, it.response_b.model_name
        assert it.item_id == f"{it.query.uniq_id}::{a}_vs_{b}"
        sa, sb = score[f"{it.query.uniq_id}::{a}"], score[f"{it.query.uniq_id}::{b}"]
        expect = "first" if sa > sb else "second" if sa < sb else "tie"
        assert labels["pair"][it.item_id].value == expect
        n_tie += expect == "tie"
    assert n_tie == len(small.data["batch"].items) // 2  # one tie pair per tie-variant query
    for it in small.data["batch"].items:
        assert isinstance(it, BatchItem) and it.item_id == it.query.uniq_id
        # pairs are responses 1 vs 2 and 3 vs 4 of the batch order
        rs = it.responses
        assert f"{it.query.uniq_id}::{rs[0].model_name}_vs_{rs[1].model_name}" in labels["pair"]
        assert f"{it.query.uniq_id}::{rs[2].model_name}_vs_{rs[3].model_name}" in labels["pair"]
        sc = [score[f"{it.query.uniq_id}::{r.model_name}"] for r in rs]
        ranking = labels["batch"][it.item_id].value
        assert sorted(ranking) == [0, 1, 2, 3]
        assert [sc[k] for k in ranking] == sorted(sc, reverse=True)
        for hi, lo in itertools.pairwise(ranking):  # ties: lower slot first
            if sc[hi] == sc[lo]:
                assert hi < lo
        assert (len(set(sc)) == 3) == (it.query.meta["variant"] == "tie")


def test_candidate_order_is_shuffled(small: ProbeSet) -> None:
    score = {lab.item_id: lab.value for lab in small.data["score"].labels}
    best_slots = Counter()
    for it in small.data["batch"].items:
        sc = [score[f"{it.query.uniq_id}::{r.model_name}"] for r in it.responses]
        best_slots[int(np.argmax(sc))] += 1
    assert len(best_slots) == 4 and max(best_slots.values()) < len(small.data["batch"].items) / 2


def test_text_length_does_not_follow_the_score(small: ProbeSet, medium_cheap: ProbeSet) -> None:
    chars, scores = [], []
    for ps in (small, medium_cheap):
        score = {lab.item_id: lab.value for lab in ps.data["score"].labels}
        for it in ps.data["score"].items:
            if it.response.text is not None:
                chars.append(len(it.response.text))
                scores.append(score[it.item_id])
    rho = spearmanr(chars, scores).statistic
    print(f"\nSpearman rho(text length, score) over {len(chars)} text candidates: {rho:.3f}")
    assert len(chars) > 150 and abs(rho) < 0.2


def test_same_seed_is_byte_identical_in_another_process(small: ProbeSet, tmp_path: Path) -> None:
    code = ("import sys; from judgeanything.datasets.probes import ProbesDataset; "
            "print(ProbesDataset(size='small', seed=0, cache_dir=sys.argv[1]).prepare())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                         check=True, cwd=REPO).stdout.strip()
    other = Path(out)
    assert other != small.root
    mine, theirs = _hashes(small.root), _hashes(other)
    assert len(mine) > 100 and mine == theirs


def test_different_seed_differs(small: ProbeSet, tmp_path: Path) -> None:
    fams = ["arithmetic", "count_shapes", "tone", "av_sync"]
    other = ProbesDataset(size="small", seed=1, cache_dir=str(tmp_path), families=fams).prepare()
    mine, theirs = _hashes(small.root), _hashes(other)
    for fam in fams:
        assert mine[f"{fam}/records.json"] != theirs[f"{fam}/records.json"]
    media = [k for k in theirs if k.endswith((".png", ".mp3", ".mp4"))]
    assert media and all(mine[k] != theirs[k] for k in media)


def test_cache_is_reused_then_rebuilt_when_corrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import judgeanything.datasets.probes.dataset as dsmod

    fams = ["count_shapes", "tone"]
    root = ProbesDataset(cache_dir=str(tmp_path), families=fams).prepare()
    before = _hashes(root)
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temporary build dirs left

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("the cache should have been reused")

    monkeypatch.setattr(dsmod, "generate_query", boom)
    data = ProbesDataset(cache_dir=str(tmp_path), families=fams).load("score")
    assert len(data.items) == 16 and not any("rebuilt" in n for n in data.notes)
    monkeypatch.undo()

    victim = root / "tone" / "0000" / "response1.mp3"
    victim.write_bytes(b"not an mp3")
    data = ProbesDataset(cache_dir=str(tmp_path), families=fams).load("pair")
    assert any("tone: cache rebuilt (checksum mismatch for 0000/response1.mp3)" in n for n in data.notes)
    assert _hashes(root) == before


def test_a_fresh_build_gives_the_items_a_cached_load_gives(tmp_path: Path) -> None:
    """Byte for byte as a run writes them (dict key order included): otherwise the first run on a new cache
    writes another items.jsonl than its reruns, and a rerun that judged nothing analyses again."""
    from judgeanything.schema import item_to_dict

    def written(data: object) -> list[str]:
        return [json.dumps(item_to_dict(it)) for it in data.items]  # type: ignore[attr-defined]

    fresh = ProbesDataset(cache_dir=str(tmp_path), families=["arithmetic", "count_shapes"]).load("pair")
    cached = ProbesDataset(cache_dir=str(tmp_path), families=["arithmetic", "count_shapes"]).load("pair")
    assert written(fresh) == written(cached) and len(fresh.items) > 0


def test_failed_family_leaves_no_partial_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import judgeanything.datasets.probes.dataset as dsmod

    calls = {"n": 0}
    real = dsmod.generate_query

    def fail_on_second(*a: object, **k: object) -> dict:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("probe family tone query 1: synthetic failure")
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(dsmod, "generate_query", fail_on_second)
    ds = ProbesDataset(cache_dir=str(tmp_path), families=["tone"])
    with pytest.raises(RuntimeError, match="tone query 1"):
        ds.prepare()
    assert list(ds.root.iterdir()) == []


def test_manifest_lists_every_file_with_its_sha256(small: ProbeSet) -> None:
    fdir = small.root / "draw_shapes"
    manifest = json.loads((fdir / "manifest.json").read_text())
    files = {k: v for k, v in _hashes(fdir).items() if k != "manifest.json"}
    assert manifest["files"] == files
    assert manifest["seed"] == 0 and manifest["size"] == "small" and manifest["n_queries"] == 2
    assert small.root.name.endswith("-small-s0")


def test_filters_select_tasks_and_families(tmp_path: Path) -> None:
    ds = ProbesDataset(cache_dir=str(tmp_path), tasks=["Image2Text", "Audio2Text"])
    assert set(ds.family_names) >= {"count_shapes", "beep_count", "tone_pitch"}
    assert ProbesDataset(cache_dir=str(tmp_path), families=["tone"]).family_names == ["tone"]
    with pytest.raises(ValueError, match="unknown task type 'Smell2Text'"):
        ProbesDataset(cache_dir=str(tmp_path), tasks=["Smell2Text"])
    with pytest.raises(ValueError, match="unknown probe family 'nope'"):
        ProbesDataset(cache_dir=str(tmp_path), families=["nope"])
    with pytest.raises(ValueError, match="no probe family matches"):
        ProbesDataset(cache_dir=str(tmp_path), tasks=["Text2Text"], families=["tone"])
    with pytest.raises(ValueError, match="unknown probes size"):
        ProbesDataset(size="huge")
    with pytest.raises(ValueError, match="unknown setting 'rank'"):
        ProbesDataset(cache_dir=str(tmp_path), families=["arithmetic"]).load("rank")


def test_difficulty_overrides_change_designs_and_cache_dir(tmp_path: Path) -> None:
    base = ProbesDataset(cache_dir=str(tmp_path), size="medium", families=["count_shapes"])
    ds = ProbesDataset(cache_dir=str(tmp_path), size="medium", families=["count_shapes", "motion_direction"],
                       difficulty={"noise": 12.0, "count_shapes": {"n_target": [4, 7]}})
    assert ds.root != base.root and ds.root.name.startswith(base.root.name + "-d")
    data = ds.load("batch")
    got = {(it.query.meta["family"], it.query.meta["difficulty"]["noise"]) for it in data.items}
    assert got == {("count_shapes", 12.0), ("motion_direction", 12.0)}  # the knob is fixed in both families
    targets = {it.query.meta["difficulty"]["n_target"] for it in data.items
               if it.query.meta["family"] == "count_shapes"}
    assert targets == {4, 7}
    with pytest.raises(ValueError, match="no selected probe family has a knob or name 'zzz'"):
        ProbesDataset(cache_dir=str(tmp_path), families=["tone"], difficulty={"zzz": 1})
    with pytest.raises(ValueError, match="knob 'noise' takes values like"):
        ProbesDataset(cache_dir=str(tmp_path), families=["count_shapes"], difficulty={"noise": "loud"})
    with pytest.raises(ValueError, match="family tone has no knob 'noise'"):
        ProbesDataset(cache_dir=str(tmp_path), families=["tone"], difficulty={"tone": {"noise": 1.0}})


def test_missing_espeak_skips_the_speech_family_with_a_note(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import judgeanything.datasets.probes.dataset as dsmod

    real_which = shutil.which
    monkeypatch.setattr(dsmod.shutil, "which", lambda exe, *a, **k: None if exe == "espeak-ng"
                        else real_which(exe, *a, **k))
    data = ProbesDataset(cache_dir=str(tmp_path), families=["spoken_number", "arithmetic"]).load("score")
    assert {it.query.meta["family"] for it in data.items} == {"arithmetic"}
    assert any("spoken_number (Audio2Text) skipped: espeak-ng is not installed" in n for n in data.notes)
    with pytest.raises(RuntimeError, match="no probe family could be generated"):
        ProbesDataset(cache_dir=str(tmp_path / "x"), families=["spoken_number"]).load("score")


def test_hydra_config_instantiates_the_dataset(tmp_path: Path) -> None:
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(REPO / "judgeanything" / "conf" / "benchmark" / "probes.yaml")
    assert cfg.size == "small" and cfg.seed == 0 and cfg.cache_dir is None
    ds = instantiate(cfg, cache_dir=str(tmp_path), families=["arithmetic"],
                     difficulty=OmegaConf.create({"arithmetic": {"digits": [2, 3]}}))
    assert isinstance(ds, ProbesDataset)
    items = ds.load("batch").items
    assert {it.query.meta["difficulty"]["digits"] for it in items} == {2, 3}


def test_catalogue_documents_every_family_and_knob() -> None:
    doc = (REPO / "docs" / "probes.md").read_text(encoding="utf-8")
    for fam in FAMILIES:
        assert f"**{fam.name}**" in doc, fam.name
        assert f"### {fam.task}" in doc, fam.task
        for knob in fam.knobs:
            assert f"`{knob}`" in doc, (fam.name, knob)


def test_media_candidates_share_size_and_duration_except_where_judged(small: ProbeSet) -> None:
    """A size-biased judge gains nothing: within a query, candidate images have the same dimensions and
    audio/video the same duration — except ``tone``, whose duration is part of what is asked."""
    import decord
    import soundfile as sf
    from PIL import Image

    for it in small.data["batch"].items:
        if it.responses[0].modality not in ("image", "audio", "video") or it.query.meta["family"] == "tone":
            continue
        sizes = set()
        for r in it.responses:
            p = small.root / (r.media[0].path or "")
            if r.modality == "image":
                sizes.add(Image.open(p).size)
            elif r.modality == "audio":
                sizes.add(round(sf.info(str(p)).duration, 3))
            else:
                sizes.add(len(decord.VideoReader(str(p))))
        assert len(sizes) == 1, (it.item_id, sizes)
