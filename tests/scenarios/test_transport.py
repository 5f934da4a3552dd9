"""transport_v0: the package is too heavy for one agent, three pushing together deliver it; rewards; resets."""

import math

import pytest
import torch

from marl_envs import make_batched
from marl_envs.scenarios.transport import AGENT_RADIUS, GOAL_RADIUS, PACKAGE_HALF, TransportConfig
from tests.twins import one_world_twins, step_twins

RIGHT, STILL = 2, 0
BEHIND_X = -0.8 - PACKAGE_HALF - AGENT_RADIUS - 0.01  # just behind the left face of a package at x = -0.8


def staged(pushers, n=3, max_cycles=200, **kwargs):
    """Package at (-0.8, 0) facing the goal at (0.8, 0); agents at ``pushers`` (x, y), the rest parked away."""
    env = make_batched("transport_v0", num_envs=1, seed=0, N=n, max_cycles=max_cycles, **kwargs)
    env.reset()
    sc = env.scenario
    s = sc.world.state
    s.pos[0, sc.package] = torch.tensor([-0.8, 0.0])
    s.angle[0, sc.package] = 0.0
    s.pos[0, sc.goal] = torch.tensor([0.8, 0.0])
    parked = [(1.3, -1.2 + 0.3 * i) for i in range(n)]
    for i in range(n):
        s.pos[0, i] = torch.tensor(pushers[i] if i < len(pushers) else parked[i])
    actions = torch.tensor([[RIGHT if i < len(pushers) else STILL for i in range(n)]])
    return env, actions


def run(env, actions, steps):
    """Step until the episode ends (or ``steps``); return the step count, last info and the summed reward."""
    total = torch.zeros(env.num_agents)
    for t in range(steps):
        _, reward, terminated, truncated, info = env.step(actions)
        total += reward[0]
        if (terminated | truncated).any():
            return t + 1, terminated[0, 0].item(), info, total
    return steps, False, info, total


def test_one_agent_pushing_alone_all_episode_does_not_deliver():
    env, actions = staged([(BEHIND_X, 0.0)])
    sc = env.scenario
    for _ in range(199):  # the whole episode but its last step (which resets the world)
        env.step(actions)
        assert not sc.sense().arrived.any()
    moved = sc.world.state.pos[0, sc.package, 0].item() + 0.8
    assert 0.05 < moved < 0.5, "one agent moves the package, but far too slowly (1.6 - 0.25 needed)"
    _, _, _, truncated, _ = env.step(actions)
    assert truncated.all()


def test_three_agents_pushing_from_behind_deliver_with_the_bonus():
    env, actions = staged([(BEHIND_X, -0.19), (BEHIND_X, 0.0), (BEHIND_X, 0.19)])
    steps, terminated, info, total = run(env, actions, 200)
    assert terminated and bool(info["is_success"][0])
    assert steps < 60  # about 0.54 per second: 1.35 in under 6 s
    # shared reward: progress 10 * (1.6 - d_final) plus the arrival bonus 10, the same for every agent
    final = info["final_state"][0]
    d_final = torch.linalg.vector_norm(final[12:14] - final[19:21]).item()
    assert d_final < GOAL_RADIUS
    torch.testing.assert_close(total, torch.full((3,), 10 * (1.6 - d_final) + 10), atol=1e-3, rtol=0)


def test_two_agents_are_slower_than_three():
    two, a2 = staged([(BEHIND_X, -0.1), (BEHIND_X, 0.1)])
    three, a3 = staged([(BEHIND_X, -0.19), (BEHIND_X, 0.0), (BEHIND_X, 0.19)])
    steps_two, ok_two, *_ = run(two, a2, 200)
    steps_three, ok_three, *_ = run(three, a3, 200)
    assert ok_two and ok_three and steps_three < 0.75 * steps_two


def test_off_centre_pushing_turns_the_package_and_centred_pushing_does_not():
    off, actions = staged([(BEHIND_X, 0.22), (BEHIND_X, 0.06), (BEHIND_X - 2.1 * AGENT_RADIUS, 0.22)])
    centred, c_actions = staged([(BEHIND_X, -0.19), (BEHIND_X, 0.0), (BEHIND_X, 0.19)])
    for _ in range(10):
        off.step(actions)
        centred.step(c_actions)
    package = off.scenario.package
    # pushing +x above the centre: torque -y F < 0, a clockwise turn
    assert off.scenario.world.state.angle[0, package].item() < -0.2
    assert abs(centred.scenario.world.state.angle[0, package].item()) < 1e-3


def test_reward_is_the_scaled_progress_of_the_package():
    env = make_batched("transport_v0", num_envs=64, seed=3, progress_scale=7.0)
    env.reset()
    sc = env.scenario
    gen = torch.Generator().manual_seed(0)
    for _ in range(30):
        before = torch.linalg.vector_norm(sc.world.state.pos[:, sc.package] - sc.world.state.pos[:, sc.goal], dim=-1)
        actions = torch.randint(0, 5, (64, 3), generator=gen)
        _, reward, terminated, _, info = env.step(actions)
        final = info["final_state"]
        after = torch.linalg.vector_norm(final[:, 12:14] - final[:, 19:21], dim=-1)
        want = 7.0 * (before - after) + 10.0 * terminated[:, 0]
        torch.testing.assert_close(reward, want[:, None].expand(-1, 3), atol=1e-5, rtol=0)


