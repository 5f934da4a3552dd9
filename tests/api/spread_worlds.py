"""Shared by the BatchedEnv tests: spread_v0 configurations, random valid actions, bit-identical steps."""

import torch

CONFIGS = {
    "discrete": {},
    "continuous_N4": {"N": 4, "continuous_actions": True},
    "N1": {"N": 1},
}


def random_actions(env, gen: torch.Generator) -> torch.Tensor:
    """A valid random action tensor for every world and agent, on the env's device."""
    b, a = env.num_envs, env.num_agents
    if env.action_spec.kind == "continuous":
        act = torch.rand(b, a, *env.action_spec.shape, generator=gen)
    else:
        act = torch.randint(0, env.action_spec.n, (b, a), generator=gen)
    return act.to(env.device)


def same_step(a, b):
    """Assert two step results (obs, reward, terminated, truncated, info) are bit-identical."""
    for x, y in zip(a[:4], b[:4], strict=True):
        assert torch.equal(x, y)
    assert a[4].keys() == b[4].keys()
    for key in a[4]:
        assert torch.equal(a[4][key], b[4][key]), key
