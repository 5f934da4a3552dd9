"""Train Stable-Baselines3 PPO on spread_v0 through SuperSuit's vector wrappers (one shared policy).

    pip install stable-baselines3
    python examples/sb3_supersuit.py --total-timesteps 200000 --num-vec-envs 8 --save ppo_spread

SuperSuit turns the PettingZoo parallel env into a vector env with one slot per agent
(``pettingzoo_env_to_vec_env_v1``), then concatenates copies of it (``concat_vec_envs_v1``), so
PPO trains one policy shared by every agent, as in PettingZoo's SB3 tutorial. The printed return
is per agent; a team return (the figure our baselines log) is N times larger for the shared part.

Two caveats of this path, both outside marl_envs:
- SuperSuit's vector env has no ``seed()``, so ``PPO(seed=...)`` fails; seed the policy with
  ``set_random_seed`` and the envs through the concatenated env's ``reset(seed=...)`` instead.
- SuperSuit reports truncation at ``max_cycles`` as a plain ``done`` without
  ``TimeLimit.truncated``, so SB3 does not bootstrap the value there (our baselines do).
"""

from __future__ import annotations

import argparse

import torch

from baselines.common.optional import require
from marl_envs import spread_v0

ss = require("supersuit", "examples", "this example")
PPO = require("stable_baselines3", "examples", "this example", package="stable-baselines3").PPO
set_random_seed = require("stable_baselines3.common.utils", "examples", "this example").set_random_seed
VecMonitor = require("stable_baselines3.common.vec_env", "examples", "this example").VecMonitor


def make_vec_env(num_vec_envs: int, seed: int | None = None, **env_kwargs):
    """``num_vec_envs`` copies of ``spread_v0.parallel_env(**env_kwargs)`` as one SB3 VecEnv of N * copies slots."""
    env = spread_v0.parallel_env(**env_kwargs)
    vec_env = ss.pettingzoo_env_to_vec_env_v1(env)
    vec_env = ss.concat_vec_envs_v1(vec_env, num_vec_envs=num_vec_envs, num_cpus=0, base_class="stable_baselines3")
    if seed is not None:
        vec_env.venv.reset(seed=seed)  # copy i gets seed + i; PPO's own reset() continues these streams
    return VecMonitor(vec_env)  # records per-slot episode returns and lengths for the logs


def train(total_timesteps: int, num_vec_envs: int = 4, seed: int | None = 0, n_steps: int = 128,
          verbose: int = 0, **env_kwargs) -> PPO:
    """Train PPO for ``total_timesteps`` agent-steps and return the model."""
    if seed is not None:
        set_random_seed(seed)
    vec_env = make_vec_env(num_vec_envs, seed, **env_kwargs)
    batch_size = min(256, n_steps * vec_env.num_envs)
    model = PPO("MlpPolicy", vec_env, n_steps=n_steps, batch_size=batch_size, verbose=verbose, device="cpu")
    return model.learn(total_timesteps=total_timesteps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--total-timesteps", type=int, default=100_000, help="agent-steps to train for")
    parser.add_argument("--num-vec-envs", type=int, default=4, help="copies of the env (each has N slots)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--N", type=int, default=3, help="agents and landmarks")
    parser.add_argument("--continuous-actions", action="store_true")
    parser.add_argument("--save", default=None, help="path to save the trained model (.zip)")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="CPU threads for torch; one is fastest for these small MLPs")
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)
    model = train(args.total_timesteps, args.num_vec_envs, args.seed, verbose=1,
                  N=args.N, continuous_actions=args.continuous_actions)
    returns = [ep["r"] for ep in model.ep_info_buffer]
    if returns:
        print(f"mean per-agent return over the last {len(returns)} episodes: {sum(returns) / len(returns):.2f}")
    if args.save:
        model.save(args.save)


if __name__ == "__main__":
    main()
