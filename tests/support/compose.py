"""Run the ``judgeanything`` app in-process through Hydra's compose API (no CLI subprocess).

Option validation and bad-input errors are properties of :func:`judgeanything.cli.run_from_config`; composing the
config and calling it directly checks them in milliseconds instead of a 3–5 s interpreter start per case. What
only the console entry point does (exit status 2, one line, no traceback) is checked once through the real CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_module


def composed(*overrides: str, config_name: str = "config") -> Any:
    """The packaged ``config_name`` composed with ``overrides`` (as the CLI would, without the ``hydra`` node;
    ``checklists`` is the config of ``judgeanything-checklists``)."""
    with initialize_config_module(config_module="judgeanything.conf", version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def judge_of(*overrides: str) -> Any:
    """The judge ``judgeanything <overrides>`` would build (the ``judge`` group instantiated as the CLI does it,
    without the runner's ``parse`` option; not the ``replay`` judge, which needs the benchmark's records)."""
    from judgeanything.cli import _instantiate, _without

    return _instantiate(_without(composed(*overrides).judge, "parse"), "judge")


def run_app(*overrides: str) -> str:
    """``judgeanything <overrides>`` in-process: the composed config run into the ``hydra.run.dir=`` of the
    overrides; returns what the CLI prints (the run's summary, redacted). Errors propagate as raised.

    The CLI's own layers are not exercised here (Hydra's run-directory setup and callbacks, the overrides
    recorded in ``run.json``, console redaction, exit status); tests of those run the real console script
    (``tests/integration/conftest.py:cli``)."""
    from judgeanything.cli import run_from_config
    from judgeanything.redaction import redact_text

    dirs = [o.split("=", 1)[1] for o in overrides if o.startswith("hydra.run.dir=")]
    if len(dirs) != 1:
        raise ValueError("run_app needs exactly one hydra.run.dir=<run directory> override")
    summary = run_from_config(composed(*overrides), Path(dirs[0]))
    return redact_text(str(summary.get("text", "")))


def config_error(run_dir: Path, *overrides: str) -> str:
    """Run the composed config into ``run_dir`` and return the message of the error the CLI would turn into
    exit status 2 (fails if it succeeds or raises anything else)."""
    from judgeanything.cli import _known_errors, run_from_config

    cfg = composed(*overrides)
    try:
        run_from_config(cfg, run_dir)
    except _known_errors() as e:
        return str(e)
    raise AssertionError(f"expected a configuration or input error from {overrides}")
