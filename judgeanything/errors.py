"""Errors shared across layers (the CLI turns each into exit status 2 with its message)."""

from __future__ import annotations


class RunConfigError(ValueError):
    """The run cannot start as configured (the message names the option, or the item and field)."""


__all__ = ["RunConfigError"]
