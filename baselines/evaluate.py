"""Evaluate a trained policy: mean ± std team return over K episodes, optionally shown or recorded.

    python -m baselines.evaluate RUN_DIR --episodes 100
    python -m baselines.evaluate RUN_DIR --env-id mpe2.simple_spread_v3:parallel_env   # same spaces
    python -m baselines.evaluate RUN_DIR --episodes 3 --render human
    python -m baselines.evaluate RUN_DIR --episodes 3 --video spread.mp4                # or .gif

Episodes run through the PettingZoo parallel API (so any env with the same spaces works,
MPE2's included). Only the actor is needed; actions are the policy's most likely ones
unless ``--stochastic``. The team return of an episode is the sum over agents of their
rewards (MPE's scale).

Single-agent runs (TRPO, NPG) are evaluated through Gymnasium instead: ``gymnasium.make``
for Gymnasium ids, and the joint-control view (``marl_envs.api.joint.JointControlEnv``,
team reward) for ours, so the printed return is on the same scale as MAPPO's team return.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import torch

from baselines.common.checkpoint import load_checkpoint
from baselines.common.envs import load_factory, parse_env_kwargs
from baselines.common.networks import Actor
from baselines.common.rollout import agent_teams


def make_parallel_env(env_id: str, render_mode: str | None, **kwargs):
    """Our env id or ``module:function`` -> a PettingZoo parallel env."""
    if ":" in env_id:
        return load_factory(env_id)(render_mode=render_mode, **kwargs)
    from marl_envs.api.parallel import ParallelEnv

    return ParallelEnv(env_id, render_mode=render_mode, **kwargs)


def load_actor(payload: dict, obs_dim: int, num_agents: int, action_space) -> tuple[Actor, bool]:
    """Rebuild the trained actor for an env with these spaces (a mismatch is a ValueError)."""
    args = payload["args"]
    use_id = bool(args.get("agent_id", False))
    actor = Actor(obs_dim + (num_agents if use_id else 0), action_space, (args["hidden_size"],) * 2,
                  args.get("activation", "relu"), args.get("feature_norm", True))
    weights = {k[len("actor."):]: v for k, v in payload["actor"].items() if k.startswith("actor.")}
    try:
        actor.load_state_dict(weights)
    except RuntimeError as err:
        raise ValueError(
            f"the checkpoint's actor does not fit this env (obs_dim {obs_dim}, {num_agents} agents, "
            f"actions {action_space}): {str(err).splitlines()[0]}"
        ) from None
    return actor.eval(), use_id


SINGLE_AGENT_ALGOS = ("trpo", "npg")


def make_single_agent_env(env_id: str, render_mode: str | None, **kwargs):
    """A Gymnasium env: a Gymnasium id, or the joint-control view of our id / a ``module:function`` env."""
    from marl_envs.api.joint import JointControlEnv
    from marl_envs.registry import REGISTRY

    if env_id in REGISTRY:
        return JointControlEnv(env_id, render_mode=render_mode, **kwargs)
    if ":" in env_id:
        from baselines.common.envs import PettingZooVecEnv

        return JointControlEnv(PettingZooVecEnv(load_factory(env_id), 1, torch.device("cpu"), 0, **kwargs))
    import gymnasium as gym

    return gym.make(env_id, render_mode=render_mode, **kwargs)


def _episodes_single_agent(payload: dict, env, episodes: int, seed: int, stochastic: bool, video: str | None):
    actor, _ = load_actor(payload, env.observation_space.shape[0], 1, env.action_space)
    returns, frames = [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        total, over = 0.0, False
        while not over:
            dist = actor.distribution(torch.as_tensor(obs, dtype=torch.float32)[None])
            act = (dist.sample() if stochastic else Actor.deterministic(dist))[0].numpy()
            if hasattr(env.action_space, "low"):
                act = np.clip(act, env.action_space.low, env.action_space.high)
            obs, reward, terminated, truncated, _ = env.step(act)
            total, over = total + float(reward), terminated or truncated
            if video:
                frames.append(env.render())
        returns.append(total)
    return returns, frames


@torch.no_grad()
def evaluate(checkpoint: str, episodes: int = 10, env_id: str | None = None, env_kwargs: str | None = None,
             render: str | None = None, video: str | None = None, seed: int = 0, stochastic: bool = False) -> dict:
    """Run ``episodes`` episodes; return {"mean": ..., "std": ..., "returns": [...]}."""
    payload = load_checkpoint(checkpoint)
    saved = payload["args"]
    env_id = env_id or saved["env_id"]
    kwargs = parse_env_kwargs(env_kwargs if env_kwargs is not None else saved.get("env_kwargs", "{}"))
    render_mode = "rgb_array" if video else render
    torch.manual_seed(seed)
    if payload["algo"] in SINGLE_AGENT_ALGOS:
        env = make_single_agent_env(env_id, render_mode, **kwargs)
        returns, frames = _episodes_single_agent(payload, env, episodes, seed, stochastic, video)
        env.close()
        return _summary(env_id, episodes, returns, frames, video)
    env = make_parallel_env(env_id, render_mode, **kwargs)
    agents = list(env.possible_agents)
    obs_dim = env.observation_space(agents[0]).shape[0]
    actor, use_id = load_actor(payload, obs_dim, len(agents), env.action_space(agents[0]))
    ids = torch.eye(len(agents))
    teams = agent_teams(agents)  # team-vs-team envs: the first team's return, and each team's
    returns, frames, per_team, successes = [], [], {name: [] for name in teams}, []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        totals = dict.fromkeys(teams, 0.0)
        infos = {}
        while env.agents:
            x = torch.as_tensor(np.stack([obs.get(a, np.zeros(obs_dim, np.float32)) for a in agents]))
            if use_id:
                x = torch.cat([x, ids], -1)
            dist = actor.distribution(x)
            act = (dist.sample() if stochastic else Actor.deterministic(dist)).numpy()
            obs, rewards, _, _, infos = env.step({a: act[i] for i, a in enumerate(agents) if a in env.agents})
            for name, members in teams.items():
                totals[name] += float(sum(rewards.get(agents[i], 0.0) for i in members))
            if video:
                frames.append(env.render())
        returns.append(totals[next(iter(teams))])
        for name, value in totals.items():
            per_team[name].append(value)
        last_info = next(iter(infos.values()), {})  # the episode's last step (Gymnasium's "is_success")
        if "is_success" in last_info:
            successes.append(bool(last_info["is_success"]))
    env.close()
    result = _summary(env_id, episodes, returns, frames, video)
    if len(teams) > 1:
        result["teams"] = {name: float(np.mean(values)) for name, values in per_team.items()}
    if successes:
        result["success_rate"] = float(np.mean(successes))
    return result


def _summary(env_id: str, episodes: int, returns: list[float], frames: list, video: str | None) -> dict:
    if video:
        import imageio.v2 as imageio

        imageio.mimsave(video, frames, fps=10) if video.endswith(".gif") else imageio.mimwrite(video, frames, fps=10)
    mean, std = float(np.mean(returns)), float(np.std(returns))
    return {"env_id": env_id, "episodes": episodes, "mean": mean, "std": std, "returns": returns}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a run directory or a checkpoint file")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--env-id", default=None, help="evaluate on another env with the same spaces")
    parser.add_argument("--env-kwargs", default=None, help="JSON env arguments (default: the training run's)")
    parser.add_argument("--render", choices=["human"], default=None, help="show the episodes in a window")
    parser.add_argument("--video", default=None, help="record the episodes to this .mp4 or .gif file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of the most likely")
    parser.add_argument("--json", default=None, help="also write the result to this JSON file")
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error("--episodes must be >= 1")
    result = evaluate(args.checkpoint, args.episodes, args.env_id, args.env_kwargs, args.render, args.video,
                      args.seed, args.stochastic)
    half = 1.96 * result["std"] / math.sqrt(args.episodes)
    print(f"{result['env_id']}: team return {result['mean']:.2f} ± {result['std']:.2f} (std) "
          f"over {args.episodes} episodes (95% CI ± {half:.2f})")
    if "teams" in result:
        print("per team: " + ", ".join(f"{name} {value:.2f}" for name, value in result["teams"].items()))
    if "success_rate" in result:
        print(f"success rate {result['success_rate']:.1%} over {args.episodes} episodes")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
