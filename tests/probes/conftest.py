"""Probe sets generated once per test session into temporary caches."""

from __future__ import annotations

import pytest

from .probe_sets import HARD_VIDEO, VIDEO_FAMILIES, ProbeSet, generate


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> ProbeSet:
    """The default benchmark: size small, seed 0, every family."""
    return generate(tmp_path_factory.mktemp("probes-small"), size="small", seed=0)


@pytest.fixture(scope="session")
def medium_cheap(tmp_path_factory: pytest.TempPathFactory) -> ProbeSet:
    """Size medium (every design point, both variants) of the families without video."""
    from judgeanything.datasets.probes import FAMILIES

    fams = [f.name for f in FAMILIES if f.name not in VIDEO_FAMILIES and "espeak-ng" not in f.requires]
    return generate(tmp_path_factory.mktemp("probes-medium"), size="medium", seed=3, families=fams)


@pytest.fixture(scope="session")
def hard_video(tmp_path_factory: pytest.TempPathFactory) -> ProbeSet:
    """The video families at their hardest knob values (seed 5)."""
    return generate(tmp_path_factory.mktemp("probes-hard"), size="small", seed=5,
                     families=list(VIDEO_FAMILIES), difficulty=HARD_VIDEO)
