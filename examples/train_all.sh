#!/usr/bin/env bash
# The exact commands behind the baseline results (docs/baselines/mappo.md) and learning curves (CleanRL's benchmark/*.sh idea).
# Each run is single-threaded so that two seeds share a 2-core machine; allow ~4 min per 2M-step run there.
set -euo pipefail
cd "$(dirname "$0")/.."
for seed in 1 2 3; do
  python -m baselines.mappo --env-id spread_v0 --seed "$seed" --total-timesteps 2000000 \
    --run-dir "runs/mappo_spread_s$seed" --torch-threads 1 --no-progress
  python -m baselines.ippo --env-id spread_v0 --seed "$seed" --total-timesteps 2000000 \
    --run-dir "runs/ippo_spread_s$seed" --torch-threads 1 --no-progress
done
for seed in 1 2 3; do  # the MAPPO paper's budget for spread (~20 min per run, single thread; γ 0.95 and relu as measured)
  python -m baselines.mappo --env-id spread_v0 --seed "$seed" --gamma 0.95 --activation relu --total-timesteps 20000000 \
    --run-dir "runs/mappo_spread_20M_s$seed" --torch-threads 1 --no-progress
  python -m baselines.evaluate "runs/mappo_spread_20M_s$seed" --episodes 1000 --json "runs/mappo_spread_20M_s$seed/eval.json"
done
for algo in mappo ippo; do
  for seed in 1 2 3; do
    python -m baselines.evaluate "runs/${algo}_spread_s$seed" --episodes 1000 --json "runs/${algo}_spread_s$seed/eval.json"
    python -m baselines.evaluate "runs/${algo}_spread_s$seed" --episodes 1000 --env-id mpe2.simple_spread_v3:parallel_env \
      --json "runs/${algo}_spread_s$seed/eval_mpe2.json"
  done
done
python -m baselines.plot runs/mappo_spread_s* runs/ippo_spread_s* \
  --hline "scripted controller=-30" --hline "random=-81" \
  --out assets/spread_v0_learning_curves.png --csv assets/spread_v0_learning_curves.csv
python -m baselines.plot runs/mappo_spread_20M_s* \
  --hline "scripted controller=-30" --hline "random=-81" \
  --out assets/spread_v0_mappo_20M.png --csv assets/spread_v0_mappo_20M.csv
