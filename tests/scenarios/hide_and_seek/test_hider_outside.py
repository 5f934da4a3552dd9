"""hider_outside: hider 0 starts outside the room, the rest as in the game (the step of the ramp-defense curriculum for
a ramp far from the doors: lock it, then find a door back). That it draws nothing at 0, that every behaviour
figure is measured and that bad values are refused are checked with the other ramp-defense starts
(test_ramp_near_door.py)."""


import pytest

from marl_envs import evaluation_kwargs, make_batched
from tests.scenarios.hide_and_seek.door_bands import assert_ramp_as_in_the_game_and_a_valid_start, in_room, ramp_index


@pytest.mark.parametrize("env_id", ["hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"])
def test_every_world_starts_with_hider_0_outside_and_the_rest_as_in_the_game(env_id):
    b = 2048
    env = make_batched(env_id, num_envs=b, seed=4, hider_outside=1.0)
    env.reset(seed=4)
    sc = env.scenario
    c = sc.config
    inside = in_room(sc)
    # Hider 0 out, hider 1 and the boxes in, the seekers and the ramp out, as the game starts them.
    assert not inside[:, 0].any() and inside[:, 1:c.num_hiders].all()
    assert not inside[:, c.num_hiders:c.num_agents].any()
    assert inside[:, c.num_agents:ramp_index(sc)][sc.present[:, :c.num_boxes]].all()
    assert not inside[:, ramp_index(sc)].any()
    # Anywhere outside: in every other quadrant, sometimes by the ramp and sometimes across the arena from it.
    pos = sc.world.state.pos
    centre = (sc.layout.room[:, :2] + sc.layout.room[:, 2:]) / 2
    same_x, same_y = (pos[:, 0].sign() == centre.sign()).unbind(-1)  # the side of the arena's axes the room is on
    for quadrant in (same_x & ~same_y, ~same_x & same_y, ~same_x & ~same_y):
        assert quadrant.float().mean().item() > 0.15
    gap = (pos[:, 0] - pos[:, ramp_index(sc)]).norm(dim=-1)
    assert gap.min() < 1.0 and gap.max() > 3.0
    assert_ramp_as_in_the_game_and_a_valid_start(env, env_id, seed=4)


def test_it_shares_the_ramp_starts_draw():
    b = 4096
    env = make_batched("hide_and_seek_v2", num_envs=b, seed=5, ramp_near_door=0.2, ramp_outside_door=0.3,
                       hider_outside=0.4)
    env.reset(seed=5)
    # Hider 0 outside: ramp_near_door's worlds (beside the ramp) and hider_outside's; never both in one world.
    out = ~in_room(env.scenario)[:, 0]
    assert abs(out.float().mean().item() - 0.6) < 0.03
    near_ramp = (env.scenario.world.state.pos[:, 0] - env.scenario.world.state.pos[:, ramp_index(env.scenario)])
    assert abs((out & (near_ramp.norm(dim=-1) < 1.5)).float().mean().item() - (0.2 + 0.4 * 0.2)) < 0.1


def test_hider_outside_is_training_only():
    kwargs = {"hider_outside": 0.5, "ramp_outside_door": 0.2, "max_cycles": 10}
    for env_id in ("hide_and_seek_v1", "hide_and_seek_v2", "hide_and_seek_v3"):
        assert evaluation_kwargs(env_id, kwargs) == ({"max_cycles": 10}, ["ramp_outside_door", "hider_outside"])
