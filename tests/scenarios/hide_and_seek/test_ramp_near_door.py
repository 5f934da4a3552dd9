"""ramp_near_door: the start-state curriculum of ramp defense puts ramp 0 outside the room, in front of a door."""

import math

import pytest
import torch

from marl_envs import evaluation_kwargs, make_batched
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek.behaviour import NAMES, room_doors
from marl_envs.scenarios.hide_and_seek.ramp_starts import NEAR_DEPTH
from tests.scenarios.hide_and_seek.door_bands import IDLE, door_rank, ramp_in_band, ramp_index
from tests.scenarios.hide_and_seek.test_ramp_starts import _assert_valid_start, _at_wall

ENV_IDS = ["hide_and_seek_v1", "hide_and_seek_v2"]


def _near_door(sc) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) bool: ramp 0's centre lies outside the room in the band in front of one of its doors that ramp_starts
    documents; and (B,) which door of the room (its rank) that is (-1 for none)."""
    near = ramp_in_band(sc, NEAR_DEPTH)
    return near.any(1), door_rank(sc, near)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_world_starts_with_the_ramp_in_front_of_a_door_outside_the_room(env_id):
    b = 2048
    env = make_batched(env_id, num_envs=b, seed=4, ramp_near_door=1.0)
    env.reset(seed=4)
    sc = env.scenario
    near, rank = _near_door(sc)
    assert near.all()
    # Nothing of the game is faked: the worlds do not count as ramp starts, so every behaviour figure is measured.
    assert not sc.ramp_start.any() and not sc.door_start.any()
    # Rooms with two doors start it by either; headings are spread (the hiders meet the ramp at any angle).
    two = room_doors(sc.layout).sum(1) == 2
    assert 0.4 < (rank[two] == 1).float().mean().item() < 0.6
    angle = sc.world.state.angle[:, ramp_index(sc)]
    assert angle.cos().abs().std() > 0.2
    # Hider 0 starts beside it: outside the room, within a metre of the ramp; the other hider in the room.
    room = sc.layout.room
    pos = sc.world.state.pos
    inside = ((pos > room[:, None, :2]) & (pos < room[:, None, 2:])).all(-1)
    assert not inside[:, 0].any() and inside[:, 1].all()
    assert (pos[:, 0] - pos[:, ramp_index(sc)]).norm(dim=-1).max() < 1.5
    # The ramp clear of everything; every other body, hider 0 included, by the spawn rule.
    usual = torch.cat((torch.ones(b, sc.config.num_agents, dtype=torch.bool), sc.present), dim=1)
    usual[:, ramp_index(sc)] = False
    _assert_valid_start(sc, usual)


def test_the_hider_beside_the_ramp_locks_it_within_a_few_steps_of_the_preparation():
    """The point of the start: hider 0, turned to face the ramp (an agent locks what it sees), driving at it and
    pressing lock until it holds, locks it within 8 steps in nearly every world (the preparation has 32)."""
    b = 512
    env = make_batched("hide_and_seek_v2", num_envs=b, seed=9, ramp_near_door=1.0)
    env.reset(seed=9)
    sc = env.scenario
    i, k = ramp_index(sc), sc.config.num_boxes
    to_ramp = sc.world.state.pos[:, i] - sc.world.state.pos[:, 0]
    sc.world.state.angle[:, 0] = torch.atan2(to_ramp[:, 1], to_ramp[:, 0])
    sc.refresh()
    locked_at = torch.full((b,), -1)
    for t in range(1, 9):
        to_ramp = sc.world.state.pos[:, i] - sc.world.state.pos[:, 0]
        move = 5 + (5 * to_ramp / to_ramp.norm(dim=-1, keepdim=True)).round().long()
        action = IDLE.expand(b, env.num_agents, 5).clone()
        action[:, 0, :2] = move
        action[:, 0, 4] = (sc.lock_team[:, k] != rules.HIDERS).long()
        env.step(action)
        locked_at = torch.where((locked_at < 0) & (sc.lock_team[:, k] == rules.HIDERS), t, locked_at)
    assert (locked_at > 0).float().mean() > 0.95
    assert sc.config.prep_steps > 30


def test_the_two_ramp_starts_share_one_draw():
    b = 4096
    env = make_batched("hide_and_seek_v2", num_envs=b, seed=5, ramp_at_wall=0.3, ramp_near_door=0.4)
    env.reset(seed=5)
    sc = env.scenario
    at_wall, (near, _) = _at_wall(sc), _near_door(sc)
    assert torch.equal(at_wall, sc.ramp_start)
    assert abs(at_wall.float().mean().item() - 0.3) < 0.03
    # Usual starts land in the band now and then too; the curriculum's share comes on top of theirs.
    plain = make_batched("hide_and_seek_v2", num_envs=b, seed=5)
    plain.reset(seed=5)
    by_chance = _near_door(plain.scenario)[0].float().mean().item()
    share = (near & ~at_wall).float().mean().item()
    assert abs(share - (0.4 + 0.3 * by_chance)) < 0.04, (share, by_chance)
    assert not (near & at_wall).any()


DEFENSE_STARTS = ["ramp_near_door", "ramp_by_door", "ramp_outside_door", "hider_outside", "hider_by_door"]
"""The ramp-defense starts (the others' own tests: test_ramp_by_door.py, test_ramp_outside_door.py,
test_hider_outside.py, test_hider_by_door.py)."""


@pytest.mark.parametrize("name", DEFENSE_STARTS)
@pytest.mark.parametrize("extra", [{}, {"ramp_at_wall": 0.3, "boxes_at_doors": 0.5}], ids=["plain", "with_others"])
def test_a_defense_start_at_0_draws_nothing(name, extra):
    """The default changes no seed's worlds, nor the generator's state, with or without the other curricula."""
    envs = [make_batched("hide_and_seek_v2", num_envs=64, seed=7, **extra, **more)
            for more in ({}, {name: 0.0})]
    outs = [env.reset(seed=7) for env in envs]
    assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][1]["state"], outs[1][1]["state"])
    assert torch.equal(envs[0]._generator.get_state(), envs[1]._generator.get_state())


@pytest.mark.parametrize("name", DEFENSE_STARTS)
def test_every_behaviour_figure_is_measured_in_a_defense_start(name):
    b = 256
    env = make_batched("hide_and_seek_v2", num_envs=b, seed=11, **{name: 1.0})
    env.reset(seed=11)
    for _ in range(env.scenario.config.max_cycles - 1):
        env.step(env.scripted_actions())
    figures = env.scenario.behaviour()
    for name in NAMES:
        assert not figures[name].isnan().any(), name


def test_ramp_near_door_is_training_only():
    kwargs = {"ramp_near_door": 0.5, "ramp_at_wall": 0.2, "max_cycles": 10}
    for env_id in ENV_IDS:
        assert evaluation_kwargs(env_id, kwargs) == ({"max_cycles": 10}, ["ramp_at_wall", "ramp_near_door"])


@pytest.mark.parametrize("name", DEFENSE_STARTS)
@pytest.mark.parametrize(("value", "extra", "match"), [
    (1.5, {}, "=1.5 is out of range"), (-0.1, {}, "=-0.1 is out of range"), (math.nan, {}, "=nan is out of range"),
    (True, {}, "=True is out of range"), ("0.5", {}, "='0.5' is out of range"), (None, {}, "=None is out of range"),
    (0.5, {"map": "open"}, "=0.5 needs map='quadrant'"), (0.5, {"num_ramps": 0}, "=0.5 needs .*num_ramps >= 1"),
    (0.6, {"ramp_at_wall": 0.5}, "")])
def test_a_bad_defense_start_is_refused(name, value, extra, match):
    """Each start is a probability of a quadrant game with a ramp; all of them and ramp_at_wall share one draw, so
    their sum over 1 is refused with every term named."""
    shares = "ramp_at_wall \\+ ramp_near_door \\+ ramp_by_door \\+ ramp_outside_door \\+ hider_outside \\+ " \
        "hider_by_door"
    expected = f"{name}{match}" if match else f"{shares} = 1.1 is over 1"
    with pytest.raises(ValueError, match=expected):
        make_batched("hide_and_seek_v2", num_envs=2, **{name: value, **extra})
