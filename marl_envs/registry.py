"""Env id -> scenario class. The single list of public envs; shims and docs follow it."""

from __future__ import annotations

from marl_envs.scenarios.base import Scenario
from marl_envs.scenarios.hide_and_seek import HideAndSeek
from marl_envs.scenarios.spread import Spread
from marl_envs.scenarios.transport import Transport

REGISTRY: dict[str, type[Scenario]] = {
    "spread_v0": Spread,
    "hide_and_seek_v0": HideAndSeek,
    "transport_v0": Transport,
}


def get_scenario_class(env_id: str) -> type[Scenario]:
    """Look up ``env_id``; an unknown id is a ValueError that lists the valid ones."""
    try:
        return REGISTRY[env_id]
    except (KeyError, TypeError):
        raise ValueError(f"unknown env id {env_id!r}; valid ids are {sorted(REGISTRY)}") from None


def list_envs() -> list[str]:
    """Ids of every public env, sorted."""
    return sorted(REGISTRY)
