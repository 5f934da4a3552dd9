"""Joint-control views: a multi-agent env seen as a single-agent one, so single-agent methods run on the suite.

One policy observes the global ``state()`` and emits every agent's action at once; the
reward is the team's (the sum over agents of their rewards, MPE's team-return scale). This
is the "centralised controller" reference point for cooperative tasks: it sees everything
and coordinates perfectly, but its action space grows exponentially with the number of
agents (5³ = 125 joint actions for 3-agent spread), which is what multi-agent methods avoid.

Two views of the same stepping code:

- ``JointBatchedEnv``: B worlds on the batched torch contract of ``BatchedEnv`` with one
  agent, ``"joint"``: obs (B, 1, state_dim), actions (B, 1) or (B, 1, k), rewards and flags
  (B, 1), same-step autoreset with ``final_obs`` / ``final_state``. It wraps any env with
  that contract (``BatchedEnv``, or ``baselines``' PettingZoo adapter), so the baselines'
  rollout code trains on it unchanged.
- ``JointControlEnv``: a ``gymnasium.Env`` over one world, numpy in and out; it passes
  ``gymnasium.utils.env_checker.check_env``.

Joint action space (per-agent space → joint space, agents in ``possible_agents`` order):
``Discrete(n)`` → ``MultiDiscrete([n] * A)``; ``MultiDiscrete(nvec)`` → ``MultiDiscrete(nvec
repeated A times)``; ``Box(shape (k,))`` → ``Box(shape (A·k,))``.
Episode end: a world's joint episode ends when its multi-agent episode does (every agent
done); it counts as truncated if any agent was truncated, else as terminated.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

from marl_envs.api.batched import BatchedEnv


def joint_action_space(agent_space: spaces.Space, num_agents: int) -> spaces.Space:
    """The joint action space of ``num_agents`` agents that share ``agent_space``."""
    if isinstance(agent_space, spaces.Discrete):
        return spaces.MultiDiscrete(np.full(num_agents, int(agent_space.n), dtype=np.int64))
    if isinstance(agent_space, spaces.MultiDiscrete):
        return spaces.MultiDiscrete(np.tile(np.asarray(agent_space.nvec, dtype=np.int64).reshape(-1), num_agents))
    if isinstance(agent_space, spaces.Box):
        low = np.tile(agent_space.low.reshape(-1), num_agents)
        high = np.tile(agent_space.high.reshape(-1), num_agents)
        return spaces.Box(low=low, high=high, dtype=np.float32)
    raise TypeError(f"no joint view for per-agent action space {agent_space}; use Discrete, MultiDiscrete or Box")


class JointBatchedEnv:
    """B worlds of a multi-agent batched env as B worlds of one agent that controls all of them.

    Args:
        env: a batched env (``BatchedEnv`` or any env with its contract: ``num_envs``,
            ``num_agents``, ``device``, ``single_action_space``, ``state_space``, ``reset``,
            ``step``, ``state``). Its ``state_dict`` / ``load_state_dict``, if any, pass through.
    """

    agents = ("joint",)
    num_agents = 1

    def __init__(self, env: Any):
        self.env = env
        self.num_envs, self.device = env.num_envs, torch.device(env.device)
        self.team_size = env.num_agents
        agent_space = env.single_action_space
        self._agent_action_shape = () if isinstance(agent_space, spaces.Discrete) else agent_space.shape
        self.single_action_space = joint_action_space(agent_space, env.num_agents)
        self.single_observation_space = env.state_space
        self.state_space = env.state_space
        self.metadata = getattr(env, "metadata", {})
        if hasattr(env, "state_dict"):  # exact resume of training runs, as for the multi-agent baselines
            self.state_dict, self.load_state_dict = env.state_dict, env.load_state_dict

    def reset(self, seed: int | None = None) -> tuple[torch.Tensor, dict]:
        """obs (B, 1, state_dim) and info {"state": (B, state_dim)}."""
        _, info = self.env.reset(seed=seed)
        return info["state"][:, None], {"state": info["state"]}

    def state(self) -> torch.Tensor:
        return self.env.state()

    def step(self, actions: torch.Tensor):
        """actions (B, 1, ...) joint actions -> obs, reward, terminated, truncated (B, 1), info."""
        actions = torch.as_tensor(actions, device=self.device)
        per_agent = actions.reshape(self.num_envs, self.team_size, *self._agent_action_shape)
        _, reward, terminated, truncated, info = self.env.step(per_agent)
        ended = terminated | truncated
        active = info.get("active", torch.ones_like(ended))
        world_done = (ended | ~active).all(dim=1, keepdim=True) & ended.any(dim=1, keepdim=True)
        joint_truncated = world_done & truncated.any(dim=1, keepdim=True)
        state = self.env.state()
        joint_info = {
            "final_obs": info["final_state"][:, None],
            "final_state": info["final_state"],
            "episode_return": info["episode_return"].sum(dim=1, keepdim=True),
            "episode_length": info["episode_length"],
        }
        return state[:, None], reward.sum(dim=1, keepdim=True), world_done & ~joint_truncated, joint_truncated, \
            joint_info

    def render(self):
        return self.env.render()

    def close(self) -> None:
        if hasattr(self.env, "close"):
            self.env.close()


class JointControlEnv(gymnasium.Env):
    """One world of a multi-agent env as a Gymnasium env: observe ``state()``, act for every agent.

    Args:
        env_id: a registered id (e.g. "spread_v0"), or an already built batched-contract
            env with one world (its own arguments then apply; ``render_mode`` is ignored).
        render_mode: None, "human" or "rgb_array".
        **kwargs: the scenario's arguments, e.g. ``N=3, max_cycles=25``.

    The reward is the team reward (sum over agents); ``info`` is empty. Gymnasium's
    contract: call ``reset`` after ``terminated or truncated``.
    """

    def __init__(self, env_id: str | Any = "spread_v0", render_mode: str | None = None, **kwargs: Any):
        if isinstance(env_id, str):
            batched = BatchedEnv(env_id, num_envs=1, render_mode=render_mode, autoreset=False, **kwargs)
            name = env_id
        else:
            batched, name = env_id, getattr(env_id, "metadata", {}).get("name", type(env_id).__name__)
        if batched.num_envs != 1:
            raise ValueError(f"JointControlEnv needs a batched env with one world, got num_envs={batched.num_envs}")
        self._joint = JointBatchedEnv(batched)
        self.render_mode = render_mode
        self.metadata = {"render_modes": ["human", "rgb_array"],
                         "render_fps": self._joint.metadata.get("render_fps", 10), "name": f"{name}_joint"}
        self.observation_space = self._joint.single_observation_space
        self.action_space = self._joint.single_action_space
        self._is_discrete = isinstance(self.action_space, spaces.MultiDiscrete)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, _ = self._joint.reset(seed=seed)
        if self.render_mode == "human":  # Gymnasium's convention: human mode shows resets as well as steps
            self._joint.render()
        return self._to_numpy(obs), {}

    def step(self, action):
        dtype = torch.long if self._is_discrete else torch.float32
        flat = torch.as_tensor(np.asarray(action), dtype=dtype).reshape(1, 1, -1)
        width = math.prod(self.action_space.shape)
        if flat.shape[-1] != width:
            raise ValueError(f"action has {flat.shape[-1]} components, expected {width} for {self.action_space} "
                             f"({self._joint.team_size} agents)")
        _, reward, terminated, truncated, info = self._joint.step(flat.to(self._joint.device))
        return (self._to_numpy(info["final_obs"]), float(reward[0, 0]), bool(terminated[0, 0]),
                bool(truncated[0, 0]), {})

    def render(self):
        return self._joint.render()

    def close(self) -> None:
        self._joint.close()

    @staticmethod
    def _to_numpy(obs: torch.Tensor) -> np.ndarray:
        return obs[0, 0].detach().cpu().numpy().astype(np.float32)
