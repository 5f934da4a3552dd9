"""hider_by_door: hider 0 starts in front of one of the room's doors, from a step outside to a metre inside, the rest
as in the game (the step of the ramp-defense curriculum between hider_outside and the game: go out through the door
for a ramp out of sight). That it draws nothing at 0, that every behaviour figure is measured and that bad values are
refused are checked with the other ramp-defense starts (test_ramp_near_door.py)."""

import math

import pytest

from marl_envs import evaluation_kwargs, make_batched
from marl_envs.scenarios.hide_and_seek.behaviour import room_doors
from tests.scenarios.hide_and_seek.door_bands import (
    assert_ramp_as_in_the_game_and_a_valid_start,
    door_rank,
    hider_by_door,
    in_room,
    ramp_index,
)


@pytest.mark.parametrize("env_id", ["hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"])
def test_every_world_starts_with_hider_0_by_a_door_and_the_rest_as_in_the_game(env_id):
    b = 2048
    env = make_batched(env_id, num_envs=b, seed=4, hider_by_door=1.0)
    env.reset(seed=4)
    sc = env.scenario
    c = sc.config
    by_door, depth = hider_by_door(sc)
    assert by_door.any(1).all()
    # The band's whole depth: outside the room, in the doorway, and deep inside, where the game starts hiders.
    depth = depth.masked_fill(~by_door, math.nan).nanmean(1)
    outside, deep = (depth < -0.2).float().mean().item(), (depth > 0.6).float().mean().item()
    assert outside > 0.1 and deep > 0.1, (outside, deep)
    # Every door of a two-door room gets its share of the starts.
    two = room_doors(sc.layout).sum(1) == 2
    assert 0.4 < (door_rank(sc, by_door)[two] == 1).float().mean().item() < 0.6
    # Hider 1 and the boxes in the room, the seekers and the ramp out, as the game starts them.
    inside = in_room(sc)
    assert inside[:, 1:c.num_hiders].all() and not inside[:, c.num_hiders:c.num_agents].any()
    assert inside[:, c.num_agents:ramp_index(sc)][sc.present[:, :c.num_boxes]].all()
    assert not inside[:, ramp_index(sc)].any()
    assert_ramp_as_in_the_game_and_a_valid_start(env, env_id, seed=4)


def test_it_shares_the_ramp_starts_draw():
    b = 4096
    env = make_batched("hide_and_seek_v2", num_envs=b, seed=5, hider_outside=0.3, hider_by_door=0.5)
    env.reset(seed=5)
    sc = env.scenario
    outside = ~in_room(sc)[:, 0]
    by_door = hider_by_door(sc)[0].any(1)
    plain = make_batched("hide_and_seek_v2", num_envs=b, seed=5)
    plain.reset(seed=5)
    by_chance = hider_by_door(plain.scenario)[0].any(1).float().mean().item()  # a game start can be in the band
    # hider_outside's worlds are out of the room and mostly far from a door; the band holds its own share and
    # the chance starts of the other worlds.
    assert abs(outside.float().mean().item() - (0.3 + 0.5 * 0.25)) < 0.1
    assert abs(by_door.float().mean().item() - (0.5 + 0.2 * by_chance)) < 0.05, by_chance


def test_hider_by_door_is_training_only():
    kwargs = {"hider_by_door": 0.5, "hider_outside": 0.2, "max_cycles": 10}
    for env_id in ("hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"):
        assert evaluation_kwargs(env_id, kwargs) == ({"max_cycles": 10}, ["hider_outside", "hider_by_door"])
