"""Rollout collection on the batched (B, A, ...) contract, with truncation bootstrapping.

Truncated episodes bootstrap from the true last state ``s'_t`` (``info["final_obs"]`` and
``info["final_state"]``: the state step t reached before any autoreset; see ``gae.py``). Where a
world did not reset, ``s'_t`` is ``s_{t+1}``, whose value the rollout computes anyway; so only the
worlds that reset in a step keep their final inputs, and V(s_0 .. s_T) plus those few finals are
computed in one batched forward after the loop. (Storing every step's final inputs doubled the
rollout's memory and the critic's forward pass: at 1024 hide-and-seek worlds, 0.4 GB and ~0.5 s
of every update.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from baselines.common.buffer import Rollout
from baselines.common.compiled import maybe_compiled
from baselines.common.precision import env_precision


def agent_teams(agents: list[str]) -> dict[str, list[int]]:
    """Teams from agent ids, PettingZoo style: ``hider_0, hider_1, seeker_0`` -> hider: [0, 1], seeker: [2].

    Cooperative envs (``agent_0 ...``) are one team. The first team listed is the one whose
    return is ``episodic_return``.
    """
    teams: dict[str, list[int]] = {}
    for i, name in enumerate(agents):
        teams.setdefault(name.rsplit("_", 1)[0] if "_" in name else name, []).append(i)
    return teams


@dataclass
class EpisodeStats:
    """Finished-episode figures accumulated between two log rows, per team.

    ``episodic_return`` is the first team's return (summed over its agents: the team return of a
    cooperative task); with several teams each also gets an ``episodic_return_<team>`` column.
    Envs that report ``info["is_success"]`` (Gymnasium's convention) also get ``success_rate``:
    the fraction of the finished episodes that ended in success. Envs that report
    ``info["behaviour"]`` (name -> (B,) running figures of each world's episode, final where it ends)
    get a ``behaviour/<name>`` column each: the mean over the finished episodes where it is a number (an env
    reports NaN for an episode it does not measure, e.g. hide-and-seek's curriculum starts).
    """

    teams: dict[str, list[int]] = field(default_factory=dict)
    return_sums: dict[str, float] = field(default_factory=dict)
    length_sum: float = 0.0
    count: int = 0
    successes: float | None = None
    behaviour: dict[str, float] = field(default_factory=dict)
    behaviour_counts: dict[str, float] = field(default_factory=dict)
    env_seconds: float = 0.0
    """wall time spent in the env's step and state calls (the rest of a rollout is acting)"""

    def add(self, world_done: torch.Tensor, episode_return: torch.Tensor, length: torch.Tensor,
            success: torch.Tensor | None = None, behaviour: dict[str, torch.Tensor] | None = None) -> None:
        """Add the worlds where ``world_done`` (B,): per-agent returns (B, A), lengths (B,), success (B,) or None,
        behaviour figures name -> (B,) or None."""
        if success is not None and self.successes is None:
            self.successes = 0.0  # the env reports success: the column exists from the first row
        for name in behaviour or {}:
            self.behaviour.setdefault(name, 0.0)  # likewise every behaviour column
            self.behaviour_counts.setdefault(name, 0.0)
        n = int(world_done.sum())
        if not n:
            return
        if behaviour:  # every figure's sum and count in one transfer (one host sync, not one per figure)
            names = list(behaviour)
            values = torch.stack([behaviour[name][world_done].float() for name in names])
            measured = values.isfinite()
            totals = torch.cat((torch.where(measured, values, 0.0).sum(1), measured.sum(1).float())).tolist()
            for name, total, count in zip(names, totals[:len(names)], totals[len(names):], strict=True):
                self.behaviour[name] += total
                self.behaviour_counts[name] += count
        finished = episode_return[world_done]
        teams = self.teams or {"team": list(range(finished.shape[1]))}
        for name, members in teams.items():
            self.return_sums[name] = self.return_sums.get(name, 0.0) + float(finished[:, members].sum())
        self.length_sum += float(length[world_done].float().sum())
        self.count += n
        if success is not None:
            self.successes = (self.successes or 0.0) + float(success[world_done].sum())

    def pop(self) -> dict[str, float]:
        """Means over the episodes since the last pop (NaN if none), as log columns."""
        names = list(self.teams) or ["team"]
        means = {name: (self.return_sums.get(name, 0.0) / self.count if self.count else float("nan"))
                 for name in names}
        out = {"episodic_return": means[names[0]],
               "episodic_length": self.length_sum / self.count if self.count else float("nan")}
        if len(names) > 1:
            out |= {f"episodic_return_{name}": value for name, value in means.items()}
        if self.successes is not None:
            out["success_rate"] = self.successes / self.count if self.count else float("nan")
        out |= {f"behaviour/{name}": total / self.behaviour_counts[name] if self.behaviour_counts[name]
                else float("nan") for name, total in self.behaviour.items()}
        self.behaviour = dict.fromkeys(self.behaviour, 0.0)
        self.behaviour_counts = dict.fromkeys(self.behaviour_counts, 0.0)
        self.return_sums, self.length_sum, self.count = {}, 0.0, 0
        self.successes = 0.0 if self.successes is not None else None
        return out


@torch.no_grad()
def collect(env, agent, num_steps: int, obs: torch.Tensor, state: torch.Tensor, stats: EpisodeStats,
            value_fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
            memory: tuple[torch.Tensor, torch.Tensor] | None = None, compile: bool = False):
    """Run ``num_steps`` steps of every world with ``agent``'s stochastic policy.

    Args:
        env: batched env (``marl_envs.make_batched`` or ``PettingZooVecEnv``).
        agent: has ``actor_input(obs)``, ``critic_input(obs, state)`` and ``distribution(actor_in)``.
        obs: (B, A, obs_dim) observation the rollout starts from; state: (B, state_dim).
        stats: receives the per-agent returns and length of every finished episode.
        value_fn: critic input -> (raw critic output, value in return units).
        memory: a recurrent agent's (memory (B, A, W), first (B, A) bool) at the first step
            (``recurrent.py``; ``agent.recurrent_step`` acts); None for a feed-forward agent.
        compile: a feed-forward agent acts through ``torch.compile`` (``act``; ``compiled.py``).

    Returns:
        (rollout, next_obs, next_state, next_values (T, B, A), memory after the last step or None).
    """
    store: dict[str, torch.Tensor] = {}  # (T, ...) per field, written step by step (critic_in: T + 1 steps)
    finals = []  # (step, worlds that reset in it, their critic inputs at s'_t)
    act_fn = maybe_compiled(act, compile)
    replace_actions = getattr(agent, "replace_actions", None)
    for t in range(num_steps):
        if memory is None:
            actor_in, critic_in, action, logprob = act_fn(agent, obs, state)
            carried = {}
        else:
            actor_in, critic_in = agent.actor_input(obs), agent.critic_input(obs, state)
            carried = {"memory": memory[0], "first": memory[1]}
            dist, hidden = agent.recurrent_step(actor_in, *memory)
            action = dist.sample()
            logprob = dist.log_prob(action)
        if replace_actions is not None:  # a reference opponent's team (selfplay.ReferenceOpponent); masked in losses
            action = replace_actions(action, env)
        tick = time.perf_counter()
        with env_precision(action.device):  # the learner's --precision never reaches the env's arithmetic
            obs, reward, terminated, truncated, info = env.step(action)
            state = env.state()
        stats.env_seconds += time.perf_counter() - tick
        ended = terminated | truncated
        active = info.get("active", torch.ones_like(ended))
        world_done = (ended | ~active).all(dim=1) & ended.any(dim=1)
        stats.add(world_done, info["episode_return"], info["episode_length"], info.get("is_success"),
                  info.get("behaviour"))
        reset = _reset_worlds(info["final_obs"], info["final_state"], obs, state)
        if memory is not None:  # an agent's next step starts an episode where this one ended it, or reset its world
            first = ended.clone()
            if reset is not None:
                first[reset] = True
            memory = (hidden, first)
        if t == num_steps - 1:
            _store(store, "critic_in", num_steps, agent.critic_input(info["final_obs"], info["final_state"]),
                   num_steps + 1)
        elif reset is not None:
            finals.append((t, reset, agent.critic_input(info["final_obs"][reset], info["final_state"][reset])))
        step = {"actor_in": actor_in, "critic_in": critic_in, "actions": action, "logprobs": logprob,
                "rewards": reward.float(), "terminated": terminated, "ended": ended, "active": active,
                "acted": info.get("acted", torch.ones_like(ended)), **carried}
        for key, value in step.items():
            _store(store, key, t, value, num_steps + 1 if key == "critic_in" else num_steps)
    # V(s_0 .. s_{T-1}) and V(s'_{T-1}) in one forward pass over the T + 1 stored critic inputs (no copy): the
    # critic does not change while collecting, and one large matmul costs far less than many small ones (small
    # batches are overhead-bound). The finals' V(s'_t), few rows, in a second one.
    inputs = store.pop("critic_in")
    t_steps, b = num_steps, inputs.shape[1]
    raw, values = value_fn(inputs.flatten(0, 1))  # ((T+1)*B, A): the agent axis stays (per-team value statistics)
    values_all = values.reshape(t_steps + 1, b, -1)
    next_values = values_all[1:].clone()  # V(s_{t+1}) = V(s'_t) where step t reset no world
    if finals:
        _, final_values = value_fn(torch.cat([rows for _, _, rows in finals]))
        start = 0
        for t, reset, rows in finals:
            next_values[t, reset] = final_values[start : start + rows.shape[0]]
            start += rows.shape[0]
    rollout = Rollout(**store, critic_in=inputs[:t_steps], values=values_all[:-1],
                      raw_values=raw.reshape(t_steps + 1, b, -1)[:-1])
    return rollout, obs, state, next_values, memory


def _store(store: dict[str, torch.Tensor], key: str, t: int, value: torch.Tensor, length: int) -> None:
    """Write step t's ``value`` into ``store[key]`` (allocated at the first step, ``length`` steps long): the
    rollout's fields are filled in place rather than stacked from per-step tensors at the end (a hide-and-seek
    rollout's critic inputs alone are 232 MB, and each copy of them costs time and fresh pages)."""
    if key not in store:
        store[key] = value.new_empty((length, *value.shape))
    store[key][t] = value


def act(agent, obs: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(actor input, critic input, action, log π(action)) of one step of a feed-forward agent: the acting
    arithmetic, tensors in and out, which ``--compile`` fuses (on 1024 hide-and-seek worlds about half the time;
    its random numbers are eager's, ``compiled.py``)."""
    actor_in = agent.actor_input(obs)
    dist = agent.distribution(actor_in)
    action = dist.sample()
    return actor_in, agent.critic_input(obs, state), action, dist.log_prob(action)


def _reset_worlds(final_obs: torch.Tensor, final_state: torch.Tensor, obs: torch.Tensor,
                  state: torch.Tensor) -> torch.Tensor | None:
    """Indices of the worlds whose observation or state after the step differs from the one the step reached
    (the worlds it reset), or None."""
    if final_obs is obs and final_state is state:
        return None
    differs = (final_obs != obs).flatten(1).any(1) | (final_state != state).flatten(1).any(1)
    if not bool(differs.any()):
        return None
    return differs.nonzero().squeeze(-1)
