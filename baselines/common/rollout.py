"""Rollout collection on the batched (B, A, ...) contract, with truncation bootstrapping.

Every step stores the value inputs of ``s'_t`` (``info["final_obs"]`` and
``info["final_state"]``: the state the step reached before any autoreset), and the
values of all of them are computed in one batched forward after the loop, so that
truncated episodes bootstrap from the true last state (see ``gae.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from baselines.common.buffer import Rollout


@dataclass
class EpisodeStats:
    """Finished-episode figures accumulated between two log rows."""

    return_sum: float = 0.0
    length_sum: float = 0.0
    count: int = 0

    def add(self, world_done: torch.Tensor, team_return: torch.Tensor, length: torch.Tensor) -> None:
        n = int(world_done.sum())
        if n:
            self.return_sum += float(team_return[world_done].sum())
            self.length_sum += float(length[world_done].float().sum())
            self.count += n

    def pop(self) -> tuple[float, float]:
        """(mean team return, mean length) of the episodes since the last pop; NaN if none."""
        if not self.count:
            return float("nan"), float("nan")
        out = self.return_sum / self.count, self.length_sum / self.count
        self.return_sum = self.length_sum = 0.0
        self.count = 0
        return out


@torch.no_grad()
def collect(env, agent, num_steps: int, obs: torch.Tensor, state: torch.Tensor, stats: EpisodeStats,
            value_fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]):
    """Run ``num_steps`` steps of every world with ``agent``'s stochastic policy.

    Args:
        env: batched env (``marl_envs.make_batched`` or ``PettingZooVecEnv``).
        agent: has ``actor_input(obs)``, ``critic_input(obs, state)`` and ``actor.distribution``.
        obs: (B, A, obs_dim) observation the rollout starts from; state: (B, state_dim).
        stats: receives the team return and length of every finished episode.
        value_fn: critic input -> (raw critic output, value in return units).

    Returns:
        (rollout, next_obs, next_state, next_values (T, B, A)).
    """
    steps = []
    for _ in range(num_steps):
        actor_in = agent.actor_input(obs)
        critic_in = agent.critic_input(obs, state)
        dist = agent.actor.distribution(actor_in)
        action = dist.sample()
        raw, value = value_fn(critic_in)
        obs, reward, terminated, truncated, info = env.step(action)
        state = env.state()
        ended = terminated | truncated
        active = info.get("active", torch.ones_like(ended))
        world_done = (ended | ~active).all(dim=1) & ended.any(dim=1)
        stats.add(world_done, info["episode_return"].sum(dim=1), info["episode_length"])
        steps.append({
            "actor_in": actor_in, "critic_in": critic_in,
            "next_critic_in": agent.critic_input(info["final_obs"], info["final_state"]),
            "actions": action, "logprobs": dist.log_prob(action), "values": value, "raw_values": raw,
            "rewards": reward.float(), "terminated": terminated, "ended": ended, "active": active,
        })
    rollout = Rollout.stack(steps)
    _, next_values = value_fn(rollout.next_critic_in)
    return rollout, obs, state, next_values
