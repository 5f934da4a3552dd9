"""Fused CPU kernels (numba) for the scenario-independent queries that dominate a large CPU batch.

``physics`` (contacts, integration, grab joints and the position projection of every substep),
``lidar`` and ``sight`` (sensors) and ``spawn`` (rejection sampling) compute what the torch core
computes, term for term, a block of worlds at a time while it sits in the L1 cache.
``register_kernels`` offers them to ``marl_envs.physics.accel`` (``marl_envs/__init__.py`` calls
it), which runs them in place of the torch reference on CPU float32 tensors; ``MARL_ENVS_NATIVE=0``
turns them off. This package imports no scenario: a scenario's own kernels live next to it and it
registers them itself (``scenarios/hide_and_seek/kernels``). tests/native checks every kernel
against the reference.

The first call of each kernel in a fresh install compiles it (about 15 s for the physics,
a few seconds for the sensors); numba caches the machine code on disk for later processes.
Importing this package imports neither numba nor numpy: the loaders below do, at first use.
"""

from __future__ import annotations

from collections.abc import Callable

from marl_envs.physics import accel

NAMES = ("physics", "lidar", "visible", "spawn_round")


def kernels() -> dict[str, Callable]:
    """The kernels by the names the torch code asks ``accel.kernel`` for (imports numba)."""
    from marl_envs.native import lidar, physics, sight, spawn

    return {"physics": physics.advance, "lidar": lidar.lidar, "visible": sight.visible,
            "spawn_round": spawn.place_round}


def register_kernels() -> None:
    """Offer the scenario-independent kernels to ``physics.accel`` (loaded at their first use)."""
    for name in NAMES:
        accel.register(name, lambda name=name: kernels()[name])
