"""Vector env adapters: every baseline trains on the batched API's (B, A, ...) torch contract.

Our envs are used as they are (``marl_envs.make_batched``: everything stays on one device).
Any other PettingZoo parallel env, named ``module:function``, is wrapped by
``PettingZooVecEnv``, which steps B copies in a loop and speaks the same contract:
same-step autoreset with ``final_obs`` / ``final_state``, episode figures, and an
``active`` mask (B, A) for agents that have left the episode (MAPPO's death masks).
SuperSuit's vector wrappers flatten agents into independent envs and drop the global
state, which a centralised critic needs, so they are not used here.

The single-agent baselines (TRPO, NPG) use ``make_single_agent_vec_env``: the same
contract with one agent (A = 1), over Gymnasium ids (``GymnasiumVecEnv``) or over the
joint-control view of a multi-agent env (``marl_envs.api.JointBatchedEnv``).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import numpy as np
import torch
from gymnasium import spaces


def parse_env_kwargs(text: str) -> dict[str, Any]:
    try:
        kwargs = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--env-kwargs must be a JSON object, got {text!r}: {err}") from None
    if not isinstance(kwargs, dict):
        raise ValueError(f"--env-kwargs must be a JSON object, got {text!r}")
    return kwargs


def make_vec_env(env_id: str, num_envs: int, device: torch.device, seed: int, **kwargs: Any):
    """Our env through ``make_batched``, or a ``module:function`` PettingZoo parallel env."""
    if ":" in env_id:
        return PettingZooVecEnv(load_factory(env_id), num_envs, device, seed, **kwargs)
    from marl_envs import make_batched

    return make_batched(env_id, num_envs=num_envs, device=device, seed=seed, **kwargs)


def load_factory(spec: str):
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"cannot import {module_name!r} for env {spec!r}: {err}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"{spec!r}: module {module_name!r} has no callable {attr!r}")
    return factory


class PettingZooVecEnv:
    """B copies of a PettingZoo parallel env behind the batched (B, A, ...) torch contract."""

    def __init__(self, factory, num_envs: int, device: torch.device, seed: int, **kwargs: Any):
        self.envs = [factory(**kwargs) for _ in range(num_envs)]
        first = self.envs[0]
        self.agents = list(first.possible_agents)
        self.num_envs, self.num_agents, self.device = num_envs, len(self.agents), torch.device(device)
        obs_spaces = [first.observation_space(a) for a in self.agents]
        act_spaces = [first.action_space(a) for a in self.agents]
        if any(not isinstance(s, spaces.Box) or len(s.shape) != 1 for s in obs_spaces):
            raise ValueError(f"{self.agents}: only flat Box observation spaces are supported, got {obs_spaces}")
        if any(s != act_spaces[0] for s in act_spaces):
            raise ValueError(f"a shared policy needs one action space for every agent, got {act_spaces}")
        self.obs_dim = max(s.shape[0] for s in obs_spaces)  # smaller observations are zero-padded
        self.single_observation_space = spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float32)
        self.single_action_space = act_spaces[0]
        self._has_state = hasattr(first, "state") and hasattr(first, "state_space")
        state_dim = first.state_space.shape[0] if self._has_state else self.obs_dim * self.num_agents
        self.state_space = spaces.Box(-np.inf, np.inf, (state_dim,), np.float32)
        self._seed = seed

    def _obs(self, env, obs: dict) -> np.ndarray:
        out = np.zeros((self.num_agents, self.obs_dim), dtype=np.float32)
        for i, a in enumerate(self.agents):
            if a in obs:
                o = np.asarray(obs[a], dtype=np.float32).reshape(-1)
                out[i, : o.shape[0]] = o
        return out

    def _state(self, env, obs: np.ndarray) -> np.ndarray:
        return np.asarray(env.state(), dtype=np.float32).reshape(-1) if self._has_state else obs.reshape(-1)

    def _tensor(self, x) -> torch.Tensor:
        return torch.as_tensor(np.stack(x), device=self.device)

    def reset(self, seed: int | None = None):
        base = self._seed if seed is None else seed
        self._ep_return = np.zeros((self.num_envs, self.num_agents), np.float32)
        self._ep_len = np.zeros(self.num_envs, np.int64)
        obs, states = [], []
        for i, env in enumerate(self.envs):
            o = self._obs(env, env.reset(seed=base + i)[0])
            obs.append(o)
            states.append(self._state(env, o))
        self._last_states = states
        return self._tensor(obs), {"state": self._tensor(states)}

    def state(self) -> torch.Tensor:
        return self._tensor(self._last_states)

    def step(self, actions: torch.Tensor):
        acts = actions.cpu().numpy()
        keys = ("obs", "reward", "term", "trunc", "final_obs", "final_state", "active", "state", "episode_return",
                "episode_length")
        out = {k: [] for k in keys}
        for i, env in enumerate(self.envs):
            live = list(env.agents)
            obs, rew, term, trunc, _ = env.step({a: acts[i, self.agents.index(a)] for a in live})
            o = self._obs(env, obs)
            r = np.array([rew.get(a, 0.0) for a in self.agents], np.float32)
            term_flags = np.array([bool(term.get(a, False)) for a in self.agents])
            trunc_flags = np.array([bool(trunc.get(a, False)) for a in self.agents]) & ~term_flags
            out["active"].append(np.array([a in live for a in self.agents]))
            self._ep_return[i] += r
            self._ep_len[i] += 1
            out["final_obs"].append(o)
            out["final_state"].append(self._state(env, o))
            ep_ret, ep_len = self._ep_return[i].copy(), self._ep_len[i]
            if not env.agents:  # the episode is over for everyone: same-step reset
                o = self._obs(env, env.reset()[0])
                self._ep_return[i] = 0.0
                self._ep_len[i] = 0
            out["episode_return"].append(ep_ret)
            out["episode_length"].append(ep_len)
            out["obs"].append(o)
            out["state"].append(self._state(env, o))
            out["reward"].append(r)
            out["term"].append(term_flags)
            out["trunc"].append(trunc_flags)
        self._last_states = out["state"]
        info = {k: self._tensor(out[k]) for k in ("final_obs", "final_state", "episode_return", "episode_length",
                                                   "active")}
        return (self._tensor(out["obs"]), self._tensor(out["reward"]), self._tensor(out["term"]),
                self._tensor(out["trunc"]), info)

    def close(self) -> None:
        for env in self.envs:
            env.close()


def make_single_agent_vec_env(env_id: str, num_envs: int, device: torch.device, seed: int, **kwargs: Any):
    """B worlds of one agent: a Gymnasium id, or the joint-control view of one of our ids / ``module:function``."""
    from marl_envs import list_envs
    from marl_envs.api import JointBatchedEnv

    if env_id in list_envs() or ":" in env_id:
        return JointBatchedEnv(make_vec_env(env_id, num_envs, device, seed, **kwargs))
    return GymnasiumVecEnv(env_id, num_envs, device, **kwargs)


class GymnasiumVecEnv:
    """B copies of a single-agent Gymnasium env (``gymnasium.make_vec``, synchronous) as the A = 1 batched contract.

    Same-step autoreset (``AutoresetMode.SAME_STEP``), so ``info["final_obs"]`` holds the
    last observation of a finished episode for the truncation bootstrap; Box actions are
    clipped to the action bounds before they reach the env (SB3's convention: the policy's
    Gaussian is unbounded, its log-probabilities are those of the unclipped sample).
    Gymnasium envs have no ``state_dict``: a resumed run restarts their episodes.
    """

    def __init__(self, env_id: str, num_envs: int, device: torch.device, **kwargs: Any):
        import gymnasium as gym
        from gymnasium.vector import AutoresetMode

        from marl_envs import list_envs

        try:
            self.envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync",
                                     vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **kwargs)
        except gym.error.Error as err:
            raise ValueError(f"unknown env id {env_id!r}: not one of ours ({list_envs()}), not module:function, "
                             f"and Gymnasium says: {err}") from None
        obs_space, act_space = self.envs.single_observation_space, self.envs.single_action_space
        if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
            raise ValueError(f"{env_id}: only flat Box observation spaces are supported, got {obs_space}")
        if not isinstance(act_space, (spaces.Discrete, spaces.Box)):
            raise ValueError(f"{env_id}: only Discrete or Box action spaces are supported, got {act_space}")
        self.num_envs, self.num_agents, self.device = num_envs, 1, torch.device(device)
        self.single_observation_space = self.state_space = obs_space
        self.single_action_space = act_space
        self.metadata = {"name": env_id}
        self._box = isinstance(act_space, spaces.Box)

    def _tensor(self, x: np.ndarray, dtype=np.float32) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=dtype)).to(self.device)

    def reset(self, seed: int | None = None):
        obs, _ = self.envs.reset(seed=seed)
        self._ep_return = np.zeros(self.num_envs, np.float32)
        self._ep_len = np.zeros(self.num_envs, np.int64)
        self._obs = self._tensor(obs)
        return self._obs[:, None], {"state": self._obs}

    def state(self) -> torch.Tensor:
        return self._obs

    def step(self, actions: torch.Tensor):
        """actions (B, 1) or (B, 1, k) -> obs (B, 1, D), reward, terminated, truncated (B, 1), info."""
        acts = actions[:, 0].cpu().numpy()
        if self._box:
            acts = np.clip(acts, self.single_action_space.low, self.single_action_space.high)
        obs, reward, terminated, truncated, info = self.envs.step(acts)
        self._ep_return += reward
        self._ep_len += 1
        ep_return, ep_len = self._ep_return.copy(), self._ep_len.copy()
        ended = np.logical_or(terminated, truncated)
        self._ep_return[ended], self._ep_len[ended] = 0.0, 0
        self._obs = final = self._tensor(obs)
        if "_final_obs" in info:  # some episode ended: its last observation is in info, obs is the reset one
            final = final.clone()
            for i in np.flatnonzero(info["_final_obs"]):
                final[i] = self._tensor(info["final_obs"][i])
        info = {"final_obs": final[:, None], "final_state": final,
                "episode_return": self._tensor(ep_return)[:, None], "episode_length": self._tensor(ep_len, np.int64)}
        return (self._obs[:, None], self._tensor(reward)[:, None], self._tensor(terminated, np.bool_)[:, None],
                self._tensor(truncated, np.bool_)[:, None], info)

    def close(self) -> None:
        self.envs.close()
