"""Token usage, cost and provenance of judge verdicts: the price table, cost per verdict, run summaries
(per judge and per input modality) and snapshot-drift warnings.

Units: token counts are integers as the provider reported them (``usage`` of a verdict record:
``prompt_tokens``, ``completion_tokens`` and, where reported, the breakdowns of :data:`TOKEN_FIELDS`);
prices are USD per million tokens (``conf/prices.yaml``); costs are USD.

Cost of one verdict (:func:`verdict_cost`)::

    (prompt − cached − audio_in) × input + cached × cached_input + audio_in × audio_input
      + (completion − audio_out) × output + audio_out × audio_output

where a price not given falls back to ``input`` / ``output`` (a provider that bills cached or audio tokens
like the others). Reasoning tokens are already part of ``completion_tokens`` (OpenAI's convention).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from judgeanything.store import VERDICTS, iter_jsonl_lines, iter_latest_records


class PriceError(ValueError):
    """A price table or price entry that cannot be used (names the file / model / field)."""


@dataclass(frozen=True)
class Price:
    """USD per million tokens for one model."""

    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None
    audio_input_per_mtok: float | None = None
    audio_output_per_mtok: float | None = None

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any], where: str) -> Price:
        """Raises PriceError: a missing or negative price, or an unknown field (``where`` names it)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise PriceError(f"{where}: unknown price field(s) {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(known))})")
        vals: dict[str, float | None] = {}
        for k in known:
            v = d.get(k)
            if v is None:
                if k in ("input_per_mtok", "output_per_mtok"):
                    raise PriceError(f"{where}: {k} is required")
                vals[k] = None
                continue
            try:
                f = float(v)
            except (TypeError, ValueError) as e:
                raise PriceError(f"{where}: {k}={v!r} is not a number") from e
            if not math.isfinite(f) or f < 0:
                raise PriceError(f"{where}: {k}={v!r} must be a finite number >= 0")
            vals[k] = f
        return cls(**vals)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, float]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def load_price_table(path: Path | str | None = None) -> dict[str, Price]:
    """The price table (model pattern → :class:`Price`) from ``path`` (default: the packaged
    ``conf/prices.yaml``).

    Raises:
        PriceError: an unreadable file or a malformed entry (naming file and model).
    """
    if path is None:
        text = resources.files("judgeanything").joinpath("conf/prices.yaml").read_text(encoding="utf-8")
        where = "conf/prices.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise PriceError(f"cost.prices={path}: cannot read ({e})") from e
        where = str(path)
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise PriceError(f"{where}: not valid YAML ({e})") from e
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict):
        raise PriceError(f"{where}: expected a mapping 'models: {{<model pattern>: {{input_per_mtok: .., "
                         "output_per_mtok: ..}}}}'")
    return {str(m): Price.from_mapping(p or {}, f"{where}: model {m!r}") for m, p in models.items()}


def find_price(table: Mapping[str, Price], *models: str) -> tuple[str, Price] | None:
    """The entry for the first of ``models`` (e.g. the reported snapshot, then the configured id) that a
    pattern matches, the longest pattern winning; ``None`` when none does."""
    for model in models:
        if not model:
            continue
        hits = [p for p in table if fnmatch.fnmatchcase(model, p)]
        if hits:
            best = max(hits, key=lambda p: (len(p.replace("*", "")), len(p)))
            return best, table[best]
    return None


def verdict_cost(usage: Mapping[str, Any], price: Price) -> float:
    """USD cost of one verdict's token ``usage`` at ``price`` (formula in the module docstring)."""
    def n(k: str) -> float:
        v = usage.get(k)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0

    prompt, completion = n("prompt_tokens"), n("completion_tokens")
    cached, audio_in, audio_out = n("cached_prompt_tokens"), n("audio_prompt_tokens"), n("audio_completion_tokens")
    cached_p = price.cached_input_per_mtok if price.cached_input_per_mtok is not None else price.input_per_mtok
    ain_p = price.audio_input_per_mtok if price.audio_input_per_mtok is not None else price.input_per_mtok
    aout_p = price.audio_output_per_mtok if price.audio_output_per_mtok is not None else price.output_per_mtok
    plain_in = max(prompt - cached - audio_in, 0.0)
    plain_out = max(completion - audio_out, 0.0)
    usd = (plain_in * price.input_per_mtok + cached * cached_p + audio_in * ain_p
           + plain_out * price.output_per_mtok + audio_out * aout_p)
    return usd / 1e6


