"""hide_and_seek_v4: hide_and_seek_v3 under the lock rule of OpenAI's released quadrant game (see
``marl_envs.scenarios.hide_and_seek``)."""

from functools import partial

from marl_envs.api import env as _env
from marl_envs.api import make_batched as _make_batched
from marl_envs.api import parallel_env as _parallel_env
from marl_envs.api import raw_env as _raw_env
from marl_envs.scenarios.hide_and_seek import HideAndSeekV4Config, __doc__  # noqa: F401  (the doc page)

env = partial(_env, "hide_and_seek_v4")
parallel_env = partial(_parallel_env, "hide_and_seek_v4")
raw_env = partial(_raw_env, "hide_and_seek_v4")
batched_env = partial(_make_batched, "hide_and_seek_v4")

__all__ = ["batched_env", "env", "parallel_env", "raw_env"]
