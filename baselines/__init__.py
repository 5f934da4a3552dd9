"""Baselines for marl_envs: IPPO, MAPPO, TRPO and NPG in PyTorch, one readable file per algorithm."""
