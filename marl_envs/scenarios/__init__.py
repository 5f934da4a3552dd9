"""Task logic: each scenario is pure functions of a batched world (no API, no rendering)."""

from marl_envs.scenarios.base import Scenario, ScenarioConfig
from marl_envs.scenarios.specs import ActionSpec, ObsBlock, ObsSpec

__all__ = ["ActionSpec", "ObsBlock", "ObsSpec", "Scenario", "ScenarioConfig"]
