"""Env id -> scenario class. The single list of public envs; shims and docs follow it."""

from __future__ import annotations

from marl_envs.scenarios.base import Scenario
from marl_envs.scenarios.hetero_transport import HeteroTransport
from marl_envs.scenarios.hide_and_seek import HideAndSeek, HideAndSeekV2, HideAndSeekV3, HideAndSeekV4
from marl_envs.scenarios.spread import Spread
from marl_envs.scenarios.transport import Transport

REGISTRY: dict[str, type[Scenario]] = {
    "spread_v0": Spread,
    "hide_and_seek_v1": HideAndSeek,
    "hide_and_seek_v2": HideAndSeekV2,
    "hide_and_seek_v3": HideAndSeekV3,
    "hide_and_seek_v4": HideAndSeekV4,
    "transport_v0": Transport,
    "hetero_transport_v0": HeteroTransport,
}


RETIRED: dict[str, tuple[str, str]] = {
    "hide_and_seek_v0": ("hide_and_seek_v1", "its walls, fence and boxes could be crossed by agents that pushed hard "
                         "enough, ramps carried agents over the arena fence, and boxes passed through each other"),
}
"""Retired env ids -> (the id that replaced it, why): the dynamics changed, so results are not comparable."""


def get_scenario_class(env_id: str) -> type[Scenario]:
    """Look up ``env_id``; an unknown id is a ValueError that lists the valid ones, a retired one names its
    successor."""
    if isinstance(env_id, str) and env_id in RETIRED:
        successor, why = RETIRED[env_id]
        raise ValueError(f"env id {env_id!r} is retired ({why}); use {successor!r}")
    try:
        return REGISTRY[env_id]
    except (KeyError, TypeError):
        raise ValueError(f"unknown env id {env_id!r}; valid ids are {sorted(REGISTRY)}") from None


def evaluation_kwargs(env_id: str, kwargs: dict) -> tuple[dict, list[str]]:
    """A training run's env arguments without its training-only ones (``ScenarioConfig.TRAINING_ONLY``: start-state
    curricula), so that evaluation plays the game itself. Returns (arguments, names dropped); other env ids (a
    PettingZoo factory) keep every argument."""
    if env_id not in REGISTRY:
        return dict(kwargs), []
    drop = [name for name in REGISTRY[env_id].config_cls.TRAINING_ONLY if name in kwargs]
    return {k: v for k, v in kwargs.items() if k not in drop}, drop


def list_envs() -> list[str]:
    """Ids of every public env, sorted."""
    return sorted(REGISTRY)
