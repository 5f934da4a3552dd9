"""Baselines for marl_envs: IPPO, MAPPO, TRPO and NPG in PyTorch, one readable file per algorithm."""

import marl_envs  # noqa: F401  first: sets torch's OpenMP wait policy before torch loads (marl_envs.openmp)
