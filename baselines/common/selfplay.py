"""Opponent sampling for team self-play (``--opponent-pool K --opponent-prob p --snapshot-every N``,
``--reference-opponents scripted,random``).

Pure self-play trains each team only against the other team's current policy, and the two can
chase each other round a cycle of strategies. Playing some games against past opponents
(Bansal et al. 2018, "Emergent Complexity via Multi-Agent Competition"; OpenAI Five) keeps a
team able to beat older strategies too. Kept simple: every N updates the whole policy is
snapshotted (the last K kept); at each update, with probability p, one team chosen uniformly
plays that update with one of the pool's opponents drawn uniformly, and the other team learns. The
frozen team's samples get ``learn = False`` and leave every loss (``ppo.py``); in the "team"
layout its networks are not even stepped. The draw happens per update, not per world, so every
world of an update (and every Ray worker) plays the same matchup.

Reference opponents join the pool as members that never age out: ``scripted`` (the env's
scripted team, ``env.scripted_actions()``) and ``random`` (uniform valid actions), the fixed
players cross-play scores against. A team that only ever met its own opponent's latest strategy
can lose to a simpler one it never saw: in one hide-and-seek run, seekers that had learned to
climb the ramp to look for hiders in the room lost 13.7% of their games to random hiders, 39.7%
of those in which they did not climb. A reference opponent acts with the learner's arithmetic
(so compiled acting is unchanged) and then overwrites its team's actions from the env, eagerly,
before the step.

Best response (``--learn-team hiders``): only the named team learns, every update, against a frozen
member of the pool; with no snapshots asked for (``--opponent-pool 0``) and no reference opponents,
the pool holds one member, the policy as the run started (``--init-from``'s). Training one team
against a fixed opponent measures how exploitable that opponent is, or lets a team catch up with an
opponent that self-play keeps moving (a seeker's ramp use, say, that the hiders have to answer).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

REFERENCE_OPPONENTS = ("scripted", "random")


def parse_references(text: str) -> tuple[str, ...]:
    """``"scripted,random"`` -> ("scripted", "random"); "" -> (); an unknown or repeated name is an error."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in REFERENCE_OPPONENTS]
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"--reference-opponents takes a comma-separated subset of {list(REFERENCE_OPPONENTS)}, "
                         f"got {text!r}")
    return names


