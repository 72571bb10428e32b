"""Deterministic sweep and shard directories (OmegaConf resolvers used by ``conf/config.yaml``).

``hydra.sweep.dir: multirun/${ja_sweep_id:${hydra.overrides.task}}`` names a sweep after its command-line
overrides — ``multirun/judge=first,longer,random__setting=pair-1f0c9a2b`` — so relaunching the same ``-m``
command lands in the same folder and every job resumes its own run directory (Hydra's default,
``multirun/<date>/<time>``, started every relaunch afresh).

Hydra resolves ``hydra.sweep.dir`` twice: once for the whole sweep in the launching process (overrides as
typed: ``judge=random,first``), then once per job (that job's overrides: ``judge=first``), possibly in a
worker process (joblib, submitit, Ray). The first resolution fixes the name and exports it as
``$JUDGEANYTHING_SWEEP_ID``; the jobs — in-process or in workers, which inherit the environment — read it
back. Setting the variable yourself names a sweep explicitly.

Overrides that cannot change any verdict (progress bars, concurrency, the server's address, timeouts,
cache and analysis options, the launcher) are left out of the name: relaunching with more concurrency or
another launcher still resumes the same sweep.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from judgeanything import shard

ENV_SWEEP_ID = "JUDGEANYTHING_SWEEP_ID"

#: Override keys (exact, or a ``prefix.`` for a whole section) that do not enter a sweep's name.
NON_IDENTITY = ("run.progress", "run.concurrency", "run.batch_size", "run.overwrite", "run.retry_failures",
                "run.budget_usd", "run.rate.", "judge.base_url", "judge.concurrency", "judge.timeout",
                "judge.max_attempts", "judge.max_wait_s", "judge.api_key_env", "cache.", "analysis.", "hydra.",
                "hydra/")

_UNSAFE = re.compile(r"[^A-Za-z0-9=,._+\-]+")


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def identity_overrides(overrides: Iterable[str]) -> list[str]:
    """The overrides that name a sweep (sorted; see :data:`NON_IDENTITY`)."""
    keep = []
    for o in overrides:
        k = _key(str(o))
        if any(k == n or (n.endswith((".", "/")) and k.startswith(n)) for n in NON_IDENTITY):
            continue
        keep.append(str(o))
    return sorted(keep)


def sweep_name(overrides: Iterable[str], max_len: int = 80) -> str:
    """A readable, filesystem-safe, deterministic folder name for a sweep: the identity overrides joined by
    ``__`` (shortened to ``max_len``) and an 8-hex hash of all of them (``"sweep-<hash>"`` when none)."""
    ident = identity_overrides(overrides)
    digest = hashlib.sha256("\n".join(ident).encode("utf-8")).hexdigest()[:8]
    slug = _UNSAFE.sub("_", "__".join(ident)).strip("._") or "sweep"
    if len(slug) > max_len:
        slug = slug[:max_len].rstrip("._,=-")
    return f"{slug}-{digest}"


def sweep_id(overrides: Iterable[str] | None) -> str:
    """The ``ja_sweep_id`` resolver (see the module docstring)."""
    fixed = os.environ.get(ENV_SWEEP_ID)
    if fixed:
        return fixed
    name = sweep_name(list(overrides or []))
    os.environ[ENV_SWEEP_ID] = name
    return name


class LeaderboardCallback(Callback):
    """Ends every multirun — whatever the launcher (basic, joblib, submitit, Ray) — with one judge
    leaderboard over the sweep folder (``leaderboard.md`` / ``leaderboard.csv``, as
    ``judgeanything-compare <sweep dir>`` writes). Runs in the launching process after all jobs returned;
    a failure to build it is logged, never raised (the jobs' results are already on disk). Skipped when
    ``analysis.enabled=false`` (the jobs were not analysed on purpose)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = bool(enabled)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not self.enabled:
            return
        from judgeanything.compare_cli import main as compare

        analysis = config.get("analysis") or {}
        if not analysis.get("enabled", True):  # the jobs were not analysed: the leaderboard would do it all
            return
        sweep_dir = Path(str(config.hydra.sweep.dir))
        if not sweep_dir.is_dir():
            return
        args = [str(sweep_dir), "--out", str(sweep_dir), "--bootstrap", str(analysis.get("bootstrap", 1000)),
                "--seed", str(analysis.get("seed", 0))]
        try:
            rc = compare(args)
        except Exception:  # the leaderboard is a convenience; the runs themselves are complete
            logging.getLogger(__name__).exception("could not build the leaderboard of %s", sweep_dir)
            return
        if rc != 0:
            logging.getLogger(__name__).warning("no leaderboard for %s (judgeanything-compare exit %d)",
                                                sweep_dir, rc)


def register_resolvers() -> None:
    """Register ``ja_sweep_id`` and ``ja_shard_dir`` (idempotent; called when the CLI is imported)."""
    if not OmegaConf.has_resolver("ja_sweep_id"):
        OmegaConf.register_new_resolver("ja_sweep_id", sweep_id)
    if not OmegaConf.has_resolver("ja_shard_dir"):
        OmegaConf.register_new_resolver("ja_shard_dir", shard.suffix)


__all__ = ["ENV_SWEEP_ID", "NON_IDENTITY", "LeaderboardCallback", "identity_overrides", "register_resolvers",
           "sweep_id", "sweep_name"]
