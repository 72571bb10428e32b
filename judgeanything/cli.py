"""``judgeanything``: the Hydra app — one run = one benchmark × setting × mode × judge.

    judgeanything                                     # probes, random baseline, pair, overall
    judgeanything -m judge=random,first,longer        # a sweep (one run directory per job)
    judgeanything benchmark=mllm_judge judge=replay setting=score \
        benchmark.score_file=/path/to/HQ_Score.jsonl

Results land in the Hydra run directory: verdicts.jsonl (the run log), items.jsonl, labels.jsonl,
run.json, metrics.json, metrics.csv, report.md, report.html and plots/. Rerunning the same command
resumes the same directory.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from judgeanything.sweep import register_resolvers

if TYPE_CHECKING:
    from judgeanything.runner import RunOptions

log = logging.getLogger("judgeanything")
register_resolvers()  # ja_sweep_id / ja_shard_dir, used by conf/config.yaml's hydra.run.dir and sweep.dir


def run_from_config(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Run one job described by a composed config into ``run_dir``; returns a summary dict.

    Raises:
        SchemaError, JudgeConfigError, RunConfigError, StoreError: bad input or configuration (the
        message names the file / row / field or the option).
    """
    from judgeanything.redaction import collect_secrets
    from judgeanything.report.summary import finish_run
    from judgeanything.runner import Runner

    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict)
    container: dict[str, Any] = {str(k): v for k, v in resolved.items()}
    overrides = _overrides()
    collect_secrets({**container, "overrides": overrides})  # before anything is written or printed
    data = _load_data(cfg)
    parse = str(cfg.judge.get("parse", "auto"))  # the runner's option, not a judge constructor argument
    judge = _setting_judge(_build_judge(_without(cfg.judge, "parse"), data), cfg, container)
    opts = _run_options(cfg, container, parse)
    container["overrides"] = overrides
    runner = Runner(data, judge, run_dir, opts, media_options=container.get("media") or {},
                    identity=_identity(container, judge.fingerprint(), opts, parse), config=container,
                    judge_cache=_judge_cache(container.get("cache")), price=_price(container.get("cost"), judge))
    counts = runner.run()
    summary = finish_run(run_dir, analysis=container.get("analysis") or {}, judge=judge, data=data)
    summary["counts"] = counts
    if counts.get("left_by_budget"):
        summary["text"] = (summary.get("text", "") + f"\nstopped by run.budget_usd={opts.budget_usd}: "
                           f"{counts['left_by_budget']} units not judged; rerun with a higher budget to continue")
    return summary


def _load_data(cfg: DictConfig) -> Any:
    """The benchmark's items for the configured setting (process and rules items have their own loaders).

    Raises:
        SchemaError: bad data (the message names file / row / field).
        RunConfigError: a setting or option the benchmark does not support.
    """
    from judgeanything.runner import RunConfigError
    from judgeanything.schema import SchemaError

    setting = str(cfg.setting.name)
    dataset = _instantiate(cfg.benchmark, "benchmark")
    try:
        if setting == "process":  # the process probe family or ProJudgeBench (judgeanything/process/data.py)
            from judgeanything.process.data import load_process_data

            return load_process_data(dataset)
        return _rules_data(dataset, cfg) if setting == "rules" else dataset.load(setting)
    except SchemaError:
        raise
    except ValueError as e:  # an unsupported setting or option of this dataset
        raise RunConfigError(f"benchmark {getattr(dataset, 'name', '?')}: {e}") from e


def _setting_judge(judge: Any, cfg: DictConfig, container: dict[str, Any]) -> Any:
    """The judge wrapped for its setting: rules (relevance screen, debiased verdicts; judgeanything/rules) and
    process (per-step verdicts; judgeanything/process) judges; any other setting's judge as it is."""
    setting = str(cfg.setting.name)
    if setting == "rules":
        from judgeanything.rules.setup import rules_judge

        return rules_judge(judge, container["setting"])
    if setting == "process":  # baselines by definition, text judges read per step
        from judgeanything.process.judge import process_judge

        return process_judge(judge)
    return judge


