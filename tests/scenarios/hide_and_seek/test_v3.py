"""hide_and_seek_v3 is hide_and_seek_v2 in 0.2 s steps: the same substep, twice as many of them per step.

What must hold: v3's defaults differ from v2's in ``dt`` and ``substeps`` only; v3 given v2's step is v2 exactly;
one v3 step moves every body as two v2 steps with the same action do (the physics is unchanged, only the agents
decide half as often); and an agent at full drive covers twice v2's distance per step.
"""

import dataclasses

import pytest
import torch

from marl_envs import make_batched
from marl_envs.scenarios.hide_and_seek import HideAndSeekV2Config, HideAndSeekV3Config


def _assert_same(a, b, what: str) -> None:
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True, msg=lambda m: f"{what}: {m}")


def test_v3_defaults_are_v2_in_longer_steps():
    for map_name in ("quadrant", "random_rooms", "open"):
        v3, v2 = HideAndSeekV3Config(map=map_name), HideAndSeekV2Config(map=map_name)
        assert (v2.dt, v2.substeps, v3.dt, v3.substeps) == (0.1, 2, 0.2, 4)
        assert dataclasses.asdict(v3) == dataclasses.asdict(HideAndSeekV2Config(map=map_name, dt=0.2, substeps=4))
    assert dataclasses.asdict(HideAndSeekV3Config(dt=0.1, substeps=2)) == dataclasses.asdict(HideAndSeekV2Config())
    for bad in (0.0, 0.01, 0.5, float("nan"), True, "0.2"):
        with pytest.raises(ValueError, match="dt"):
            HideAndSeekV3Config(dt=bad)


def test_a_substep_that_lets_bodies_through_walls_is_refused():
    """dt / substeps sets how far a body moves in a substep; the walls' check refuses one that could tunnel."""
    with pytest.raises(ValueError, match="tunnel through a wall"):
        make_batched("hide_and_seek_v3", num_envs=1, dt=0.4, substeps=1)


def test_v3_with_v2s_step_plays_v2():
    v3 = make_batched("hide_and_seek_v3", num_envs=4, seed=3, dt=0.1, substeps=2)
    v2 = make_batched("hide_and_seek_v2", num_envs=4, seed=3)
    _assert_same(v3.reset(seed=3)[0], v2.reset(seed=3)[0], "reset obs")
    generator = torch.Generator().manual_seed(1)
    nvec = torch.tensor(v2.action_spec.nvec)
    for t in range(40):
        random = (torch.rand(4, v2.num_agents, 5, generator=generator) * nvec).long()
        actions = torch.where(torch.arange(4).view(-1, 1, 1) % 2 == 0, v2.scripted_actions(), random)
        for name, a, b in zip(("obs", "reward"), v3.step(actions)[:2], v2.step(actions)[:2], strict=True):
            _assert_same(a, b, f"step {t} {name}")
        _assert_same(v3.state(), v2.state(), f"step {t} state")


@pytest.mark.parametrize("map_name", ["quadrant", "open"])
def test_one_v3_step_moves_the_bodies_as_two_v2_steps(map_name):
    """The same start and the same drive (no grab, no lock: rules that act once per step), held for one v3 step and
    for two v2 steps: every body's position and velocity are equal after each v3 step, through the preparation (in
    steps, so v3's seekers stay frozen half as long in time; the comparison stops before that)."""
    worlds = 6
    v3 = make_batched("hide_and_seek_v3", num_envs=worlds, seed=5, map=map_name)
    v2 = make_batched("hide_and_seek_v2", num_envs=worlds, seed=5, map=map_name)
    v3.reset(seed=5)
    v2.reset(seed=5)
    _assert_same(v3.scenario.world.state.pos, v2.scenario.world.state.pos, "start")
    generator = torch.Generator().manual_seed(2)
    levels = v2.action_spec.nvec[0]
    moved = torch.zeros(())
    for t in range(v2.scenario.config.prep_steps // 2):
        drive = (torch.rand(worlds, v2.num_agents, 3, generator=generator) * levels).long()
        actions = torch.cat([drive, torch.zeros(worlds, v2.num_agents, 2, dtype=torch.long)], dim=-1)
        before = v3.scenario.world.state.pos.clone()
        v3.step(actions)
        v2.step(actions)
        v2.step(actions)
        a, b = v3.scenario.world.state, v2.scenario.world.state
        _assert_same(a.pos, b.pos, f"step {t} pos")
        _assert_same(a.vel, b.vel, f"step {t} vel")
        moved = torch.maximum(moved, (a.pos - before).norm(dim=-1).max())
    assert moved > 0.25  # not idle: some agent went further in a step than v2's top speed allows (0.2 m)


def test_an_agent_at_full_drive_covers_twice_v2s_distance_per_step():
    """Top speed 2 m/s: 0.2 m per 0.1 s step in v2, 0.4 m per 0.2 s step in v3 (open map, hider 0 driven along +x
    from the arena's left side, the other agents still)."""
    per_step = {}
    for env_id in ("hide_and_seek_v2", "hide_and_seek_v3"):
        env = make_batched(env_id, num_envs=1, seed=0, map="open", num_boxes=0, num_ramps=0)
        env.reset(seed=0)
        state = env.scenario.world.state
        state.pos[0, 0] = torch.tensor([-1.7, 0.0])
        state.pos[0, 1:] = torch.tensor([[-1.5, 1.5], [0.0, -1.5], [1.5, 1.5]])[: env.num_agents - 1]
        state.vel.zero_()
        actions = torch.full((1, env.num_agents, 5), env.action_spec.nvec[0] // 2, dtype=torch.long)
        actions[..., 3:] = 0
        actions[0, 0, 0] = env.action_spec.nvec[0] - 1  # full force along +x
        xs = []
        for _ in range(6):
            env.step(actions)
            xs.append(float(env.scenario.world.state.pos[0, 0, 0]))
        per_step[env_id] = xs[-1] - xs[-2]
    assert per_step["hide_and_seek_v2"] == pytest.approx(0.2, abs=0.01)
    assert per_step["hide_and_seek_v3"] == pytest.approx(0.4, abs=0.02)
