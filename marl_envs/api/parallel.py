"""PettingZoo ``ParallelEnv`` as a view of ``BatchedEnv`` with one world.

One physics path: dicts of numpy arrays are stacked into (1, A, ...) tensors, stepped
by the batched env, and unstacked. Validation happens here, per agent, on the host
(cheaper than tensor checks for one world), with messages that name the agent.

At an episode's last step every agent's info holds ``"is_success"`` (scenarios that define
success) and ``"behaviour"``: ``{name: float}``, the scenario's figures of the episode
(hide-and-seek: what agents did with boxes and ramps; see ``BatchedEnv``'s ``info["behaviour"]``).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from pettingzoo import ParallelEnv as PZParallelEnv

from marl_envs.api.batched import BatchedEnv
from marl_envs.registry import get_scenario_class
from marl_envs.scenarios.base import Scenario


class ParallelEnv(PZParallelEnv):
    """A PettingZoo parallel env of ``env_id``; keyword arguments as in the scenario config.

    Args:
        env_id: a registered id, e.g. "spread_v0", or a ``Scenario`` subclass (a custom task, as in
            ``examples/custom_scenario.py``).
        render_mode: None, "human" or "rgb_array".
        device: torch device of the single world ("cpu" is fastest for one world).
        **kwargs: scenario arguments, e.g. ``N=3, local_ratio=0.5, max_cycles=25``.
    """

    def __init__(self, env_id: str | type[Scenario], render_mode: str | None = None, device: str = "cpu",
                 **kwargs: Any):
        if not isinstance(env_id, type):
            get_scenario_class(env_id)
        self._env = BatchedEnv(env_id, num_envs=1, device=device, render_mode=render_mode,
                               autoreset=False, check_inputs=False, **kwargs)
        self.metadata = {"name": self._env.metadata["name"], "render_modes": ["human", "rgb_array"],
                         "render_fps": self._env.metadata["render_fps"], "is_parallelizable": True}
        self.render_mode = render_mode
        self.max_cycles = self._env.max_cycles
        self.possible_agents = list(self._env.agents)
        self.agents: list[str] = []
        self.observation_spaces = {a: self._env.single_observation_space for a in self.possible_agents}
        self.action_spaces = {a: self._env.single_action_space for a in self.possible_agents}
        for a in self.possible_agents:  # distinct objects so that seeding one agent's space is independent
            self.observation_spaces[a] = type(self.observation_spaces[a])(**_space_args(self.observation_spaces[a]))
            self.action_spaces[a] = type(self.action_spaces[a])(**_space_args(self.action_spaces[a]))
        self.state_space = self._env.state_space
        self._spec = self._env.action_spec
        self._index = {a: i for i, a in enumerate(self.possible_agents)}

    def observation_space(self, agent: str):
        return self.observation_spaces[agent]

    def action_space(self, agent: str):
        return self.action_spaces[agent]

    @property
    def batched(self) -> BatchedEnv:
        """The underlying one-world batched env."""
        return self._env

    def reset(self, seed: int | None = None, options: dict | None = None):
        obs, _ = self._env.reset(seed=seed, options=options)
        self.agents = self.possible_agents[:]
        if self.render_mode == "human":
            self._env.render()
        return self._obs_dict(obs), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]):
        if self._env._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended: call reset()")
        tensor = self._stack(actions)
        obs, reward, terminated, truncated, _, success = self._env._advance(tensor)
        agents = self.agents
        rew = reward[0].tolist()
        term = terminated[0].tolist()
        trunc = truncated[0].tolist()
        ended = term[0] or trunc[0]
        # Gymnasium's (and SB3's) convention: "is_success" in the info of an episode's last step.
        info = {"is_success": bool(success[0])} if success is not None and ended else {}
        # The scenario's figures of the episode (what agents did), final at its last step: read once.
        behaviour = self._behaviour() if ended else {}
        out = (
            self._obs_dict(obs),
            {a: rew[i] for i, a in enumerate(agents)},
            {a: term[i] for i, a in enumerate(agents)},
            {a: trunc[i] for i, a in enumerate(agents)},
            {a: {**info, "behaviour": dict(behaviour)} if behaviour else dict(info) for a in agents},
        )
        if ended:
            self.agents = []
        if self.render_mode == "human":
            self._env.render()
        return out

    def state(self) -> np.ndarray:
        return self._env.state()[0].cpu().numpy()

    def render(self):
        if self.render_mode is None:
            import gymnasium

            gymnasium.logger.warn("render() called without a render_mode; pass render_mode at construction")
            return None
        return self._env.render()

    def close(self) -> None:
        self._env.close()

    # -- conversions -----------------------------------------------------------------
    def _behaviour(self) -> dict[str, float]:
        """The scenario's ``behaviour()`` of the one world, as floats (one host copy for all figures)."""
        figures = self._env.scenario.behaviour()
        if not figures:
            return {}
        values = torch.stack([v.float() for v in figures.values()])[:, 0].tolist()
        return dict(zip(figures, values, strict=True))

    def _obs_dict(self, obs: torch.Tensor) -> dict[str, np.ndarray]:
        arr = obs[0].cpu().numpy()
        return {a: arr[i] for i, a in enumerate(self.agents or self.possible_agents)}

    def _stack(self, actions: dict[str, Any]) -> torch.Tensor:
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict {{agent: action}}, got {type(actions).__name__}")
        missing = [a for a in self.agents if a not in actions]
        unknown = [a for a in actions if a not in self._index]
        if missing or unknown:
            raise ValueError(f"actions must have one entry per live agent {self.agents}; "
                             f"missing {missing}, unknown {unknown}")
        spec = self._spec
        if spec.kind == "discrete":
            values = [_discrete(actions[a], a, spec.n) for a in self.agents]
            return torch.tensor(values, dtype=torch.long).view(1, -1).to(self._env.device)
        rows = [_array_action(actions[a], a, spec) for a in self.agents]
        # unsqueeze, not numpy's [None]: that axis has stride 0, and torch's vectorised CPU kernels can take
        # another path for it (an ulp apart on AVX-512), so one world would drift from the batched env's.
        return torch.from_numpy(np.stack(rows)).unsqueeze(0).to(self._env.device)


