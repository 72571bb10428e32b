#!/usr/bin/env bash
# A judge sweep as a SLURM job array, submitted from a login node through hydra-submitit-launcher: each
# (judge × setting × mode) job is one array task; this command waits for them, then writes one leaderboard
# into the sweep folder. Relaunching the same command resumes the same folder (finished units are skipped,
# the judge cache answers everything already asked), so a sweep cut by a time limit is simply relaunched;
# submitit also requeues a job that reaches its limit (conf/hydra/launcher/slurm.yaml: max_num_timeout).
#
#   bash scripts/slurm/sweep_submitit.sh            # edit PARTITION / ACCOUNT / the sweep below first
set -euo pipefail

PARTITION=${PARTITION:-cpu}
ACCOUNT=${ACCOUNT:-}
# On a shared filesystem every job shares one judge cache (the file-per-entry backend is chosen there).
export JUDGEANYTHING_CACHE_DIR=${JUDGEANYTHING_CACHE_DIR:-$PWD/.judge-cache}

judgeanything -m hydra/launcher=slurm \
    hydra.launcher.partition="$PARTITION" \
    ${ACCOUNT:+hydra.launcher.account="$ACCOUNT"} \
    hydra.launcher.timeout_min=240 \
    benchmark=judgeanything \
    judge=openai judge.model=gpt-4o-2024-08-06,gpt-4.1-2025-04-14,gpt-4o-mini-2024-07-18 \
    setting=pair,score mode=overall,rubrics,checklist \
    setting.order=both run.budget_usd=50
