"""Thousands of spread_v0 worlds stepped at once through the batched torch API, with an SPS print.

    python examples/batched_rollout.py --num-envs 4096 --device cpu
    python examples/batched_rollout.py --num-envs 32768 --device cuda
"""

import argparse
import time

import torch

from marl_envs import make_batched

parser = argparse.ArgumentParser()
parser.add_argument("--num-envs", type=int, default=4096)
parser.add_argument("--device", default="cpu")
parser.add_argument("--steps", type=int, default=200)
args = parser.parse_args()

env = make_batched("spread_v0", num_envs=args.num_envs, device=args.device, seed=0)
obs, info = env.reset()  # obs: (B, A, obs_dim); info["state"]: (B, state_dim)
finished_returns = []
start = time.perf_counter()
for _ in range(args.steps):
    actions = torch.randint(0, 5, (env.num_envs, env.num_agents), device=args.device)
    obs, reward, terminated, truncated, info = env.step(actions)  # finished worlds reset themselves
    done = (terminated | truncated).all(dim=1)
    finished_returns.append(info["episode_return"][done].sum(dim=1))
if args.device.startswith("cuda"):
    torch.cuda.synchronize()
elapsed = time.perf_counter() - start
returns = torch.cat(finished_returns)
print(f"{args.num_envs * args.steps / elapsed:,.0f} env-steps/s; "
      f"{len(returns)} episodes, mean team return {returns.mean():.2f}")
