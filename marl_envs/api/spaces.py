"""Gymnasium spaces from a scenario's ``ActionSpec`` / ``ObsSpec``: per agent and batched."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from marl_envs.scenarios.specs import ActionSpec


def agent_action_space(spec: ActionSpec) -> spaces.Space:
    """The action space of one agent."""
    if spec.kind == "discrete":
        return spaces.Discrete(spec.n)
    if spec.kind == "multi_discrete":
        return spaces.MultiDiscrete(np.asarray(spec.nvec, dtype=np.int64))
    return spaces.Box(low=spec.low, high=spec.high, shape=spec.shape, dtype=np.float32)


def agent_observation_space(obs_dim: int) -> spaces.Box:
    """Flat float32 observations; unbounded like MPE's (positions are not clamped)."""
    return spaces.Box(low=-np.inf, high=np.inf, shape=(obs_dim,), dtype=np.float32)


def state_space(state_dim: int) -> spaces.Box:
    return spaces.Box(low=-np.inf, high=np.inf, shape=(state_dim,), dtype=np.float32)


def batched_action_space(spec: ActionSpec, num_envs: int, num_agents: int) -> spaces.Space:
    """Actions for all agents of all worlds at once: (B, A) or (B, A, k)."""
    if spec.kind == "discrete":
        return spaces.MultiDiscrete(np.full((num_envs, num_agents), spec.n, dtype=np.int64))
    if spec.kind == "multi_discrete":
        nvec = np.broadcast_to(np.asarray(spec.nvec, dtype=np.int64), (num_envs, num_agents, len(spec.nvec)))
        return spaces.MultiDiscrete(nvec.copy())
    return spaces.Box(spec.low, spec.high, shape=(num_envs, num_agents, *spec.shape), dtype=np.float32)


def batched_observation_space(obs_dim: int, num_envs: int, num_agents: int) -> spaces.Box:
    return spaces.Box(low=-np.inf, high=np.inf, shape=(num_envs, num_agents, obs_dim), dtype=np.float32)
