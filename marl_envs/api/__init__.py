"""Adapters from scenarios to the batched torch API and to PettingZoo (the only layer that imports them)."""

from marl_envs.api.aec import env, raw_env
from marl_envs.api.batched import BatchedEnv, make_batched
from marl_envs.api.parallel import ParallelEnv, parallel_env

__all__ = ["BatchedEnv", "ParallelEnv", "env", "make_batched", "parallel_env", "raw_env"]