def resolve_price(cost_cfg: Mapping[str, Any] | None, *models: str) -> dict[str, Any] | None:
    """The price of a run's judge as recorded in ``run.json``: ``cost.price`` when given, else the table's
    entry for ``models``; ``{"model_pattern", "source", **Price}`` or ``None`` (no price known).

    Raises:
        PriceError: a malformed ``cost.price`` or price table.
    """
    cfg = dict(cost_cfg or {})
    if cfg.get("price"):
        return {"model_pattern": None, "source": "cost.price",
                **Price.from_mapping(cfg["price"], "cost.price").to_dict()}
    table = load_price_table(cfg.get("prices"))
    hit = find_price(table, *models)
    if hit is None:
        return None
    return {"model_pattern": hit[0], "source": str(cfg.get("prices") or "conf/prices.yaml"), **hit[1].to_dict()}


def price_of(recorded: Mapping[str, Any] | None) -> Price | None:
    """A :class:`Price` back from :func:`resolve_price`'s record (``None`` stays ``None``)."""
    if not recorded:
        return None
    return Price.from_mapping({k: v for k, v in recorded.items() if k not in ("model_pattern", "source")},
                              "run.json price")


# --------------------------------------------------------------------------------------------------
# Run summaries (streamed: one record at a time, whatever the log's size)
# --------------------------------------------------------------------------------------------------

#: Token counts summed per run: the two totals, then the breakdowns judges report where the provider gives
#: them (openai: cached / audio / image prompt tokens, reasoning and audio completion tokens; gemini: prompt
#: tokens per modality, cached, reasoning).
TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "cached_prompt_tokens", "text_prompt_tokens",
                "image_prompt_tokens", "audio_prompt_tokens", "video_prompt_tokens", "reasoning_tokens",
                "audio_completion_tokens")


def is_cache_hit(rec: Any) -> bool:
    """Whether a verdict record (a run-log line, or anything with an ``extra`` mapping: a ``RunRecord``, a judge's
    ``JudgeResult``) was answered from the judge cache (no call, nothing spent this run): its ``extra`` says
    ``{"cache": "hit"}``."""
    extra = rec.get("extra") if isinstance(rec, Mapping) else getattr(rec, "extra", None)
    return isinstance(extra, Mapping) and extra.get("cache") == "hit"


def paid_cost(rec: Mapping[str, Any], price: Price) -> float | None:
    """USD a verdict record (a run-log line) cost when it was answered: :func:`verdict_cost` of its usage, or
    ``None`` for a judge-cache hit (no call was made, nothing was spent). A budget resumed over a run log sums
    these, in log order, to the ``spent_usd`` :func:`summarise_usage` gives."""
    if is_cache_hit(rec):
        return None
    return verdict_cost(rec["usage"] if isinstance(rec.get("usage"), Mapping) else {}, price)


@dataclass
class _Acc:
    verdicts: int = 0
    cached: int = 0
    cost_usd: float = 0.0
    spent_usd: float = 0.0

    def add(self, usage: Mapping[str, Any], hit: bool, price: Price | None, tokens: dict[str, int]) -> None:
        self.verdicts += 1
        self.cached += int(hit)
        for k in TOKEN_FIELDS:
            v = usage.get(k)
            if isinstance(v, int) and not isinstance(v, bool):
                tokens[k] = tokens.get(k, 0) + v
        if price is not None:
            c = verdict_cost(usage, price)
            self.cost_usd += c
            if not hit:
                self.spent_usd += c


