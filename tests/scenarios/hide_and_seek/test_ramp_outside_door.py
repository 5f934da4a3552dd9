"""ramp_outside_door: the ramp outside a door of the room, the hiders anywhere in the room (the step of the
ramp-defense curriculum where the hiders must find the way out to a ramp they may not see)."""

import pytest
import torch

from marl_envs import evaluation_kwargs, make_batched
from marl_envs.physics.geometry import perp
from marl_envs.scenarios.hide_and_seek import heuristic
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek.behaviour import room_doors
from marl_envs.scenarios.hide_and_seek.ramp_starts import BY_DOOR_DEPTH, DOORWAY_DEPTH, NEAR_ALONG
from tests.scenarios.hide_and_seek.test_ramp_by_door import _inside
from tests.scenarios.hide_and_seek.test_ramp_near_door import IDLE, _ramp_index
from tests.scenarios.hide_and_seek.test_ramp_starts import _assert_valid_start, _at_wall


def _ramp_by_a_door(sc) -> torch.Tensor:
    """(B,) bool: ramp 0's centre lies outside the room in the band ``BY_DOOR_DEPTH`` deep in front of a door."""
    wall = sc.layout.walls.half_thickness
    radius = float(sc.world.spec.bounding_radius[_ramp_index(sc)])
    normal = sc.layout.door_normal  # into the room
    ramp = sc.world.state.pos[:, _ramp_index(sc)].unsqueeze(1) - sc.layout.doors  # (B, D, 2)
    out = -(ramp * normal).sum(-1)
    band = (out >= wall + radius - 1e-5) & (out <= wall + radius + BY_DOOR_DEPTH + 1e-5) \
        & ((ramp * perp(normal)).sum(-1).abs() <= NEAR_ALONG + 1e-5)
    return (room_doors(sc.layout) & band).any(1)


def _in_a_doorway(sc) -> torch.Tensor:
    """(B,) bool: hider 0's centre lies in the column of a door's width, at most ``DOORWAY_DEPTH`` past either face
    of the wall (where ``ramp_by_door`` starts it)."""
    wall = sc.layout.walls.half_thickness
    agent_radius = float(sc.world.spec.bounding_radius[0])
    normal = sc.layout.door_normal
    hider = sc.world.state.pos[:, 0].unsqueeze(1) - sc.layout.doors
    column = ((hider * normal).sum(-1).abs() <= wall + agent_radius + DOORWAY_DEPTH + 1e-5) \
        & ((hider * perp(normal)).sum(-1).abs() <= sc.config.door_width / 2)
    return (room_doors(sc.layout) & column).any(1)


@pytest.mark.parametrize("env_id", ["hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"])
def test_every_world_starts_with_the_ramp_outside_a_door_and_the_hiders_anywhere_in_the_room(env_id):
    b = 2048
    env = make_batched(env_id, num_envs=b, seed=4, ramp_outside_door=1.0)
    env.reset(seed=4)
    sc = env.scenario
    assert _ramp_by_a_door(sc).all()
    inside = _inside(sc)
    hiders = list(range(sc.config.num_hiders))
    seekers = list(range(sc.config.num_hiders, sc.config.num_agents))
    assert inside[:, hiders].all() and not inside[:, seekers].any() and not inside[:, _ramp_index(sc)].any()
    # The hiders start as in the game: hider 0 is not put on the way out (most worlds have it away from the doors).
    assert _in_a_doorway(sc).float().mean().item() < 0.25
    # Nothing is faked: every behaviour figure is measured.
    assert not sc.ramp_start.any() and not sc.door_start.any()
    usual = torch.cat((torch.ones(b, sc.config.num_agents, dtype=torch.bool), sc.present), dim=1)
    usual[:, _ramp_index(sc)] = False
    _assert_valid_start(sc, usual)


