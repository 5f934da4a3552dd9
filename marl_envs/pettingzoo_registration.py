"""Register every env with PettingZoo's registry, so ``pettingzoo.make("parallel", "marl_envs/spread-v0")`` works.

PettingZoo ids use dashes and a ``-vN`` suffix; ours use ``_vN``: ``spread_v0`` is
``marl_envs/spread-v0``.
"""

from __future__ import annotations

import re

from marl_envs.registry import list_envs


def pettingzoo_id(env_id: str) -> str:
    """``hide_and_seek_v1`` -> ``marl_envs/hide-and-seek-v1``."""
    match = re.fullmatch(r"(.+)_v(\d+)", env_id)
    if match is None:
        raise ValueError(f"env id {env_id!r} does not end in _vN")
    return f"marl_envs/{match.group(1).replace('_', '-')}-v{match.group(2)}"


def register_all() -> None:
    """Register every env under both PettingZoo env types; ids already present are left alone."""
    import pettingzoo

    registries = {"parallel": (pettingzoo.parallel_registry, "parallel_env"), "aec": (pettingzoo.aec_registry, "env")}
    for env_id in list_envs():
        pz_id = pettingzoo_id(env_id)
        for env_type, (registry, constructor) in registries.items():
            if pz_id not in registry:
                pettingzoo.register(env_type, pz_id, entry_point=f"marl_envs.{env_id}:{constructor}")
