"""Worlds are independent: B batched worlds against B one-world envs started from the same states."""

import torch

from marl_envs import make_batched


def one_world_twins(big, env_id: str, **kwargs) -> list:
    """One one-world env of ``env_id`` per world of ``big``, each started from that world's current state."""
    smalls = []
    for i in range(big.num_envs):
        env = make_batched(env_id, num_envs=1, seed=100 + i, **kwargs)
        env.reset()
        env.scenario.world.state = big.scenario.world.state.index(i).clone()
        smalls.append(env)
    return smalls


def step_twins(big, smalls: list, actions: torch.Tensor, atol: float) -> None:
    """Step ``big`` with ``actions`` (B, ...) and twin i with row i; observations and rewards must agree."""
    obs, rew, *_ = big.step(actions)
    for i, env in enumerate(smalls):
        small_obs, small_rew, *_ = env.step(actions[i : i + 1])
        torch.testing.assert_close(small_obs[0], obs[i], atol=atol, rtol=0)
        torch.testing.assert_close(small_rew[0], rew[i], atol=atol, rtol=0)
