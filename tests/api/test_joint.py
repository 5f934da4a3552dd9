"""The joint-control view: Gymnasium's checker, joint spaces, team reward and episode bookkeeping that
match the multi-agent env step for step."""

import warnings

import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from marl_envs import make_batched
from marl_envs.api.joint import JointBatchedEnv, JointControlEnv, joint_action_space

CONFIGS = [("spread_v0", {}), ("spread_v0", {"continuous_actions": True, "N": 2}), ("hide_and_seek_v1", {})]


@pytest.mark.parametrize("env_id,kwargs", CONFIGS, ids=["spread", "spread_continuous", "hide_and_seek"])
def test_passes_gymnasium_env_checker(env_id, kwargs):
    env = JointControlEnv(env_id, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded observation boxes are MPE's convention
        check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    env.close()


def test_joint_action_spaces():
    assert joint_action_space(spaces.Discrete(5), 3) == spaces.MultiDiscrete([5, 5, 5])
    assert joint_action_space(spaces.MultiDiscrete([11, 2]), 2) == spaces.MultiDiscrete([11, 2, 11, 2])
    box = joint_action_space(spaces.Box(0.0, 1.0, (5,), np.float32), 3)
    assert box.shape == (15,) and box.dtype == np.float32
    with pytest.raises(TypeError, match="no joint view"):
        joint_action_space(spaces.Text(3), 2)


def test_matches_the_multi_agent_env_step_for_step():
    """Same seed, same per-agent actions: the joint view's obs is state(), its reward the team's sum."""
    multi = make_batched("spread_v0", num_envs=4, seed=7, max_cycles=5)
    joint = JointBatchedEnv(make_batched("spread_v0", num_envs=4, seed=7, max_cycles=5))
    _, info = multi.reset(seed=7)
    obs, joint_info = joint.reset(seed=7)
    torch.testing.assert_close(obs[:, 0], info["state"])
    gen = torch.Generator().manual_seed(0)
    for t in range(7):  # crosses an episode boundary (autoreset)
        actions = torch.randint(0, 5, (4, 3), generator=gen)
        _, reward, term, trunc, info = multi.step(actions)
        obs, j_reward, j_term, j_trunc, j_info = joint.step(actions.reshape(4, 1, 3))
        torch.testing.assert_close(obs[:, 0], multi.state())
        torch.testing.assert_close(j_reward[:, 0], reward.sum(1))
        assert torch.equal(j_trunc[:, 0], trunc.all(1)) and not j_term.any()
        torch.testing.assert_close(j_info["final_obs"][:, 0], info["final_state"])
        torch.testing.assert_close(j_info["episode_return"][:, 0], info["episode_return"].sum(1))
        assert bool(j_trunc.all()) == (t == 4)


def test_gymnasium_view_episode_and_errors():
    env = JointControlEnv("spread_v0", N=2, max_cycles=3)
    env.reset(seed=1)
    flags = [env.step(env.action_space.sample())[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]
    with pytest.raises(ValueError, match="expected 2 for MultiDiscrete"):
        env.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="one world"):
        JointControlEnv(make_batched("spread_v0", num_envs=2))
