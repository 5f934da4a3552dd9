"""AEC view: ``parallel_to_aec`` of the native parallel env plus PettingZoo's standard wrappers."""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import parallel_to_aec, wrappers

from marl_envs.api.parallel import ParallelEnv


def raw_env(env_id: str, **kwargs: Any):
    """The AEC env without wrappers (``parallel_to_aec`` of the parallel env)."""
    return parallel_to_aec(ParallelEnv(env_id, **kwargs))


def env(env_id: str, **kwargs: Any):
    """The AEC env with PettingZoo's standard wrappers, as MPE2's ``env()``.

    ``step`` returns None, as the AEC API requires (``pettingzoo.test.api_test`` asserts it);
    read observations with ``last()`` or ``observe(agent)``.
    """
    aec = raw_env(env_id, **kwargs)
    if aec.unwrapped.action_space(aec.possible_agents[0]).__class__.__name__ == "Box":
        aec = wrappers.ClipOutOfBoundsWrapper(aec)
    else:
        aec = wrappers.AssertOutOfBoundsWrapper(aec)
    return wrappers.OrderEnforcingWrapper(aec)
