"""How a run is analysed (the ``analysis`` config section), as one frozen value saved with the results.

:class:`AnalysisOptions` is written into ``metrics.json`` (``params``) by every analysis and read back by
whoever analyses the run again (``judgeanything-compare --recompute``), so a run's numbers are always
recomputed with the run's own bootstrap size, confidence level, seed, inconsistent-pair policy, repeat reducer
and model-family map — never with another tool's defaults.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from judgeanything.analysis.repeats import REDUCERS
from judgeanything.analysis.units import POLICIES
from judgeanything.store import RUN

METRICS_JSON = "metrics.json"
#: ``inconsistent`` values: one policy for the headline, or ``all`` (headline ``tie``, all three side by side)
INCONSISTENT = (*POLICIES, "all")


@dataclass(frozen=True)
class AnalysisOptions:
    """The analysis options of one run.

    Attributes:
        bootstrap: bootstrap replicates for the percentile CIs (0 → no CIs).
        ci: confidence level of every interval, in (0, 1).
        seed: seed of every random stream of the analysis (each derived from seed + a name).
        inconsistent: how a pair judged in both orders with disagreeing verdicts counts in the headline —
            ``tie``, ``drop``, ``average``, or ``all`` (headline ``tie``, all three reported).
        reducer: how repeats of a score unit are reduced: ``mode``, ``median`` or ``mean``.
        families: self-preference model families as ``(regex, family)`` pairs; ``None`` = the built-in map
            (:data:`judgeanything.analysis.bias.DEFAULT_FAMILIES`).

    Raises:
        ValueError: an unknown policy or reducer, ``ci`` outside (0, 1) or a negative ``bootstrap``
            (the message names ``analysis.<field>``).
    """

    bootstrap: int = 1000
    ci: float = 0.95
    seed: int = 0
    inconsistent: str = "all"
    reducer: str = "mode"
    families: tuple[tuple[str, str], ...] | None = None

    def __post_init__(self) -> None:
        if self.inconsistent not in INCONSISTENT:
            raise ValueError(f"unknown inconsistent={self.inconsistent!r}; expected one of {INCONSISTENT}")
        if self.reducer not in REDUCERS:
            raise ValueError(f"unknown reducer {self.reducer!r}; expected one of {REDUCERS}")
        if not 0 < self.ci < 1:
            raise ValueError(f"ci={self.ci} must be in (0, 1)")
        if self.bootstrap < 0:
            raise ValueError(f"analysis.bootstrap={self.bootstrap} must be 0 (no CIs) or more")

    @property
    def headline_policy(self) -> str:
        """The inconsistent-pair policy of the headline metrics (``tie`` when all are reported)."""
        return "tie" if self.inconsistent == "all" else self.inconsistent

    @property
    def policies(self) -> tuple[str, ...]:
        """The inconsistent-pair policies reported side by side."""
        return POLICIES if self.inconsistent == "all" else (self.inconsistent,)

    @property
    def family_map(self) -> dict[str, str] | None:
        """``families`` as a regex → family dict (``None`` = the built-in map)."""
        return None if self.families is None else dict(self.families)

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any]) -> AnalysisOptions:
        """From the ``analysis`` config section or ``metrics.json``'s ``params`` (keys that are not options —
        ``plots``, ``html``, ``enabled``, ``headline_policy`` — are ignored; ``families: "default"`` or
        ``null`` = the built-in map).

        Raises:
            ValueError: a bad value (see the class).
        """
        known = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {k: v for k, v in d.items() if k in known}
        fam = kw.pop("families", None)
        out = cls(**{k: _coerce(k, v) for k, v in kw.items()})
        if isinstance(fam, Mapping):
            out = replace(out, families=tuple((str(k), str(v)) for k, v in fam.items()))
        elif fam not in (None, "default"):
            raise ValueError(f"analysis.families={fam!r}: expected a {{regex: family}} map or null")
        return out

    def to_params(self) -> dict[str, Any]:
        """The ``params`` entry of ``metrics.json`` (read back by :meth:`from_mapping`)."""
        return {"bootstrap": self.bootstrap, "ci": self.ci, "seed": self.seed, "inconsistent": self.inconsistent,
                "headline_policy": self.headline_policy, "reducer": self.reducer,
                "families": self.family_map if self.families is not None else "default"}

    @classmethod
    def of_run(cls, run_dir: Path | str) -> AnalysisOptions:
        """The options a run was analysed with: ``metrics.json``'s ``params``, else the ``analysis`` section of
        the config recorded in ``run.json``, else the defaults.

        Raises:
            ValueError: the recorded options are malformed (the message names the file).
        """
        run_dir = Path(run_dir)
        for path, pick in ((run_dir / METRICS_JSON, lambda d: d.get("params")),
                           (run_dir / RUN, lambda d: (d.get("config") or {}).get("analysis"))):
            try:
                d = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            found = pick(d) if isinstance(d, dict) else None
            if isinstance(found, Mapping):
                try:
                    return cls.from_mapping(found)
                except (TypeError, ValueError) as e:
                    raise ValueError(f"{path}: analysis options: {e}") from e
        return cls()


def _coerce(name: str, v: Any) -> Any:
    """A config value as the field's type (YAML may give ``1e3`` or ``"0.9"``)."""
    if name in ("bootstrap", "seed"):
        return int(v)
    if name == "ci":
        return float(v)
    return str(v)


__all__ = ["INCONSISTENT", "METRICS_JSON", "AnalysisOptions"]
