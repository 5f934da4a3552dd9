"""Vector env adapters: every baseline trains on the batched API's (B, A, ...) torch contract.

Our envs are used as they are (``marl_envs.make_batched``: everything stays on one device).
Any other PettingZoo parallel env, named ``module:function``, is wrapped by
``PettingZooVecEnv``, which steps B copies in a loop and speaks the same contract:
same-step autoreset with ``final_obs`` / ``final_state``, episode figures, and an
``active`` mask (B, A) for agents that have left the episode (MAPPO's death masks).
SuperSuit's vector wrappers flatten agents into independent envs and drop the global
state, which a centralised critic needs, so they are not used here.
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
