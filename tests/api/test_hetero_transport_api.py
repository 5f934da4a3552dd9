"""hetero_transport_v0 through pettingzoo.make and the batched API (PettingZoo's conformance utilities run on
it beside transport_v0, in test_transport_api.py)."""

import pettingzoo
import pytest
import torch

from marl_envs import make_batched


def test_pettingzoo_make_with_per_agent_arguments():
    env = pettingzoo.make("parallel", "marl_envs/hetero-transport-v0", N=2, max_cycles=15, strengths=[4.0, 5.0])
    assert env.possible_agents == ["agent_0", "agent_1"]
    obs, _ = env.reset(seed=0)
    assert obs["agent_0"].shape == env.observation_space("agent_0").shape == (15,)
    assert env.state().shape == env.state_space.shape == (17,)


@pytest.mark.parametrize("continuous", [False, True])
@pytest.mark.parametrize("num_envs", [1, 5])
def test_batched_shapes_determinism_and_autoreset(continuous, num_envs):
    def rollout():
        env = make_batched("hetero_transport_v0", num_envs=num_envs, seed=4, max_cycles=7,
                           continuous_actions=continuous)
        obs, info = env.reset()
        assert obs.shape == (num_envs, 3, 17) and info["state"].shape == (num_envs, 21)
        gen, out = torch.Generator().manual_seed(0), []
        for _ in range(9):  # past the time limit: every world truncates at 7 and resets in the same step
            if continuous:
                actions = torch.rand(num_envs, 3, 5, generator=gen)
            else:
                actions = torch.randint(0, 5, (num_envs, 3), generator=gen)
            obs, reward, terminated, truncated, info = env.step(actions)
            assert reward.shape == terminated.shape == truncated.shape == (num_envs, 3)
            assert "final_obs" in info and "is_success" in info
            out.append(obs)
        return torch.stack(out)

    assert torch.equal(rollout(), rollout())
