"""What ``from marl_envs import hide_and_seek_v0`` gives once v0 is retired: PettingZoo's deprecated module.

PettingZoo keeps an old ``*_vN`` name importable and makes every constructor raise ``DeprecatedEnv``
(an ``ImportError``) naming the new version, so code written for the old version fails at once with
the fix in the message instead of silently running changed dynamics. ``batched_env`` is ours.
"""

from __future__ import annotations

from pettingzoo.utils.deprecated_module import DeprecatedEnv, DeprecatedModule


class RetiredModule(DeprecatedModule):
    """``env``, ``parallel_env``, ``raw_env``, ``batched_env``: each raises ``DeprecatedEnv``."""

    def __init__(self, old_id: str, new_id: str):
        name, old = old_id.rsplit("_v", 1)
        super().__init__(name, old, new_id.rsplit("_v", 1)[1])
        self.batched_env = self.env

    def __repr__(self) -> str:
        return f"<retired env module: {self.env.__qualname__}>"


__all__ = ["DeprecatedEnv", "RetiredModule"]
