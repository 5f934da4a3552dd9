"""ramp_outside_door: the ramp outside a door of the room, the hiders anywhere in the room (the step of the
ramp-defense curriculum where the hiders must find the way out to a ramp they may not see). Bad values are refused in
test_ramp_near_door.py, with the other starts."""

import pytest
import torch

from marl_envs import evaluation_kwargs, make_batched
from marl_envs.scenarios.hide_and_seek import heuristic
from marl_envs.scenarios.hide_and_seek import manipulation as rules
from marl_envs.scenarios.hide_and_seek.ramp_starts import BY_DOOR_DEPTH
from tests.scenarios.hide_and_seek.door_bands import IDLE, hider_in_doorway, in_room, ramp_in_band, ramp_index
from tests.scenarios.hide_and_seek.test_ramp_starts import _assert_valid_start, _at_wall


@pytest.mark.parametrize("env_id", ["hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"])
def test_every_world_starts_with_the_ramp_outside_a_door_and_the_hiders_anywhere_in_the_room(env_id):
    b = 2048
    env = make_batched(env_id, num_envs=b, seed=4, ramp_outside_door=1.0)
    env.reset(seed=4)
    sc = env.scenario
    assert ramp_in_band(sc, BY_DOOR_DEPTH).any(1).all()
    inside = in_room(sc)
    hiders = list(range(sc.config.num_hiders))
    seekers = list(range(sc.config.num_hiders, sc.config.num_agents))
    assert inside[:, hiders].all() and not inside[:, seekers].any() and not inside[:, ramp_index(sc)].any()
    # The hiders start as in the game: hider 0 is not put on the way out (most worlds have it away from the doors).
    assert hider_in_doorway(sc).any(1).float().mean().item() < 0.25
    # Nothing is faked: every behaviour figure is measured.
    assert not sc.ramp_start.any() and not sc.door_start.any()
    usual = torch.cat((torch.ones(b, sc.config.num_agents, dtype=torch.bool), sc.present), dim=1)
    usual[:, ramp_index(sc)] = False
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
    assert (in_room(sc)[:, 0] & locked).float().mean() > 0.75


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
    by_chance = ramp_in_band(plain.scenario, BY_DOOR_DEPTH).any(1).float().mean().item()
    by_a_door = (ramp_in_band(sc, BY_DOOR_DEPTH).any(1) & ~at_wall).float().mean().item()
    assert abs(by_a_door - (0.8 + 0.1 * by_chance)) < 0.04, (by_a_door, by_chance)
    # Hider 0 in the doorway: ramp_by_door's worlds (and a few by chance); in the room: all but ramp_near_door's and
    # the part of ramp_by_door's outside.
    chance = hider_in_doorway(plain.scenario).any(1).float().mean().item()
    assert abs(hider_in_doorway(sc).any(1).float().mean().item() - (0.3 + 0.5 * chance)) < 0.04
    alone = make_batched("hide_and_seek_v2", num_envs=b, seed=5, ramp_by_door=1.0)
    alone.reset(seed=5)
    in_doorway = in_room(alone.scenario)[:, 0].float().mean().item()
    hider_in_room = in_room(sc)[:, 0].float().mean().item()
    assert abs(hider_in_room - (0.1 + 0.1 + 0.3 * in_doorway + 0.3)) < 0.03, (hider_in_room, in_doorway)


def test_ramp_outside_door_is_training_only():
    kwargs = {"ramp_outside_door": 0.5, "ramp_by_door": 0.2, "max_cycles": 10}
    for env_id in ("hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"):
        assert evaluation_kwargs(env_id, kwargs) == ({"max_cycles": 10}, ["ramp_by_door", "ramp_outside_door"])
