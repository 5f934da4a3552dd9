"""Opponent sampling for team self-play (``--opponent-pool K --opponent-prob p --snapshot-every N``).

Pure self-play trains each team only against the other team's current policy, and the two can
chase each other round a cycle of strategies. Playing some games against past opponents
(Bansal et al. 2018, "Emergent Complexity via Multi-Agent Competition"; OpenAI Five) keeps a
team able to beat older strategies too. Kept simple: every N updates the whole policy is
snapshotted (the last K kept); at each update, with probability p, one team chosen uniformly
plays that update with one of the snapshots drawn uniformly, and the other team learns. The
frozen team's samples get ``learn = False`` and leave every loss (``ppo.py``); in the "team"
layout its networks are not even stepped. The draw happens per update, not per world, so every
world of an update (and every Ray worker) plays the same matchup.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class OpponentPool:
    """The last ``size`` snapshots of the policy (CPU state dicts) and the draw of each update's matchup."""

    def __init__(self, size: int, prob: float, every: int, num_teams: int, seed: int):
        if size < 0 or not 0.0 <= prob <= 1.0 or every < 1:
            raise ValueError(f"--opponent-pool must be >= 0, --opponent-prob in [0, 1] and --snapshot-every >= 1, "
                             f"got {size}, {prob}, {every}")
        self.size, self.prob, self.every, self.num_teams = size, prob, every, num_teams
        self.snapshots: list[dict[str, torch.Tensor]] = []
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def enabled(self) -> bool:
        return self.size > 0 and self.prob > 0 and self.num_teams > 1

    def maybe_snapshot(self, policy: nn.Module, update: int) -> None:
        """Keep a copy of ``policy`` every ``every`` updates (update 0 included)."""
        if self.enabled and update % self.every == 0:
            self.snapshots.append({k: v.detach().cpu().clone() for k, v in policy.state_dict().items()})
            del self.snapshots[:-self.size]

    def draw(self) -> tuple[int, int] | None:
        """(frozen team index, snapshot index) for this update, or None for plain self-play."""
        if not self.enabled or not self.snapshots:
            return None
        if float(torch.rand((), generator=self.generator)) >= self.prob:
            return None
        team = int(torch.randint(self.num_teams, (), generator=self.generator))
        return team, int(torch.randint(len(self.snapshots), (), generator=self.generator))

    def acting_policy(self, policy: nn.Module, matchup: tuple[int, int] | None) -> nn.Module:
        """The module that collects this update's rollout: ``policy`` itself, or it with a frozen team."""
        if matchup is None:
            return policy
        team, index = matchup
        return FrozenOpponent(policy, self.snapshots[index], team)

    def state_dict(self) -> dict[str, Any]:
        return {"snapshots": self.snapshots, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.snapshots = list(state["snapshots"])
        self.generator.set_state(state["generator"])


class FrozenOpponent(nn.Module):
    """``learner`` for every agent except those of team ``team``, who act with the snapshot's actor.

    Only for collecting: values come from the learner's critic (the frozen team's are masked out).
    """

    def __init__(self, learner: nn.Module, snapshot: dict[str, torch.Tensor], team: int):
        super().__init__()
        self.learner = learner
        self.opponent = copy.deepcopy(learner)
        self.opponent.load_state_dict(snapshot)
        self.register_buffer("frozen", learner.team_of == team, persistent=False)

    def actor_input(self, obs: torch.Tensor) -> torch.Tensor:
        return self.learner.actor_input(obs)

    def critic_input(self, obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.learner.critic_input(obs, state)

    def value(self, critic_in: torch.Tensor, agent_idx: torch.Tensor | None = None):
        return self.learner.value(critic_in, agent_idx)

    def distribution(self, actor_in: torch.Tensor, agent_idx: torch.Tensor | None = None):
        out, log_std = self.learner.heads(actor_in, agent_idx)
        frozen_out, frozen_log_std = self.opponent.heads(actor_in, agent_idx)
        frozen = (self.frozen if agent_idx is None else self.frozen[agent_idx]).unsqueeze(-1)
        out = torch.where(frozen, frozen_out, out)
        if log_std is not None:
            log_std = torch.where(frozen, frozen_log_std, log_std)
        return self.learner.make_distribution(out, log_std)


def learn_mask(frozen_team: int | None, team_of: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """(T, B, A) bool: true for the samples of agents that played with the trained policy."""
    learn = team_of != frozen_team if frozen_team is not None else torch.ones_like(team_of, dtype=torch.bool)
    return learn.expand(shape)
