#!/usr/bin/env bash
# The exact commands behind the single-agent reference results (docs/baselines/trpo.md) (TRPO, NPG), one torch thread each.
# ~25 min on 2 cores. sb3-contrib is needed for the comparison: pip install -e ".[bench]".
set -euo pipefail
cd "$(dirname "$0")/.."
# TRPO vs sb3-contrib TRPO, rl-baselines3-zoo hyper-parameters (baselines/benchmark.py PRESETS), 100k steps.
python -m baselines.benchmark --env-id CartPole-v1 --seeds 1 2 3 --json runs/bench_trpo_CartPole-v1.json
python -m baselines.benchmark --env-id Pendulum-v1 --seeds 1 2 3 --json runs/bench_trpo_Pendulum-v1.json
# Truncated NPG, same presets; α (--learning-rate) annealed to 0: the default 0.1 on CartPole, 0.3 on Pendulum
# (with 0.1 Pendulum only reaches about -600 in 100k steps).
for seed in 1 2 3; do
  python -m baselines.npg --env-id CartPole-v1 --seed "$seed" --num-envs 2 --num-steps 512 --critic-batch-size 512 \
    --cg-damping 1e-3 --gae-lambda 0.98 --n-critic-updates 20 --total-timesteps 100000 \
    --run-dir "runs/npg_CartPole-v1_s$seed" --torch-threads 1 --no-progress
  python -m baselines.evaluate "runs/npg_CartPole-v1_s$seed" --episodes 20 --seed 10000 \
    --json "runs/npg_CartPole-v1_s$seed/eval.json"
  python -m baselines.npg --env-id Pendulum-v1 --seed "$seed" --num-envs 2 --num-steps 1024 --gamma 0.9 \
    --n-critic-updates 15 --learning-rate 0.3 --total-timesteps 100000 --run-dir "runs/npg_Pendulum-v1_lr0.3_s$seed" \
    --torch-threads 1 --no-progress
  python -m baselines.evaluate "runs/npg_Pendulum-v1_lr0.3_s$seed" --episodes 20 --seed 10000 \
    --json "runs/npg_Pendulum-v1_lr0.3_s$seed/eval.json"
done
# TRPO on spread_v0 through the joint-control view (one policy on state() acts for all 3 agents; team reward),
# MAPPO's budget and discount.
for seed in 1 2 3; do
  python -m baselines.trpo --env-id spread_v0 --seed "$seed" --num-envs 128 --num-steps 25 --gamma 0.95 \
    --critic-batch-size 512 --total-timesteps 2000000 --run-dir "runs/trpo_spread_s$seed" --torch-threads 1 --no-progress
  python -m baselines.evaluate "runs/trpo_spread_s$seed" --episodes 1000 --json "runs/trpo_spread_s$seed/eval.json"
done
