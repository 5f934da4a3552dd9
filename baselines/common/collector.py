"""Where rollouts are collected: the local backend, and what every backend shares.

A training loop asks its collector for one rollout per update and never touches an env itself::

    rollout, next_values = run.collector.collect(agent, args.num_steps, stats)

``LocalCollector`` (``--backend local``, the default) steps the env of this process. The Ray backend
(``ray_backend.RayCollector``) runs a ``LocalCollector`` inside each worker and concatenates their
rollouts along the world axis; the algorithm code is the same for both.

Action sampling draws from a dedicated random stream (``RolloutRNG``), seeded from the run's seed
and saved in checkpoints, apart from the learner's stream (minibatch shuffles, initialisation).
That is what lets one Ray worker reproduce the local backend exactly: the worker samples its
actions from the same stream the local collector would, while the learner, in the driver,
shuffles minibatches with the same stream in both cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from baselines.common.buffer import Rollout
from baselines.common.rollout import EpisodeStats, collect

MakeEnv = Callable[..., Any]
"""``make_env(env_id, num_envs, device, seed, **env_kwargs)``: builds a collector's env (also in Ray workers)."""


class RolloutRNG:
    """torch's global random state for action sampling, kept apart from the learner's."""

    def __init__(self, seed: int, device: torch.device):
        self.device = torch.device(device)
        with torch.random.fork_rng(devices=self._devices()):
            torch.manual_seed(seed)
            self.state = self._get()

    def _devices(self) -> list[int]:
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def _get(self) -> dict[str, torch.Tensor | None]:
        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return {"cpu": torch.get_rng_state(), "cuda": cuda}

    @contextmanager
    def active(self) -> Iterator[None]:
        """Run the body on this stream; the caller's random state is restored afterwards."""
        with torch.random.fork_rng(devices=self._devices()):
            torch.set_rng_state(self.state["cpu"])
            if self.state["cuda"] is not None:
                torch.cuda.set_rng_state(self.state["cuda"], self.device)
            yield
            self.state = self._get()


class LocalCollector:
    """Rollouts from an env in this process; holds the env's current observation and state.

    Args:
        env: a batched env (ours, or ``PettingZooVecEnv`` / the single-agent adapters).
        obs, state: the env's current observation (B, A, obs_dim) and global state (B, state_dim).
        seed: of the action-sampling stream.
        device: where the agent samples (its RNG stream lives there).
        value_fn: name of the agent's method mapping critic inputs to (raw output, value).
        compile: act through ``torch.compile`` (``--compile``; ``rollout.act``).
    """

    def __init__(self, env, obs: torch.Tensor, state: torch.Tensor, seed: int, device: torch.device,
                 value_fn: str = "value", compile: bool = False):
        self.env, self.obs, self.state, self.compile = env, obs, state, compile
        self.rng = RolloutRNG(seed, device)
        self.value_fn = value_fn
        self.memory: tuple[torch.Tensor, torch.Tensor] | None = None  # a recurrent agent's (memory, first)

    @property
    def num_envs(self) -> int:
        return int(self.obs.shape[0])

    def collect(self, agent, num_steps: int, stats: EpisodeStats) -> tuple[Rollout, torch.Tensor]:
        """One rollout of ``num_steps`` steps of every world: (rollout, next_values (T, B, A))."""
        if getattr(agent, "recurrent", False) and self.memory is None:  # the first rollout: every episode starts
            self.memory = agent.initial_memory(self.obs.shape[0])
        with self.rng.active():
            rollout, self.obs, self.state, next_values, self.memory = collect(
                self.env, agent, num_steps, self.obs, self.state, stats, getattr(agent, self.value_fn), self.memory,
                self.compile)
        return rollout, next_values

    def set_training_kwargs(self, **kwargs: Any) -> None:
        """Change the env's training-only arguments (``--curriculum``); new episodes start with them."""
        self.env.set_training_kwargs(**kwargs)

    def state_dict(self) -> dict[str, Any]:
        """The env (ours resume mid-episode; other envs restart their episodes), observation, RNG."""
        env_state = self.env.state_dict() if hasattr(self.env, "state_dict") else None
        memory = None if self.memory is None else tuple(m.cpu() for m in self.memory)
        return {"env": env_state, "obs": self.obs.cpu(), "state": self.state.cpu(), "rng": self.rng.state,
                "memory": memory}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        if saved.get("rng") is not None:
            self.rng.state = saved["rng"]
        if saved.get("env") is not None and hasattr(self.env, "load_state_dict"):
            self.env.load_state_dict(saved["env"])
            self.obs, self.state = saved["obs"].to(self.obs.device), saved["state"].to(self.state.device)
            if saved.get("memory") is not None:  # the agents' memory belongs to the episodes the env resumes
                self.memory = tuple(m.to(self.obs.device) for m in saved["memory"])

    def close(self) -> None:
        if hasattr(self.env, "close"):
            self.env.close()


def concat_rollouts(parts: list[tuple[Rollout, torch.Tensor]], device: torch.device) -> tuple[Rollout, torch.Tensor]:
    """Worker rollouts side by side along the world axis (dim 1 of the time-major tensors)."""
    rollout = Rollout(**{name: torch.cat([r.as_dict()[name] for r, _ in parts], dim=1).to(device)
                         for name in parts[0][0].as_dict()})
    return rollout, torch.cat([v for _, v in parts], dim=1).to(device)


def merge_stats(into: EpisodeStats, part: EpisodeStats) -> None:
    """Add a worker's finished-episode figures to the learner's."""
    for name, value in part.return_sums.items():
        into.return_sums[name] = into.return_sums.get(name, 0.0) + value
    into.length_sum += part.length_sum
    into.count += part.count
    if part.successes is not None:
        into.successes = (into.successes or 0.0) + part.successes
    for name, value in part.behaviour.items():
        into.behaviour[name] = into.behaviour.get(name, 0.0) + value
        into.behaviour_counts[name] = into.behaviour_counts.get(name, 0.0) + part.behaviour_counts.get(name, 0.0)
    into.env_seconds = max(into.env_seconds, part.env_seconds)  # the workers step their envs side by side
