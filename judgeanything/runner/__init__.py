"""The runner: dataset → prompts → media → judge → parser → run log (see ``docs/architecture.md``).

Its parts, each with one job: :mod:`judgeanything.orders` (presentation orders and the orientation maps),
:mod:`.units` (units and their resume keys), :mod:`.prepare` (prompt + media + judge capabilities → request),
:mod:`.records` (the run-log record of a unit), :mod:`.rundir` (run-directory identity, ``run.json``,
``items.jsonl``, redaction) and :mod:`.loop` (the bounded-concurrency judging loop).
"""

from __future__ import annotations

from judgeanything.errors import RunConfigError
from judgeanything.orders import present, presentation_orders, to_dataset_orientation, williams_rows
from judgeanything.runner.loop import Runner, RunOptions
from judgeanything.runner.rundir import item_record, redact, response_sizes
from judgeanything.runner.units import Unit, plan_units

__all__ = ["RunConfigError", "RunOptions", "Runner", "Unit", "item_record", "plan_units", "present",
           "presentation_orders", "redact", "response_sizes", "to_dataset_orientation", "williams_rows"]