def _space_args(space) -> dict:
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        return {"n": int(space.n)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"nvec": space.nvec.copy()}
    return {"low": space.low.copy(), "high": space.high.copy(), "dtype": space.dtype}


def _discrete(value: Any, agent: str, n: int) -> int:
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"action of {agent!r} must be an int in [0, {n}), got {type(value).__name__} {value!r}")
    if not 0 <= value < n:
        raise ValueError(f"action of {agent!r} is {value}, outside the valid range [0, {n})")
    return int(value)


def _array_action(value: Any, agent: str, spec) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float32) if spec.kind == "continuous" else np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"action of {agent!r} is not numeric: {value!r}") from err
    expected = spec.shape if spec.kind == "continuous" else (len(spec.nvec),)
    if arr.shape != tuple(expected):
        raise ValueError(f"action of {agent!r} has shape {arr.shape}, expected {tuple(expected)}")
    if spec.kind == "continuous":
        if not np.isfinite(arr).all():
            raise ValueError(f"action of {agent!r} contains NaN or inf: {arr}")
        return np.clip(arr, spec.low, spec.high)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"action of {agent!r} must be integers, got dtype {arr.dtype}")
    nvec = np.asarray(spec.nvec)
    if ((arr < 0) | (arr >= nvec)).any():
        raise ValueError(f"action of {agent!r} is {arr.tolist()}, outside [0, nvec) with nvec={nvec.tolist()}")
    return arr.astype(np.int64)


def parallel_env(env_id: str, **kwargs: Any) -> ParallelEnv:
    return ParallelEnv(env_id, **kwargs)
