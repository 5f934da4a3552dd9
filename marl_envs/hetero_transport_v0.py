"""hetero_transport_v0: transport_v0 pushed by agents that differ (see ``marl_envs.scenarios.hetero_transport``)."""

from functools import partial

from marl_envs.api import env as _env
from marl_envs.api import make_batched as _make_batched
from marl_envs.api import parallel_env as _parallel_env
from marl_envs.api import raw_env as _raw_env
from marl_envs.scenarios.hetero_transport import HeteroTransportConfig, __doc__  # noqa: F401  (the doc page)

env = partial(_env, "hetero_transport_v0")
parallel_env = partial(_parallel_env, "hetero_transport_v0")
raw_env = partial(_raw_env, "hetero_transport_v0")
batched_env = partial(_make_batched, "hetero_transport_v0")

__all__ = ["batched_env", "env", "parallel_env", "raw_env"]
