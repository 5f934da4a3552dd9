"""AEC view: ``parallel_to_aec`` of the native parallel env plus PettingZoo's standard wrappers."""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import parallel_to_aec, wrappers

from marl_envs.api.parallel import ParallelEnv


class _OrderEnforcingWrapper(wrappers.OrderEnforcingWrapper):
    """PettingZoo's order enforcement; ``step`` also returns the next agent's observation.

    The AEC API ignores what ``step`` returns; PettingZoo's ``bombardment_test`` reads it
    as an observation, so returning the next observation (or None once every agent is
    done) lets that test check our observations against their spaces.
    """

    def step(self, action):
        super().step(action)
        return self.observe(self.agent_selection) if self.agents else None


def raw_env(env_id: str, **kwargs: Any):
    """The AEC env without wrappers (``parallel_to_aec`` of the parallel env)."""
    return parallel_to_aec(ParallelEnv(env_id, **kwargs))


def env(env_id: str, **kwargs: Any):
    """The AEC env with PettingZoo's standard wrappers, as MPE2's ``env()``."""
    aec = raw_env(env_id, **kwargs)
    if aec.unwrapped.action_space(aec.possible_agents[0]).__class__.__name__ == "Box":
        aec = wrappers.ClipOutOfBoundsWrapper(aec)
    else:
        aec = wrappers.AssertOutOfBoundsWrapper(aec)
    return _OrderEnforcingWrapper(aec)
