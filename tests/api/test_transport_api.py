"""transport_v0 through every public API: PettingZoo's conformance utilities, pettingzoo.make, is_success.

hetero_transport_v0 takes transport_v0's arguments, so the conformance checks run on both here; its own
API tests (per-agent arguments, batched shapes) are in test_hetero_transport_api.py."""

import numpy as np
import pettingzoo
import pytest

from marl_envs import hetero_transport_v0, transport_v0
from tests.api.pettingzoo_suite import check_conformance, check_max_cycles_and_render

CONFIGS = {
    "default": {},
    "N1_continuous": {"N": 1, "continuous_actions": True, "max_cycles": 30},
    "N5_penalty": {"N": 5, "collision_penalty": 0.1, "max_cycles": 30},
}


ENVS = {"transport_v0": transport_v0, "hetero_transport_v0": hetero_transport_v0}


@pytest.mark.parametrize("env", list(ENVS))
@pytest.mark.parametrize("name", list(CONFIGS))
def test_pettingzoo_test_utilities(env, name):
    check_conformance(ENVS[env], num_cycles=40, **CONFIGS[name])


@pytest.mark.parametrize("env", list(ENVS))
def test_max_cycles_and_render_tests(env):
    check_max_cycles_and_render(ENVS[env])


def test_pettingzoo_make_spaces_and_is_success_at_the_end():
    env = pettingzoo.make("parallel", "marl_envs/transport-v0", N=2, max_cycles=15)
    assert env.possible_agents == ["agent_0", "agent_1"]
    obs, infos = env.reset(seed=0)
    assert obs["agent_0"].shape == env.observation_space("agent_0").shape == (15,)
    assert env.state().shape == env.state_space.shape == (17,)
    assert infos == {"agent_0": {}, "agent_1": {}}
    steps = 0
    while env.agents:
        _, _, terminated, truncated, infos = env.step({a: 0 for a in env.agents})
        steps += 1
        ended = any(terminated.values()) or any(truncated.values())
        assert ("is_success" in infos["agent_0"]) == ended
    assert steps == 15 and infos["agent_1"]["is_success"] is False


def test_rendered_frame_shows_the_package_and_the_goal():
    env = transport_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    colours = {tuple(int(v * 255) for v in c) for c in ((0.6, 0.42, 0.22), (0.55, 0.85, 0.55))}
    found = {c for c in colours if (np.abs(frame.astype(int) - np.array(c)).sum(-1) <= 3).any()}
    assert found == colours
