#!/usr/bin/env bash
# Produce the result folders that scripts/compare_outputs.py compares: the probe demo sweep and the three
# MLLM-as-a-Judge replays (pair, score, batch), written under OUT. Run once on the code before a refactor and
# once after, then `python scripts/compare_outputs.py BEFORE AFTER`.
#
#     scripts/golden_outputs.sh OUT [SHARED_DATA]
#
# SHARED_DATA defaults to ../shared/data (the HQ_*.jsonl files of the MLLM-as-a-Judge release); the replays are
# skipped with a note when it is absent. Uses $PYTHON (default: .venv/bin/python) and the judge cache is off, so
# every verdict is computed, not looked up.
set -euo pipefail
out=${1:?usage: scripts/golden_outputs.sh OUT [SHARED_DATA]}
data=${2:-../shared/data}
py=${PYTHON:-.venv/bin/python}
export HF_HUB_OFFLINE=1
mkdir -p "$out"
out=$(cd "$out" && pwd)
"$py" -m judgeanything.cli experiment=demo cache.mode=off "hydra.sweep.dir=$out/demo" >"$out/demo.log" 2>&1
"$py" -m judgeanything.compare_cli "$out/demo" --out "$out/demo" >>"$out/demo.log" 2>&1
if [[ -d "$data/mllm_judge" ]]; then
  for s in pair score batch; do
    f=$(cd "$data/mllm_judge" && pwd)/HQ_${s^}.jsonl
    "$py" -m judgeanything.cli benchmark=mllm_judge judge=replay "setting=$s" "benchmark.${s}_file=$f" \
      cache.mode=off "hydra.run.dir=$out/replay_$s" >"$out/replay_$s.log" 2>&1
  done
else
  echo "no $data/mllm_judge: replays skipped" >&2
fi
echo "$out"
