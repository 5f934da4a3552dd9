"""PettingZoo's test utilities, imported once for every env's conformance tests, plus the one adapter they need."""

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


__all__ = ["StepReturnsObservation", "api_test", "bombardment_test", "max_cycles_test", "parallel_api_test",
           "parallel_seed_test", "render_test", "seed_test", "state_test"]
