"""Adapters from scenarios to the batched torch API and to PettingZoo (the only layer that imports them).

What ``__all__`` lists is the public API that code outside ``marl_envs`` (the ``baselines``
trainers included) builds on; the modules behind it may be reorganised.
"""

from marl_envs.api.aec import env, raw_env
from marl_envs.api.batched import BatchedEnv, make_batched
from marl_envs.api.joint import JointBatchedEnv, JointControlEnv
from marl_envs.api.parallel import ParallelEnv, parallel_env
from marl_envs.scenarios.specs import ActionSpec, ObsBlock, ObsSpec

__all__ = ["ActionSpec", "BatchedEnv", "JointBatchedEnv", "JointControlEnv", "ObsBlock", "ObsSpec", "ParallelEnv",
           "env", "make_batched", "parallel_env", "raw_env"]
