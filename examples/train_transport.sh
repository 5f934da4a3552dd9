#!/usr/bin/env bash
# The commands behind the transport_v0 result (docs/baselines/mappo.md): MAPPO, 3 seeds, 2M env steps each, then 500
# greedy evaluation episodes per seed (success rate = the package reached the goal zone).
# Single-threaded runs (~2.5 min each on this project's 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."
for seed in 1 2 3; do
  python -m baselines.mappo --env-id transport_v0 --seed "$seed" --total-timesteps 2000000 --num-steps 50 \
    --run-dir "runs/mappo_transport_s$seed" --torch-threads 1 --no-progress
  python -m baselines.evaluate "runs/mappo_transport_s$seed" --episodes 500 --json "runs/mappo_transport_s$seed/eval.json"
done
python -m baselines.plot runs/mappo_transport_s* --metric success_rate \
  --out assets/transport_v0_learning_curves.png --csv assets/transport_v0_learning_curves.csv
python examples/make_media.py --checkpoint transport_v0=runs/mappo_transport_s1 --env transport_v0 --episodes 3 \
  --seed 0 --out-dir runs/media && cp runs/media/transport_v0.gif assets/transport_v0_mappo.gif
