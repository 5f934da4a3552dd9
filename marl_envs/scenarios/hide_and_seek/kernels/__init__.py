"""hide_and_seek_v1's own CPU kernels (numba): its observation assembly and its manipulation rules.

They belong to the scenario, not to ``marl_envs.native`` (which holds only scenario-independent
kernels and imports no scenario): each module here mirrors the torch module of the same name
(``observations``, ``manipulation``), reads that module's constants and layout, and is registered
with ``physics.accel`` by ``register_kernels``, which the scenario package calls at import. This
is how any scenario brings a kernel: write it next to the scenario, register a loader under the
name its torch code asks ``accel.kernel`` for. Importing this package imports neither numba nor
numpy; the loaders do, at first use.
"""

from __future__ import annotations

from collections.abc import Callable

from marl_envs.physics import accel

NAMES = ("hide_and_seek_observe", "hide_and_seek_state", "hide_and_seek_reach", "hide_and_seek_elevation",
         "hide_and_seek_locks", "hide_and_seek_grabs")


def kernels() -> dict[str, Callable]:
    """The kernels by the names the scenario's torch code asks ``accel.kernel`` for (imports numba)."""
    from marl_envs.scenarios.hide_and_seek.kernels import manipulation, observations

    return {"hide_and_seek_observe": observations.observe, "hide_and_seek_state": observations.global_state,
            "hide_and_seek_reach": manipulation.reach_distance,
            "hide_and_seek_elevation": manipulation.update_elevation,
            "hide_and_seek_locks": manipulation.update_locks, "hide_and_seek_grabs": manipulation.update_grabs}


def register_kernels() -> None:
    """Offer hide-and-seek's kernels to ``physics.accel`` (loaded at their first use)."""
    for name in NAMES:
        accel.register(name, lambda name=name: kernels()[name])
