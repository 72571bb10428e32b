"""The rules setting's data and judge, from the composed config (``setting=rules``; called by the CLI)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from judgeanything.datasets.base import BenchmarkData
from judgeanything.errors import RunConfigError
from judgeanything.judges.base import Judge
from judgeanything.judges.cascade import CascadeJudge
from judgeanything.rules.constitution import load_constitution
from judgeanything.rules.contrast import ContrastError, check_contrast
from judgeanything.rules.debias import DebiasedJudge, gives_token_probabilities
from judgeanything.rules.screen import RulesJudge


def rules_data(dataset: Any, setting: Mapping[str, Any]) -> BenchmarkData:
    """The benchmark's rule items: ``dataset.load_rules(constitution)`` with ``setting.constitution``.

    Raises:
        SchemaError: a bad constitution file (named).
        RunConfigError: a benchmark without rule items.
    """
    constitution = load_constitution(setting.get("constitution"))
    load = getattr(dataset, "load_rules", None)
    if load is None:
        raise RunConfigError(f"benchmark {getattr(dataset, 'name', '?')!r} has no rule items; setting=rules runs "
                             "on benchmark=probes (the rule probe family)")
    data: BenchmarkData = load(constitution)
    return data


def _debiased(judge: Judge, contrast: str, blur_radius: float) -> Judge:
    if contrast == "none" or not gives_token_probabilities(judge):
        return judge
    return DebiasedJudge(judge, contrast, blur_radius=blur_radius)


def rules_judge(judge: Judge, setting: Mapping[str, Any]) -> RulesJudge:
    """``judge`` set up for rule judging: token-probability verdicts debiased against ``setting.contrast``
    (for a cascade: its fast judge), behind the relevance screen (``setting.screen``) asked by the raw judge
    (a cascade's raw fast judge).

    Raises:
        RunConfigError: an unknown contrast kind.
    """
    try:
        contrast = check_contrast(str(setting.get("contrast", "no_media")))
    except ContrastError as e:
        raise RunConfigError(str(e)) from e
    radius = float(setting.get("blur_radius", 8.0))
    if isinstance(judge, CascadeJudge):
        screen_judge = judge.fast
        judge.fast = _debiased(judge.fast, contrast, radius)
        verdict: Judge = judge
    else:
        screen_judge = judge
        verdict = _debiased(judge, contrast, radius)
    return RulesJudge(verdict, screen_judge if setting.get("screen", True) else None)


__all__ = ["rules_data", "rules_judge"]