def _run_options(cfg: DictConfig, container: dict[str, Any], parse: str) -> RunOptions:
    """The runner's :class:`~judgeanything.runner.RunOptions` from the composed config."""
    from judgeanything.runner import RunOptions

    return RunOptions(
        mode=str(cfg.mode.name),
        rubrics=tuple(cfg.mode.rubrics),
        prompt_version=str(cfg.run.prompt_version),
        repeats=int(cfg.run.repeats),
        pair_order=str(cfg.setting.get("order", "fixed")),
        batch_permutations=str(cfg.setting.get("permutations", "none")),
        n_permutations=cfg.setting.get("n_permutations"),
        seed=int(cfg.run.seed),
        limit=cfg.run.limit,
        batch_size=cfg.run.batch_size,
        concurrency=cfg.run.concurrency,
        progress=bool(cfg.run.progress),
        overwrite=bool(cfg.run.overwrite),
        retry_failures=tuple(cfg.run.get("retry_failures") or ()),
        rate=container["run"].get("rate") or {},
        parse=parse,
        max_raw_chars=cfg.run.get("max_raw_chars", 100_000),
        scale=_scale(cfg),
        shard=cfg.run.get("shard"),
        budget_usd=cfg.run.get("budget_usd"),
    )


def _identity(container: dict[str, Any], judge_fp: dict[str, Any], opts: RunOptions, parse: str) -> dict[str, Any]:
    """What makes a run directory this run (``run.json``'s identity; another identity is refused there)."""
    return {
        "benchmark": {k: v for k, v in container["benchmark"].items() if k != "limit"},
        # the default scale (null) keeps earlier runs' identity; another scale is another run
        "setting": {k: v for k, v in container["setting"].items() if not (k == "scale" and v is None)},
        "mode": container["mode"],
        "judge": judge_fp,
        **({"parse": parse} if parse != "auto" else {}),  # the default keeps earlier runs' identity
        "prompt_version": opts.prompt_version,
        "repeats": opts.repeats,
        "seed": opts.seed,
        # the limits decide which items are refused, not what the judge is shown: raising one to judge a
        # large file resumes the run (its media_error units are retried with run.retry_failures)
        "media": {k: v for k, v in (container.get("media") or {}).items() if k != "limits"},
        **({"shard": str(opts.shard)} if opts.shard else {}),  # judgeanything-merge drops it
    }


def _rules_data(dataset: Any, cfg: DictConfig) -> Any:
    """The rule items of ``setting=rules`` (judgeanything/rules/setup.py)."""
    from judgeanything.rules.setup import rules_data

    setting = OmegaConf.to_container(cfg.setting, resolve=True)
    assert isinstance(setting, dict)
    return rules_data(dataset, {str(k): v for k, v in setting.items()})


def _judge_cache(node: Any) -> Any:
    """The judge cache of the ``cache`` config section (``None`` when ``cache.mode=off``).

    Raises:
        RunConfigError: a bad option, or a cache directory that cannot be used.
    """
    from judgeanything.cache import CacheOptions, JudgeCache
    from judgeanything.cache.store import CacheStoreError
    from judgeanything.runner import RunConfigError

    try:
        options = CacheOptions.from_config(node)
        return None if options.mode == "off" else JudgeCache(options)
    except (ValueError, CacheStoreError) as e:
        raise RunConfigError(str(e)) from e


def _price(node: Any, judge: Any) -> dict[str, Any] | None:
    """The judge's price from the ``cost`` config section and the price table (``None`` when unknown).

    Raises:
        RunConfigError: a malformed price or price table.
    """
    from judgeanything.runner import RunConfigError
    from judgeanything.usage import PriceError, resolve_price

    fp = judge.fingerprint()
    try:
        return resolve_price(node, str(fp.get("model") or ""), str(judge.name))
    except PriceError as e:
        raise RunConfigError(str(e)) from e


def _without(node: DictConfig, key: str) -> DictConfig:
    """A copy of ``node`` without ``key`` (options the runner reads from a group that Hydra instantiates)."""
    out = node.copy()
    with open_dict(out):
        out.pop(key, None)
    return out


