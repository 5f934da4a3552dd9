"""How fast one PPO minibatch learns: eager against ``--compile``, float32 against ``--precision bf16``.

    python -m baselines.learner_benchmark --env-id hide_and_seek_v1 --threads 2
    python -m baselines.learner_benchmark --env-id spread_v0 --repeats 50 --json runs/learner_spread.json

One minibatch of the env's MAPPO preset (``num_envs × num_steps × agents / num_minibatches`` rows: the inputs of
the env's first observations, random actions, advantages and targets) goes through the losses MAPPO trains on
(``ppo.group_loss``), the backward pass and one fused Adam step, ``--repeats`` times
per setting; the first ``--warmup`` repetitions (compiling, first-touch allocations) are left out and the median
is reported. The arithmetic of a minibatch hardly depends on the values in it, so these rows time what a
training run's rows cost; ``time/learning`` in a run's metrics.csv adds the minibatch gathers, GAE and the
value-normaliser updates around them. Run it on an idle machine: a concurrent job skews the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from collections import defaultdict

import torch

import marl_envs
from baselines import mappo
from baselines.common.cli import prog_name
from baselines.common.policy import policy_from_args
from baselines.common.ppo import group_loss
from baselines.common.precision import autocast, native_bf16
from baselines.common.presets import preset_for


def minibatch(env, policy, rows: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """``rows`` inputs drawn from the first observations of ``env``'s worlds (so entity networks see real
    visibility masks), with random actions, log-probabilities, advantages and targets."""
    obs, info = env.reset(seed=0)
    actor_in, critic_in = policy.actor_input(obs).flatten(0, 1), policy.critic_input(obs, info["state"]).flatten(0, 1)
    pick = torch.randint(0, actor_in.shape[0], (rows,), generator=generator)
    space = env.single_action_space
    if hasattr(space, "nvec"):
        actions = torch.stack([torch.randint(0, int(k), (rows,), generator=generator) for k in space.nvec], -1)
    elif hasattr(space, "n"):
        actions = torch.randint(0, int(space.n), (rows,), generator=generator)
    else:
        actions = torch.randn(rows, *space.shape, generator=generator)
    return {"actor_in": actor_in[pick], "critic_in": critic_in[pick], "actions": actions,
            "logprobs": -3 * torch.rand(rows, generator=generator), "adv": torch.randn(rows, generator=generator),
            "targets": torch.randn(rows, generator=generator), "raw_values": torch.randn(rows, generator=generator),
            "policy_mask": torch.ones(rows, dtype=torch.bool), "value_mask": torch.ones(rows, dtype=torch.bool)}


def time_minibatch(policy, mb: dict[str, torch.Tensor], args: mappo.Args, repeats: int, warmup: int) -> float:
    """Median seconds of one minibatch's losses (``ppo.group_loss``, as MAPPO's update computes them, compiled
    if ``args.compile``), backward pass and Adam step, under ``args.precision``."""
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-5, eps=1e-5, fused=True)
    log: dict[str, list[float]] = defaultdict(list)
    seconds = []
    for _ in range(warmup + repeats):
        start = time.perf_counter()
        with autocast(args.precision, torch.device("cpu")):
            loss = group_loss(policy, 0, mb, args, log)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds[warmup:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=prog_name("baselines.learner_benchmark"),
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-id", default="hide_and_seek_v1", choices=marl_envs.list_envs())
    parser.add_argument("--policy", default="mlp", choices=["mlp", "entity"],
                        help="the networks (MAPPO's --policy; entity: envs whose spec declares entities)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=20, help="timed minibatches per setting (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed minibatches first (default 3)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--repeats and --threads must be at least 1, --warmup at least 0")
    torch.set_num_threads(args.threads)
    preset = {k: v for k, v in preset_for("mappo", args.env_id).items() if k in mappo.Args.__dataclass_fields__}
    run_args = mappo.Args(env_id=args.env_id, **{**preset, "policy": args.policy})
    env = marl_envs.make_batched(args.env_id, num_envs=64, seed=0)
    policy = policy_from_args(env, run_args)
    rows = run_args.num_envs * run_args.num_steps * len(env.agents) // run_args.num_minibatches
    mb = minibatch(env, policy, rows, torch.Generator().manual_seed(0))
    precisions = ["fp32", "bf16"] if native_bf16(torch.device("cpu")) else ["fp32"]
    results = []
    print(f"{args.env_id}, {args.policy} policy: one MAPPO minibatch of {rows:,} rows (the preset's), "
          f"{args.threads} threads, median of {args.repeats}")
    for precision in precisions:
        for compiled in (False, True):
            setting = dataclasses.replace(run_args, precision=precision, compile=compiled)
            ms = 1000 * time_minibatch(policy, mb, setting, args.repeats, args.warmup)
            results.append({"precision": precision, "compile": compiled, "ms": round(ms, 2)})
            print(f"  {precision:5s} {'compiled' if compiled else 'eager':9s} {ms:8.1f} ms")
    if len(precisions) == 1:
        print("  (bf16 left out: this CPU has no native bfloat16 products)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"env_id": args.env_id, "policy": args.policy, "rows": rows, "threads": args.threads,
                       "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