def test_collision_penalty_counts_overlapping_neighbours():
    env, _ = staged([(0.0, 1.0), (0.1, 1.0), (0.2, 1.0)], collision_penalty=0.5)
    sc = env.scenario
    sensed = sc.sense()  # 0-1 and 1-2 overlap (0.1 apart < 0.16), 0-2 do not
    assert sensed.overlaps[0].tolist() == [1.0, 2.0, 1.0]
    sc.step_physics(torch.zeros(1, 5, 2), None)  # nothing moves the package: no progress
    penalties = sc.reward(sc.sense())[0] - sc.reward(sensed)[0]  # the agents flew apart: no overlap left
    assert sc.sense().overlaps.sum() == 0
    torch.testing.assert_close(penalties, torch.tensor([0.5, 1.0, 0.5]), atol=1e-5, rtol=0)


def test_observation_blocks_hold_what_the_spec_names():
    env = make_batched("transport_v0", num_envs=5, seed=1)
    obs, info = env.reset()
    s, sc = env.scenario.world.state, env.scenario
    blocks = env.obs_spec.slices()
    assert obs.shape == (5, 3, 17) and info["state"].shape == (5, 21)
    pkg, goal = s.pos[:, sc.package], s.pos[:, sc.goal]
    torch.testing.assert_close(obs[:, :, blocks["self_pos"]], s.pos[:, :3])
    torch.testing.assert_close(obs[:, :, blocks["package_rel_pos"]], pkg[:, None] - s.pos[:, :3])
    torch.testing.assert_close(obs[:, 0, blocks["goal_rel_package"]], goal - pkg)
    angle = s.angle[:, sc.package]
    torch.testing.assert_close(obs[:, 2, blocks["package_angle"]], torch.stack((angle.cos(), angle.sin()), -1))
    torch.testing.assert_close(obs[:, 1, blocks["other_rel_pos"]], torch.cat((s.pos[:, 0] - s.pos[:, 1],
                                                                               s.pos[:, 2] - s.pos[:, 1]), -1))


def test_resets_place_nothing_overlapping_and_repeat_per_seed():
    env = make_batched("transport_v0", num_envs=512, seed=5, N=4)
    env.reset()
    s, sc = env.scenario.world.state, env.scenario
    agents, pkg, goal = s.pos[:, :4], s.pos[:, sc.package], s.pos[:, sc.goal]
    clearance = PACKAGE_HALF * math.sqrt(2)
    assert (torch.linalg.vector_norm(agents - pkg[:, None], dim=-1) >= clearance + AGENT_RADIUS - 1e-5).all()
    assert (torch.linalg.vector_norm(goal - pkg, dim=-1) >= clearance + GOAL_RADIUS - 1e-5).all()
    gaps = torch.cdist(agents, agents) + torch.eye(4) * 10
    assert (gaps >= 2 * AGENT_RADIUS - 1e-5).all()
    assert (pkg.abs() <= 0.8).all() and (goal.abs() <= 1.0).all() and (agents.abs() <= 1.5 - 0.05).all()
    again = make_batched("transport_v0", num_envs=512, seed=5, N=4)
    again.reset()
    assert torch.equal(again.scenario.world.state.pos, s.pos) and torch.equal(again.scenario.world.state.angle,
                                                                              s.angle)
    assert s.angle[:, sc.package].std() > 1.0  # random orientations


def test_batched_worlds_equal_separate_single_world_envs():
    big = make_batched("transport_v0", num_envs=4, seed=0, max_cycles=40, continuous_actions=True)
    big.reset()
    smalls = one_world_twins(big, "transport_v0", max_cycles=40, continuous_actions=True)
    gen = torch.Generator().manual_seed(3)
    for _ in range(30):
        step_twins(big, smalls, torch.rand(4, 3, 5, generator=gen), atol=1e-5)


def test_scripted_pushers_deliver_most_packages():
    env = make_batched("transport_v0", num_envs=128, seed=0)
    env.reset()
    sc = env.scenario
    done = torch.zeros(128, dtype=torch.bool)
    success = torch.zeros(128, dtype=torch.bool)
    for _ in range(200):
        _, _, terminated, truncated, info = env.step(sc.heuristic_action(sc.sense()))
        ended = (terminated | truncated)[:, 0] & ~done
        success |= ended & info["is_success"]
        done |= ended
    assert done.all() and success.float().mean() > 0.6


@pytest.mark.parametrize("kwargs, match", [
    ({"N": 0}, "N must be"), ({"package_mass": 0.0}, "package_mass"), ({"package_friction": -1.0}, "package_friction"),
    ({"progress_scale": math.nan}, "progress_scale"), ({"continuous_actions": 1}, "continuous_actions"),
    ({"arrival_bonus": "10"}, "arrival_bonus"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        TransportConfig.from_kwargs(**kwargs)
