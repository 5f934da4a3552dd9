"""What the Ray backend costs per update: rollout collection local vs on Ray workers, and the overhead.

    python -m baselines.backend_benchmark                          # spread_v0, rollouts of 1k, 10k, 100k steps
    python -m baselines.backend_benchmark --num-workers 4 --ray-address auto   # on a running cluster

For each rollout size (env steps per update = worlds x steps), an untrained MAPPO agent collects
``--repeats`` rollouts with the local collector and with the Ray collector. The overhead is the
Ray collection's wall time minus its slowest worker's own collection time: putting the weights in
the object store, scheduling, and shipping the rollout (time-major tensors) back to the learner.
On a machine with as many cores as workers plus one, Ray's wall time approaches
``local / num_workers + overhead``; on this project's 2-core machine the workers share the cores
with each other, so expect no speed-up there, only the cost of the path that scales out.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from baselines import mappo
from baselines.common.cli import prog_name
from baselines.common.collector import LocalCollector
from baselines.common.envs import make_vec_env, parse_env_kwargs
from baselines.common.policy import policy_from_args
from baselines.common.ray_backend import RayCollector, import_ray, start_ray
from baselines.common.rollout import EpisodeStats, agent_teams


def _rollout_bytes(rollout) -> int:
    return sum(t.numel() * t.element_size() for t in rollout.as_dict().values())


def bench(env_id: str, env_kwargs: dict, steps: int, num_steps: int, num_workers: int, repeats: int,
          ray_address: str | None, threads: int) -> dict[str, float]:
    """Seconds per rollout of ``steps`` env steps, local and on Ray, and the Ray overhead."""
    num_envs = max(num_workers, steps // num_steps)
    device = torch.device("cpu")
    env = make_vec_env(env_id, num_envs, device, 0, **env_kwargs)
    obs, info = env.reset(seed=0)
    args = mappo.Args(env_id=env_id, num_envs=num_envs, num_steps=num_steps)
    agent = policy_from_args(env, args)
    teams = agent_teams(list(env.agents))
    local = LocalCollector(env, obs, info["state"], 0, device)
    remote = RayCollector(make_vec_env, env_id, env_kwargs, num_envs, num_workers, 0, device,
                          ray_address=ray_address, threads=threads)
    try:
        local.collect(agent, num_steps, EpisodeStats(teams))  # warm-up: first-call allocations, Ray's imports
        remote.collect(agent, num_steps, EpisodeStats(teams))
        tick = time.perf_counter()
        for _ in range(repeats):
            local.collect(agent, num_steps, EpisodeStats(teams))
        local_s = (time.perf_counter() - tick) / repeats
        overhead, tick = 0.0, time.perf_counter()
        for _ in range(repeats):
            rollout, _ = remote.collect(agent, num_steps, EpisodeStats(teams))
            overhead += remote.last_overhead
        ray_s = (time.perf_counter() - tick) / repeats
    finally:
        remote.close()
        local.close()
    return {"env_steps": num_envs * num_steps, "local_s": local_s, "ray_s": ray_s, "overhead_s": overhead / repeats,
            "rollout_mb": _rollout_bytes(rollout) / 2**20}


def main(argv: list[str] | None = None) -> list[dict[str, float]]:
    parser = argparse.ArgumentParser(prog=prog_name("baselines.backend_benchmark"), description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default="spread_v0")
    parser.add_argument("--env-kwargs", default="{}")
    parser.add_argument("--steps", type=int, nargs="+", default=[1_000, 10_000, 100_000],
                        help="rollout sizes in env steps (worlds x steps per update)")
    parser.add_argument("--num-steps", type=int, default=25, help="steps per world in a rollout")
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the driver and of each worker")
    parser.add_argument("--ray-address", default=None, help="join this Ray cluster (default: start one here)")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    env_kwargs = parse_env_kwargs(args.env_kwargs)
    rows = []
    started = start_ray(args.ray_address)  # once for all sizes (a start costs seconds)
    print(f"{args.env_id}, {args.num_workers} Ray workers x {args.threads} thread(s); seconds per rollout")
    header = ("env steps", 10), ("local", 9), ("ray", 9), ("overhead", 9), ("rollout MB", 11), ("local SPS", 10), \
        ("ray SPS", 10)
    print(" ".join(f"{name:>{width}}" for name, width in header))
    for steps in args.steps:
        row = bench(args.env_id, env_kwargs, steps, args.num_steps, args.num_workers, args.repeats,
                    args.ray_address, args.threads)
        rows.append(row)
        print(f"{row['env_steps']:>10,} {row['local_s']:>9.4f} {row['ray_s']:>9.4f} {row['overhead_s']:>9.4f} "
              f"{row['rollout_mb']:>11.2f} {row['env_steps'] / row['local_s']:>10,.0f} "
              f"{row['env_steps'] / row['ray_s']:>10,.0f}", flush=True)
    if started:
        import_ray().shutdown()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return rows


if __name__ == "__main__":
    main()
