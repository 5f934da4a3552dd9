"""transport_v0: cooperative pushing of a package too heavy for one agent (see ``marl_envs.scenarios.transport``)."""

from functools import partial

from marl_envs.api import env as _env
from marl_envs.api import make_batched as _make_batched
from marl_envs.api import parallel_env as _parallel_env
from marl_envs.api import raw_env as _raw_env
from marl_envs.scenarios.transport import TransportConfig, __doc__  # noqa: F401  (the doc page)

env = partial(_env, "transport_v0")
parallel_env = partial(_parallel_env, "transport_v0")
raw_env = partial(_raw_env, "transport_v0")
batched_env = partial(_make_batched, "transport_v0")

__all__ = ["batched_env", "env", "parallel_env", "raw_env"]