def _build_judge(node: DictConfig, data: Any) -> Any:
    """The judge of ``node``; the ``replay`` judge receives the benchmark's recorded verdicts at construction.
    (``judge.parse`` is the runner's option: it reaches a judge that reads raw text itself, the cascade, on each
    request, ``JudgeRequest.parse``.)"""
    from hydra.utils import get_class

    from judgeanything.judges.replay import ReplayJudge

    target = node.get("_target_")
    try:
        replay = isinstance(target, str) and issubclass(get_class(target), ReplayJudge)
    except Exception:  # an unknown target: let instantiate report it as a config error naming the group
        replay = False
    if not replay:
        return _instantiate(node, "judge")
    # the recorded verdicts are objects OmegaConf cannot hold: bind the config's arguments, then add them
    make = _instantiate(node, "judge", _partial_=True)
    try:
        return make(recorded=data.recorded, recorded_raw=data.recorded_raw)
    except TypeError as e:  # an unknown option under judge=replay
        from judgeanything.runner import RunConfigError

        raise RunConfigError(f"judge ({target}): {e}") from e


def _scale(cfg: DictConfig) -> Any:
    """``setting.scale`` (score setting): ``1-10``, ``0-100``, ``[poor, fair, good, excellent]`` or
    ``{min, max, labels}``; absent → 1–5.

    Raises:
        RunConfigError: an unreadable scale, or a scale given to a pair or batch setting.
    """
    from judgeanything.runner import RunConfigError
    from judgeanything.schema import SchemaError, ScoreScale

    spec = cfg.setting.get("scale")
    if spec is None:
        return ScoreScale()
    if str(cfg.setting.name) != "score":
        raise RunConfigError(f"setting.scale applies to the score setting, not {cfg.setting.name!r}")
    try:
        return ScoreScale.parse(OmegaConf.to_container(spec) if OmegaConf.is_config(spec) else spec)
    except SchemaError as e:
        raise RunConfigError(f"setting.scale: {e}") from e


def _instantiate(node: DictConfig, what: str, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` with a bad argument reported as a config error naming the group."""
    from hydra.errors import InstantiationException

    from judgeanything.runner import RunConfigError

    try:
        return instantiate(node, _convert_="all", **kwargs)
    except InstantiationException as e:
        cause = e.__cause__ or e
        known = _known_errors()
        if isinstance(cause, known):
            raise cause from e
        raise RunConfigError(f"{what} ({node.get('_target_', '?')}): {cause}") from e


def _overrides() -> list[str]:
    """The command-line overrides of this job (recorded, redacted, in run.json)."""
    try:
        return list(HydraConfig.get().overrides.task)
    except ValueError:  # not running under Hydra (tests composing a config directly)
        return []


def _known_errors() -> tuple[type[BaseException], ...]:
    from judgeanything.judges.base import JudgeConfigError
    from judgeanything.runner import RunConfigError
    from judgeanything.schema import SchemaError
    from judgeanything.store import StoreError

    return (SchemaError, JudgeConfigError, RunConfigError, StoreError, FileNotFoundError)


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def _app(cfg: DictConfig) -> None:
    from judgeanything.redaction import install_log_redaction, redact_text

    install_log_redaction()
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        summary = run_from_config(cfg, run_dir)
    except _known_errors() as e:
        log.error("%s", e)
        print(f"error: {redact_text(str(e))}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:
        # Hydra would print the traceback verbatim (a URL with its credentials, a key quoted by a server);
        # the log handlers redact it, and the console gets the redacted last line
        log.exception("the run failed")
        print(f"error: {redact_text(f'{type(e).__name__}: {e}')}", file=sys.stderr)
        sys.exit(1)
    print(redact_text(summary.get("text", "")))


def main() -> None:
    """Console entry point."""
    from judgeanything.redaction import redact_console

    redact_console()  # before Hydra binds its log handlers to sys.stdout / sys.stderr
    _app()


if __name__ == "__main__":
    main()
