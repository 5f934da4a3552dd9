"""hide_and_seek_v1 through every public API: PettingZoo's conformance utilities, pettingzoo.make, batched.

hide_and_seek_v2 runs v1's code with other defaults (``tests/scenarios/hide_and_seek/test_v2.py`` shows the same
trajectories), so it gets PettingZoo's API and seed tests on its defaults here, not the whole set of configs.
"""

import functools
import types

import numpy as np
import pettingzoo
import pytest
import torch

from marl_envs import hide_and_seek_v1, hide_and_seek_v2, make_batched
from tests.api.pettingzoo_suite import (
    StepReturnsObservation,
    api_test,
    bombardment_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

CONFIGS = {
    "default": {},
    "1v1_open": {"num_hiders": 1, "num_seekers": 1, "map": "open", "max_cycles": 20},
    "3v2_rooms": {"num_hiders": 3, "num_seekers": 2, "map": "random_rooms", "max_cycles": 30, "reward_mode": "selfish"},
    "no_lidar_joint_mean": {"lidar_rays": 0, "reward_mode": "joint_mean", "max_cycles": 20},
}
CONFIG_IDS = list(CONFIGS)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_api_test(name):
    api_test(hide_and_seek_v1.env(**CONFIGS[name]), num_cycles=30)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_parallel_api_test(name):
    parallel_api_test(hide_and_seek_v1.parallel_env(**CONFIGS[name]), num_cycles=30)


@pytest.mark.parametrize("name", ["default", "3v2_rooms"])
def test_seed_tests(name):
    seed_test(functools.partial(hide_and_seek_v1.env, **CONFIGS[name]), num_cycles=20)
    parallel_seed_test(functools.partial(hide_and_seek_v1.parallel_env, **CONFIGS[name]), num_cycles=20)


def test_max_cycles_test():
    kwargs = {"map": "open"}
    mod = types.SimpleNamespace(**{f: functools.partial(getattr(hide_and_seek_v1, f), **kwargs)
                                   for f in ("env", "parallel_env", "raw_env")})
    max_cycles_test(mod)


def test_render_test():
    render_test(hide_and_seek_v1.env)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_state_test(name):
    kwargs = CONFIGS[name]
    state_test(hide_and_seek_v1.env(**kwargs), hide_and_seek_v1.parallel_env(**kwargs), num_cycles=10)


@pytest.mark.parametrize("name", CONFIG_IDS)
def test_bombardment_test(name):
    bombardment_test(StepReturnsObservation(hide_and_seek_v1.env(**CONFIGS[name])), cycles=20)


def test_v2_passes_the_api_and_seed_tests():
    api_test(hide_and_seek_v2.env(), num_cycles=30)
    parallel_api_test(hide_and_seek_v2.parallel_env(), num_cycles=30)
    seed_test(hide_and_seek_v2.env, num_cycles=20)
    parallel_seed_test(hide_and_seek_v2.parallel_env, num_cycles=20)
    state_test(hide_and_seek_v2.env(), hide_and_seek_v2.parallel_env(), num_cycles=10)
    bombardment_test(StepReturnsObservation(hide_and_seek_v2.env()), cycles=20)


def test_v2_through_pettingzoo_make_has_v1s_spaces_and_v2s_defaults():
    env = pettingzoo.make("parallel", "marl_envs/hide-and-seek-v2")
    v1 = hide_and_seek_v1.parallel_env()
    assert env.metadata["name"] == "hide_and_seek_v2" and env.possible_agents == v1.possible_agents
    for agent in env.possible_agents:
        assert env.observation_space(agent) == v1.observation_space(agent)
        assert env.action_space(agent) == v1.action_space(agent)
    assert env.state_space == v1.state_space
    c = env.unwrapped.batched.config
    assert (c.box_size, c.num_elongated_boxes, c.see_over_reach, c.sight_rim_points) == (0.5, 0, 0.5, 8)
    obs, _ = env.reset(seed=0)
    assert obs["hider_0"].shape == env.observation_space("hider_0").shape


def test_pettingzoo_make_and_spaces():
    env = pettingzoo.make("parallel", "marl_envs/hide-and-seek-v1", num_hiders=1, num_seekers=3)
    assert env.possible_agents == ["hider_0", "seeker_0", "seeker_1", "seeker_2"]
    space = env.action_space("seeker_2")
    assert space.nvec.tolist() == [11, 11, 11, 2, 2]
    obs, _ = env.reset(seed=0)
    assert obs["hider_0"].shape == env.observation_space("hider_0").shape
    assert env.state().shape == env.state_space.shape


def test_obs_spec_names_every_block_and_adds_up():
    env = make_batched("hide_and_seek_v1", num_envs=2, seed=0)
    slices = env.obs_spec.slices()
    assert list(slices) == ["self", "agents", "agents_mask", "boxes", "boxes_mask", "ramps", "ramps_mask", "lidar"]
    assert env.obs_spec.dim == env.single_observation_space.shape[0] == 10 + 3 * 9 + 2 * 11 + 11 + 30
    obs, info = env.reset(seed=0)
    assert obs.shape == (2, 4, env.obs_spec.dim)
    lidar = obs[..., slices["lidar"]]
    assert (lidar >= 0).all() and (lidar <= 1).all() and (lidar < 1).any()  # the walls are within range
    assert info["state"].shape == (2, env.state_space.shape[0])


@pytest.mark.parametrize("map_name,obs_dim,state_dim", [("quadrant", 100, 71), ("random_rooms", 188, 159)])
def test_the_env_page_gives_the_real_observation_and_state_sizes(map_name, obs_dim, state_dim):
    env = make_batched("hide_and_seek_v1", num_envs=1, map=map_name)
    c = env.scenario.config
    a, objects = c.num_hiders + c.num_seekers, c.num_boxes + c.num_ramps
    assert env.obs_spec.dim == 10 + 9 * (a - 1) + 11 * objects + c.lidar_rays == obs_dim
    assert env.scenario.state_dim == 9 * a + 11 * objects + 2 == state_dim
    page = hide_and_seek_v1.__doc__
    assert "(10 + 9 (A - 1) + 11 (boxes + ramps) + lidar_rays,): 100 by default, 188 in random_rooms" in page
    assert "(9 A + 11 (boxes + ramps) + 2,): 71 by default, 159 in random_rooms" in page


def test_batched_same_seed_same_trajectory_and_lockstep_autoreset():
    def run(seed):
        env = make_batched("hide_and_seek_v1", num_envs=8, seed=seed, max_cycles=10)
        obs, _ = env.reset(seed=seed)
        gen = torch.Generator().manual_seed(1)
        out = []
        for _ in range(12):
            act = torch.randint(0, 11, (8, 4, 5), generator=gen) % torch.tensor([11, 11, 11, 2, 2])
            obs, rew, term, trunc, info = env.step(act)
            out.append((obs, rew, trunc))
        return out

    a, b, c = run(0), run(0), run(1)
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0][0], c[0][0])
    assert a[9][2].all() and not a[8][2].any()  # truncated exactly at max_cycles in every world


