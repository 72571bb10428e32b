"""Probe families from plugins (entry-point group ``judgeanything.probe_families``): a family shipped by an
installed distribution is found, may use a plugin task type and raw-bytes media, joins a run only when
named, and a broken or clashing plugin loses only its own families."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from judgeanything.datasets.probes import families as registry
from judgeanything.datasets.probes.core import design_points
from judgeanything.datasets.probes.dataset import generate_query

PLUGIN = '''
import numpy as np
from judgeanything.datasets.probes.core import Candidate, Family, Media, ProbeSpec

def _build(rng, knobs, tie):
    scores = (5, 3, 3, 1) if tie else (5, 4, 3, 1)
    cands = tuple(Candidate(f"c{i}", s, media=Media("sketch", np.frombuffer(f"<sketch {i}>".encode(), np.uint8),
                                                      "skt")) for i, s in enumerate(scores))
    return ProbeSpec(question="Sketch it.", inputs=(), candidates=cands, truth={"n": int(knobs["n"])})

FAMILIES = (Family(name="toy_sketch", task="Text2Sketch", summary="toy", knobs={"n": (1, 2)}, build=_build),
            Family(name="arithmetic", task="Text2Text", summary="clash", knobs={"n": (1,)}, build=_build))
'''


@pytest.fixture()
def toy_plugin(tmp_path: Path) -> Iterator[Path]:
    """A distribution with a good module, a broken one and a non-family, exposed via a dist-info."""
    (tmp_path / "toy_probes.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "toy_broken.py").write_text("raise ImportError('missing dependency xyz')\n")
    (tmp_path / "toy_other.py").write_text("THINGS = ['not a family']\n")
    info = tmp_path / "toy_probes-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-probes\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[judgeanything.probe_families]\ntoy = toy_probes:FAMILIES\n"
                                           "broken = toy_broken:FAMILIES\nother = toy_other:THINGS\n")
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    registry.PLUGIN_FAMILY_ERRORS.clear()
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for m in ("toy_probes", "toy_broken", "toy_other"):
            sys.modules.pop(m, None)
        registry.PLUGIN_FAMILY_ERRORS.clear()
        importlib.invalidate_caches()


def test_plugin_families_are_found_and_faults_stay_with_their_plugin(toy_plugin: Path) -> None:
    got = registry.plugin_families(f.name for f in registry.CORE_FAMILIES)
    toy = [f for f in got if f.name.startswith("toy")]
    assert [f.name for f in toy] == ["toy_sketch"] and toy[0].task == "Text2Sketch"
    errors = registry.PLUGIN_FAMILY_ERRORS
    assert "missing dependency xyz" in errors["broken = toy_broken:FAMILIES"]
    assert "is not a probe Family" in errors["other = toy_other:THINGS"]
    assert "'arithmetic' ignored: the name is already taken" in errors["toy = toy_probes:FAMILIES"]


def test_plugin_family_writes_its_bytes_under_a_plugin_task_type(toy_plugin: Path, tmp_path: Path) -> None:
    fam = next(f for f in registry.plugin_families([]) if f.name == "toy_sketch")
    rec = generate_query(fam, 1, design_points(fam.knobs), 0, tmp_path / "toy_sketch")
    assert rec["task"] == "Text2Sketch" and rec["variant"] == "tie"
    for r in rec["responses"]:
        assert r["modality"] == "sketch" and r["path"].endswith(".skt")
        assert (tmp_path / r["path"]).read_bytes().startswith(b"<sketch ")
    json.dumps(rec)


def test_plugin_families_join_only_when_named(monkeypatch: pytest.MonkeyPatch, toy_plugin: Path,
                                              tmp_path: Path) -> None:
    from judgeanything.datasets.probes import dataset as ds_mod

    fam = next(f for f in registry.plugin_families([]) if f.name == "toy_sketch")
    monkeypatch.setattr(ds_mod, "FAMILIES", (*registry.CORE_FAMILIES, fam))
    monkeypatch.setattr(ds_mod, "FAMILY_BY_NAME", {**registry.FAMILY_BY_NAME, fam.name: fam})
    default = ds_mod.ProbesDataset(cache_dir=str(tmp_path))
    assert "toy_sketch" not in default.family_names  # installing a plugin never changes the default suite
    named = ds_mod.ProbesDataset(cache_dir=str(tmp_path), families=["toy_sketch"])
    data = named.load("pair")
    assert named.family_names == ["toy_sketch"] and len(data.items) == 4
    assert {it.query.task_name for it in data.items} == {"Text2Sketch"}
    by_task = ds_mod.ProbesDataset(cache_dir=str(tmp_path), tasks=["Text2Sketch"])
    assert by_task.family_names == ["toy_sketch"]