def test_the_trip_out_to_the_ramp_fits_the_preparation_from_anywhere_in_the_room():
    """The start asks for something the preparation has time for: hider 0 walking from wherever it starts out by the
    door nearest the ramp, locking it and coming back (``heuristic.ramp_trip_actions``) has the ramp locked at the
    end of the preparation (by the released game's rule, which keeps the lock while its locker presses or is out of
    reach) and is back in the room in most worlds (84% with seed 9: the script walks straight at its next point and
    stays stuck behind a box or its idle teammate in the rest)."""
    b = 512
    env = make_batched("hide_and_seek_v3", num_envs=b, seed=9, ramp_outside_door=1.0, lock_rule="hold")
    env.reset(seed=9)
    sc = env.scenario
    for _ in range(sc.config.prep_steps):
        action = IDLE.expand(b, env.num_agents, 5).clone()
        action[:, 0] = heuristic.ramp_trip_actions(sc, 0)
        env.step(action)
    locked = sc.lock_team[:, sc.config.num_boxes] == rules.HIDERS
    assert locked.float().mean() > 0.75
    assert (_inside(sc)[:, 0] & locked).float().mean() > 0.75


def test_the_four_ramp_starts_share_one_draw():
    b = 4096
    shares = {"ramp_at_wall": 0.1, "ramp_near_door": 0.2, "ramp_by_door": 0.3, "ramp_outside_door": 0.3}
    env = make_batched("hide_and_seek_v2", num_envs=b, seed=5, **shares)
    env.reset(seed=5)
    sc = env.scenario
    at_wall = _at_wall(sc)
    assert torch.equal(at_wall, sc.ramp_start)
    assert abs(at_wall.float().mean().item() - 0.1) < 0.03
    plain = make_batched("hide_and_seek_v2", num_envs=b, seed=5)
    plain.reset(seed=5)
    by_chance = _ramp_by_a_door(plain.scenario).float().mean().item()
    by_a_door = (_ramp_by_a_door(sc) & ~at_wall).float().mean().item()
    assert abs(by_a_door - (0.8 + 0.1 * by_chance)) < 0.04, (by_a_door, by_chance)
    # Hider 0 in the doorway: ramp_by_door's worlds (and a few by chance); in the room: all but ramp_near_door's and
    # the part of ramp_by_door's outside.
    chance = _in_a_doorway(plain.scenario).float().mean().item()
    assert abs(_in_a_doorway(sc).float().mean().item() - (0.3 + 0.5 * chance)) < 0.04
    alone = make_batched("hide_and_seek_v2", num_envs=b, seed=5, ramp_by_door=1.0)
    alone.reset(seed=5)
    in_doorway = _inside(alone.scenario)[:, 0].float().mean().item()
    in_room = _inside(sc)[:, 0].float().mean().item()
    assert abs(in_room - (0.1 + 0.1 + 0.3 * in_doorway + 0.3)) < 0.03, (in_room, in_doorway)


def test_ramp_outside_door_is_training_only():
    kwargs = {"ramp_outside_door": 0.5, "ramp_by_door": 0.2, "max_cycles": 10}
    for env_id in ("hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"):
        assert evaluation_kwargs(env_id, kwargs) == ({"max_cycles": 10}, ["ramp_by_door", "ramp_outside_door"])


@pytest.mark.parametrize(("kwargs", "match"), [({"ramp_outside_door": 1.5}, "ramp_outside_door=1.5 is out of range"),
                                              ({"ramp_outside_door": None}, "ramp_outside_door=None is out of range"),
                                              ({"ramp_outside_door": 0.5, "map": "open"},
                                               "ramp_outside_door=0.5 needs map='quadrant'"),
                                              ({"ramp_outside_door": 0.5, "num_ramps": 0}, "num_ramps >= 1"),
                                              ({"ramp_outside_door": 0.6, "ramp_by_door": 0.5},
                                               "ramp_by_door \\+ ramp_outside_door = 1.1 is over 1")])
def test_bad_ramp_outside_door_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_batched("hide_and_seek_v2", num_envs=2, **kwargs)
