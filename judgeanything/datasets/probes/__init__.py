"""The probe suite: verifiable judge probes for all 15 TaskAnything task types, with right answers known by
construction (the default benchmark, ``benchmark=probes``). The family catalogue is ``docs/probes.md``.

Public API::

    ProbesDataset(size="small", seed=0, cache_dir=None, tasks=None, families=None, difficulty=None)
        .load(setting) -> BenchmarkData      # setting: "score" | "pair" | "batch"
        .prepare() -> Path                   # generate / verify the cache, return the data root
    FAMILIES, FAMILY_BY_NAME                 # the registry (name, task, knobs, summary)
"""

from judgeanything.datasets.probes.core import Family
from judgeanything.datasets.probes.dataset import (
    PROBES_VERSION,
    SIZES,
    ProbesDataset,
    batch_label,
    pair_label,
    queries_per_family,
)
from judgeanything.datasets.probes.families import FAMILIES, FAMILY_BY_NAME

__all__ = [
    "FAMILIES",
    "FAMILY_BY_NAME",
    "PROBES_VERSION",
    "SIZES",
    "Family",
    "ProbesDataset",
    "batch_label",
    "pair_label",
    "queries_per_family",
]
