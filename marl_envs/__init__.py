"""marl_envs: batched torch multi-agent 2D physics environments with PettingZoo and batched APIs.

    from marl_envs import spread_v0, make_batched
    env = spread_v0.parallel_env(N=3, max_cycles=25)               # PettingZoo ParallelEnv
    benv = make_batched("spread_v0", num_envs=4096, device="cpu")  # (B, A, ...) torch tensors

Importing the package registers every env with PettingZoo (``pettingzoo.make("parallel",
"marl_envs/spread-v0")``). The api layer is loaded lazily, so ``marl_envs.physics`` and
``marl_envs.scenarios`` work with torch alone.
"""

from __future__ import annotations

import importlib

from marl_envs.openmp import prefer_passive_waits

prefer_passive_waits()  # before anything imports torch (see marl_envs.openmp)

__version__ = "0.1.0"

_LAZY = {
    "make_batched": ("marl_envs.api.batched", "make_batched"),
    "BatchedEnv": ("marl_envs.api.batched", "BatchedEnv"),
    "list_envs": ("marl_envs.registry", "list_envs"),
    "evaluation_kwargs": ("marl_envs.registry", "evaluation_kwargs"),
}
_ENV_MODULES = ("spread_v0", "hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3", "hide_and_seek_v4",
                "transport_v0", "hetero_transport_v0")
#: Retired versions -> the current one (PettingZoo's convention: the old name still imports, and making it
#: raises ``DeprecatedEnv`` naming the new version; see ``registry.RETIRED`` for why each was retired).
_RETIRED_MODULES = {"hide_and_seek_v0": "hide_and_seek_v1"}


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in _ENV_MODULES:
        return importlib.import_module(f"marl_envs.{name}")
    if name in _RETIRED_MODULES:
        from marl_envs.api.retired import RetiredModule

        return RetiredModule(name, _RETIRED_MODULES[name])
    raise AttributeError(f"module 'marl_envs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_ENV_MODULES])


from marl_envs.native import register_kernels as _register_kernels  # noqa: E402 (after the wait policy)

_register_kernels()  # the scenario-independent CPU kernels; scenarios register their own

try:
    import pettingzoo as _pettingzoo  # noqa: F401
except ImportError:  # physics/scenarios-only use without the API libraries
    pass
else:
    from marl_envs.pettingzoo_registration import register_all

    register_all()

__all__ = ["BatchedEnv", "__version__", "evaluation_kwargs", "list_envs", "make_batched", *_ENV_MODULES]