def test_state_dict_round_trip_continues_identically():
    env = make_batched("hide_and_seek_v1", num_envs=4, seed=0)
    env.reset(seed=0)
    act = torch.tensor([9, 5, 5, 1, 0]).expand(4, 4, 5)
    for _ in range(5):
        env.step(act)
    saved = env.state_dict()
    twin = make_batched("hide_and_seek_v1", num_envs=4, seed=7)
    twin.reset(seed=7)
    twin.load_state_dict(saved)
    for _ in range(5):
        x, y = env.step(act), twin.step(act)
        assert torch.equal(x[0], y[0]) and torch.equal(x[1], y[1])


def test_bad_multidiscrete_action_is_rejected_with_the_agent_named():
    env = hide_and_seek_v1.parallel_env()
    env.reset(seed=0)
    actions = {a: np.array([5, 5, 5, 0, 0]) for a in env.agents}
    actions["seeker_1"] = np.array([5, 5, 5, 2, 0])  # grab has 2 levels
    with pytest.raises(ValueError, match="seeker_1"):
        env.step(actions)
    actions["seeker_1"] = np.array([5, 5, 5, 0, 0])
    env.step(actions)  # the env is still usable


def test_info_says_whose_actions_counted_and_the_env_says_the_time_limit_is_observed():
    env = make_batched("hide_and_seek_v1", num_envs=3, seed=0)
    assert env.lockstep and env.time_limit_observed
    assert not make_batched("spread_v0", num_envs=2).time_limit_observed
    env.reset()
    prep = env.scenario.config.prep_steps
    actions = torch.zeros(3, 4, 5, dtype=torch.long)
    for t in range(prep + 1):
        _, _, _, _, info = env.step(actions)
        acted = info["acted"]
        assert acted.shape == (3, 4) and acted.dtype == torch.bool
        assert acted[:, :2].all()  # hiders always act
        assert bool(acted[:, 2:].all()) == (t >= prep)  # seekers are frozen for the prep steps
    spread = make_batched("spread_v0", num_envs=2, seed=0)
    spread.reset()
    assert "acted" not in spread.step(torch.zeros(2, 3, dtype=torch.long))[4]  # everyone always acts there


def test_scripted_actions_are_valid_for_every_env_and_take_options():
    for env_id, suffix in (("spread_v0", ()), ("transport_v0", ()), ("hide_and_seek_v1", (5,))):
        env = make_batched(env_id, num_envs=4, seed=1)
        with pytest.raises(RuntimeError, match="reset"):
            env.scripted_actions()
        env.reset()
        actions = env.scripted_actions()
        assert tuple(actions.shape) == (4, env.num_agents, *suffix)
        env.step(actions)  # passes the env's own action checks
    open_doors = env.scripted_actions(block_doors=False)
    assert tuple(open_doors.shape) == (4, 4, 5)


def test_the_env_names_its_stages_and_reads_them_from_behaviour_means():
    env = make_batched("hide_and_seek_v1", num_envs=2, seed=0)
    assert env.stages == ("chasing", "shelter", "ramp use", "ramp defense")
    env.reset()
    _, _, _, _, info = env.step(torch.zeros(2, 4, 5, dtype=torch.long))
    means = {name: float(value.float().mean()) for name, value in info["behaviour"].items()}
    assert env.stage(means) == "chasing"  # nothing built after one step
    built = {**means, "all_doors_blocked_prep": 1.0}
    assert env.stage(built) == "shelter"
    assert env.stage({**built, "seekers_crossed": 0.5}) == "ramp use"
    assert env.stage({**built, "seekers_crossed": 0.5, "ramp_secured_prep": 0.9}) == "ramp defense"
    random_play = {**means, "box_locked_hiders_prep": 0.37, "hidden_fraction": 0.8, "all_doors_blocked_prep": 0.1}
    assert env.stage({**random_play, "box_locked_hiders_prep": 0.6}) == "chasing"  # the quadrant room has doors
    open_map = make_batched("hide_and_seek_v1", num_envs=2, seed=0, map="open")
    assert open_map.stage({**random_play, "box_locked_hiders_prep": 0.6}) == "shelter"  # no doors to block
    assert make_batched("spread_v0").stages == () and make_batched("spread_v0").stage({}) is None