def summarise_usage(records: Iterable[Mapping[str, Any]], price: Price | None,
                    modality_of: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Tokens, cost and provenance of a run's verdict records.

    Args:
        records: the records that count (e.g. :func:`iter_latest_records`).
        price: the run's judge price (``None``: costs are reported as unknown, ``None``).
        modality_of: item id → input modality label (``"image"``, ``"audio+video"``, ``"text"``).

    Returns:
        ``{verdicts, cached, tokens: {field: n}, cost_usd, spent_usd (not answered from the cache),
        by_modality: {label: {verdicts, cached, tokens, cost_usd, spent_usd}}, snapshots: {model: n},
        system_fingerprints: {fp: n}}``; costs are ``None`` without a price.
    """
    total, tokens = _Acc(), dict[str, int]()
    by_mod: dict[str, tuple[_Acc, dict[str, int]]] = {}
    snapshots: dict[str, int] = {}
    fps: dict[str, int] = {}
    for rec in records:
        usage: Mapping[str, Any] = rec["usage"] if isinstance(rec.get("usage"), Mapping) else {}
        hit = is_cache_hit(rec)
        total.add(usage, hit, price, tokens)
        label = (modality_of or {}).get(str(rec.get("item_id")), "?")
        acc, tok = by_mod.setdefault(label, (_Acc(), {}))
        acc.add(usage, hit, price, tok)
        if rec.get("model"):
            snapshots[str(rec["model"])] = snapshots.get(str(rec["model"]), 0) + 1
        fp = (rec.get("extra") or {}).get("system_fingerprint") if isinstance(rec.get("extra"), Mapping) else None
        if fp:
            fps[str(fp)] = fps.get(str(fp), 0) + 1

    def money(x: float) -> float | None:
        return None if price is None else round(x, 6)

    return {
        "verdicts": total.verdicts, "cached": total.cached, "tokens": tokens,
        "cost_usd": money(total.cost_usd), "spent_usd": money(total.spent_usd),
        "by_modality": {k: {"verdicts": a.verdicts, "cached": a.cached, "tokens": t, "cost_usd": money(a.cost_usd),
                            "spent_usd": money(a.spent_usd)} for k, (a, t) in sorted(by_mod.items())},
        "snapshots": snapshots, "system_fingerprints": fps,
    }


def run_usage(run_dir: Path, counted_lines: Iterable[int], run: Mapping[str, Any],
              modality_of: Mapping[str, str]) -> dict[str, Any]:
    """:func:`summarise_usage` of a run directory's counted verdict records (``counted_lines``: the log lines
    analysis counts), at the price ``run.json`` recorded, plus ``price`` (that record, or ``None``)."""
    keep = set(counted_lines)
    recs = (r for i, r in iter_jsonl_lines(Path(run_dir) / VERDICTS, tolerate_torn_tail=True)
            if i in keep and isinstance(r, dict))
    return counted_usage(recs, run, modality_of)


def counted_usage(records: Iterable[Mapping[str, Any]], run: Mapping[str, Any],
                  modality_of: Mapping[str, str]) -> dict[str, Any]:
    """:func:`summarise_usage` of a run's counted records (in log order; e.g.
    :attr:`judgeanything.analysis.load.RunData.usage_records`) at the price ``run.json`` recorded, plus ``price``
    (that record, or ``None`` when absent or unusable)."""
    recorded = run.get("price") if isinstance(run.get("price"), Mapping) else None
    try:
        price = price_of(recorded)
    except PriceError:
        price, recorded = None, None
    return {**summarise_usage(records, price, modality_of), "price": recorded}


def drift_warnings(summary: Mapping[str, Any], judge: str) -> list[str]:
    """Warnings when one run's verdicts came from more than one model snapshot or system fingerprint."""
    out = []
    snaps = summary.get("snapshots") or {}
    if len(snaps) > 1:
        out.append(f"judge {judge}: verdicts of this run came from {len(snaps)} model snapshots "
                   f"({', '.join(f'{k} ×{v}' for k, v in sorted(snaps.items()))}): the provider changed the model "
                   "during the run")
    fps = summary.get("system_fingerprints") or {}
    if len(fps) > 1:
        out.append(f"judge {judge}: {len(fps)} system fingerprints within this run "
                   f"({', '.join(f'{k} ×{v}' for k, v in sorted(fps.items()))}): the provider's backend "
                   "configuration changed; answers at temperature 0 may differ across them")
    return out


def cross_run_warnings(runs: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[str]:
    """Warnings for compared runs of the same judge whose verdicts came from different snapshots.

    Args:
        runs: ``(run label, judge name, usage summary)`` per run.
    """
    by_judge: dict[str, list[tuple[str, set[str]]]] = {}
    for label, judge, summ in runs:
        by_judge.setdefault(judge, []).append((label, set((summ or {}).get("snapshots") or {})))
    out = []
    for judge, rs in sorted(by_judge.items()):
        sets = {frozenset(s) for _, s in rs if s}
        if len(sets) > 1:
            desc = "; ".join(f"{label}: {', '.join(sorted(s))}" for label, s in rs if s)
            out.append(f"judge {judge}: the compared runs were answered by different model snapshots ({desc}); "
                       "their metrics compare different models")
    return out


__all__ = ["TOKEN_FIELDS", "Price", "PriceError", "counted_usage", "cross_run_warnings", "drift_warnings",
           "find_price", "is_cache_hit", "iter_latest_records", "load_price_table", "paid_cost", "price_of",
           "resolve_price", "run_usage", "summarise_usage", "verdict_cost"]