class OpponentPool:
    """The last ``size`` snapshots of the policy (CPU state dicts), the reference opponents and the draw of
    each update's matchup."""

    def __init__(self, size: int, prob: float, every: int, num_teams: int, seed: int,
                 references: tuple[str, ...] = (), learn_team: int | None = None):
        if size < 0 or not 0.0 <= prob <= 1.0 or every < 1:
            raise ValueError(f"--opponent-pool must be >= 0, --opponent-prob in [0, 1] and --snapshot-every >= 1, "
                             f"got {size}, {prob}, {every}")
        unknown = [name for name in references if name not in REFERENCE_OPPONENTS]
        if unknown:
            raise ValueError(f"unknown reference opponents {unknown}: the choices are {list(REFERENCE_OPPONENTS)}")
        if learn_team is not None and (num_teams != 2 or not 0 <= learn_team < num_teams):
            raise ValueError(f"--learn-team is for games of two teams (the other one plays frozen); this one has "
                             f"{num_teams}, and team index {learn_team} was asked for")
        self.size, self.prob, self.every, self.num_teams = size, prob, every, num_teams
        self.references = tuple(references)
        self.learn_team = learn_team
        # best response with nothing else to play: the pool keeps the run's first policy, and only it
        self.keep_first = learn_team is not None and size == 0 and not self.references
        self.snapshots: list[dict[str, torch.Tensor]] = []
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def enabled(self) -> bool:
        if self.learn_team is not None:
            return True
        return (self.size > 0 or bool(self.references)) and self.prob > 0 and self.num_teams > 1

    def maybe_snapshot(self, policy: nn.Module, update: int) -> None:
        """Keep a copy of ``policy`` every ``every`` updates (update 0 included); with ``keep_first``, the first
        policy it is given and no other (a resumed run keeps the one in its checkpoint)."""
        due = not self.snapshots if self.keep_first else self.enabled and self.size > 0 and update % self.every == 0
        if due:
            self.snapshots.append({k: v.detach().cpu().clone() for k, v in policy.state_dict().items()})
            if self.size:
                del self.snapshots[:-self.size]

    def draw(self) -> tuple[int, int] | None:
        """(frozen team index, opponent index) for this update, or None for plain self-play. Opponent indices
        count the snapshots first (oldest kept first), then the reference opponents."""
        members = len(self.snapshots) + len(self.references)
        if not self.enabled or members == 0:
            if self.learn_team is not None:
                raise RuntimeError("--learn-team: the opponent pool is empty; snapshot the policy before drawing")
            return None
        if self.learn_team is not None:  # best response: the other team is frozen every update
            return 1 - self.learn_team, int(torch.randint(members, (), generator=self.generator))
        if float(torch.rand((), generator=self.generator)) >= self.prob:
            return None
        team = int(torch.randint(self.num_teams, (), generator=self.generator))
        return team, int(torch.randint(members, (), generator=self.generator))

    def reference_of(self, matchup: tuple[int, int] | None) -> str | None:
        """The reference opponent's name if ``matchup`` draws one, else None (self-play or a snapshot)."""
        if matchup is None or matchup[1] < len(self.snapshots):
            return None
        return self.references[matchup[1] - len(self.snapshots)]

    def acting_policy(self, policy: nn.Module, matchup: tuple[int, int] | None) -> nn.Module:
        """The module that collects this update's rollout: ``policy`` itself, or it with a frozen team."""
        if matchup is None:
            return policy
        team, index = matchup
        reference = self.reference_of(matchup)
        if reference is not None:
            return ReferenceOpponent(policy, reference, team)
        return FrozenOpponent(policy, self.snapshots[index], team)

    def state_dict(self) -> dict[str, Any]:
        return {"snapshots": self.snapshots, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.snapshots = list(state["snapshots"])
        self.generator.set_state(state["generator"])


class _FrozenTeam(nn.Module):
    """The learner for collecting, with team ``team`` marked frozen; values come from the learner's critic (the
    frozen team's are masked out of the losses)."""

    def __init__(self, learner: nn.Module, team: int):
        super().__init__()
        self.learner = learner
        self.register_buffer("frozen", learner.team_of == team, persistent=False)

    def actor_input(self, obs: torch.Tensor) -> torch.Tensor:
        return self.learner.actor_input(obs)

    def critic_input(self, obs: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.learner.critic_input(obs, state)

    def value(self, critic_in: torch.Tensor, agent_idx: torch.Tensor | None = None):
        return self.learner.value(critic_in, agent_idx)

    def distribution(self, actor_in: torch.Tensor, agent_idx: torch.Tensor | None = None):
        return self.learner.distribution(actor_in, agent_idx)


class FrozenOpponent(_FrozenTeam):
    """``learner`` for every agent except those of team ``team``, who act with the snapshot's actor."""

    def __init__(self, learner: nn.Module, snapshot: dict[str, torch.Tensor], team: int):
        super().__init__(learner, team)
        self.opponent = copy.deepcopy(learner)
        self.opponent.load_state_dict(snapshot)

    def distribution(self, actor_in: torch.Tensor, agent_idx: torch.Tensor | None = None):
        out, log_std = self.learner.heads(actor_in, agent_idx)
        frozen_out, frozen_log_std = self.opponent.heads(actor_in, agent_idx)
        frozen = (self.frozen if agent_idx is None else self.frozen[agent_idx]).unsqueeze(-1)
        out = torch.where(frozen, frozen_out, out)
        if log_std is not None:
            log_std = torch.where(frozen, frozen_log_std, log_std)
        return self.learner.make_distribution(out, log_std)


class ReferenceOpponent(_FrozenTeam):
    """``learner`` for every agent, then team ``team``'s actions replaced by a reference player's.

    The learner's distribution samples every agent's action (so that acting, compiled or not, is the same
    arithmetic as in self-play); ``replace_actions``, called by the collector between acting and the env step,
    overwrites the frozen team's columns with the env's scripted actions or uniform random valid ones. The frozen
    team's samples, whose log-probabilities are the learner's and not the actions', are masked out of every loss.
    """

    def __init__(self, learner: nn.Module, kind: str, team: int):
        if kind not in REFERENCE_OPPONENTS:
            raise ValueError(f"unknown reference opponent {kind!r}: the choices are {list(REFERENCE_OPPONENTS)}")
        super().__init__(learner, team)
        self.kind = kind

    def replace_actions(self, action: torch.Tensor, env) -> torch.Tensor:
        """(B, A, ...) ``action`` with the frozen team's columns from the reference player."""
        theirs = env.scripted_actions() if self.kind == "scripted" else uniform_actions(env)
        frozen = self.frozen.to(action.device).view(1, -1, *([1] * (action.dim() - 2)))
        return torch.where(frozen, theirs.to(device=action.device, dtype=action.dtype), action)


def uniform_actions(env, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform random valid actions (B, A, ...) for every agent of a batched env, from its ``action_spec``."""
    spec = env.action_spec
    shape = (env.num_envs, env.num_agents)
    if spec.kind == "discrete":
        return torch.randint(0, spec.n, shape, generator=generator, device=env.device)
    if spec.kind == "multi_discrete":
        nvec = torch.tensor(spec.nvec, device=env.device)
        u = torch.rand(*shape, len(spec.nvec), generator=generator, device=env.device)
        return (u * nvec).long().clamp_max(nvec - 1)
    u = torch.rand(*shape, *spec.shape, generator=generator, device=env.device)
    return spec.low + (spec.high - spec.low) * u


def learn_mask(frozen_team: int | None, team_of: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """(T, B, A) bool: true for the samples of agents that played with the trained policy."""
    learn = team_of != frozen_team if frozen_team is not None else torch.ones_like(team_of, dtype=torch.bool)
    return learn.expand(shape)
