"""One sampling-config object shared by every judge backend (as inspect_ai's ``GenerateConfig``).

Every backend (``openai``, ``hf``, ``gemini``…) takes its decoding options as one :class:`SamplingConfig`
(Hydra: ``judge.sampling.*``, e.g. ``judge.sampling.temperature=0.7 judge.sampling.max_tokens=256``)
instead of repeating the same keyword arguments in each constructor. A backend maps the fields to its own
API (``max_tokens`` → ``max_new_tokens`` for transformers, ``stop`` → ``stop_sequences`` for Gemini…) and
rejects, with :class:`~judgeanything.judges.base.JudgeConfigError`, a field it cannot honour rather than
silently ignoring it.

Greedy judging is the default: ``temperature=0`` (or ``None``) means deterministic decoding. Repeated
judging of one unit is ``run.repeats`` (each repeat is its own request and verdict), not ``n`` choices in
one request: the parser reads one answer per request.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from judgeanything.judges.base import JudgeConfigError

#: The fields a backend always records in its fingerprint (so runs made before optional fields existed keep
#: their unit keys); the others are recorded only when set.
CORE_FIELDS = ("temperature", "top_p", "max_tokens", "seed")


class SamplingConfigError(JudgeConfigError):
    """A sampling option is unknown or out of range (the message names it as ``judge.sampling.<field>``)."""


@dataclass(frozen=True)
class SamplingConfig:
    """Decoding options of one judge.

    Attributes:
        temperature: softmax temperature (≥ 0); ``0`` or ``None`` = greedy.
        top_p: nucleus sampling mass in (0, 1]; ``None`` = the backend's default (1).
        top_k: sample among the ``k`` most likely tokens (≥ 1); not an OpenAI API field (sent to
            OpenAI-compatible servers such as vLLM in the request's extra body).
        max_tokens: the most tokens the judge may generate per request (≥ 1); an answer cut there has
            ``finish_reason="length"`` and counts only when it is complete (see :mod:`judgeanything.parsing`).
        seed: sampling seed (integer); ``None`` = the backend's default.
        stop: sequences at which generation stops (``None`` = none).
        frequency_penalty, presence_penalty: OpenAI-style repetition penalties in [-2, 2].

    Raises:
        SamplingConfigError: a value out of range (at construction).
    """

    temperature: float | None = 0.0
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = 1024
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None

    def __post_init__(self) -> None:
        def check(name: str, ok: bool, want: str) -> None:
            if not ok:
                raise SamplingConfigError(f"judge.sampling.{name}={getattr(self, name)!r}: must be {want}")

        t, p, k, m = self.temperature, self.top_p, self.top_k, self.max_tokens
        check("temperature", t is None or (math.isfinite(t) and t >= 0), "a number >= 0 (or null)")
        check("top_p", p is None or 0 < p <= 1, "in (0, 1] (or null)")
        check("top_k", k is None or (isinstance(k, int) and k >= 1), "an integer >= 1 (or null)")
        check("max_tokens", m is None or (isinstance(m, int) and m >= 1), "an integer >= 1 (or null)")
        check("seed", self.seed is None or isinstance(self.seed, int), "an integer (or null)")
        check("stop", self.stop is None or all(isinstance(s, str) and s for s in self.stop),
              "a list of non-empty strings (or null)")
        for name in ("frequency_penalty", "presence_penalty"):
            v = getattr(self, name)
            check(name, v is None or -2 <= v <= 2, "in [-2, 2] (or null)")

    @classmethod
    def of(cls, value: SamplingConfig | Mapping[str, Any] | None, **defaults: Any) -> SamplingConfig:
        """A config from a Hydra/OmegaConf mapping, a plain dict, ``None`` (all defaults) or a config.

        ``defaults`` are a backend's own defaults (e.g. ``max_tokens=512`` for a local model), overridden by
        the keys given in ``value``. Numbers are coerced (``"0.7"`` from a YAML string is refused: a typo'd
        value must not become a different run).

        Raises:
            SamplingConfigError: an unknown key (names it and the known ones) or a value out of range.
        """
        if isinstance(value, SamplingConfig):
            return value
        given = {str(k): v for k, v in (value or {}).items()}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted((set(given) | set(defaults)) - known)
        if unknown:
            raise SamplingConfigError(f"judge.sampling: unknown option {unknown[0]!r} "
                                      f"(known: {', '.join(sorted(known))})")
        merged = {**defaults, **given}
        return cls(**{k: _coerce(k, v) for k, v in merged.items()})

    @property
    def greedy(self) -> bool:
        """Whether decoding is deterministic (temperature 0 or unset)."""
        return not self.temperature

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the outputs these options produce: :data:`CORE_FIELDS` always, the other fields
        only when set (so adding an optional field never changes an existing run's unit keys)."""
        fp = {k: getattr(self, k) for k in CORE_FIELDS}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name not in CORE_FIELDS and v is not None:
                fp[f.name] = list(v) if isinstance(v, tuple) else v
        return fp

    def replace(self, **changes: Any) -> SamplingConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


def _coerce(name: str, v: Any) -> Any:
    if v is None:
        return None
    if name == "stop":
        if isinstance(v, str):
            return (v,)
        if isinstance(v, Sequence) or type(v).__name__ == "ListConfig":
            return tuple(v)
        raise SamplingConfigError(f"judge.sampling.stop={v!r}: must be a string or a list of strings")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SamplingConfigError(f"judge.sampling.{name}={v!r}: must be a number (or null)")
    if name in ("top_k", "max_tokens", "seed"):
        if float(v) != int(v):
            raise SamplingConfigError(f"judge.sampling.{name}={v!r}: must be an integer")
        return int(v)
    return float(v)


__all__ = ["CORE_FIELDS", "SamplingConfig", "SamplingConfigError"]
