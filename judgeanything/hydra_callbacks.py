"""Hydra callbacks of the ``judgeanything`` app (``hydra.callbacks`` in ``conf/config.yaml``).

:class:`RedactSecrets` makes Hydra's own outputs obey :mod:`judgeanything.redaction`: Hydra writes the
command line verbatim into ``multirun.yaml`` (a sweep's directory) and, when ``hydra.output_subdir`` is set,
into ``.hydra/{config,hydra,overrides}.yaml``, and its launchers log every job's overrides — a key given as
``+judge.extra_body={api_key: ...}`` or inside ``judge.base_url`` would be on disk and on the console. The
callback registers the run's secrets, adds the redacting filter to the log handlers Hydra configured (for
the sweep, then again per job: Hydra reconfigures logging for each), and rewrites those files redacted as
soon as they exist (at each job's start and end, and at the end of the sweep).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from judgeanything.redaction import collect_secrets, install_log_redaction, redact_yaml_file


def _register(config: DictConfig) -> None:
    """Register every secret of ``config`` (resolved where it can be: ``${oc.env:...}`` values count)."""
    try:
        tree = OmegaConf.to_container(config, resolve=True)
    except Exception:  # hydra:runtime is not resolvable at every callback; unresolved is fine
        tree = OmegaConf.to_container(config, resolve=False)
    collect_secrets(tree)


def _select(config: DictConfig, path: str) -> str | None:
    try:
        v = OmegaConf.select(config, path)
    except Exception:  # an interpolation not resolvable here (e.g. hydra:runtime outside a job)
        return None
    return str(v) if v is not None else None


def redact_hydra_files(config: DictConfig) -> list[Path]:
    """Rewrite redacted the Hydra files of ``config``'s job and sweep that exist; returns those changed."""
    paths: list[Path] = []
    sweep_dir = _select(config, "hydra.sweep.dir")
    if sweep_dir:
        paths.append(Path(sweep_dir) / "multirun.yaml")
    out_dir, sub = _select(config, "hydra.runtime.output_dir"), _select(config, "hydra.output_subdir")
    if out_dir and sub:
        paths += [Path(out_dir) / sub / name for name in ("config.yaml", "hydra.yaml", "overrides.yaml")]
    return [p for p in paths if p.is_file() and redact_yaml_file(p)]


class RedactSecrets(Callback):
    """See the module docstring."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _register(config)
        install_log_redaction()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _register(config)
        install_log_redaction()

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        _register(config)
        install_log_redaction()
        redact_hydra_files(config)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        redact_hydra_files(config)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        redact_hydra_files(config)


__all__ = ["RedactSecrets", "redact_hydra_files"]
