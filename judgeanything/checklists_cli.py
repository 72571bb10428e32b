"""``judgeanything-checklists``: write per-query checklists for a benchmark with any judge model, into the
release's checklist formats (a Hydra app: ``conf/checklists.yaml``).

    judgeanything-checklists judge=openai judge.model=gpt-4o-2024-08-06          # the probe suite
    judgeanything-checklists benchmark=judgeanything_release benchmark.tasks=[Image2Text] judge=gemini

Writes ``generation.jsonl`` (one line per query: the points or the failure, the raw answer, the judge's
fingerprint and the prompt version; rerunning resumes) and ``<Task>.json`` files (or ``checklist.json``)
to the run directory (default ``checklists/<benchmark>/<judge>``); judge with them through
``benchmark.checklist=<that folder>`` and ``mode=checklist``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from judgeanything.checklists import ChecklistOptions, ChecklistWriter, write_release
from judgeanything.cli import _instantiate, _known_errors, _without
from judgeanything.redaction import redact_console, redact_text
from judgeanything.schema import Query

log = logging.getLogger("judgeanything.checklists")


def generate(cfg: DictConfig, out_dir: Path) -> str:
    """Run one checklist job; returns the summary text.

    Raises:
        SchemaError, JudgeConfigError, RunConfigError, ValueError: bad input or configuration.
    """
    from judgeanything.redaction import collect_secrets

    collect_secrets(OmegaConf.to_container(cfg, resolve=True))  # before anything is written or printed
    c = cfg.checklists
    opts = ChecklistOptions(rubrics=tuple(c.rubrics), max_items=int(c.max_items), max_words=int(c.max_words),
                            prompt_version=str(c.prompt_version), batch_size=c.batch_size,
                            concurrency=c.concurrency)
    data = _instantiate(cfg.benchmark, "benchmark").load("score")
    queries: dict[str, Query] = {}
    for it in data.items:
        queries.setdefault(it.query.uniq_id, it.query)
    todo = list(queries.values())[: c.limit] if c.limit else list(queries.values())
    judge = _instantiate(_without(cfg.judge, "parse"), "judge")
    media = OmegaConf.to_container(cfg.media, resolve=True) if cfg.get("media") is not None else {}
    writer = ChecklistWriter(judge, out_dir, opts, media_root=data.data_root, media_options=media)  # type: ignore[arg-type]
    records = writer.run(todo)
    files = write_release(records, out_dir, str(c.layout))
    failed = len(todo) - len(records)
    return (f"checklists for {len(records)} of {len(todo)} queries by {judge.name} ({failed} failed: see "
            f"{out_dir / 'generation.jsonl'}; rerun to retry them)\n"
            + "\n".join(f"wrote {p}" for p in files))


@hydra.main(version_base="1.3", config_path="conf", config_name="checklists")
def _app(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    errors: tuple[type[BaseException], ...] = (*_known_errors(), ValueError)
    try:
        print(generate(cfg, out_dir))
    except errors as e:
        log.error("%s", e)
        print(f"error: {redact_text(str(e))}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    """Console entry point."""
    redact_console()  # before Hydra binds its log handlers to sys.stdout / sys.stderr
    _app()


if __name__ == "__main__":
    main()
