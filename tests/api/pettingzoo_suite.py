"""PettingZoo's test utilities, imported once for every env's conformance tests, plus the one adapter they need."""

import functools
import types
import warnings

from pettingzoo.utils import BaseWrapper

with warnings.catch_warnings():  # pettingzoo.test imports pettingzoo.classic through a deprecation shim
    warnings.simplefilter("ignore", DeprecationWarning)
    from pettingzoo.test import (
        api_test,
        bombardment_test,
        max_cycles_test,
        parallel_api_test,
        parallel_seed_test,
        render_test,
        seed_test,
        state_test,
    )


class StepReturnsObservation(BaseWrapper):
    """Adapter for pettingzoo 1.27's ``bombardment_test``, which reads ``step``'s return value.

    AEC ``step`` returns None (``api_test`` asserts it), so the installed ``bombardment_test``
    would check None against the observation space. PettingZoo PR #1464 fixes the helper
    upstream; until that release, hand it the observation ``step`` would have returned.
    """

    def step(self, action):
        super().step(action)
        return self.observe(self.agent_selection) if self.agents else None


def check_conformance(module, num_cycles: int = 30, **kwargs) -> None:
    """Every PettingZoo test utility on one configuration of an env module (``marl_envs.<id>``)."""
    env, parallel_env = functools.partial(module.env, **kwargs), functools.partial(module.parallel_env, **kwargs)
    api_test(env(), num_cycles=num_cycles)
    parallel_api_test(parallel_env(), num_cycles=num_cycles)
    seed_test(env, num_cycles=20)
    parallel_seed_test(parallel_env, num_cycles=20)
    state_test(env(), parallel_env(), num_cycles=10)
    bombardment_test(StepReturnsObservation(env()), cycles=20)


def check_max_cycles_and_render(module) -> None:
    """PettingZoo's ``max_cycles_test`` and ``render_test`` on an env module's defaults."""
    max_cycles_test(types.SimpleNamespace(env=module.env, parallel_env=module.parallel_env, raw_env=module.raw_env))
    render_test(module.env)


__all__ = ["StepReturnsObservation", "api_test", "bombardment_test", "check_conformance", "check_max_cycles_and_render",
           "max_cycles_test", "parallel_api_test",
           "parallel_seed_test", "render_test", "seed_test", "state_test"]
